package xmltext

import (
	"bytes"
	"testing"
)

// The word-at-a-time scanners against byte-by-byte loops: every byte value at every position of words
// before, inside and after the first full word, behind runs of letters, digits and UTF-8, and the same
// with a second candidate byte after it (the borrow that could flag a byte wrongly).
func TestScannersMatchBytewise(t *testing.T) {
	slowName := func(s []byte) (int, int) {
		colon := -1
		for i, c := range s {
			switch nameTable[c] {
			case nameStop:
				return i, colon
			case nameColon:
				if colon < 0 {
					colon = i
				}
			}
		}
		return len(s), colon
	}
	indexAny := func(s []byte, set string) int { return bytes.IndexAny(s, set) }
	fills := []byte{'a', 'Z', '0', '9', '-', 0xC3, 0x01}
	for _, fill := range fills {
		for n := 0; n <= 20; n++ {
			for p := 0; p < n; p++ {
				for b := 0; b < 256; b++ {
					for _, second := range []int{-1, 0x00, '<', '&', '\r', ' '} {
						s := bytes.Repeat([]byte{fill}, n)
						s[p] = byte(b)
						if second >= 0 && p+1 < n {
							s[p+1] = byte(second)
						}
						d := &Decoder{data: s}
						name, colon := d.scanName()
						end := len(name)
						wantEnd, wantColon := slowName(s)
						if end != wantEnd || colon != wantColon {
							t.Fatalf("scanName(%q) = %d, %d; want %d, %d", s, end, colon, wantEnd, wantColon)
						}
						if got, want := indexTextStop(s), indexAny(s, "<&\r"); got != want {
							t.Fatalf("indexTextStop(%q) = %d, want %d", s, got, want)
						}
						if got, want := indexRefOrCR(s), indexAny(s, "&\r"); got != want {
							t.Fatalf("indexRefOrCR(%q) = %d, want %d", s, got, want)
						}
					}
				}
			}
		}
	}
}

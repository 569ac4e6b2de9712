package xmltext

import (
	"bytes"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
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
	fills := []byte{'a', 'Z', '0', '9', '-', 0xC3, 0x01, ' ', '\'', '%'}
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

// appendEscapedBytewise is appendEscaped one byte at a time, as it was written before the word-at-a-time
// scan: the reference the fast one must match.
func appendEscapedBytewise(b []byte, s string, attr bool) []byte {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		var esc string
		size := 1
		switch {
		case c == '&':
			esc = "&amp;"
		case c == '<':
			esc = "&lt;"
		case c == '>':
			esc = "&gt;"
		case c == '\r':
			esc = "&#xD;"
		case c == '"' && attr:
			esc = "&quot;"
		case c == '\n' && attr:
			esc = "&#xA;"
		case c == '\t' && attr:
			esc = "&#x9;"
		case c < 0x20 && c != '\n' && c != '\t':
			esc = "\uFFFD"
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRuneInString(s[i:])
			size = n
			if (r == utf8.RuneError && n == 1) || r == 0xFFFE || r == 0xFFFF {
				esc = "\uFFFD"
			} else {
				i += n
				continue
			}
		default:
			i++
			continue
		}
		b = append(b, s[last:i]...)
		b = append(b, esc...)
		i += size
		last = i
	}
	return append(b, s[last:]...)
}

func TestAppendEscapedAsBytewise(t *testing.T) {
	for _, s := range []string{"", "a", "plain text of some length", "//1.3.6.1/urn:uuid:0f8c?TransactionId=urn:uuid:7a1b&MessageDate=2024",
		"12345678<", "1234567>8", "\"quoted\" value", "tab\tand\nnew line\r\n", "\x00\x01\x1f\x7f", "héllo ✓ wörld, longer than eight",
		"bad\xffutf8 and more bytes", "\xef\xbf\xbe\xef\xbf\xbf", "aaaaaaa\x80", "!!!!!!!!&&&&&&&&<<<<<<<<", "\x21\x21\x21\x21\x21\x21\x21\x1f"} {
		for _, attr := range []bool{false, true} {
			assert.Equal(t, string(appendEscapedBytewise(nil, s, attr)), string(appendEscaped(nil, s, attr)), "%q attr=%v", s, attr)
		}
	}
	// Every byte value at every position of the first two words and the tail, alone and before a second
	// candidate byte.
	for pos := range 19 {
		for c := range 256 {
			for _, after := range []string{"", "&", "\x01"} {
				b := []byte("abcdefghijklmnopqrs")
				b[pos] = byte(c)
				s := string(b[:pos+1]) + after + string(b[pos+1:])
				for _, attr := range []bool{false, true} {
					if want, got := appendEscapedBytewise(nil, s, attr), appendEscaped(nil, s, attr); string(want) != string(got) {
						t.Fatalf("%q attr=%v: %q, want %q", s, attr, got, want)
					}
				}
			}
		}
	}
}

func FuzzAppendEscaped(f *testing.F) {
	f.Add("plain text of some length")
	f.Add("a<b>&\"c'\r\n\t\x00héllo\xff")
	f.Fuzz(func(t *testing.T, s string) {
		for _, attr := range []bool{false, true} {
			if want, got := appendEscapedBytewise([]byte("x"), s, attr), appendEscaped([]byte("x"), s, attr); string(want) != string(got) {
				t.Fatalf("%q attr=%v: %q, want %q", s, attr, got, want)
			}
		}
	})
}

var sinkInt int

// BenchmarkIndexTextStop: the leaf values of an EIS answer, each followed by its end tag.
func BenchmarkIndexTextStop(b *testing.B) {
	leaves := [][]byte{
		[]byte("2026-12-03T12:53:09Z</rps:ProcessingStart>"),
		[]byte("89049032000001000000000000000171</rps:Eid>"),
		[]byte("EXECUTED_SUCCESS</rps:Status>"),
		[]byte("1.3.6.1.4.1.99999.1</rps:Eum-id>"),
		[]byte("true</rps:Fallback>"),
	}
	b.Run("leaves", func(b *testing.B) {
		for b.Loop() {
			for _, l := range leaves {
				sinkInt += indexTextStop(l)
			}
		}
	})
	msg := []byte("Profile ICCID unknown on this eUICC</rps:Message>") // white space: the exact search after it
	b.Run("message", func(b *testing.B) {
		for b.Loop() {
			sinkInt += indexTextStop(msg)
		}
	})
	b.Run("refOrCR", func(b *testing.B) {
		for b.Loop() {
			for _, l := range leaves {
				sinkInt += indexRefOrCR(l)
			}
		}
	})
}

// FuzzTextStop: the text scanners against bytes.IndexAny, on arbitrary bytes and with a '<' appended, as
// a leaf's end tag follows its text.
func FuzzTextStop(f *testing.F) {
	for _, s := range []string{"", "2026-12-03T12:53:09Z", "Profile ICCID unknown on this eUICC", "a b&c", "x\ty\r", "%$#\"!'<"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, s []byte) {
		for _, s := range [][]byte{s, append(s[:len(s):len(s)], "</a>"...)} {
			if got, want := indexTextStop(s), bytes.IndexAny(s, "<&\r"); got != want {
				t.Fatalf("indexTextStop(%q) = %d, want %d", s, got, want)
			}
			if got, want := indexRefOrCR(s), bytes.IndexAny(s, "&\r"); got != want {
				t.Fatalf("indexRefOrCR(%q) = %d, want %d", s, got, want)
			}
		}
	})
}

package xmltext

import (
	"encoding/binary"
	"math/bits"
)

// Word-at-a-time scanning: eight bytes of the document are loaded as one little-endian uint64 and tested
// together, the test leaving the high bit set in each byte that needs a closer look. Only the lowest such
// byte is ever used, and that one is always exact (the borrow that can flag a byte wrongly only runs from
// a true match upwards), so the scanners find exactly what a byte-by-byte loop would, with a few
// operations per eight bytes instead of a few per byte. Most of a SOAP document is names and short text,
// where this is where the decoder spends its time.

const (
	lsbs = 0x0101010101010101
	msbs = 0x8080808080808080
)

// zeros flags the zero bytes of w (exact for the lowest one, see above).
func zeros(w uint64) uint64 { return (w - lsbs) &^ w & msbs }

// zeroish is zeros without the final mask: the high bit of each byte is as zeros has it, the other bits
// are noise. Or-ing several of them and masking once saves an operation per pattern.
func zeroish(w uint64) uint64 { return (w - lsbs) &^ w }

// firstFlagged is the index of the lowest byte whose high bit is set in t, which must not be zero.
func firstFlagged(t uint64) int { return bits.TrailingZeros64(t) >> 3 }

// indexTextStop returns the index of the first '<', '&' or '\r' in s, or -1: where plain character data
// ends. Leaf values are short (a date, an EID, a status), so what counts is the cost per word: instead of
// one test per byte it stops at, the first loop tests for '<' and for any byte below 0x27 (the
// apostrophe), which takes in '&' and '\r' but hardly anything that leaf values hold (space, tab, line
// feed, !"#$%). Where it meets one of those first, the second loop tests for the three bytes exactly.
// (One function, calling none: a leaf needs no stack frame.)
func indexTextStop(s []byte) int {
	// j is the end of the word (indexing from the start costs the loads a second bounds check).
	j := 8
	for ; j <= len(s); j += 8 {
		w := binary.LittleEndian.Uint64(s[j-8 : j])
		// (w-0x27*lsbs)&^w flags the bytes below 0x27 as zeroish flags zeros: exact for the lowest one, and
		// so is their union with the '<' flags.
		if t := (zeroish(w^('<'*lsbs)) | (w-0x27*lsbs)&^w) & msbs; t != 0 {
			if i := j - 8 + firstFlagged(t); textStop[s[i]] != 0 {
				return i
			}
			break // no stop before that byte: this word again, exactly
		}
	}
	for ; j <= len(s); j += 8 {
		w := binary.LittleEndian.Uint64(s[j-8 : j])
		if t := (zeroish(w^('<'*lsbs)) | zeroish(w^('&'*lsbs)) | zeroish(w^('\r'*lsbs))) & msbs; t != 0 {
			return j - 8 + firstFlagged(t)
		}
	}
	for i := j - 8; i < len(s); i++ {
		if textStop[s[i]] != 0 {
			return i
		}
	}
	return -1
}

// indexRefOrCR returns the index of the first '&' or '\r' in s, or -1: what unescaping has to act on.
// (bytes.IndexAny builds a set on every call, which costs more than the short values it searches.)
func indexRefOrCR(s []byte) int {
	j := 8 // the end of the word, as in indexTextStop
	for ; j <= len(s); j += 8 {
		w := binary.LittleEndian.Uint64(s[j-8 : j])
		if t := (zeroish(w^('&'*lsbs)) | zeroish(w^('\r'*lsbs))) & msbs; t != 0 {
			return j - 8 + firstFlagged(t)
		}
	}
	for i := j - 8; i < len(s); i++ {
		if s[i] == '&' || s[i] == '\r' {
			return i
		}
	}
	return -1
}

package xmltext

import "unicode/utf8"

// AppendText appends s escaped as element content. Characters XML 1.0 cannot carry (control characters,
// invalid UTF-8) become U+FFFD, so whatever a caller passes, the output is well formed.
func AppendText(b []byte, s string) []byte { return appendEscaped(b, s, false) }

// AppendAttr appends s escaped for a double-quoted attribute value.
func AppendAttr(b []byte, s string) []byte { return appendEscaped(b, s, true) }

func appendEscaped(b []byte, s string, attr bool) []byte {
	last := 0
	for i := 0; i < len(s); {
		// Eight bytes at a time past those written as they are (see scan.go): a header value or an
		// identifier is mostly plain ASCII.
		for i+8 <= len(s) {
			w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
				uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
			// Flagged: bytes from 0x80 (UTF-8), below 0x20 (controls, line ends, tabs), '&', '<', '>'
			// and, in attributes, '"'. The lowest flagged byte is always a true one.
			t := w&msbs | (w-0x20*lsbs)&^w&msbs | zeros(w^'&'*lsbs) | zeros(w^'<'*lsbs) | zeros(w^'>'*lsbs)
			if attr {
				t |= zeros(w ^ '"'*lsbs)
			}
			if t != 0 {
				i += firstFlagged(t)
				break
			}
			i += 8
		}
		if i >= len(s) {
			break
		}
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

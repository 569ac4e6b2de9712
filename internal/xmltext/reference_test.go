package xmltext

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// refCheckChars is checkChars as it was before the 64-byte blocks, kept as the reference the fast one
// must agree with on every input: the same offset and the same error.
func refCheckChars(data []byte) (int, error) {
	for i := 0; i < len(data); {
		c := data[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return i, fmt.Errorf("control character %#02x", c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return i, errors.New("invalid UTF-8")
		}
		if r == 0xFFFE || r == 0xFFFF {
			return i, fmt.Errorf("character %U not allowed", r)
		}
		i += size
	}
	return 0, nil
}

func checkCharsAsReference(t *testing.T, data []byte) {
	t.Helper()
	off, err := checkChars(data)
	wantOff, wantErr := refCheckChars(data)
	require.Equal(t, wantErr, err, "%q", data)
	require.Equal(t, wantOff, off, "%q", data)
}

// TestCheckCharsAsReference: characters and bytes XML refuses, or that take a path of their own, at every
// offset of the 64-byte blocks and of the word and byte steps, alone and behind a tab or line end in the
// same word, in plain and indented text.
func TestCheckCharsAsReference(t *testing.T) {
	specials := []string{
		"\x00", "\x01", "\x08", "\t", "\n", "\x0b", "\x0c", "\r", "\x0e", "\x1f", " ", "\x7f",
		"\u0080", "\u009f", "é", "\u07ff", "\u0800", "\ud7ff", "\ue000", "\ufffd", "\ufffe", "\uffff", "\U00010000", "\U0010ffff",
		"\xed\xa0\x80", "\xed\xbf\xbf", // surrogates
		"\xc0\xaf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf", // overlong
		"\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80", "\xff", "\xfe", "\x80", "\xbf", // beyond U+10FFFF, not UTF-8
		"\xc3", "\xe2\x82", "\xf0\x9f\x98", // truncated (also at the end of the data)
		"\t\x01", "\r\n\x02", "\n\x1f\t", "\x0b\t", "é\x01", "\x01é",
	}
	for _, pad := range []string{"a", "ab\n  ", "<x>\t"} {
		for n := 0; n <= 140; n += 1 + n/16 {
			for _, sp := range specials {
				for k := 0; k <= n; k++ {
					data := []byte(strings.Repeat(pad, n)[:n])
					data = append(data[:k:k], sp...)
					data = append(data, strings.Repeat(pad, n)[:n-k]...)
					checkCharsAsReference(t, data)
					checkCharsAsReference(t, data[:k+len(sp)]) // the special at the very end
				}
			}
		}
	}
}

func FuzzCheckChars(f *testing.F) {
	for _, s := range []string{"", "<a>b</a>", strings.Repeat("x", 70) + "\x01", strings.Repeat("ab\n", 30) + "\xc3",
		strings.Repeat("é", 40), "\ufffe", strings.Repeat("y", 64) + "\t\r\n" + strings.Repeat("z", 64)} {
		f.Add([]byte(s))
	}
	f.Fuzz(checkCharsAsReference)
}

func BenchmarkCheckChars(b *testing.B) {
	eis, err := os.ReadFile("../../soap/testdata/GetEISResponse.xml")
	if err != nil {
		b.Fatal(err)
	}
	docs := []struct {
		name string
		data []byte
	}{
		{"eis", eis},
		{"indented", bytes.ReplaceAll(eis, []byte("><"), []byte(">\n    <"))},
		{"utf8", bytes.ReplaceAll(eis, []byte("mock"), []byte("møck-ünïcödé"))},
	}
	for _, doc := range docs {
		b.Run(doc.name, func(b *testing.B) {
			b.SetBytes(int64(len(doc.data)))
			for b.Loop() {
				if _, err := checkChars(doc.data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// refAppendUnescaped is appendUnescaped as it was before it looked for '\r' once up front.
func refAppendUnescaped(dst, s []byte) ([]byte, error) {
	for len(s) > 0 {
		i := bytes.IndexAny(s, "&\r")
		if i < 0 {
			return append(dst, s...), nil
		}
		dst = append(dst, s[:i]...)
		s = s[i:]
		if s[0] == '\r' {
			dst = append(dst, '\n')
			s = s[1:]
			if len(s) > 0 && s[0] == '\n' {
				s = s[1:]
			}
			continue
		}
		semi := bytes.IndexByte(s, ';')
		if semi < 0 || semi > 12 {
			return dst, errors.New("unterminated entity reference")
		}
		ref := s[1:semi]
		s = s[semi+1:]
		switch string(ref) {
		case "lt":
			dst = append(dst, '<')
		case "gt":
			dst = append(dst, '>')
		case "amp":
			dst = append(dst, '&')
		case "apos":
			dst = append(dst, '\'')
		case "quot":
			dst = append(dst, '"')
		default:
			if len(ref) < 2 || ref[0] != '#' {
				return dst, fmt.Errorf("undefined entity &%s;", ref)
			}
			var (
				n   uint64
				err error
			)
			if ref[1] == 'x' {
				n, err = strconv.ParseUint(string(ref[2:]), 16, 32)
			} else {
				n, err = strconv.ParseUint(string(ref[1:]), 10, 32)
			}
			r := rune(n)
			if err != nil || !isXMLChar(r) {
				return dst, fmt.Errorf("invalid character reference &%s;", ref)
			}
			dst = utf8.AppendRune(dst, r)
		}
	}
	return dst, nil
}

func unescapeAsReference(t *testing.T, s []byte) {
	t.Helper()
	got, err := appendUnescaped([]byte("pre"), s)
	want, wantErr := refAppendUnescaped([]byte("pre"), s)
	require.Equal(t, wantErr, err, "%q", s)
	require.Equal(t, want, got, "%q", s)
}

// TestAppendUnescapedAsReference: references and line ends, alone and mixed, at every offset of short
// and long values.
func TestAppendUnescapedAsReference(t *testing.T) {
	pieces := []string{"&amp;", "&lt;", "&gt;", "&apos;", "&quot;", "&#65;", "&#x41;", "&#x1F600;", "&#0;", "&#xD800;",
		"&#xFFFE;", "&#x110000;", "&#1;", "&#9;", "&bogus;", "&;", "&#;", "&#x;", "&amp", "&", "\r", "\r\n", "\n", "\r\r\n",
		"&\r;", "&#x41;\r", "&veryverylongname;"}
	for _, n := range []int{0, 1, 7, 8, 9, 40, 120} {
		text := strings.Repeat("https://x.example/?a=1", 6)[:n]
		for _, p := range pieces {
			for k := 0; k <= n; k += 1 + n/10 {
				unescapeAsReference(t, []byte(text[:k]+p+text[k:]))
				for _, q := range pieces {
					unescapeAsReference(t, []byte(text[:k]+p+text[k:]+q))
				}
			}
		}
	}
}

func FuzzAppendUnescaped(f *testing.F) {
	for _, s := range []string{"", "a&amp;b", "x\r\ny\rz", "&#x41;&lt;\r", "&bogus;", "&#xD800;", "?a=1&amp;b=2&amp;c"} {
		f.Add([]byte(s))
	}
	f.Fuzz(unescapeAsReference)
}

// BenchmarkAppendUnescaped: a WS-Addressing URL with references in its query, as the EIS answer's headers
// carry four of.
func BenchmarkAppendUnescaped(b *testing.B) {
	s := []byte("https://localhost:43693/esim-messaging/3/ES4/ES4SmSrService?EntityId=1.3.6.1.4.1.99999.20&amp;EntityName=SM-SR")
	dst := make([]byte, 0, 256)
	for b.Loop() {
		dst, _ = appendUnescaped(dst[:0], s)
	}
}

// innerXMLAsReference: InnerXML of the root (and of its first child) is what it was when it searched
// back for "</" with bytes.LastIndex.
func innerXMLAsReference(t *testing.T, data []byte) {
	t.Helper()
	d := NewDecoder(data, Limits{})
	if d.Root() != nil {
		return
	}
	check := func() bool {
		empty, start := d.empty, d.pos
		inner, err := d.InnerXML()
		if err != nil || empty {
			return false
		}
		want := data[start : start+bytes.LastIndex(data[start:d.pos], []byte("</"))]
		require.Equal(t, string(want), string(inner), "%q", data)
		return true
	}
	var s State
	d.SaveTo(&s)
	if check() {
		d.Restore(&s)
		if ok, err := d.NextChild(); ok && err == nil {
			check()
		}
	}
}

func TestInnerXMLAsReference(t *testing.T) {
	for _, doc := range []string{
		"<a></a>", "<a/>", "<a>x</a>", "<a>x</a >", "<a>x</a\n\t>", "<a><b>y</b></a>", "<a><b/>z</a  >",
		"<a><![CDATA[</b>]]></a>", "<a><!-- </c> --></a>", "<a><?pi </d>?></a>", "<p:a xmlns:p='u'><p:b>1</p:b></p:a >",
		"<a><b>1</b><b>2</b>tail</a>", "<a>&lt;/a&gt;</a>",
	} {
		innerXMLAsReference(t, []byte(doc))
	}
}

func FuzzInnerXML(f *testing.F) {
	f.Add([]byte("<a><b>y</b>z</a >"))
	f.Add([]byte("<a><![CDATA[</b>]]><!--</c>--></a>"))
	f.Fuzz(innerXMLAsReference)
}

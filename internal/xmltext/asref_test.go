package xmltext

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// This file keeps earlier versions of decoder methods as references the current ones must agree with,
// on every input: results, errors and the decoder's state after them.

// refText is Text as it was before its slow path took up where the first pass stopped, kept as the
// reference the current one must agree with.
func (d *Decoder) refText() ([]byte, error) {
	if len(d.stack) == 0 {
		return nil, d.errf(ErrStructure, "no current element")
	}
	if d.empty {
		d.empty = false
		d.pop()
		return nil, nil
	}
	// The common case, text with nothing to unescape and then the end tag, in one pass.
	i := len(d.data)
	if k := indexTextStop(d.data[d.pos:]); k >= 0 {
		i = d.pos + k
	}
	if i+1 < len(d.data) && d.data[i] == '<' && d.data[i+1] == '/' {
		var text []byte
		if i > d.pos {
			text = d.data[d.pos:i]
		}
		// </name> right after the text, as nearly every leaf ends: matched here against where the start
		// tag wrote the name, without endElement's calls; anything else is endElement's to judge.
		f := &d.stack[len(d.stack)-1]
		if at, end := i+2, i+2+f.end-f.start; end < len(d.data) && d.data[end] == '>' &&
			string(d.data[at:end]) == string(d.data[f.start:f.end]) {
			d.pos = end + 1
			d.ns = d.ns[:f.nsMark]
			d.stack = d.stack[:len(d.stack)-1]
			return text, nil
		}
		d.pos = i
		if err := d.endElement(); err != nil {
			return nil, err
		}
		return text, nil
	}
	var (
		out     []byte
		copied  bool
		started bool
	)
	for {
		lt := bytes.IndexByte(d.data[d.pos:], '<')
		if lt < 0 {
			d.pos = len(d.data)
			return nil, d.errf(ErrSyntax, "unexpected end of document inside <%s>", d.qname(d.top()))
		}
		seg := d.data[d.pos : d.pos+lt]
		if len(seg) > 0 {
			if !started && plain(seg) {
				out, started = seg, true
			} else {
				if !copied {
					d.scratch = append(d.scratch[:0], out...)
					copied = true
				}
				var err error
				if d.scratch, err = appendUnescaped(d.scratch, seg); err != nil {
					return nil, d.errf(ErrEntity, "%v", err)
				}
				started = true
			}
		}
		d.pos += lt
		rest := d.data[d.pos:]
		switch {
		case len(rest) > 1 && rest[1] == '/':
			if err := d.endElement(); err != nil {
				return nil, err
			}
			if copied {
				return d.scratch, nil
			}
			return out, nil
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			end := bytes.Index(rest, []byte("]]>"))
			if end < 0 {
				return nil, d.errf(ErrSyntax, "unterminated CDATA section")
			}
			if !copied {
				d.scratch = append(d.scratch[:0], out...)
				copied = true
			}
			d.scratch = append(d.scratch, rest[9:end]...)
			started = true
			d.pos += end + 3
		default:
			ok, err := d.skipMarkup()
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, d.errf(ErrStructure, "element <%s> has child elements where text was expected", d.qname(d.top()))
			}
		}
	}
}

// readTrace walks data and, below the root's children, reads every element with read, recording what read
// says of it (its value or error) and where the decoder stands after it, up to the first error.
func readTrace(data []byte, read func(d *Decoder) (string, error)) string {
	var b strings.Builder
	d := NewDecoder(data, Limits{MaxDepth: 8})
	if err := d.Root(); err != nil {
		return "root: " + err.Error()
	}
	for range 10000 {
		ok, err := d.NextChild()
		if err != nil {
			fmt.Fprintf(&b, "next: %v\n", err)
			return b.String()
		}
		if !ok {
			if d.Depth() == 0 {
				return b.String()
			}
			continue
		}
		if d.Depth() < 3 {
			continue // descend
		}
		what, err := read(d)
		fmt.Fprintf(&b, "%s%s", what, state(d))
		if err != nil {
			return b.String()
		}
	}
	return b.String()
}

// textTrace is readTrace reading each element's text (Text, or refText when ref is set).
func textTrace(data []byte, ref bool) string {
	return readTrace(data, func(d *Decoder) (string, error) {
		readText := d.Text
		if ref {
			readText = d.refText
		}
		text, err := readText()
		return fmt.Sprintf("%q %v", text, err), err
	})
}

// FuzzTextAsReference: Text reads every text, references, line ends, comments and CDATA sections
// included, exactly as refText does, errors and the decoder's state after it included.
func FuzzTextAsReference(f *testing.F) {
	f.Add([]byte(envelope))
	f.Add([]byte(`<r><a><b>x&amp;y</b><b>x` + "\r\n" + `y</b><b>a<!--c-->b&lt;<![CDATA[<&>]]>c</b><b>&bogus;</b></a></r>`))
	f.Add([]byte(`<r><a><b>&amp;</b><b>a&#x41;` + "\r" + `</b><b>a&amp;b<c/></b></a></r>`))
	f.Add([]byte(`<r><a><b>a&amp;b`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if want, got := textTrace(data, true), textTrace(data, false); want != got {
			t.Fatalf("refText:\n%s\nText:\n%s", want, got)
		}
	})
}

func TestTextAsReference(t *testing.T) {
	for _, doc := range []string{
		`<r><a><b>x&amp;y</b><b>x` + "\r\n" + `y</b><b>a<!--c-->b&lt;<![CDATA[<&>]]>c</b><b>&bogus;</b></a></r>`,
		`<r><a><b>&amp;</b><b>a&#x41;` + "\r" + `</b><b>a&amp;b<c/></b></a></r>`,
		`<r><a><b>a&amp;b`, `<r><a><b>a&amp;b</c></a></r>`, `<r><a><b>a&amp;b</b ></a></r>`,
	} {
		if want, got := textTrace([]byte(doc), true), textTrace([]byte(doc), false); want != got {
			t.Errorf("%s\nrefText:\n%s\nText:\n%s", doc, want, got)
		}
	}
}

// refSkip is Skip as it was before start tags stopped going through skipMarkup's prefix tests.
func (d *Decoder) refSkip() error {
	if len(d.stack) == 0 {
		return d.errf(ErrStructure, "no current element")
	}
	if d.empty {
		d.empty = false
		d.pop()
		return nil
	}
	var room [16][]byte
	open := room[:0] // names of the descendants whose end tags are due
	for {
		lt := bytes.IndexByte(d.data[d.pos:], '<')
		if lt < 0 {
			d.pos = len(d.data)
			return d.errf(ErrSyntax, "unexpected end of document inside <%s>", d.qname(d.top()))
		}
		d.pos += lt
		if d.pos+1 < len(d.data) && d.data[d.pos+1] == '/' {
			if len(open) == 0 {
				return d.endElement()
			}
			if err := d.endTag(open[len(open)-1]); err != nil {
				return err
			}
			open = open[:len(open)-1]
			continue
		}
		ok, err := d.skipMarkup()
		if err != nil {
			return err
		}
		if ok {
			continue
		}
		if len(d.stack)+len(open) >= d.lim.MaxDepth {
			return d.errf(ErrDepth, "more than %d levels", d.lim.MaxDepth)
		}
		d.pos++ // '<'
		name, _ := d.scanName()
		if len(name) == 0 {
			return d.errf(ErrSyntax, "element name expected")
		}
		selfClosing, err := d.skipTagRest(name)
		if err != nil {
			return err
		}
		if !selfClosing {
			open = append(open, name)
		}
	}
}

// skipTrace is readTrace skipping each element (Skip, or refSkip when ref is set).
func skipTrace(data []byte, ref bool) string {
	return readTrace(data, func(d *Decoder) (string, error) {
		skip := d.Skip
		if ref {
			skip = d.refSkip
		}
		err := skip()
		return fmt.Sprint(err), err
	})
}

var skipDocs = []string{
	`<r><a><b><c>x</c><!--y--><?pi?><![CDATA[<z>]]><d e="f>g"/></b><b/></a></r>`,
	`<r><a><b><c></b></a></r>`, `<r><a><b><!DOCTYPE x></b></a></r>`, `<r><a><b><!x></b></a></r>`,
	`<r><a><b><`, `<r><a><b><c`, `<r><a><b><c x="1`, `<r><a><b><!--`, `<r><a><b><?x`, `<r><a><b><![CDATA[`,
	`<r><a><b><c><d><e><f><g><h><i/></h></g></f></e></d></c></b></a></r>`,
	`<r><a><b><c/ ></b><b><c x="<"/></b></a></r>`, `<r><a><b></bb></a></r>`, `<r><a><b><c></c ></b></a></r>`,
}

// FuzzSkipAsReference: Skip checks and consumes every subtree exactly as refSkip does.
func FuzzSkipAsReference(f *testing.F) {
	f.Add([]byte(envelope))
	for _, doc := range skipDocs {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if want, got := skipTrace(data, true), skipTrace(data, false); want != got {
			t.Fatalf("refSkip:\n%s\nSkip:\n%s", want, got)
		}
	})
}

func TestSkipAsReference(t *testing.T) {
	for _, doc := range append(skipDocs, envelope) {
		if want, got := skipTrace([]byte(doc), true), skipTrace([]byte(doc), false); want != got {
			t.Errorf("%s\nrefSkip:\n%s\nSkip:\n%s", doc, want, got)
		}
	}
}

// TestSameBytes: sameBytes and shortEqual are string equality, for every length around its two-word case and a
// difference at every offset.
func TestSameBytes(t *testing.T) {
	for n := range 20 {
		a := []byte(strings.Repeat("x", n))
		for k := range n {
			b := bytes.Clone(a)
			b[k] = 'y'
			if sameBytes(a, b) || shortEqual(a, b) {
				t.Errorf("length %d, differing at %d: equal", n, k)
			}
		}
		if !sameBytes(a, bytes.Clone(a)) || !shortEqual(a, bytes.Clone(a)) {
			t.Errorf("length %d: not equal to itself", n)
		}
	}
}

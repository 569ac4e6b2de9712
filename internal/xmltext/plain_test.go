package xmltext

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func viaNextChildPlain(d *Decoder, _ *int) (bool, int, []byte, error) {
	ok, err := d.NextChildPlain()
	return ok, -1, nil, err
}

// Start tags that take every path of startPlain, and every way out of it to startElement: attributes in
// both quotes, several, duplicated, namespace declarations (default, prefixed, empty, with a reference,
// declaring the element's own prefix), unbound prefixes, the xml prefix, other white space, self-closing
// and malformed tags, the attribute and depth limits.
var plainDocs = []string{
	`<e:Envelope xmlns:e="u" xmlns:w="v"><e:Header><w:To e:mustUnderstand="true">x&amp;y</w:To><w:Action e:mustUnderstand='1'>a</w:Action></e:Header></e:Envelope>`,
	`<r xmlns:p="u"><p:a x="1" y="2" p:z="3">t</p:a><p:b x="1" x="2"/><p:c p:x="1" p:x="2"/><p:d x="1" p:x="2"/></r>`,
	`<r><a xmlns="u"><leaf>1</leaf></a><b xmlns:q="v" q:x="1"><q:leaf>2</q:leaf></b><q:c/></r>`,
	`<r><a xmlns:q="u&amp;v"><q:leaf>1</q:leaf></a><b xmlns="a&lt;"/></r>`,
	`<r xmlns:p="u"><a xmlns:p=""><p:b/></a><c xmlns=""/><p:d xmlns:p="v"/><e q:x="1" xmlns:q="w"/></r>`,
	`<r><a xml:lang="en"/><xml:b/><a xmlns:="u"/><:a/><a :x="1"/><a x:="1"/></r>`,
	`<r><a  x="1"/><a x ="1"/><a x= "1"/><a` + "\tx=\"1\"/><a\nx='1'/><a x=\"1\" /><a x=\"1\"\t></a></r>",
	`<r><a/ ><a x="1"y="2"/><a x/><a x="1/><a x='1"/><a x="<"/><a x=1/></r>`,
	`<r><a x="1"`, `<r><a x="1" `, `<r><a x=`, `<r><a x`, `<r><a `, `<r><a/`, `<r><a`, `<r><`,
	`<r><a b="1" c="2" d="3" e="4"/></r>`,
	`<r><a><a><a><a x="1"><leaf>deep</leaf></a></a></a></a></r>`,
	`<r><a xmlns:z="u" z:y="1" x="&amp;"/>text<b/><!--c--><b/><?pi?><![CDATA[x]]><b/></r>`,
	`<r><a>1</a></b></r>`, `<r><a>1</a ></r>`, `<r><a>1</r>`,
	`<r><leaf>a&amp;b</leaf><leaf>a` + "\r\n" + `b</leaf><leaf>a<!--x-->b</leaf><leaf><![CDATA[<x>]]></leaf><leaf>&bogus;</leaf></r>`,
	`<r><leaf>a<b/></leaf></r>`, `<r><leaf>a</leafx></r>`, `<r><leaf/><leaf></leaf><leaf> sp </leaf></r>`, `<r><leaf>a&amp;`, `<r><leaf>a&amp;<`,
	`<r><leaf>&#x41;&#65;&lt;&gt;&quot;&apos;</leaf><leaf>&#0;</leaf></r>`, `<r><leaf>` + "\xff" + `</leaf></r>`,
}

// viaText and viaAppendText read a leaf's text the two ways AppendText must agree on.
func viaText(d *Decoder) ([]byte, error) { return d.Text() }

func viaAppendText(d *Decoder) ([]byte, error) {
	const before = "before:"
	dst := append(make([]byte, 0, 16), before...)
	out, err := d.AppendText(dst)
	if string(out[:len(before)]) != before {
		return nil, fmt.Errorf("AppendText overwrote dst: %q", out)
	}
	if err != nil && len(out) != len(before) {
		return nil, fmt.Errorf("AppendText appended %q and failed", out)
	}
	if len(out) == len(before) {
		return nil, err // Text's answer for no text
	}
	return out[len(before):], err
}

// traceText walks a document with NextChild, reading the leaves with text, and records what trace does.
func traceText(data []byte, lim Limits, text func(*Decoder) ([]byte, error)) string {
	var b strings.Builder
	d := NewDecoder(data, lim)
	if err := d.Root(); err != nil {
		return "root: " + err.Error()
	}
	var visit func() error
	visit = func() error {
		for {
			ok, err := d.NextChild()
			if err != nil || !ok {
				fmt.Fprintf(&b, "end %d %v\n%s", d.Depth(), err, state(d))
				return err
			}
			fmt.Fprintf(&b, "%d {%s}%s\n", d.Depth(), d.Space(), d.Local())
			if isLeaf(d.Local()) {
				v, err := text(d)
				fmt.Fprintf(&b, "text %q %v\n%s", v, err, state(d))
				if err != nil {
					return err
				}
				continue
			}
			if err := visit(); err != nil {
				return err
			}
		}
	}
	_ = visit()
	return b.String()
}

func plainAsNextChild(t *testing.T, data []byte) {
	t.Helper()
	for _, lim := range []Limits{{}, {MaxDepth: 3, MaxAttrs: 3}, {MaxDepth: 2}} {
		if want, got := trace(data, lim, viaNextChild), trace(data, lim, viaNextChildPlain); want != got {
			t.Fatalf("%q (%+v)\nNextChild:\n%s\nNextChildPlain:\n%s", data, lim, want, got)
		}
		if want, got := traceText(data, lim, viaText), traceText(data, lim, viaAppendText); want != got {
			t.Fatalf("%q (%+v)\nText:\n%s\nAppendText:\n%s", data, lim, want, got)
		}
	}
}

// TestNextChildPlainAsNextChild: whatever the document, NextChildPlain leaves the decoder exactly where
// NextChild does, with the same namespaces, names, attributes and errors; and AppendText appends what
// Text returns, leaving the decoder as Text does.
func TestNextChildPlainAsNextChild(t *testing.T) {
	docs := append(append([]string{envelope}, plainDocs...), nextChildInDocs...)
	for _, doc := range docs {
		plainAsNextChild(t, []byte(doc))
		plainAsNextChild(t, []byte(doc+"<!--"+strings.Repeat(" ", 40)+"-->"))
	}
}

// TestNextChildPlainTakesPlainTags: the tags startPlain is for are read by it, not left to startElement.
func TestNextChildPlainTakesPlainTags(t *testing.T) {
	for _, tag := range []string{`<w:To>`, `<w:To e:mustUnderstand="true">`, `<w:To x='1' y="2"/>`, `<a xmlns="u">`, `<w:a xmlns:w="v" w:b="1">`} {
		d := NewDecoder([]byte(`<e:r xmlns:e="u" xmlns:w="w">`+tag), Limits{})
		if !assert.NoError(t, d.Root()) {
			continue
		}
		assert.True(t, d.startPlain(d.pos), tag)
	}
}

func FuzzNextChildPlain(f *testing.F) {
	f.Add([]byte(envelope))
	for _, doc := range plainDocs {
		f.Add([]byte(doc))
	}
	f.Fuzz(plainAsNextChild)
}

// appendTextAsReference: appendText unescapes as appendUnescaped does, and fails where it fails.
func appendTextAsReference(t *testing.T, s []byte) {
	t.Helper()
	want, wantErr := appendUnescaped([]byte("x"), s)
	got, err := appendText([]byte("x"), s)
	if (err != nil) != (wantErr != nil) || (err == nil && string(got) != string(want)) {
		t.Fatalf("%q: appendUnescaped %q, %v; appendText %q, %v", s, want, wantErr, got, err)
	}
}

func TestAppendTextAsReference(t *testing.T) {
	for _, s := range []string{"", "a", "&amp;", "a&amp;b&amp;", "&amp", "&am;", "&ampx;", "&amp;&lt;", "a&lt;&amp;", "&amp;\r\n", "a\rb&amp;",
		"&amp;&#x41;", "&amp;&bogus;", "&", "x&", "&amp;&", "&amp;amp;", strings.Repeat("q=1&amp;", 30)} {
		appendTextAsReference(t, []byte(s))
	}
}

func FuzzAppendText(f *testing.F) {
	f.Add([]byte("a&amp;b&lt;c\r\n"))
	f.Add([]byte("https://h/p?EntityId=1.2&amp;EntityName=x"))
	f.Fuzz(appendTextAsReference)
}

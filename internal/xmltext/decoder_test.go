package xmltext

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const envelope = `<?xml version="1.0" encoding="UTF-8"?>
<!-- leading comment -->
<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://www.w3.org/2005/08/addressing">
  <env:Header>
    <wsa:To env:mustUnderstand="true">https://x?EntityId=1.2&amp;EntityName=A</wsa:To>
  </env:Header>
  <env:Body>
    <rps:ES4-EnableProfileRequest xmlns:rps="http://namespaces.gsma.org/esim-messaging/3">
      <rps:FunctionCallIdentifier>fc&lt;1&gt;</rps:FunctionCallIdentifier>
      <rps:Eid><![CDATA[8904]]>9032</rps:Eid>
      <rps:Empty/>
      <Plain xmlns="urn:d">t<!-- c -->u</Plain>
    </rps:ES4-EnableProfileRequest>
  </env:Body>
</env:Envelope>
`

func TestWalk(t *testing.T) {
	d := NewDecoder([]byte(envelope), Limits{})
	require.NoError(t, d.Root())
	assert.Equal(t, "Envelope", string(d.Local()))
	assert.Equal(t, "http://www.w3.org/2003/05/soap-envelope", string(d.Space()))

	ok, err := d.NextChild()
	require.NoError(t, err)
	require.True(t, ok)
	assert.True(t, d.LocalIs("header"))
	ok, err = d.NextChild()
	require.NoError(t, err)
	require.True(t, ok)
	mu, found := d.Attr("http://www.w3.org/2003/05/soap-envelope", "mustUnderstand")
	assert.True(t, found)
	assert.Equal(t, "true", string(mu))
	_, found = d.Attr("", "mustUnderstand")
	assert.False(t, found)
	text, err := d.Text()
	require.NoError(t, err)
	assert.Equal(t, "https://x?EntityId=1.2&EntityName=A", string(text))
	ok, err = d.NextChild()
	require.NoError(t, err)
	assert.False(t, ok, "end of Header")

	ok, err = d.NextChild()
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "Body", string(d.Local()))
	ok, err = d.NextChild()
	require.NoError(t, err)
	require.True(t, ok)
	var saved State
	d.SaveTo(&saved)

	var got []string
	for {
		ok, err := d.NextChild()
		require.NoError(t, err)
		if !ok {
			break
		}
		name := string(d.Space()) + " " + string(d.Local())
		text, err := d.Text()
		require.NoError(t, err)
		got = append(got, name+"="+string(text))
	}
	assert.Equal(t, []string{
		"http://namespaces.gsma.org/esim-messaging/3 FunctionCallIdentifier=fc<1>",
		"http://namespaces.gsma.org/esim-messaging/3 Eid=89049032",
		"http://namespaces.gsma.org/esim-messaging/3 Empty=",
		"urn:d Plain=tu",
	}, got)

	d.Restore(&saved)
	inner, err := d.InnerXML()
	require.NoError(t, err)
	assert.Contains(t, string(inner), "<rps:Eid>")
	assert.True(t, strings.HasSuffix(strings.TrimSpace(string(inner)), "</Plain>"))

	ok, err = d.NextChild()
	require.NoError(t, err)
	assert.False(t, ok, "end of Body")
	ok, err = d.NextChild()
	require.NoError(t, err)
	assert.False(t, ok, "end of Envelope")
	require.NoError(t, d.End())
}

func TestErrors(t *testing.T) {
	deep := strings.Repeat("<a>", 70) + strings.Repeat("</a>", 70)
	manyAttrs := "<a" + strings.Repeat(" x=\"1\"", 0) + func() string {
		var b strings.Builder
		for i := 0; i < 70; i++ {
			b.WriteString(" a")
			b.WriteString(strings.Repeat("b", i+1))
			b.WriteString(`="1"`)
		}
		return b.String()
	}() + "/>"
	tests := []struct {
		name string
		doc  string
		kind error
	}{
		{"doctype", `<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>`, ErrDoctype},
		{"doctype inside", `<x><!DOCTYPE y></x>`, ErrDoctype},
		{"entity", `<x>&foo;</x>`, ErrEntity},
		{"bad char ref", `<x>&#0;</x>`, ErrEntity},
		{"invalid utf8", "<x>\xff</x>", ErrEncoding},
		{"control char", "<x>\x01</x>", ErrEncoding},
		{"latin1 declared", `<?xml version="1.0" encoding="ISO-8859-1"?><x/>`, ErrEncoding},
		{"too deep", deep, ErrDepth},
		{"too many attrs", manyAttrs, ErrAttrs},
		{"unbound prefix", `<p:x/>`, ErrNamespace},
		{"unbound attr prefix", `<x p:a="1"/>`, ErrNamespace},
		{"mismatch", `<r><y></r></y>`, ErrSyntax},
		{"truncated", `<r><y>abc`, ErrSyntax},
		{"unterminated attr", `<x a="1>`, ErrSyntax},
		{"duplicate attr", `<x a="1" a="2"/>`, ErrSyntax},
		{"lt in attr", `<x a="<"/>`, ErrSyntax},
		{"empty", ``, ErrStructure},
		{"text only", `hello`, ErrSyntax},
		{"two roots", `<x/><y/>`, ErrStructure},
		{"trailing text", `<x/>junk`, ErrSyntax},
		{"child where text expected", `<x><y/></x>`, ErrStructure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := readAll(NewDecoder([]byte(tt.doc), Limits{}))
			require.Error(t, err)
			assert.True(t, errors.Is(err, tt.kind), "got %v", err)
			var xe *Error
			require.ErrorAs(t, err, &xe)
		})
	}
}

// readAll walks a document, reading every leaf's text, as the generated decoders do.
func readAll(d *Decoder) error {
	if err := d.Root(); err != nil {
		return err
	}
	if err := walk(d); err != nil {
		return err
	}
	return d.End()
}

func walk(d *Decoder) error {
	if d.LocalIs("x") && d.Depth() == 1 {
		// a root named x is read as text, to exercise Text on every document
		_, err := d.Text()
		return err
	}
	for {
		ok, err := d.NextChild()
		if err != nil || !ok {
			return err
		}
		if err := walk(d); err != nil {
			return err
		}
	}
}

func TestTextForms(t *testing.T) {
	tests := []struct{ doc, want string }{
		{`<x>plain</x>`, "plain"},
		{`<x>a&amp;b&#65;&#x42;</x>`, "a&bAB"},
		{"<x>l1\r\nl2\rl3</x>", "l1\nl2\nl3"},
		{`<x><![CDATA[<raw>&]]></x>`, "<raw>&"},
		{`<x>a<!--c-->b<?pi x?>c</x>`, "abc"},
		{`<x/>`, ""},
		{`<x></x>`, ""},
		{"\xEF\xBB\xBF<x>bom</x>", "bom"},
	}
	for _, tt := range tests {
		d := NewDecoder([]byte(tt.doc), Limits{})
		require.NoError(t, d.Root(), tt.doc)
		got, err := d.Text()
		require.NoError(t, err, tt.doc)
		assert.Equal(t, tt.want, string(got), tt.doc)
		require.NoError(t, d.End())
	}
}

func TestAttrForms(t *testing.T) {
	d := NewDecoder([]byte(`<x xmlns:p="urn:p" a='1 &amp; 2' p:b="3"/>`), Limits{})
	require.NoError(t, d.Root())
	v, ok := d.Attr("", "a")
	require.True(t, ok)
	assert.Equal(t, "1 & 2", string(v))
	v, ok = d.Attr("urn:p", "b")
	require.True(t, ok)
	assert.Equal(t, "3", string(v))
	v, ok = d.AttrAny("b")
	require.True(t, ok)
	assert.Equal(t, "3", string(v))
	_, ok = d.Attr("", "b")
	assert.False(t, ok)
}

func TestEscapeRoundTrip(t *testing.T) {
	for _, s := range []string{"", "plain", `a<b>&"c'` + "\r\n\t", "\x00\x1fz", "héllo ✓", "bad\xffutf8"} {
		doc := append([]byte(`<x a="`), AppendAttr(nil, s)...)
		doc = append(doc, `">`...)
		doc = AppendText(doc, s)
		doc = append(doc, "</x>"...)
		var std struct {
			A    string `xml:"a,attr"`
			Text string `xml:",chardata"`
		}
		require.NoError(t, xml.Unmarshal(doc, &std), "%q", doc)
		d := NewDecoder(doc, Limits{})
		require.NoError(t, d.Root())
		a, _ := d.Attr("", "a")
		text, err := d.Text()
		require.NoError(t, err)
		assert.Equal(t, std.A, string(a))
		assert.Equal(t, std.Text, string(text))
		if !strings.ContainsAny(s, "\x00\x1f") && utf8.ValidString(s) {
			assert.Equal(t, s, string(a))
			assert.Equal(t, strings.ReplaceAll(s, "\r\n", "\n"), strings.ReplaceAll(string(text), "\r\n", "\n"))
		}
	}
}

func FuzzDecoder(f *testing.F) {
	f.Add([]byte(envelope))
	f.Add([]byte(`<a xmlns="u"><b c="d">e&amp;<![CDATA[f]]></b><!--g--></a>`))
	f.Add([]byte(`<!DOCTYPE a><a/>`))
	f.Add([]byte("<a>\xff</a>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDecoder(data, Limits{MaxDepth: 16})
		_ = readAll(d)
		d.Reset(data, Limits{})
		if d.Root() == nil {
			_, _ = d.InnerXML()
		}
	})
}

func BenchmarkDecodeEnvelope(b *testing.B) {
	data := []byte(envelope)
	d := NewDecoder(data, Limits{})
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		d.Reset(data, Limits{})
		if err := readAll(d); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSkip(t *testing.T) {
	deep := "<r>" + strings.Repeat("<a>", 70) + strings.Repeat("</a>", 70) + "</r>"
	tests := []struct {
		name string
		doc  string
		kind error // nil: skipped cleanly, and the document ends well
	}{
		{"nested, attributes with > and quotes, self-closing, markup", `<r><a x="1>2" y='"'><b/><!--<c>--><![CDATA[</a>]]><?p ?></a>text</r>`, nil},
		{"mismatched end tag inside", `<r><a><b></a></b></r>`, ErrSyntax},
		{"unterminated attribute", `<r><a x="1></a></r>`, ErrSyntax},
		{"< in an attribute value", `<r><a x="<"/></r>`, ErrSyntax},
		{"bad self-closing", `<r><a / ></r>`, ErrSyntax},
		{"doctype inside", `<r><a><!DOCTYPE x></a></r>`, ErrDoctype},
		{"too deep inside", deep, ErrDepth},
		{"truncated", `<r><a><b>`, ErrSyntax},
		{"unterminated start tag", `<r><a x="1"`, ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder([]byte(tt.doc), Limits{})
			require.NoError(t, d.Root())
			err := d.Skip()
			if tt.kind == nil {
				require.NoError(t, err)
				assert.Zero(t, d.Depth())
				assert.NoError(t, d.End())
				return
			}
			assert.ErrorIs(t, err, tt.kind)
		})
	}
}

// TestStringsSurvive checks what String and Bytes promise: their values neither alias the document nor
// change when the Decoder decodes on, is Reset onto another document, or the document's buffer is reused.
func TestStringsSurvive(t *testing.T) {
	doc := func(i int) []byte {
		var b strings.Builder
		b.WriteString("<r>")
		for j := 0; j < 300; j++ { // enough to need several chunks
			fmt.Fprintf(&b, "<v>doc%d-value%03d&amp;</v>", i, j)
		}
		b.WriteString("</r>")
		return []byte(b.String())
	}
	read := func(d *Decoder) (strs []string, raw [][]byte) {
		require.NoError(t, d.Root())
		for {
			ok, err := d.NextChild()
			require.NoError(t, err)
			if !ok {
				break
			}
			text, err := d.Text()
			require.NoError(t, err)
			strs = append(strs, d.String(text))
			b := d.Bytes(len(text))
			copy(b, text)
			require.Equal(t, len(b), cap(b), "Bytes is capacity-limited")
			raw = append(raw, b)
		}
		require.NoError(t, d.End())
		return strs, raw
	}
	buf := doc(1)
	d := NewDecoder(buf, Limits{})
	first, firstRaw := read(d)
	// The same decoder reads the same bytes again (as a second DecodeBody does), then a new document in the
	// same buffer (as a recycled response buffer is), then its values are scribbled over by their owner.
	d.Reset(buf, Limits{})
	second, _ := read(d)
	copy(buf, doc(2))
	d.Reset(buf, Limits{})
	third, thirdRaw := read(d)
	for i := range buf {
		buf[i] = 'X'
	}
	for _, b := range thirdRaw {
		for i := range b {
			b[i] = 'Y'
		}
		_ = append(b, 'Z') // must not write past the value
	}
	require.Len(t, first, 300)
	for j := range first {
		want1 := fmt.Sprintf("doc1-value%03d&", j)
		assert.Equal(t, want1, first[j])
		assert.Equal(t, want1, second[j])
		assert.Equal(t, want1, string(firstRaw[j]))
		assert.Equal(t, fmt.Sprintf("doc2-value%03d&", j), third[j])
	}
	assert.Equal(t, "", d.String(nil))
	assert.Nil(t, d.Bytes(0))
}

// spaces lists the namespace and local name of every element of doc in document order, as the Decoder
// resolves them.
func spaces(doc string) ([]string, error) {
	d := NewDecoder([]byte(doc), Limits{})
	if err := d.Root(); err != nil {
		return nil, err
	}
	var out []string
	var visit func() error
	visit = func() error {
		out = append(out, "{"+string(d.Space())+"}"+string(d.Local()))
		for {
			ok, err := d.NextChild()
			if err != nil || !ok {
				return err
			}
			if err := visit(); err != nil {
				return err
			}
		}
	}
	if err := visit(); err != nil {
		return out, err
	}
	return out, d.End()
}

// stdSpaces is spaces by encoding/xml.
func stdSpaces(t *testing.T, doc string) []string {
	var out []string
	dec := xml.NewDecoder(strings.NewReader(doc))
	for {
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		if se, ok := tok.(xml.StartElement); ok {
			out = append(out, "{"+se.Name.Space+"}"+se.Name.Local)
		}
	}
}

// TestNamespacesAsEncodingXML checks element namespaces where a child shares its parent's prefix (the
// shortcut), and every way it may not.
func TestNamespacesAsEncodingXML(t *testing.T) {
	for _, doc := range []string{
		`<a:r xmlns:a="urn:a"><a:b><a:c/><a:d>t</a:d></a:b></a:r>`,
		`<r xmlns="urn:d"><b><c/></b><a:x xmlns:a="urn:a"><y/><a:z/></a:x></r>`,
		`<a:r xmlns:a="urn:a" xmlns:ab="urn:ab"><ab:b><a:c/></ab:b><aa:c xmlns:aa="urn:aa"/></a:r>`,
		`<a:r xmlns:a="urn:a"><a:b xmlns:a="urn:other"><a:c/></a:b><a:d/></a:r>`,
		`<r xmlns="urn:d"><b xmlns=""><c/></b><d/></r>`,
		`<a:r xmlns:a="urn:a" xmlns="urn:d"><b><a:c><d/></a:c></b></a:r>`,
		`<a:r xmlns:a="urn:a" xmlns:b="urn:a"><b:x><a:y/></b:x></a:r>`,
		`<xml:r><xml:s/></xml:r>`,
		`<a:r xmlns:a="urn:a"><a:b xml:lang="en" a:c="1"><a:d/></a:b></a:r>`,
	} {
		got, err := spaces(doc)
		require.NoError(t, err, doc)
		assert.Equal(t, stdSpaces(t, doc), got, doc)
	}
	for _, doc := range []string{
		`<a:r xmlns:a="urn:a"><b:c/></a:r>`,
		`<r><a:b/></r>`,
		`<a:r xmlns:a="urn:a"><a:b xmlns:a=""><a:c/></a:b></a:r>`,
	} {
		_, err := spaces(doc)
		assert.ErrorIs(t, err, ErrNamespace, doc)
	}
}

// TestCheckCharsAtEveryOffset: a bad byte is found, at its offset, wherever it falls in the 32-, 16- and
// 8-byte blocks and the byte loop; the characters XML allows pass wherever they are.
func TestCheckCharsAtEveryOffset(t *testing.T) {
	tests := []struct {
		name string
		bad  string
		ok   bool
	}{
		{name: "control character", bad: "\x01"},
		{name: "NUL", bad: "\x00"},
		{name: "invalid UTF-8", bad: "\xff"},
		{name: "truncated UTF-8", bad: "\xc3"},
		{name: "U+FFFE", bad: "\uFFFE"},
		{name: "tab", bad: "\t", ok: true},
		{name: "line feed", bad: "\n", ok: true},
		{name: "carriage return", bad: "\r", ok: true},
		{name: "two-byte UTF-8", bad: "é", ok: true},
		{name: "DEL", bad: "\x7f", ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for n := 1; n <= 80; n += 7 {
				for k := 0; k < n; k++ {
					data := []byte(strings.Repeat("a", k) + tt.bad + strings.Repeat("b", n-k))
					off, err := checkChars(data)
					if tt.ok {
						require.NoError(t, err, "length %d, offset %d", len(data), k)
						continue
					}
					require.Error(t, err, "length %d, offset %d", len(data), k)
					assert.Equal(t, k, off, "length %d", len(data))
				}
			}
		})
	}
}

// TestEndTags: the end tag of a leaf read with Text and of an element closed by NextChild, matched on
// the fast path or by endTag, accepts exactly the tags that close the element.
func TestEndTags(t *testing.T) {
	tests := []struct {
		name, doc string
		ok        bool
	}{
		{name: "plain", doc: `<r><a>x</a></r>`, ok: true},
		{name: "prefixed", doc: `<p:r xmlns:p="u"><p:a>x</p:a></p:r>`, ok: true},
		{name: "space before >", doc: `<r><a>x</a ></r >`, ok: true},
		{name: "empty text", doc: `<r><a></a></r>`, ok: true},
		{name: "long name", doc: `<r><ProcessingStartLonger>x</ProcessingStartLonger></r>`, ok: true},
		{name: "longer end tag", doc: `<r><a>x</ab></r>`},
		{name: "shorter end tag", doc: `<r><ab>x</a></r>`},
		{name: "other name same length", doc: `<r><ab>x</ba></r>`},
		{name: "other prefix", doc: `<p:r xmlns:p="u" xmlns:q="u"><p:a>x</q:a></p:r>`},
		{name: "end tag cut short", doc: `<r><a>x</a`},
		{name: "name at the very end", doc: `<r><a>x</`},
		{name: "garbage before >", doc: `<r><a>x</a x></r>`},
		{name: "container end", doc: `<r><c><b>x</b></c></r>`, ok: true},
		{name: "container end mismatch", doc: `<r><c><b>x</b></d></r>`},
		{name: "container end with space", doc: `<r><c><b>x</b></c
></r>`, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder([]byte(tt.doc), Limits{})
			err := d.Root()
			require.NoError(t, err)
			var walk func() error
			walk = func() error {
				for {
					ok, err := d.NextChild()
					if err != nil || !ok {
						return err
					}
					switch string(d.Local()) {
					case "a", "ab", "b", "ProcessingStartLonger": // leaves, read with Text
					default:
						if err := walk(); err != nil {
							return err
						}
						continue
					}
					if _, err := d.Text(); err != nil {
						return err
					}
				}
			}
			if err = walk(); err == nil {
				err = d.End()
			}
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, ErrSyntax)
			}
		})
	}
}

var sinkString string

// BenchmarkString: a leaf value copied into the arena, a fresh document (and so chunk) now and then.
func BenchmarkString(b *testing.B) {
	doc := make([]byte, 4096)
	v := []byte("EXECUTED_SUCCESS")
	d := NewDecoder(doc, Limits{})
	for i := 0; b.Loop(); i++ {
		if i%32 == 0 {
			d.Reset(doc, Limits{})
		}
		sinkString = d.String(v)
	}
}

var sinkBytes []byte

// BenchmarkBytes: room for a decoded EID carved from the arena, a fresh chunk now and then.
func BenchmarkBytes(b *testing.B) {
	doc := make([]byte, 4096)
	d := NewDecoder(doc, Limits{})
	for i := 0; b.Loop(); i++ {
		if i%32 == 0 {
			d.Reset(doc, Limits{})
		}
		sinkBytes = d.Bytes(16)
	}
}

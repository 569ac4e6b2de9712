package xmltext

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// step advances to the next child the way trace wants compared. i is the child's index in expected, -1
// when the caller has to match it itself; for an expected leaf (i >= 0, Leaf) the child was read whole and
// text is its text.
type step func(d *Decoder, hint *int) (ok bool, i int, text []byte, err error)

// isLeaf is how trace tells leaves by name, the way expected's Leaf flags do.
func isLeaf(local []byte) bool { return strings.HasPrefix(strings.ToLower(string(local)), "leaf") }

// state is everything a Decoder keeps about where it is, for comparing two ways of getting there.
func state(d *Decoder) string {
	var b strings.Builder
	// A frame's open and openMask are NextChildIn's cache (worked out from start and local when it first
	// reads the element's children): they are left out.
	fmt.Fprintf(&b, "  @%d empty=%v stack=[", d.pos, d.empty)
	for _, f := range d.stack {
		fmt.Fprintf(&b, "{%d %d %d %d %d} ", f.start, f.end, f.local, f.space, f.nsMark)
	}
	fmt.Fprintf(&b, "] ns=[")
	for _, n := range d.ns {
		fmt.Fprintf(&b, "%s=%s ", n.prefix, n.uri)
	}
	fmt.Fprintf(&b, "] attrs=%v\n", d.attrs)
	return b.String()
}

// trace walks a document the way generated decoders do and records every step: each element's depth,
// namespace and local name, its attributes, its text (a leaf's) and the decoder's whole state after it.
// next chooses how children are advanced to, so that NextChild and NextChildIn can be compared.
func trace(data []byte, lim Limits, next step) string {
	var b strings.Builder
	d := NewDecoder(data, lim)
	if err := d.Root(); err != nil {
		return "root: " + err.Error()
	}
	var visit func(hint *int) error
	visit = func(hint *int) error {
		for {
			ok, i, text, err := next(d, hint)
			if i >= 0 && expected[i].Leaf {
				// Read whole by NextChildIn: it was the parent's next level, in its namespace.
				if err != nil {
					fmt.Fprintf(&b, "error: %v\n%s", err, state(d))
					return err
				}
				fmt.Fprintf(&b, "%d {%s}%s text %q\n%s", d.Depth()+1, d.Space(), expected[i].Local, text, state(d))
				continue
			}
			if err != nil || !ok {
				fmt.Fprintf(&b, "end %d\n%s", d.Depth(), state(d))
				return err
			}
			elem := fmt.Sprintf("%d {%s}%s", d.Depth(), d.Space(), d.Local())
			if isLeaf(d.Local()) {
				if len(d.attrs) != 0 {
					elem += " attrs" // NextChildIn never reads a child with attributes whole
				}
				text, err := d.Text()
				if err != nil {
					fmt.Fprintf(&b, "error: %v\n%s", err, state(d))
					return err
				}
				fmt.Fprintf(&b, "%s text %q\n%s", elem, text, state(d))
				continue
			}
			b.WriteString(elem)
			for i := range d.attrs {
				a := &d.attrs[i]
				fmt.Fprintf(&b, " %s=%q", d.data[a.start:a.end], d.data[a.vstart:a.vend])
			}
			b.WriteString("\n" + state(d))
			inner := 0
			if err := visit(&inner); err != nil {
				return err
			}
		}
	}
	if err := visit(new(int)); err != nil {
		fmt.Fprintf(&b, "error: %v\n", err)
		return b.String()
	}
	if err := d.End(); err != nil {
		fmt.Fprintf(&b, "end: %v\n", err)
	}
	return b.String()
}

// expected covers names shorter than a word, one or two words long, longer than two words (compared by
// their last word as well) and longer than three (the middle compared as a string), leaves and not.
var expected = []Child{
	NewChild("a", false), NewChild("leaf", true), NewChild("b", false), NewChild("Leaf", true), NewChild("c", false),
	NewChild("leaf5678", true), NewChild("leaf567890123456", true), NewChild("leaf5678901234567", true),
	NewChild("leaf567890123456789012345", true), NewChild("container-of-the-long-name", false),
	NewChild("cont5678", false), NewChild("cont56789012345678", false),
	NewChild("leaf56789012345", true), NewChild("leaf5678901234567890123", true), NewChild("leaf56789012345678901234", true),
}

func viaNextChild(d *Decoder, _ *int) (bool, int, []byte, error) {
	ok, err := d.NextChild()
	return ok, -1, nil, err
}

func viaNextChildIn(d *Decoder, hint *int) (bool, int, []byte, error) {
	ok, i, text, err := d.NextChildIn(expected, *hint)
	if i >= 0 {
		*hint = i
	}
	return ok, i, text, err
}

// Documents that take every path of NextChildIn and of its reading of leaves, and every way out of them.
var nextChildInDocs = []string{
	`<p:r xmlns:p="u"><p:a><p:leaf>1</p:leaf><p:leaf>2</p:leaf></p:a><p:b/><p:c></p:c></p:r>`,
	`<r xmlns="u"><a><leaf>x</leaf></a>  <b>` + "\n\t" + `<leaf>y</leaf></b><c/></r>`,
	`<p:r xmlns:p="u" xmlns:q="u"><q:a><q:leaf>1</q:leaf></q:a><p:a x="1"><p:leaf>2</p:leaf></p:a></p:r>`,
	`<p:r xmlns:p="u"><p:a xmlns:p="v"><p:leaf>1</p:leaf></p:a><p:ab><p:leaf>1</p:leaf></p:ab></p:r>`,
	`<p:r xmlns:p="u"><p:a ><p:leaf >1</p:leaf ></p:a><p:A><p:LEAF>2</p:LEAF></p:A></p:r>`,
	`<p:r xmlns:p="u"><!--c--><p:a>text<p:leaf>1</p:leaf></p:a><?pi?><p:c/></p:r>`,
	`<p:r xmlns:p="u"><p:a><p:leaf>1</p:leaf></p:b></p:r>`,
	`<p:r xmlns:p="u"><p:a><p:leaf>1</p:leaf>`,
	`<p:r xmlns:p="u"><p:a`,
	`<p:r xmlns:p="u"><p:`,
	`<p:r xmlns:p="u"><`,
	`<r><a><a><a><a><leaf>deep</leaf></a></a></a></a></r>`,
	`<p:r xmlns:p="u"><p:c><p:b><p:a/></p:b></p:c></p:r>`,
	`<r xmlns:p="u"><p:a/><a/></r>`,
	`<p:r xmlns:p="u"><a/><p:a/></p:r>`,
	`<p:r xmlns:p="u"><p:a>` + "\xff" + `</p:a></p:r>`,
	// Leaves: plain, empty, self-closing, escaped, with line ends, comments, CDATA, children, wrong or
	// spaced end tags, other prefixes, at the very end of the document.
	`<p:r xmlns:p="u"><p:leaf></p:leaf><p:leaf/><p:Leaf>x</p:Leaf><p:leaf5678>8</p:leaf5678><p:c/></p:r>`,
	`<p:r xmlns:p="u"><p:leaf567890123456>16</p:leaf567890123456><p:leaf5678901234567>17</p:leaf5678901234567></p:r>`,
	`<p:r xmlns:p="u"><p:leaf567890123456789012345>25</p:leaf567890123456789012345><p:leaf567890123456789012346>x</p:leaf567890123456789012346></p:r>`,
	`<p:r xmlns:p="u"><p:leaf567890123456789012345>25</p:leaf567890123456789012346></p:r>`,
	`<p:r xmlns:p="u"><p:leaf56789012345>15</p:leaf56789012345><p:leaf5678901234567890123>23</p:leaf5678901234567890123><p:leaf56789012345678901234>24</p:leaf56789012345678901234></p:r>`,
	`<p:r xmlns:p="u"><p:leaf56789012345>15</p:leaf56789012346><p:leaf5678901234567890123>23</p:leaf5678901234567890124></p:r>`,
	`<p:r xmlns:p="u"><p:leaf56789012345678901234>24</p:leaf56789012345678901x34></p:r>`,
	`<p:r xmlns:p="u"><p:leaf56789012345678901x34>24</p:leaf56789012345678901x34><p:leaf5678901234567890124>23</p:leaf5678901234567890124></p:r>`,
	`<p:r xmlns:p="u"><p:leaf56789012345 >15</p:leaf56789012345><p:leaf56789012345/><p:leaf5678901234567890123/></p:r>`,
	`<p:r xmlns:p="u"><p:leaf5678901234567>17</p:leaf5678901234568></p:r>`,
	`<p:r xmlns:p="u"><p:leaf>a&amp;b</p:leaf><p:leaf>a` + "\r\n" + `b</p:leaf><p:leaf>a<!--x-->b</p:leaf><p:leaf><![CDATA[<x>]]></p:leaf></p:r>`,
	`<p:r xmlns:p="u"><p:leaf>a<p:b/></p:leaf></p:r>`,
	`<p:r xmlns:p="u"><p:leaf>a</p:leaf ><p:leaf>b</p:leafx></p:r>`,
	`<p:r xmlns:p="u"><p:leaf>a</q:leaf></p:r>`,
	`<p:r xmlns:p="u"><p:leaf>a</leaf></p:r>`,
	`<p:r xmlns:p="u"><p:leaf>a</p:leaf>`,
	`<p:r xmlns:p="u"><p:leaf>a</p:leaf></p:r>`,
	`<p:r xmlns:p="u"><p:leaf>a</p:lea`,
	`<p:r xmlns:p="u"><p:leaf>` + strings.Repeat("a", 60),
	`<p:r xmlns:p="u"><p:leaf>` + strings.Repeat("a", 60) + `</p:leaf></p:r>`,
	`<p:r xmlns:p="u"><p:leaf>a&bogus;</p:leaf></p:r>`,
	`<p:r xmlns:p="u"><p:leaf>a<!DOCTYPE x></p:leaf></p:r>`,
	`<p:r xmlns:p="u"><p:leaf x="1">a</p:leaf><p:leaf xmlns:p="v">b</p:leaf><p:leaf/ ></p:r>`,
	`<p:r xmlns:p="u"><p:a><p:leaf>1</p:leaf><p:a><p:leaf>2</p:leaf></p:a></p:a></p:r>`,
	`<r><leaf>1</leaf><leaf5678>2</leaf5678><leaf/><a><leaf>3</leaf></a></r>`,
	`<abcde:r xmlns:abcde="u"><abcde:leaf>1</abcde:leaf><abcde:a/><abcde:cont5678></abcde:cont5678></abcde:r>`,
	`<abcdef:r xmlns:abcdef="u"><abcdef:leaf>1</abcdef:leaf><abcdef:a/></abcdef:r>`,
	`<abcdefgh:r xmlns:abcdefgh="u"><abcdefgh:leaf>1</abcdefgh:leaf><abcdefgh:a/></abcdefgh:r>`,
	`<abcdefghi:r xmlns:abcdefghi="u"><abcdefghi:leaf>1</abcdefghi:leaf><abcdefghi:a/></abcdefghi:r>`,
	// End tags of the current element: plain, long, spaced, wrong, after text.
	`<p:r xmlns:p="u"><p:container-of-the-long-name><p:leaf>1</p:leaf></p:container-of-the-long-name></p:r>`,
	`<p:r xmlns:p="u"><p:container-of-the-long-name><p:leaf>1</p:leaf></p:container-of-the-long-namf></p:r>`,
	`<p:r xmlns:p="u"><p:container-of-the-long-name></p:cxntainer-of-the-long-name></p:r>`,
	`<p:r xmlns:p="u"><p:cont5678><p:b></p:b ></p:cont5678><p:cont56789012345678><p:a/></p:cont56789012345678></p:r>`,
	`<p:r xmlns:p="u"><p:cont5678><p:b></p:bb></p:cont5678></p:r>`,
	`<p:r xmlns:p="u"><p:cont5678><p:b>x</p:b>y</p:cont5678></p:r>`,
	`<p:r xmlns:p="u"><p:cont56789012345678></p:cont56789012345679></p:r>`,
	`<p:r xmlns:p="u"><p:cont56789012345678></p:cont56789x12345678></p:r>`,
	`<p:r xmlns:p="u"><p:cont5678></p:cxnt5678></p:r>`,
	`<p:r xmlns:p="u"><p:cont5678></p:cont5679></p:r>`,
	`<p:r xmlns:p="u"><p:a></p:a>`,
	`<p:r xmlns:p="u"><p:a></p:a></p:r>  `,
}

// TestNextChildInAsNextChild: whatever the document, taking children by NextChildIn leaves the decoder
// exactly where NextChild and Text do, with the same namespaces, names, attributes and text, and the same
// errors.
func TestNextChildInAsNextChild(t *testing.T) {
	for _, doc := range nextChildInDocs {
		// Also away from the end of the document, where NextChildIn reads whole words.
		for _, doc := range []string{doc, doc + "<!--" + strings.Repeat(" ", 40) + "-->"} {
			for _, lim := range []Limits{{}, {MaxDepth: 3}, {MaxDepth: 2}} {
				want := trace([]byte(doc), lim, viaNextChild)
				got := trace([]byte(doc), lim, viaNextChildIn)
				assert.Equal(t, want, got, "%s (depth %d)", doc, lim.MaxDepth)
			}
		}
	}
}

// TestNextChildInFindsExpected: children written as expected are found by index, the others (attributes,
// another prefix or case, self-closing) are left to the caller (i is -1), and so are the ones before the
// hint.
func TestNextChildInFindsExpected(t *testing.T) {
	doc := `<p:r xmlns:p="u"><p:b></p:b><p:a></p:a><p:a>t</p:a><p:B></p:B><a></a><p:c x="1"></p:c><p:c></p:c><p:c/></p:r>` +
		`<!-- NextChildIn reads whole words of a name: near the end of the document it leaves the child to NextChild -->`
	for _, tt := range []struct {
		hint int
		want []int
	}{
		{0, []int{2, 0, 0, -1, -1, -1, 4, -1}},
		{2, []int{2, -1, -1, -1, -1, -1, 4, -1}},
		{-3, []int{2, 0, 0, -1, -1, -1, 4, -1}},
		{5, []int{-1, -1, -1, -1, -1, -1, -1, -1}},
	} {
		d := NewDecoder([]byte(doc), Limits{})
		require.NoError(t, d.Root())
		var got []int
		for {
			ok, i, _, err := d.NextChildIn(expected, tt.hint)
			require.NoError(t, err)
			if !ok {
				break
			}
			got = append(got, i)
			require.NoError(t, d.Skip())
		}
		assert.Equal(t, tt.want, got, "hint %d", tt.hint)
	}
}

// TestNextChildInReadsLeaves: an expected leaf comes back whole, its text with it, whichever way it is
// written, and the parent is current again; one written otherwise than <p:name> is the caller's to read.
func TestNextChildInReadsLeaves(t *testing.T) {
	doc := `<p:r xmlns:p="u"><p:leaf>plain</p:leaf><p:leaf></p:leaf><p:leaf/><p:leaf>a&amp;b</p:leaf>` +
		`<p:leaf567890123456789012345>long</p:leaf567890123456789012345><p:leaf >spaced</p:leaf ></p:r>`
	d := NewDecoder([]byte(doc), Limits{})
	require.NoError(t, d.Root())
	var got []string
	for {
		ok, i, text, err := d.NextChildIn(expected, 0)
		require.NoError(t, err)
		if !ok {
			break
		}
		if i < 0 {
			text, err = d.Text()
			require.NoError(t, err)
		}
		require.Equal(t, 1, d.Depth())
		got = append(got, fmt.Sprintf("%d %q", i, text))
	}
	assert.Equal(t, []string{`1 "plain"`, `1 ""`, `-1 ""`, `1 "a&b"`, `8 "long"`, `-1 "spaced"`}, got)
}

// TestNextChildInPlainText: which texts need unescaping is looked up, not scanned for each leaf; the
// answer holds wherever the reading goes, back to a saved position included.
func TestNextChildInPlainText(t *testing.T) {
	doc := `<p:r xmlns:p="u"><p:leaf>a</p:leaf><p:leaf>b&amp;c</p:leaf><p:leaf>d</p:leaf><p:leaf>e` + "\r\n" +
		`f</p:leaf><p:leaf>g</p:leaf><p:leaf>&#x68;</p:leaf><p:leaf>i</p:leaf></p:r>` + strings.Repeat(" ", 40)
	want := []string{"a", "b&c", "d", "e\nf", "g", "h", "i"}
	d := NewDecoder([]byte(doc), Limits{})
	require.NoError(t, d.Root())
	var s State
	d.SaveTo(&s)
	for range 3 {
		var got []string
		for {
			ok, i, text, err := d.NextChildIn(expected, 0)
			require.NoError(t, err)
			if !ok {
				break
			}
			require.Equal(t, 1, i)
			got = append(got, string(text))
		}
		assert.Equal(t, want, got)
		d.Restore(&s)
	}
}

// TestNewChild: the words of a name and its '>', as generated tables spell them.
func TestNewChild(t *testing.T) {
	c := NewChild("Iccid", true) // "Iccid>"
	assert.Equal(t, Child{Local: "Iccid", Word: [4]uint64{0x3e6469636349}, Mask: [4]uint64{0xFFFFFFFFFFFF}, Leaf: true}, c)
	c = NewChild("ProfileType", false) // "ProfileT", "ype>"
	assert.Equal(t, Child{Local: "ProfileType", Word: [4]uint64{0x54656c69666f7250, 0x3e657079}, Mask: [4]uint64{^uint64(0), 0xFFFFFFFF}}, c)
	c = NewChild("RemoteProvisioningVersion", false) // "RemotePr", "ovisioni", "ngVersio", "n>"
	assert.Equal(t, [4]uint64{0x725065746f6d6552, 0x696e6f697369766f, 0x6f6973726556676e, 0x3e6e}, c.Word)
	assert.Equal(t, [4]uint64{^uint64(0), ^uint64(0), ^uint64(0), 0xFFFF}, c.Mask)
	assert.Equal(t, ^uint64(0), NewChild("abcdefghijklmnopqrstuvwxyz01234", false).Mask[3]) // 31 bytes and '>'
	assert.Panics(t, func() { NewChild("", false) })
	assert.Panics(t, func() { NewChild("abcdefghijklmnopqrstuvwxyz012345", false) })
}

func FuzzNextChildIn(f *testing.F) {
	f.Add([]byte(`<p:r xmlns:p="u"><p:a><p:leaf>1</p:leaf></p:a><p:b/><p:c x="1"/></p:r>`))
	f.Add([]byte(`<r xmlns="u"><a><leaf>x</leaf></a><c/></r>`))
	f.Add([]byte(envelope))
	for _, doc := range nextChildInDocs {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, lim := range []Limits{{MaxDepth: 8}, {MaxDepth: 2}} {
			if want, got := trace(data, lim, viaNextChild), trace(data, lim, viaNextChildIn); want != got {
				t.Fatalf("NextChild:\n%s\nNextChildIn:\n%s", want, got)
			}
		}
	})
}

// TestNextChildInEndTags: an end tag that differs from its start tag in any byte, whatever the name's
// length, is refused as NextChild refuses it, and one that does not is taken.
func TestNextChildInEndTags(t *testing.T) {
	pad := "<!--" + strings.Repeat(" ", 40) + "-->"
	for m := 1; m <= 30; m++ {
		local := strings.Repeat("x", m)
		docs := []string{`<p:r xmlns:p="u"><p:` + local + `></p:` + local + `></p:r>` + pad}
		for k := range m {
			for _, c := range []string{"y", "o", "X"} {
				other := local[:k] + c + local[k+1:]
				docs = append(docs, `<p:r xmlns:p="u"><p:`+local+`></p:`+other+`></p:r>`+pad)
			}
		}
		for _, doc := range docs {
			want, got := trace([]byte(doc), Limits{}, viaNextChild), trace([]byte(doc), Limits{}, viaNextChildIn)
			require.Equal(t, want, got, doc)
		}
	}
}

// TestNextChildInReadsInPlace: plain children and their end tags are taken by the fast paths, not left
// to NextChild and Text (which the differential tests could not tell apart): a leaf read in place
// pushes no frame, so the stack's next slot keeps what was there.
func TestNextChildInReadsInPlace(t *testing.T) {
	for _, doc := range []string{
		`<p:r xmlns:p="u"><p:leaf>1</p:leaf><p:leaf></p:leaf><p:leaf567890123456789012345>x</p:leaf567890123456789012345></p:r>`,
		`<r><leaf>1</leaf><leaf5678>2</leaf5678></r>`,
		`<abcde:r xmlns:abcde="u"><abcde:leaf>1</abcde:leaf></abcde:r>`,
	} {
		d := NewDecoder([]byte(doc+strings.Repeat(" ", 40)), Limits{})
		require.NoError(t, d.Root())
		slot := &d.stack[:2][1]
		*slot = frame{start: -7}
		for {
			ok, i, _, err := d.NextChildIn(expected, 0)
			require.NoError(t, err)
			if !ok {
				break
			}
			require.GreaterOrEqual(t, i, 0, doc)
			require.Equal(t, frame{start: -7}, *slot, "%s: leaf %d pushed", doc, i)
		}
		require.Equal(t, 0, d.Depth(), doc)
	}
}

// leafDocument is an element with n leaves p:leaf, one per line, lines ended by eol.
func leafDocument(n int, eol string) []byte {
	var b strings.Builder
	b.WriteString(`<p:r xmlns:p="u">`)
	for i := 0; i < n; i++ {
		b.WriteString(eol + "  <p:leaf>12345678901234567890</p:leaf>")
	}
	b.WriteString(eol + "</p:r>")
	return []byte(b.String())
}

// A document with a CR on every line and no '&' (as Windows peers indent) reads its leaves in place like
// any other, with the same texts.
func TestNextChildInLeavesOnCRLFLines(t *testing.T) {
	leaf := []Child{NewChild("leaf", true)}
	d := NewDecoder(leafDocument(100, "\r\n"), Limits{})
	require.NoError(t, d.Root())
	for n := 0; ; n++ {
		ok, i, text, err := d.NextChildIn(leaf, 0)
		require.NoError(t, err)
		if !ok {
			assert.Equal(t, 100, n)
			return
		}
		require.Equal(t, 0, i, "leaf %d found by name", n)
		require.Equal(t, "12345678901234567890", string(text))
	}
}

// BenchmarkNextChildInLineEnds reads documents of 1k and 16k leaves, lines ended by LF and by CRLF: the
// time per leaf must not grow with the document (it did with CRLF, every leaf's look-up of '&' searching
// to the document's end).
func BenchmarkNextChildInLineEnds(b *testing.B) {
	leaf := []Child{NewChild("leaf", true)}
	for _, eol := range []struct{ name, s string }{{"lf", "\n"}, {"crlf", "\r\n"}} {
		for _, n := range []int{1 << 10, 16 << 10} {
			data := leafDocument(n, eol.s)
			b.Run(eol.name+"/leaves="+strconv.Itoa(n), func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				var d Decoder
				for b.Loop() {
					d.Init(data, Limits{})
					if err := d.Root(); err != nil {
						b.Fatal(err)
					}
					for {
						ok, _, _, err := d.NextChildIn(leaf, 0)
						if err != nil {
							b.Fatal(err)
						}
						if !ok {
							break
						}
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/leaf")
			})
		}
	}
}

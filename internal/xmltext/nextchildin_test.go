package xmltext

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// trace walks a document the way generated decoders do and records every step: each element's depth,
// namespace and local name, its attributes, its text (a leaf's) and where the decoder stands after it.
// next chooses how children are advanced to, so that NextChild and NextChildIn can be compared.
func trace(data []byte, lim Limits, next func(d *Decoder, hint *int) (bool, error)) string {
	var b strings.Builder
	d := NewDecoder(data, lim)
	if err := d.Root(); err != nil {
		return "root: " + err.Error()
	}
	var visit func(hint *int) error
	visit = func(hint *int) error {
		for {
			ok, err := next(d, hint)
			if err != nil || !ok {
				fmt.Fprintf(&b, "end %d at %d\n", d.Depth(), d.Offset())
				return err
			}
			fmt.Fprintf(&b, "%d {%s}%s", d.Depth(), d.Space(), d.Local())
			for i := range d.attrs {
				a := &d.attrs[i]
				fmt.Fprintf(&b, " %s=%q", d.data[a.start:a.end], d.data[a.vstart:a.vend])
			}
			if d.LocalIs("leaf") {
				text, err := d.Text()
				fmt.Fprintf(&b, " text %q at %d\n", text, d.Offset())
				if err != nil {
					return err
				}
				continue
			}
			b.WriteString("\n")
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

var expected = []string{"a", "leaf", "b", "Leaf", "c"}

func viaNextChild(d *Decoder, _ *int) (bool, error) { return d.NextChild() }

func viaNextChildIn(d *Decoder, hint *int) (bool, error) {
	ok, i, err := d.NextChildIn(expected, *hint)
	if i >= 0 {
		*hint = i
	}
	return ok, err
}

// TestNextChildInAsNextChild: whatever the document, taking children by NextChildIn leaves the decoder
// exactly where NextChild does, with the same namespaces, names, attributes and text, and the same errors.
func TestNextChildInAsNextChild(t *testing.T) {
	docs := []string{
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
	}
	for _, doc := range docs {
		for _, lim := range []Limits{{}, {MaxDepth: 3}} {
			want := trace([]byte(doc), lim, viaNextChild)
			got := trace([]byte(doc), lim, viaNextChildIn)
			assert.Equal(t, want, got, "%s (depth %d)", doc, lim.MaxDepth)
		}
	}
}

// TestNextChildInFindsExpected: children written as expected are found by index, the others are left to
// the caller (i is -1), and so are the ones before the hint.
func TestNextChildInFindsExpected(t *testing.T) {
	doc := `<p:r xmlns:p="u"><p:b></p:b><p:a></p:a><p:a>t</p:a><p:B></p:B><a></a><p:c x="1"></p:c><p:c></p:c><p:c/></p:r>`
	for _, tt := range []struct {
		hint int
		want []int
	}{
		{0, []int{2, 0, 0, -1, -1, -1, 4, 4}},
		{2, []int{2, -1, -1, -1, -1, -1, 4, 4}},
		{-3, []int{2, 0, 0, -1, -1, -1, 4, 4}},
		{5, []int{-1, -1, -1, -1, -1, -1, -1, -1}},
	} {
		d := NewDecoder([]byte(doc), Limits{})
		require.NoError(t, d.Root())
		var got []int
		for {
			ok, i, err := d.NextChildIn(expected, tt.hint)
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

func FuzzNextChildIn(f *testing.F) {
	f.Add([]byte(`<p:r xmlns:p="u"><p:a><p:leaf>1</p:leaf></p:a><p:b/><p:c x="1"/></p:r>`))
	f.Add([]byte(`<r xmlns="u"><a><leaf>x</leaf></a><c/></r>`))
	f.Add([]byte(envelope))
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := Limits{MaxDepth: 8}
		if want, got := trace(data, lim, viaNextChild), trace(data, lim, viaNextChildIn); want != got {
			t.Fatalf("NextChild:\n%s\nNextChildIn:\n%s", want, got)
		}
	})
}

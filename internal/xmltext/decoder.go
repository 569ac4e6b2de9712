package xmltext

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// Error kinds, for errors.Is. Every error the Decoder returns is an *Error wrapping one of them.
var (
	ErrSyntax    = errors.New("malformed XML")
	ErrDoctype   = errors.New("DOCTYPE and entity declarations are not allowed")
	ErrDepth     = errors.New("document nested too deeply")
	ErrAttrs     = errors.New("too many attributes")
	ErrEncoding  = errors.New("invalid character or encoding")
	ErrEntity    = errors.New("undefined or invalid entity reference")
	ErrNamespace = errors.New("unbound namespace prefix")
	ErrStructure = errors.New("unexpected document structure")
)

// Error is a decoding failure at a byte offset of the document.
type Error struct {
	Offset int
	Kind   error // one of the Err* kinds above
	Detail string
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("xml: %v at offset %d", e.Kind, e.Offset)
	}
	return fmt.Sprintf("xml: %v at offset %d: %s", e.Kind, e.Offset, e.Detail)
}

func (e *Error) Unwrap() error { return e.Kind }

// Limits bound what a Decoder accepts. The document size is bounded by whoever reads it off the network.
type Limits struct {
	MaxDepth int // element nesting; default 64
	MaxAttrs int // attributes (namespace declarations included) on one element; default 64
}

const (
	defaultMaxDepth = 64
	defaultMaxAttrs = 64
	nsXML           = "http://www.w3.org/XML/1998/namespace"
)

// frame is an open element. Like attr, it holds offsets into the document rather than slices of it: pushing
// one then stores no pointers (so no write barriers), and SaveTo and Restore copy plain memory.
type frame struct {
	start, end int // the qname as written, data[start:end], for matching the end tag
	local      int // where the local name starts: past the prefix's colon, start without a prefix
	space      int // the namespace: an index in ns, or spaceNone or spaceXML
	nsMark     int // len(ns) before this element's declarations
}

// Values of frame.space that are not indexes in Decoder.ns.
const (
	spaceNone = -1 // in no namespace
	spaceXML  = -2 // the xml prefix's namespace, bound by definition
)

// noFrame stands for the current element when there is none. It is never written.
var noFrame = frame{space: spaceNone}

type binding struct {
	prefix []byte // empty for the default namespace
	uri    []byte
}

// attr is an attribute of the current element: its name is data[start:end], its local name data[local:end]
// (local is start without a prefix) and its raw value, still escaped, data[vstart:vend].
type attr struct {
	start, local, end int
	vstart, vend      int
}

// Decoder is a pull decoder over one complete document held in memory. It never reflects and, on documents
// without entity references, returns slices of the input instead of copies: what it returns is valid until
// the next call. String and Bytes make values that outlive that, from an arena of the Decoder's own.
type Decoder struct {
	data    []byte
	pos     int
	lim     Limits
	stack   []frame
	ns      []binding
	attrs   []attr
	empty   bool // the current element's start tag was self-closing and its end is not consumed yet
	scratch []byte
	checked bool

	// data[plainFrom:plainTo] holds no '&' or '\r', the bytes character data is unescaped for, and
	// data[plainTo] is one of them unless plainTo is len(data). NextChildIn looks a leaf's text up here
	// rather than scanning it for them: it depends on the document only, and is found again (as far as
	// the next such byte) only when a text is past it. ampAt and crAt are the first '&' and the first
	// '\r' at or after plainFrom (len(data) without one, -1 not yet looked for), kept apart so that each
	// search starts where the last one of its byte ended: a document with a CR on every line and no '&'
	// is then read in linear time, not searched to its end for '&' at every line.
	plainFrom, plainTo int
	ampAt, crAt        int

	// arena is the chunk String and Bytes carve values from: arena[len(arena):cap(arena)] is free, what
	// precedes it was handed out and is never written by the Decoder again. chunk is its size.
	arena []byte
	chunk int

	// Room for a SOAP envelope's usual nesting, namespace declarations, attributes and escaped text, so
	// that decoding one needs no allocation beyond the Decoder itself.
	stackBuf   [12]frame
	nsBuf      [12]binding
	attrBuf    [8]attr
	scratchBuf [256]byte
}

// NewDecoder returns a decoder over data. Zero fields of lim take the defaults.
func NewDecoder(data []byte, lim Limits) *Decoder {
	d := &Decoder{}
	d.Init(data, lim)
	return d
}

// Init makes the zero Decoder d, one that is part of a larger value, a decoder over data, as NewDecoder
// does: the value and the decoder then take one allocation. d must not be copied afterwards (its slices
// point into its own room).
func (d *Decoder) Init(data []byte, lim Limits) {
	d.stack, d.ns, d.attrs, d.scratch = d.stackBuf[:0], d.nsBuf[:0], d.attrBuf[:0], d.scratchBuf[:0]
	d.Reset(data, lim)
}

// Reset reuses d for another document, keeping its buffers.
func (d *Decoder) Reset(data []byte, lim Limits) {
	if lim.MaxDepth <= 0 {
		lim.MaxDepth = defaultMaxDepth
	}
	if lim.MaxAttrs <= 0 {
		lim.MaxAttrs = defaultMaxAttrs
	}
	d.data, d.pos, d.lim = data, 0, lim
	d.stack, d.ns, d.attrs = d.stack[:0], d.ns[:0], d.attrs[:0]
	d.empty, d.checked = false, false
	d.plainFrom, d.plainTo, d.ampAt, d.crAt = 0, 0, -1, -1
	// Values carved from the arena belong to whoever decoded them: the next document gets a new chunk.
	d.arena, d.chunk = nil, 0
}

// Arena chunk sizes, all powers of two (so that they fill their allocation's size class). A document's
// first chunk is an eighth of it, rounded up: character data is a fraction of a SOAP document, most of
// which is tags, and much of it becomes numbers, dates and enumeration constants, not arena bytes. (A
// sixteenth was too little for the usual EIS answer, whose values then took a second chunk: two
// allocations and 1.5 KiB instead of one of 1 KiB.) Later chunks double, up to arenaMax.
const (
	arenaMin = 128
	arenaMax = 16 << 10
)

// String returns b as a string that neither aliases the document nor changes when the Decoder moves on or
// is Reset: it is copied into memory the Decoder hands out once and never writes again. Decoding many small
// values this way costs an allocation per chunk of them rather than one per value; the flip side is that a
// string kept keeps its whole chunk (at most 16 KiB) alive.
func (d *Decoder) String(b []byte) string {
	n := len(b)
	if n == 0 {
		return ""
	}
	// alloc written out: leaf values come here by the dozen per document, and a call less shows.
	var p []byte
	if start := len(d.arena); n <= cap(d.arena)-start {
		d.arena = d.arena[:start+n]
		p = d.arena[start:]
	} else {
		p = d.allocChunk(n)
	}
	copy(p, b)
	return frozenString(p)
}

// Bytes returns n bytes for the caller to fill, nil when n is 0, carved from the same memory as String's
// values but not shared with any of them or with anything the Decoder returns later. Its capacity is n, so
// appending to it copies rather than writing over a neighbour.
func (d *Decoder) Bytes(n int) []byte {
	if n <= 0 {
		return nil
	}
	return d.alloc(n)
}

// alloc hands out n bytes of the arena, which nothing has used and the Decoder never writes again.
func (d *Decoder) alloc(n int) []byte {
	start := len(d.arena)
	if n > cap(d.arena)-start {
		return d.allocChunk(n)
	}
	d.arena = d.arena[:start+n]
	return d.arena[start : start+n : start+n]
}

// allocChunk is alloc when the chunk is full: it starts a new one, or gives a large value its own memory.
func (d *Decoder) allocChunk(n int) []byte {
	next := 2 * d.chunk
	if d.chunk == 0 {
		next = arenaMin
		for next < len(d.data)/8 && next < arenaMax {
			next *= 2
		}
	}
	next = min(next, arenaMax)
	if n > next/2 {
		// A large value gets an allocation of its own and leaves the chunk to small ones.
		return make([]byte, n)
	}
	d.chunk = next
	d.arena = make([]byte, n, next)
	return d.arena[:n:n]
}

// frozenString returns p as a string without copying it. This is the package's only use of unsafe, and
// sound only because p comes from alloc and was filled before the call: alloc never hands the same bytes out
// twice, Reset abandons the chunk instead of reusing it and nothing else in the package writes arena memory,
// so the string's bytes never change (TestStringsSurvive checks this).
func frozenString(p []byte) string { return unsafe.String(unsafe.SliceData(p), len(p)) }

func (d *Decoder) errf(kind error, format string, args ...any) error {
	return &Error{Offset: d.pos, Kind: kind, Detail: fmt.Sprintf(format, args...)}
}

// Root checks the whole document's characters, skips the prolog and positions d on the document element.
func (d *Decoder) Root() error {
	if !d.checked {
		if off, err := checkChars(d.data); err != nil {
			return &Error{Offset: off, Kind: ErrEncoding, Detail: err.Error()}
		}
		d.checked = true
	}
	d.pos = 0
	if bytes.HasPrefix(d.data, []byte{0xEF, 0xBB, 0xBF}) {
		d.pos = 3
	}
	if bytes.HasPrefix(d.data[d.pos:], []byte("<?xml")) && len(d.data) > d.pos+5 && isSpace(d.data[d.pos+5]) {
		end := indexDeclEnd(d.data[d.pos:])
		if end < 0 {
			return d.errf(ErrSyntax, "unterminated XML declaration")
		}
		decl := d.data[d.pos : d.pos+end]
		if err := checkDeclEncoding(decl); err != nil {
			return d.errf(ErrEncoding, "%v", err)
		}
		d.pos += end + 2
	}
	for {
		d.skipSpace()
		if d.pos >= len(d.data) {
			return d.errf(ErrStructure, "no root element")
		}
		if d.data[d.pos] != '<' {
			return d.errf(ErrSyntax, "text before the root element")
		}
		// A start tag, which skipMarkup would only have ruled out its markup prefixes for, is read
		// directly; the root's usually declares every namespace of the document, which startPlain takes.
		if d.pos+1 < len(d.data) {
			if c := d.data[d.pos+1]; c != '!' && c != '?' && c != '/' {
				if d.startPlain(d.pos) {
					return nil
				}
				return d.startElement()
			}
		}
		ok, err := d.skipMarkup()
		if err != nil {
			return err
		}
		if !ok {
			return d.startElement()
		}
	}
}

// indexDeclEnd is bytes.Index(s, "?>") for the end of an XML declaration: the first '>' after a '?', found
// by IndexByte, which a two-byte bytes.Index over the whole document costs several times.
func indexDeclEnd(s []byte) int {
	for i := 0; i < len(s); {
		gt := bytes.IndexByte(s[i:], '>')
		if gt < 0 {
			return -1
		}
		if i+gt > 0 && s[i+gt-1] == '?' {
			return i + gt - 1
		}
		i += gt + 1
	}
	return -1
}

// End checks that nothing but comments, processing instructions and white space follows the root element.
// Call it once the root element was consumed.
func (d *Decoder) End() error {
	if len(d.stack) != 0 {
		return d.errf(ErrStructure, "document element not fully read")
	}
	for {
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil
		}
		if d.data[d.pos] != '<' {
			return d.errf(ErrSyntax, "text after the root element")
		}
		ok, err := d.skipMarkup()
		if err != nil {
			return err
		}
		if !ok {
			return d.errf(ErrStructure, "second root element")
		}
	}
}

// Depth is the number of open elements: 1 on the root element.
func (d *Decoder) Depth() int { return len(d.stack) }

// Offset is the byte offset the decoder has reached.
func (d *Decoder) Offset() int { return d.pos }

func (d *Decoder) top() *frame {
	if len(d.stack) == 0 {
		return &noFrame
	}
	return &d.stack[len(d.stack)-1]
}

func (d *Decoder) qname(f *frame) []byte { return d.data[f.start:f.end] }

// uri is the namespace URI a frame's space stands for.
func (d *Decoder) uri(space int) []byte {
	switch {
	case space >= 0:
		return d.ns[space].uri
	case space == spaceXML:
		return []byte(nsXML)
	}
	return nil
}

// Local is the current element's local name.
func (d *Decoder) Local() []byte {
	f := d.top()
	return d.data[f.local:f.end]
}

// Space is the current element's namespace URI, empty when it has none.
func (d *Decoder) Space() []byte { return d.uri(d.top().space) }

// LocalIs reports whether the current element's local name equals name, ignoring ASCII case: real peers
// spell Smsr-id, CompletionTimestamp and friends in several casings.
func (d *Decoder) LocalIs(name string) bool { return EqualFold(d.Local(), name) }

// SpaceIs reports whether the current element is in namespace uri.
func (d *Decoder) SpaceIs(uri string) bool { return string(d.Space()) == uri }

// Attr returns the unescaped value of the current element's attribute space:local. Unprefixed attributes
// are in no namespace (space "").
func (d *Decoder) Attr(space, local string) ([]byte, bool) {
	for i := range d.attrs {
		a := &d.attrs[i]
		if string(d.data[a.local:a.end]) != local {
			continue
		}
		if a.local == a.start {
			if space != "" {
				continue
			}
		} else {
			uri, ok := d.LookupPrefix(d.data[a.start : a.local-1])
			if !ok || string(uri) != space {
				continue
			}
		}
		return d.unescapeAttr(d.data[a.vstart:a.vend]), true
	}
	return nil, false
}

// AttrAny returns the first attribute of the current element whose local name is local, in any namespace.
func (d *Decoder) AttrAny(local string) ([]byte, bool) {
	for i := range d.attrs {
		if a := &d.attrs[i]; string(d.data[a.local:a.end]) == local {
			return d.unescapeAttr(d.data[a.vstart:a.vend]), true
		}
	}
	return nil, false
}

// LookupPrefix resolves a namespace prefix in the current element's scope.
func (d *Decoder) LookupPrefix(prefix []byte) ([]byte, bool) {
	space, ok := d.lookup(prefix)
	return d.uri(space), ok
}

// lookup is LookupPrefix's answer as a frame's space.
func (d *Decoder) lookup(prefix []byte) (int, bool) {
	if len(prefix) == 3 && prefix[0] == 'x' && prefix[1] == 'm' && prefix[2] == 'l' {
		return spaceXML, true
	}
	// Prefixes are compared by length first, then byte by byte: they are a few bytes long, shorter than a
	// call to compare them.
next:
	for i := len(d.ns) - 1; i >= 0; i-- {
		b := d.ns[i].prefix
		if len(b) != len(prefix) {
			continue
		}
		for k := range b {
			if b[k] != prefix[k] {
				continue next
			}
		}
		if len(d.ns[i].uri) == 0 && len(prefix) != 0 {
			return spaceNone, false
		}
		return i, true
	}
	return spaceNone, len(prefix) == 0
}

func (d *Decoder) unescapeAttr(v []byte) []byte {
	if bytes.IndexByte(v, '&') < 0 {
		return v
	}
	// Unescaping only shrinks, so len(v) bytes of the arena hold the result; unlike scratch, they are not
	// reused, which namespace URIs (kept for the element's scope) need.
	out, err := appendUnescaped(d.alloc(len(v))[:0], v)
	if err != nil {
		return v
	}
	return out
}

// NextChild advances to the next child element of the current element and makes it current. It returns
// false, with the current element's end tag consumed and its parent current again, when there is none.
// Character data between child elements is ignored.
func (d *Decoder) NextChild() (bool, error) {
	if len(d.stack) == 0 {
		return false, d.errf(ErrStructure, "no current element")
	}
	if d.empty {
		d.empty = false
		d.pop()
		return false, nil
	}
	for {
		// Children mostly follow each other directly or after indentation: look there before searching.
		i := d.pos
		for i < len(d.data) && isSpace(d.data[i]) {
			i++
		}
		if i < len(d.data) && d.data[i] == '<' {
			d.pos = i
		} else if lt := bytes.IndexByte(d.data[i:], '<'); lt >= 0 {
			d.pos = i + lt
		} else {
			d.pos = len(d.data)
			return false, d.errf(ErrSyntax, "unexpected end of document inside <%s>", d.qname(d.top()))
		}
		if d.pos+1 < len(d.data) {
			switch d.data[d.pos+1] {
			case '/':
				return false, d.endElement()
			case '!', '?':
				// A comment, processing instruction or CDATA section (or an error): skipMarkup consumes
				// all of them, since only a start tag makes it return false.
				if _, err := d.skipMarkup(); err != nil {
					return false, err
				}
				continue
			}
		}
		return true, d.startElement()
	}
}

// Child is a child element a generated decoder expects, for NextChildIn. Generated code writes tables of
// them as literals (wsdl/internal/codecgen), so that matching a name costs a few word operations and no
// set-up; NewChild is what those literals must equal.
//
// The words hold the name followed by '>', the end of a plain start or end tag: <p:name> is then matched,
// its end included, by masked comparisons of two words, and of two more for a name of sixteen bytes or
// more. Names are at most 31 bytes long (the schema's longest is 26).
type Child struct {
	Local string    // the local name as the schema spells it; never empty
	Word  [4]uint64 // Local+">" as little-endian words, zero past its end
	Mask  [4]uint64 // 0xFF in each byte of Word that Local+">" fills
	Leaf  bool      // simple content: NextChildIn reads the child's text and end tag as well
}

// maxChildName is the longest local name a Child can hold, with its '>' four words.
const maxChildName = 31

// NewChild returns the Child that expects the local name local (leaf: with simple content). It panics if
// local is empty or longer than 31 bytes.
func NewChild(local string, leaf bool) Child {
	if local == "" || len(local) > maxChildName {
		panic(fmt.Sprintf("xmltext: NewChild(%q): the name must have 1 to %d bytes", local, maxChildName))
	}
	c := Child{Local: local, Leaf: leaf}
	s := local + ">"
	for k := 0; k < len(s); k++ {
		c.Word[k/8] |= uint64(s[k]) << (8 * (k % 8))
		c.Mask[k/8] |= 0xFF << (8 * (k % 8))
	}
	return c
}

// at reports whether data holds c's name then '>' at q. data[q:q+32] must exist.
func (c *Child) at(data []byte, q int) bool {
	w := data[q : q+32]
	return (binary.LittleEndian.Uint64(w[:8])^c.Word[0])&c.Mask[0]|(binary.LittleEndian.Uint64(w[8:16])^c.Word[1])&c.Mask[1]|
		(binary.LittleEndian.Uint64(w[16:24])^c.Word[2])&c.Mask[2]|(binary.LittleEndian.Uint64(w[24:])^c.Word[3])&c.Mask[3] == 0
}

// findChild returns the index of the first of children[j:] whose name then '>' data holds at q, or -1.
// data[q:q+32] must exist. It makes no call, so that NextChildIn has no loop to keep its values in memory
// around.
func findChild(children []Child, j int, data []byte, q int) int {
	w := data[q : q+32]
	w0, w1 := binary.LittleEndian.Uint64(w[:8]), binary.LittleEndian.Uint64(w[8:16])
	for ; j < len(children); j++ {
		c := &children[j]
		// Two words rule out nearly every other name; a long one is compared to its end.
		if (w0^c.Word[0])&c.Mask[0]|(w1^c.Word[1])&c.Mask[1] == 0 &&
			(c.Mask[2] == 0 || (binary.LittleEndian.Uint64(w[16:24])^c.Word[2])&c.Mask[2]|(binary.LittleEndian.Uint64(w[24:])^c.Word[3])&c.Mask[3] == 0) {
			return j
		}
	}
	return -1
}

// indexLT returns the index of the first '<' in data at or after t, or -1 if there is none in the words
// that follow t.
func indexLT(data []byte, t int) int {
	for s := t; s+8 <= len(data); s += 8 {
		if lt := zeros(binary.LittleEndian.Uint64(data[s:s+8]) ^ '<'*lsbs); lt != 0 {
			return s + firstFlagged(lt)
		}
	}
	return -1
}

// NextChildIn is NextChild for a caller that knows which children to expect: children are their local
// names in the order the schema gives them, and hint the index where the next one is likely to be (the
// last one found, so that a repeated child is found first). When the next child is one of children[hint:]
// written plainly, as <p:name> with p the current element's prefix (or as <name> when it has none) and
// nothing else in its start tag, it is taken without scanning or resolving its name and i is its index:
// such a child is necessarily in the current element's namespace. Otherwise the child is read as
// NextChild reads it and i is -1: the caller matches it by Local, which also takes the spellings (other
// case, other prefix, <p:name/>) peers vary.
//
// A child found whose Child is a Leaf is read whole: text is what Text returns for it, its end tag is
// consumed and the current element is the parent again, as after NextChild and Text (errors included).
// Plain text followed by the child's end tag written as </p:name> is taken in the same pass, with no frame
// pushed. Any other child found is the current element, exactly as NextChild would have left it; so is
// the end of the current element (ok false), which is matched in place when its end tag is plain.
// Generated decoders call it; most of a SOAP body is children in schema order.
func (d *Decoder) NextChildIn(children []Child, hint int) (ok bool, i int, text []byte, err error) {
	data, p, n := d.data, d.pos, len(d.stack)
	if n == 0 || n >= d.lim.MaxDepth || d.empty {
		return d.nextChildSlow()
	}
	if p < len(data) && data[p] != '<' {
		for p < len(data) && isSpace(data[p]) {
			p++
		}
	}
	// The fast paths read whole words: a start tag's '<', prefix and colon (at most six bytes) and
	// four words of name. Only the last end tags of a document are closer to its end.
	if p+39 > len(data) {
		return d.nextChildSlow()
	}
	tag := binary.LittleEndian.Uint64(data[p : p+8])
	f := &d.stack[n-1]
	start, plen := f.start, f.local-f.start // plen: the parent's prefix and colon, 0 without a prefix
	if tag&0xFFFF == '<'|'/'<<8 {
		// The current element's end tag, as its children's usually end: </qname>. A name of one to three
		// words is compared here, in words that overlap when it is not a multiple of eight long.
		if qn := f.end - start; p+2+qn < len(data) && data[p+2+qn] == '>' {
			a, b := p+2, start
			var same bool
			if qn >= 8 && qn <= 24 {
				// (^ and | bind alike in Go: each difference is taken on its own line.)
				x := binary.LittleEndian.Uint64(data[a:a+8]) ^ binary.LittleEndian.Uint64(data[b:b+8])
				x |= binary.LittleEndian.Uint64(data[a+qn-8:a+qn]) ^ binary.LittleEndian.Uint64(data[b+qn-8:b+qn])
				if qn > 16 {
					x |= binary.LittleEndian.Uint64(data[a+8:a+16]) ^ binary.LittleEndian.Uint64(data[b+8:b+16])
				}
				same = x == 0
			} else {
				same = equalAt(data, a, b, qn)
			}
			if same {
				d.pos = p + 3 + qn
				d.pop()
				return false, -1, nil, nil
			}
		}
		return d.nextChildSlow()
	}
	if plen > 6 {
		return d.nextChildSlow()
	}
	// '<' and the parent's prefix, compared as one word, masked to their length: shorter than a call.
	// (Kept in the frame instead, it took 16 bytes a frame, which put the Decoder and the soap.Message
	// it is part of over a 4 KiB allocation, for some 400 instructions a GetEIS answer.)
	pw := binary.LittleEndian.Uint64(data[start:start+8])<<8 | '<'
	open := uint64(1)<<((8+8*plen)&63) - 1
	if (tag^pw)&open != 0 {
		return d.nextChildSlow()
	}
	q := p + 1 + plen
	// Children mostly come in schema order: the one after the hint is tried first, without a call. Names
	// differ and end with '>', so the order candidates are tried in does not change which one matches.
	j := hint + 1
	if uint(j) >= uint(len(children)) || !children[j].at(data, q) {
		if j = findChild(children, max(hint, 0), data, q); j < 0 {
			return d.nextChildSlow()
		}
	}
	c := &children[j]
	t := q + len(c.Local) + 1 // past the '>'
	if !c.Leaf {
		d.pos = t
		d.attrs = d.attrs[:0]
		d.push(p+1, t-p-2, plen-1, f.space, len(d.ns), false)
		return true, j, nil, nil
	}
	// A leaf: plain text, then its end tag </p:name> written as the start tag was, is read in the same
	// pass, and nothing is pushed. "</" and the prefix are one word (the start tag's, its '<' moved up
	// and turned into '/'), the name is compared as in the start tag. Text with a reference or a line end, or markup other than that end tag, is left to Text.
	if s := indexLT(data, t); s >= 0 {
		if t < d.plainFrom || s > d.plainTo {
			d.findPlain(t)
		}
		if e := s + 2 + plen; s <= d.plainTo && e+32 <= len(data) &&
			(binary.LittleEndian.Uint64(data[s:s+8])^((pw<<8)^(('<'^'/')<<8)|'<'))&(open<<8|0xFF) == 0 && c.at(data, e) {
			d.pos = e + len(c.Local) + 1
			d.attrs = d.attrs[:0]
			if s == t {
				return true, j, nil, nil // Text's answer for no text
			}
			return true, j, data[t:s], nil
		}
	}
	return d.leafSlow(j, p, t, plen, f.space)
}

// findPlain sets plainFrom to t and plainTo to where the first '&' or '\r' at or after t is (len(data)
// without one). Each byte's position is searched for again only when t is past it (or before where it was
// searched from, after a Restore), and then only as far as its next occurrence.
func (d *Decoder) findPlain(t int) {
	if t < d.plainFrom {
		d.ampAt, d.crAt = -1, -1
	}
	if d.ampAt < t {
		d.ampAt = indexFrom(d.data, t, '&')
	}
	if d.crAt < t {
		d.crAt = indexFrom(d.data, t, '\r')
	}
	d.plainFrom, d.plainTo = t, min(d.ampAt, d.crAt)
}

// indexFrom is the index in data of the first c at or after t, or len(data).
func indexFrom(data []byte, t int, c byte) int {
	if n := bytes.IndexByte(data[t:], c); n >= 0 {
		return t + n
	}
	return len(data)
}

// nextChildSlow is NextChildIn for a child it leaves to the caller, or for the end of the current
// element when its end tag is not plain.
func (d *Decoder) nextChildSlow() (bool, int, []byte, error) {
	ok, err := d.NextChild()
	return ok, -1, nil, err
}

// leafSlow is NextChildIn for the leaf at index j whose start tag, <p:name> with a prefix and colon plen
// bytes long, is at p and ends just before t, when its content is not plain text followed by its end
// tag: Text reads it, on the element pushed as NextChild would have pushed it.
func (d *Decoder) leafSlow(j, p, t, plen, space int) (bool, int, []byte, error) {
	d.pos = t
	d.attrs = d.attrs[:0]
	d.push(p+1, t-p-2, plen-1, space, len(d.ns), false)
	text, err := d.Text()
	return true, j, text, err
}

// equalAt reports whether data[a:a+n] equals data[b:b+n], a word at a time. Both must be followed by at
// least max(8-n, 0) bytes of data: a name shorter than a word is compared as one, masked.
func equalAt(data []byte, a, b, n int) bool {
	if n < 8 {
		x := binary.LittleEndian.Uint64(data[a:a+8]) ^ binary.LittleEndian.Uint64(data[b:b+8])
		return x<<(64-8*n) == 0
	}
	for k := 0; k < n-8; k += 8 {
		if binary.LittleEndian.Uint64(data[a+k:a+k+8]) != binary.LittleEndian.Uint64(data[b+k:b+k+8]) {
			return false
		}
	}
	// The last word overlaps the one before when n is not a multiple of eight.
	return binary.LittleEndian.Uint64(data[a+n-8:a+n]) == binary.LittleEndian.Uint64(data[b+n-8:b+n])
}

// Text returns the current element's character data, entity references resolved, comments dropped, and
// consumes its end tag. A child element where text was expected is an ErrStructure error.
func (d *Decoder) Text() ([]byte, error) {
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
			sameBytes(d.data[at:end], d.data[f.start:f.end]) {
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
	if i < len(d.data) && d.data[i] != '<' {
		// The first pass stopped at a reference or a CR: what precedes it is plain, known without looking
		// at it again, and the stretch up to the next markup is unescaped from there.
		lt := bytes.IndexByte(d.data[i:], '<')
		if lt < 0 {
			d.pos = len(d.data)
			return nil, d.errf(ErrSyntax, "unexpected end of document inside <%s>", d.qname(d.top()))
		}
		var err error
		d.scratch = append(d.scratch[:0], d.data[d.pos:i]...)
		if d.scratch, err = appendUnescaped(d.scratch, d.data[i:i+lt]); err != nil {
			return nil, d.errf(ErrEntity, "%v", err)
		}
		copied, started = true, true
		d.pos = i + lt
	}
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

// Skip consumes the current element's subtree. It checks what makes the document well formed (tags that
// balance, quoted attribute values, terminated markup, the depth limit, no DOCTYPE) but, since nothing in
// the subtree is read, neither resolves namespaces nor builds attributes: the envelope reader skips every
// body once before it is decoded, and this keeps that pass cheap.
func (d *Decoder) Skip() error {
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
		if d.pos+1 < len(d.data) {
			switch d.data[d.pos+1] {
			case '/':
				if len(open) == 0 {
					return d.endElement()
				}
				if err := d.endTag(open[len(open)-1]); err != nil {
					return err
				}
				open = open[:len(open)-1]
				continue
			case '!', '?':
				// A comment, processing instruction or CDATA section (or an error): skipMarkup consumes
				// all of them. A start tag, the usual case, is not put through its prefix tests.
				if _, err := d.skipMarkup(); err != nil {
					return err
				}
				continue
			}
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

// skipTagRest moves past the rest of a start tag (attributes included, quoted values honoured) and reports
// whether it was self-closing.
func (d *Decoder) skipTagRest(name []byte) (bool, error) {
	for d.pos < len(d.data) {
		switch c := d.data[d.pos]; c {
		case '"', '\'':
			end := bytes.IndexByte(d.data[d.pos+1:], c)
			if end < 0 {
				return false, d.errf(ErrSyntax, "unterminated attribute value in <%s>", name)
			}
			if bytes.IndexByte(d.data[d.pos+1:d.pos+1+end], '<') >= 0 {
				return false, d.errf(ErrSyntax, "< in an attribute value of <%s>", name)
			}
			d.pos += end + 2
		case '>':
			d.pos++
			return false, nil
		case '/':
			if d.pos+1 < len(d.data) && d.data[d.pos+1] == '>' {
				d.pos += 2
				return true, nil
			}
			return false, d.errf(ErrSyntax, "expected /> in <%s>", name)
		case '<':
			return false, d.errf(ErrSyntax, "unterminated start tag <%s>", name)
		default:
			d.pos++
		}
	}
	return false, d.errf(ErrSyntax, "unterminated start tag <%s>", name)
}

// InnerXML returns the current element's content as written, and consumes its end tag.
func (d *Decoder) InnerXML() ([]byte, error) {
	if d.empty {
		d.empty = false
		d.pop()
		return nil, nil
	}
	start := d.pos
	if err := d.Skip(); err != nil {
		return nil, err
	}
	// The end tag Skip consumed is the last thing before d.pos, and nothing in it after its '<' is a '<'.
	// (bytes.LastIndex with "</" hashes its way back, several times dearer than this byte search.)
	end := bytes.LastIndexByte(d.data[start:d.pos], '<')
	return d.data[start : start+end], nil
}

// State is a saved decoder position. Keep it where it was saved to (SaveTo fills it in place, using room
// inside it for shallow positions); do not copy a filled State.
type State struct {
	pos      int
	empty    bool
	stack    []frame
	ns       []binding
	attrs    []attr
	stackBuf [4]frame
	nsBuf    [8]binding
	attrBuf  [4]attr
}

// SaveTo records the current position in s so that Restore can read from it again. For a position a few
// levels deep (the body of a SOAP envelope) it does not allocate.
func (d *Decoder) SaveTo(s *State) {
	s.pos, s.empty = d.pos, d.empty
	s.stack = append(s.stackBuf[:0], d.stack...)
	s.ns = append(s.nsBuf[:0], d.ns...)
	s.attrs = append(s.attrBuf[:0], d.attrs...)
}

// Restore returns to a position recorded by SaveTo on the same document.
func (d *Decoder) Restore(s *State) {
	d.pos, d.empty = s.pos, s.empty
	d.stack = append(d.stack[:0], s.stack...)
	d.ns = append(d.ns[:0], s.ns...)
	d.attrs = append(d.attrs[:0], s.attrs...)
}

func (d *Decoder) pop() {
	n := len(d.stack) - 1
	d.ns = d.ns[:d.stack[n].nsMark]
	d.stack = d.stack[:n]
}

// textStop marks the bytes that end Text's first pass: '<', and what needs unescaping.
var textStop = [256]uint8{'<': 1, '&': 1, '\r': 1}

// plain reports whether character data needs no unescaping: no reference, no carriage return. Text is
// mostly short, where a loop beats two calls to IndexByte.
func plain(s []byte) bool {
	if len(s) > 32 {
		return bytes.IndexByte(s, '&') < 0 && bytes.IndexByte(s, '\r') < 0
	}
	for _, c := range s {
		if c == '&' || c == '\r' {
			return false
		}
	}
	return true
}

func (d *Decoder) skipSpace() {
	for d.pos < len(d.data) && isSpace(d.data[d.pos]) {
		d.pos++
	}
}

// skipMarkup consumes a comment, processing instruction or CDATA section at d.pos (which holds '<'). It
// returns false, consuming nothing, when a start tag is there instead.
func (d *Decoder) skipMarkup() (bool, error) {
	rest := d.data[d.pos:]
	switch {
	case bytes.HasPrefix(rest, []byte("<!--")):
		end := bytes.Index(rest[4:], []byte("-->"))
		if end < 0 {
			return false, d.errf(ErrSyntax, "unterminated comment")
		}
		d.pos += 4 + end + 3
		return true, nil
	case bytes.HasPrefix(rest, []byte("<?")):
		end := bytes.Index(rest, []byte("?>"))
		if end < 0 {
			return false, d.errf(ErrSyntax, "unterminated processing instruction")
		}
		d.pos += end + 2
		return true, nil
	case bytes.HasPrefix(rest, []byte("<![CDATA[")):
		end := bytes.Index(rest, []byte("]]>"))
		if end < 0 {
			return false, d.errf(ErrSyntax, "unterminated CDATA section")
		}
		d.pos += end + 3
		return true, nil
	case bytes.HasPrefix(rest, []byte("<!")):
		if bytes.HasPrefix(rest, []byte("<!DOCTYPE")) || bytes.HasPrefix(rest, []byte("<!ENTITY")) {
			return false, d.errf(ErrDoctype, "")
		}
		return false, d.errf(ErrSyntax, "unexpected markup declaration")
	case bytes.HasPrefix(rest, []byte("</")):
		return false, d.errf(ErrSyntax, "unexpected end tag")
	}
	return false, nil
}

// startElement parses the start tag at d.pos and pushes it.
func (d *Decoder) startElement() error {
	if len(d.stack) >= d.lim.MaxDepth {
		return d.errf(ErrDepth, "more than %d levels", d.lim.MaxDepth)
	}
	d.pos++ // '<'
	start := d.pos
	qname, colon := d.scanName()
	if len(qname) == 0 {
		return d.errf(ErrSyntax, "element name expected")
	}
	nsMark := len(d.ns)
	d.attrs = d.attrs[:0]
	empty := false
	if d.pos < len(d.data) && d.data[d.pos] == '>' {
		// No attributes, no white space: most start tags of a SOAP document.
		d.pos++
		space, err := d.resolve(start, len(qname), colon, nsMark)
		if err != nil {
			return err
		}
		d.push(start, len(qname), colon, space, nsMark, false)
		return nil
	}
	for {
		hadSpace := d.pos < len(d.data) && isSpace(d.data[d.pos])
		d.skipSpace()
		if d.pos >= len(d.data) {
			return d.errf(ErrSyntax, "unterminated start tag <%s>", qname)
		}
		c := d.data[d.pos]
		if c == '>' {
			d.pos++
			break
		}
		if c == '/' {
			if d.pos+1 >= len(d.data) || d.data[d.pos+1] != '>' {
				return d.errf(ErrSyntax, "expected /> in <%s>", qname)
			}
			d.pos += 2
			empty = true
			break
		}
		if !hadSpace {
			return d.errf(ErrSyntax, "white space expected before attribute in <%s>", qname)
		}
		if len(d.attrs) >= d.lim.MaxAttrs {
			return d.errf(ErrAttrs, "more than %d on <%s>", d.lim.MaxAttrs, qname)
		}
		a := attr{start: d.pos, local: d.pos}
		name, acolon := d.scanName()
		if len(name) == 0 {
			return d.errf(ErrSyntax, "attribute name expected in <%s>", qname)
		}
		a.end = d.pos
		if acolon > 0 {
			a.local += acolon + 1
		}
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != '=' {
			return d.errf(ErrSyntax, "= expected after attribute %s", name)
		}
		d.pos++
		d.skipSpace()
		if d.pos >= len(d.data) || (d.data[d.pos] != '"' && d.data[d.pos] != '\'') {
			return d.errf(ErrSyntax, "quoted value expected for attribute %s", name)
		}
		q := d.data[d.pos]
		end := bytes.IndexByte(d.data[d.pos+1:], q)
		if end < 0 {
			return d.errf(ErrSyntax, "unterminated value of attribute %s", name)
		}
		a.vstart, a.vend = d.pos+1, d.pos+1+end
		value := d.data[a.vstart:a.vend]
		if bytes.IndexByte(value, '<') >= 0 {
			return d.errf(ErrSyntax, "< in the value of attribute %s", name)
		}
		d.pos += end + 2
		prefix, local := splitQName(name, acolon)
		for i := range d.attrs {
			b := &d.attrs[i]
			if bl := d.data[b.local:b.end]; len(bl) == len(local) && shortEqual(bl, local) && string(d.attrPrefix(b)) == string(prefix) {
				return d.errf(ErrSyntax, "duplicate attribute %s", name)
			}
		}
		switch {
		case len(prefix) == 0 && string(local) == "xmlns":
			d.ns = append(d.ns, binding{uri: d.unescapeAttr(value)})
		case string(prefix) == "xmlns":
			d.ns = append(d.ns, binding{prefix: local, uri: d.unescapeAttr(value)})
		}
		d.attrs = append(d.attrs, a)
	}
	space, err := d.resolve(start, len(qname), colon, nsMark)
	if err != nil {
		return err
	}
	for i := range d.attrs {
		if p := d.attrPrefix(&d.attrs[i]); len(p) != 0 && string(p) != "xmlns" {
			if _, ok := d.lookup(p); !ok {
				return d.errf(ErrNamespace, "prefix %q of attribute %s", p, d.data[d.attrs[i].local:d.attrs[i].end])
			}
		}
	}
	d.push(start, len(qname), colon, space, nsMark, empty)
	return nil
}

// resolve returns the namespace (a frame's space) of the element whose qname is data[start:start+n], its
// first colon at offset colon (-1 without one). nsMark is len(d.ns) before the element's own declarations.
func (d *Decoder) resolve(start, n, colon, nsMark int) (int, error) {
	plen := max(colon, 0)
	var space int
	if depth := len(d.stack); depth > 0 && len(d.ns) == nsMark && d.parentPrefix(&d.stack[depth-1], start, plen) {
		// Nothing declared here, and the parent's prefix: the parent's namespace, which the parent
		// resolved in the same scope.
		space = d.stack[depth-1].space
	} else {
		prefix := d.data[start : start+plen]
		var ok bool
		if space, ok = d.lookup(prefix); !ok {
			return 0, d.errf(ErrNamespace, "prefix %q of <%s>", prefix, d.data[start:start+n])
		}
	}
	return space, nil
}

// push makes the element data[start:start+n] (see resolve) the current one, in namespace space.
func (d *Decoder) push(start, n, colon, space, nsMark int, empty bool) {
	local := start
	if colon > 0 {
		local += colon + 1
	}
	// Fields stored one by one into the new slot: a frame literal is built on the stack and copied over
	// with wide loads that wait on the narrow stores just made.
	depth := len(d.stack)
	if depth == cap(d.stack) {
		d.stack = append(d.stack, frame{})
	} else {
		d.stack = d.stack[:depth+1]
	}
	f := &d.stack[depth]
	f.start, f.end, f.local, f.space, f.nsMark = start, start+n, local, space, nsMark
	d.empty = empty
}

// parentPrefix reports whether the prefix data[start:start+plen] (empty when plen is 0) is the one of
// frame p, compared where both are written: prefixes are short, shorter than a call to compare them.
func (d *Decoder) parentPrefix(p *frame, start, plen int) bool {
	pstart := p.start
	if p.local-pstart-1 != plen && !(plen == 0 && p.local == pstart) {
		return false
	}
	if plen == 0 {
		return true
	}
	a := d.data[start : start+plen]
	b := d.data[pstart : pstart+plen]
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// attrPrefix is a's namespace prefix, empty without one.
func (d *Decoder) attrPrefix(a *attr) []byte { return d.data[a.start:max(a.local-1, a.start)] }

// endElement consumes the end tag at d.pos, which must close the current element.
func (d *Decoder) endElement() error {
	f := d.top()
	// </name> with nothing before its '>', as Text's fast path matches it; anything else is endTag's.
	if at, end := d.pos+2, d.pos+2+f.end-f.start; end < len(d.data) && d.data[end] == '>' &&
		sameBytes(d.data[at:end], d.data[f.start:f.end]) {
		d.pos = end + 1
		d.pop()
		return nil
	}
	if err := d.endTag(d.qname(f)); err != nil {
		return err
	}
	d.pop()
	return nil
}

// endTag consumes the end tag at d.pos, which must be </want>. The name is compared where it is written
// rather than scanned first: it must be followed by a byte that ends names, so that </ab> does not close
// <a>.
func (d *Decoder) endTag(want []byte) error {
	d.pos += 2 // "</"
	end := d.pos + len(want)
	if end > len(d.data) || !sameBytes(d.data[d.pos:end], want) ||
		(end < len(d.data) && nameTable[d.data[end]] != nameStop) {
		name, _ := d.scanName()
		return d.errf(ErrSyntax, "end tag </%s> does not match <%s>", name, want)
	}
	d.pos = end
	if end < len(d.data) && d.data[end] == '>' {
		d.pos++
		return nil
	}
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != '>' {
		return d.errf(ErrSyntax, "> expected in end tag </%s>", want)
	}
	d.pos++
	return nil
}

// shortEqual reports whether a and b, of the same length, are equal: names and prefixes a few bytes
// long are compared here rather than in a call.
func shortEqual(a, b []byte) bool {
	if len(a) > 8 {
		return string(a) == string(b)
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// sameBytes reports whether a and b, of the same length, are equal. Names of one to two words, as most
// are, are compared in two words that overlap: shorter than a call to compare them.
func sameBytes(a, b []byte) bool {
	n := len(a)
	if n < 8 || n > 16 || len(b) != n {
		return string(a) == string(b)
	}
	return (binary.LittleEndian.Uint64(a[:8])^binary.LittleEndian.Uint64(b[:8]))|
		(binary.LittleEndian.Uint64(a[n-8:])^binary.LittleEndian.Uint64(b[n-8:])) == 0
}

// Byte classes of nameTable.
const (
	nameByte  = 0 // part of a name
	nameStop  = 1 // ends a name
	nameColon = 2 // ':', part of a name
)

// nameTable classifies bytes for scanName: a lookup per byte instead of a switch.
var nameTable = [256]uint8{
	' ': nameStop, '\t': nameStop, '\n': nameStop, '\r': nameStop, '>': nameStop, '/': nameStop, '=': nameStop,
	'<': nameStop, '"': nameStop, '\'': nameStop, '?': nameStop, '!': nameStop, '&': nameStop,
	':': nameColon,
}

// scanName consumes a name at d.pos and returns it with the offset of its first colon, -1 if it has none.
// It goes a word at a time (see scan.go), flagging every byte below '0' and every byte from '8' to '?':
// all bytes that end a name are among them, and so is ':', while letters, most digits and UTF-8 pass
// unflagged. Only a flagged byte ('-', '.', '8', '9' and the like included) is looked up in nameTable.
func (d *Decoder) scanName() ([]byte, int) {
	data, start, colon := d.data, d.pos, -1
	i := start
	for {
		if i+8 <= len(data) {
			w := binary.LittleEndian.Uint64(data[i : i+8])
			t := (w-'0'*lsbs)&^w&msbs | zeros(w&0xF8F8F8F8F8F8F8F8^'8'*lsbs)
			if t == 0 {
				i += 8
				continue
			}
			i += firstFlagged(t)
		} else if i >= len(data) {
			break
		}
		c := nameTable[data[i]]
		if c == nameStop {
			break
		}
		if c == nameColon && colon < 0 {
			colon = i - start
		}
		i++
	}
	d.pos = i
	return data[start:i], colon
}

// splitQName splits a name scanned with its first colon at offset colon. A name starting with a colon has
// no prefix.
func splitQName(name []byte, colon int) (prefix, local []byte) {
	if colon > 0 {
		return name[:colon], name[colon+1:]
	}
	return nil, name
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// EqualFold reports whether b equals s ignoring ASCII case: how element names are matched (LocalIs), and
// what generated code and function tables use to match them the same way.
func EqualFold[B []byte | string](b B, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func checkDeclEncoding(decl []byte) error {
	i := bytes.Index(decl, []byte("encoding"))
	if i < 0 {
		return nil
	}
	rest := decl[i+len("encoding"):]
	for len(rest) > 0 && (isSpace(rest[0]) || rest[0] == '=') { // bytes.TrimLeft(rest, " \t\r\n="), without its set
		rest = rest[1:]
	}
	if len(rest) == 0 {
		return errors.New("empty encoding in XML declaration")
	}
	q := rest[0]
	end := bytes.IndexByte(rest[1:], q)
	if end < 0 {
		return errors.New("unterminated encoding in XML declaration")
	}
	enc := rest[1 : 1+end]
	if EqualFold(enc, "utf-8") || EqualFold(enc, "utf8") || EqualFold(enc, "us-ascii") {
		return nil
	}
	return fmt.Errorf("encoding %q is not supported, only UTF-8", enc)
}

// checkChars verifies that data is UTF-8 made only of characters XML 1.0 allows: 64 bytes a step while
// they are printable ASCII, as nearly all of a SOAP document is, and a word a step through ASCII with
// line ends and tabs.
func checkChars(data []byte) (int, error) {
	// A word w of ASCII (w&hi == 0) holds a byte below 0x20 exactly when (w-lo)&hi != 0: the subtraction
	// borrows from the high bit of the lowest such byte (a borrow can only wrongly flag bytes above it).
	const hi, lo = 0x8080808080808080, 0x2020202020202020
	i := 0
	for i < len(data) {
		for ; i+64 <= len(data); i += 64 {
			b := data[i : i+64 : i+64] // one bounds check for the eight loads
			w0, w1 := binary.LittleEndian.Uint64(b[0:8]), binary.LittleEndian.Uint64(b[8:16])
			w2, w3 := binary.LittleEndian.Uint64(b[16:24]), binary.LittleEndian.Uint64(b[24:32])
			w4, w5 := binary.LittleEndian.Uint64(b[32:40]), binary.LittleEndian.Uint64(b[40:48])
			w6, w7 := binary.LittleEndian.Uint64(b[48:56]), binary.LittleEndian.Uint64(b[56:64])
			if (w0|w1|w2|w3|w4|w5|w6|w7|
				(w0-lo)|(w1-lo)|(w2-lo)|(w3-lo)|(w4-lo)|(w5-lo)|(w6-lo)|(w7-lo))&hi != 0 {
				break
			}
		}
		// The block (at most 64 bytes) that held something else, a word or a character at a time; then
		// blocks again.
		for end := min(i+64, len(data)); i < end; {
			if i+8 <= len(data) {
				if w := binary.LittleEndian.Uint64(data[i:]); w&hi == 0 {
					if (w-lo)&hi != 0 { // tabs, line ends or worse
						if bad := controls(w); bad != 0 {
							k := i + bits.TrailingZeros64(bad)>>3
							return k, fmt.Errorf("control character %#02x", data[k])
						}
					}
					i += 8
					continue
				}
			}
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
	}
	return 0, nil
}

// controls flags, with the high bit of each, the bytes of the ASCII word w (every byte below 0x80) that
// are control characters other than tab, line feed and carriage return. Exact for every byte: with no
// byte above 0x7F, none of the additions carries into the next byte.
func controls(w uint64) uint64 {
	const (
		lsbs = 0x0101010101010101
		msbs = 0x8080808080808080
	)
	below := ^(w + 0x60*lsbs) // high bit: the byte is below 0x20
	// y+0x7F has its high bit clear only where y is zero, that is, where w holds the byte.
	tab := ^((w ^ '\t'*lsbs) + 0x7F*lsbs)
	lf := ^((w ^ '\n'*lsbs) + 0x7F*lsbs)
	cr := ^((w ^ '\r'*lsbs) + 0x7F*lsbs)
	return below &^ (tab | lf | cr) & msbs
}

// appendUnescaped appends s with entity and character references resolved and line ends normalised.
func appendUnescaped(dst, s []byte) ([]byte, error) {
	// Values with a reference are mostly long ones, URLs with &amp; in their query, and hardly ever hold a
	// '\r'. Without one, the references are found by bytes.IndexByte, which is vectorised, instead of a
	// word at a time for both bytes. s only loses its front, so what holds for all of it holds throughout.
	noCR := bytes.IndexByte(s, '\r') < 0
	for len(s) > 0 {
		var i int
		if noCR {
			i = bytes.IndexByte(s, '&')
		} else {
			i = indexRefOrCR(s)
		}
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

func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}

// AppendText appends the current element's character data to dst, as Text returns it, and consumes its
// end tag. Text with references is unescaped straight into dst instead of into the Decoder's scratch, for
// a caller that keeps the value in a buffer of its own (the envelope reader's header values, URLs with
// &amp; in their query): one copy instead of two. On failure dst is returned as it was, with Text's error.
func (d *Decoder) AppendText(dst []byte) ([]byte, error) {
	if len(d.stack) != 0 && !d.empty {
		// Character data then the end tag, as nearly every leaf is written: anything else (comments,
		// CDATA, a child element, a malformed reference) is Text's.
		rest := d.data[d.pos:]
		if lt := bytes.IndexByte(rest, '<'); lt >= 0 && lt+1 < len(rest) && rest[lt+1] == '/' {
			if out, err := appendText(dst, rest[:lt]); err == nil {
				d.pos += lt
				if err := d.endElement(); err != nil {
					return dst, err
				}
				return out, nil
			}
		}
	}
	text, err := d.Text()
	return append(dst, text...), err
}

// appendText is appendUnescaped for AppendText: &amp;, the reference of URLs with a query, is replaced
// where it is found, without looking for the ';' and matching the name; any other reference, or a '\r',
// leaves the rest to appendUnescaped.
func appendText(dst, s []byte) ([]byte, error) {
	if bytes.IndexByte(s, '\r') >= 0 {
		return appendUnescaped(dst, s)
	}
	for {
		i := bytes.IndexByte(s, '&')
		if i < 0 {
			return append(dst, s...), nil
		}
		if i+5 > len(s) || s[i+1] != 'a' || s[i+2] != 'm' || s[i+3] != 'p' || s[i+4] != ';' {
			return appendUnescaped(dst, s)
		}
		dst = append(dst, s[:i+1]...) // up to the '&' it stands for
		s = s[i+5:]
	}
}

// NextChildPlain is NextChild, with the same outcome on every document, for children whose start tags are
// mostly plain: a name, then attributes each after one space and written name="value" or name='value',
// then '>' or "/>". Such a tag is read in one pass; any other is left to NextChild's own reading. A SOAP
// header's children are like this (<wsa:To env:mustUnderstand="true">), in another prefix than their
// parent's, which NextChildIn does not take.
func (d *Decoder) NextChildPlain() (bool, error) {
	if len(d.stack) == 0 || d.empty {
		return d.NextChild()
	}
	data, p := d.data, d.pos
	for p < len(data) && isSpace(data[p]) {
		p++
	}
	if p+1 >= len(data) || data[p] != '<' {
		return d.NextChild() // text first, or the end of the document
	}
	switch data[p+1] {
	case '/':
		d.pos = p
		return false, d.endElement()
	case '!', '?':
		return d.NextChild()
	}
	if d.startPlain(p) {
		return true, nil
	}
	d.pos = p
	return true, d.startElement()
}

// startPlain reads the start tag whose '<' is at p as startElement does, and pushes it, when the tag is
// plain (see NextChildPlain) and well formed, and its namespace declarations (if any) have no reference in
// their value. For any other tag it changes nothing the caller relies on and returns false: startElement
// then reads the tag, and refuses it when it is not well formed, with its own error.
func (d *Decoder) startPlain(p int) bool {
	data := d.data
	if len(d.stack) >= d.lim.MaxDepth {
		return false
	}
	start := p + 1
	i, colon := scanNameAt(data, start)
	n := i - start
	if n == 0 || i >= len(data) {
		return false
	}
	nsMark := len(d.ns)
	d.attrs = d.attrs[:0]
	empty := false
	for {
		if i >= len(data) {
			return d.unplain(nsMark)
		}
		c := data[i]
		if c == '>' {
			i++
			break
		}
		if c == '/' && i+1 < len(data) && data[i+1] == '>' {
			i += 2
			empty = true
			break
		}
		if c != ' ' || len(d.attrs) >= d.lim.MaxAttrs {
			return d.unplain(nsMark)
		}
		a := attr{start: i + 1, local: i + 1}
		j, acolon := scanNameAt(data, a.start)
		if j == a.start || j+1 >= len(data) || data[j] != '=' || (data[j+1] != '"' && data[j+1] != '\'') {
			return d.unplain(nsMark)
		}
		a.end = j
		if acolon > 0 {
			a.local += acolon + 1
		}
		a.vstart = j + 2
		k := bytes.IndexByte(data[a.vstart:], data[j+1])
		if k < 0 {
			return d.unplain(nsMark)
		}
		a.vend = a.vstart + k
		value := data[a.vstart:a.vend]
		if bytes.IndexByte(value, '<') >= 0 {
			return d.unplain(nsMark)
		}
		// Two attributes with the same prefix and local name are the same qname written twice.
		name := data[a.start:a.end]
		for b := range d.attrs {
			if string(data[d.attrs[b].start:d.attrs[b].end]) == string(name) {
				return d.unplain(nsMark)
			}
		}
		if prefix := data[a.start:max(a.local-1, a.start)]; string(prefix) == "xmlns" || (len(prefix) == 0 && string(name) == "xmlns") {
			if bytes.IndexByte(value, '&') >= 0 {
				return d.unplain(nsMark) // unescapeAttr would take arena room that startElement takes again
			}
			if len(prefix) == 0 {
				d.ns = append(d.ns, binding{uri: value})
			} else {
				d.ns = append(d.ns, binding{prefix: data[a.local:a.end], uri: value})
			}
		}
		d.attrs = append(d.attrs, a)
		i = a.vend + 1
	}
	space, ok := d.lookup(d.data[start : start+max(colon, 0)])
	if !ok {
		return d.unplain(nsMark)
	}
	for k := range d.attrs {
		a := &d.attrs[k]
		if plen := a.local - 1 - a.start; plen > 0 && string(data[a.start:a.local-1]) != "xmlns" {
			// The parent's prefix, with nothing declared here, is bound: the parent's was resolved in the
			// same scope (env:mustUnderstand on a header block).
			if depth := len(d.stack); depth > 0 && len(d.ns) == nsMark && d.parentPrefix(&d.stack[depth-1], a.start, plen) {
				continue
			}
			if _, ok := d.lookup(d.data[a.start : a.start+plen]); !ok {
				return d.unplain(nsMark)
			}
		}
	}
	d.pos = i
	d.push(start, n, colon, space, nsMark, empty)
	return true
}

// unplain undoes what startPlain did before it found a tag it leaves to startElement, and returns false.
func (d *Decoder) unplain(nsMark int) bool {
	d.ns = d.ns[:nsMark]
	d.attrs = d.attrs[:0]
	return false
}

// scanNameAt returns the end of the name at data[i:] and the offset of its first colon, -1 if it has
// none: scanName's answer, by the same words, without moving d.pos.
func scanNameAt(data []byte, i int) (end, colon int) {
	start := i
	colon = -1
	for {
		if i+8 <= len(data) {
			w := binary.LittleEndian.Uint64(data[i : i+8])
			t := (w-'0'*lsbs)&^w&msbs | zeros(w&0xF8F8F8F8F8F8F8F8^'8'*lsbs)
			if t == 0 {
				i += 8
				continue
			}
			i += firstFlagged(t)
		} else if i >= len(data) {
			return i, colon
		}
		c := nameTable[data[i]]
		if c == nameStop {
			return i, colon
		}
		if c == nameColon && colon < 0 {
			colon = i - start
		}
		i++
	}
}

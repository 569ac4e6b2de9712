package soap

import (
	"io"
	"slices"
	"sync"

	"github.com/esimgw/esimgw/internal/xmltext"
)

// messagePools recycle what reading a response takes (the Message, its decoder and the buffer holding the
// envelope), so that a steady stream of synchronous calls allocates little beyond the decoded values. A
// Client owns one; Message.Release refills it.
type messagePools struct {
	msgs, decs, bufs sync.Pool
}

// buffer returns an empty buffer for a response body.
func (p *messagePools) buffer() *[]byte {
	if bp, ok := p.bufs.Get().(*[]byte); ok {
		return bp
	}
	return new([]byte)
}

// read decodes the envelope in *bp into a pooled Message that owns bp from then on, its body into into
// when it is into's element (ReadMessageInto). On failure bp stays the caller's (to quote from, then to
// put back): errors copy what they quote.
func (p *messagePools) read(bp *[]byte, opts ReadOptions, into BodyReader) (*Message, error) {
	m, _ := p.msgs.Get().(*Message)
	if m == nil {
		m = &Message{}
	}
	d, _ := p.decs.Get().(*xmltext.Decoder)
	if d == nil {
		d = xmltext.NewDecoder(*bp, opts.Limits)
	} else {
		d.Reset(*bp, opts.Limits)
	}
	if err := m.read(d, *bp, into, nil); err != nil {
		*m = Message{}
		p.msgs.Put(m)
		p.decs.Put(d)
		return nil, err
	}
	m.recycle, m.buf = p, bp
	return m, nil
}

// Release hands the Message's memory (its envelope bytes, decoder and the Message itself) back to the
// Client that read it, for the next response. Call it only when nothing refers to the Message any more:
// after Release it must not be used, and what Raw and BodyXML returned is no longer valid. Values decoded
// from it with DecodeBody stay valid, since decoding copies, and so does a copy of its Header (strings
// and Security alike). A Message that is not released, or one ReadMessage or a Handler made, is simply
// left to the garbage collector.
func (m *Message) Release() {
	p := m.recycle
	if p == nil {
		return
	}
	d, bp := m.dec, m.buf
	strs := m.strs.buf[:0] // the strings made from it were copies: its room serves the next message
	*m = Message{}
	m.strs.buf = strs
	p.decs.Put(d)
	// A buffer grown by one unusually large envelope is not kept for every later small one.
	if cap(*bp) <= 256<<10 {
		*bp = (*bp)[:0]
		p.bufs.Put(bp)
	}
	p.msgs.Put(m)
}

// readInto appends all of r to dst, or fails with ErrTooLarge once more than max bytes arrive. size is
// the announced length (a Content-Length), -1 when unknown: dst grows once to hold it.
func readInto(dst []byte, r io.Reader, size, max int64) ([]byte, error) {
	tooLarge := func() error { return &EnvelopeError{Kind: ErrTooLarge, Detail: "over " + itoa(max) + " bytes"} }
	if size > max {
		return dst, tooLarge()
	}
	start := len(dst)
	if size > 0 {
		// +1: the read that sees EOF needs room. A declared size is grown to only up to firstRead
		// before its bytes arrive: a peer announcing megabytes does not get them allocated for nothing.
		dst = slices.Grow(dst, int(min(size, firstRead))+1)
	}
	for {
		if len(dst) == cap(dst) {
			dst = slices.Grow(dst, 512)
		}
		// Never read more than one byte past max: that byte is the proof of excess.
		end := cap(dst)
		if room := max + 1 - int64(len(dst)-start); room > 0 && room < int64(end-len(dst)) {
			end = len(dst) + int(room)
		}
		n, err := r.Read(dst[len(dst):end])
		dst = dst[:len(dst)+n]
		if int64(len(dst)-start) > max {
			return dst, tooLarge()
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

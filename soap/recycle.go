package soap

import (
	"io"
	"slices"
	"sync"

	"github.com/esimgw/esimgw/internal/xmltext"
)

// messagePools recycle what reading a response takes (the Message, its decoder and the buffer holding the
// envelope), so that a steady stream of synchronous calls allocates little beyond the decoded values. A
// Client owns one; Message.Release refills it. A pooled Message keeps its decoder and buffer between
// uses (dec, buf), so that one pool operation each way serves all three.
type messagePools struct {
	msgs sync.Pool
	// headers: the HTTPHeader maps of the Messages are the Client's own (its Transport's parse, or a
	// clone), kept with a pooled Message for the next answer's header. Off for a Client on someone
	// else's http.Client, whose maps may be kept there.
	headers bool
}

// get returns an empty Message with its buffer (empty, for the next response body) and, once it had one,
// its decoder.
func (p *messagePools) get() *Message {
	m, _ := p.msgs.Get().(*Message)
	if m == nil {
		m = &Message{}
	}
	if m.buf == nil {
		m.buf = new([]byte)
	}
	return m
}

// put empties m, which get returned and nothing refers to any more, and returns it to the pool with its
// decoder and buffer.
func (p *messagePools) put(m *Message) {
	d, bp, h := m.dec, m.buf, m.HTTPHeader
	strs := m.strs.buf[:0] // the strings made from it were copies: its room serves the next message
	*m = Message{}
	m.strs.buf = strs
	m.dec = d
	if p.headers && h != nil && len(h) <= 16 {
		m.HTTPHeader = h // emptied when it is lent for the next answer (parseHeadInto)
	}
	// A buffer grown by one unusually large envelope is not kept for every later small one.
	if bp != nil && cap(*bp) <= 256<<10 {
		*bp = (*bp)[:0]
		m.buf = bp
	}
	p.msgs.Put(m)
}

// read decodes the envelope in m's buffer into m, its body into into when it is into's element
// (ReadMessageInto); m then owns the buffer until Release. On failure m stays the caller's (to quote
// from its buffer, then to put back): errors copy what they quote.
func (p *messagePools) read(m *Message, opts ReadOptions, into BodyReader) error {
	data := *m.buf
	d := m.dec
	if d == nil {
		d = xmltext.NewDecoder(data, opts.Limits)
	} else {
		d.Reset(data, opts.Limits)
	}
	if err := m.read(d, data, into, nil); err != nil {
		m.dec = d
		return err
	}
	m.recycle = p
	return nil
}

// Release hands the Message's memory (its envelope bytes, decoder, HTTPHeader map and the Message itself)
// back to the Client that read it, for the next response. Call it only when nothing refers to the Message
// any more: after Release it must not be used, and what Raw and BodyXML returned and the HTTPHeader map
// are no longer valid (Clone the map to keep it). Values decoded
// from it with DecodeBody stay valid, since decoding copies, and so does a copy of its Header (strings
// and Security alike). A Message that is not released, or one ReadMessage or a Handler made, is simply
// left to the garbage collector.
func (m *Message) Release() {
	if p := m.recycle; p != nil {
		p.put(m)
	}
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

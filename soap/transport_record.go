package soap

import "net"

// recordConn is the TCP connection as the TLS layer reads it: no Read returns bytes past the end of the
// TLS record it is in. A tls.Conn keeps what a Read of its connection returned beyond the record it is
// decoding in a buffer nothing outside crypto/tls can see; with recordConn below it, that buffer is empty
// between records, and the bytes of a record the server sent unasked wait here (stash) or in the socket,
// where persistConn.quiet sees them without reading through the TLS layer, which takes a read deadline in
// the past and back on every reuse.
//
// It only frames (type, version, 16-bit length; RFC 8446 section 5.1): whatever the bytes are, they reach
// the TLS layer in their order and unchanged, which decides what they mean.
type recordConn struct {
	net.Conn
	left  int     // bytes of the current record's body not yet handed over
	hdr   [5]byte // the next record's header bytes seen so far
	hdrN  int
	stash []byte // read from the socket past the current record, handed over before the socket is read again
	room  []byte // the memory stash is in, kept for the next one
	err   error  // the socket read's error that came with the stash, returned once it is handed over
}

// recordHeaderLen is the size of a TLS record header.
const recordHeaderLen = 5

func (r *recordConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if len(r.stash) > 0 {
		k := r.take(r.stash[:min(len(p), len(r.stash))])
		copy(p, r.stash[:k])
		r.stash = r.stash[k:]
		if len(r.stash) > 0 {
			return k, nil
		}
		// All handed over: the next stash starts again at the front of the room, which is not given up
		// piece by piece (every answer of two records would allocate one).
		r.stash = r.room[:0]
		err := r.err
		r.err = nil
		return k, err
	}
	n, err := r.Conn.Read(p)
	k := r.take(p[:n])
	if k < n {
		r.room = append(r.room[:0], p[k:n]...)
		r.stash = r.room
		r.err = err
		return k, nil
	}
	return n, err
}

// take returns how many of b's first bytes belong to the record being handed over (the next one, at a
// record boundary), stopping at its end, and accounts for them.
func (r *recordConn) take(b []byte) int {
	i := 0
	for i < len(b) {
		if r.hdrN < recordHeaderLen {
			r.hdr[r.hdrN] = b[i]
			r.hdrN++
			i++
			if r.hdrN == recordHeaderLen {
				r.left = int(r.hdr[3])<<8 | int(r.hdr[4])
				if r.left == 0 {
					r.hdrN = 0
					return i
				}
			}
			continue
		}
		m := min(r.left, len(b)-i)
		i += m
		r.left -= m
		if r.left == 0 {
			r.hdrN = 0
			return i
		}
	}
	return i
}

// idle reports whether every byte read from the socket has been handed over and ended a record: nothing
// waits here, and the TLS layer holds no part of a record.
func (r *recordConn) idle() bool {
	return len(r.stash) == 0 && r.err == nil && r.hdrN == 0 && r.left == 0
}

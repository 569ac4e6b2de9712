package soap

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
)

// chunkConn returns its chunks, one per Read (cut to the room a Read has), then err.
type chunkConn struct {
	net.Conn
	chunks [][]byte
	err    error
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(c.chunks) == 0 {
		return 0, c.err
	}
	n := copy(p, c.chunks[0])
	if c.chunks[0] = c.chunks[0][n:]; len(c.chunks[0]) == 0 {
		c.chunks = c.chunks[1:]
	}
	return n, nil
}

func record(typ byte, body string) []byte {
	return append([]byte{typ, 3, 3, byte(len(body) >> 8), byte(len(body))}, body...)
}

// Every byte reaches the reader in order, and no Read returns bytes of two records, however the stream is
// cut into socket reads and however small the reader's room is.
func TestRecordConnNeverCrossesARecord(t *testing.T) {
	var stream []byte
	var ends []int // offsets where records end
	for _, body := range []string{"hello", "", "a longer record body, longer than the room", "x"} {
		stream = append(stream, record(23, body)...)
		ends = append(ends, len(stream))
	}
	for cut := 1; cut <= len(stream); cut++ {
		for _, room := range []int{1, 3, 5, 7, 64} {
			var chunks [][]byte
			for i := 0; i < len(stream); i += cut {
				chunks = append(chunks, bytes.Clone(stream[i:min(i+cut, len(stream))]))
			}
			r := &recordConn{Conn: &chunkConn{chunks: chunks, err: io.EOF}}
			var got []byte
			for {
				p := make([]byte, room)
				n, err := r.Read(p)
				start := len(got)
				got = append(got, p[:n]...)
				for _, e := range ends {
					if start < e && e < len(got) {
						t.Fatalf("cut %d room %d: a Read returned bytes %d..%d across the record end at %d", cut, room, start, len(got), e)
					}
				}
				if err != nil {
					if !errors.Is(err, io.EOF) {
						t.Fatal(err)
					}
					break
				}
			}
			if !bytes.Equal(got, stream) {
				t.Fatalf("cut %d room %d: got %q, want %q", cut, room, got, stream)
			}
			if !r.idle() {
				t.Fatalf("cut %d room %d: not idle after the last record", cut, room)
			}
		}
	}
}

// idle is false while any part of a record was read from the socket but not handed over, or handed
// over without its end.
func TestRecordConnIdle(t *testing.T) {
	two := append(record(23, "answer"), record(21, "al")...)
	r := &recordConn{Conn: &chunkConn{chunks: [][]byte{two}}}
	p := make([]byte, 64)
	n, err := r.Read(p)
	if err != nil || n != len(record(23, "answer")) {
		t.Fatalf("Read = %d, %v", n, err)
	}
	if r.idle() {
		t.Fatal("idle with the second record stashed")
	}
	if n, _ = r.Read(p); n != len(record(21, "al")) || !r.idle() {
		t.Fatalf("second Read = %d, idle %v", n, r.idle())
	}
	r = &recordConn{Conn: &chunkConn{chunks: [][]byte{two[:3]}}}
	if n, _ = r.Read(p); n != 3 || r.idle() {
		t.Fatalf("partial header: Read = %d, idle %v", n, r.idle())
	}
	r = &recordConn{Conn: &chunkConn{chunks: [][]byte{two[:8]}}}
	if n, _ = r.Read(p); n != 8 || r.idle() {
		t.Fatalf("partial body: Read = %d, idle %v", n, r.idle())
	}
}

// A socket error that comes with bytes past the record is returned once they are handed over.
func TestRecordConnKeepsTheErrorForAfterTheStash(t *testing.T) {
	two := append(record(23, "a"), record(23, "b")...)
	boom := errors.New("boom")
	r := &recordConn{Conn: &errOnLastConn{data: two, err: boom}}
	p := make([]byte, 64)
	if n, err := r.Read(p); n != 6 || err != nil {
		t.Fatalf("first Read = %d, %v", n, err)
	}
	if n, err := r.Read(p); n != 6 || err != boom {
		t.Fatalf("second Read = %d, %v", n, err)
	}
}

// errOnLastConn returns all its data in one Read, together with err.
type errOnLastConn struct {
	net.Conn
	data []byte
	err  error
}

func (c *errOnLastConn) Read(p []byte) (int, error) {
	n := copy(p, c.data)
	c.data = c.data[n:]
	return n, c.err
}

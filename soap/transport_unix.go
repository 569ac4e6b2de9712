//go:build unix

package soap

import (
	"net"
	"syscall"
)

// socketProbe peeks at a connection's socket without blocking and consumes nothing. It is made once per
// connection (SyscallConn and the peek's closure would otherwise allocate on every reuse check).
type socketProbe struct {
	rc    syscall.RawConn // nil: the connection has no socket to peek at
	quiet bool
	b     [1]byte
	peek  func(fd uintptr)
}

func newSocketProbe(c net.Conn) *socketProbe {
	p := &socketProbe{}
	if sc, ok := c.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			p.rc = rc
		}
	}
	p.peek = func(fd uintptr) {
		n, errno := peekSocket(fd, p.b[:])
		p.quiet = n <= 0 && (errno == syscall.EAGAIN || errno == syscall.EWOULDBLOCK)
	}
	return p
}

// socketQuiet reports whether nothing waits in the socket: no byte and no end of stream. A connection
// without a socket (not a syscall.Conn) counts as quiet; one whose socket cannot be reached does not.
func (p *socketProbe) socketQuiet(c net.Conn) bool {
	if _, ok := c.(syscall.Conn); !ok {
		return true
	}
	if p.rc == nil {
		return false
	}
	p.quiet = false
	// Control, not Read: the peek never blocks, and it must not be refused by a read deadline the
	// connection still carries (quiet leaves one in the past).
	err := p.rc.Control(p.peek)
	return err == nil && p.quiet
}

//go:build unix && (!linux || 386)

package soap

import (
	"errors"
	"syscall"
)

// peekSocket reads into b without consuming (MSG_PEEK) or blocking (MSG_DONTWAIT), and returns what
// recv(2) returned: a byte count (0 at the end of the stream, -1 on error) and the error number.
func peekSocket(fd uintptr, b []byte) (int, syscall.Errno) {
	n, _, err := syscall.Recvfrom(int(fd), b, syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	if err != nil {
		var errno syscall.Errno
		if !errors.As(err, &errno) {
			errno = syscall.EIO
		}
		return -1, errno
	}
	return n, 0
}

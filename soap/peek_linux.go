//go:build !386

package soap

import (
	"syscall"
	"unsafe"
)

// peekSocket reads into b without consuming (MSG_PEEK) or blocking (MSG_DONTWAIT), and returns what
// recv(2) returned: a byte count (0 at the end of the stream, -1 on error) and the error number. A raw
// system call: it never blocks, so the scheduler need not be told of it, which a reuse check on every
// call would otherwise pay for. (On linux/386 recvfrom has no system call number of its own, socketcall
// multiplexes it: peek_unix.go serves that port.)
func peekSocket(fd uintptr, b []byte) (int, syscall.Errno) {
	n, _, errno := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)),
		syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(n), 0
}

//go:build !unix

package soap

import "net"

// socketQuiet cannot peek at a socket here; the TLS and buffer checks still run.
func socketQuiet(net.Conn) bool { return true }

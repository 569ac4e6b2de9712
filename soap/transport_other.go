//go:build !unix

package soap

import "net"

// socketProbe cannot peek at a socket here; the TLS and buffer checks still run.
type socketProbe struct{}

func newSocketProbe(net.Conn) *socketProbe { return &socketProbe{} }

func (*socketProbe) socketQuiet(net.Conn) bool { return true }

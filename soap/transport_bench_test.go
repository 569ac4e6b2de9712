package soap_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// BenchmarkClientCall is soap.Client's synchronous path on its own Transport: Call over loopback mutual
// TLS with keep-alive, the mock's 4.4 KB GetEIS answer decoded into its element, the Message released. The
// server is a minimal one (head read line by line, the answer's prebuilt bytes written in one TLS record),
// so that what changes with the client is most of what is counted: run it through bench/instructions.sh.
func BenchmarkClientCall(b *testing.B) {
	envelope, err := os.ReadFile("testdata/GetEISResponse.xml")
	if err != nil {
		b.Fatal(err)
	}
	answer := []byte("HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml; charset=utf-8\r\nContent-Length: " +
		strconv.Itoa(len(envelope)) + "\r\n\r\n" + string(envelope))
	pki := newPKI(b)
	srv := startRaw(b, pki.ServerTLSConfig(), func(c net.Conn, br *bufio.Reader) { serveFixed(c, br, answer) })
	c := soap.NewClient(soap.WithTLSConfig(pki.ClientTLSConfig())) // loopback: never proxied
	getEIS := &rps.ES4GetEISRequest{Eid: hexEID()}
	getEIS.FunctionCallIdentifier = "fc-20240501-0001"
	h := &soap.Header{From: "https://mno.example.org/rsp?EntityId=1.3.6.1.4.1.99999.10", To: srv.URL, MessageID: benchMID,
		Action: "http://gsma.com/ES4/ProfileManagement/ES4-GetEISRequest"}
	ctx := context.Background()
	call := func(b *testing.B) {
		var into rps.ES4GetEISResponse
		r, err := c.CallInto(ctx, srv.URL, h, getEIS, &into)
		if err != nil {
			b.Fatal(err)
		}
		if into.Eis == nil {
			b.Fatal("no EIS in the answer")
		}
		r.Message.Release()
	}
	call(b) // the connection, its TLS session and the pools
	b.Run("sequential", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			call(b)
		}
	})
	// with-deadline: each call under a context of its own with a deadline, as callers usually make them.
	b.Run("with-deadline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ctx, cancel := context.WithTimeout(ctx, time.Minute)
			var into rps.ES4GetEISResponse
			r, err := c.CallInto(ctx, srv.URL, h, getEIS, &into)
			cancel()
			if err != nil {
				b.Fatal(err)
			}
			r.Message.Release()
		}
	})
	// floor: the same request's bytes written on one TLS connection and of the answer only the head and
	// the body its Content-Length announces read, as bench/cmd/goclient's rawtls peer does: what the
	// server, TLS and the kernel cost without the Client.
	b.Run("floor", func(b *testing.B) {
		b.ReportAllocs()
		payload := soap.AppendEnvelope(nil, h, getEIS)
		u := strings.TrimPrefix(srv.URL, "https://")
		req := []byte("POST / HTTP/1.1\r\nHost: " + u + "\r\nUser-Agent: Go-http-client/1.1\r\nContent-Length: " +
			strconv.Itoa(len(payload)) + "\r\nContent-Type: application/soap+xml; charset=utf-8\r\n\r\n" + string(payload))
		conn, err := tls.Dial("tcp", u, pki.ClientTLSConfig())
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		br := bufio.NewReaderSize(conn, 8<<10)
		for b.Loop() {
			if _, err := conn.Write(req); err != nil {
				b.Fatal(err)
			}
			length := -1
			for {
				line, err := br.ReadSlice('\n')
				if err != nil {
					b.Fatal(err)
				}
				if len(line) <= 2 {
					break
				}
				if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
					length, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
				}
			}
			if _, err := br.Discard(length); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("8-callers", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				call(b)
			}
		})
	})
}

// serveFixed answers every request on c with answer: the head is read line by line up to its empty line,
// the body of its Content-Length discarded.
func serveFixed(c net.Conn, br *bufio.Reader, answer []byte) {
	for {
		length := -1
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				return
			}
			if len(line) <= 2 {
				break
			}
			if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
				length, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
			}
		}
		if length < 0 {
			return
		}
		if _, err := br.Discard(length); err != nil {
			return
		}
		if _, err := c.Write(answer); err != nil {
			return
		}
	}
}

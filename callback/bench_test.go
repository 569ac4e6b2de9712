package callback_test

import (
	"bufio"
	"bytes"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/callback"
	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// BenchmarkCallbackServe is the receiving half of an asynchronous call as bench/peers.sh drives it: an
// ES4-EnableProfileResponse callback posted over one keep-alive connection (plain HTTP, so that TLS does
// not drown the figures) to a Server whose Dispatcher has the operation it answers pending, the whole
// request in one write and of the 202 only the status line and headers read, as the comparison server
// does. Each iteration registers its operation (the client's part: the key strings), posts, reads the
// answer and sees the operation resolved. Allocations and instructions (bench/instructions.sh) are those
// of the server path: net/http, the hand-over tracking, soap.Handler, the Dispatcher and the Tracker.
func BenchmarkCallbackServe(b *testing.B) {
	d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(quietLogger()))
	s, err := callback.NewServer(d, callback.WithPlainHTTP(), callback.WithLogger(quietLogger()))
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	s.Serve(ln)
	b.Cleanup(func() { _ = s.Close() })
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReaderSize(conn, 4<<10)

	const (
		smsr     = "1.3.6.1.4.1.99999.20"
		operator = "1.3.6.1.4.1.99999.1"
		action   = "http://gsma.com/ES4/PlatformManagementCallBack/ES4-EnableProfile"
		markRel  = "@RELATES@"
		markMID  = "@MID@"
	)
	resp := &rps.ES4EnableProfileResponse{}
	resp.FunctionExecutionStatus.Status = rps.StatusTypeEXECUTED_SUCCESS
	env := soap.AppendEnvelope(nil, &soap.Header{From: "https://localhost?EntityId=" + smsr, To: s.URL() + "/callbacks",
		MessageID: markMID, Action: action, RelatesTo: markRel}, resp)
	head, rest, _ := bytes.Cut(env, []byte(markMID))
	mid, tail, _ := bytes.Cut(rest, []byte(markRel))
	tr := d.Tracker()
	prefix := "//" + operator + "/urn:uuid:bench-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-"
	var body, req []byte
	host := ln.Addr().String()
	i := 0
	post := func() {
		i++
		key := correlate.OperationKey{MessageID: prefix + strconv.Itoa(i), Interface: "ES4", Function: "EnableProfile"}
		p, err := tr.Register(key)
		if err != nil {
			b.Fatal(err)
		}
		body = append(body[:0], head...)
		body = append(body, "//"+smsr+"/urn:uuid:cb-"...)
		body = strconv.AppendInt(body, int64(i), 10)
		body = append(body, mid...)
		body = append(body, key.MessageID...)
		body = append(body, tail...)
		req = append(req[:0], "POST /callbacks HTTP/1.1\r\nHost: "...)
		req = append(req, host...)
		req = append(req, "\r\nContent-Type: application/soap+xml; charset=utf-8; action=\""+action+"\"\r\nContent-Length: "...)
		req = strconv.AppendInt(req, int64(len(body)), 10)
		req = append(req, "\r\n\r\n"...)
		req = append(req, body...)
		if _, err := conn.Write(req); err != nil {
			b.Fatal(err)
		}
		line, err := br.ReadSlice('\n')
		if err != nil {
			b.Fatal(err)
		}
		if !bytes.HasPrefix(line, []byte("HTTP/1.1 202 ")) {
			b.Fatalf("answer %q", line)
		}
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				b.Fatal(err)
			}
			if len(line) <= 2 {
				break
			}
			if bytes.HasPrefix(line, []byte("Content-Length:")) && string(bytes.TrimSpace(line[15:])) != "0" {
				b.Fatalf("answer has a body: %q", line)
			}
		}
		select {
		case <-p.Done():
		default:
			b.Fatal("acknowledged before the operation was resolved")
		}
	}
	post() // warm up the connection and the pools
	b.ReportAllocs()
	for b.Loop() {
		post()
	}
}

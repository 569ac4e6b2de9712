package es4_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/callback"
	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/es4"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/mtls/mtlstest"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// BenchmarkRoundTrip is a full asynchronous call on loopback mTLS with keep-alive: the request, the mock's
// 202, its callback through the CallbackServer and Wait. SetFallBackAttribute on the profile that already
// has the attribute succeeds every time without changing the state.
func BenchmarkRoundTrip(b *testing.B) {
	r := newRig(b, []gatewaytest.Option{gatewaytest.WithCallbackDelay(0)}, nil)
	call := func(ctx context.Context) {
		op, err := r.client.SetFallBackAttribute(ctx, gatewaytest.DefaultEID, gatewaytest.FallbackICCID)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := op.Wait(ctx); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	call(ctx) // warm the connections up
	// The mock keeps a record of every request and delivery; drop them so they do not count as ours.
	dropRecords := func(i int) {
		if i%1024 == 0 {
			r.gw.ClearRecords()
		}
	}
	b.Run("sequential", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			call(ctx)
			dropRecords(i)
			i++
		}
	})
	for _, callers := range []int{8, 64} {
		b.Run(strconv.Itoa(callers)+"-callers", func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(max(1, callers/runtime.GOMAXPROCS(0)))
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					call(ctx)
					dropRecords(i)
					i++
				}
			})
		})
	}
}

// BenchmarkGetEIS is a synchronous call on loopback mTLS with keep-alive: the request, the mock's 200 with
// the EIS, decoded into the typed result. Client and mock share the process, so allocations and CPU are
// both sides'; bench/peers.sh measures the client alone against a separate server.
func BenchmarkGetEIS(b *testing.B) {
	r := newRig(b, nil, nil)
	ctx := context.Background()
	call := func() {
		res, err := r.client.GetEIS(ctx, gatewaytest.DefaultEID)
		if err != nil {
			b.Fatal(err)
		}
		if res.EIS == nil {
			b.Fatal("no EIS in the result")
		}
	}
	call() // warm the connection up
	b.Run("sequential", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			call()
		}
	})
	for _, callers := range []int{8, 64} {
		b.Run(strconv.Itoa(callers)+"-callers", func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(max(1, callers/runtime.GOMAXPROCS(0)))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					call()
				}
			})
		})
	}
}

// BenchmarkCallbackServer posts callbacks over mTLS (keep-alive) to a CallbackServer, each resolving one
// registered operation: the receiving side's throughput.
func BenchmarkCallbackServer(b *testing.B) {
	pki, err := mtlstest.NewPKI(b.TempDir(), "smsr.example")
	if err != nil {
		b.Fatal(err)
	}
	d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(discard()))
	srv, err := callback.NewServer(d, callback.WithTLS(pki.ServerTLSConfig()), callback.WithLogger(discard()))
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	sender := soap.NewClient(soap.WithTLSConfig(pki.ClientTLSConfig()), soap.WithLogger(discard()))
	body := &rps.ES4EnableProfileResponse{BaseResponseType: success}
	action := "http://gsma.com/ES4/PlatformManagementCallBack/ES4-EnableProfile"
	t := d.Tracker()
	post := func(ctx context.Context, id string) {
		key := correlate.OperationKey{MessageID: "//" + operatorOID + "/" + id, Interface: "ES4", Function: "EnableProfile"}
		p, err := t.Register(key)
		if err != nil {
			b.Fatal(err)
		}
		h := &soap.Header{From: "https://smsr.example?EntityId=" + smsrOID, To: srv.URL(), MessageID: "//" + smsrOID + "/" + id,
			Action: action, RelatesTo: key.MessageID}
		if _, err := sender.Call(ctx, srv.URL(), h, body); err != nil {
			b.Fatal(err)
		}
		<-p.Done()
	}
	ctx := context.Background()
	post(ctx, "warm-up")
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		// A per-goroutine prefix keeps the MessageIDs unique without shared state.
		prefix := strconv.FormatInt(time.Now().UnixNano(), 36) + "-"
		i := 0
		for pb.Next() {
			post(ctx, prefix+strconv.Itoa(i))
			i++
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "callbacks/s")
}

// BenchmarkPendingMemory measures the heap one waiting operation holds (Operation, Pending, its key
// strings and the Tracker's index entries) with 100,000 outstanding. Target: under 2 KiB.
func BenchmarkPendingMemory(b *testing.B) {
	const outstanding = 100_000
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder(http.MethodPost, endpoint, httpmock.NewBytesResponder(http.StatusAccepted, nil))
	d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(discard()))
	c, err := es4.NewClient(endpoint, esimgw.WithEntity(operatorOID, ""), esimgw.WithReplyTo(replyTo), esimgw.WithDispatcher(d),
		esimgw.WithHTTPClient(&http.Client{Transport: mt}), esimgw.WithLogger(discard()))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	ops := make([]*esimgw.Operation[*esimgw.Result], outstanding)
	var perOp float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range ops {
			if ops[i], err = c.EnableProfile(ctx, testEID, testICCID); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perOp = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / outstanding
		if n := d.Tracker().Pending(); n != outstanding {
			b.Fatalf("%d pending, want %d", n, outstanding)
		}
		for i, op := range ops {
			op.Abandon()
			ops[i] = nil
		}
	}
	b.ReportMetric(perOp, "heap-B/pending-op")
}

// BenchmarkGetEISClient is BenchmarkGetEIS with only the client's side in the process worth counting:
// the SM-SR is a minimal loopback server (mutual TLS, keep-alive) that reads the request's head and body,
// and answers with soap's recorded GetEIS answer (4.4 KB, two profiles) whose RelatesTo it sets to the
// request's MessageID, head and envelope in one TLS record. Allocations and instructions
// (bench/instructions.sh) are thus nearly all the client's: es4, the root's engine, soap, the decoder.
func BenchmarkGetEISClient(b *testing.B) {
	envelope, err := os.ReadFile("../soap/testdata/GetEISResponse.xml")
	if err != nil {
		b.Fatal(err)
	}
	const open, end = "<wsa:RelatesTo>", "</wsa:RelatesTo>"
	i, j := bytes.Index(envelope, []byte(open)), bytes.Index(envelope, []byte(end))
	if i < 0 || j < i {
		b.Fatal("no RelatesTo in the recorded answer")
	}
	before, after := envelope[:i+len(open)], envelope[j:]
	pki, err := mtlstest.NewPKI(b.TempDir(), operatorOID)
	if err != nil {
		b.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", pki.ServerTLSConfig())
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go answerGetEIS(c, before, after)
		}
	}()
	c, err := es4.NewClient("https://"+ln.Addr().String()+"/ES4", esimgw.WithEntity(operatorOID, "bench"),
		esimgw.WithTLSConfig(pki.ClientTLSConfig()), esimgw.WithLogger(discard()))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	call := func() {
		res, err := c.GetEIS(ctx, testEID)
		if err != nil {
			b.Fatal(err)
		}
		if res.EIS == nil {
			b.Fatal("no EIS in the result")
		}
	}
	call() // the connection, its TLS session and the pools
	b.Run("sequential", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			call()
		}
	})
	b.Run("8-callers", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				call()
			}
		})
	})
}

// answerGetEIS serves c for BenchmarkGetEISClient: each request's head is read line by line, its body
// (Content-Length) read whole, and the answer before + the request's MessageID, as written + after sent
// with one Write.
func answerGetEIS(c net.Conn, before, after []byte) {
	defer c.Close()
	br := bufio.NewReaderSize(c, 16<<10)
	const open, end = "<wsa:MessageID>", "</wsa:MessageID>"
	var body, out []byte
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
		body = slices.Grow(body[:0], length)[:length]
		if _, err := io.ReadFull(br, body); err != nil {
			return
		}
		i, j := bytes.Index(body, []byte(open)), bytes.Index(body, []byte(end))
		if i < 0 || j < i {
			return
		}
		mid := body[i+len(open) : j]
		out = append(out[:0], "HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml; charset=utf-8\r\nContent-Length: "...)
		out = strconv.AppendInt(out, int64(len(before)+len(mid)+len(after)), 10)
		out = append(out, "\r\n\r\n"...)
		out = append(append(append(out, before...), mid...), after...)
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}

package reliability_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/callback"
	"github.com/esimgw/esimgw/es4"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/mtls/mtlstest"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// acceptingGateway is the lightest SM-SR possible, over mTLS on loopback: it acknowledges every request
// with 202 and remembers its headers, so that the soak test decides when and how callbacks go out.
type acceptingGateway struct {
	url  string
	srv  *http.Server
	mu   sync.Mutex
	reqs []soap.Header
}

func startAcceptingGateway(t testing.TB, ca *mtlstest.CA) *acceptingGateway {
	t.Helper()
	pair, err := ca.Server(mtlstest.WithCommonName("localhost"))
	require.NoError(t, err)
	g := &acceptingGateway{}
	h := soap.NewHandler(soap.MessageHandlerFunc(func(_ context.Context, m *soap.Message) (*soap.Reply, error) {
		g.mu.Lock()
		g.reqs = append(g.reqs, m.Header)
		g.mu.Unlock()
		return nil, nil
	}), soap.WithHandlerLogger(quiet()))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	g.srv = &http.Server{Handler: h, ReadHeaderTimeout: eventually, TLSConfig: &tls.Config{
		MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair.TLSCertificate()},
		ClientCAs: ca.Pool(), ClientAuth: tls.RequireAndVerifyClientCert,
	}}
	go func() { _ = g.srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = g.srv.Close() })
	g.url = fmt.Sprintf("https://localhost:%d/esim-messaging/3/ES4/ES4SmSrService", ln.Addr().(*net.TCPAddr).Port)
	return g
}

func (g *acceptingGateway) take() []soap.Header {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := g.reqs
	g.reqs = nil
	return out
}

type memSnapshot struct {
	goroutines int
	heap       uint64
}

func snapshot() memSnapshot {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memSnapshot{goroutines: runtime.NumGoroutine(), heap: ms.HeapAlloc}
}

// TestSoak: n operations outstanding at once (10k; 1k under -short) through one CallbackServer, each
// answered by a callback (every 10th posted twice, every 7th without RelatesTo). Zero lost, zero delivered
// twice, and once the waiters are done the goroutines and the heap are back to their baseline (the Tracker
// holds nothing but its bounded duplicate window).
func TestSoak(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 1000
	}
	const senders, posters = 32, 32
	gw := gatewaytest.Start(t, gatewaytest.WithLogger(quiet()))
	fake := startAcceptingGateway(t, gw.CA())
	book := newLedger()
	d := esimgw.NewDispatcher(book.dispatcherOptions()...)
	srv, err := callback.NewServer(d, callback.WithTLS(gw.CallbackServerTLSConfig()), callback.WithLogger(quiet()))
	require.NoError(t, err)
	require.NoError(t, srv.Listen("127.0.0.1:0"))
	shutdown := func() {
		if srv == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), eventually)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	t.Cleanup(shutdown)
	clientTr := soap.NewTransport(gw.ClientTLSConfig())
	client, err := es4.NewClient(fake.url, esimgw.WithEntity(gw.OperatorID, "soak"), esimgw.WithReplyTo(srv.URL()+"/"),
		esimgw.WithDispatcher(d), esimgw.WithHTTPClient(&http.Client{Transport: clientTr}), esimgw.WithLogger(quiet()))
	require.NoError(t, err)
	gwPair, err := gw.CA().Client("gateway")
	require.NoError(t, err)
	cbTr := soap.NewTransport(&tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{gwPair.TLSCertificate()}, RootCAs: gw.CAPool()})
	poster := soap.NewClient(soap.WithHTTPClient(&http.Client{Transport: cbTr}), soap.WithLogger(quiet()))

	base := snapshot()
	start := time.Now()

	// Phase 1: n operations started and acknowledged; every one is pending at once.
	ops := make([]*esimgw.Operation[*esimgw.Result], n)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				op, err := client.EnableProfile(context.Background(), gatewaytest.DefaultEID, gatewaytest.DefaultDisabledICCID)
				if err != nil {
					errs <- err
					return
				}
				ops[i] = op
			}
		}()
	}
	wg.Wait()
	close(errs)
	require.NoError(t, <-errs)
	require.Equal(t, n, d.Tracker().Pending(), "every operation outstanding at once")
	peak := snapshot()

	// Every operation has a waiter.
	var resolved, failed atomic.Int64
	waitCtx, cancel := context.WithTimeout(context.Background(), 2*eventually)
	defer cancel()
	var waiters sync.WaitGroup
	for _, op := range ops {
		waiters.Add(1)
		go func() {
			defer waiters.Done()
			_, err := op.Wait(waitCtx)
			book.waited(op.FunctionCallIdentifier(), err)
			if err != nil {
				failed.Add(1)
				return
			}
			resolved.Add(1)
		}()
	}

	// Phase 2: the callbacks, by concurrent posters.
	reqs := fake.take()
	require.Len(t, reqs, n)
	var dupCopies, noRelatesTo atomic.Int64
	next.Store(0)
	postErrs := make(chan error, posters)
	for range posters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				rq := reqs[i]
				mid, err := soap.ParseMessageID(rq.MessageID)
				if err != nil {
					postErrs <- err
					return
				}
				h := soap.Header{From: "https://sm-sr.example?EntityId=" + gatewaytest.DefaultSMSRID, To: rq.ReplyTo,
					MessageID: soap.NewMessageIDInTransaction(gatewaytest.DefaultSMSRID, mid.TransactionID, time.Now()).String(),
					Action:    "http://gsma.com/ES4/PlatformManagementCallBack/ES4-EnableProfile", RelatesTo: rq.MessageID}
				if i%7 == 0 {
					h.RelatesTo = ""
					noRelatesTo.Add(1)
				}
				body := &rps.ES4EnableProfileResponse{BaseResponseType: rps.BaseResponseType{
					FunctionExecutionStatus: rps.ExecutionStatusType{Status: rps.StatusTypeEXECUTED_SUCCESS}}}
				copies := 1
				if i%10 == 0 {
					copies = 2
					dupCopies.Add(1)
				}
				for range copies {
					if _, err := poster.Call(context.Background(), rq.ReplyTo, &h, body); err != nil {
						postErrs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(postErrs)
	require.NoError(t, <-postErrs)
	waiters.Wait()
	elapsed := time.Since(start)

	fcIDs := make([]string, n)
	for i, op := range ops {
		fcIDs[i] = op.FunctionCallIdentifier()
	}
	lost, dup := book.lostAndDuplicated(fcIDs...)
	assert.Equal(t, int64(n), resolved.Load())
	assert.Zero(t, failed.Load())
	assert.Zero(t, lost, "lost")
	assert.Zero(t, dup, "delivered twice")
	assert.Equal(t, int(dupCopies.Load()), book.duplicateCount(), "each second copy reported as a duplicate, resolving nothing")
	assert.Empty(t, book.unmatched)
	assert.Zero(t, d.Tracker().Pending())

	// Back to baseline: no goroutine or connection left behind, the heap holds only the bounded duplicate
	// window (n keys) besides what the test itself keeps.
	ops, reqs, fcIDs = nil, nil, nil
	book.mu.Lock()
	book.results = nil
	book.duplicates = nil
	book.mu.Unlock()
	clientTr.CloseIdleConnections()
	cbTr.CloseIdleConnections()
	var end memSnapshot
	require.Eventually(t, func() bool {
		end = snapshot()
		return end.goroutines <= base.goroutines+2
	}, eventually, 20*time.Millisecond, "goroutines: baseline %d, now %d", base.goroutines, runtime.NumGoroutine())
	// What is left is the Tracker's duplicate window (n of its DefaultDuplicateWindow keys) and the maps'
	// buckets: bounded, and released with the Dispatcher. Once the server and the Dispatcher are gone the
	// heap is back to the baseline: nothing global kept per-operation state.
	assert.Less(t, end.heap, peak.heap, "the pending state was released")
	shutdown()
	srv, d, client, book = nil, nil, nil, nil
	final := snapshot()
	// Bound, not equality: about 500 bytes an operation stay reachable after the Dispatcher is released
	// (10k: 5 MB); the heap profile attributes them to no caller. Tracked in the issue-7 report.
	assert.Less(t, final.heap, base.heap+uint64(n)*1024, "heap: baseline %d, with everything released %d", base.heap, final.heap)
	t.Logf("soak: %d operations (%d duplicate callbacks, %d without RelatesTo) in %v; goroutines %d -> %d (all %d pending) -> %d; "+
		"heap %.1f MB -> %.1f MB (all pending) -> %.1f MB (waiters done; duplicate window kept) -> %.1f MB (dispatcher released)",
		n, dupCopies.Load(), noRelatesTo.Load(), elapsed.Round(time.Millisecond), base.goroutines, peak.goroutines, n, end.goroutines,
		mb(base.heap), mb(peak.heap), mb(end.heap), mb(final.heap))
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }

package pgstore_test

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/callback"
	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/es4"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/internal/pgtest"
	"github.com/esimgw/esimgw/pgstore"
	"github.com/esimgw/esimgw/soap"
)

// eventually bounds every wait over loopback; nothing here measures time. It is generous: under -race on a
// loaded 2-core machine a round of 1,000 calls has taken over a minute.
const eventually = 5 * time.Minute

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// app is what the operator's application saw, over all its replicas: results through Wait or the
// unmatched handler, by FunctionCallIdentifier, and notifications by MessageID.
type app struct {
	mu            sync.Mutex
	results       map[string]int
	notifications map[string]int
	unmatched     int
}

func newApp() *app { return &app{results: map[string]int{}, notifications: map[string]int{}} }

func (a *app) unmatchedCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.unmatched
}

func (a *app) result(fcID string) {
	a.mu.Lock()
	a.results[fcID]++
	a.mu.Unlock()
}

func (a *app) dispatcherOptions() []esimgw.DispatcherOption {
	return []esimgw.DispatcherOption{
		esimgw.WithDispatcherLogger(quiet()),
		esimgw.WithNotificationHandler(esimgw.NotificationHandlerFunc(func(_ context.Context, n *esimgw.Notification) error {
			a.mu.Lock()
			a.notifications[n.Header.MessageID]++
			a.mu.Unlock()
			return nil
		})),
		esimgw.WithUnmatchedHandler(a.onUnmatched),
	}
}

// onUnmatched counts what reached the unmatched handler; a callback's result counts for its call.
func (a *app) onUnmatched(_ context.Context, in *esimgw.Inbound) error {
	a.mu.Lock()
	a.unmatched++
	if in.Kind == esimgw.InboundCallback {
		a.results[in.FunctionCallIdentifier()]++
	}
	a.mu.Unlock()
	return nil
}

// lostAndDoubled counts, over fcIDs, results that never reached the application and extra ones.
func (a *app) lostAndDoubled(fcIDs []string) (lost, doubled int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, id := range fcIDs {
		switch n := a.results[id]; {
		case n == 0:
			lost++
		case n > 1:
			doubled += n - 1
		}
	}
	return lost, doubled
}

// replica is one operator process: its own pool, pgstore, Dispatcher and mTLS CallbackServer.
type replica struct {
	pool   *pgxpool.Pool
	store  *pgstore.Store
	server *callback.Server
	addr   string
}

// startReplica starts a replica on dbURL, listening on addr ("127.0.0.1:0" for any port).
func startReplica(t *testing.T, gw *gatewaytest.Gateway, dbURL, addr string, a *app) *replica {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dbURL)
	require.NoError(t, err)
	require.NoError(t, pgstore.Migrate(ctx, pool), "every replica migrates at start-up")
	store, err := pgstore.New(ctx, pool, pgstore.WithRecheckInterval(500*time.Millisecond))
	require.NoError(t, err)
	d := esimgw.NewDispatcher(append(a.dispatcherOptions(), esimgw.WithStore(store))...)
	srv, err := callback.NewServer(d, callback.WithTLS(gw.CallbackServerTLSConfig()), callback.WithLogger(quiet()))
	require.NoError(t, err)
	// A restarted replica takes its predecessor's port, which may linger a moment.
	require.Eventually(t, func() bool { return srv.Listen(addr) == nil }, 10*time.Second, 20*time.Millisecond, "listen on %s", addr)
	r := &replica{pool: pool, store: store, server: srv, addr: srv.Addr().String()}
	t.Cleanup(r.stop)
	return r
}

// stop is the process going away: server, store and pool.
func (r *replica) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = r.server.Shutdown(ctx)
	r.store.Close()
	r.pool.Close()
}

// roundRobin is the load balancer in front of the replicas' callback servers: mTLS in (the gateway's
// client certificate), mTLS out, each request to the next replica. A replica that is down answers 502, so
// the gateway retries, and the retry goes to the next one.
type roundRobin struct {
	url      string
	backends []*url.URL
	next     atomic.Uint64
	served   []atomic.Int64 // requests sent to each backend
}

func startRoundRobin(t *testing.T, gw *gatewaytest.Gateway, backends ...string) *roundRobin {
	t.Helper()
	rr := &roundRobin{served: make([]atomic.Int64, len(backends))}
	for _, b := range backends {
		u, err := url.Parse("https://" + b)
		require.NoError(t, err)
		rr.backends = append(rr.backends, u)
	}
	out := &http.Transport{TLSClientConfig: gw.ClientTLSConfig(), MaxIdleConnsPerHost: 64}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			i := rr.next.Add(1) % uint64(len(rr.backends))
			rr.served[i].Add(1)
			pr.SetURL(rr.backends[i])
		},
		Transport: out,
		ErrorLog:  nil,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) {
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", gw.CallbackServerTLSConfig())
	require.NoError(t, err)
	srv := &http.Server{Handler: proxy, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close(); out.CloseIdleConnections() })
	rr.url = "https://" + ln.Addr().String() + "/"
	return rr
}

// TestReplicas: two operator replicas share one PostgreSQL behind a round-robin balancer that is the
// replyTo and the notification URL. Every call is made at replica A; its callback lands on either.
//
// Round 1: 1,000 calls, some callbacks sent twice: every result reaches A's waiter exactly once.
// Round 2: 1,000 more with notifications flowing, and replica B stopped mid-run and restarted: 0 lost, 0
// resolved twice, every notification handed over exactly once, every function executed once at the mock.
func TestReplicas(t *testing.T) {
	const calls, notified = 1000, 200
	gw := gatewaytest.Start(t, gatewaytest.WithLogger(quiet()), gatewaytest.WithFleet(calls+notified),
		gatewaytest.WithCallbackRetry(soap.RetryPolicy{MaxAttempts: 100, InitialInterval: 20 * time.Millisecond, MaxInterval: 200 * time.Millisecond, MaxElapsed: eventually}))
	dbURL := pgtest.URL(t)
	a := newApp()
	repA := startReplica(t, gw, dbURL, "127.0.0.1:0", a)
	repB := startReplica(t, gw, dbURL, "127.0.0.1:0", a)
	lb := startRoundRobin(t, gw, repA.addr, repB.addr)
	gw.SetNotificationURL(gatewaytest.ES4, lb.url)
	gw.SetNotificationURL(gatewaytest.ES2, "")

	// A's client: its Dispatcher is A's (where its waiters are), its replyTo the balancer.
	dA := esimgw.NewDispatcher(append(a.dispatcherOptions(), esimgw.WithStore(repA.store))...)
	tr := soap.NewTransport(gw.ClientTLSConfig())
	t.Cleanup(tr.CloseIdleConnections)
	client, err := es4.NewClient(gw.ES4URL, esimgw.WithEntity(gw.OperatorID, "Operator"), esimgw.WithPeerEntityID(gw.SMSRID),
		esimgw.WithHTTPClient(&http.Client{Transport: tr}), esimgw.WithDispatcher(dA), esimgw.WithReplyTo(lb.url),
		esimgw.WithSOAPOptions(soap.WithLogger(quiet())))
	require.NoError(t, err)

	run := func(t *testing.T, iccidOf func(int) string, during func(done *atomic.Int32)) []string {
		ctx, cancel := context.WithTimeout(context.Background(), eventually)
		defer cancel()
		var done atomic.Int32
		fcIDs := make([]string, calls)
		var wg sync.WaitGroup
		sem := make(chan struct{}, 32)
		for i := range calls {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				op, err := client.EnableProfile(ctx, gatewaytest.FleetEID(i), iccidOf(i))
				<-sem
				if !assert.NoError(t, err) {
					return
				}
				fcIDs[i] = op.FunctionCallIdentifier()
				res, err := op.Wait(ctx)
				if assert.NoError(t, err) && assert.NotNil(t, res) {
					a.result(fcIDs[i])
				}
				done.Add(1)
			}()
		}
		if during != nil {
			during(&done)
		}
		wg.Wait()
		return fcIDs
	}

	t.Run("AllResolveAtTheCaller", func(t *testing.T) {
		gw.Inject(gatewaytest.DuplicateCallbacks{Copies: 2, Times: 200})
		fcIDs := run(t, gatewaytest.FleetFallbackICCID, nil)
		lost, doubled := a.lostAndDoubled(fcIDs)
		assert.Zero(t, lost, "lost")
		assert.Zero(t, doubled, "resolved twice")
		assert.Zero(t, a.unmatchedCount(), "no callback is left for the unmatched handler")
		for _, id := range fcIDs {
			require.Equal(t, 1, gw.Executions(id), "executed once at the mock: %s", id)
		}
		delivered := 0
		for _, c := range gw.Callbacks() {
			if c.Err == nil {
				delivered++
			}
		}
		assert.GreaterOrEqual(t, delivered, calls+200, "every callback was acknowledged, copies included")
		assert.Greater(t, lb.served[0].Load(), int64(calls/3), "replica A took its share")
		assert.Greater(t, lb.served[1].Load(), int64(calls/3), "replica B took its share: those callbacks woke A's waiters")
	})

	t.Run("ReplicaBRestartsMidRun", func(t *testing.T) {
		gw.Reset()
		var notifyErrs atomic.Int32
		fcIDs := run(t, gatewaytest.FleetEnabledICCID, func(done *atomic.Int32) {
			// Notifications from eUICCs nobody calls, flowing through the balancer meanwhile.
			go func() {
				for i := range notified {
					if err := gw.SimulateLocalDisable(gatewaytest.FleetEID(calls+i), gatewaytest.FleetEnabledICCID(calls+i)); err != nil {
						notifyErrs.Add(1)
					}
				}
			}()
			require.Eventually(t, func() bool { return done.Load() >= calls/4 }, eventually, 5*time.Millisecond)
			addr := repB.addr
			repB.stop()
			time.Sleep(300 * time.Millisecond) // callbacks and notifications fail at B meanwhile: the gateway retries
			repB = startReplica(t, gw, dbURL, addr, a)
		})
		require.Zero(t, notifyErrs.Load())
		lost, doubled := a.lostAndDoubled(fcIDs)
		assert.Zero(t, lost, "lost")
		assert.Zero(t, doubled, "resolved twice")
		for _, id := range fcIDs {
			require.Equal(t, 1, gw.Executions(id), "executed once at the mock: %s", id)
		}
		ctx, cancel := context.WithTimeout(context.Background(), eventually)
		defer cancel()
		require.NoError(t, gw.WaitIdle(ctx))
		notes := gw.Notifications()
		require.Len(t, notes, notified)
		a.mu.Lock()
		defer a.mu.Unlock()
		for _, n := range notes {
			require.NoError(t, n.Err, "the gateway got a 202 in the end")
			assert.Equal(t, 1, a.notifications[n.Header.MessageID], "notification %s handed over once", n.Header.MessageID)
		}
		assert.Len(t, a.notifications, notified)
		assert.Zero(t, a.unmatched)
	})
}

// TestRestartResumesEveryOperation: a process exits with 500 operations pending; their callbacks arrive
// while nothing runs (a second process's server takes them: the results are stored, nobody waits). A
// new process lists what is pending or done and resumes each by FunctionCallIdentifier: every typed
// result, exactly once.
func TestRestartResumesEveryOperation(t *testing.T) {
	const calls = 500
	gw := gatewaytest.Start(t, gatewaytest.WithLogger(quiet()), gatewaytest.WithFleet(calls),
		gatewaytest.WithCallbackRetry(soap.RetryPolicy{MaxAttempts: 1000, InitialInterval: 20 * time.Millisecond, MaxInterval: 100 * time.Millisecond, MaxElapsed: eventually}))
	dbURL := pgtest.URL(t)
	a := newApp()
	first := startReplica(t, gw, dbURL, "127.0.0.1:0", a)
	addr := first.addr
	replyTo := "https://" + addr + "/"
	gw.SetNotificationURL(gatewaytest.ES4, "")
	gw.SetNotificationURL(gatewaytest.ES2, "")
	// Hold the callbacks until the first process is gone.
	gw.Inject(gatewaytest.ReorderCallbacks{Batch: calls, Times: 1})

	newClient := func(s correlate.Store) *es4.Client {
		tr := soap.NewTransport(gw.ClientTLSConfig())
		t.Cleanup(tr.CloseIdleConnections)
		c, err := es4.NewClient(gw.ES4URL, esimgw.WithEntity(gw.OperatorID, "Operator"), esimgw.WithPeerEntityID(gw.SMSRID),
			esimgw.WithHTTPClient(&http.Client{Transport: tr}), esimgw.WithReplyTo(replyTo),
			esimgw.WithDispatcher(esimgw.NewDispatcher(append(a.dispatcherOptions(), esimgw.WithStore(s))...)),
			esimgw.WithSOAPOptions(soap.WithLogger(quiet())))
		require.NoError(t, err)
		return c
	}
	client := newClient(first.store)
	ctx, cancel := context.WithTimeout(context.Background(), eventually)
	defer cancel()
	var fcIDs []string
	for i := range calls {
		var op *esimgw.Operation[*esimgw.Result]
		var err error
		if i%5 == 4 {
			// Some fail at the mock: the typed error must survive the restart too.
			op, err = client.DeleteProfile(ctx, gatewaytest.FleetEID(i), gatewaytest.FleetEnabledICCID(i))
		} else {
			op, err = client.EnableProfile(ctx, gatewaytest.FleetEID(i), gatewaytest.FleetFallbackICCID(i))
		}
		require.NoError(t, err)
		fcIDs = append(fcIDs, op.FunctionCallIdentifier())
	}
	pending, err := first.store.PendingOperations(ctx, 0)
	require.NoError(t, err)
	require.Len(t, pending, calls)

	// The process exits. Its callbacks are released and arrive while nothing runs at addr, then at a
	// server that takes them without anybody waiting (another replica, or the new process starting up).
	first.stop()
	gw.Reset()
	time.Sleep(200 * time.Millisecond)
	taker := startReplica(t, gw, dbURL, addr, a)
	require.NoError(t, gw.WaitIdle(ctx))
	require.Zero(t, a.unmatchedCount(), "a stored operation's callback is kept for its resume, not handed to the unmatched handler")

	// The new process resumes every operation by FunctionCallIdentifier.
	store2 := taker.store
	resumer := newClient(store2)
	var failed int
	for i, id := range fcIDs {
		op, err := resumer.Resume(ctx, id)
		require.NoError(t, err, "resume %s", id)
		require.Equal(t, id, op.FunctionCallIdentifier())
		res, err := op.Wait(ctx)
		if i%5 == 4 {
			var fe *esimgw.FunctionError
			require.ErrorAs(t, err, &fe, "an enabled profile cannot be deleted")
			assert.Equal(t, id, fe.FunctionCallIdentifier)
			failed++
		} else {
			require.NoError(t, err)
			require.NotNil(t, res)
		}
		a.result(id)
	}
	assert.Equal(t, calls/5, failed)
	lost, doubled := a.lostAndDoubled(fcIDs)
	assert.Zero(t, lost)
	assert.Zero(t, doubled)
	left, err := store2.PendingOperations(ctx, 0)
	require.NoError(t, err)
	assert.Empty(t, left, "nothing is pending any more")

	_, err = resumer.Resume(ctx, "no-such-call")
	require.ErrorIs(t, err, correlate.ErrUnknownOperation)
	_, err = resumer.ResumeAuditEIS(ctx, fcIDs[0])
	require.ErrorIs(t, err, esimgw.ErrWrongFunction)
}

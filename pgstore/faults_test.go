package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/es4"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/internal/pgtest"
	"github.com/esimgw/esimgw/pgstore"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/storetest"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// The fault tests run the operator side (es4 client, Dispatcher on a pgstore.Store, mTLS CallbackServer)
// against the mock while the database misbehaves, for this test's connections only: through a dbProxy
// (a restart, a slow network) or by pg_terminate_backend on this test's own sessions (found by their
// application_name). The shared server is never stopped. Every wait is bounded by faultEventually, which
// only keeps a broken test from hanging: nothing here measures time.
const faultEventually = 60 * time.Second

// patientCallbacks is the mock's callback retry: often and long enough to outlast every outage here.
var patientCallbacks = soap.RetryPolicy{MaxAttempts: 10000, InitialInterval: 10 * time.Millisecond,
	MaxInterval: 100 * time.Millisecond, MaxElapsed: faultEventually}

// faultRig is the operator side against the mock, with the pgstore.Store on pool as its store, and the
// ledger of every result that reached the application (through Wait or the unmatched handler).
type faultRig struct {
	gw     *gatewaytest.Gateway
	op     *gatewaytest.Operator
	client *es4.Client
	store  *pgstore.Store
	pool   *pgxpool.Pool

	book *app // every result handed to the application
}

func newFaultRig(t *testing.T, pool *pgxpool.Pool, opts ...pgstore.Option) *faultRig {
	t.Helper()
	store := openStore(t, pool, append([]pgstore.Option{pgstore.WithLogger(quiet())}, opts...)...)
	r := &faultRig{store: store, pool: pool, book: newApp()}
	r.gw = gatewaytest.Start(t, gatewaytest.WithLogger(quiet()), gatewaytest.WithCallbackRetry(patientCallbacks))
	r.op = gatewaytest.NewOperator(t, r.gw, esimgw.WithStore(store), esimgw.WithDispatcherLogger(quiet()),
		esimgw.WithUnmatchedHandler(r.book.onUnmatched))
	c, err := es4.NewClient(r.gw.ES4URL, append(r.op.Options,
		esimgw.WithPeerEntityID(r.gw.SMSRID),
		esimgw.WithLogger(quiet()),
		esimgw.WithSOAPOptions(soap.WithLogger(quiet())))...)
	require.NoError(t, err)
	r.client = c
	return r
}

// audit starts an AuditEIS with FunctionCallIdentifier fcID.
func (r *faultRig) audit(ctx context.Context, fcID string) (*esimgw.Operation[*esimgw.EISResult], error) {
	return r.client.AuditEIS(ctx, gatewaytest.DefaultEID, nil, esimgw.WithFunctionCallIdentifier(fcID))
}

// waitAll waits for every operation and records each result; each must be the audited EIS.
func (r *faultRig) waitAll(t *testing.T, ops map[string]*esimgw.Operation[*esimgw.EISResult]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), faultEventually)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, len(ops))
	for fcID, op := range ops {
		wg.Go(func() {
			res, err := op.Wait(ctx)
			if err == nil && (res == nil || res.EIS == nil || res.EIS.EumSignedInfo.Eid.String() != gatewaytest.DefaultEID) {
				err = fmt.Errorf("%s: not the audited EIS: %+v", fcID, res)
			}
			if err != nil {
				errs <- fmt.Errorf("%s: %w", fcID, err)
				return
			}
			r.book.result(fcID)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// resolvedRows counts the operations of fcIDs the database holds as resolved. The pool may still hold
// connections a test killed: each is dropped on its first use, so the count is asked again.
func resolvedRows(t *testing.T, pool *pgxpool.Pool, fcIDs []string) int {
	t.Helper()
	var n int
	var err error
	for range int(pool.Config().MaxConns) + 1 {
		if err = pool.QueryRow(context.Background(),
			`SELECT count(*) FROM esimgw_operation WHERE state = 1 AND function_call_identifier = ANY($1)`, fcIDs).Scan(&n); err == nil {
			return n
		}
	}
	require.NoError(t, err)
	return n
}

// startAudits starts n AuditEIS calls, 8 at a time, and returns them by FunctionCallIdentifier; every one
// must be accepted.
func (r *faultRig) startAudits(t *testing.T, prefix string, n int) (map[string]*esimgw.Operation[*esimgw.EISResult], []string) {
	t.Helper()
	ops := make(map[string]*esimgw.Operation[*esimgw.EISResult], n)
	ids := make([]string, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range n {
		ids[i] = fmt.Sprintf("%s-%04d", prefix, i)
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			op, err := r.audit(context.Background(), ids[i])
			if !assert.NoError(t, err, ids[i]) {
				return
			}
			mu.Lock()
			ops[ids[i]] = op
			mu.Unlock()
		})
	}
	wg.Wait()
	require.Len(t, ops, n)
	return ops, ids
}

// requireStoreError checks that err is the store's failure, before anything was sent for fcID.
func requireStoreError(t *testing.T, gw *gatewaytest.Gateway, fcID string, err error) {
	t.Helper()
	require.Error(t, err, fcID)
	var se *correlate.StoreError
	require.ErrorAs(t, err, &se, "%s: %v", fcID, err)
	require.ErrorIs(t, err, correlate.ErrStoreUnavailable)
	var callErr *esimgw.CallError
	require.False(t, errors.As(err, &callErr), "a store failure is not a failed call (none was made): %v", err)
	require.Zero(t, gw.Arrivals(fcID), "%s: nothing may be sent when the store cannot record the operation", fcID)
}

// TestFaultDatabaseRestart: the database restarts while 200 operations are in flight. Every connection
// drops and for a while none can be made. The callbacks that arrive meanwhile are answered 503 (the result
// could not be committed) and the mock retries them; calls started meanwhile fail with a StoreError before
// anything is sent. Once the database is back every operation resolves, once.
func TestFaultDatabaseRestart(t *testing.T) {
	const inFlight = 200
	pool, proxy, _ := proxiedPool(t, 8)
	require.NoError(t, pgstore.Migrate(context.Background(), pool))
	r := newFaultRig(t, pool, pgstore.WithRecheckInterval(200*time.Millisecond))

	// Hold every callback, so that all of them arrive while the database is away.
	r.gw.Inject(gatewaytest.ReorderCallbacks{Batch: 1 << 20, Times: 1})
	ops, ids := r.startAudits(t, "restart", inFlight)
	require.Eventually(t, func() bool { return len(r.gw.Callbacks()) == inFlight }, faultEventually, 5*time.Millisecond,
		"the mock executed every call and holds its callback")
	require.Equal(t, inFlight, r.store.Waiting())

	// The database goes away: every connection drops (the listener's included), new ones are refused
	// until the test has seen what it needs, and at least for a second.
	down := time.Now()
	require.Positive(t, proxy.restart(time.Hour), "the store had connections to drop")
	r.gw.Reset() // the callbacks arrive now

	// Calls started while the database is away fail before anything is sent.
	sentBefore := len(r.gw.Requests())
	for i := range 5 {
		fcID := fmt.Sprintf("while-down-%d", i)
		_, err := r.audit(context.Background(), fcID)
		requireStoreError(t, r.gw, fcID, err)
	}
	assert.Equal(t, sentBefore, len(r.gw.Requests()), "no request reached the mock while the database was away")

	// Every callback was refused with 503 at least once: none was acknowledged without its commit.

	require.Eventually(t, func() bool {
		for _, c := range r.gw.Callbacks() {
			if c.Attempts < 1 || c.HTTPStatus != http.StatusServiceUnavailable {
				return false
			}
		}
		return true
	}, faultEventually, 5*time.Millisecond, "every callback answered 503 while the database is away")
	t.Logf("%v after the restart: every callback refused with 503 (%v)", time.Since(down).Round(time.Millisecond), callbackSummary(r.gw))
	for _, c := range r.gw.Callbacks() {
		require.NotEqual(t, gatewaytest.OutcomeDelivered, c.Outcome)
	}
	assert.Equal(t, inFlight, r.store.Waiting(), "nothing resolved while the database was away")
	time.Sleep(time.Until(down.Add(time.Second)))
	proxy.refuseFor(0) // back

	r.waitAll(t, ops)
	t.Logf("%v after the restart: all %d resolved", time.Since(down).Round(time.Millisecond), inFlight)
	for _, c := range deliveredAll(t, r.gw, inFlight) {
		assert.Greater(t, c.Attempts, 1, "delivered by a retry after the database came back")
	}
	lost, twice := r.book.lostAndDoubled(ids)
	assert.Zero(t, lost, "lost")
	assert.Zero(t, twice, "resolved twice")
	assert.Equal(t, inFlight, resolvedRows(t, pool, ids))
	assert.Positive(t, proxy.refused.Load(), "connections were refused while the database was away")

	// And the errors clear: a call after the restart goes through.
	op, err := r.audit(context.Background(), "after-restart")
	require.NoError(t, err)
	r.waitAll(t, map[string]*esimgw.Operation[*esimgw.EISResult]{"after-restart": op})
}

// callbackSummary counts the mock's callbacks by outcome, last HTTP status and error, for a failure message.
func callbackSummary(gw *gatewaytest.Gateway) map[string]int {
	out := map[string]int{}
	for _, c := range gw.Callbacks() {
		out[fmt.Sprintf("%s attempts>1=%v HTTP %d", c.Outcome, c.Attempts > 1, c.HTTPStatus)]++
	}
	return out
}

// deliveredAll waits until the mock finished every callback and returns them; each must be delivered.
func deliveredAll(t *testing.T, gw *gatewaytest.Gateway, want int) []gatewaytest.Callback {
	t.Helper()
	var cbs []gatewaytest.Callback
	require.Eventually(t, func() bool {
		cbs = gw.Callbacks()
		if len(cbs) < want {
			return false
		}
		for _, c := range cbs {
			if c.Outcome == gatewaytest.OutcomePending {
				return false
			}
		}
		return true
	}, faultEventually, 5*time.Millisecond, "the mock did not finish posting %d callbacks", want)
	for _, c := range cbs {
		require.Equal(t, gatewaytest.OutcomeDelivered, c.Outcome, "%s: %v", c.Header.RelatesTo, c.Err)
	}
	return cbs
}

// terminate ends every session of application app (this test's own, never another's) and returns how
// many there were and how many of them were LISTENing.
func terminate(t *testing.T, app string) (sessions, listening int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgtest.ServerURL())
	require.NoError(t, err)
	defer conn.Close(ctx)
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE query ILIKE 'listen %')
		FROM (SELECT query, pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()) s`,
		app).Scan(&sessions, &listening))
	return sessions, listening
}

// listeners counts the sessions of app that are LISTENing.
func listeners(t *testing.T, app string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgtest.ServerURL())
	require.NoError(t, err)
	defer conn.Close(ctx)
	var n int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND query ILIKE 'listen %'`,
		app).Scan(&n))
	return n
}

// namedPool opens a pool on url whose sessions are named app.
func namedPool(t *testing.T, url, app string, maxConns int32) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.NewWithConfig(context.Background(), poolConfig(t, url, app, maxConns))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

// TestFaultListenConnectionKilled: replica A waits, replica B stores the results. A's sessions, its LISTEN
// connection among them, are killed with pg_terminate_backend. Results B stores while A is not listening
// wake A's waiters when its listener reconnects (the backlog re-check); later ones by NOTIFY again. The
// periodic re-check is set to an hour, so that neither can be mistaken for it.
func TestFaultListenConnectionKilled(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	appA, appB := appName(), appName()
	poolA, poolB := namedPool(t, url, appA, 4), namedPool(t, url, appB, 4)
	require.NoError(t, pgstore.Migrate(ctx, poolA))
	a := openStore(t, poolA, pgstore.WithRecheckInterval(time.Hour), pgstore.WithLogger(quiet()))
	b := openStore(t, poolB, pgstore.WithLogger(quiet()))
	require.Eventually(t, func() bool { return listeners(t, appA) == 1 }, faultEventually, 10*time.Millisecond, "A listens")

	register := func(n int) []*correlate.Pending {
		ps := make([]*correlate.Pending, n)
		for i := range ps {
			var err error
			ps[i], err = a.RegisterOperation(ctx, storetest.Key("EnableProfile"), time.Now().Add(time.Hour))
			require.NoError(t, err)
		}
		return ps
	}
	deliverAtB := func(ps []*correlate.Pending) {
		for _, p := range ps {
			res, err := b.DeliverCallback(ctx, correlate.Delivery{RelatesTo: p.Key().MessageID, MessageID: "//cb/" + p.Key().MessageID,
				Value: storetest.Success()})
			require.NoError(t, err)
			require.Equal(t, correlate.Matched, res.Match)
		}
	}
	requireWoken := func(what string, ps []*correlate.Pending) {
		t.Helper()
		for _, p := range ps {
			select {
			case <-p.Done():
			case <-time.After(faultEventually):
				t.Fatalf("%s: A's waiter %s was not woken", what, p.Key().MessageID)
			}
			v, err, resolved := p.Result()
			require.True(t, resolved, what)
			require.NoError(t, err, what)
			require.IsType(t, &rps.ES4EnableProfileResponse{}, v, what)
		}
	}

	before := register(10)
	deliverAtB(before)
	requireWoken("NOTIFY", before)

	during := register(10)
	sessions, listening := terminate(t, appA)
	require.Equal(t, 1, listening, "A's LISTEN connection was among the %d sessions killed", sessions)
	// Stored while A's listener is gone (it reconnects after a second): the notifications are lost to A.
	deliverAtB(during)
	requireWoken("backlog re-check after the listener reconnected", during)
	require.Eventually(t, func() bool { return listeners(t, appA) == 1 }, faultEventually, 10*time.Millisecond, "A listens again")

	after := register(10)
	deliverAtB(after)
	requireWoken("NOTIFY after the reconnect", after)
	assert.Zero(t, a.Waiting())
}

// TestFaultConnectionsKilledMidRun: the store's sessions are killed again and again while calls start
// and their callbacks arrive. A statement that meets a killed session is run again on another connection,
// so no call fails for it (one that did would have to fail with a StoreError before anything was sent);
// every call gets its result once; every callback is eventually acknowledged.
func TestFaultConnectionsKilledMidRun(t *testing.T) {
	const calls = 100
	app := appName()
	pool := namedPool(t, pgtest.URL(t), app, 8)
	require.NoError(t, pgstore.Migrate(context.Background(), pool))
	r := newFaultRig(t, pool, pgstore.WithRecheckInterval(200*time.Millisecond))

	stop := make(chan struct{})
	var kills, killed atomic.Int64
	var killer sync.WaitGroup
	killer.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(40 * time.Millisecond):
			}
			n, _ := terminate(t, app)
			kills.Add(1)
			killed.Add(int64(n))
		}
	})

	var mu sync.Mutex
	ops := map[string]*esimgw.Operation[*esimgw.EISResult]{}
	var accepted, refused []string
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range calls {
		fcID := fmt.Sprintf("killed-%04d", i)
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			op, err := r.audit(context.Background(), fcID)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				requireStoreError(t, r.gw, fcID, err)
				refused = append(refused, fcID)
				return
			}
			ops[fcID] = op
			accepted = append(accepted, fcID)
		})
	}
	wg.Wait()
	// Keep killing while the last callbacks arrive.
	require.Eventually(t, func() bool { return len(r.gw.Callbacks()) == len(accepted) }, faultEventually, 5*time.Millisecond)
	time.Sleep(200 * time.Millisecond)
	close(stop)
	killer.Wait()
	t.Logf("%d kills ended %d sessions; %d calls accepted, %d refused before sending", kills.Load(), killed.Load(), len(accepted), len(refused))
	require.Positive(t, killed.Load(), "sessions were killed")
	assert.Empty(t, refused, "a killed session is retried on another connection, not failed")

	r.waitAll(t, ops)
	deliveredAll(t, r.gw, len(accepted))
	lost, twice := r.book.lostAndDoubled(accepted)
	assert.Zero(t, lost, "lost")
	assert.Zero(t, twice, "resolved twice")
	assert.Equal(t, len(accepted), resolvedRows(t, pool, accepted))
	for _, id := range refused {
		assert.Zero(t, r.gw.Arrivals(id), id)
	}
}

// TestFaultSlowDatabase: every chunk to and from the database is delayed. Calls and callbacks are slower
// and nothing is lost; a call whose context ends before the store has recorded it fails with a StoreError
// that says so, before anything is sent; with the latency gone, calls are as before.
func TestFaultSlowDatabase(t *testing.T) {
	const calls = 50
	pool, proxy, _ := proxiedPool(t, 8)
	require.NoError(t, pgstore.Migrate(context.Background(), pool))
	r := newFaultRig(t, pool, pgstore.WithRecheckInterval(200*time.Millisecond))

	proxy.setLatency(15 * time.Millisecond)
	ops, ids := r.startAudits(t, "slow", calls)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	_, err := r.audit(ctx, "slow-deadline")
	cancel()
	requireStoreError(t, r.gw, "slow-deadline", err)
	require.ErrorIs(t, err, context.DeadlineExceeded, "the error says the caller's deadline ended it")

	r.waitAll(t, ops)
	deliveredAll(t, r.gw, calls)
	lost, twice := r.book.lostAndDoubled(ids)
	assert.Zero(t, lost, "lost")
	assert.Zero(t, twice, "resolved twice")
	assert.Equal(t, calls, resolvedRows(t, pool, ids))

	proxy.setLatency(0)
	op, err := r.audit(context.Background(), "fast-again")
	require.NoError(t, err)
	r.waitAll(t, map[string]*esimgw.Operation[*esimgw.EISResult]{"fast-again": op})
}

package reliability_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/es4"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/soap"
)

// eventually bounds every wait for something to happen over loopback. Nothing here measures time: a
// generous bound only keeps a broken test from hanging.
const eventually = 30 * time.Second

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// logBuffer is a concurrency-safe slog sink for assertions on log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newLogBuffer() (*logBuffer, *slog.Logger) {
	b := &logBuffer{}
	return b, slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// attempts records the exact bytes of every HTTP attempt a client makes, so that a test can prove a retry
// resent the same MessageID and FunctionCallIdentifier.
type attempts struct {
	next http.RoundTripper
	mu   sync.Mutex
	sent [][]byte
}

func (a *attempts) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.GetBody != nil {
		if body, err := r.GetBody(); err == nil {
			data, _ := io.ReadAll(body)
			a.mu.Lock()
			a.sent = append(a.sent, data)
			a.mu.Unlock()
		}
	}
	return a.next.RoundTrip(r)
}

// bodies returns the attempts whose envelope carries the FunctionCallIdentifier fcID.
func (a *attempts) bodies(fcID string) [][]byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out [][]byte
	for _, b := range a.sent {
		if bytes.Contains(b, []byte(">"+fcID+"<")) {
			out = append(out, b)
		}
	}
	return out
}

// ledger is what the application saw: results through Wait, callbacks and notifications through the
// unmatched and notification handlers, duplicate reports. Lost and duplicated are counted from it.
type ledger struct {
	mu sync.Mutex
	// results counts, per FunctionCallIdentifier, the results that reached the application: a Wait that
	// returned something other than ErrAbandoned, or an unmatched handler that accepted the callback.
	results map[string]int
	// unmatched holds every Inbound the unmatched handler accepted, duplicates every duplicate report.
	unmatched  []*esimgw.Inbound
	duplicates []*esimgw.Inbound
	// notifications counts notifications the notification handler accepted, by "kind iccid".
	notifications map[string]int
	// failUnmatched and failNotifications make the handlers fail that many times first (the gateway
	// then retries); handlerCalls counts every invocation, failed ones included.
	failUnmatched, failNotifications int
	handlerCalls                     int
}

func newLedger() *ledger {
	return &ledger{results: map[string]int{}, notifications: map[string]int{}}
}

var errHandlerDown = errors.New("application store unavailable (test)")

func (l *ledger) onUnmatched(_ context.Context, in *esimgw.Inbound) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.handlerCalls++
	if l.failUnmatched > 0 {
		l.failUnmatched--
		return errHandlerDown
	}
	l.unmatched = append(l.unmatched, in)
	if in.Kind == esimgw.InboundCallback {
		l.results[in.FunctionCallIdentifier()]++
	}
	return nil
}

func (l *ledger) onDuplicate(_ context.Context, in *esimgw.Inbound) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.duplicates = append(l.duplicates, in)
}

func (l *ledger) onNotification(_ context.Context, n *esimgw.Notification) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.handlerCalls++
	if l.failNotifications > 0 {
		l.failNotifications--
		return errHandlerDown
	}
	l.notifications[string(n.Kind)+" "+n.Iccid]++
	return nil
}

// waited records what Wait returned for fcID.
func (l *ledger) waited(fcID string, err error) {
	if errors.Is(err, esimgw.ErrAbandoned) {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.results[fcID]++
}

func (l *ledger) unmatchedOf(fcID string) []*esimgw.Inbound {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*esimgw.Inbound
	for _, in := range l.unmatched {
		if in.FunctionCallIdentifier() == fcID {
			out = append(out, in)
		}
	}
	return out
}

func (l *ledger) duplicateCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.duplicates)
}

// lostAndDuplicated returns, over fcIDs, how many results never reached the application and how many
// reached it more than once.
func (l *ledger) lostAndDuplicated(fcIDs ...string) (lost, dup int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range fcIDs {
		switch n := l.results[id]; {
		case n == 0:
			lost++
		case n > 1:
			dup += n - 1
		}
	}
	return lost, dup
}

func (l *ledger) dispatcherOptions() []esimgw.DispatcherOption {
	return []esimgw.DispatcherOption{
		esimgw.WithDispatcherLogger(quiet()),
		esimgw.WithUnmatchedHandler(l.onUnmatched),
		esimgw.WithDuplicateHandler(l.onDuplicate),
		esimgw.WithNotificationHandler(esimgw.NotificationHandlerFunc(l.onNotification)),
	}
}

// fastRetry retries quickly, so that fault tests do not sleep through the default backoff.
var fastRetry = soap.RetryPolicy{MaxAttempts: 5, InitialInterval: 5 * time.Millisecond, MaxInterval: 50 * time.Millisecond, MaxElapsed: eventually}

// rig is the operator side against the mock: Dispatcher + mTLS CallbackServer (gatewaytest.Operator), an
// es4.Client over mTLS whose HTTP attempts are recorded, and the ledger of what the application saw.
type rig struct {
	gw     *gatewaytest.Gateway
	op     *gatewaytest.Operator
	client *es4.Client
	sent   *attempts
	book   *ledger
}

func newRig(t testing.TB, gwOpts []gatewaytest.Option, cOpts ...esimgw.Option) *rig {
	t.Helper()
	gw := gatewaytest.Start(t, append([]gatewaytest.Option{
		gatewaytest.WithLogger(quiet()),
		gatewaytest.WithCallbackRetry(fastRetry),
	}, gwOpts...)...)
	book := newLedger()
	op := gatewaytest.NewOperator(t, gw, book.dispatcherOptions()...)
	gw.SetNotificationURL(gatewaytest.ES2, "") // the ledger counts ES4 notifications only
	tr := soap.NewTransport(gw.ClientTLSConfig())
	t.Cleanup(tr.CloseIdleConnections)
	r := &rig{gw: gw, op: op, sent: &attempts{next: tr}, book: book}
	r.client = r.newClient(t, r.sent, cOpts...)
	return r
}

// newClient returns an es4 client of the rig's operator that sends through rt, retrying fast.
func (r *rig) newClient(t testing.TB, rt http.RoundTripper, cOpts ...esimgw.Option) *es4.Client {
	t.Helper()
	c, err := es4.NewClient(r.gw.ES4URL, slices.Concat(r.op.Options, []esimgw.Option{
		esimgw.WithPeerEntityID(r.gw.SMSRID),
		esimgw.WithHTTPClient(&http.Client{Transport: rt}),
		esimgw.WithSOAPOptions(soap.WithRetryPolicy(fastRetry), soap.WithLogger(quiet())),
	}, cOpts)...)
	require.NoError(t, err)
	return c
}

// wait waits for op and records what the application got.
func (r *rig) wait(t testing.TB, op *esimgw.Operation[*esimgw.Result]) (*esimgw.Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), eventually)
	defer cancel()
	res, err := op.Wait(ctx)
	r.book.waited(op.FunctionCallIdentifier(), err)
	return res, err
}

// deliveredCallbacks waits until the mock has finished every callback it posted (none pending) and
// returns them.
func deliveredCallbacks(t testing.TB, gw *gatewaytest.Gateway, want int) []gatewaytest.Callback {
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
	}, eventually, 5*time.Millisecond, "the mock did not finish posting %d callbacks", want)
	return cbs
}

// identical reports whether every attempt carried the same bytes.
func identical(bodies [][]byte) bool {
	for _, b := range bodies[1:] {
		if !bytes.Equal(b, bodies[0]) {
			return false
		}
	}
	return true
}

func injectedNames(reqs []gatewaytest.Request) []string {
	var out []string
	for _, r := range reqs {
		if r.Injected != "" {
			out = append(out, r.Injected)
		}
	}
	return out
}

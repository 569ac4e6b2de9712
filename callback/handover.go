package callback

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/esimgw/esimgw/soap"
)

// HandOver is a message being handed to the Server's handler, or a request on another route
// being served: something the sender will retry unless it gets its answer.
type HandOver struct {
	MessageID string // the message's wsa:MessageID ("" on other routes)
	Action    string // its wsa:Action, or the request path on other routes
	Remote    string
	Since     time.Time
}

// ShutdownError is what Shutdown and Close report when their wait ended before every hand-over in flight
// was answered. Those hand-overs go on (their goroutines are not stopped) and are answered if the process
// lives long enough: calling Shutdown again waits for them. A process that exits now cuts them off, and
// their senders will post them again, so the handler sees them twice (the Dispatcher reports the second
// as a duplicate).
type ShutdownError struct {
	InFlight []HandOver
	Err      error // the context's error, or the wait's
}

func (e *ShutdownError) Error() string {
	var b strings.Builder
	b.WriteString("esimgw: callback server stopped waiting with ")
	b.WriteString(strconv.Itoa(len(e.InFlight)))
	b.WriteString(" hand-over(s) unanswered")
	for i, h := range e.InFlight {
		if i == 5 {
			b.WriteString(", ...")
			break
		}
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString(", ")
		}
		if h.MessageID != "" {
			b.WriteString(h.MessageID)
		} else {
			b.WriteString(h.Action)
		}
	}
	if e.Err != nil {
		b.WriteString(" (")
		b.WriteString(e.Err.Error())
		b.WriteByte(')')
	}
	return b.String()
}

func (e *ShutdownError) Unwrap() error { return e.Err }

// inflight tracks the requests being served and, once the server is closing, refuses new ones with 503
// before anything is handed over: a message is handed over only while its answer can still be written.
type inflight struct {
	mu      sync.Mutex
	closing bool
	active  map[*HandOver]struct{}
	changed chan struct{} // closed (and replaced) whenever active shrinks while someone waits
	waiters int           // waits watching changed: without any, a finish need not replace it
}

func newInflight() *inflight {
	return &inflight{active: map[*HandOver]struct{}{}, changed: make(chan struct{})}
}

type handOverKey struct{}

// refuse answers 503 with Retry-After and closes the connection: the sender retries, elsewhere or later.
func refuse(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "1")
	w.Header().Set("Connection", "close")
	http.Error(w, "callback server shutting down", http.StatusServiceUnavailable)
}

// wrap tracks every request of h. With soap set, the request counts as a hand-over only from the moment
// its decoded message reaches the gate (ServeSOAP); other routes count from the start.
func (f *inflight) wrap(h http.Handler, soapRoute bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ho := &HandOver{Action: r.URL.Path, Remote: r.RemoteAddr, Since: time.Now()}
		if !soapRoute && !f.start(ho) {
			refuse(w)
			return
		}
		if soapRoute {
			f.mu.Lock()
			closing := f.closing
			f.mu.Unlock()
			if closing {
				refuse(w)
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), handOverKey{}, ho))
		}
		h.ServeHTTP(w, r)
		if f.tracked(ho) {
			// The answer is on the wire before the hand-over counts as done, so that Close cannot cut
			// the connection between the two.
			_ = flush(w)
			f.finish(ho)
		}
	})
}

func (f *inflight) start(ho *HandOver) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closing {
		return false
	}
	f.active[ho] = struct{}{}
	return true
}

func (f *inflight) tracked(ho *HandOver) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.active[ho]
	return ok
}

func (f *inflight) finish(ho *HandOver) {
	f.mu.Lock()
	delete(f.active, ho)
	if f.waiters > 0 {
		close(f.changed)
		f.changed = make(chan struct{})
	}
	f.mu.Unlock()
}

// flush is http.ResponseController's Flush without the controller, which costs an allocation on every
// callback: the writer's FlushError or Flush, looking through Unwrap as the controller does.
func flush(w http.ResponseWriter) error {
	for {
		switch t := w.(type) {
		case interface{ FlushError() error }:
			return t.FlushError()
		case http.Flusher:
			t.Flush()
			return nil
		case interface{ Unwrap() http.ResponseWriter }:
			w = t.Unwrap()
		default:
			return fmt.Errorf("%w", http.ErrNotSupported)
		}
	}
}

// close refuses every hand-over from now on.
func (f *inflight) close() {
	f.mu.Lock()
	f.closing = true
	f.mu.Unlock()
}

func (f *inflight) snapshot() []HandOver {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]HandOver, 0, len(f.active))
	for ho := range f.active {
		out = append(out, *ho)
	}
	return out
}

// wait returns once no hand-over is active, or a *ShutdownError listing them when ctx ends first.
func (f *inflight) wait(ctx context.Context) error {
	for {
		f.mu.Lock()
		n, changed := len(f.active), f.changed
		if n > 0 {
			f.waiters++ // in the same critical section: the next finish closes this very channel
		}
		f.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-changed:
			f.unwait()
		case <-ctx.Done():
			f.unwait()
			return &ShutdownError{InFlight: f.snapshot(), Err: ctx.Err()}
		}
	}
}

func (f *inflight) unwait() {
	f.mu.Lock()
	f.waiters--
	f.mu.Unlock()
}

// errClosing is the fault a message gets when it arrives while the server is closing: 503, not handed over.
var errClosing = func() *soap.Fault {
	f := soap.ReceiverFault("callback server shutting down; retry later")
	f.HTTPStatus = http.StatusServiceUnavailable
	return f
}

// gate is the MessageHandler between the soap.Handler and the application's: it admits a message as a
// hand-over unless the server is closing.
type gate struct {
	f    *inflight
	next soap.MessageHandler
}

func (g gate) admit(ctx context.Context, h *soap.Header) bool {
	ho, _ := ctx.Value(handOverKey{}).(*HandOver)
	if ho == nil {
		ho = &HandOver{Since: time.Now()}
	}
	if h != nil {
		ho.MessageID, ho.Action = h.MessageID, h.Action
	}
	return g.f.start(ho)
}

func (g gate) ServeSOAP(ctx context.Context, m *soap.Message) (*soap.Reply, error) {
	if !g.admit(ctx, &m.Header) {
		return nil, errClosing()
	}
	return g.next.ServeSOAP(ctx, m)
}

// ChooseBody passes the choice of the body's value on to a handler that makes it (the Dispatcher does), so
// that the body is decoded in the same pass as the envelope.
func (g gate) ChooseBody(local []byte) soap.BodyReader {
	if c, ok := g.next.(soap.BodyChooser); ok {
		return c.ChooseBody(local)
	}
	return nil
}

// ServeMalformed passes malformed messages on to a handler that wants them (the Dispatcher does).
func (g gate) ServeMalformed(ctx context.Context, h *soap.Header, cause error) error {
	mh, ok := g.next.(soap.MalformedMessageHandler)
	if !ok {
		return nil
	}
	if !g.admit(ctx, h) {
		return errors.New("callback server shutting down")
	}
	return mh.ServeMalformed(ctx, h, cause)
}

// String names the gate in logs.
func (g gate) String() string { return fmt.Sprintf("esimgw.gate(%T)", g.next) }

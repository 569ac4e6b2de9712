package callback

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	refuse  atomic.Bool        // closing, read without mu by the routes before they start
	active  map[*slot]struct{} // the active hand-overs of requests served without a connection slot
	slots   int                // the active hand-overs of connection slots (conns)
	changed chan struct{}      // closed (and replaced) whenever a hand-over ends while someone waits
	waiters int                // waits watching changed: without any, a finish need not replace it
	// conns holds the slot of each connection of the Server's own http.Server (net.Conn to *slot, see
	// connContext): HTTP/1.1 serves one request at a time on a connection, so one slot a connection
	// serves every SOAP message it carries, counted in slots rather than kept in active, and the answer
	// counts as written when the connection goes idle or closes (connState), without a flush of the
	// handler's own.
	conns sync.Map
}

// slot is a hand-over being tracked: a connection's (reused by each of its requests) or one request's.
type slot struct {
	ho      HandOver
	owner   *inflight // whose connection: a Server mounted in another's route sees that one's slots
	request bool      // one request's (in active), not a connection's (counted in slots)
	on      bool      // an active hand-over; guarded by inflight.mu, as ho is while on
}

func newInflight() *inflight {
	return &inflight{active: map[*slot]struct{}{}, changed: make(chan struct{})}
}

// handOverKey is the context key of the *slot a message's gate admits: the connection's (connContext)
// or, where there is none (HTTP/2, a Handler mounted in another server), the request's own (wrap).
type handOverKey struct{}

// connContext is the http.Server's ConnContext: the connection's slot, in the context every request on it
// derives from.
func (f *inflight) connContext(ctx context.Context, c net.Conn) context.Context {
	s := &slot{owner: f}
	f.conns.Store(c, s)
	return context.WithValue(ctx, handOverKey{}, s)
}

// connState is the http.Server's ConnState. net/http goes idle (or closes the connection) only once the
// answer was written and flushed: from then on a hand-over of this connection is done.
func (f *inflight) connState(c net.Conn, st http.ConnState) {
	switch st {
	case http.StateIdle:
		if s, ok := f.conns.Load(c); ok {
			f.finish(s.(*slot))
		}
	case http.StateClosed, http.StateHijacked:
		if s, ok := f.conns.LoadAndDelete(c); ok {
			f.finish(s.(*slot))
		}
	}
}

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
		if soapRoute && f.refuse.Load() {
			refuse(w)
			return
		}
		if soapRoute && r.ProtoMajor == 1 {
			if s, ok := r.Context().Value(handOverKey{}).(*slot); ok && !s.request && s.owner == f {
				// The connection's slot: connState ends its hand-over once the answer is written. Not
				// on now (the connection's previous answer went idle first), so nobody reads ho.
				s.ho = HandOver{Action: r.URL.Path, Remote: r.RemoteAddr, Since: time.Now()}
				h.ServeHTTP(w, r)
				return
			}
		}
		s := &slot{ho: HandOver{Action: r.URL.Path, Remote: r.RemoteAddr, Since: time.Now()}, request: true}
		if !soapRoute && !f.start(s) {
			refuse(w)
			return
		}
		if soapRoute {
			r = r.WithContext(context.WithValue(r.Context(), handOverKey{}, s))
			w = lengthedAck{w}
		}
		h.ServeHTTP(w, r)
		if f.tracked(s) {
			// The answer is on the wire before the hand-over counts as done, so that Close cannot cut
			// the connection between the two.
			_ = flush(w)
			f.finish(s)
		}
	})
}

// lengthedAck gives a bodiless 202 its Content-Length: 0 where wrap flushes the answer before the
// handler returns, which net/http would otherwise send chunked, the end of its chunks in a second write
// that both sides pay for. Answers with a body (soap.Handler's faults and replies) carry their length.
type lengthedAck struct{ http.ResponseWriter }

func (w lengthedAck) WriteHeader(code int) {
	if code == http.StatusAccepted && w.Header().Get("Content-Length") == "" {
		w.Header().Set("Content-Length", "0")
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w lengthedAck) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// start begins the hand-over of s, unless the server is closing.
func (f *inflight) start(s *slot) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closing {
		return false
	}
	s.on = true
	if s.request {
		f.active[s] = struct{}{}
	} else {
		f.slots++
	}
	return true
}

func (f *inflight) tracked(s *slot) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return s.on
}

// finish ends the hand-over of s, if one is on.
func (f *inflight) finish(s *slot) {
	f.mu.Lock()
	if !s.on {
		f.mu.Unlock()
		return
	}
	s.on = false
	if s.request {
		delete(f.active, s)
	} else {
		f.slots--
	}
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
	f.refuse.Store(true)
	f.mu.Unlock()
}

func (f *inflight) snapshot() []HandOver {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]HandOver, 0, len(f.active)+f.slots)
	for s := range f.active {
		out = append(out, s.ho)
	}
	if f.slots > 0 {
		f.conns.Range(func(_, v any) bool {
			if s := v.(*slot); s.on {
				out = append(out, s.ho)
			}
			return true
		})
	}
	return out
}

// wait returns once no hand-over is active, or a *ShutdownError listing them when ctx ends first.
func (f *inflight) wait(ctx context.Context) error {
	for {
		f.mu.Lock()
		n, changed := len(f.active)+f.slots, f.changed
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
	s, _ := ctx.Value(handOverKey{}).(*slot)
	if s == nil {
		s = &slot{ho: HandOver{Since: time.Now()}, request: true}
	}
	if h != nil {
		s.ho.MessageID, s.ho.Action = h.MessageID, h.Action
	}
	return g.f.start(s)
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

package gatewaytest

import (
	"io"
	"net"
	"net/http"
	"reflect"
	"time"

	"github.com/esimgw/esimgw/soap"
)

// Fault is an injected misbehaviour, switched on per test with Inject and off with Reset. Every fault has
// a Times field: how many times it fires before it switches itself off; zero means until Reset.
type Fault interface{ fault() }

// RefuseConnections closes new TCP connections as soon as they are accepted, before the TLS handshake:
// the client sees its connection refused or reset.
type RefuseConnections struct{ Times int }

// ResetConnections reads the request and then resets the connection without answering: the client cannot
// know whether the request was executed (it was not).
type ResetConnections struct{ Times int }

// ServiceUnavailable answers 503 Service Unavailable without looking at the request.
type ServiceUnavailable struct{ Times int }

// Delay202 holds the answer to an async request for Delay after the request was accepted (the callback
// is not held, so it may well arrive first).
type Delay202 struct {
	Delay time.Duration
	Times int
}

// CallbackBefore202 executes the function and delivers its callback before answering 202.
type CallbackBefore202 struct{ Times int }

// DuplicateCallbacks posts each callback Copies times in all (default 2), same bytes, same MessageID.
type DuplicateCallbacks struct {
	Copies int
	Times  int
}

// ReorderCallbacks holds callbacks until Batch of them (default 2) are ready and posts them in reverse order.
type ReorderCallbacks struct {
	Batch int
	Times int // how many batches
}

// CallbacksWithoutRelatesTo omits wsa:RelatesTo from callbacks, as a gSOAP SM-SR was seen to do in a captured callback:
// only the TransactionId in the MessageID correlates them.
type CallbacksWithoutRelatesTo struct{ Times int }

// MalformedCallback posts a callback cut in the middle of its body: not well-formed XML.
type MalformedCallback struct{ Times int }

// SOAPFault answers requests with a SOAP fault instead of executing them: Fault, or env:Receiver (HTTP 500)
// when nil.
type SOAPFault struct {
	Fault *soap.Fault
	Times int
}

func (RefuseConnections) fault()         {}
func (ResetConnections) fault()          {}
func (ServiceUnavailable) fault()        {}
func (Delay202) fault()                  {}
func (CallbackBefore202) fault()         {}
func (DuplicateCallbacks) fault()        {}
func (ReorderCallbacks) fault()          {}
func (CallbacksWithoutRelatesTo) fault() {}
func (MalformedCallback) fault()         {}
func (SOAPFault) fault()                 {}

type activeFault struct {
	f     Fault
	left  int // remaining firings; <0 = unlimited
	fired int
}

func times(f Fault) int {
	switch f := f.(type) {
	case RefuseConnections:
		return f.Times
	case ResetConnections:
		return f.Times
	case ServiceUnavailable:
		return f.Times
	case Delay202:
		return f.Times
	case CallbackBefore202:
		return f.Times
	case DuplicateCallbacks:
		return f.Times
	case ReorderCallbacks:
		return f.Times
	case CallbacksWithoutRelatesTo:
		return f.Times
	case MalformedCallback:
		return f.Times
	case SOAPFault:
		return f.Times
	}
	return 0
}

// Inject switches faults on. They fire in the order injected, each until its Times are used up.
func (g *Gateway) Inject(faults ...Fault) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, f := range faults {
		if f == nil {
			continue
		}
		n := times(f)
		if n <= 0 {
			n = -1
		}
		g.faults = append(g.faults, &activeFault{f: f, left: n})
	}
}

// Reset switches every fault off. Callbacks held by ReorderCallbacks are released in order.
func (g *Gateway) Reset() {
	g.mu.Lock()
	g.faults = nil
	held := g.reorder
	g.reorder = nil
	g.mu.Unlock()
	for _, p := range held {
		g.dispatch(p)
	}
}

// FaultsFired returns how many times faults of the same type as f fired since they were injected
// (f's field values are ignored).
func (g *Gateway) FaultsFired(f Fault) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, a := range g.faults {
		if sameType(a.f, f) {
			n += a.fired
		}
	}
	return n
}

// sameType reports whether a and b are the same kind of fault (their Times and options may differ).
func sameType(a, b Fault) bool { return reflect.TypeOf(a) == reflect.TypeOf(b) }

// takeLocked consumes one firing of the first live fault for which match returns true.
func (g *Gateway) takeLocked(match func(Fault) bool) (Fault, bool) {
	for _, a := range g.faults {
		if a.left == 0 || !match(a.f) {
			continue
		}
		if a.left > 0 {
			a.left--
		}
		a.fired++
		return a.f, true
	}
	return nil, false
}

func (g *Gateway) take(match func(Fault) bool) (Fault, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.takeLocked(match)
}

func is[T Fault](f Fault) bool { _, ok := f.(T); return ok }

// faultListener closes connections at accept while RefuseConnections is on.
type faultListener struct {
	net.Listener
	g *Gateway
}

func (l *faultListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if _, ok := l.g.take(is[RefuseConnections]); ok {
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // RST, not FIN
			}
			_ = c.Close()
			l.g.recordInjected("", "RefuseConnections")
			continue
		}
		return c, nil
	}
}

// faultMiddleware applies the transport-level faults that do not need the decoded request.
func (g *Gateway) faultMiddleware(iface Interface, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := g.take(is[ServiceUnavailable]); ok {
			g.recordInjected(iface, "ServiceUnavailable")
			http.Error(w, "service unavailable (injected)", http.StatusServiceUnavailable)
			return
		}
		if _, ok := g.take(is[ResetConnections]); ok {
			g.recordInjected(iface, "ResetConnections")
			// Read the whole request first, as documented: the client has written it to its last byte
			// and cannot know whether it ran. (A reset while it is still writing is a failed write,
			// which the client may retry.)
			_, _ = io.Copy(io.Discard, r.Body)
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					if tc, ok := c.(interface{ NetConn() net.Conn }); ok {
						if t, ok := tc.NetConn().(*net.TCPConn); ok {
							_ = t.SetLinger(0)
						}
					}
					_ = c.Close()
					return
				}
			}
			// Hijacking failed (it cannot with HTTP/1.1, which the mock serves): answer something broken.
			http.Error(w, "connection reset (injected)", http.StatusInternalServerError)
			return
		}
		next.ServeHTTP(w, r)
	})
}

package engine

import (
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/esimgw/esimgw/correlate"
)

// linkTable remembers, for asynchronous calls in flight, the span that sent them and when, by MessageID and
// by TransactionID, so that the callback continues that trace: W3C trace context does not travel on the
// SOAP wire. It holds at most size calls; the oldest is forgotten first (its callback then starts a trace
// of its own and has no latency recorded), so an operation abandoned without a callback cannot leak.
type linkTable struct {
	mu   sync.Mutex
	size int
	m    map[string]*linkEntry
	ring []*linkEntry
	next int
}

type linkEntry struct {
	msgID, txID string
	sc          trace.SpanContext
	sent        time.Time
}

const defaultLinkTableSize = 1 << 16

func (l *linkTable) put(key correlate.OperationKey, sc trace.SpanContext, sent time.Time) {
	e := &linkEntry{msgID: key.MessageID, txID: key.TransactionID, sc: sc, sent: sent}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = make(map[string]*linkEntry)
	}
	if len(l.ring) < l.size {
		l.ring = append(l.ring, e)
	} else {
		old := l.ring[l.next]
		l.forgetLocked(old)
		l.ring[l.next] = e
		l.next = (l.next + 1) % l.size
	}
	l.m[e.msgID] = e
	if e.txID != "" {
		l.m["tx:"+e.txID] = e
	}
}

func (l *linkTable) forgetLocked(e *linkEntry) {
	if l.m[e.msgID] == e {
		delete(l.m, e.msgID)
	}
	if e.txID != "" && l.m["tx:"+e.txID] == e {
		delete(l.m, "tx:"+e.txID)
	}
}

// lookup finds the call a callback answers, by RelatesTo first, as the Tracker matches.
func (l *linkTable) lookup(relatesTo, txID string) *linkEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.m[relatesTo]; e != nil && relatesTo != "" {
		return e
	}
	if txID != "" {
		return l.m["tx:"+txID]
	}
	return nil
}

// forget drops e once its callback resolved the operation; its ring slot is reused in turn.
func (l *linkTable) forget(e *linkEntry) {
	l.mu.Lock()
	l.forgetLocked(e)
	l.mu.Unlock()
}

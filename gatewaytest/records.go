package gatewaytest

import "iter"

// WithRecordLimit keeps only the n most recent requests and the n most recent deliveries (callbacks and
// notifications together) for Requests, Arrivals, Callbacks and Notifications; older records are dropped,
// oldest first. n <= 0, the default, keeps every record for the life of the gateway, which is what a
// test of a few calls wants and why it stays the default; a long run (a fleet of 100k eUICCs, a soak)
// sets a limit so that the mock's memory does not grow with every call. Stats counts everything either
// way.
func WithRecordLimit(n int) Option { return func(c *config) { c.recordLimit = max(n, 0) } }

// WithDuplicateWindow makes the mock remember only the n most recent FunctionCallIdentifiers (per sender
// and interface) for de-duplication: a retry of one of them is still answered without a second execution,
// a retry of an older one is executed again, as by a gateway whose de-duplication memory expired.
// Executions only sees identifiers still in the window. n <= 0, the default, remembers every identifier
// for the life of the gateway. Pick n well above the calls a test can have in flight at once.
func WithDuplicateWindow(n int) Option { return func(c *config) { c.dedupWindow = max(n, 0) } }

// WithoutDeduplication makes the mock execute every request it reads, retries of a FunctionCallIdentifier
// included, as a gateway that does not de-duplicate would: an EnableProfile resent after it ran comes back
// FAILED 8.2.1/3.8 (already enabled), and Executions counts every execution. Tests use it to prove that
// the client itself never has a profile operation executed twice.
func WithoutDeduplication() Option { return func(c *config) { c.noDedup = true } }

// Stats counts what the mock did since it started, whatever WithRecordLimit keeps and ClearRecords
// forgets: a long run asserts on it in constant memory.
type Stats struct {
	// Requests received, refused ones and injected connection faults included (retries too).
	Requests int
	// Refused: requests answered with a SOAP fault (injected ones included).
	Refused int
	// Duplicates: retries of a FunctionCallIdentifier already executed, answered without executing.
	Duplicates int
	// Executed: function executions against the state (async: once the simulated eUICC answered).
	// Expired requests are not executed.
	Executed int
	// Failed: executions that ended FAILED (the state rules refused them).
	Failed int
	// Expired: async requests that ended EXPIRED (eUICC unreachable, or slower than the validity).
	Expired int
	// Callbacks and Notifications posted, one per copy (DuplicateCallbacks).
	Callbacks, Notifications int
	// Delivered and Undelivered: callbacks and notifications whose delivery ended, acknowledged by the
	// receiver or not. Callbacks + Notifications - Delivered - Undelivered are still being delivered.
	Delivered, Undelivered int
}

// Stats returns the counters.
func (g *Gateway) Stats() Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stats
}

// ring keeps the last limit values pushed, or every value when limit is 0.
type ring[T any] struct {
	limit int
	items []T
	start int // index of the oldest item once the ring is full
}

func newRing[T any](limit int) ring[T] { return ring[T]{limit: limit} }

// push appends v and returns the value it displaced, if the ring was full.
func (r *ring[T]) push(v T) (old T, evicted bool) {
	if r.limit <= 0 || len(r.items) < r.limit {
		r.items = append(r.items, v)
		return old, false
	}
	old, r.items[r.start] = r.items[r.start], v
	r.start++
	if r.start == r.limit {
		r.start = 0
	}
	return old, true
}

func (r *ring[T]) len() int { return len(r.items) }

// all yields the values kept, oldest first.
func (r *ring[T]) all() iter.Seq[T] {
	return func(yield func(T) bool) {
		for i := range r.items {
			if !yield(r.items[(r.start+i)%len(r.items)]) {
				return
			}
		}
	}
}

// clear forgets every value (and the backing array).
func (r *ring[T]) clear() { r.items, r.start = nil, 0 }

package faultqueue

import (
	"reflect"
	"sync"
)

// Queue holds the pending faults of a mock, of its Fault interface type F. The zero value is empty and
// ready; it is safe for concurrent use, and its lock is taken last (a mock may hold its own around it).
type Queue[F any] struct {
	mu      sync.Mutex
	pending []F
	fired   map[reflect.Type]int
}

// Add queues each fault, as many times as its Times field says.
func (q *Queue[F]) Add(faults ...F) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, f := range faults {
		for range times(f) {
			q.pending = append(q.pending, f)
		}
	}
}

// Fire counts f as fired without queueing it: a fault that acts at once when injected.
func (q *Queue[F]) Fire(f F) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.countLocked(f)
}

// Fired returns how often faults of f's type have fired.
func (q *Queue[F]) Fired(f F) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.fired[reflect.TypeOf(f)]
}

// Reset drops every pending fault; what fired stays counted.
func (q *Queue[F]) Reset() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending = nil
}

// Take removes and returns the first pending fault of type T that match accepts (nil: any of type T),
// counting it as fired.
func Take[T, F any](q *Queue[F], match func(T) bool) (T, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, f := range q.pending {
		t, ok := any(f).(T)
		if ok && (match == nil || match(t)) {
			q.pending = append(q.pending[:i], q.pending[i+1:]...)
			q.countLocked(f)
			return t, true
		}
	}
	var zero T
	return zero, false
}

func (q *Queue[F]) countLocked(f F) {
	if q.fired == nil {
		q.fired = map[reflect.Type]int{}
	}
	q.fired[reflect.TypeOf(f)]++
}

// times is how many times f is queued: its int field Times, at least 1.
func times(f any) int {
	v := reflect.ValueOf(f)
	if v.Kind() != reflect.Struct {
		return 1
	}
	if n := v.FieldByName("Times"); n.IsValid() && n.CanInt() {
		return max(int(n.Int()), 1)
	}
	return 1
}

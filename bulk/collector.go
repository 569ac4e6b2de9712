package bulk

import (
	"slices"
	"sync"
)

// Collector keeps outcomes for later inspection: all of them, or only the failures (NewFailureCollector),
// which is what a nightly audit usually needs and keeps memory proportional to the failures only. Its Add
// method is a sink for Run; it is safe for concurrent use.
type Collector[T any] struct {
	mu           sync.Mutex
	failuresOnly bool
	outcomes     []Outcome[T]
}

// NewCollector keeps every outcome. Memory then grows with the fleet: for large runs prefer a sink that
// writes outcomes out, or NewFailureCollector.
func NewCollector[T any]() *Collector[T] { return &Collector[T]{} }

// NewFailureCollector keeps only the outcomes with an error.
func NewFailureCollector[T any]() *Collector[T] { return &Collector[T]{failuresOnly: true} }

// Add records o (a sink for Run).
func (c *Collector[T]) Add(o Outcome[T]) {
	if c.failuresOnly && o.Err == nil {
		return
	}
	c.mu.Lock()
	c.outcomes = append(c.outcomes, o)
	c.mu.Unlock()
}

// Outcomes returns a copy of what was kept, in source order.
func (c *Collector[T]) Outcomes() []Outcome[T] {
	c.mu.Lock()
	out := slices.Clone(c.outcomes)
	c.mu.Unlock()
	slices.SortFunc(out, func(a, b Outcome[T]) int {
		switch {
		case a.Index < b.Index:
			return -1
		case a.Index > b.Index:
			return 1
		}
		return 0
	})
	return out
}

// Len is the number of outcomes kept.
func (c *Collector[T]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.outcomes)
}

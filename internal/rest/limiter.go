package rest

import (
	"context"
	"sync"
	"time"

	"github.com/esimgw/esimgw/internal/timing"
)

// WindowLimiter lets at most n events start in any interval of length window: the sliding-window rule
// Digi Remote Manager's throttles apply (docs/carriers.md). It keeps the start times of the last n
// events, so it is exact where a token bucket would allow a burst of n right after a full window.
type WindowLimiter struct {
	mu     sync.Mutex
	window time.Duration
	starts []time.Time // ring of the last n reserved start times, oldest at next
	next   int
}

// NewWindowLimiter returns a limiter of n events per window; n < 1 or window <= 0 returns nil, which
// Wait treats as no limit.
func NewWindowLimiter(n int, window time.Duration) *WindowLimiter {
	if n < 1 || window <= 0 {
		return nil
	}
	return &WindowLimiter{window: window, starts: make([]time.Time, 0, n)}
}

// reserve returns the start time of the next event: now, or when the n-th previous start leaves the
// window. Reserved times never decrease, so the ring's oldest entry is the one to compare with.
func (l *WindowLimiter) reserve(now time.Time) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.starts) < cap(l.starts) {
		t := now
		if n := len(l.starts); n > 0 && l.starts[n-1].After(t) {
			t = l.starts[n-1]
		}
		l.starts = append(l.starts, t)
		return t
	}
	t := l.starts[l.next].Add(l.window)
	if prev := l.starts[(l.next+len(l.starts)-1)%len(l.starts)]; prev.After(t) {
		t = prev
	}
	if now.After(t) {
		t = now
	}
	l.starts[l.next] = t
	l.next = (l.next + 1) % len(l.starts)
	return t
}

// Wait blocks until the caller may start. A caller whose ctx ends keeps its reservation (the slot is
// lost, never reused early), which errs on the side of sending less.
func (l *WindowLimiter) Wait(ctx context.Context) error {
	if l == nil {
		return ctx.Err()
	}
	return timing.Sleep(ctx, time.Until(l.reserve(time.Now())))
}

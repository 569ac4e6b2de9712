package bulk

import (
	"context"
	"sync"
	"time"

	"github.com/esimgw/esimgw/internal/timing"
)

// limiter is a token bucket: rate tokens a second, at most burst saved up. It is ours rather than
// golang.org/x/time/rate because Run needs only Wait, and a dependency for twenty lines is not worth it.
type limiter struct {
	mu     sync.Mutex
	rate   float64 // tokens per second
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time
}

func newLimiter(perSecond float64, burst int, now func() time.Time) *limiter {
	if burst < 1 {
		burst = 1
	}
	return &limiter{rate: perSecond, burst: float64(burst), tokens: float64(burst), now: now}
}

// reserve takes one token and returns how long the caller must wait before using it (zero: at once).
// Tokens may go negative: later callers then wait behind earlier ones, in order.
func (l *limiter) reserve() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if !l.last.IsZero() {
		l.tokens += now.Sub(l.last).Seconds() * l.rate
		if l.tokens > l.burst {
			l.tokens = l.burst
		}
	}
	l.last = now
	l.tokens--
	if l.tokens >= 0 {
		return 0
	}
	return time.Duration(-l.tokens / l.rate * float64(time.Second))
}

// wait blocks until a token is available or ctx ends.
func (l *limiter) wait(ctx context.Context) error {
	return timing.Sleep(ctx, l.reserve())
}

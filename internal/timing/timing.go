// Package timing holds the one way the module waits: for a duration, or until the caller gives up.
package timing

import (
	"context"
	"time"
)

// Sleep waits d, or until ctx ends, and returns ctx's error if it ended first. A d of zero or less does
// not wait: it returns ctx's error, nil while ctx is live. The timer is stopped either way, so that a
// sleep cut short leaves nothing behind for the garbage collector to wait on.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

package es2plus

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// dedup remembers the keys of notifications the application accepted, and
// the ones being handed over right now, so that a notification is handed
// over once. Memory is bounded by size and age.
type dedup struct {
	size int
	ttl  time.Duration
	now  func() time.Time

	mu    sync.Mutex
	slots map[string]*slot
	done  list.List // of *slot, oldest first (completed ones only)
}

type slot struct {
	keys     []string
	ready    chan struct{} // closed when the hand-over ended
	accepted bool          // valid once ready is closed
	at       time.Time
	elem     *list.Element
}

func newDedup(size int, ttl time.Duration, now func() time.Time) *dedup {
	return &dedup{size: size, ttl: ttl, now: now, slots: make(map[string]*slot)}
}

// claimResult says what the caller must do.
type claimResult int

const (
	claimOwner     claimResult = iota // hand the notification over, then call release
	claimDuplicate                    // already accepted: acknowledge without handing over
)

// claim returns claimOwner with a slot to release, claimDuplicate, or the
// context's error while waiting for a concurrent delivery of the same
// notification. A failed concurrent delivery lets this one take over.
func (d *dedup) claim(ctx context.Context, keys []string) (claimResult, *slot, error) {
	if d == nil {
		return claimOwner, nil, nil
	}
	for {
		d.mu.Lock()
		d.expireLocked()
		var busy *slot
		for _, k := range keys {
			if s, ok := d.slots[k]; ok {
				if s.elem != nil { // completed and accepted
					d.mu.Unlock()
					return claimDuplicate, nil, nil
				}
				busy = s
			}
		}
		if busy == nil {
			s := &slot{keys: keys, ready: make(chan struct{})}
			for _, k := range keys {
				d.slots[k] = s
			}
			d.mu.Unlock()
			return claimOwner, s, nil
		}
		d.mu.Unlock()
		select {
		case <-busy.ready:
			if busy.accepted {
				return claimDuplicate, nil, nil
			}
			// The first attempt failed: try again, maybe as the owner.
		case <-ctx.Done():
			return 0, nil, ctx.Err()
		}
	}
}

// release ends a hand-over. accepted notifications are remembered; others
// are forgotten so a retry hands them over again.
func (d *dedup) release(s *slot, accepted bool) {
	if d == nil || s == nil {
		return
	}
	d.mu.Lock()
	s.accepted = accepted
	if accepted {
		s.at = d.now()
		s.elem = d.done.PushBack(s)
		d.expireLocked()
	} else {
		d.forgetLocked(s)
	}
	d.mu.Unlock()
	close(s.ready)
}

func (d *dedup) forgetLocked(s *slot) {
	for _, k := range s.keys {
		if d.slots[k] == s {
			delete(d.slots, k)
		}
	}
}

func (d *dedup) expireLocked() {
	now := d.now()
	for el := d.done.Front(); el != nil; el = d.done.Front() {
		s := el.Value.(*slot)
		if d.done.Len() <= d.size && (d.ttl <= 0 || now.Sub(s.at) < d.ttl) {
			return
		}
		d.done.Remove(el)
		d.forgetLocked(s)
	}
}

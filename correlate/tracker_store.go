package correlate

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// The Tracker is the in-memory Store: what follows are its Store methods. They never fail for want of a
// store (there is nothing to reach); their ctx is unused.
var _ Store = (*Tracker)(nil)

// RegisterOperation is Register, keeping deadline and the registration time for PendingOperations.
func (t *Tracker) RegisterOperation(_ context.Context, key OperationKey, deadline time.Time) (*Pending, error) {
	p, err := t.Register(key)
	if err != nil {
		return nil, err
	}
	// Written before p is shared with anybody but the indexes, which never read these two fields.
	p.registered, p.deadline = t.now(), deadline
	return p, nil
}

// DeliverCallback is Deliver.
func (t *Tracker) DeliverCallback(_ context.Context, d Delivery) (DeliveryResult, error) {
	return t.Deliver(d), nil
}

// ResolveOperation is Resolve.
func (t *Tracker) ResolveOperation(_ context.Context, p *Pending, value any, err error) (bool, error) {
	return t.Resolve(p, value, err), nil
}

// WithdrawOperation is Withdraw with a cause for the waiters.
func (t *Tracker) WithdrawOperation(_ context.Context, p *Pending, cause error) (bool, error) {
	if cause == nil {
		cause = ErrAbandoned
	}
	return t.withdraw(p, cause), nil
}

// AttachOperation finds a pending operation, or one resolved recently (inside the duplicate window), by
// MessageID, TransactionID or FunctionCallIdentifier. The in-memory store forgets everything with the
// process, so after a restart it knows nothing: ErrUnknownOperation.
func (t *Tracker) AttachOperation(_ context.Context, id string) (*Pending, error) {
	if id == "" {
		return nil, fmt.Errorf("%w: attach: the identifier must not be empty", ErrEmptyID)
	}
	var now time.Time
	if t.recent.maxAge > 0 {
		now = t.now()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if p := t.byMsg[id]; p != nil {
		return p, nil
	}
	if p := t.byTx[id]; p != nil {
		return p, nil
	}
	if p, ok := t.recent.find(id, false, now); ok {
		return p, nil
	}
	if p, ok := t.recent.find(id, true, now); ok {
		return p, nil
	}
	// A FunctionCallIdentifier that is not URL-safe is not the TransactionID (prepare): look for it.
	for _, p := range t.byMsg {
		if p.key.FunctionCallIdentifier == id {
			return p, nil
		}
	}
	for i := len(t.recent.ring) - 1; i >= 0; i-- {
		if e := t.recent.ring[i]; e.p.key.FunctionCallIdentifier == id {
			if p, ok := t.recent.find(e.p.key.MessageID, false, now); ok && p == e.p {
				return p, nil
			}
		}
	}
	return nil, ErrUnknownOperation
}

// Lookup returns the pending operation whose request had messageID: the constant-time part of
// AttachOperation, for a store that keeps its local waiters in a Tracker.
func (t *Tracker) Lookup(messageID string) (*Pending, bool) {
	t.mu.Lock()
	p := t.byMsg[messageID]
	t.mu.Unlock()
	return p, p != nil
}

// PendingOperations lists the outstanding operations, oldest first.
func (t *Tracker) PendingOperations(_ context.Context, limit int) ([]OperationRecord, error) {
	t.mu.Lock()
	out := make([]OperationRecord, 0, len(t.byMsg))
	for _, p := range t.byMsg {
		out = append(out, OperationRecord{Key: p.key, State: OperationPending, RegisteredAt: p.registered, Deadline: p.deadline})
	}
	t.mu.Unlock()
	slices.SortFunc(out, func(a, b OperationRecord) int { return a.RegisteredAt.Compare(b.RegisteredAt) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// ClaimMessage claims messageID in scope. The in-memory store needs no lease: a claim outlives its
// hand-over only if the process dies, and then the claim is gone with it.
func (t *Tracker) ClaimMessage(_ context.Context, scope MessageScope, messageID string) (ClaimResult, error) {
	return t.seen.claim(string(scope) + " " + messageID), nil
}

// CommitMessage records the claimed message as handed over.
func (t *Tracker) CommitMessage(_ context.Context, scope MessageScope, messageID string) error {
	t.seen.commit(string(scope) + " " + messageID)
	return nil
}

// ReleaseMessage forgets a claim whose hand-over failed.
func (t *Tracker) ReleaseMessage(_ context.Context, scope MessageScope, messageID string) error {
	t.seen.release(string(scope) + " " + messageID)
	return nil
}

// Ping always succeeds: memory is always there.
func (t *Tracker) Ping(context.Context) error { return nil }

// seenSet remembers the last size message claims, oldest forgotten first, and whether each was handed
// over (committed) or is being handed over.
type seenSet struct {
	size int
	mu   sync.Mutex
	keys map[string]bool // committed?
	ring []string
	next int
}

func (s *seenSet) claim(key string) ClaimResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.size == 0 {
		return Claimed
	}
	if committed, ok := s.keys[key]; ok {
		if committed {
			return HandedOver
		}
		return InProgress
	}
	if s.keys == nil {
		s.keys = make(map[string]bool)
	}
	if len(s.ring) < s.size {
		s.ring = append(s.ring, key)
	} else {
		delete(s.keys, s.ring[s.next])
		s.ring[s.next] = key
		s.next = (s.next + 1) % s.size
	}
	s.keys[key] = false
	return Claimed
}

func (s *seenSet) commit(key string) {
	s.mu.Lock()
	if _, ok := s.keys[key]; ok {
		s.keys[key] = true
	}
	s.mu.Unlock()
}

// release forgets a claim that was not committed; its ring slot is left to be reused in turn.
func (s *seenSet) release(key string) {
	s.mu.Lock()
	if committed, ok := s.keys[key]; ok && !committed {
		delete(s.keys, key)
	}
	s.mu.Unlock()
}

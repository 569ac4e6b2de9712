package esimgw

import (
	"context"
	"strings"
	"sync"
)

// Notification order (issue 17, defect 9). A gateway posts the notifications of one eUICC one after the
// other, but on several connections, and the callback server serves each request on its own goroutine: two
// local switches in a row would reach the handler at the same time, and an application that keeps "the
// last notification wins" would keep the wrong enabled profile (CompletionTimestamp has whole seconds
// only, so it cannot break the tie). The dispatcher therefore hands the notifications of one EID over one
// at a time, in the order they arrived; notifications of different EIDs still run concurrently.
//
// What is promised: for one EID, a notification is handed over only after every notification of that EID
// that arrived before it has been handed over (or refused), and Sequence grows with arrival. What is not:
// the order in which the gateway sent them when it posted them concurrently itself, or across replicas of
// the callback server behind a load balancer (each replica orders what it received). The eUICC's state is
// the truth: an audit (ES4 AuditEIS, GetEIS) settles any doubt.

// arrivalQueue serialises work per key in arrival order and numbers every arrival.
type arrivalQueue struct {
	mu    sync.Mutex
	seq   uint64
	lanes map[string]*arrivalLane
}

type arrivalLane struct {
	waiting []chan struct{} // FIFO; the head is closed when its turn comes
}

// enter takes the next sequence number and waits until every earlier arrival of key has left. It returns
// leave, which must be called exactly once when the work is done. An empty key is not ordered. A context
// that ends while waiting returns its error, with the sequence number taken (the arrival is not retried
// in place: the gateway will post it again).
func (q *arrivalQueue) enter(ctx context.Context, key string) (seq uint64, leave func(), err error) {
	q.mu.Lock()
	q.seq++
	seq = q.seq
	if key == "" {
		q.mu.Unlock()
		return seq, func() {}, nil
	}
	if q.lanes == nil {
		q.lanes = make(map[string]*arrivalLane)
	}
	l := q.lanes[key]
	if l == nil {
		l = &arrivalLane{}
		q.lanes[key] = l
	}
	turn := make(chan struct{})
	l.waiting = append(l.waiting, turn)
	if len(l.waiting) == 1 {
		close(turn)
	}
	q.mu.Unlock()

	var once sync.Once
	leave = func() { once.Do(func() { q.leave(key, turn) }) }
	select {
	case <-turn:
		return seq, leave, nil
	case <-ctx.Done():
		leave()
		return seq, func() {}, ctx.Err()
	}
}

// leave removes turn from key's lane and, when it was the head, lets the next arrival go.
func (q *arrivalQueue) leave(key string, turn chan struct{}) {
	q.mu.Lock()
	defer q.mu.Unlock()
	l := q.lanes[key]
	for i, c := range l.waiting {
		if c != turn {
			continue
		}
		l.waiting = append(l.waiting[:i], l.waiting[i+1:]...)
		if i == 0 && len(l.waiting) > 0 {
			close(l.waiting[0])
		}
		break
	}
	if len(l.waiting) == 0 {
		delete(q.lanes, key)
	}
}

// orderKey is the EID a notification is ordered by: its Eid, or for SMSRChange the EID in its EIS.
func orderKey(n *Notification) string {
	if n.Eid != "" {
		return strings.ToUpper(n.Eid)
	}
	if n.EIS != nil && len(n.EIS.EumSignedInfo.Eid) > 0 {
		return n.EIS.EumSignedInfo.Eid.String()
	}
	return ""
}

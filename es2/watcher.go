package es2

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/progress"
)

// watchBuffer is how many matching notifications a Watch holds before it drops further ones.
const watchBuffer = 16

// Watcher is an esimgw.NotificationHandler that lets code wait for a notification about one profile
// (Activate waits for HandleProfileEnabledNotification this way) while every notification still reaches
// the application's own handler. Install it as the Dispatcher's handler:
//
//	w := es2.NewWatcher(esimgw.Notifications{ProfileEnabled: onEnabled})
//	d := esimgw.NewDispatcher(esimgw.WithNotificationHandler(w))
//
// It matches profile notifications of ES2 and of ES4 (both report the same eUICC state; one Dispatcher
// serves both). A Watch must be registered before the request whose effect it waits for is sent, since the
// notification can arrive before the request's acknowledgement. It is safe for concurrent use.
type Watcher struct {
	next    esimgw.NotificationHandler
	mu      sync.Mutex
	watches map[*Watch]struct{}
}

// NewWatcher returns a Watcher passing every notification on to next (nil: none; notifications no Watch
// took then go to the Dispatcher's unmatched handler).
func NewWatcher(next esimgw.NotificationHandler) *Watcher {
	return &Watcher{next: next, watches: make(map[*Watch]struct{})}
}

// Watch is a registration for the notifications of one kind about one eUICC (and one profile, when an
// ICCID was given). Stop it when done.
type Watch struct {
	w            *Watcher
	eid, iccid   string // normalised; iccid "" matches any profile of the eUICC
	kind         esimgw.NotificationKind
	ch           chan *esimgw.Notification
	stop         chan struct{}
	stopOnce     sync.Once
	droppedCount int // guarded by w.mu
}

// ErrWatchStopped is returned by Watch.Next once the watch was stopped.
var ErrWatchStopped = errors.New("es2: watch stopped")

// Watch registers interest in notifications of kind about eid and, unless iccid is "", about that profile
// only. ICCIDs are compared without F padding, EIDs in any case.
func (w *Watcher) Watch(eid, iccid string, kind esimgw.NotificationKind) *Watch {
	wt := &Watch{w: w, eid: strings.ToUpper(eid), iccid: progress.NormalizeICCID(iccid), kind: kind,
		ch: make(chan *esimgw.Notification, watchBuffer), stop: make(chan struct{})}
	w.mu.Lock()
	w.watches[wt] = struct{}{}
	w.mu.Unlock()
	return wt
}

// Watching returns the number of registered watches.
func (w *Watcher) Watching() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.watches)
}

// HandleNotification implements esimgw.NotificationHandler: it hands n to every matching Watch, then to the
// next handler, whose answer it returns. Without a next handler, a notification some Watch took is handled;
// one nobody took (or that only full watches matched, see Watch.Dropped) is esimgw.ErrNotHandled, so the
// Dispatcher gives it to its unmatched handler.
func (w *Watcher) HandleNotification(ctx context.Context, n *esimgw.Notification) error {
	taken := false
	eid, iccid := strings.ToUpper(n.Eid), progress.NormalizeICCID(n.Iccid)
	w.mu.Lock()
	for wt := range w.watches {
		if wt.kind != n.Kind || wt.eid != eid || (wt.iccid != "" && wt.iccid != iccid) {
			continue
		}
		select {
		case wt.ch <- n:
			taken = true
		default:
			wt.droppedCount++
		}
	}
	w.mu.Unlock()
	if w.next != nil {
		return w.next.HandleNotification(ctx, n)
	}
	if !taken {
		return esimgw.ErrNotHandled
	}
	return nil
}

// Next returns the next matching notification, waiting until one arrives, ctx ends (ctx.Err()) or the
// watch is stopped (ErrWatchStopped).
func (wt *Watch) Next(ctx context.Context) (*esimgw.Notification, error) {
	select {
	case n := <-wt.ch:
		return n, nil
	default:
	}
	select {
	case n := <-wt.ch:
		return n, nil
	case <-wt.stop:
		return nil, ErrWatchStopped
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Dropped returns how many matching notifications were dropped because the watch held watchBuffer unread.
func (wt *Watch) Dropped() int {
	wt.w.mu.Lock()
	defer wt.w.mu.Unlock()
	return wt.droppedCount
}

// Stop unregisters the watch; Next then returns what it still holds, then ErrWatchStopped. Stop is
// idempotent.
func (wt *Watch) Stop() {
	wt.stopOnce.Do(func() {
		wt.w.mu.Lock()
		delete(wt.w.watches, wt)
		wt.w.mu.Unlock()
		close(wt.stop)
	})
}

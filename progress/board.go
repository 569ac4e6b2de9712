package progress

import (
	"cmp"
	"container/list"
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// ErrNoICCID is returned by [Board.Update] for an event without an ICCID.
var ErrNoICCID = errors.New("progress: event has no ICCID")

// ErrNoStage is returned by [Board.Update] for an event without a stage.
var ErrNoStage = errors.New("progress: event has no stage")

// Change is what subscribers receive: the event and the entry after it was
// applied.
type Change struct {
	Event Event
	Entry Entry
}

// Option configures a [Board].
type Option func(*Board)

// WithMaxEntries bounds the number of profiles kept (0, the default: no
// bound). Past the bound the least recently updated finished entry is
// evicted, or, when none is finished, the least recently updated one.
func WithMaxEntries(n int) Option {
	return func(b *Board) { b.maxEntries = max(n, 0) }
}

// WithHistory sets how many recent events each entry keeps (default 16; 0
// keeps none).
func WithHistory(n int) Option {
	return func(b *Board) { b.history = max(n, 0) }
}

// WithClock replaces time.Now (for tests).
func WithClock(now func() time.Time) Option {
	return func(b *Board) {
		if now != nil {
			b.now = now
		}
	}
}

// WithLogger sets the logger for evictions and dropped changes (default:
// slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(b *Board) {
		if l != nil {
			b.log = l
		}
	}
}

type item struct {
	entry      Entry
	elem       *list.Element // in b.finished when inFinished, else in b.pending
	inFinished bool
}

type subscriber struct {
	ch chan Change
}

// Board is a concurrency-safe per-ICCID progress view. The zero value is not
// usable; call [NewBoard].
type Board struct {
	maxEntries int
	history    int
	now        func() time.Time
	log        *slog.Logger

	mu       sync.Mutex
	byICCID  map[string]*item
	byEID    map[string]map[string]struct{} // EID -> set of ICCIDs
	pending  list.List                      // of string (ICCID), least recently updated first
	finished list.List                      // of string (ICCID), least recently updated first
	subs     map[*subscriber]struct{}

	dropped atomic.Uint64
	evicted atomic.Uint64
}

// NewBoard returns an empty board.
func NewBoard(opts ...Option) *Board {
	b := &Board{
		history: 16,
		now:     time.Now,
		log:     slog.Default(),
		byICCID: make(map[string]*item),
		byEID:   make(map[string]map[string]struct{}),
		subs:    make(map[*subscriber]struct{}),
	}
	for _, o := range opts {
		o(b)
	}
	return b
}

// Update applies an event and returns the resulting entry. Events older
// (by Time) than the entry's most recent one are kept in the history but do
// not move the stage or the outcome back. Update never blocks on
// subscribers.
func (b *Board) Update(ev Event) (Entry, error) {
	key := NormalizeICCID(ev.ICCID)
	if key == "" {
		return Entry{}, ErrNoICCID
	}
	if ev.Stage == StageUnknown {
		return Entry{}, ErrNoStage
	}
	now := b.now()
	if ev.Time.IsZero() {
		ev.Time = now
	}

	b.mu.Lock()
	defer b.mu.Unlock()

	it, ok := b.byICCID[key]
	if !ok {
		it = &item{entry: Entry{ICCID: key}}
		b.byICCID[key] = it
	}
	e := &it.entry
	if ev.EID != "" && ev.EID != e.EID {
		b.unindexEID(e.EID, key)
		e.EID = ev.EID
		b.indexEID(e.EID, key)
	}
	if e.Events == 0 || !ev.Time.Before(e.Time) {
		e.Stage = ev.Stage
		e.Attempted = ev.Attempted
		e.Outcome = e.Outcome.next(ev.Stage)
		e.Source = ev.Source
		e.Status = ev.Status
		e.Detail = ev.Detail
		e.Ref = ev.Ref
		e.Time = ev.Time
	}
	e.Events++
	e.Updated = now
	if b.history > 0 {
		if len(e.History) >= b.history {
			copy(e.History, e.History[len(e.History)-b.history+1:])
			e.History = e.History[:b.history-1]
		}
		e.History = append(e.History, ev)
	}

	// Move to the back of its recency list.
	if it.elem != nil {
		b.listOf(it).Remove(it.elem)
	}
	it.inFinished = e.Outcome.Final()
	it.elem = b.listOf(it).PushBack(key)

	out := cloneEntry(*e)
	b.evictLocked(key)
	b.publishLocked(Change{Event: ev, Entry: out})
	return out, nil
}

func (b *Board) listOf(it *item) *list.List {
	if it.inFinished {
		return &b.finished
	}
	return &b.pending
}

func (b *Board) evictLocked(keep string) {
	if b.maxEntries == 0 {
		return
	}
	for len(b.byICCID) > b.maxEntries {
		victim := b.oldest(&b.finished, keep)
		if victim == "" {
			victim = b.oldest(&b.pending, keep)
		}
		if victim == "" {
			return
		}
		it := b.byICCID[victim]
		b.listOf(it).Remove(it.elem)
		b.unindexEID(it.entry.EID, victim)
		delete(b.byICCID, victim)
		b.evicted.Add(1)
		b.log.Debug("progress: entry evicted", "iccid", victim, "outcome", it.entry.Outcome.String())
	}
}

func (b *Board) oldest(l *list.List, keep string) string {
	for el := l.Front(); el != nil; el = el.Next() {
		if k := el.Value.(string); k != keep {
			return k
		}
	}
	return ""
}

func (b *Board) indexEID(eid, iccid string) {
	if eid == "" {
		return
	}
	set := b.byEID[eid]
	if set == nil {
		set = make(map[string]struct{})
		b.byEID[eid] = set
	}
	set[iccid] = struct{}{}
}

func (b *Board) unindexEID(eid, iccid string) {
	if eid == "" {
		return
	}
	if set := b.byEID[eid]; set != nil {
		delete(set, iccid)
		if len(set) == 0 {
			delete(b.byEID, eid)
		}
	}
}

func (b *Board) publishLocked(c Change) {
	for s := range b.subs {
		select {
		case s.ch <- c:
		default:
			b.dropped.Add(1)
		}
	}
}

// Get returns the entry for an ICCID (padded or not).
func (b *Board) Get(iccid string) (Entry, bool) {
	key := NormalizeICCID(iccid)
	b.mu.Lock()
	defer b.mu.Unlock()
	it, ok := b.byICCID[key]
	if !ok {
		return Entry{}, false
	}
	return cloneEntry(it.entry), true
}

// GetByEID returns the entries of the profiles last reported on an eUICC,
// ordered by ICCID.
func (b *Board) GetByEID(eid string) []Entry {
	b.mu.Lock()
	defer b.mu.Unlock()
	set := b.byEID[eid]
	out := make([]Entry, 0, len(set))
	for k := range set {
		out = append(out, cloneEntry(b.byICCID[k].entry))
	}
	slices.SortFunc(out, func(a, b Entry) int { return cmp.Compare(a.ICCID, b.ICCID) })
	return out
}

// Snapshot returns a copy of every entry, ordered by ICCID.
func (b *Board) Snapshot() []Entry {
	b.mu.Lock()
	out := make([]Entry, 0, len(b.byICCID))
	for _, it := range b.byICCID {
		out = append(out, cloneEntry(it.entry))
	}
	b.mu.Unlock()
	slices.SortFunc(out, func(a, b Entry) int { return cmp.Compare(a.ICCID, b.ICCID) })
	return out
}

// Len returns the number of entries.
func (b *Board) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.byICCID)
}

// Dropped returns how many changes were not delivered to a subscriber
// because its buffer was full.
func (b *Board) Dropped() uint64 { return b.dropped.Load() }

// Evicted returns how many entries were evicted by [WithMaxEntries].
func (b *Board) Evicted() uint64 { return b.evicted.Load() }

// Subscribe returns a channel receiving every later change, buffered with
// buffer slots (at least 1). The channel is closed once ctx is done. A
// change that finds the buffer full is dropped for this subscriber and
// counted in [Board.Dropped]: Update never waits for a reader.
func (b *Board) Subscribe(ctx context.Context, buffer int) <-chan Change {
	s := &subscriber{ch: make(chan Change, max(buffer, 1))}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	go func() {
		<-ctx.Done()
		b.mu.Lock()
		delete(b.subs, s)
		close(s.ch) // under the lock: no Update is sending
		b.mu.Unlock()
	}()
	return s.ch
}

func cloneEntry(e Entry) Entry {
	e.History = slices.Clone(e.History)
	return e
}

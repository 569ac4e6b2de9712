package correlate

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Errors returned by the Tracker and by every Store (and, through them, by esimgw.Operation.Wait).
// Their texts keep the "esimgw:" prefix they had before the package moved, so logs read the same.
var (
	// ErrKeyInUse: Register was given a MessageID or TransactionID that is
	// already pending or was resolved recently (inside the duplicate window).
	ErrKeyInUse = errors.New("esimgw: operation key already in use")
	// ErrTooManyPending: Register would exceed WithMaxPending.
	ErrTooManyPending = errors.New("esimgw: too many pending operations")
	// ErrAbandoned: the operation was withdrawn or abandoned before a result
	// arrived; a later callback for it is reported Unmatched.
	ErrAbandoned = errors.New("esimgw: operation abandoned")
	// ErrEmptyID: an operation was registered without a MessageID, or looked up by an empty identifier.
	// It is a caller's mistake, never the store's: nothing was recorded.
	ErrEmptyID = errors.New("esimgw: empty operation identifier")
)

// OperationKey identifies one asynchronous call for correlation and reporting.
type OperationKey struct {
	// MessageID is the request's wsa:MessageID, which a callback's RelatesTo repeats.
	MessageID string
	// TransactionID is the TransactionId inside MessageID; gSOAP callbacks
	// omit RelatesTo and carry it in their own MessageID instead. May be "".
	TransactionID string
	// FunctionCallIdentifier of the request body, for reporting.
	FunctionCallIdentifier string
	// Interface ("ES2", "ES4") and Function ("EnableProfile"), for reporting.
	Interface string
	Function  string
}

// Match says what Deliver did with a callback.
type Match uint8

const (
	// Unmatched: nobody waits for it; route it to the unmatched-callback handler.
	Unmatched Match = iota
	// Matched: it resolved a pending operation.
	Matched
	// Duplicate: another copy of a callback that already resolved its
	// operation (within the duplicate window); it resolved nothing.
	Duplicate
	// Mismatched: its RelatesTo or TransactionID names an operation of another
	// function (an AuditEIS result naming an EnableProfile request). It resolved
	// nothing, the operation stays pending, and the callback goes to the
	// unmatched handler with a *MismatchedCallbackError.
	Mismatched
)

// String returns "unmatched", "matched" or "duplicate".
func (m Match) String() string {
	switch m {
	case Matched:
		return "matched"
	case Duplicate:
		return "duplicate"
	case Unmatched:
		return "unmatched"
	case Mismatched:
		return "mismatched"
	}
	return "Match(" + strconv.Itoa(int(m)) + ")"
}

// Delivery is one incoming callback, already decoded.
type Delivery struct {
	// RelatesTo is the callback's wsa:RelatesTo (the request's MessageID), or "".
	RelatesTo string
	// TransactionID is the TransactionId of the callback's own MessageID, or
	// "". When it is empty Deliver extracts it from MessageID itself.
	TransactionID string
	// MessageID is the callback's own wsa:MessageID.
	MessageID string
	// Value is the decoded result (the ...Response body), Err a failure to
	// hand to the waiter instead (e.g. an *esimgw.FunctionError). Both are passed to
	// the Operation's convert function as they are.
	Value any
	Err   error
	// Interface ("ES2", "ES4") and Function ("AuditEIS") of the function whose result the callback's body
	// element is, after the Njiwa, WHTY and ES3 spellings were mapped onto the schema's names; "" when
	// unknown. Only an operation of that function is resolved (Answers): one of another function makes
	// the delivery Mismatched.
	Interface string
	Function  string
}

// Answers reports whether the callback can be the result of the operation k: the same function (ASCII
// case ignored) and the same interface, each compared only when both sides name it.
func (d Delivery) Answers(k OperationKey) bool {
	same := func(a, b string) bool { return a == "" || b == "" || strings.EqualFold(a, b) }
	return same(d.Function, k.Function) && same(d.Interface, k.Interface)
}

// MismatchedCallbackError is the esimgw.Inbound.Err of a callback whose RelatesTo or TransactionID names an
// operation of another function: resolving it would hand, say, an AuditEIS result to the waiter of an
// EnableProfile. The operation stays pending; the callback is handed to the unmatched handler (and
// acknowledged only after that), so it is neither lost nor taken for the operation's result.
type MismatchedCallbackError struct {
	Operation OperationKey // the operation the callback names
	Interface string       // what the callback's element answers
	Function  string
	Err       error // the callback's own outcome: an *esimgw.FunctionError of a FAILED result, a decode error; or nil
}

func (e *MismatchedCallbackError) Error() string {
	msg := "esimgw: callback " + strings.TrimSpace(e.Interface+" "+e.Function) + " names operation " + e.Operation.MessageID +
		" of another function (" + strings.TrimSpace(e.Operation.Interface+" "+e.Operation.Function) + "): not resolved"
	if e.Err != nil {
		msg += "; its result: " + e.Err.Error()
	}
	return msg
}

// Unwrap returns Err.
func (e *MismatchedCallbackError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrMismatchedCallback) true.
func (e *MismatchedCallbackError) Is(target error) bool { return target == ErrMismatchedCallback }

// ErrMismatchedCallback is what a *MismatchedCallbackError matches with errors.Is.
var ErrMismatchedCallback = errors.New("esimgw: callback of another function")

// DeliveryResult is what Deliver did and, for Matched and Duplicate, the key
// of the operation concerned (for an unmatched-handler report).
type DeliveryResult struct {
	Match Match
	Key   OperationKey
}

// pending states, guarded by Tracker.mu.
const (
	statePending uint8 = iota
	stateResolved
	stateWithdrawn
)

// Pending is one registered operation. It is created by Tracker.Register and
// normally wrapped in an esimgw.Operation.
type Pending struct {
	key        OperationKey
	t          *Tracker
	done       chan struct{} // closed once resolved or withdrawn
	state      uint8         // guarded by t.mu
	value      any           // written before done is closed, read after
	err        error
	registered time.Time // set by RegisterOperation only
	deadline   time.Time
	// unconfirmed is the send error of a request whose outcome is unknown (MarkUnconfirmed, by the
	// client that sent it; read by the waiter when its context ends). Atomic: the two need not agree on
	// an order with the store's indexes, which never read it.
	unconfirmed atomic.Pointer[error]
}

// MarkUnconfirmed records that the operation's request may or may not have reached the gateway (its
// answer was lost after it was written), with the send error that says so. The operation stays pending,
// so that its callback still resolves it; a waiter whose context ends first reports err beside
// ErrAbandoned, so that its caller knows the function may have run. esimgw.Client.Start calls it; a
// nil err clears the mark.
func (p *Pending) MarkUnconfirmed(err error) {
	if err == nil {
		p.unconfirmed.Store(nil)
		return
	}
	p.unconfirmed.Store(&err)
}

// Unconfirmed returns the error given to MarkUnconfirmed, or nil.
func (p *Pending) Unconfirmed() error {
	if e := p.unconfirmed.Load(); e != nil {
		return *e
	}
	return nil
}

// NewResolvedPending returns a Pending that is already resolved with value and err: what a Store's
// AttachOperation returns for an operation whose result it holds.
func NewResolvedPending(key OperationKey, value any, err error) *Pending {
	done := make(chan struct{})
	close(done)
	return &Pending{key: key, done: done, state: stateResolved, value: value, err: err}
}

// NewWithdrawnPending returns a Pending that was given up with cause (ErrAbandoned when nil).
func NewWithdrawnPending(key OperationKey, cause error) *Pending {
	if cause == nil {
		cause = ErrAbandoned
	}
	done := make(chan struct{})
	close(done)
	return &Pending{key: key, done: done, state: stateWithdrawn, err: cause}
}

// Owns reports whether t can resolve or withdraw p: p was registered with t (Register, RegisterOperation)
// or is a finished handle of no Tracker (NewResolvedPending, NewWithdrawnPending), which needs nobody to
// resolve it. A waiter given another Tracker's pending operation would wait for ever, so esimgw.NewOperation
// checks this first.
func (t *Tracker) Owns(p *Pending) bool { return p != nil && (p.t == t || p.t == nil) }

// Result returns the value and error the operation was resolved with, and whether it was resolved (as
// opposed to pending or withdrawn, when value is nil and err the withdrawal's cause, or nil while pending).
func (p *Pending) Result() (value any, err error, resolved bool) {
	select {
	case <-p.done:
	default:
		return nil, nil, false
	}
	return p.value, p.err, p.state == stateResolved
}

// Key returns the operation's key.
func (p *Pending) Key() OperationKey { return p.key }

// Done is closed when the operation is resolved or withdrawn.
func (p *Pending) Done() <-chan struct{} { return p.done }

// Option configures a Tracker (NewTracker). It is a type of its own, so that an option of the client, the
// dispatcher or the callback server given to NewTracker does not compile.
type Option func(*Tracker)

// WithLogger sets the logger (default: discard). Matches, duplicates
// and unmatched callbacks are logged at Debug level; the dispatcher decides
// what deserves more.
func WithLogger(l *slog.Logger) Option {
	return func(t *Tracker) {
		if l != nil {
			t.logger = l
		}
	}
}

// WithDuplicateWindow sets how many resolved operations are remembered so a
// second copy of their callback is recognised as Duplicate (size; default
// 16384, 0 disables duplicate detection: copies are then Unmatched), and for
// how long (maxAge; 0, the default, means until pushed out by size). Memory is
// bounded by size either way.
func WithDuplicateWindow(size int, maxAge time.Duration) Option {
	return func(t *Tracker) {
		t.recent.size = max(size, 0)
		t.recent.maxAge = max(maxAge, 0)
	}
}

// WithMaxPending bounds the number of outstanding operations (0, the
// default, means no bound); Register then fails with ErrTooManyPending.
func WithMaxPending(n int) Option {
	return func(t *Tracker) { t.maxPending = max(n, 0) }
}

// WithClock sets the clock used for the duplicate window's maxAge
// (default time.Now). For tests.
func WithClock(now func() time.Time) Option {
	return func(t *Tracker) {
		if now != nil {
			t.now = now
		}
	}
}

// DefaultDuplicateWindow is the default size of the duplicate window.
const DefaultDuplicateWindow = 16384

// Tracker correlates asynchronous callbacks with the operations waiting for
// them, by the request's MessageID (a callback's RelatesTo) and by its
// TransactionID. It is safe for concurrent use, starts no goroutines, and
// holds nothing once every operation is resolved or withdrawn (besides the
// bounded duplicate window).
//
// A single mutex guards it: every critical section is a couple of map
// operations, and on the benchmarks (tracker_test.go) the parallel path is not
// limited by it.
type Tracker struct {
	mu         sync.Mutex
	byMsg      map[string]*Pending
	byTx       map[string]*Pending
	recent     recentSet
	seen       seenSet // notification and unmatched-message claims
	maxPending int
	logger     *slog.Logger
	now        func() time.Time
}

// NewTracker returns an empty Tracker.
func NewTracker(opts ...Option) *Tracker {
	t := &Tracker{
		byMsg:  make(map[string]*Pending),
		byTx:   make(map[string]*Pending),
		recent: recentSet{size: DefaultDuplicateWindow},
		seen:   seenSet{size: DefaultDuplicateWindow},
		logger: slog.New(slog.DiscardHandler),
		now:    time.Now,
	}
	for _, o := range opts {
		if o != nil {
			o(t)
		}
	}
	return t
}

// Register records an operation BEFORE its request is sent (a callback can
// arrive before the 202). key.MessageID is required; key.TransactionID is
// indexed when not empty. It fails with ErrEmptyID for an empty
// MessageID, ErrKeyInUse when either ID is pending or was resolved recently,
// and ErrTooManyPending past WithMaxPending.
//
// The key's strings are kept as given; do not pass substrings of large
// buffers.
func (t *Tracker) Register(key OperationKey) (*Pending, error) {
	if key.MessageID == "" {
		return nil, fmt.Errorf("%w: register: the MessageID must not be empty", ErrEmptyID)
	}
	p := &Pending{key: key, t: t, done: make(chan struct{})}
	var now time.Time
	if t.recent.maxAge > 0 {
		now = t.now()
	}
	t.mu.Lock()
	if t.maxPending > 0 && len(t.byMsg) >= t.maxPending {
		t.mu.Unlock()
		return nil, ErrTooManyPending
	}
	// A MessageID is never reused; a TransactionID is, when a caller retries a finished call with its
	// FunctionCallIdentifier (which esimgw sends as TransactionId). Only a pending operation blocks that;
	// the finished one's window entry is dropped so that the retry's callback resolves the retry. A late
	// copy of the old callback still carries the old MessageID in RelatesTo and is seen as a duplicate.
	_, txPending := t.byTx[key.TransactionID]
	if t.inUse(key.MessageID, false, now) || (key.TransactionID != "" && txPending) {
		t.mu.Unlock()
		return nil, ErrKeyInUse
	}
	if key.TransactionID != "" {
		t.recent.dropTx(key.TransactionID)
	}
	t.byMsg[key.MessageID] = p
	if key.TransactionID != "" {
		t.byTx[key.TransactionID] = p
	}
	t.mu.Unlock()
	return p, nil
}

func (t *Tracker) inUse(id string, tx bool, now time.Time) bool {
	m := t.byMsg
	if tx {
		m = t.byTx
	}
	if _, ok := m[id]; ok {
		return true
	}
	_, ok := t.recent.lookup(id, tx, now)
	return ok
}

// Withdraw removes an operation that will not get a callback (its request
// failed, or nobody waits any more). A callback arriving later is Unmatched.
// Waiters see ErrAbandoned. It reports whether p was still pending; false
// means it was already resolved or withdrawn (or p is nil or foreign).
func (t *Tracker) Withdraw(p *Pending) bool {
	return t.withdraw(p, ErrAbandoned)
}

func (t *Tracker) withdraw(p *Pending, cause error) bool {
	if p == nil || p.t != t {
		return false
	}
	t.mu.Lock()
	if p.state != statePending {
		t.mu.Unlock()
		return false
	}
	t.unindex(p)
	p.state = stateWithdrawn
	p.err = cause
	t.mu.Unlock()
	close(p.done) // outside the lock: see resolveLocked
	return true
}

// Resolve resolves p directly with a result, e.g. a synchronous 200 carrying
// FAILED. Like a matched callback it enters the duplicate window, so a late
// callback copy is reported Duplicate. It reports whether p was still pending.
func (t *Tracker) Resolve(p *Pending, value any, err error) bool {
	if p == nil || p.t != t {
		return false
	}
	var now time.Time
	if t.recent.maxAge > 0 {
		now = t.now()
	}
	t.mu.Lock()
	if p.state != statePending {
		t.mu.Unlock()
		return false
	}
	t.resolveLocked(p, value, err, now)
	t.mu.Unlock()
	close(p.done)
	return true
}

// resolveLocked resolves p; the caller closes p.done once it released t.mu. The state is decided under
// the lock, so exactly one caller closes it; closing wakes the waiter (a futex call when it sits on
// another P), which need not hold up every Register and Deliver waiting for the lock. value and err are
// written before the close, which is what a waiter's read of them is ordered after.
func (t *Tracker) resolveLocked(p *Pending, value any, err error, now time.Time) {
	t.unindex(p)
	p.state = stateResolved
	p.value, p.err = value, err
	t.recent.add(p, now)
}

func (t *Tracker) unindex(p *Pending) {
	if t.byMsg[p.key.MessageID] == p {
		delete(t.byMsg, p.key.MessageID)
	}
	if p.key.TransactionID != "" && t.byTx[p.key.TransactionID] == p {
		delete(t.byTx, p.key.TransactionID)
	}
}

// Deliver hands a callback to the operation it answers, at most once. It
// matches on RelatesTo first, then on the TransactionID (from d.TransactionID,
// or else from the TransactionId parameter of d.MessageID):
//
//   - a pending operation with that ID is resolved with d.Value and d.Err: Matched;
//   - an operation with that ID resolved recently (duplicate window): Duplicate,
//     nothing is resolved;
//   - otherwise Unmatched: the caller routes the callback to its
//     unmatched-callback handler.
//
// Concurrent deliveries of the same callback resolve the operation once; the
// others are Duplicate.
func (t *Tracker) Deliver(d Delivery) DeliveryResult {
	tx := d.TransactionID
	if tx == "" {
		tx = TransactionIDFromMessageID(d.MessageID)
	}
	var now time.Time
	if t.recent.maxAge > 0 {
		now = t.now()
	}
	var res DeliveryResult
	var resolved *Pending // closed once the lock is released
	t.mu.Lock()
	// RelatesTo first, then the TransactionID; an operation of another function is not resolved
	// (Mismatched), but one the other ID names still may be.
	var mismatch *OperationKey
	for _, p := range [2]*Pending{t.byMsg[d.RelatesTo], t.byTx[tx]} {
		if p == nil { // neither index holds the empty ID
			continue
		}
		if !d.Answers(p.key) {
			if mismatch == nil {
				k := p.key
				mismatch = &k
			}
			continue
		}
		t.resolveLocked(p, d.Value, d.Err, now)
		resolved = p
		res = DeliveryResult{Match: Matched, Key: p.key}
		break
	}
	if res.Match != Matched {
		for _, c := range [2]struct {
			id string
			tx bool
		}{{d.RelatesTo, false}, {tx, true}} {
			if k, ok := t.recent.lookup(c.id, c.tx, now); ok && c.id != "" {
				if d.Answers(k) {
					res = DeliveryResult{Match: Duplicate, Key: k}
					break
				}
				if mismatch == nil {
					mismatch = &k
				}
			}
		}
		if res.Match != Duplicate && mismatch != nil {
			res = DeliveryResult{Match: Mismatched, Key: *mismatch}
		}
	}
	t.mu.Unlock()
	if resolved != nil {
		close(resolved.done)
	}
	if t.logger.Enabled(context.Background(), slog.LevelDebug) {
		t.logger.LogAttrs(context.Background(), slog.LevelDebug, "esimgw: callback "+res.Match.String(),
			slog.String("relatesTo", d.RelatesTo),
			slog.String("transactionID", tx),
			slog.String("callbackMessageID", d.MessageID),
			slog.String("function", res.Key.Interface+" "+res.Key.Function),
			slog.String("functionCallIdentifier", res.Key.FunctionCallIdentifier))
	}
	return res
}

// Pending returns the number of outstanding operations.
func (t *Tracker) Pending() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.byMsg)
}

// TransactionIDFromMessageID returns the TransactionId query parameter of a
// GSMA MessageID such as
// "//1.3.6.1.4.1.20/urn:uuid:...?TransactionId=urn:uuid:...&MessageDate=...",
// or "" when there is none. The parameter name is matched case-insensitively
// and parameters may be separated by '&' or '?' (as KPN does on addresses).
func TransactionIDFromMessageID(messageID string) string {
	q := strings.IndexByte(messageID, '?')
	if q < 0 {
		return ""
	}
	rest := messageID[q+1:]
	for rest != "" {
		end := strings.IndexAny(rest, "&?")
		param := rest
		if end >= 0 {
			param, rest = rest[:end], rest[end+1:]
		} else {
			rest = ""
		}
		name, value, ok := strings.Cut(param, "=")
		if ok && strings.EqualFold(name, "TransactionId") {
			// Peers may %-escape the value (urn%3Auuid%3A...); the raw value stands when it is not valid escaping.
			if unescaped, err := url.PathUnescape(value); err == nil {
				return unescaped
			}
			return value
		}
	}
	return ""
}

// recentSet is the bounded duplicate window: a ring of the last size resolved
// keys, indexed by MessageID and TransactionID. Guarded by Tracker.mu.
//
// The indexes are keyed by a seeded hash of the ID, not the ID: in steady state they hold size entries
// each, and every callback adds one and evicts one. Integer keys spare each of those map operations the
// string compare through the key's pointer (a cache miss in a map that size), an eviction the visit to
// the evicted operation's key (the entry holds its hashes), and the garbage collector a scan of the
// indexes (no pointers in them). A hit is confirmed against the entry's own ID, so two IDs of one hash
// (a 2^-64 chance a pair, with a seed the sender cannot know) can only make the older one leave the
// window early, never make one ID stand for another.
type recentSet struct {
	size   int
	maxAge time.Duration
	seed   maphash.Seed
	ring   []recentEntry // grows to size, then overwritten oldest first
	seq    uint64        // number of entries ever added
	byMsg  map[uint64]uint64
	byTx   map[uint64]uint64
}

type recentEntry struct {
	p       *Pending // resolved; kept so that AttachOperation can hand its result over
	seq     uint64
	at      time.Time // zero unless maxAge > 0
	msg, tx uint64    // hashes of p.key.MessageID and, when hasTx, of p.key.TransactionID
	hasTx   bool
}

func (r *recentSet) hash(id string) uint64 { return maphash.String(r.seed, id) }

func (r *recentSet) add(p *Pending, now time.Time) {
	k := p.key
	if r.size == 0 {
		return
	}
	if r.byMsg == nil {
		r.seed = maphash.MakeSeed()
		r.byMsg = make(map[uint64]uint64)
		r.byTx = make(map[uint64]uint64)
	}
	e := recentEntry{p: p, seq: r.seq, at: now, msg: r.hash(k.MessageID)}
	if k.TransactionID != "" {
		e.tx, e.hasTx = r.hash(k.TransactionID), true
	}
	slot := int(r.seq % uint64(r.size))
	if slot < len(r.ring) {
		old := &r.ring[slot]
		if s, ok := r.byMsg[old.msg]; ok && s == old.seq {
			delete(r.byMsg, old.msg)
		}
		if s, ok := r.byTx[old.tx]; ok && old.hasTx && s == old.seq {
			delete(r.byTx, old.tx)
		}
		*old = e
	} else {
		r.ring = append(r.ring, e)
	}
	r.byMsg[e.msg] = e.seq
	if e.hasTx {
		r.byTx[e.tx] = e.seq
	}
	r.seq++
}

func (r *recentSet) lookup(id string, tx bool, now time.Time) (OperationKey, bool) {
	p, ok := r.find(id, tx, now)
	if !ok {
		return OperationKey{}, false
	}
	return p.key, true
}

func (r *recentSet) find(id string, tx bool, now time.Time) (*Pending, bool) {
	if r.size == 0 || id == "" || r.byMsg == nil {
		return nil, false
	}
	m := r.byMsg
	if tx {
		m = r.byTx
	}
	s, ok := m[r.hash(id)]
	if !ok {
		return nil, false
	}
	e := &r.ring[int(s%uint64(r.size))]
	if e.seq != s || (r.maxAge > 0 && now.Sub(e.at) > r.maxAge) {
		return nil, false
	}
	own := e.p.key.MessageID // the hit confirmed against the entry's own ID
	if tx {
		own = e.p.key.TransactionID
	}
	if own != id {
		return nil, false
	}
	return e.p, true
}

// dropTx forgets the TransactionID tx from the window (its operation stays findable by MessageID).
func (r *recentSet) dropTx(tx string) {
	if r.byTx == nil {
		return
	}
	h := r.hash(tx)
	s, ok := r.byTx[h]
	if !ok {
		return
	}
	if e := &r.ring[int(s%uint64(r.size))]; e.seq == s && e.p.key.TransactionID == tx {
		delete(r.byTx, h)
	}
}

// recentLen returns how many keys the duplicate window holds (for tests).
func (t *Tracker) recentLen() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.recent.byMsg)
}

package correlate

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// Store is where correlation state lives: the operations waiting for a callback, the results that
// arrived for them, and the MessageIDs of notifications already handed over. The esimgw.Dispatcher and
// every client that shares it use one Store.
//
// The default is the process's own memory (*Tracker): fast, and lost with the process. A store that keeps
// its state in a database (package pgstore) lets several replicas share the work, so that any of them can
// take any callback, and lets a restarted process resume the operations it had started.
//
// An implementation must be safe for concurrent use by any number of processes sharing it: of concurrent
// deliveries of copies of one callback, on any replica, exactly one resolves the operation and the others
// are Duplicate; of concurrent claims of one MessageID, exactly one is Claimed.
type Store interface {
	// RegisterOperation records an operation BEFORE its request is sent (a callback can arrive before the
	// 202). deadline is when the gateway gives up on it (zero: none); the store may forget the operation
	// some time after it. Errors: ErrEmptyID for an empty MessageID, ErrKeyInUse when the MessageID
	// or a pending operation's TransactionID is taken, ErrTooManyPending, or a *StoreError.
	RegisterOperation(ctx context.Context, key OperationKey, deadline time.Time) (*Pending, error)
	// DeliverCallback resolves the operation a callback answers, matching on RelatesTo first and then on
	// the TransactionID, and keeps the result where any waiter (on any replica) can read it. It returns
	// only once the result is stored, so the callback may then be acknowledged.
	DeliverCallback(ctx context.Context, d Delivery) (DeliveryResult, error)
	// ResolveOperation resolves p directly, e.g. with a synchronous FAILED answer. It reports whether p
	// was still pending.
	ResolveOperation(ctx context.Context, p *Pending, value any, err error) (bool, error)
	// WithdrawOperation gives up on p: its waiters see cause (ErrAbandoned when nil) and a callback
	// arriving later is Unmatched. It reports whether p was still pending.
	WithdrawOperation(ctx context.Context, p *Pending, cause error) (bool, error)
	// AttachOperation returns a handle on an operation registered earlier, perhaps by another process
	// that has since exited, looked up by its MessageID, TransactionID or FunctionCallIdentifier. If its
	// result has arrived, the handle is already done and holds it. ErrUnknownOperation when the store has
	// no such operation (never registered, or forgotten after its retention), ErrEmptyID for an empty id.
	AttachOperation(ctx context.Context, id string) (*Pending, error)
	// PendingOperations lists the operations still waiting for their callback, oldest first, at most
	// limit of them (0: all).
	PendingOperations(ctx context.Context, limit int) ([]OperationRecord, error)
	// ClaimMessage claims a message's MessageID in scope before it is handed over, so that a copy (the
	// gateway's retry after a lost 202, or the same message at another replica) is handed over once. A
	// Claimed message must be followed by CommitMessage once handed over, or ReleaseMessage if the hand-over
	// failed. A claim that is neither committed nor released (the process died) expires after the store's
	// lease, so the gateway's retry is handed over then.
	ClaimMessage(ctx context.Context, scope MessageScope, messageID string) (ClaimResult, error)
	// CommitMessage records that the claimed message was handed over.
	CommitMessage(ctx context.Context, scope MessageScope, messageID string) error
	// ReleaseMessage forgets a claim whose hand-over failed, so the next copy is handed over.
	ReleaseMessage(ctx context.Context, scope MessageScope, messageID string) error
	// Ping reports whether the store can be used now (a readiness check).
	Ping(ctx context.Context) error
}

// PendingCounter is implemented by a Store that can count the operations awaiting their callback with
// one cheap query (pgstore: an indexed count over the shared table, so every replica's operations). The
// esimgw.Dispatcher's esimgw.operations.pending gauge uses it for a Store other than the Tracker,
// refreshing its count at most every esimgw.PendingCountInterval (esimgw.WithPendingCountInterval)
// whatever the scrape rate.
type PendingCounter interface {
	CountPendingOperations(ctx context.Context) (int64, error)
}

// MessageScope separates the kinds of message whose MessageIDs a Store de-duplicates.
type MessageScope string

// Message scopes.
const (
	// ScopeNotification: HandleXxxNotification messages, handed to the NotificationHandler.
	ScopeNotification MessageScope = "notification"
	// ScopeUnmatched: callbacks and unknown messages handed to the unmatched handler.
	ScopeUnmatched MessageScope = "unmatched"
)

// ClaimResult says what ClaimMessage found.
type ClaimResult uint8

const (
	// Claimed: the message is new; hand it over, then commit (or release) the claim.
	Claimed ClaimResult = iota
	// HandedOver: a copy was handed over already; acknowledge this one and do nothing else.
	HandedOver
	// InProgress: a copy is being handed over right now (here or at another replica). Do not acknowledge:
	// if that hand-over fails, this copy is the one that must get through, so the sender must retry.
	InProgress
)

// String returns "claimed", "handed over" or "in progress".
func (c ClaimResult) String() string {
	switch c {
	case Claimed:
		return "claimed"
	case HandedOver:
		return "handed over"
	case InProgress:
		return "in progress"
	}
	return "ClaimResult(" + strconv.Itoa(int(c)) + ")"
}

// OperationState is where an operation stands in a Store.
type OperationState uint8

const (
	// OperationPending: registered, no result yet.
	OperationPending OperationState = iota
	// OperationResolved: its result arrived (a callback or a synchronous answer).
	OperationResolved
	// OperationWithdrawn: given up before a result arrived.
	OperationWithdrawn
)

// String returns "pending", "resolved" or "withdrawn".
func (s OperationState) String() string {
	switch s {
	case OperationPending:
		return "pending"
	case OperationResolved:
		return "resolved"
	case OperationWithdrawn:
		return "withdrawn"
	}
	return "OperationState(" + strconv.Itoa(int(s)) + ")"
}

// OperationRecord is what a Store knows of one operation.
type OperationRecord struct {
	Key          OperationKey
	State        OperationState
	RegisteredAt time.Time
	Deadline     time.Time // zero: none
}

// ErrUnknownOperation: the store knows no operation by that identifier.
var ErrUnknownOperation = errors.New("esimgw: unknown operation")

// ErrStoreUnavailable is what a *StoreError matches with errors.Is: the store could not be reached or
// failed. Before a request is sent it means nothing was sent; on an inbound message it answers HTTP 503 so
// that the gateway delivers the message again.
var ErrStoreUnavailable = errors.New("esimgw: store unavailable")

// StoreError is a failure of the Store itself (a database down, a connection lost), as opposed to an
// answer it gives (ErrKeyInUse, ErrUnknownOperation).
type StoreError struct {
	Op  string // what was attempted, e.g. "register", "deliver callback"
	Err error  // the underlying error
}

func (e *StoreError) Error() string { return "esimgw: store: " + e.Op + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *StoreError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrStoreUnavailable) true.
func (e *StoreError) Is(target error) bool { return target == ErrStoreUnavailable }

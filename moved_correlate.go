package esimgw

import (
	"log/slog"
	"time"

	"github.com/esimgw/esimgw/correlate"
)

// Correlation and the store seam moved to package correlate. These names stay for one v0 release so that
// code written against them still compiles; each says where it went. ErrAbandoned is not among them: it is
// what Operation.Wait returns, and stays this package's as well.

// ErrAbandoned: the operation was withdrawn or abandoned before a result arrived (Operation.Wait's context
// ended, Operation.Abandon, a store's WithdrawOperation); a later callback for it is reported Unmatched.
// It is correlate.ErrAbandoned, the same value, so errors.Is matches either.
var ErrAbandoned = correlate.ErrAbandoned

// Store is correlate.Store.
//
// Deprecated: use correlate.Store.
type Store = correlate.Store

// PendingCounter is correlate.PendingCounter.
//
// Deprecated: use correlate.PendingCounter.
type PendingCounter = correlate.PendingCounter

// MessageScope is correlate.MessageScope.
//
// Deprecated: use correlate.MessageScope.
type MessageScope = correlate.MessageScope

// ClaimResult is correlate.ClaimResult.
//
// Deprecated: use correlate.ClaimResult.
type ClaimResult = correlate.ClaimResult

// OperationState is correlate.OperationState.
//
// Deprecated: use correlate.OperationState.
type OperationState = correlate.OperationState

// OperationRecord is correlate.OperationRecord.
//
// Deprecated: use correlate.OperationRecord.
type OperationRecord = correlate.OperationRecord

// StoreError is correlate.StoreError.
//
// Deprecated: use correlate.StoreError.
type StoreError = correlate.StoreError

// OperationKey is correlate.OperationKey.
//
// Deprecated: use correlate.OperationKey.
type OperationKey = correlate.OperationKey

// Match is correlate.Match.
//
// Deprecated: use correlate.Match.
type Match = correlate.Match

// Delivery is correlate.Delivery.
//
// Deprecated: use correlate.Delivery.
type Delivery = correlate.Delivery

// DeliveryResult is correlate.DeliveryResult.
//
// Deprecated: use correlate.DeliveryResult.
type DeliveryResult = correlate.DeliveryResult

// MismatchedCallbackError is correlate.MismatchedCallbackError.
//
// Deprecated: use correlate.MismatchedCallbackError.
type MismatchedCallbackError = correlate.MismatchedCallbackError

// Pending is correlate.Pending.
//
// Deprecated: use correlate.Pending.
type Pending = correlate.Pending

// Tracker is correlate.Tracker.
//
// Deprecated: use correlate.Tracker.
type Tracker = correlate.Tracker

// TrackerOption is correlate.Option.
//
// Deprecated: use correlate.Option.
type TrackerOption = correlate.Option

// ErrKeyInUse is correlate.ErrKeyInUse, the same value.
//
// Deprecated: use correlate.ErrKeyInUse.
var ErrKeyInUse = correlate.ErrKeyInUse

// ErrTooManyPending is correlate.ErrTooManyPending, the same value.
//
// Deprecated: use correlate.ErrTooManyPending.
var ErrTooManyPending = correlate.ErrTooManyPending

// ErrMismatchedCallback is correlate.ErrMismatchedCallback, the same value.
//
// Deprecated: use correlate.ErrMismatchedCallback.
var ErrMismatchedCallback = correlate.ErrMismatchedCallback

// ErrUnknownOperation is correlate.ErrUnknownOperation, the same value.
//
// Deprecated: use correlate.ErrUnknownOperation.
var ErrUnknownOperation = correlate.ErrUnknownOperation

// ErrStoreUnavailable is correlate.ErrStoreUnavailable, the same value.
//
// Deprecated: use correlate.ErrStoreUnavailable.
var ErrStoreUnavailable = correlate.ErrStoreUnavailable

// What Tracker.Deliver and Store.DeliverCallback did with a callback, now in package correlate.
//
// Deprecated: use correlate.Unmatched, ...
const (
	Unmatched  = correlate.Unmatched
	Matched    = correlate.Matched
	Duplicate  = correlate.Duplicate
	Mismatched = correlate.Mismatched
)

// The scopes of Store.ClaimMessage, now in package correlate.
//
// Deprecated: use correlate.ScopeNotification, ...
const (
	ScopeNotification = correlate.ScopeNotification
	ScopeUnmatched    = correlate.ScopeUnmatched
)

// What Store.ClaimMessage found, now in package correlate.
//
// Deprecated: use correlate.Claimed, ...
const (
	Claimed    = correlate.Claimed
	HandedOver = correlate.HandedOver
	InProgress = correlate.InProgress
)

// Where an operation stands in a Store, now in package correlate.
//
// Deprecated: use correlate.OperationPending, ...
const (
	OperationPending   = correlate.OperationPending
	OperationResolved  = correlate.OperationResolved
	OperationWithdrawn = correlate.OperationWithdrawn
)

// DefaultDuplicateWindow is correlate.DefaultDuplicateWindow.
//
// Deprecated: use correlate.DefaultDuplicateWindow.
const DefaultDuplicateWindow = correlate.DefaultDuplicateWindow

// NewResolvedPending is correlate.NewResolvedPending.
//
// Deprecated: use correlate.NewResolvedPending.
func NewResolvedPending(key OperationKey, value any, err error) *Pending {
	return correlate.NewResolvedPending(key, value, err)
}

// NewWithdrawnPending is correlate.NewWithdrawnPending.
//
// Deprecated: use correlate.NewWithdrawnPending.
func NewWithdrawnPending(key OperationKey, cause error) *Pending {
	return correlate.NewWithdrawnPending(key, cause)
}

// NewTracker is correlate.NewTracker.
//
// Deprecated: use correlate.NewTracker.
func NewTracker(opts ...TrackerOption) *Tracker { return correlate.NewTracker(opts...) }

// WithTrackerLogger is correlate.WithLogger.
//
// Deprecated: use correlate.WithLogger.
func WithTrackerLogger(l *slog.Logger) TrackerOption { return correlate.WithLogger(l) }

// WithDuplicateWindow is correlate.WithDuplicateWindow.
//
// Deprecated: use correlate.WithDuplicateWindow.
func WithDuplicateWindow(size int, maxAge time.Duration) TrackerOption {
	return correlate.WithDuplicateWindow(size, maxAge)
}

// WithMaxPending is correlate.WithMaxPending.
//
// Deprecated: use correlate.WithMaxPending.
func WithMaxPending(n int) TrackerOption { return correlate.WithMaxPending(n) }

// WithTrackerClock is correlate.WithClock.
//
// Deprecated: use correlate.WithClock.
func WithTrackerClock(now func() time.Time) TrackerOption { return correlate.WithClock(now) }

// TransactionIDFromMessageID is correlate.TransactionIDFromMessageID.
//
// Deprecated: use correlate.TransactionIDFromMessageID.
func TransactionIDFromMessageID(messageID string) string {
	return correlate.TransactionIDFromMessageID(messageID)
}

// Package correlate ties the asynchronous results of SGP.02 calls to the calls that are waiting for them,
// and is the seam where that state is kept.
//
// An asynchronous function (ES4 EnableProfile, say) is answered twice: at once with a 202, and later by a
// callback the gateway posts to your replyTo address. The callback names the request by its RelatesTo (the
// request's wsa:MessageID) or, as gSOAP gateways send them, only by the TransactionId inside its own
// MessageID. This package matches the one to the other, at most once, and says what a callback was: Matched
// (it resolved a pending operation), Duplicate (another copy of one that did), Mismatched (it names an
// operation of another function, which it must not resolve) or Unmatched.
//
// Store is the interface for where that state lives: the operations waiting for a callback (Pending,
// identified by an OperationKey), the results that arrived for them, and the MessageIDs of notifications
// already handed over, so that a gateway's retry is not handed over twice. Two implementations exist:
//
//   - Tracker, in this package: the process's own memory, the default. Fast, bounded, lost with the process.
//   - pgstore.Store: PostgreSQL, shared by every replica and kept across restarts.
//
// Write another (Redis, say) only if neither fits; package storetest is the contract it must pass.
//
// Few programs call this package's methods themselves. The esimgw.Dispatcher owns one Store
// (esimgw.WithStore; a Tracker unless given one) and every client created with it shares it: a client
// registers each asynchronous call with RegisterOperation before its request leaves (a callback can beat
// the 202), the Dispatcher hands each decoded callback to DeliverCallback and answers the gateway only
// once it returned, and esimgw.Operation waits on the Pending, withdrawing it when its context ends. A
// program names this package to choose a store, to bound the Tracker (WithMaxPending,
// WithDuplicateWindow), or to check a store's errors (ErrStoreUnavailable, ErrUnknownOperation).
//
// The package needs only the standard library, so that a Store implementation need not import the client.
package correlate

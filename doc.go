// Package esimgw drives GSMA SGP.02 eSIM remote provisioning of M2M devices from an operator's back end:
// ES2 (operator to SM-DP) and ES4 (operator to SM-SR), SOAP 1.2 with WS-Addressing over mutual TLS, as
// gateways such as the KPN RSP Gateway expose them.
//
// This package holds what ES2 and ES4 share; the typed clients are in packages es2 and es4.
//
//   - Validation (ValidateEID, ValidateICCID, ValidateOID, ...) runs before anything is sent: a bad value is
//     a *ValidationError naming the field and the rule, and no request leaves the process.
//   - A function that ends FAILED or EXPIRED is a *FunctionError carrying Status, Subject, Reason,
//     SubjectIdentifier and Message (errors.Is(err, ErrFailed) / ErrExpired); EXECUTED_WITHWARNING is a
//     success that carries a *Warning. DescribeCode names the codes ("8.2.1/3.9" reads "Profile ICCID:
//     unknown"); OutcomeOf flattens any result into the one status row REST platforms show.
//   - Asynchronous functions return an Operation whose Wait gives the typed result once the gateway posts
//     its callback to your replyTo address. A Dispatcher, served by a callback.Server (mTLS by default),
//     correlates callbacks (RelatesTo first, then the TransactionId inside the MessageID), routes
//     notifications to typed handlers, and gives whatever nobody waits for to an unmatched handler: a
//     callback is acknowledged only after it was handed over, and never dropped.
//
// A typical set-up: one Dispatcher and one callback.Server per process, one es2.Client and one es4.Client
// per gateway, all sharing the Dispatcher (see the examples of packages es4 and es2).
package esimgw

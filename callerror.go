package esimgw

import (
	"errors"
	"fmt"

	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/soap"
)

// CallError is the one error type of an outgoing call, synchronous or asynchronous: it says whether the
// gateway may have executed the request (Outcome), with the HTTP status, the SOAP fault and its SGP.02
// Subject/Reason codes when the gateway answered, and the FunctionCallIdentifier to reuse. It is
// soap.CallError: errors.As(err, &ce) with a *esimgw.CallError or a *soap.CallError finds the same value.
//
// The rule (docs/delivery.md): after ErrNotSent or ErrRefused, call again freely; after
// ErrOutcomeUnknown, call again only with the same FunctionCallIdentifier (WithFunctionCallIdentifier),
// which the gateway recognises as a retry, or audit the eUICC first. An asynchronous call whose outcome
// is unknown does not fail: its operation stays pending, so that its callback still resolves it, and
// Wait reports this error only if the context ends first.
//
// A function that executed and failed is a *FunctionError, not a CallError.
type CallError = soap.CallError

// SendOutcome is CallError.Outcome: NotSent, Refused or OutcomeUnknown (the zero value).
type SendOutcome = soap.Outcome

// The outcomes of a failed call.
const (
	// OutcomeUnknown: the request may have been executed (a reset or timeout after it was written, a
	// proxy's 502 or 504, a 2xx that could not be read).
	OutcomeUnknown = soap.OutcomeUnknown
	// NotSent: no peer can have executed the request; it was never completely written.
	NotSent = soap.NotSent
	// Refused: the gateway answered and did not accept the request; it was not executed.
	Refused = soap.Refused
)

// Sentinels for errors.Is, one per SendOutcome (the same values as package soap's).
var (
	ErrNotSent        = soap.ErrNotSent
	ErrRefused        = soap.ErrRefused
	ErrOutcomeUnknown = soap.ErrOutcomeUnknown
)

// SendError is the failure of an asynchronous request that was not sent or was refused, with the
// identifiers it was sent with. It wraps the *CallError, whose message it repeats.
//
// Deprecated: use errors.As with a *CallError, which synchronous calls return too and which carries the
// same identifiers (FunctionCallIdentifier, MessageID) and the call's Outcome. SendError stays for code
// written against earlier versions.
type SendError struct {
	Key correlate.OperationKey
	Err error
}

func (e *SendError) Error() string {
	var ce *CallError
	if errors.As(e.Err, &ce) {
		return "esimgw: " + ce.Error()
	}
	return fmt.Sprintf("esimgw: %s %s (FunctionCallIdentifier %s) failed: %v", e.Key.Interface, e.Key.Function, e.Key.FunctionCallIdentifier, e.Err)
}

func (e *SendError) Unwrap() error { return e.Err }

package esimgw

import (
	"context"
	"errors"
)

// Local outcome statuses. They never come off the wire (none is a StatusType
// value; Status.IsWire reports false) and say that the gateway's verdict is
// not known.
const (
	// StatusInvalidRequest: validation failed; nothing was sent.
	StatusInvalidRequest Status = "INVALID_REQUEST"
	// StatusNoResult: the wait ended (context deadline or cancellation,
	// abandoned operation) before a result arrived; the function may still
	// run, or have run, at the gateway.
	StatusNoResult Status = "NO_RESULT"
	// StatusError: any other failure (transport, SOAP fault, decoding); the
	// request may or may not have reached the gateway.
	StatusError Status = "ERROR"
)

// Outcome is the flat per-device row REST platforms show for one function
// call (e.g. Verizon ThingSpace's euiccStatus / euiccStatusCode), for bulk
// reports and logs.
type Outcome struct {
	// Status is a wire value (EXECUTED_SUCCESS, EXECUTED_WITHWARNING, FAILED,
	// EXPIRED, or whatever unknown value the peer sent) or one of the local
	// values StatusInvalidRequest, StatusNoResult, StatusError.
	Status Status
	// StatusCode is "Subject,Reason" as received, e.g. "8.2.1,3.9"; "" when
	// the peer sent no StatusCodeData and for local outcomes.
	StatusCode string
	// Description is DescribeCode of the codes ("Profile ICCID: unknown"),
	// or a short description of a local outcome.
	Description string
	// Message is the peer's StatusCodeData/Message, raw, or the error text
	// of a local outcome.
	Message string
}

// Succeeded reports whether the function executed (with or without warning).
func (o Outcome) Succeeded() bool { return o.Status.Succeeded() }

// OutcomeOf maps the result of one call to one Outcome: err as returned by the
// call or by Operation.Wait, warning as carried by its result. err wins over
// warning:
//
//   - nil, nil: EXECUTED_SUCCESS;
//   - nil, warning: EXECUTED_WITHWARNING with the warning's codes;
//   - a *FunctionError (anywhere in the chain): its status, codes and message;
//   - a *ValidationError: StatusInvalidRequest;
//   - context.DeadlineExceeded, context.Canceled or ErrAbandoned: StatusNoResult;
//   - anything else: StatusError.
func OutcomeOf(warning *Warning, err error) Outcome {
	if err == nil {
		if warning != nil {
			st := ExecutionStatus(*warning)
			if st.Status == "" {
				st.Status = StatusExecutedWithWarning
			}
			return statusOutcome(st)
		}
		return Outcome{Status: StatusExecutedSuccess}
	}
	var fe *FunctionError
	if errors.As(err, &fe) {
		return statusOutcome(fe.ExecutionStatus)
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		return Outcome{Status: StatusInvalidRequest, Description: "invalid " + ve.Field + ": " + ve.Rule, Message: err.Error()}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return Outcome{Status: StatusNoResult, Description: "no result before the deadline", Message: err.Error()}
	case errors.Is(err, context.Canceled):
		return Outcome{Status: StatusNoResult, Description: "canceled before a result arrived", Message: err.Error()}
	case errors.Is(err, ErrAbandoned):
		return Outcome{Status: StatusNoResult, Description: "abandoned before a result arrived", Message: err.Error()}
	}
	return Outcome{Status: StatusError, Description: "request failed locally or in transport", Message: err.Error()}
}

func statusOutcome(st ExecutionStatus) Outcome {
	return Outcome{Status: st.Status, StatusCode: st.Code(), Description: st.Description(), Message: st.Message}
}

package esimgw

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/trace"

	"github.com/esimgw/esimgw/wsdl/rps"
)

// ErrWrongFunction: Resume was asked for an operation of a function whose result has another type (an
// AuditEIS given to a method resuming profile operations, say). The error names the function.
var ErrWrongFunction = errors.New("esimgw: operation of another function")

// ResumeOperation returns a typed handle on an operation that was started earlier, perhaps by a process
// that has since exited, found in the client's Store by its FunctionCallIdentifier, MessageID or
// TransactionID. If its result arrived meanwhile (while nothing was running, or at another replica), Wait
// returns it at once. functions lists the functions whose result convert can make (e.g. "EnableProfile");
// an operation of another function fails with ErrWrongFunction, one the store does not know with
// correlate.ErrUnknownOperation, an empty id with a *ValidationError.
//
// es4.Client.Resume and es2.Client.Resume wrap it with the right types.
func ResumeOperation[T any](ctx context.Context, c *Client, id string, functions []string,
	convert func(resp rps.Response, warn *Warning, err error) (T, error)) (*Operation[T], error) {
	if c.dispatcher == nil {
		return nil, fmt.Errorf("%w: resume %s", ErrNoDispatcher, id)
	}
	if id == "" {
		// Caught here, not by the store, so that the caller gets the package's one shape of a rejected
		// argument (correlate cannot name it: it sits below this package).
		return nil, &ValidationError{Field: "id", Rule: "must not be empty"}
	}
	s := c.dispatcher.Store()
	p, err := s.AttachOperation(ctx, id)
	if err != nil {
		return nil, err
	}
	key := p.Key()
	if key.Interface != c.Interface() {
		return nil, fmt.Errorf("%w: %s is an %s %s operation, this is an %s client", ErrWrongFunction, id, key.Interface, key.Function, c.Interface())
	}
	known := false
	for _, f := range functions {
		known = known || f == key.Function
	}
	if !known {
		return nil, fmt.Errorf("%w: %s is a %s %s operation (this resumes %v)", ErrWrongFunction, id, key.Interface, key.Function, functions)
	}
	op := newTypedOperation(s, p, convert)
	op.wt = c.waitTrace(trace.SpanContext{}, key)
	return op, nil
}

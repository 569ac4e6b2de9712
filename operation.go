package esimgw

import (
	"context"
	"fmt"
	"sync"

	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/internal/engine"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// Operation is the caller's handle on one asynchronous function call whose
// result arrives later as a callback (or at once, when the gateway answers a
// synchronous FAILED).
//
// A result that arrives before anybody calls Wait is kept until it is read, so
// it is never lost. Wait may be called more than once and from several
// goroutines; all see the same result.
type Operation[T any] struct {
	s       correlate.Store
	p       *correlate.Pending
	convert func(value any, err error) (T, error)
	// typed, when set, converts instead of convert: a response converter of StartOperation's or
	// ResumeOperation's, given the key's FunctionCallIdentifier (convertResponse). A field rather than a
	// closure over the key: an operation then takes one allocation less.
	typed func(resp rps.Response, warn *Warning, err error) (T, error)
	wt    *engine.WaitTrace // nil unless a tracer records (set by StartOperation, ResumeOperation)

	once   sync.Once
	result T
	err    error
}

// NewOperation wraps a Pending that s registered (or attached). convert turns
// the delivered value and error into the typed result; it is called once, on
// the first Wait after the resolution. A nil convert asserts value.(T) and
// passes err through.
//
// A nil s or p, or a p that the Tracker s did not register, gives an operation
// that is already abandoned.
func NewOperation[T any](s correlate.Store, p *correlate.Pending, convert func(value any, err error) (T, error)) *Operation[T] {
	if convert == nil {
		convert = assertResult[T]
	}
	t, isTracker := s.(*correlate.Tracker)
	if p == nil || s == nil || (isTracker && !t.Owns(p)) {
		var key correlate.OperationKey
		if p != nil {
			key = p.Key()
		}
		p = correlate.NewWithdrawnPending(key, correlate.ErrAbandoned)
	}
	return &Operation[T]{s: s, p: p, convert: convert}
}

func assertResult[T any](value any, err error) (T, error) {
	var zero T
	if err != nil {
		return zero, err
	}
	if value == nil {
		return zero, nil
	}
	v, ok := value.(T)
	if !ok {
		return zero, fmt.Errorf("esimgw: result of type %T, want %T", value, zero)
	}
	return v, nil
}

// Key returns the operation's key.
func (o *Operation[T]) Key() correlate.OperationKey { return o.p.Key() }

// MessageID returns the request's wsa:MessageID.
func (o *Operation[T]) MessageID() string { return o.p.Key().MessageID }

// TransactionID returns the request's TransactionId.
func (o *Operation[T]) TransactionID() string { return o.p.Key().TransactionID }

// FunctionCallIdentifier returns the request's FunctionCallIdentifier.
func (o *Operation[T]) FunctionCallIdentifier() string { return o.p.Key().FunctionCallIdentifier }

// Interface returns "ES2" or "ES4".
func (o *Operation[T]) Interface() string { return o.p.Key().Interface }

// Function returns the function name, e.g. "EnableProfile".
func (o *Operation[T]) Function() string { return o.p.Key().Function }

// Done is closed once the operation is resolved or abandoned; Wait then
// returns at once.
func (o *Operation[T]) Done() <-chan struct{} { return o.p.Done() }

// Wait returns the typed result once the callback (or a direct Resolve) has
// arrived.
//
// If ctx ends first, Wait ABANDONS the operation: it is withdrawn from the
// Tracker, a callback arriving later is reported Unmatched (and goes to the
// unmatched-callback handler), and Wait returns an error wrapping both
// ctx.Err() and ErrAbandoned (this and later calls). The function may still
// complete at the gateway. If the result arrived at the same moment the
// context ended, the result wins. Use a long enough ctx (ValidityPeriod plus
// a margin), or select on Done to wait without abandoning.
//
// With a TracerProvider on the client (or its dispatcher), each Wait is a span, "wait ES4/EnableProfile",
// a child of the call's span (or, for a resumed operation, linked to it), ending with the outcome.
func (o *Operation[T]) Wait(ctx context.Context) (T, error) {
	if o.wt == nil {
		return o.wait(ctx)
	}
	ready := false
	select {
	case <-o.p.Done():
		ready = true
	default:
	}
	ctx, span := o.wt.Start(ctx, o.p.Key(), ready)
	v, err := o.wait(ctx)
	if span.IsRecording() {
		// The span's outcome: the result's status and code, or why there is none.
		var warn *Warning
		value, _, resolved := o.p.Result() // stable: done is closed
		if r, ok := value.(rps.Response); ok && resolved && err == nil {
			warn, _ = ResponseStatus(o.p.Key().Interface, o.p.Key().Function, r)
		}
		engine.RecordWait(span, resolved, labels(warn, err), err)
	}
	span.End()
	return v, err
}

func (o *Operation[T]) wait(ctx context.Context) (T, error) {
	select {
	case <-o.p.Done():
		return o.read()
	default:
	}
	select {
	case <-o.p.Done():
	case <-ctx.Done():
		cause := fmt.Errorf("esimgw: %s: no result before the context ended: %w (%w)",
			o.name(), ctx.Err(), ErrAbandoned)
		if u := o.p.Unconfirmed(); u != nil {
			// The request's answer was lost too: whether it ran is unknown, and the error says so.
			cause = fmt.Errorf("esimgw: %s: no result before the context ended: %w (%w), and %w",
				o.name(), ctx.Err(), ErrAbandoned, u)
		}
		if c := context.Cause(ctx); c != nil && c != ctx.Err() {
			cause = fmt.Errorf("%w: %w", cause, c)
		}
		if o.s != nil {
			// Loses to a concurrent resolution. A store that cannot record the withdrawal still withdraws
			// locally, and its record stays pending: a late callback is then kept for a resume, not lost.
			_, _ = o.s.WithdrawOperation(context.WithoutCancel(ctx), o.p, cause)
		}
		<-o.p.Done() // closed: by our withdrawal or by whoever got there first
	}
	return o.read()
}

func (o *Operation[T]) name() string {
	switch {
	case o.p.Key().Interface != "" && o.p.Key().Function != "":
		return o.p.Key().Interface + " " + o.p.Key().Function
	case o.p.Key().Function != "":
		return o.p.Key().Function
	}
	return "operation " + o.p.Key().MessageID
}

// read is called after done is closed, so the result is stable.
func (o *Operation[T]) read() (T, error) {
	o.once.Do(func() {
		value, err, resolved := o.p.Result()
		if resolved {
			if o.typed != nil {
				o.result, o.err = convertResponse(o.p.Key(), o.typed, value, err)
			} else {
				o.result, o.err = o.convert(value, err)
			}
			return
		}
		o.err = err
		if o.err == nil {
			o.err = ErrAbandoned
		}
	})
	return o.result, o.err
}

// Resolve resolves the operation directly, e.g. with the *FunctionError of a
// synchronous 200 FAILED answer. It reports whether the operation was still
// pending (false: a callback or Abandon came first).
func (o *Operation[T]) Resolve(value any, err error) bool {
	if o.s == nil {
		return false
	}
	ok, _ := o.s.ResolveOperation(context.Background(), o.p, value, err)
	return ok
}

// Abandon withdraws the operation: Wait returns ErrAbandoned and a later
// callback is Unmatched. It reports whether the operation was still pending.
func (o *Operation[T]) Abandon() bool {
	if o.s == nil {
		return false
	}
	ok, _ := o.s.WithdrawOperation(context.Background(), o.p, nil)
	return ok
}

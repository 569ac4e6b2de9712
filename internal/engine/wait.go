package engine

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/esimgw/esimgw/correlate"
)

// WaitTrace traces the Waits of one operation; nil (and free) unless the client's or its dispatcher's
// tracer records.
type WaitTrace struct {
	tracer trace.Tracer
	parent trace.SpanContext // the call's span, when this process sent the request
	link   trace.SpanContext // a resumed operation's call span, while the dispatcher still knows it
}

// NewWaitTrace returns the tracing of an operation's Waits, for a client instrumented by ct whose
// dispatcher is instrumented by dt (either may be nil): call is the span of the call that started it
// (invalid for a resumed operation, whose call span the dispatcher's link table may still hold).
func NewWaitTrace(ct *ClientTelemetry, dt *DispatcherTelemetry, call trace.SpanContext, key correlate.OperationKey) *WaitTrace {
	var tracer trace.Tracer
	switch {
	case ct != nil && ct.tracing:
		tracer = ct.tracer
	case dt != nil && dt.tracing:
		tracer = dt.tracer
	default:
		return nil // before any allocation: most operations are not traced
	}
	w := &WaitTrace{parent: call, tracer: tracer}
	if !call.IsValid() && dt != nil {
		if e := dt.links.lookup(key.MessageID, key.TransactionID); e != nil {
			w.link = e.sc
		}
	}
	return w
}

// Start begins the span of one Wait: a child of the call's span when this process sent the call (the
// waiter's own span, if any, is linked), else of the waiter's span, linked to the call's span when known.
// ready says the result was already there when Wait was called.
func (w *WaitTrace) Start(ctx context.Context, key correlate.OperationKey, ready bool) (context.Context, trace.Span) {
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(
		rpcSystemSOAP, attribute.String("rpc.service", key.Interface), attribute.String("rpc.method", key.Function),
		attribute.String(attrFunctionCallID, key.FunctionCallIdentifier), attribute.String("esimgw.message_id", key.MessageID),
		attribute.Bool("esimgw.wait.ready", ready))}
	if w.parent.IsValid() {
		if own := trace.SpanContextFromContext(ctx); own.IsValid() && !own.Equal(w.parent) {
			opts = append(opts, trace.WithLinks(trace.Link{SpanContext: own}))
		}
		ctx = trace.ContextWithSpanContext(ctx, w.parent)
	}
	if w.link.IsValid() {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: w.link}))
	}
	return w.tracer.Start(ctx, "wait "+key.Interface+"/"+key.Function, opts...)
}

// RecordWait sets a recording Wait span's outcome: esimgw.wait.result (resolved, or abandoned when no
// result came), the status and code out labels the result with, error.type, and err. The caller checks
// span.IsRecording first (working out out costs) and ends the span.
func RecordWait(span trace.Span, resolved bool, out Outcome, err error) {
	result := "abandoned"
	if resolved {
		result = "resolved"
	}
	span.SetAttributes(attribute.String("esimgw.wait.result", result), attribute.String(attrStatus, out.Status))
	if out.Code != "" {
		span.SetAttributes(attribute.String(attrStatusCode, out.Code))
	}
	if out.ErrorType != "" {
		span.SetAttributes(attribute.String("error.type", out.ErrorType))
	}
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, out.Status)
	}
}

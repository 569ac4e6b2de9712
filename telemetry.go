package esimgw

import (
	"context"
	"errors"
	"net"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/internal/engine"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// Telemetry follows the aws-sdk-go-v2 pattern: the library speaks only the OpenTelemetry API, and a program
// hands in the providers it built with the SDK (WithTracerProvider, WithMeterProvider and their Dispatcher
// and callback.Server counterparts). With none given nothing is instrumented: the hooks are a nil check.
// docs/telemetry.md lists every span, metric and attribute. The instruments are the engine's
// (internal/engine); this file has the options and how a result is labelled (labels), which only this
// package can say.

// InstrumentationName is the instrumentation scope of every tracer and meter esimgw creates.
const InstrumentationName = engine.InstrumentationName

// Metric names. They follow the OpenTelemetry semantic conventions where one exists (rpc.client.call.duration)
// and are esimgw.* elsewhere; the Prometheus exporter turns the dots into underscores and adds the unit and
// _total suffixes (esimgw_calls_total, rpc_client_call_duration_seconds).
const (
	MetricCalls            = engine.MetricCalls            // "esimgw.calls", counter: outgoing calls by function and outcome
	MetricCallDuration     = engine.MetricCallDuration     // "rpc.client.call.duration", histogram, s: request to answer (202 or sync reply)
	MetricRetries          = engine.MetricRetries          // "esimgw.call.retries", counter: HTTP attempts after the first
	MetricCallbackLatency  = engine.MetricCallbackLatency  // "esimgw.callback.latency", histogram, s: request sent to its callback's arrival
	MetricInbound          = engine.MetricInbound          // "esimgw.inbound.messages", counter: inbound messages by kind and match
	MetricNotifications    = engine.MetricNotifications    // "esimgw.notifications", counter: notifications by kind
	MetricPendingOperation = engine.MetricPendingOperation // "esimgw.operations.pending", up-down counter (observed): operations awaiting a callback
	MetricInboundDuration  = engine.MetricInboundDuration  // "rpc.server.call.duration", histogram, s: hand-over of one inbound message
)

// PendingCountInterval is how long the Dispatcher reuses a PendingCounter store's count of pending
// operations before asking again (WithPendingCountInterval changes it).
const PendingCountInterval = engine.PendingCountInterval

// WithTracerProvider makes the client start a span for every call (see docs/telemetry.md). Give the
// Dispatcher a TracerProvider too (WithDispatcherTracerProvider) so that callbacks continue the call's trace.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *clientConfig) { c.telemetry.TracerProvider = tp }
}

// WithMeterProvider makes the client record call metrics (calls, durations, retries).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *clientConfig) { c.telemetry.MeterProvider = mp }
}

// WithDispatcherTracerProvider makes the dispatcher start a server span for every inbound message, as a
// child of the span of the call it answers when that call was made through a client of this dispatcher.
func WithDispatcherTracerProvider(tp trace.TracerProvider) DispatcherOption {
	return func(d *Dispatcher) { d.telemetry.TracerProvider = tp }
}

// WithDispatcherMeterProvider makes the dispatcher record inbound metrics (callbacks by match, notifications,
// callback latency) and observe the number of pending operations.
func WithDispatcherMeterProvider(mp metric.MeterProvider) DispatcherOption {
	return func(d *Dispatcher) { d.telemetry.MeterProvider = mp }
}

// WithPendingCountInterval sets how long the esimgw.operations.pending gauge reuses the count of a shared
// store (a PendingCounter such as pgstore) before querying again; default PendingCountInterval. The
// Tracker's count is read at every collection, for free.
func WithPendingCountInterval(d time.Duration) DispatcherOption {
	return func(dp *Dispatcher) { dp.telemetry.PendingEvery = d }
}

// labels is how spans and metrics label a result: its status and code (OutcomeOf), and for a local
// failure the error.type.
func labels(warn *Warning, err error) engine.Outcome {
	out := OutcomeOf(warn, err)
	l := engine.Outcome{Status: string(out.Status), Code: out.StatusCode}
	if out.Status == StatusError || out.Status == StatusNoResult {
		l.ErrorType = errorType(err)
	}
	return l
}

// endCall ends the observation of a call with x and err as the call returns them (for an asynchronous
// request the gateway answered at once, err is that answer's *FunctionError).
func endCall(o *engine.Observation, x *Exchange, err error) {
	if !o.Records() {
		return
	}
	attempts := 1
	var ce *soap.CallError
	switch {
	case x != nil && x.Attempts > 0:
		attempts = x.Attempts
	case errors.As(err, &ce):
		attempts = ce.Attempts
	}
	var l engine.Outcome
	if err == nil && x != nil && x.Response == nil && o.Async() {
		l.Status = engine.StatusAccepted
	} else {
		var warn *Warning
		if x != nil {
			warn = x.Warning
		}
		l = labels(warn, err)
	}
	o.End(attempts, l, err)
}

// endSent ends the observation of an asynchronous request with its answer: a 202, an error, or (rarely:
// Njiwa does it) an immediate synchronous result, whose status is decoded here a second time.
func endSent(o *engine.Observation, r *soap.Response, err error) {
	if !o.Records() {
		return
	}
	x := &Exchange{Key: o.Key()}
	switch {
	case err != nil:
		var ce *soap.CallError
		if errors.As(err, &ce) {
			x.Attempts = ce.Attempts
		}
	case r != nil:
		x.Attempts, x.Response = r.Attempts, r.Message
		if r.Message != nil {
			if el, ok := rps.NewElement(r.Message.BodyName); ok {
				if resp, ok := el.(rps.Response); ok && r.Message.DecodeBody(resp) == nil {
					x.Warning, err = ResponseStatus(o.Key().Interface, o.Key().Function, resp)
				}
			}
		}
	}
	endCall(o, x, err)
}

// errorType classifies a local failure for the error.type attribute, with few values so that it can label
// a metric.
func errorType(err error) string {
	var (
		he *soap.HTTPError
		f  *soap.Fault
		ne net.Error
		ve *ValidationError
	)
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, ErrAbandoned) && errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &ve):
		return "invalid_request"
	case errors.As(err, &f):
		return "soap_fault"
	case errors.As(err, &he):
		return "http_" + strconv.Itoa(he.StatusCode)
	case errors.Is(err, ErrUnexpectedResponse):
		return "unexpected_response"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.As(err, &ne):
		return "transport"
	}
	return "other"
}

// waitTrace returns the tracing of an operation's Waits (nil unless a tracer records): call is the span of
// the call that started it (invalid for a resumed operation).
func (c *Client) waitTrace(call trace.SpanContext, key correlate.OperationKey) *engine.WaitTrace {
	var dt *engine.DispatcherTelemetry
	if c.dispatcher != nil {
		dt = c.dispatcher.tel
	}
	return engine.NewWaitTrace(c.eng.Telemetry(), dt, call, key)
}

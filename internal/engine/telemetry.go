package engine

import (
	"context"
	"net/url"
	"reflect"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// Telemetry follows the aws-sdk-go-v2 pattern: the library speaks only the OpenTelemetry API, and a program
// hands in the providers it built with the SDK (esimgw.WithTracerProvider, WithMeterProvider and their
// Dispatcher and callback.Server counterparts). With none given nothing is instrumented: the hooks are a
// nil check.

// InstrumentationName is the instrumentation scope of every tracer and meter esimgw creates
// (esimgw.InstrumentationName).
const InstrumentationName = "github.com/esimgw/esimgw"

// Metric names, re-exported by the root package (esimgw.MetricCalls, ...), which documents them.
const (
	MetricCalls            = "esimgw.calls"
	MetricCallDuration     = "rpc.client.call.duration"
	MetricRetries          = "esimgw.call.retries"
	MetricCallbackLatency  = "esimgw.callback.latency"
	MetricInbound          = "esimgw.inbound.messages"
	MetricNotifications    = "esimgw.notifications"
	MetricPendingOperation = "esimgw.operations.pending"
	MetricInboundDuration  = "rpc.server.call.duration"
)

const (
	attrFunctionCallID   = "esimgw.function_call_identifier"
	attrStatus           = "esimgw.status"
	attrStatusCode       = "esimgw.status_code"
	attrKind             = "esimgw.inbound.kind"
	attrMatch            = "esimgw.inbound.match"
	attrNotificationKind = "esimgw.notification.kind"
)

// StatusAccepted is the esimgw.status of an asynchronous request the gateway took (202); its result comes
// later.
const StatusAccepted = "ACCEPTED"

var (
	rpcSystemSOAP = attribute.String("rpc.system", "soap")
	// Seconds buckets: a synchronous call takes milliseconds to seconds; callbacks come after seconds to the
	// 720 s of KPN's SetFallBackAttribute and beyond.
	callBuckets     = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}
	callbackBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600}
)

// TelemetryConfig is what a client's or a Dispatcher's options asked for: nil providers unless given.
type TelemetryConfig struct {
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	// PendingEvery bounds how often a shared store is asked for its pending count (0: PendingCountInterval).
	PendingEvery time.Duration
}

func (c TelemetryConfig) enabled() bool { return c.TracerProvider != nil || c.MeterProvider != nil }

// tracing reports whether spans are worth starting: a TracerProvider was given and it is not
// OpenTelemetry's no-op one, whose spans record nothing and would only cost a context per call.
func (c TelemetryConfig) tracing() bool {
	switch c.TracerProvider.(type) {
	case nil, tracenoop.TracerProvider, *tracenoop.TracerProvider:
		return false
	}
	return true
}

// providers returns both providers, a no-op one standing in for the one not given.
func (c TelemetryConfig) providers() (trace.Tracer, metric.Meter) {
	tp, mp := c.TracerProvider, c.MeterProvider
	if tp == nil {
		tp = tracenoop.NewTracerProvider()
	}
	if mp == nil {
		mp = metricnoop.NewMeterProvider()
	}
	return tp.Tracer(InstrumentationName), mp.Meter(InstrumentationName)
}

// Outcome labels a call, a callback or a Wait in spans and metrics. The root package works it out from the
// result and the error (esimgw.OutcomeOf), since only it can name them.
type Outcome struct {
	Status    string // esimgw.status: a wire status, a local one (ERROR, NO_RESULT, ...) or StatusAccepted
	Code      string // esimgw.status_code: "Subject,Reason", "" when none
	ErrorType string // error.type of a local failure (ERROR, NO_RESULT), "" otherwise
}

// ClientTelemetry instruments a client; nil when no provider was given. tracing and metering are decided
// once, at construction, so that a no-op provider costs a branch per call and builds nothing (no span, no
// attribute set, no clock read): the budget of BenchmarkTelemetryOverhead.
type ClientTelemetry struct {
	tracer   trace.Tracer
	tracing  bool // the tracer records (not the no-op one)
	metering bool // some instrument takes measurements (not the no-op meter, not all dropped by views)
	calls    metric.Int64Counter
	retries  metric.Int64Counter
	duration metric.Float64Histogram
	server   []attribute.KeyValue // server.address, server.port, url.full
}

// NewClientTelemetry returns the instruments of a client posting to endpoint, nil when cfg has no provider.
func NewClientTelemetry(cfg TelemetryConfig, endpoint string) *ClientTelemetry {
	if !cfg.enabled() {
		return nil
	}
	tracer, meter := cfg.providers()
	t := &ClientTelemetry{tracer: tracer}
	// Instrument creation fails only for invalid names, which these are not; the SDK then hands back a
	// working instrument anyway.
	t.calls, _ = meter.Int64Counter(MetricCalls, metric.WithUnit("{call}"),
		metric.WithDescription("Outgoing ES2/ES4 calls by function and outcome (the status, or ACCEPTED for an asynchronous request the gateway took)."))
	t.retries, _ = meter.Int64Counter(MetricRetries, metric.WithUnit("{retry}"),
		metric.WithDescription("HTTP attempts of outgoing calls after the first (transport failures, 502/503/504)."))
	t.duration, _ = meter.Float64Histogram(MetricCallDuration, metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(callBuckets...),
		metric.WithDescription("Duration of outgoing calls, from the first attempt to the answer (202 or synchronous response)."))
	bg := context.Background()
	t.tracing = cfg.tracing()
	t.metering = t.calls.Enabled(bg) || t.retries.Enabled(bg) || t.duration.Enabled(bg)
	t.server = []attribute.KeyValue{attribute.String("url.full", endpoint)}
	if u, err := url.Parse(endpoint); err == nil {
		host, port := u.Hostname(), u.Port()
		if port == "" {
			port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
		}
		t.server = append(t.server, attribute.String("server.address", host))
		if p, err := strconv.Atoi(port); err == nil {
			t.server = append(t.server, attribute.Int("server.port", p))
		}
	}
	return t
}

// Observation is one outgoing call being observed; nil when nothing observes it.
type Observation struct {
	t     *ClientTelemetry
	span  trace.Span
	key   correlate.OperationKey
	start time.Time
	async bool
}

// Observe starts observing a call; t may be nil. An asynchronous call is registered with dt, the
// telemetry of the Dispatcher that will receive its callback (nil if none or uninstrumented), so that the
// callback continues the trace and its latency is measured. Observe returns nil when nothing observes
// (no provider on the client nor on its dispatcher, or only no-op ones).
func (t *ClientTelemetry) Observe(ctx context.Context, dt *DispatcherTelemetry, key correlate.OperationKey, req rps.Request, async bool) (context.Context, *Observation) {
	if !async {
		dt = nil
	}
	if t == nil && dt == nil {
		return ctx, nil
	}
	var span trace.Span
	var sc trace.SpanContext
	if t != nil {
		switch {
		case t.tracing:
			ctx, span = t.tracer.Start(ctx, key.Interface+"/"+key.Function, trace.WithSpanKind(trace.SpanKindClient))
			if span.IsRecording() {
				attrs := append([]attribute.KeyValue{rpcSystemSOAP, attribute.String("rpc.service", key.Interface),
					attribute.String("rpc.method", key.Function), attribute.String(attrFunctionCallID, key.FunctionCallIdentifier),
					attribute.String("esimgw.message_id", key.MessageID)}, t.server...)
				span.SetAttributes(append(attrs, subjectAttributes(req)...)...)
			}
			sc = span.SpanContext()
		case trace.SpanFromContext(ctx).IsRecording():
			// A no-op tracer under the caller's recording span: a no-op span shadows it, so that this
			// call's retry events (package soap adds them to the span in ctx) do not land on it.
			ctx, _ = t.tracer.Start(ctx, "")
		}
	}
	if span == nil && dt == nil && !t.metering {
		return ctx, nil
	}
	o := &Observation{t: t, span: span, key: key, start: time.Now(), async: async}
	if dt != nil {
		dt.links.put(key, sc, o.start)
	}
	return ctx, o
}

// subjectAttributes returns the EID and ICCID a request names. The generated request types have no common
// accessor for them, so this reads the fields by name; it runs only for a recording span.
func subjectAttributes(req rps.Request) []attribute.KeyValue {
	v := reflect.ValueOf(req)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	v = v.Elem()
	var attrs []attribute.KeyValue
	if f := v.FieldByName("Eid"); f.IsValid() {
		if h, ok := f.Interface().(rps.HexBinary); ok && len(h) > 0 {
			attrs = append(attrs, attribute.String("esimgw.eid", h.String()))
		}
	}
	if f := v.FieldByName("Iccid"); f.IsValid() && f.Kind() == reflect.String && f.String() != "" {
		attrs = append(attrs, attribute.String("esimgw.iccid", f.String()))
	}
	return attrs
}

// Records reports whether o has a span or metrics to record into; nil-safe. An observation made only to
// register the call with its dispatcher's link table has neither, and the caller need not work out its
// Outcome.
func (o *Observation) Records() bool {
	return o != nil && o.t != nil && (o.span != nil || o.t.metering)
}

// Async reports whether o observes an asynchronous request (whose 202 is StatusAccepted).
func (o *Observation) Async() bool { return o.async }

// Key is the observed call's key.
func (o *Observation) Key() correlate.OperationKey { return o.key }

// SpanContext is the call's span context, invalid when the call is not traced; nil-safe. An operation's
// Wait spans descend from it.
func (o *Observation) SpanContext() trace.SpanContext {
	if o == nil || o.span == nil {
		return trace.SpanContext{}
	}
	return o.span.SpanContext()
}

// End records the call's outcome: attempts HTTP attempts, labelled out, err as the call returns it (for
// an asynchronous request the gateway answered at once, that answer's *FunctionError); nil-safe, and a
// no-op unless o Records.
func (o *Observation) End(attempts int, out Outcome, err error) {
	if !o.Records() {
		return
	}
	svc, method := attribute.String("rpc.service", o.key.Interface), attribute.String("rpc.method", o.key.Function)
	attrs := []attribute.KeyValue{rpcSystemSOAP, svc, method, attribute.String(attrStatus, out.Status)}
	if out.Code != "" {
		attrs = append(attrs, attribute.String(attrStatusCode, out.Code))
	}
	if out.ErrorType != "" {
		attrs = append(attrs, attribute.String("error.type", out.ErrorType))
	}
	if o.t.metering {
		ctx := context.Background()
		set := metric.WithAttributeSet(attribute.NewSet(attrs...))
		o.t.calls.Add(ctx, 1, set)
		o.t.duration.Record(ctx, time.Since(o.start).Seconds(), set)
		if attempts > 1 {
			o.t.retries.Add(ctx, int64(attempts-1), metric.WithAttributes(rpcSystemSOAP, svc, method))
		}
	}
	if o.span == nil {
		return
	}
	if o.span.IsRecording() {
		o.span.SetAttributes(attribute.String(attrStatus, out.Status), attribute.Int("esimgw.attempts", attempts))
		if out.Code != "" {
			o.span.SetAttributes(attribute.String(attrStatusCode, out.Code))
		}
		if out.ErrorType != "" {
			o.span.SetAttributes(attribute.String("error.type", out.ErrorType))
		}
		if out.Status == StatusAccepted {
			o.span.AddEvent("esimgw.accepted") // the 202: the result comes as a callback, in a child span
		}
		if err != nil {
			o.span.RecordError(err)
			o.span.SetStatus(codes.Error, out.Status)
		}
	}
	o.span.End()
}

package esimgw

import (
	"context"
	"errors"
	"net"
	"net/url"
	"reflect"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// Telemetry follows the aws-sdk-go-v2 pattern: the library speaks only the OpenTelemetry API, and a program
// hands in the providers it built with the SDK (WithTracerProvider, WithMeterProvider and their Dispatcher
// and callback.Server counterparts). With none given nothing is instrumented: the hooks are a nil check.
// docs/telemetry.md lists every span, metric and attribute.

// InstrumentationName is the instrumentation scope of every tracer and meter esimgw creates.
const InstrumentationName = "github.com/esimgw/esimgw"

// Metric names. They follow the OpenTelemetry semantic conventions where one exists (rpc.client.call.duration)
// and are esimgw.* elsewhere; the Prometheus exporter turns the dots into underscores and adds the unit and
// _total suffixes (esimgw_calls_total, rpc_client_call_duration_seconds).
const (
	MetricCalls            = "esimgw.calls"              // counter: outgoing calls by function and outcome
	MetricCallDuration     = "rpc.client.call.duration"  // histogram, s: request to answer (202 or sync reply)
	MetricRetries          = "esimgw.call.retries"       // counter: HTTP attempts after the first
	MetricCallbackLatency  = "esimgw.callback.latency"   // histogram, s: request sent to its callback's arrival
	MetricInbound          = "esimgw.inbound.messages"   // counter: inbound messages by kind and match
	MetricNotifications    = "esimgw.notifications"      // counter: notifications by kind
	MetricPendingOperation = "esimgw.operations.pending" // up-down counter (observed): operations awaiting a callback
	MetricInboundDuration  = "rpc.server.call.duration"  // histogram, s: hand-over of one inbound message
	spanEventRetry         = "esimgw.retry"              // span event, one a retry (package soap adds it)
	attrFunctionCallID     = "esimgw.function_call_identifier"
	attrStatus             = "esimgw.status"
	attrStatusCode         = "esimgw.status_code"
	attrKind               = "esimgw.inbound.kind"
	attrMatch              = "esimgw.inbound.match"
	attrNotificationKind   = "esimgw.notification.kind"
	statusAccepted         = "ACCEPTED" // an asynchronous request the gateway took (202); its result comes later
)

var (
	rpcSystemSOAP = attribute.String("rpc.system", "soap")
	// Seconds buckets: a synchronous call takes milliseconds to seconds; callbacks come after seconds to the
	// 720 s of KPN's SetFallBackAttribute and beyond.
	callBuckets     = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}
	callbackBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600}
)

type telemetryConfig struct {
	tp trace.TracerProvider
	mp metric.MeterProvider
	// pendingEvery bounds how often a shared store is asked for its pending count (0: the default).
	pendingEvery time.Duration
}

// PendingCountInterval is how long the Dispatcher reuses a PendingCounter store's count of pending
// operations before asking again (WithPendingCountInterval changes it).
const PendingCountInterval = 30 * time.Second

// pendingCountTimeout bounds one count query: a scrape must not hang on a slow database.
const pendingCountTimeout = 2 * time.Second

func (c telemetryConfig) enabled() bool { return c.tp != nil || c.mp != nil }

// tracing reports whether spans are worth starting: a TracerProvider was given and it is not
// OpenTelemetry's no-op one, whose spans record nothing and would only cost a context per call.
func (c telemetryConfig) tracing() bool {
	switch c.tp.(type) {
	case nil, tracenoop.TracerProvider, *tracenoop.TracerProvider:
		return false
	}
	return true
}

// providers returns both providers, a no-op one standing in for the one not given.
func (c telemetryConfig) providers() (trace.Tracer, metric.Meter) {
	tp, mp := c.tp, c.mp
	if tp == nil {
		tp = tracenoop.NewTracerProvider()
	}
	if mp == nil {
		mp = metricnoop.NewMeterProvider()
	}
	return tp.Tracer(InstrumentationName), mp.Meter(InstrumentationName)
}

// WithTracerProvider makes the client start a span for every call (see docs/telemetry.md). Give the
// Dispatcher a TracerProvider too (WithDispatcherTracerProvider) so that callbacks continue the call's trace.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *clientConfig) { c.telemetry.tp = tp }
}

// WithMeterProvider makes the client record call metrics (calls, durations, retries).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *clientConfig) { c.telemetry.mp = mp }
}

// WithDispatcherTracerProvider makes the dispatcher start a server span for every inbound message, as a
// child of the span of the call it answers when that call was made through a client of this dispatcher.
func WithDispatcherTracerProvider(tp trace.TracerProvider) DispatcherOption {
	return func(d *Dispatcher) { d.telemetry.tp = tp }
}

// WithDispatcherMeterProvider makes the dispatcher record inbound metrics (callbacks by match, notifications,
// callback latency) and observe the number of pending operations.
func WithDispatcherMeterProvider(mp metric.MeterProvider) DispatcherOption {
	return func(d *Dispatcher) { d.telemetry.mp = mp }
}

// WithPendingCountInterval sets how long the esimgw.operations.pending gauge reuses the count of a shared
// store (a PendingCounter such as pgstore) before querying again; default PendingCountInterval. The
// Tracker's count is read at every collection, for free.
func WithPendingCountInterval(d time.Duration) DispatcherOption {
	return func(dp *Dispatcher) { dp.telemetry.pendingEvery = d }
}

// clientTelemetry instruments a Client; nil when no provider was given. tracing and metering are decided
// once, at construction, so that a no-op provider costs a branch per call and builds nothing (no span, no
// attribute set, no clock read): the budget of BenchmarkTelemetryOverhead.
type clientTelemetry struct {
	tracer   trace.Tracer
	tracing  bool // the tracer records (not the no-op one)
	metering bool // some instrument takes measurements (not the no-op meter, not all dropped by views)
	calls    metric.Int64Counter
	retries  metric.Int64Counter
	duration metric.Float64Histogram
	server   []attribute.KeyValue // server.address, server.port, url.full
}

func newClientTelemetry(cfg telemetryConfig, endpoint string) *clientTelemetry {
	if !cfg.enabled() {
		return nil
	}
	tracer, meter := cfg.providers()
	t := &clientTelemetry{tracer: tracer}
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

// callObservation is one outgoing call being observed.
type callObservation struct {
	t     *clientTelemetry
	span  trace.Span
	key   correlate.OperationKey
	start time.Time
	async bool
}

// observe starts observing a call. async calls register the span with the dispatcher so that the callback
// continues the trace and its latency is measured. It returns nil when nothing observes (no provider on the
// client nor on its dispatcher, or only no-op ones).
func (c *Client) observe(ctx context.Context, key correlate.OperationKey, req rps.Request, async bool) (context.Context, *callObservation) {
	var dt *dispatcherTelemetry
	if async && c.dispatcher != nil {
		dt = c.dispatcher.tel
	}
	t := c.tel
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
	o := &callObservation{t: t, span: span, key: key, start: time.Now(), async: async}
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

// end records the call's outcome: x and err as the call returns them (for an asynchronous request the
// gateway answered at once, err is that answer's *FunctionError).
func (o *callObservation) end(x *Exchange, err error) {
	if !o.records() {
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
	var status, code, errType string
	switch {
	case err == nil && x != nil && x.Response == nil && o.async:
		status = statusAccepted
	default:
		var warn *Warning
		if x != nil {
			warn = x.Warning
		}
		out := OutcomeOf(warn, err)
		status, code = string(out.Status), out.StatusCode
		if out.Status == StatusError || out.Status == StatusNoResult {
			errType = errorType(err)
		}
	}
	svc, method := attribute.String("rpc.service", o.key.Interface), attribute.String("rpc.method", o.key.Function)
	attrs := []attribute.KeyValue{rpcSystemSOAP, svc, method, attribute.String(attrStatus, status)}
	if code != "" {
		attrs = append(attrs, attribute.String(attrStatusCode, code))
	}
	if errType != "" {
		attrs = append(attrs, attribute.String("error.type", errType))
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
		o.span.SetAttributes(attribute.String(attrStatus, status), attribute.Int("esimgw.attempts", attempts))
		if code != "" {
			o.span.SetAttributes(attribute.String(attrStatusCode, code))
		}
		if errType != "" {
			o.span.SetAttributes(attribute.String("error.type", errType))
		}
		if status == statusAccepted {
			o.span.AddEvent("esimgw.accepted") // the 202: the result comes as a callback, in a child span
		}
		if err != nil {
			o.span.RecordError(err)
			o.span.SetStatus(codes.Error, status)
		}
	}
	o.span.End()
}

// sent ends the observation of an asynchronous request with its answer: a 202, an error, or (rarely: Njiwa
// does it) an immediate synchronous result, whose status is decoded here a second time.
func (o *callObservation) sent(r *soap.Response, err error) {
	if !o.records() {
		return
	}
	x := &Exchange{Key: o.key}
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
					x.Warning, err = ResponseStatus(o.key.Interface, o.key.Function, resp)
				}
			}
		}
	}
	o.end(x, err)
}

// records reports whether o has a span or metrics to record into (an observation made only to register the
// call with its dispatcher's link table has neither).
func (o *callObservation) records() bool {
	return o != nil && o.t != nil && (o.span != nil || o.t.metering)
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

// linkTable remembers, for asynchronous calls in flight, the span that sent them and when, by MessageID and
// by TransactionID, so that the callback continues that trace: W3C trace context does not travel on the
// SOAP wire. It holds at most size calls; the oldest is forgotten first (its callback then starts a trace
// of its own and has no latency recorded), so an operation abandoned without a callback cannot leak.
type linkTable struct {
	mu   sync.Mutex
	size int
	m    map[string]*linkEntry
	ring []*linkEntry
	next int
}

type linkEntry struct {
	msgID, txID string
	sc          trace.SpanContext
	sent        time.Time
}

const defaultLinkTableSize = 1 << 16

func (l *linkTable) put(key correlate.OperationKey, sc trace.SpanContext, sent time.Time) {
	e := &linkEntry{msgID: key.MessageID, txID: key.TransactionID, sc: sc, sent: sent}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = make(map[string]*linkEntry)
	}
	if len(l.ring) < l.size {
		l.ring = append(l.ring, e)
	} else {
		old := l.ring[l.next]
		l.forgetLocked(old)
		l.ring[l.next] = e
		l.next = (l.next + 1) % l.size
	}
	l.m[e.msgID] = e
	if e.txID != "" {
		l.m["tx:"+e.txID] = e
	}
}

func (l *linkTable) forgetLocked(e *linkEntry) {
	if l.m[e.msgID] == e {
		delete(l.m, e.msgID)
	}
	if e.txID != "" && l.m["tx:"+e.txID] == e {
		delete(l.m, "tx:"+e.txID)
	}
}

// lookup finds the call a callback answers, by RelatesTo first, as the Tracker matches.
func (l *linkTable) lookup(relatesTo, txID string) *linkEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.m[relatesTo]; e != nil && relatesTo != "" {
		return e
	}
	if txID != "" {
		return l.m["tx:"+txID]
	}
	return nil
}

// forget drops e once its callback resolved the operation; its ring slot is reused in turn.
func (l *linkTable) forget(e *linkEntry) {
	l.mu.Lock()
	l.forgetLocked(e)
	l.mu.Unlock()
}

// dispatcherTelemetry instruments a Dispatcher; nil when no provider was given.
type dispatcherTelemetry struct {
	tracer          trace.Tracer
	tracing         bool // as clientTelemetry's
	metering        bool
	inbound         metric.Int64Counter
	notifications   metric.Int64Counter
	callbackLatency metric.Float64Histogram
	duration        metric.Float64Histogram
	links           linkTable
}

func newDispatcherTelemetry(cfg telemetryConfig, store correlate.Store) *dispatcherTelemetry {
	if !cfg.enabled() {
		return nil
	}
	tracer, meter := cfg.providers()
	t := &dispatcherTelemetry{tracer: tracer, links: linkTable{size: defaultLinkTableSize}}
	t.inbound, _ = meter.Int64Counter(MetricInbound, metric.WithUnit("{message}"),
		metric.WithDescription("Inbound messages by kind (callback, notification, unknown) and match (matched, unmatched, duplicate, handled)."))
	t.notifications, _ = meter.Int64Counter(MetricNotifications, metric.WithUnit("{notification}"),
		metric.WithDescription("Notifications received, by interface and kind (duplicates included, see esimgw.inbound.match)."))
	t.callbackLatency, _ = meter.Float64Histogram(MetricCallbackLatency, metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(callbackBuckets...),
		metric.WithDescription("Time from sending an asynchronous request to the arrival of the callback that resolved it."))
	t.duration, _ = meter.Float64Histogram(MetricInboundDuration, metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(callBuckets...),
		metric.WithDescription("Time to hand one inbound message over (to its operation, the notification or the unmatched handler)."))
	bg := context.Background()
	t.tracing = cfg.tracing()
	t.metering = t.inbound.Enabled(bg) || t.notifications.Enabled(bg) || t.callbackLatency.Enabled(bg) || t.duration.Enabled(bg)
	pending, _ := meter.Int64ObservableUpDownCounter(MetricPendingOperation, metric.WithUnit("{operation}"),
		metric.WithDescription("Asynchronous operations registered and awaiting their callback."))
	// The in-memory store counts this process's operations for free. A shared store's count is every
	// replica's (the same on each: aggregate with max, not sum) and costs a query, so it is cached.
	switch st := store.(type) {
	case *correlate.Tracker:
		_, _ = meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
			o.ObserveInt64(pending, int64(st.Pending()))
			return nil
		}, pending)
	case correlate.PendingCounter:
		pc := &pendingCount{store: st, every: cfg.pendingEvery}
		if pc.every <= 0 {
			pc.every = PendingCountInterval
		}
		_, _ = meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
			if n, ok := pc.get(ctx); ok {
				o.ObserveInt64(pending, n)
			}
			return nil
		}, pending)
	}
	if !t.tracing && !t.metering {
		return nil // no-op providers: the Dispatcher runs as without any
	}
	return t
}

// inboundRecord collects what the dispatcher learns about one inbound message as it hands it over.
type inboundRecord struct {
	kind             InboundKind
	iface, function  string
	match            string
	status, code     string
	eid, iccid       string
	notification     NotificationKind
	link             *linkEntry
	functionCallID   string
	matchedOperation bool
}

type inboundRecordKey struct{}

func recordOf(ctx context.Context) *inboundRecord {
	r, _ := ctx.Value(inboundRecordKey{}).(*inboundRecord)
	return r
}

// serve runs next (the dispatcher's own ServeSOAP) inside a server span, a child of the span of the call
// the message answers when known, and records the inbound metrics from what next noted.
func (t *dispatcherTelemetry) serve(ctx context.Context, m *soap.Message, next func(context.Context, *soap.Message) (*soap.Reply, error)) (*soap.Reply, error) {
	start := time.Now()
	rec := &inboundRecord{kind: InboundUnknown, match: correlate.Unmatched.String()}
	iface, name := splitElementName(m.BodyName)
	rec.iface, rec.function = iface, name
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer)}
	if m.Header.RelatesTo != "" || m.Header.MessageID != "" {
		rec.link = t.links.lookup(m.Header.RelatesTo, correlate.TransactionIDFromMessageID(m.Header.MessageID))
	}
	if rec.link != nil && rec.link.sc.IsValid() {
		// The callback continues the call's trace: its parent is the call's span, and a link says so for
		// back ends that draw links rather than parents of spans that ended long ago.
		ctx = trace.ContextWithSpanContext(ctx, rec.link.sc)
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: rec.link.sc}))
	}
	span := trace.SpanFromContext(context.Background()) // non-recording; replaced when tracing
	if t.tracing {
		ctx, span = t.tracer.Start(ctx, "inbound "+m.BodyName, opts...)
	}
	ctx = context.WithValue(ctx, inboundRecordKey{}, rec)
	reply, err := next(ctx, m)

	switch rec.kind {
	case InboundCallback:
		span.SetName("callback " + rec.iface + "/" + rec.function)
	case InboundNotification:
		span.SetName("notification " + rec.iface + "/" + rec.function)
	}
	attrs := []attribute.KeyValue{attribute.String(attrKind, rec.kind.String()), attribute.String(attrMatch, rec.match)}
	if rec.kind != InboundUnknown {
		attrs = append(attrs, rpcSystemSOAP, attribute.String("rpc.service", rec.iface), attribute.String("rpc.method", rec.function))
	}
	bg := context.Background()
	if t.metering {
		set := metric.WithAttributeSet(attribute.NewSet(attrs...))
		t.inbound.Add(bg, 1, set)
		t.duration.Record(bg, time.Since(start).Seconds(), set)
	}
	if rec.kind == InboundNotification && t.metering {
		t.notifications.Add(bg, 1, metric.WithAttributes(attribute.String("rpc.service", rec.iface),
			attribute.String(attrNotificationKind, string(rec.notification)), attribute.String(attrMatch, rec.match)))
	}
	if rec.matchedOperation && rec.link != nil {
		if t.metering {
			la := []attribute.KeyValue{rpcSystemSOAP, attribute.String("rpc.service", rec.iface), attribute.String("rpc.method", rec.function),
				attribute.String(attrStatus, rec.status)}
			t.callbackLatency.Record(bg, time.Since(rec.link.sent).Seconds(), metric.WithAttributes(la...))
		}
		t.links.forget(rec.link)
	}
	if span.IsRecording() {
		span.SetAttributes(attrs...)
		span.SetAttributes(attribute.String("esimgw.message_id", m.Header.MessageID))
		if m.Header.RelatesTo != "" {
			span.SetAttributes(attribute.String("esimgw.relates_to", m.Header.RelatesTo))
		}
		for _, a := range []struct{ k, v string }{{attrFunctionCallID, rec.functionCallID}, {attrStatus, rec.status}, {attrStatusCode, rec.code},
			{"esimgw.eid", rec.eid}, {"esimgw.iccid", rec.iccid}, {attrNotificationKind, string(rec.notification)}} {
			if a.v != "" {
				span.SetAttributes(attribute.String(a.k, a.v))
			}
		}
		if rec.link != nil && !rec.link.sent.IsZero() && rec.matchedOperation {
			span.SetAttributes(attribute.Float64("esimgw.callback.latency_s", time.Since(rec.link.sent).Seconds()))
		}
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, "not acknowledged")
		}
	}
	span.End()
	return reply, err
}

// noteCallback records a callback's match and outcome; nil-safe, so the dispatcher calls it unconditionally.
func (t *dispatcherTelemetry) noteCallback(ctx context.Context, iface, function string, res correlate.DeliveryResult, warn *Warning, err error) {
	if t == nil {
		return
	}
	rec := recordOf(ctx)
	if rec == nil {
		return
	}
	out := OutcomeOf(warn, err)
	rec.kind, rec.iface, rec.function, rec.match = InboundCallback, iface, function, res.Match.String()
	rec.status, rec.code = string(out.Status), out.StatusCode
	rec.functionCallID = res.Key.FunctionCallIdentifier
	rec.matchedOperation = res.Match == correlate.Matched
}

// noteNotification records a notification; match is "handled" or "duplicate" (handOver makes it
// "unmatched" when no handler took it).
func (t *dispatcherTelemetry) noteNotification(ctx context.Context, n *Notification, match string) {
	if t == nil {
		return
	}
	rec := recordOf(ctx)
	if rec == nil {
		return
	}
	rec.kind, rec.iface, rec.function, rec.match = InboundNotification, n.Interface, "Handle"+string(n.Kind)+"Notification", match
	rec.notification, rec.eid, rec.iccid = n.Kind, n.Eid, n.Iccid
}

// noteUnmatched records that in went to the unmatched handler.
func (t *dispatcherTelemetry) noteUnmatched(ctx context.Context, in *Inbound) {
	if t == nil {
		return
	}
	rec := recordOf(ctx)
	if rec == nil {
		return
	}
	rec.kind, rec.match = in.Kind, correlate.Unmatched.String()
	if in.Kind == InboundUnknown {
		return
	}
	rec.iface, rec.function = in.Interface, in.Function
	if in.Kind == InboundCallback && rec.functionCallID == "" {
		rec.functionCallID = in.FunctionCallIdentifier()
	}
}

// matchHandled is the match of a notification a handler took.
const matchHandled = "handled"

// waitTrace traces the Waits of one Operation; nil (and free) unless the client's or its dispatcher's
// tracer records.
type waitTrace struct {
	tracer trace.Tracer
	parent trace.SpanContext // the call's span, when this process sent the request
	link   trace.SpanContext // a resumed operation's call span, while the dispatcher still knows it
}

// waitTrace returns the tracing of an operation's Waits: call is the span of the call that started it
// (invalid for a resumed operation, whose call span the dispatcher's link table may still hold).
func (c *Client) waitTrace(call trace.SpanContext, key correlate.OperationKey) *waitTrace {
	var dt *dispatcherTelemetry
	if c.dispatcher != nil {
		dt = c.dispatcher.tel
	}
	w := &waitTrace{parent: call}
	switch {
	case c.tel != nil && c.tel.tracing:
		w.tracer = c.tel.tracer
	case dt != nil && dt.tracing:
		w.tracer = dt.tracer
	default:
		return nil
	}
	if !call.IsValid() && dt != nil {
		if e := dt.links.lookup(key.MessageID, key.TransactionID); e != nil {
			w.link = e.sc
		}
	}
	return w
}

// start begins the span of one Wait: a child of the call's span when this process sent the call (the
// waiter's own span, if any, is linked), else of the waiter's span, linked to the call's span when known.
// ready says the result was already there when Wait was called.
func (w *waitTrace) start(ctx context.Context, key correlate.OperationKey, ready bool) (context.Context, trace.Span) {
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

// end ends a Wait's span with its outcome: esimgw.wait.result (resolved, or abandoned when no result came),
// the result's status and code, the error.
func (w *waitTrace) end(span trace.Span, p *correlate.Pending, err error) {
	if span.IsRecording() {
		result := "abandoned"
		var warn *Warning
		if value, _, resolved := p.Result(); resolved { // stable: done is closed
			result = "resolved"
			if r, ok := value.(rps.Response); ok && err == nil {
				warn, _ = ResponseStatus(p.Key().Interface, p.Key().Function, r)
			}
		}
		out := OutcomeOf(warn, err)
		span.SetAttributes(attribute.String("esimgw.wait.result", result), attribute.String(attrStatus, string(out.Status)))
		if out.StatusCode != "" {
			span.SetAttributes(attribute.String(attrStatusCode, out.StatusCode))
		}
		if out.Status == StatusError || out.Status == StatusNoResult {
			span.SetAttributes(attribute.String("error.type", errorType(err)))
		}
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, string(out.Status))
		}
	}
	span.End()
}

// pendingCount caches a PendingCounter's count: at most one query every every, however often the metrics
// are collected (each replica's scrape would otherwise be a count over the shared table).
type pendingCount struct {
	store correlate.PendingCounter
	every time.Duration
	now   func() time.Time // time.Now; tests replace it

	mu      sync.Mutex
	n       int64
	ok      bool // n holds a count
	fetched time.Time
}

// get returns the cached count, querying first when it is older than every. A failed query keeps the
// last count (and is retried at the next collection); before any count there is nothing to observe.
func (c *pendingCount) get(ctx context.Context) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now
	if c.now != nil {
		now = c.now
	}
	if !c.ok || now().Sub(c.fetched) >= c.every {
		qctx, cancel := context.WithTimeout(ctx, pendingCountTimeout)
		n, err := c.store.CountPendingOperations(qctx)
		cancel()
		if err == nil {
			c.n, c.ok, c.fetched = n, true, now()
		}
	}
	return c.n, c.ok
}

package engine

import (
	"context"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/soap"
)

// PendingCountInterval is how long the Dispatcher reuses a PendingCounter store's count of pending
// operations before asking again (esimgw.PendingCountInterval, esimgw.WithPendingCountInterval).
const PendingCountInterval = 30 * time.Second

// pendingCountTimeout bounds one count query: a scrape must not hang on a slow database.
const pendingCountTimeout = 2 * time.Second

// The kinds of inbound message, as esimgw.InboundKind's String spells them (the esimgw.inbound.kind
// attribute).
const (
	KindCallback     = "callback"
	KindNotification = "notification"
	KindUnknown      = "unknown"
)

// MatchHandled is the esimgw.inbound.match of a notification a handler took.
const MatchHandled = "handled"

// DispatcherTelemetry instruments a Dispatcher; nil when no provider was given. Its methods are nil-safe.
type DispatcherTelemetry struct {
	tracer          trace.Tracer
	tracing         bool // as ClientTelemetry's
	metering        bool
	inbound         metric.Int64Counter
	notifications   metric.Int64Counter
	callbackLatency metric.Float64Histogram
	duration        metric.Float64Histogram
	links           linkTable
}

// NewDispatcherTelemetry returns the instruments of a Dispatcher keeping its operations in store, nil
// when cfg has no provider or only no-op ones. The pending-operations gauge observes store: a Tracker's
// count at every collection, a correlate.PendingCounter's at most every cfg.PendingEvery.
func NewDispatcherTelemetry(cfg TelemetryConfig, store correlate.Store) *DispatcherTelemetry {
	if !cfg.enabled() {
		return nil
	}
	tracer, meter := cfg.providers()
	t := &DispatcherTelemetry{tracer: tracer, links: linkTable{size: defaultLinkTableSize}}
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
		pc := &pendingCount{store: st, every: cfg.PendingEvery}
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

// SplitElementName splits a body element's name into its interface ("ES2", "ES4", upper case) and the
// rest ("EnableProfileResponse"); iface is "" for a name of neither interface.
func SplitElementName(name string) (iface, rest string) {
	if len(name) > 4 && name[3] == '-' && (strings.EqualFold(name[:3], "ES2") || strings.EqualFold(name[:3], "ES4")) {
		return strings.ToUpper(name[:3]), name[4:]
	}
	return "", name
}

// inboundRecord collects what the dispatcher learns about one inbound message as it hands it over.
type inboundRecord struct {
	kind             string // KindCallback, KindNotification, KindUnknown
	iface, function  string
	match            string
	status, code     string
	eid, iccid       string
	notification     string
	link             *linkEntry
	functionCallID   string
	matchedOperation bool
}

type inboundRecordKey struct{}

func recordOf(ctx context.Context) *inboundRecord {
	r, _ := ctx.Value(inboundRecordKey{}).(*inboundRecord)
	return r
}

// Serve runs next (the dispatcher's own ServeSOAP) inside a server span, a child of the span of the call
// the message answers when known, and records the inbound metrics from what next noted (NoteCallback,
// NoteNotification, NoteUnmatched).
func (t *DispatcherTelemetry) Serve(ctx context.Context, m *soap.Message, next func(context.Context, *soap.Message) (*soap.Reply, error)) (*soap.Reply, error) {
	start := time.Now()
	rec := &inboundRecord{kind: KindUnknown, match: correlate.Unmatched.String()}
	iface, name := SplitElementName(m.BodyName)
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
	case KindCallback:
		span.SetName("callback " + rec.iface + "/" + rec.function)
	case KindNotification:
		span.SetName("notification " + rec.iface + "/" + rec.function)
	}
	attrs := []attribute.KeyValue{attribute.String(attrKind, rec.kind), attribute.String(attrMatch, rec.match)}
	if rec.kind != KindUnknown {
		attrs = append(attrs, rpcSystemSOAP, attribute.String("rpc.service", rec.iface), attribute.String("rpc.method", rec.function))
	}
	bg := context.Background()
	if t.metering {
		set := metric.WithAttributeSet(attribute.NewSet(attrs...))
		t.inbound.Add(bg, 1, set)
		t.duration.Record(bg, time.Since(start).Seconds(), set)
	}
	if rec.kind == KindNotification && t.metering {
		t.notifications.Add(bg, 1, metric.WithAttributes(attribute.String("rpc.service", rec.iface),
			attribute.String(attrNotificationKind, rec.notification), attribute.String(attrMatch, rec.match)))
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
			{"esimgw.eid", rec.eid}, {"esimgw.iccid", rec.iccid}, {attrNotificationKind, rec.notification}} {
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

// Noting reports whether ctx is a message Serve is recording, so that the caller need not work out an
// Outcome nobody will read.
func (t *DispatcherTelemetry) Noting(ctx context.Context) bool {
	return t != nil && recordOf(ctx) != nil
}

// NoteCallback records a callback's match (what the store did with it) and its outcome.
func (t *DispatcherTelemetry) NoteCallback(ctx context.Context, iface, function string, res correlate.DeliveryResult, out Outcome) {
	if t == nil {
		return
	}
	rec := recordOf(ctx)
	if rec == nil {
		return
	}
	rec.kind, rec.iface, rec.function, rec.match = KindCallback, iface, function, res.Match.String()
	rec.status, rec.code = out.Status, out.Code
	rec.functionCallID = res.Key.FunctionCallIdentifier
	rec.matchedOperation = res.Match == correlate.Matched
}

// NoteNotification records a notification of kind ("ProfileEnabled") about eid and iccid; match is
// MatchHandled or "duplicate" (NoteUnmatched makes it "unmatched" when no handler took it).
func (t *DispatcherTelemetry) NoteNotification(ctx context.Context, iface, kind, eid, iccid, match string) {
	if t == nil {
		return
	}
	rec := recordOf(ctx)
	if rec == nil {
		return
	}
	rec.kind, rec.iface, rec.function, rec.match = KindNotification, iface, "Handle"+kind+"Notification", match
	rec.notification, rec.eid, rec.iccid = kind, eid, iccid
}

// NoteUnmatched records that a message of kind (KindCallback, ...) went to the unmatched handler;
// functionCallID is a callback's FunctionCallIdentifier as far as known, kept unless NoteCallback named
// the operation's.
func (t *DispatcherTelemetry) NoteUnmatched(ctx context.Context, kind, iface, function, functionCallID string) {
	if t == nil {
		return
	}
	rec := recordOf(ctx)
	if rec == nil {
		return
	}
	rec.kind, rec.match = kind, correlate.Unmatched.String()
	if kind == KindUnknown {
		return
	}
	rec.iface, rec.function = iface, function
	if kind == KindCallback && rec.functionCallID == "" {
		rec.functionCallID = functionCallID
	}
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

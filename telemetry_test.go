package esimgw_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/es4"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/soap"
)

// telemetryRig is the OTel SDK's in-memory side: a span recorder and a manual metric reader.
type telemetryRig struct {
	spans  *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
	reader *sdkmetric.ManualReader
	mp     *sdkmetric.MeterProvider
}

func newTelemetryRig(t *testing.T) *telemetryRig {
	r := &telemetryRig{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	r.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(r.spans))
	r.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(r.reader))
	t.Cleanup(func() {
		_ = r.tp.Shutdown(context.Background())
		_ = r.mp.Shutdown(context.Background())
	})
	return r
}

func (r *telemetryRig) collect(t *testing.T) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.reader.Collect(context.Background(), &rm))
	return rm
}

// metricNamed returns the metric called name, failing the test when there is none.
func metricNamed(t *testing.T, rm metricdata.ResourceMetrics, name string) metricdata.Metrics {
	t.Helper()
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				assert.Equal(t, esimgw.InstrumentationName, sm.Scope.Name)
				return m
			}
		}
	}
	t.Fatalf("no metric %s", name)
	return metricdata.Metrics{}
}

func hasAttrs(set attribute.Set, want map[string]string) bool {
	for k, v := range want {
		got, ok := set.Value(attribute.Key(k))
		if !ok || got.String() != v {
			return false
		}
	}
	return true
}

// sumOf adds the int64 data points of a counter whose attributes include want.
func sumOf(t *testing.T, rm metricdata.ResourceMetrics, name string, want map[string]string) int64 {
	t.Helper()
	m := metricNamed(t, rm, name)
	sum, ok := m.Data.(metricdata.Sum[int64])
	require.True(t, ok, "%s is %T", name, m.Data)
	var n int64
	for _, dp := range sum.DataPoints {
		if hasAttrs(dp.Attributes, want) {
			n += dp.Value
		}
	}
	return n
}

// countOf adds the counts of a histogram's data points whose attributes include want.
func countOf(t *testing.T, rm metricdata.ResourceMetrics, name string, want map[string]string) uint64 {
	t.Helper()
	m := metricNamed(t, rm, name)
	h, ok := m.Data.(metricdata.Histogram[float64])
	require.True(t, ok, "%s is %T", name, m.Data)
	var n uint64
	for _, dp := range h.DataPoints {
		if hasAttrs(dp.Attributes, want) {
			n += dp.Count
		}
	}
	return n
}

func spanNamed(t *testing.T, spans []sdktrace.ReadOnlySpan, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	var names []string
	for _, s := range spans {
		if s.Name() == name {
			return s
		}
		names = append(names, s.Name())
	}
	t.Fatalf("no span %q among %q", name, names)
	return nil
}

func spanAttr(s sdktrace.ReadOnlySpan, key string) string {
	for _, a := range s.Attributes() {
		if string(a.Key) == key {
			return a.Value.String()
		}
	}
	return ""
}

// instrumentedES4 starts the mock and an operator side whose client and dispatcher report to rig.
func instrumentedES4(t *testing.T, rig *telemetryRig, gwOpts []gatewaytest.Option, dopts ...esimgw.DispatcherOption) (*gatewaytest.Gateway, *es4.Client) {
	t.Helper()
	gw := gatewaytest.Start(t, append([]gatewaytest.Option{gatewaytest.WithLogger(quietLogger())}, gwOpts...)...)
	op := gatewaytest.NewOperator(t, gw, append([]esimgw.DispatcherOption{
		esimgw.WithDispatcherTracerProvider(rig.tp), esimgw.WithDispatcherMeterProvider(rig.mp)}, dopts...)...)
	c, err := es4.NewClient(gw.ES4URL, append(op.Options,
		esimgw.WithTracerProvider(rig.tp), esimgw.WithMeterProvider(rig.mp),
		esimgw.WithSOAPOptions(soap.WithRetryPolicy(soap.RetryPolicy{MaxAttempts: 3, InitialInterval: time.Millisecond, MaxInterval: time.Millisecond})))...)
	require.NoError(t, err)
	return gw, c
}

func TestTelemetrySyncCall(t *testing.T) {
	rig := newTelemetryRig(t)
	_, c := instrumentedES4(t, rig, nil)
	ctx := context.Background()

	_, err := c.GetEIS(ctx, gatewaytest.DefaultEID)
	require.NoError(t, err)
	unknown, err := esimgw.EIDWithCheckDigits("890490320000010000000000000099")
	require.NoError(t, err)
	_, err = c.GetEIS(ctx, unknown) // unknown to the mock: FAILED with a code
	var fe *esimgw.FunctionError
	require.ErrorAs(t, err, &fe)

	spans := rig.spans.Ended()
	require.Len(t, spans, 2)
	s := spans[0]
	assert.Equal(t, "ES4/GetEIS", s.Name())
	assert.Equal(t, trace.SpanKindClient, s.SpanKind())
	for k, v := range map[string]string{"rpc.system": "soap", "rpc.service": "ES4", "rpc.method": "GetEIS",
		"esimgw.eid": gatewaytest.DefaultEID, "esimgw.status": "EXECUTED_SUCCESS", "esimgw.attempts": "1", "server.address": "localhost"} {
		assert.Equal(t, v, spanAttr(s, k), k)
	}
	assert.NotEmpty(t, spanAttr(s, "esimgw.function_call_identifier"))
	failed := spans[1]
	assert.Equal(t, "FAILED", spanAttr(failed, "esimgw.status"))
	assert.Equal(t, fe.Subject+","+fe.Reason, spanAttr(failed, "esimgw.status_code"))
	assert.Equal(t, "Error", failed.Status().Code.String())

	rm := rig.collect(t)
	assert.EqualValues(t, 1, sumOf(t, rm, esimgw.MetricCalls, map[string]string{"rpc.method": "GetEIS", "esimgw.status": "EXECUTED_SUCCESS"}))
	assert.EqualValues(t, 1, sumOf(t, rm, esimgw.MetricCalls, map[string]string{"rpc.method": "GetEIS", "esimgw.status": "FAILED",
		"esimgw.status_code": fe.Subject + "," + fe.Reason}))
	assert.EqualValues(t, 2, countOf(t, rm, esimgw.MetricCallDuration, map[string]string{"rpc.service": "ES4", "rpc.method": "GetEIS"}))
}

func TestTelemetryAsyncCallWithCallback(t *testing.T) {
	rig := newTelemetryRig(t)
	// The callback is held a little so that the pending gauge can be read while the operation waits.
	_, c := instrumentedES4(t, rig, []gatewaytest.Option{gatewaytest.WithCallbackDelay(300 * time.Millisecond)})
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()

	op, err := c.EnableProfile(ctx, gatewaytest.DefaultEID, gatewaytest.DefaultDisabledICCID)
	require.NoError(t, err)
	assert.EqualValues(t, 1, sumOf(t, rig.collect(t), esimgw.MetricPendingOperation, nil), "pending while the callback is held")
	_, err = op.Wait(ctx)
	require.NoError(t, err)
	// The operation resolves inside the callback's span, which ends just after.
	require.Eventually(t, func() bool { return len(rig.spans.Ended()) == 3 }, generous, time.Millisecond)

	spans := rig.spans.Ended()
	call := spanNamed(t, spans, "ES4/EnableProfile")
	assert.Equal(t, "ACCEPTED", spanAttr(call, "esimgw.status"))
	assert.Equal(t, gatewaytest.DefaultDisabledICCID, spanAttr(call, "esimgw.iccid"))
	require.NotEmpty(t, call.Events())
	assert.Equal(t, "esimgw.accepted", call.Events()[0].Name)

	cb := spanNamed(t, spans, "callback ES4/EnableProfile")
	assert.Equal(t, trace.SpanKindServer, cb.SpanKind())
	assert.Equal(t, call.SpanContext().TraceID(), cb.SpanContext().TraceID(), "the callback continues the call's trace")
	assert.Equal(t, call.SpanContext().SpanID(), cb.Parent().SpanID())
	require.Len(t, cb.Links(), 1)
	assert.Equal(t, call.SpanContext().SpanID(), cb.Links()[0].SpanContext.SpanID())
	assert.Equal(t, "matched", spanAttr(cb, "esimgw.inbound.match"))
	assert.Equal(t, "EXECUTED_SUCCESS", spanAttr(cb, "esimgw.status"))
	assert.Equal(t, op.FunctionCallIdentifier(), spanAttr(cb, "esimgw.function_call_identifier"))

	// One trace: request, 202, callback and Wait, the Wait a child of the call's span.
	w := spanNamed(t, spans, "wait ES4/EnableProfile")
	assert.Equal(t, trace.SpanKindInternal, w.SpanKind())
	assert.Equal(t, call.SpanContext().TraceID(), w.SpanContext().TraceID())
	assert.Equal(t, call.SpanContext().SpanID(), w.Parent().SpanID())
	for k, v := range map[string]string{"esimgw.wait.result": "resolved", "esimgw.status": "EXECUTED_SUCCESS", "esimgw.wait.ready": "false",
		"esimgw.function_call_identifier": op.FunctionCallIdentifier(), "rpc.method": "EnableProfile"} {
		assert.Equal(t, v, spanAttr(w, k), k)
	}
	assert.False(t, w.EndTime().Before(cb.StartTime()), "the Wait returned after the callback arrived")
	assert.Equal(t, "Unset", w.Status().Code.String())

	rm := rig.collect(t)
	assert.EqualValues(t, 1, sumOf(t, rm, esimgw.MetricCalls, map[string]string{"rpc.method": "EnableProfile", "esimgw.status": "ACCEPTED"}))
	assert.EqualValues(t, 1, sumOf(t, rm, esimgw.MetricInbound, map[string]string{"esimgw.inbound.kind": "callback", "esimgw.inbound.match": "matched",
		"rpc.method": "EnableProfile"}))
	assert.EqualValues(t, 1, countOf(t, rm, esimgw.MetricCallbackLatency, map[string]string{"rpc.method": "EnableProfile", "esimgw.status": "EXECUTED_SUCCESS"}))
	h := metricNamed(t, rm, esimgw.MetricCallbackLatency).Data.(metricdata.Histogram[float64])
	assert.GreaterOrEqual(t, h.DataPoints[0].Sum, 0.3, "the latency includes the held 300 ms")
	assert.EqualValues(t, 0, sumOf(t, rm, esimgw.MetricPendingOperation, nil))
}

// A resumed operation's Wait is a child of the waiter's span, linked to the call's span while the dispatcher
// still knows it, and names the FunctionCallIdentifier either way.
func TestTelemetryWaitResumed(t *testing.T) {
	rig := newTelemetryRig(t)
	_, c := instrumentedES4(t, rig, []gatewaytest.Option{gatewaytest.WithCallbackDelay(200 * time.Millisecond)})
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()

	op, err := c.EnableProfile(ctx, gatewaytest.DefaultEID, gatewaytest.DefaultDisabledICCID)
	require.NoError(t, err)
	wctx, resumer := rig.tp.Tracer("test").Start(ctx, "resumer")
	resumed, err := c.Resume(wctx, op.FunctionCallIdentifier())
	require.NoError(t, err)
	_, err = resumed.Wait(wctx)
	require.NoError(t, err)
	resumer.End()
	// A second Wait finds the result there: a span of its own, ready.
	_, err = resumed.Wait(wctx)
	require.NoError(t, err)

	spans := rig.spans.Ended()
	call := spanNamed(t, spans, "ES4/EnableProfile")
	var waits []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == "wait ES4/EnableProfile" {
			waits = append(waits, s)
		}
	}
	require.Len(t, waits, 2)
	for i, w := range waits {
		assert.Equal(t, resumer.SpanContext().SpanID(), w.Parent().SpanID(), "the resumer's span is the parent")
		require.Len(t, w.Links(), 1)
		assert.Equal(t, call.SpanContext().SpanID(), w.Links()[0].SpanContext.SpanID(), "linked to the call")
		assert.Equal(t, op.FunctionCallIdentifier(), spanAttr(w, "esimgw.function_call_identifier"))
		assert.Equal(t, "resolved", spanAttr(w, "esimgw.wait.result"))
		assert.Equal(t, []string{"false", "true"}[i], spanAttr(w, "esimgw.wait.ready"))
	}
}

// A Wait whose context ends abandons the operation; its span says so, with the error.
func TestTelemetryWaitContextEnds(t *testing.T) {
	rig := newTelemetryRig(t)
	_, c := instrumentedES4(t, rig, []gatewaytest.Option{gatewaytest.WithCallbackDelay(300 * time.Millisecond)})
	op, err := c.EnableProfile(context.Background(), gatewaytest.DefaultEID, gatewaytest.DefaultDisabledICCID)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = op.Wait(ctx)
	require.ErrorIs(t, err, esimgw.ErrAbandoned)

	w := spanNamed(t, rig.spans.Ended(), "wait ES4/EnableProfile")
	call := spanNamed(t, rig.spans.Ended(), "ES4/EnableProfile")
	assert.Equal(t, call.SpanContext().SpanID(), w.Parent().SpanID())
	for k, v := range map[string]string{"esimgw.wait.result": "abandoned", "esimgw.status": "NO_RESULT", "error.type": "canceled"} {
		assert.Equal(t, v, spanAttr(w, k), k)
	}
	assert.Equal(t, "Error", w.Status().Code.String())
	require.NotEmpty(t, w.Events())
	assert.Equal(t, "exception", w.Events()[0].Name)
}

func TestTelemetryDuplicateAndUnmatchedCallbacks(t *testing.T) {
	rig := newTelemetryRig(t)
	dups := make(chan struct{}, 4)
	gw, c := instrumentedES4(t, rig, nil, esimgw.WithDuplicateHandler(func(context.Context, *esimgw.Inbound) { dups <- struct{}{} }))
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	gw.Inject(gatewaytest.DuplicateCallbacks{Copies: 2, Times: 1})
	op, err := c.EnableProfile(ctx, gatewaytest.DefaultEID, gatewaytest.DefaultDisabledICCID)
	require.NoError(t, err)
	_, err = op.Wait(ctx)
	require.NoError(t, err)
	select {
	case <-dups:
	case <-ctx.Done():
		t.Fatal("the second copy never arrived")
	}
	// The call, the Wait, the callback and its duplicate.
	require.Eventually(t, func() bool { return len(rig.spans.Ended()) == 4 }, generous, time.Millisecond)
	rm := rig.collect(t)
	assert.EqualValues(t, 1, sumOf(t, rm, esimgw.MetricInbound, map[string]string{"esimgw.inbound.match": "matched"}))
	assert.EqualValues(t, 1, sumOf(t, rm, esimgw.MetricInbound, map[string]string{"esimgw.inbound.kind": "callback", "esimgw.inbound.match": "duplicate"}))
}

func TestTelemetryRetriedCall(t *testing.T) {
	rig := newTelemetryRig(t)
	gw, c := instrumentedES4(t, rig, nil)
	gw.Inject(gatewaytest.ServiceUnavailable{Times: 1})

	_, err := c.GetEIS(context.Background(), gatewaytest.DefaultEID)
	require.NoError(t, err)

	s := spanNamed(t, rig.spans.Ended(), "ES4/GetEIS")
	assert.Equal(t, "2", spanAttr(s, "esimgw.attempts"))
	require.Len(t, s.Events(), 1)
	ev := s.Events()[0]
	assert.Equal(t, "esimgw.retry", ev.Name)
	attrs := attribute.NewSet(ev.Attributes...)
	v, _ := attrs.Value("esimgw.attempt")
	assert.Equal(t, int64(1), v.AsInt64())
	v, _ = attrs.Value("exception.message")
	assert.Contains(t, v.AsString(), "503")

	rm := rig.collect(t)
	assert.EqualValues(t, 1, sumOf(t, rm, esimgw.MetricRetries, map[string]string{"rpc.method": "GetEIS"}))
	assert.EqualValues(t, 1, sumOf(t, rm, esimgw.MetricCalls, map[string]string{"rpc.method": "GetEIS", "esimgw.status": "EXECUTED_SUCCESS"}))
}

// A no-op TracerProvider starts no span, yet the caller's own recording span does not collect the call's
// retry events; the SDK meter beside it still counts the call.
func TestTelemetryNoopTracerWithMeter(t *testing.T) {
	rig := newTelemetryRig(t)
	gw := gatewaytest.Start(t, gatewaytest.WithLogger(quietLogger()))
	op := gatewaytest.NewOperator(t, gw)
	c, err := es4.NewClient(gw.ES4URL, append(op.Options, esimgw.WithTracerProvider(tracenoop.NewTracerProvider()), esimgw.WithMeterProvider(rig.mp),
		esimgw.WithSOAPOptions(soap.WithRetryPolicy(soap.RetryPolicy{MaxAttempts: 3, InitialInterval: time.Millisecond, MaxInterval: time.Millisecond})))...)
	require.NoError(t, err)
	gw.Inject(gatewaytest.ServiceUnavailable{Times: 1})

	ctx, own := rig.tp.Tracer("test").Start(context.Background(), "caller")
	_, err = c.GetEIS(ctx, gatewaytest.DefaultEID)
	require.NoError(t, err)
	own.End()

	spans := rig.spans.Ended()
	require.Len(t, spans, 1, "only the caller's span")
	assert.Empty(t, spans[0].Events(), "no retry event on the caller's span")
	rm := rig.collect(t)
	assert.EqualValues(t, 1, sumOf(t, rm, esimgw.MetricRetries, map[string]string{"rpc.method": "GetEIS"}))
	assert.EqualValues(t, 1, sumOf(t, rm, esimgw.MetricCalls, map[string]string{"rpc.method": "GetEIS", "esimgw.status": "EXECUTED_SUCCESS"}))
}

func TestTelemetryTransportFailure(t *testing.T) {
	rig := newTelemetryRig(t)
	gw, c := instrumentedES4(t, rig, nil)
	gw.Inject(gatewaytest.ServiceUnavailable{}) // every attempt

	_, err := c.EnableProfile(context.Background(), gatewaytest.DefaultEID, gatewaytest.DefaultDisabledICCID)
	require.Error(t, err)
	rm := rig.collect(t)
	assert.EqualValues(t, 1, sumOf(t, rm, esimgw.MetricCalls, map[string]string{"rpc.method": "EnableProfile", "esimgw.status": "ERROR", "error.type": "http_503"}))
	assert.EqualValues(t, 2, sumOf(t, rm, esimgw.MetricRetries, map[string]string{"rpc.method": "EnableProfile"}))
	assert.EqualValues(t, 0, sumOf(t, rm, esimgw.MetricPendingOperation, nil), "the withdrawn operation is not pending")
	s := spanNamed(t, rig.spans.Ended(), "ES4/EnableProfile")
	assert.Len(t, s.Events(), 3, "two retries and the error")
}

func TestTelemetryNotification(t *testing.T) {
	rig := newTelemetryRig(t)
	got := make(chan *esimgw.Notification, 8)
	gw, _ := instrumentedES4(t, rig, nil, esimgw.WithNotificationHandler(esimgw.NotificationHandlerFunc(
		func(_ context.Context, n *esimgw.Notification) error { got <- n; return nil })))

	require.NoError(t, gw.SimulateLocalEnable(gatewaytest.DefaultEID, gatewaytest.DefaultDisabledICCID))
	for range 4 { // Enabled and Disabled, on ES4 and ES2
		select {
		case <-got:
		case <-time.After(generous):
			t.Fatal("notifications did not arrive")
		}
	}
	require.Eventually(t, func() bool { return len(rig.spans.Ended()) == 4 }, generous, 10*time.Millisecond)
	s := spanNamed(t, rig.spans.Ended(), "notification ES4/HandleProfileEnabledNotification")
	assert.Equal(t, trace.SpanKindServer, s.SpanKind())
	assert.Equal(t, gatewaytest.DefaultEID, spanAttr(s, "esimgw.eid"))
	assert.Equal(t, gatewaytest.DefaultDisabledICCID, spanAttr(s, "esimgw.iccid"))
	assert.Equal(t, "ProfileEnabled", spanAttr(s, "esimgw.notification.kind"))
	assert.Equal(t, "handled", spanAttr(s, "esimgw.inbound.match"))

	rm := rig.collect(t)
	assert.EqualValues(t, 1, sumOf(t, rm, esimgw.MetricNotifications, map[string]string{"rpc.service": "ES4", "esimgw.notification.kind": "ProfileEnabled"}))
	assert.EqualValues(t, 2, sumOf(t, rm, esimgw.MetricNotifications, map[string]string{"esimgw.notification.kind": "ProfileDisabled"}))
	assert.EqualValues(t, 4, sumOf(t, rm, esimgw.MetricInbound, map[string]string{"esimgw.inbound.kind": "notification", "esimgw.inbound.match": "handled"}))
}

func TestTelemetryOffWithoutProviders(t *testing.T) {
	// No provider: nothing reaches a global provider either (the library never reads otel's globals).
	gw := gatewaytest.Start(t, gatewaytest.WithLogger(quietLogger()))
	op := gatewaytest.NewOperator(t, gw)
	c, err := es4.NewClient(gw.ES4URL, op.Options...)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	o, err := c.EnableProfile(ctx, gatewaytest.DefaultEID, gatewaytest.DefaultDisabledICCID)
	require.NoError(t, err)
	_, err = o.Wait(ctx)
	require.NoError(t, err)
}

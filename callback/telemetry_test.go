package callback_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/callback"
	"github.com/esimgw/esimgw/gatewaytest"
)

type meterRig struct {
	reader *sdkmetric.ManualReader
	mp     *sdkmetric.MeterProvider
}

func newMeterRig(t *testing.T) *meterRig {
	r := &meterRig{reader: sdkmetric.NewManualReader()}
	r.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(r.reader))
	t.Cleanup(func() { _ = r.mp.Shutdown(context.Background()) })
	return r
}

// refusals sums the MetricInboundRefused data points whose attributes include want; the metric is in
// esimgw's one instrumentation scope.
func refusals(t *testing.T, r *meterRig, want map[string]string) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.reader.Collect(context.Background(), &rm))
	var n int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != callback.MetricInboundRefused {
				continue
			}
			assert.Equal(t, esimgw.InstrumentationName, sm.Scope.Name)
			sum, ok := m.Data.(metricdata.Sum[int64])
			require.True(t, ok, "%s is %T", m.Name, m.Data)
			for _, dp := range sum.DataPoints {
				if hasAttrs(dp.Attributes, want) {
					n += dp.Value
				}
			}
		}
	}
	return n
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

func TestTelemetryRefusedInboundConnection(t *testing.T) {
	rig := newMeterRig(t)
	gw := gatewaytest.Start(t, gatewaytest.WithLogger(quietLogger()))
	srv, base := startServer(t, esimgw.NewDispatcher(esimgw.WithDispatcherLogger(quietLogger())),
		callback.WithTLS(gw.CallbackServerTLSConfig()), callback.WithLogger(quietLogger()), callback.WithMeterProvider(rig.mp))
	_ = srv

	// No client certificate: the handshake is refused.
	conn, err := tls.Dial("tcp", strings.TrimPrefix(base, "https://"), &tls.Config{RootCAs: gw.CAPool(), MinVersion: tls.VersionTLS12})
	if err == nil {
		// TLS 1.3 reports the server's refusal at the first read.
		_ = conn.SetDeadline(time.Now().Add(generous))
		_, err = conn.Read(make([]byte, 1))
		_ = conn.Close()
	}
	require.Error(t, err)
	require.Eventually(t, func() bool {
		return refusals(t, rig, map[string]string{"esimgw.refusal.cause": "tls"}) == 1
	}, generous, 10*time.Millisecond)
}

func TestTelemetryRefusedRequests(t *testing.T) {
	rig := newMeterRig(t)
	_, base := startServer(t, esimgw.NewDispatcher(esimgw.WithDispatcherLogger(quietLogger())),
		callback.WithPlainHTTP(), callback.WithMaxBodyBytes(512), callback.WithLogger(quietLogger()), callback.WithMeterProvider(rig.mp))
	post := func(ct string, body []byte) int {
		res, err := http.Post(base+"/", ct, bytes.NewReader(body))
		require.NoError(t, err)
		_ = res.Body.Close()
		return res.StatusCode
	}
	assert.Equal(t, http.StatusRequestEntityTooLarge, post("application/soap+xml", bytes.Repeat([]byte("x"), 4096)))
	assert.Equal(t, http.StatusBadRequest, post("application/soap+xml", []byte("<not-an-envelope")))
	assert.Equal(t, http.StatusUnsupportedMediaType, post("text/plain", []byte("hello")))
	for cause, n := range map[string]int64{"size": 1, "malformed": 1, "content_type": 1, "tls": 0} {
		assert.Equal(t, n, refusals(t, rig, map[string]string{"esimgw.refusal.cause": cause}), cause)
	}
}

package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/storetest"
)

// pendingGauge collects the dispatcher's esimgw.operations.pending from reader; -1 when not observed.
func pendingGauge(t *testing.T, reader *sdkmetric.ManualReader) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == esimgw.MetricPendingOperation {
				sum := m.Data.(metricdata.Sum[int64])
				require.Len(t, sum.DataPoints, 1)
				return sum.DataPoints[0].Value
			}
		}
	}
	return -1
}

// With pgstore the pending gauge counts every replica's operations (the shared table), and asks the
// database at most once per WithPendingCountInterval however often the metrics are collected.
func TestPendingGaugeIsClusterWide(t *testing.T) {
	ctx := context.Background()
	a, pool := newStore(t)
	b := openStore(t, pool)
	for _, fn := range []string{"EnableProfile", "DisableProfile"} {
		_, err := a.RegisterOperation(ctx, storetest.Key(fn), time.Time{})
		require.NoError(t, err)
	}
	dispatcherAt := func(every time.Duration) *sdkmetric.ManualReader {
		reader := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		t.Cleanup(func() { _ = mp.Shutdown(ctx) })
		esimgw.NewDispatcher(esimgw.WithStore(b), esimgw.WithDispatcherMeterProvider(mp), esimgw.WithPendingCountInterval(every))
		return reader
	}
	cached, fresh := dispatcherAt(time.Hour), dispatcherAt(time.Nanosecond)
	assert.EqualValues(t, 2, pendingGauge(t, cached), "replica A's operations, seen from B's dispatcher")
	assert.EqualValues(t, 2, pendingGauge(t, fresh))

	_, err := a.RegisterOperation(ctx, storetest.Key("DeleteProfile"), time.Time{})
	require.NoError(t, err)
	assert.EqualValues(t, 2, pendingGauge(t, cached), "the count of the last hour is reused")
	assert.EqualValues(t, 3, pendingGauge(t, fresh), "queried again once the interval passed")
}

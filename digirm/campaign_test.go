package digirm_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/bulk"
	"github.com/esimgw/esimgw/digirm"
	"github.com/esimgw/esimgw/digirm/digirmtest"
)

// A campaign of 1,000 devices through the common interface, on a mock that enforces a throttle and
// injects 429s on top: every operation completes, no request goes over the throttle or ignores a
// Retry-After, and the polling cost is reported.
func TestCampaignOf1000DevicesUnderThrottling(t *testing.T) {
	const n = 1000
	throttle := digirmtest.Throttle{Requests: 400, Window: time.Second, Concurrent: 8}
	drm := digirmtest.Start(t, digirmtest.WithFleet(n), digirmtest.WithThrottle(throttle),
		digirmtest.WithActionDuration(100*time.Millisecond))
	c, err := digirm.NewClient(drm.ClientOptions()...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	drm.Inject(digirmtest.ThrottleFault{RetryAfter: time.Second, Times: 3})

	var m esimgw.ProfileManager = c
	index := make(map[string]int, n)
	eids := make([]string, n)
	for i := range n {
		eids[i] = digirmtest.FleetEID(i)
		index[eids[i]] = i
	}
	enable := func(ctx context.Context, eid string) (*esimgw.Result, error) {
		op, err := m.Enable(ctx, esimgw.ProfileRef{EID: eid, ICCID: digirmtest.FleetDisabledICCID(index[eid])})
		if err != nil {
			return nil, err
		}
		return op.Wait(ctx)
	}
	failures := bulk.NewFailureCollector[*esimgw.Result]()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	sum, err := bulk.Run(ctx, bulk.Slice(eids), enable, failures.Add, bulk.WithConcurrency(250))
	require.NoError(t, err)
	elapsed := time.Since(start)
	for _, o := range failures.Outcomes() {
		t.Errorf("%s: %v", o.EID, o.Err)
	}
	require.Equal(t, int64(n), sum.Succeeded)

	for i := range n {
		p := drm.Profiles(digirmtest.FleetEID(i))
		require.Equal(t, digirmtest.StatusActive, p[digirmtest.FleetDisabledICCID(i)], "device %d", i)
		require.Equal(t, digirmtest.StatusInactive, p[digirmtest.FleetEnabledICCID(i)], "device %d", i)
	}
	ms, cs := drm.Stats(), c.Stats()
	assert.Equal(t, 3, ms.Injected429, "the injected throttling happened")
	assert.Equal(t, 0, ms.OverThrottle, "no request over the rate")
	assert.Equal(t, 0, ms.OverConcurrency, "no request over the concurrency")
	assert.Equal(t, 0, ms.IgnoredRetryAfter, "no request during a Retry-After")
	assert.LessOrEqual(t, ms.MaxConcurrent, throttle.Concurrent)
	assert.Equal(t, int64(3), cs.Throttled)
	assert.Equal(t, int64(n), cs.Completed)
	assert.Equal(t, int64(n), cs.Actions)
	assert.Equal(t, int64(ms.Requests), cs.Requests, "the client counts every request the mock saw")
	// An operation costs its POST and its polls; the back-off keeps the polls to a few per operation.
	assert.Less(t, cs.RequestsPerOperation(), 5.0)
	t.Logf("digirm campaign: %d devices in %v; %d requests (%d polls, %d throttled), %.2f requests and %.2f polls per completed operation; mock max in flight %d of %d",
		n, elapsed.Round(time.Millisecond), cs.Requests, cs.Polls, cs.Throttled, cs.RequestsPerOperation(), cs.PollsPerOperation(), ms.MaxConcurrent, throttle.Concurrent)
}

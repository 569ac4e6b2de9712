package campaign_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/campaign"
	"github.com/esimgw/esimgw/gatewaytest"
)

func executions(gw *gatewaytest.Gateway, key string, round, from, to int) (total, max int) {
	for i := from; i < to; i++ {
		n := gw.Executions(campaign.FunctionCallIdentifier(key, round, gatewaytest.FleetEID(i)))
		total += n
		max = maxInt(max, n)
	}
	return total, max
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func TestPauseResume(t *testing.T) {
	const n = 400
	gw := gatewaytest.Start(t, gatewaytest.WithSeed(gatewaytest.Seed{}), gatewaytest.WithFleet(n))
	pool := migrated(t)
	m := manager(t, pool)
	_, err := m.Create(t.Context(), campaign.Spec{Key: "pr", Function: "ES4.SetFallBackAttribute", Rate: 200, Burst: 1},
		campaign.CSV(strings.NewReader(fleetLines(0, n))))
	require.NoError(t, err)
	startWorker(t, gw, pool, campaign.WithPauseSnooze(time.Hour))

	waitDone(t, m, "pr", 40, 30*time.Second)
	require.NoError(t, m.Pause(t.Context(), "pr"))
	// EIDs sent before the pause still get their results: wait until none is in flight.
	require.Eventually(t, func() bool {
		p, err := m.Progress(t.Context(), "pr")
		return err == nil && p.InFlight == 0
	}, 30*time.Second, 10*time.Millisecond)
	p1, err := m.Progress(t.Context(), "pr")
	require.NoError(t, err)
	time.Sleep(time.Second)
	p2, err := m.Progress(t.Context(), "pr")
	require.NoError(t, err)
	assert.Equal(t, campaign.StatePaused, p2.Campaign.State)
	assert.Equal(t, p1.Done(), p2.Done(), "nothing completes while paused")
	assert.Less(t, p2.Done(), int64(n))
	assert.Zero(t, p2.InFlight)
	assert.Equal(t, int64(gw.Stats().Executed), p2.Done(), "the mock executed exactly what is recorded")

	require.NoError(t, m.Resume(t.Context(), "pr"))
	p := waitFinished(t, m, "pr", time.Minute)
	assert.Equal(t, int64(n), p.Succeeded)
	total, most := executions(gw, "pr", 1, 0, n)
	assert.Equal(t, n, total)
	assert.Equal(t, 1, most)
}

func TestCancel(t *testing.T) {
	const n = 300
	gw := gatewaytest.Start(t, gatewaytest.WithSeed(gatewaytest.Seed{}), gatewaytest.WithFleet(n))
	pool := migrated(t)
	m := manager(t, pool)
	_, err := m.Create(t.Context(), campaign.Spec{Key: "cx", Function: "ES4.SetFallBackAttribute", Rate: 100, Burst: 1},
		campaign.CSV(strings.NewReader(fleetLines(0, n))))
	require.NoError(t, err)
	startWorker(t, gw, pool)

	waitDone(t, m, "cx", 20, 30*time.Second)
	require.NoError(t, m.Cancel(t.Context(), "cx"))
	waitFinished(t, m, "cx", 30*time.Second)
	// Jobs running at the cancel end on their own: one waiting for its rate token (reserved up to two
	// seconds ahead) when its wait is over, without sending. Only then is every send that could happen done.
	if !assert.Eventually(t, func() bool {
		return count(t, pool, `SELECT count(*) FROM river_job WHERE state NOT IN ('completed', 'cancelled')`) == 0
	}, 30*time.Second, 20*time.Millisecond, "no job left to run") {
		var left string
		require.NoError(t, pool.QueryRow(t.Context(), `SELECT string_agg(j.state || ' ' || coalesce(i.state, '?') || ' ' ||
			coalesce(i.sent_at::text, '-') || ' ' || left(coalesce(j.errors::text, ''), 300), E'\n')
			FROM river_job j LEFT JOIN esimgw_campaign_item i ON i.eid = j.args->>'e'
			WHERE j.state NOT IN ('completed', 'cancelled')`).Scan(&left))
		t.Fatalf("jobs left:\n%s", left)
	}
	p, err := m.Progress(t.Context(), "cx")
	require.NoError(t, err)
	assert.Equal(t, campaign.StateCancelled, p.Campaign.State)
	assert.Positive(t, p.Cancelled)
	assert.Zero(t, p.InFlight)
	assert.Equal(t, int64(n), p.Done()+p.Cancelled)
	total, most := executions(gw, "cx", 1, 0, n)
	assert.Equal(t, int(p.Succeeded), total, "executed at the mock = succeeded; cancelled EIDs never sent")
	assert.Equal(t, 1, most)

	require.ErrorIs(t, m.Resume(t.Context(), "cx"), campaign.ErrCancelled)
	_, err = m.Create(t.Context(), campaign.Spec{Key: "cx", Function: "ES4.SetFallBackAttribute"}, campaign.Slice(gatewaytest.FleetEID(0)))
	require.ErrorIs(t, err, campaign.ErrCancelled)
}

func TestRetryFailed(t *testing.T) {
	const n = 100
	gw := gatewaytest.Start(t, gatewaytest.WithSeed(gatewaytest.Seed{}), gatewaytest.WithFleet(n))
	pool := migrated(t)
	m := manager(t, pool)
	// Ten more EIDs than the mock has: they fail (unknown EID) until the mock learns them.
	_, err := m.Create(t.Context(), campaign.Spec{Key: "rf", Function: "ES4.SetFallBackAttribute"},
		campaign.CSV(strings.NewReader(fleetLines(0, n+10))))
	require.NoError(t, err)
	startWorker(t, gw, pool)
	p := waitFinished(t, m, "rf", time.Minute)
	require.Equal(t, int64(n), p.Succeeded)
	require.Equal(t, int64(10), p.Failed)

	for i := n; i < n+10; i++ {
		require.NoError(t, gw.AddEUICC(gatewaytest.EUICC{EID: gatewaytest.FleetEID(i), Profiles: []gatewaytest.Profile{
			{ICCID: gatewaytest.FleetEnabledICCID(i), State: gatewaytest.StateEnabled, Fallback: true},
			{ICCID: gatewaytest.FleetFallbackICCID(i)},
		}}))
	}
	queued, err := m.RetryFailed(t.Context(), "rf")
	require.NoError(t, err)
	assert.Equal(t, int64(10), queued)
	p = waitFinished(t, m, "rf", time.Minute)
	assert.Equal(t, int64(n+10), p.Succeeded)
	assert.Equal(t, 2, p.Campaign.Round)
	// Round 1 ran every EID once; round 2 only the ten, under new identifiers.
	total, most := executions(gw, "rf", 1, 0, n+10)
	assert.Equal(t, []int{n + 10, 1}, []int{total, most})
	total, most = executions(gw, "rf", 2, 0, n+10)
	assert.Equal(t, []int{10, 1}, []int{total, most})
	for i := n; i < n+10; i++ {
		assert.True(t, fallbackMoved(t, gw, i))
	}
	queued, err = m.RetryFailed(t.Context(), "rf")
	require.NoError(t, err)
	assert.Zero(t, queued, "nothing failed any more")
}

// TestGlobalRateLimit runs one campaign on two workers with a rate limit and measures the rate at which
// its requests reached the mock.
func TestGlobalRateLimit(t *testing.T) {
	const n, rate = rateTestN, rateTestRate
	gw := gatewaytest.Start(t, gatewaytest.WithSeed(gatewaytest.Seed{}), gatewaytest.WithFleet(n))
	pool := migrated(t)
	m := manager(t, pool)
	_, err := m.Create(t.Context(), campaign.Spec{Key: "rl", Function: "ES4.SetFallBackAttribute", Rate: rate, Burst: 1},
		campaign.CSV(strings.NewReader(fleetLines(0, n))))
	require.NoError(t, err)
	startWorker(t, gw, pool)
	startWorker(t, gw, pool)
	p := waitFinished(t, m, "rl", time.Minute)
	require.Equal(t, int64(n), p.Succeeded)

	var times []time.Time
	for _, r := range gw.Requests() {
		if strings.HasPrefix(r.FunctionCallIdentifier, "cmp-rl-") {
			times = append(times, r.Time)
		}
	}
	require.Len(t, times, n)
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	// The least-squares slope of arrival time over request number: the first requests also pay for
	// connections and cold starts, and on a loaded machine any one request may arrive late, which would
	// bend a first-to-last measure either way; the slope is what the limiter paced.
	var sx, sy, sxx, sxy float64
	for i, at := range times {
		x, y := float64(i), at.Sub(times[0]).Seconds()
		sx, sy, sxx, sxy = sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	k := float64(len(times))
	got := (k*sxx - sx*sx) / (k*sxy - sx*sy)
	t.Logf("two workers, limit %.0f/s: %.1f requests/s at the mock", rate, got)
	assert.InEpsilon(t, rate, got, 0.10, "the global rate limit holds within 10%%")
}

// TestInFlightLimit gives every eUICC a latency, so that results come slowly, and samples the EIDs in
// flight while two workers run a campaign with MaxInFlight.
func TestInFlightLimit(t *testing.T) {
	const n, limit = 60, 8
	gw := gatewaytest.Start(t, gatewaytest.WithSeed(gatewaytest.Seed{}), gatewaytest.WithFleet(n))
	for i := range n {
		require.NoError(t, gw.SetLatency(gatewaytest.FleetEID(i), 100*time.Millisecond))
	}
	pool := migrated(t)
	m := manager(t, pool)
	_, err := m.Create(t.Context(), campaign.Spec{Key: "if", Function: "ES4.SetFallBackAttribute", MaxInFlight: limit},
		campaign.CSV(strings.NewReader(fleetLines(0, n))))
	require.NoError(t, err)
	startWorker(t, gw, pool)
	startWorker(t, gw, pool)
	stop := make(chan struct{})
	peak := make(chan int64, 1)
	go func() {
		var most int64
		for {
			select {
			case <-stop:
				peak <- most
				return
			case <-time.After(2 * time.Millisecond):
			}
			var inFlight int64
			if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM esimgw_campaign_item WHERE state IN ('sending', 'sent')`).Scan(&inFlight); err == nil {
				most = max(most, inFlight)
			}
		}
	}()
	p := waitFinished(t, m, "if", time.Minute)
	close(stop)
	require.Equal(t, int64(n), p.Succeeded)
	most := <-peak
	t.Logf("peak in flight %d (limit %d)", most, limit)
	assert.LessOrEqual(t, most, int64(limit))
	assert.GreaterOrEqual(t, most, int64(limit/2), "the limit, not the workers, bounded the run")
	assert.Zero(t, count(t, pool, `SELECT in_flight FROM esimgw_campaign_limit WHERE name = 'if'`), "every slot given back")
}

package campaign_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/campaign"
	"github.com/esimgw/esimgw/digirm"
	"github.com/esimgw/esimgw/digirm/digirmtest"
	"github.com/esimgw/esimgw/thingspace"
	"github.com/esimgw/esimgw/thingspace/thingspacetest"
)

// The carrier fleets reuse digirmtest's identifiers (valid EIDs and ICCIDs) on both mocks: device i has
// FleetEnabledICCID(i) enabled and FleetDisabledICCID(i) disabled, and a campaign enables the latter.
func carrierEID(i int) string { return digirmtest.FleetEID(i) }

func carrierLines(from, n int, extra ...string) string {
	var b strings.Builder
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, "%s,%s\n", carrierEID(i), digirmtest.FleetDisabledICCID(i))
	}
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	return b.String()
}

// carrierMock is a mock platform with a fleet of n devices and the workers' clients for it.
type carrierMock interface {
	// worker starts a campaign Worker whose client sends to the mock; its results come through the
	// mock's receiver (ThingSpace) or its own polling (Digi).
	worker(t *testing.T, ctx context.Context, opts ...campaign.WorkerOption) *campaign.Worker
	actions(eid string) int
	enabled(i int) bool
	loseAnswer(eid string)
	function() string
	requests() int // every HTTP request the mock received
}

type thingSpaceMock struct {
	ts   *thingspacetest.Server
	pool *pgxpool.Pool
}

// newThingSpaceMock starts the mock with a fleet and a callback receiver: a ThingSpace client of its own
// (a replica that receives callbacks and sends nothing) with the campaign Recorder as its unmatched
// handler, so that results reach the database whichever worker sent the request, and survive workers.
func newThingSpaceMock(t *testing.T, pool *pgxpool.Pool, n int) *thingSpaceMock {
	ts := thingspacetest.Start(t)
	for i := range n {
		ts.AddEUICC(carrierEID(i), map[string]string{digirmtest.FleetEnabledICCID(i): thingspacetest.StateEnabled,
			digirmtest.FleetDisabledICCID(i): thingspacetest.StateDisabled})
	}
	rec := campaign.NewRecorder(pool, quiet())
	c, err := thingspace.NewClient(append(ts.ClientOptions(), thingspace.WithUnmatchedHandler(rec.ThingSpaceHandler(nil)))...)
	require.NoError(t, err)
	srv := httptest.NewServer(c.CallbackHandler())
	t.Cleanup(srv.Close)
	require.NoError(t, c.RegisterCallback(t.Context(), "", srv.URL))
	return &thingSpaceMock{ts: ts, pool: pool}
}

func (m *thingSpaceMock) worker(t *testing.T, ctx context.Context, opts ...campaign.WorkerOption) *campaign.Worker {
	rec := campaign.NewRecorder(m.pool, quiet())
	c, err := thingspace.NewClient(append(m.ts.ClientOptions(), thingspace.WithUnmatchedHandler(rec.ThingSpaceHandler(nil)))...)
	require.NoError(t, err)
	return startCarrierWorker(t, ctx, m.pool, campaign.Clients{ThingSpace: c}, opts...)
}

func (m *thingSpaceMock) actions(eid string) int { return m.ts.Actions(eid) }
func (m *thingSpaceMock) enabled(i int) bool {
	return m.ts.EUICC(carrierEID(i))[digirmtest.FleetDisabledICCID(i)] == thingspacetest.StateEnabled
}
func (m *thingSpaceMock) loseAnswer(eid string) { m.ts.Inject(thingspacetest.LoseAnswer{EID: eid}) }
func (m *thingSpaceMock) function() string      { return "ThingSpace.Enable" }
func (m *thingSpaceMock) requests() int         { return m.ts.Stats().Requests }

type digiMock struct {
	drm  *digirmtest.Server
	pool *pgxpool.Pool
}

func newDigiMock(t *testing.T, pool *pgxpool.Pool, n int) *digiMock {
	drm := digirmtest.Start(t, digirmtest.WithFleet(n), digirmtest.WithActionDuration(50*time.Millisecond),
		digirmtest.WithThrottle(digirmtest.Throttle{Requests: 5000, Window: time.Second, Concurrent: 16}))
	return &digiMock{drm: drm, pool: pool}
}

func (m *digiMock) worker(t *testing.T, ctx context.Context, opts ...campaign.WorkerOption) *campaign.Worker {
	c, err := digirm.NewClient(m.drm.ClientOptions()...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	opts = append([]campaign.WorkerOption{campaign.WithTransactionPolling(50*time.Millisecond, 200*time.Millisecond)}, opts...)
	return startCarrierWorker(t, ctx, m.pool, campaign.Clients{DigiRM: c}, opts...)
}

func (m *digiMock) actions(eid string) int { return m.drm.Actions(eid) }
func (m *digiMock) enabled(i int) bool {
	return m.drm.Profiles(carrierEID(i))[digirmtest.FleetDisabledICCID(i)] == digirmtest.StatusActive
}
func (m *digiMock) loseAnswer(eid string) { m.drm.Inject(digirmtest.LoseAnswer{EID: eid}) }
func (m *digiMock) function() string      { return "DigiRM.Enable" }
func (m *digiMock) requests() int         { return m.drm.Stats().Requests }

func startCarrierWorker(t *testing.T, ctx context.Context, pool *pgxpool.Pool, clients campaign.Clients, opts ...campaign.WorkerOption) *campaign.Worker {
	t.Helper()
	w, err := campaign.NewWorker(pool, clients, append([]campaign.WorkerOption{campaign.WithWorkerLogger(quiet()),
		campaign.WithFetchPollInterval(100 * time.Millisecond), campaign.WithInlineWait(time.Second), campaign.WithSnooze(200 * time.Millisecond),
		campaign.WithRiverConfig(func(c *river.Config) { c.RetryPolicy = quickRetry{} })}, opts...)...)
	require.NoError(t, err)
	require.NoError(t, w.Start(ctx))
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = w.Stop(sctx)
	})
	return w
}

func outcomeCount(p campaign.Progress, status esimgw.Status, code string) int64 {
	for _, o := range p.ByOutcome {
		if o.Status == status && o.StatusCode == code {
			return o.Count
		}
	}
	return 0
}

// TestCarrierCampaign runs a ThingSpace and a Digi campaign of a few hundred devices with two workers:
// every device's action is sent once, the campaign's counts are the mock's state, and a refused device
// shows the platform's code in Progress and in the export.
func TestCarrierCampaign(t *testing.T) {
	const n = 300
	tests := []struct {
		name string
		mock func(t *testing.T, pool *pgxpool.Pool) carrierMock
		// refusal is what the last (unknown) device and the one asked to enable its enabled profile get.
		unknownStatus, unknownCode, activeCode string
	}{
		{"ThingSpace", func(t *testing.T, pool *pgxpool.Pool) carrierMock { return newThingSpaceMock(t, pool, n) },
			"FAILED", "8.1.1,3.9", "8.2.1,3.8"},
		{"DigiRM", func(t *testing.T, pool *pgxpool.Pool) carrierMock { return newDigiMock(t, pool, n) },
			"FAILED", "HTTP 400", "already_active"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool := migrated(t)
			m := manager(t, pool)
			mock := tt.mock(t, pool)
			unknown := digirmtest.FleetEID(n + 1) // no such device on either mock
			input := carrierLines(1, n-1, carrierEID(0)+","+digirmtest.FleetEnabledICCID(0), unknown+","+digirmtest.FleetDisabledICCID(n+1))
			rep, err := m.Create(t.Context(), campaign.Spec{Key: "carrier", Function: mock.function(), Rate: 2000, Burst: 50},
				campaign.CSV(strings.NewReader(input)))
			require.NoError(t, err)
			require.Equal(t, int64(n+1), rep.Queued)
			start := time.Now()
			mock.worker(t, t.Context())
			mock.worker(t, t.Context())

			p := waitFinished(t, m, "carrier", 2*time.Minute)
			elapsed := time.Since(start)
			t.Logf("%s campaign of %d EIDs, two workers: %v (%.0f EIDs/s); %.2f HTTP requests per EID at the mock (actions, polls, logins, callback registration)",
				tt.name, n+1, elapsed.Round(time.Millisecond), float64(n+1)/elapsed.Seconds(), float64(mock.requests())/float64(n+1))
			assert.Zero(t, count(t, pool, `SELECT count(*) FROM esimgw_campaign_orphan`), "every early result was taken by its item")
			assert.Equal(t, int64(n-1), p.Succeeded, "%+v", p)
			assert.Equal(t, int64(2), p.Failed, "%+v", p)
			assert.Equal(t, int64(1), outcomeCount(p, esimgw.Status(tt.unknownStatus), tt.unknownCode), "%+v", p.ByOutcome)
			assert.Equal(t, int64(1), outcomeCount(p, esimgw.StatusFailed, tt.activeCode), "%+v", p.ByOutcome)
			enabled := 0
			for i := range n {
				assert.Equal(t, 1, mock.actions(carrierEID(i)), "device %d: one action", i)
				if i > 0 && mock.enabled(i) {
					enabled++
				}
			}
			assert.Equal(t, int64(enabled), p.Succeeded, "the campaign's count is the mock's state")
			assert.LessOrEqual(t, mock.actions(unknown), 1)

			var buf bytes.Buffer
			require.NoError(t, m.Export(t.Context(), "carrier", &buf, campaign.ExportCSV))
			recs, err := csv.NewReader(&buf).ReadAll()
			require.NoError(t, err)
			require.Len(t, recs, n+2)
			require.Equal(t, "platform_ref", recs[0][13])
			byEID := map[string][]string{}
			for _, r := range recs[1:] {
				byEID[r[1]] = r
			}
			assert.Equal(t, []string{"done", tt.unknownStatus, tt.unknownCode}, byEID[unknown][4:7])
			assert.Equal(t, []string{"done", "FAILED", tt.activeCode}, byEID[carrierEID(0)][4:7])
			assert.NotEmpty(t, byEID[carrierEID(0)][13], "the platform's request ID is exported")
			assert.NotEmpty(t, byEID[carrierEID(1)][13])
		})
	}
}

// TestCarrierNeverResends: a request whose answer is lost, an attempt that dies after sending and before
// recording the platform's request ID, and one that dies after recording it, each on their own EID,
// then a worker cancelled abruptly mid-run and replaced. No device is ever sent a second action: the
// first two end ERROR "outcome unknown ... audit first", the third resumes its request and succeeds.
func TestCarrierNeverResends(t *testing.T) {
	const n = 40
	tests := []struct {
		name string
		mock func(t *testing.T, pool *pgxpool.Pool) carrierMock
	}{
		{"ThingSpace", func(t *testing.T, pool *pgxpool.Pool) carrierMock { return newThingSpaceMock(t, pool, n) }},
		{"DigiRM", func(t *testing.T, pool *pgxpool.Pool) carrierMock { return newDigiMock(t, pool, n) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool := migrated(t)
			m := manager(t, pool)
			mock := tt.mock(t, pool)
			lost, crashBefore, crashAfter := carrierEID(2), carrierEID(3), carrierEID(4)
			mock.loseAnswer(lost)
			var mu sync.Mutex
			crashed := map[string]bool{}
			hook := campaign.WithAfterSendHook(func(eid string, recorded bool) error {
				mu.Lock()
				defer mu.Unlock()
				if (eid == crashBefore && !recorded || eid == crashAfter && recorded) && !crashed[eid] {
					crashed[eid] = true
					return errors.New("test: the worker dies here")
				}
				return nil
			})
			_, err := m.Create(t.Context(), campaign.Spec{Key: "once", Function: mock.function(), MaxAttempts: 5},
				campaign.CSV(strings.NewReader(carrierLines(0, n))))
			require.NoError(t, err)

			// A first worker, cancelled abruptly once some EIDs are done; a second with the same ID takes
			// back its running jobs.
			ctx, cancel := context.WithCancel(t.Context())
			first := mock.worker(t, ctx, hook, campaign.WithWorkerID("carrier-1"))
			waitDone(t, m, "once", n/4, time.Minute)
			cancel()
			sctx, scancel := context.WithTimeout(t.Context(), 5*time.Second)
			_ = first.Stop(sctx)
			scancel()
			mock.worker(t, t.Context(), hook, campaign.WithWorkerID("carrier-1"))

			p := waitFinished(t, m, "once", 2*time.Minute)
			for i := range n {
				assert.LessOrEqual(t, mock.actions(carrierEID(i)), 1, "device %d: never a second action", i)
			}
			mu.Lock()
			assert.True(t, crashed[crashBefore] && crashed[crashAfter], "both crashes happened: %v", crashed)
			mu.Unlock()
			unknown := int64(0)
			for _, o := range p.ByOutcome {
				if o.Description == campaign.DescriptionOutcomeUnknown {
					unknown += o.Count
				}
			}
			assert.GreaterOrEqual(t, unknown, int64(2), "the lost answer and the crash before recording: %+v", p.ByOutcome)
			assert.Equal(t, int64(n), p.Succeeded+unknown, "everything else succeeded: %+v", p)
			items, _, err := m.Items(t.Context(), "once", campaign.ItemQuery{After: carrierEID(1), Limit: 3})
			require.NoError(t, err)
			require.Len(t, items, 3)
			assert.Equal(t, campaign.DescriptionOutcomeUnknown, items[0].Description, "the lost answer: %+v", items[0])
			assert.Contains(t, items[0].Message, "no answer after the request was sent")
			assert.Equal(t, campaign.DescriptionOutcomeUnknown, items[1].Description, "crash before recording the request ID: %+v", items[1])
			assert.Contains(t, items[1].Message, "audit")
			assert.Equal(t, "EXECUTED_SUCCESS", items[2].Status, "crash after recording: the request is resumed, %+v", items[2])
			assert.NotEmpty(t, items[2].PlatformRef)
			for _, eid := range []string{lost, crashBefore, crashAfter} {
				assert.Equal(t, 1, mock.actions(eid), eid)
			}
		})
	}
}

// TestThingSpaceCallbackBeforeCommit holds a worker between the send and the commit of the requestId until
// the callback has come (to a receiver that did not send): the result is kept as an orphan, and the
// worker's commit takes it.
func TestThingSpaceCallbackBeforeCommit(t *testing.T) {
	pool := migrated(t)
	m := manager(t, pool)
	mock := newThingSpaceMock(t, pool, 1)
	hook := campaign.WithAfterSendHook(func(_ string, recorded bool) error {
		if recorded {
			return nil
		}
		deadline := time.Now().Add(10 * time.Second)
		for count(t, pool, `SELECT count(*) FROM esimgw_campaign_orphan`) == 0 {
			if time.Now().After(deadline) {
				return errors.New("test: no orphan")
			}
			time.Sleep(10 * time.Millisecond)
		}
		return nil
	})
	_, err := m.Create(t.Context(), campaign.Spec{Key: "early", Function: "ThingSpace.Enable"}, campaign.CSV(strings.NewReader(carrierLines(0, 1))))
	require.NoError(t, err)
	mock.worker(t, t.Context(), hook)
	p := waitFinished(t, m, "early", time.Minute)
	assert.Equal(t, int64(1), p.Succeeded, "%+v", p)
	assert.Zero(t, count(t, pool, `SELECT count(*) FROM esimgw_campaign_orphan`))
	assert.Equal(t, 1, mock.actions(carrierEID(0)))
}

// TestDigiDownload downloads by a registered ICCID and by an activation code (JSON Lines' activationCode,
// ActivationCodePrefix), and refuses lines without a usable profile before anything is queued.
func TestDigiDownload(t *testing.T) {
	pool := migrated(t)
	m := manager(t, pool)
	mock := newDigiMock(t, pool, 2)
	input := strings.Join([]string{
		fmt.Sprintf(`{"eid": %q, "activationCode": %q}`, digirmtest.DefaultEID, digirmtest.ActivationCode),
		fmt.Sprintf(`{"eid": %q, "iccid": %q}`, carrierEID(0), digirmtest.CatalogICCID),
		fmt.Sprintf(`{"eid": %q}`, carrierEID(1)),
		fmt.Sprintf(`{"eid": %q, "arg": "code: padded "}`, carrierEID(1)),
	}, "\n")
	rep, err := m.Create(t.Context(), campaign.Spec{Key: "dl", Function: "DigiRM.Download"}, campaign.JSONLines(strings.NewReader(input)))
	require.NoError(t, err)
	assert.Equal(t, int64(2), rep.Queued)
	require.Len(t, rep.BadLines, 2)
	assert.Equal(t, []int64{3, 4}, []int64{rep.BadLines[0].Line, rep.BadLines[1].Line})
	assert.ErrorContains(t, rep.BadLines[0].Err, "activation code")
	mock.worker(t, t.Context())
	p := waitFinished(t, m, "dl", time.Minute)
	assert.Equal(t, int64(2), p.Succeeded, "%+v", p)
	assert.Equal(t, digirmtest.StatusInactive, mock.drm.Profiles(digirmtest.DefaultEID)[digirmtest.CatalogICCID2], "by activation code")
	assert.Equal(t, digirmtest.StatusInactive, mock.drm.Profiles(carrierEID(0))[digirmtest.CatalogICCID], "by ICCID")
}

// TestDigiRateCountsPolls: two workers whose Digi clients each keep to the mock's throttle would together
// go over it; the campaign's Rate, which sends and polls alike take from, holds the account below it.
func TestDigiRateCountsPolls(t *testing.T) {
	const n = 40
	pool := migrated(t)
	m := manager(t, pool)
	throttle := digirmtest.Throttle{Requests: 20, Window: time.Second, Concurrent: 16}
	drm := digirmtest.Start(t, digirmtest.WithFleet(n), digirmtest.WithActionDuration(50*time.Millisecond), digirmtest.WithThrottle(throttle))
	mock := &digiMock{drm: drm, pool: pool}
	_, err := m.Create(t.Context(), campaign.Spec{Key: "paced", Function: "DigiRM.Enable", Rate: 10, Burst: 2},
		campaign.CSV(strings.NewReader(carrierLines(0, n))))
	require.NoError(t, err)
	start := time.Now()
	mock.worker(t, t.Context())
	mock.worker(t, t.Context())
	p := waitFinished(t, m, "paced", 2*time.Minute)
	elapsed := time.Since(start)
	assert.Equal(t, int64(n), p.Succeeded, "%+v", p)
	st := drm.Stats()
	assert.Zero(t, st.OverThrottle, "no request over the account's throttle: %+v", st)
	assert.Zero(t, st.IgnoredRetryAfter)
	for i := range n {
		assert.Equal(t, 1, mock.actions(carrierEID(i)))
	}
	t.Logf("%d EIDs at Rate 10/s: %d requests (%d polls) in %v, %.1f requests/s",
		n, st.Requests, st.Polls, elapsed.Round(time.Millisecond), float64(st.Requests)/elapsed.Seconds())
}

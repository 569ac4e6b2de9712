package campaignweb_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/callback"
	"github.com/esimgw/esimgw/campaign"
	"github.com/esimgw/esimgw/campaign/campaignweb"
	"github.com/esimgw/esimgw/es4"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/internal/pgtest"
)

// EnvChromium names the variable that points the browser test at a Chromium (or Chrome) binary; without
// it the test looks for Debian's chromium on PATH. scripts/test.sh installs it when it is missing.
const EnvChromium = "ESIMGW_CHROMIUM"

// chromium finds the browser, or fails the test: a suite that lost its browser must not pass by testing
// nothing.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv(EnvChromium); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatalf("this test needs Chromium and none is on PATH: run the suite with scripts/test.sh (it installs Debian's chromium), "+
		"apt-get install chromium, or set %s", EnvChromium)
	return ""
}

// browser starts a headless Chromium of its own (a fresh profile) for the test, and returns a context
// for its tab.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := chromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // CI runs as root, where Chromium's sandbox does not start
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	require.NoError(t, chromedp.Do(ctx), "starting %s", path) // the browser lives as long as ctx
	return ctx
}

// run runs an action in the browser, bounded in time.
func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	require.NoError(t, err)
	return v
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// rig is a real campaign setup: the mock gateway, a migrated schema on PostgreSQL, a Manager, and a way
// to run a worker for a while.
type rig struct {
	gw   *gatewaytest.Gateway
	pool *pgxpool.Pool
	m    *campaign.Manager
}

func newRig(t *testing.T, fleet int) *rig {
	t.Helper()
	gw := gatewaytest.Start(t, gatewaytest.WithSeed(gatewaytest.Seed{}), gatewaytest.WithFleet(fleet))
	cfg, err := pgxpool.ParseConfig(pgtest.URL(t))
	require.NoError(t, err)
	cfg.MaxConns = 20
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	require.NoError(t, campaign.Migrate(t.Context(), pool))
	m, err := campaign.NewManager(pool, campaign.WithManagerLogger(quiet()))
	require.NoError(t, err)
	return &rig{gw: gw, pool: pool, m: m}
}

// worker starts a campaign worker (callback server with the Recorder in front, es4 client) and returns
// its graceful stop.
func (r *rig) worker(t *testing.T, opts ...campaign.WorkerOption) func() {
	t.Helper()
	rec := campaign.NewRecorder(r.pool, quiet())
	d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(quiet()), esimgw.WithUnmatchedHandler(rec.CallbackHandler(nil)))
	srv, err := callback.NewServer(rec.Intercept(d), callback.WithTLS(r.gw.CallbackServerTLSConfig()), callback.WithLogger(quiet()))
	require.NoError(t, err)
	require.NoError(t, srv.Listen("127.0.0.1:0"))
	t.Cleanup(func() { _ = srv.Close() })
	c, err := es4.NewClient(r.gw.ES4URL, esimgw.WithEntity(r.gw.OperatorID, "campaignweb-test"), esimgw.WithTLSConfig(r.gw.ClientTLSConfig()),
		esimgw.WithReplyTo(srv.URL()+"/"), esimgw.WithDispatcher(d), esimgw.WithLogger(quiet()))
	require.NoError(t, err)
	w, err := campaign.NewWorker(r.pool, campaign.Clients{ES4: c}, append([]campaign.WorkerOption{campaign.WithWorkerLogger(quiet()),
		campaign.WithFetchPollInterval(100 * time.Millisecond), campaign.WithPauseSnooze(time.Hour)}, opts...)...)
	require.NoError(t, err)
	require.NoError(t, w.Start(t.Context()))
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		require.NoError(t, w.Stop(ctx))
	}
	t.Cleanup(stop)
	return stop
}

func fleetCSV(unknown []string, from, n int) string {
	var b strings.Builder
	for _, eid := range unknown {
		fmt.Fprintf(&b, "%s,%s\n", eid, gatewaytest.FleetFallbackICCID(0))
	}
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, "%s,%s\n", gatewaytest.FleetEID(i), gatewaytest.FleetFallbackICCID(i))
	}
	return b.String()
}

// TestBrowser runs part of a real campaign on the mock, stops its worker, and looks at it in headless
// Chromium: the list's and the campaign page's bars and counts are Progress's, the failed EIDs are the
// ones the mock refused with their SGP.02 codes, the pause and resume buttons change the campaign's
// state, and River's UI, served from its module, shows the campaign's jobs.
func TestBrowser(t *testing.T) {
	const fleet = 60
	r := newRig(t, fleet)
	// Four EIDs the mock does not know come first, so that they fail (8.1.1/3.9) before the stop.
	var unknown []string
	for i := fleet; i < fleet+4; i++ {
		unknown = append(unknown, gatewaytest.FleetEID(i))
	}
	_, err := r.m.Create(t.Context(), campaign.Spec{Key: "web-1", Function: "ES4.SetFallBackAttribute", Rate: 40, Burst: 1},
		campaign.CSV(strings.NewReader(fleetCSV(unknown, 0, fleet))))
	require.NoError(t, err)
	_, err = r.m.Create(t.Context(), campaign.Spec{Key: "web-2", Function: "ES4.AuditEIS"}, campaign.Slice(gatewaytest.FleetEID(0)))
	require.NoError(t, err)

	stop := r.worker(t, campaign.WithConcurrency(4)) // few at a time, so that stopping it leaves most pending
	require.Eventually(t, func() bool {
		p, err := r.m.Progress(t.Context(), "web-1")
		return err == nil && p.Done() >= 20
	}, 30*time.Second, 20*time.Millisecond)
	stop() // part of it: what is left stays pending, and the counts hold still for the comparison
	want, err := r.m.Progress(t.Context(), "web-1")
	require.NoError(t, err)
	require.Zero(t, want.InFlight)
	require.Positive(t, want.Pending)
	require.Equal(t, int64(len(unknown)), want.Failed)

	h, err := campaignweb.New(t.Context(), r.m, campaignweb.WithControls(), campaignweb.WithRiverUI(r.m.River()),
		campaignweb.WithRefresh(0), campaignweb.WithLogger(quiet()))
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	ctx := browser(t)

	field := func(scope, name string) int64 {
		s := run(t, ctx, chromedp.Text(chromedp.CSS(scope+` [data-field="`+name+`"]`)))
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		require.NoError(t, err, "%s %s: %q", scope, name, s)
		return n
	}
	bar := func(scope string) map[string]int64 {
		got := map[string]int64{}
		for _, n := range run(t, ctx, chromedp.Nodes(chromedp.CSSAll(scope+` .bar span`))) {
			c, err := strconv.ParseInt(n.AttributeValue("data-count"), 10, 64)
			require.NoError(t, err)
			got[n.AttributeValue("data-outcome")] = c
		}
		return got
	}
	wantBar := map[string]int64{"ok": want.Succeeded, "fail": want.Failed, "pending": want.Pending}
	counts := func(scope string) map[string]int64 {
		got := map[string]int64{}
		for _, f := range []string{"total", "succeeded", "warnings", "failed", "inFlight", "pending", "cancelled"} {
			got[f] = field(scope, f)
		}
		return got
	}
	wantCounts := map[string]int64{"total": want.Total, "succeeded": want.Succeeded, "warnings": want.Warnings, "failed": want.Failed,
		"inFlight": want.InFlight, "pending": want.Pending, "cancelled": want.Cancelled}
	// widths is the parts' rendered widths as fractions of the bar's.
	widths := func(scope string) map[string]float64 {
		return run(t, ctx, chromedp.Evaluate[map[string]float64](`(() => {
			const bar = document.querySelector(`+strconv.Quote(scope+" .bar")+`);
			const out = {};
			for (const s of bar.querySelectorAll("span")) out[s.dataset.outcome] = s.getBoundingClientRect().width / bar.getBoundingClientRect().width;
			return out;
		})()`))
	}
	wantWidths := func() map[string]float64 {
		return map[string]float64{"ok": float64(want.Succeeded) / float64(want.Total), "fail": float64(want.Failed) / float64(want.Total),
			"pending": float64(want.Pending) / float64(want.Total)}
	}
	assertWidths := func(scope string) {
		got := widths(scope)
		require.Len(t, got, len(wantWidths()), "%v", got)
		for k, w := range wantWidths() {
			assert.InDelta(t, w, got[k], 0.01, "%s: the %s part's width", scope, k)
		}
	}

	// The list.
	run(t, ctx, chromedp.Steps(chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`#campaigns`))))
	row := `#campaigns tr[data-key="web-1"]`
	assert.Equal(t, wantCounts, counts(row))
	assert.Equal(t, wantBar, bar(row))
	assertWidths(row)
	assert.Equal(t, "running", run(t, ctx, chromedp.Text(chromedp.CSS(row+` [data-field="state"]`))))

	// The campaign's page, reached by its link.
	run(t, ctx, chromedp.Steps(chromedp.Click(chromedp.CSS(row+` a`)), chromedp.WaitVisible(chromedp.CSS(`#facts`))))
	assert.Equal(t, wantCounts, counts(`#facts`))
	assert.Equal(t, wantBar, bar(`main`))
	assertWidths(`main`)
	var got []string
	for _, n := range run(t, ctx, chromedp.Nodes(chromedp.CSSAll(`#items tr[data-eid]`))) {
		got = append(got, n.AttributeValue("data-eid"))
	}
	assert.Equal(t, unknown, got, "the failed EIDs")
	assert.Equal(t, "8.1.1,3.9", run(t, ctx, chromedp.Text(chromedp.CSS(`#items tr[data-eid] [data-field="code"]`))))
	assert.Contains(t, run(t, ctx, chromedp.Text(chromedp.CSS(`#outcomes`))), "EID: unknown")

	// Pause, then resume, with the buttons.
	run(t, ctx, chromedp.Steps(chromedp.Click(chromedp.CSS(`#pause`)), chromedp.WaitVisible(chromedp.CSS(`#resume`))))
	assert.Equal(t, "paused", run(t, ctx, chromedp.Text(chromedp.CSS(`#state`))))
	p, err := r.m.Progress(t.Context(), "web-1")
	require.NoError(t, err)
	assert.Equal(t, campaign.StatePaused, p.Campaign.State)
	run(t, ctx, chromedp.Steps(chromedp.Click(chromedp.CSS(`#resume`)), chromedp.WaitVisible(chromedp.CSS(`#pause`))))
	assert.Equal(t, "running", run(t, ctx, chromedp.Text(chromedp.CSS(`#state`))))
	p, err = r.m.Progress(t.Context(), "web-1")
	require.NoError(t, err)
	assert.Equal(t, campaign.StateRunning, p.Campaign.State)

	// River's UI, from the assets in its module: its job list shows the campaign's jobs.
	run(t, ctx, chromedp.Steps(chromedp.Navigate(srv.URL+"/riverui/jobs?state=available"),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Poll[bool](`document.body.innerText.includes("`+campaign.JobKind+`")`, chromedp.WithPollingTimeout(25*time.Second))(ctx, tg)
			return err
		})))
}

// TestRiverUIReadOnly checks that River's UI answers its reads through the view and refuses its writes.
func TestRiverUIReadOnly(t *testing.T) {
	r := newRig(t, 3)
	_, err := r.m.Create(t.Context(), campaign.Spec{Key: "ro", Function: "ES4.AuditEIS"},
		campaign.Slice(gatewaytest.FleetEID(0), gatewaytest.FleetEID(1)))
	require.NoError(t, err)
	h, err := campaignweb.New(t.Context(), r.m, campaignweb.WithControls(), campaignweb.WithRiverUI(r.m.River()),
		campaignweb.WithPrefix("/ops"), campaignweb.WithLogger(quiet()))
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	resp := do(t, "GET", srv.URL+"/ops/riverui/api/jobs?state=available&limit=10", nil)
	require.Equal(t, http.StatusOK, resp.code, resp.body)
	assert.Equal(t, 2, strings.Count(resp.body, `"kind":"`+campaign.JobKind+`"`), resp.body)
	resp = do(t, "GET", srv.URL+"/ops/riverui/", nil)
	require.Equal(t, http.StatusOK, resp.code)
	assert.Contains(t, resp.body, `"base":"/ops/riverui"`)
	for _, w := range []struct{ method, path string }{
		{"POST", "/ops/riverui/api/jobs/cancel"}, {"POST", "/ops/riverui/api/jobs/delete"}, {"POST", "/ops/riverui/api/jobs/retry"},
		{"PUT", "/ops/riverui/api/queues/" + campaign.DefaultQueue + "/pause"}, {"PATCH", "/ops/riverui/api/queues/" + campaign.DefaultQueue},
	} {
		resp := do(t, w.method, srv.URL+w.path, map[string]string{"Sec-Fetch-Site": "same-origin"})
		assert.Equal(t, http.StatusMethodNotAllowed, resp.code, "%s %s", w.method, w.path)
	}
	var states []string
	rows, err := r.pool.Query(t.Context(), `SELECT state::text FROM river_job`)
	require.NoError(t, err)
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		states = append(states, s)
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, []string{"available", "available"}, slices.Sorted(slices.Values(states)), "nothing changed")
}

package campaignweb_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/campaign"
	"github.com/esimgw/esimgw/campaign/campaignweb"
)

// fake is a Campaigns in memory that records what the handler asked of it.
type fake struct {
	mu        sync.Mutex
	progress  map[string]campaign.Progress
	items     []campaign.ExportRow
	more      bool
	lastQuery campaign.ItemQuery
	calls     []string
	err       error // returned by the control calls
}

func (f *fake) List(context.Context) ([]campaign.Campaign, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var cs []campaign.Campaign
	for _, p := range f.progress {
		cs = append(cs, p.Campaign)
	}
	// newest first, as the Manager lists them
	for i := range cs {
		for j := i + 1; j < len(cs); j++ {
			if cs[j].ID > cs[i].ID {
				cs[i], cs[j] = cs[j], cs[i]
			}
		}
	}
	return cs, nil
}

func (f *fake) Progress(_ context.Context, key string) (campaign.Progress, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.progress[key]
	if !ok {
		return campaign.Progress{}, fmt.Errorf("%w: %s", campaign.ErrNotFound, key)
	}
	return p, nil
}

func (f *fake) Items(ctx context.Context, key string, q campaign.ItemQuery) ([]campaign.ExportRow, bool, error) {
	if _, err := f.Progress(ctx, key); err != nil {
		return nil, false, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastQuery = q
	return f.items, f.more, nil
}

func (f *fake) Export(_ context.Context, key string, w io.Writer, format campaign.ExportFormat) error {
	_, err := fmt.Fprintf(w, "export of %s as %d\n", key, format)
	return err
}

func (f *fake) control(ctx context.Context, what, key string) error {
	if _, err := f.Progress(ctx, key); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, what+" "+key)
	return f.err
}

func (f *fake) Pause(ctx context.Context, key string) error  { return f.control(ctx, "pause", key) }
func (f *fake) Resume(ctx context.Context, key string) error { return f.control(ctx, "resume", key) }
func (f *fake) Cancel(ctx context.Context, key string) error { return f.control(ctx, "cancel", key) }
func (f *fake) RetryFailed(ctx context.Context, key string) (int64, error) {
	return 7, f.control(ctx, "retry-failed", key)
}

const hostile = `<script>alert("x")</script>&"'`

func newFake() *fake {
	created := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	return &fake{
		progress: map[string]campaign.Progress{
			"fallback-1": {
				Campaign: campaign.Campaign{ID: 2, Key: "fallback-1", Function: "ES4.SetFallBackAttribute", State: campaign.StateRunning,
					Round: 1, Queue: campaign.DefaultQueue, LimitName: "fallback-1", CreatedAt: created},
				Total: 1000, Pending: 500, InFlight: 20, Succeeded: 400, Warnings: 30, Failed: 40, Cancelled: 10,
				ByOutcome: []campaign.OutcomeCount{
					{Status: esimgw.StatusExecutedSuccess, Count: 400},
					{Status: esimgw.StatusFailed, StatusCode: "8.1.1,3.9", Description: hostile, Count: 30},
					{Status: esimgw.StatusNoResult, Count: 10},
					{Status: esimgw.StatusExecutedWithWarning, StatusCode: "8.2.1,3.3", Count: 30},
				},
				RecentRate: 12.5, Elapsed: 3 * time.Minute,
			},
			"audit-1": {
				Campaign: campaign.Campaign{ID: 1, Key: "audit-1", Function: "ES4.AuditEIS", State: campaign.StatePaused, Round: 1, CreatedAt: created},
				Total:    3, Pending: 3,
			},
		},
		items: []campaign.ExportRow{{Line: 7, EID: "89049032000001000000000000000171", State: "done", Status: "FAILED", StatusCode: "8.1.1,3.9",
			Description: hostile, Message: "EID " + hostile + " unknown", Attempts: 1,
			FunctionCallIdentifier: "cmp-fallback-1-1-89049032000001000000000000000171"}},
		more: true,
	}
}

func serve(t *testing.T, f campaignweb.Campaigns, opts ...campaignweb.Option) *httptest.Server {
	t.Helper()
	h, err := campaignweb.New(t.Context(), f, append([]campaignweb.Option{campaignweb.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	require.NoError(t, err)
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

type response struct {
	code   int
	header http.Header
	body   string
}

func do(t *testing.T, method, u string, header map[string]string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{resp.StatusCode, resp.Header, string(b)}
}

func TestPagesEscapeWhatPeersSent(t *testing.T) {
	s := serve(t, newFake())
	for _, path := range []string{"/", "/campaigns/fallback-1", "/campaigns/fallback-1?status=FAILED&code=8.1.1,3.9"} {
		r := do(t, "GET", s.URL+path, nil)
		require.Equal(t, http.StatusOK, r.code, path)
		assert.Equal(t, "text/html; charset=utf-8", r.header.Get("Content-Type"))
		assert.Contains(t, r.header.Get("Content-Security-Policy"), "default-src 'none'")
		assert.NotContains(t, r.body, "<script", path)
		assert.NotContains(t, r.body, `alert("x")`, path)
	}
	r := do(t, "GET", s.URL+"/campaigns/fallback-1", nil)
	assert.Contains(t, r.body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;&#34;&#39;", "the description, escaped")
	assert.Contains(t, r.body, "89049032000001000000000000000171")
	assert.Contains(t, r.body, "EID: unknown", "the code's meaning")
	assert.Contains(t, r.body, "cmp-fallback-1-1-89049032000001000000000000000171")
	// The outcome row's link lists its EIDs: status and code in the query, escaped once.
	assert.Contains(t, r.body, `href="/campaigns/fallback-1?code=8.1.1%2C3.9&amp;status=FAILED"`)
	// The next page starts after the page's last EID.
	assert.Contains(t, r.body, `href="/campaigns/fallback-1?after=89049032000001000000000000000171&amp;limit=100"`)
	assert.NotContains(t, r.body, `method="post"`, "read-only: no buttons")
}

// barCounts reads the progress bar's parts from a page: outcome -> count, and the widths' sum.
func barCounts(t *testing.T, body string) (map[string]int64, float64) {
	t.Helper()
	counts := map[string]int64{}
	var sum float64
	re := regexp.MustCompile(`data-outcome="(\w+)" data-count="(\d+)" title="[^"]*" style="width:([0-9.]+)%"`)
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		n, err := strconv.ParseInt(m[2], 10, 64)
		require.NoError(t, err)
		w, err := strconv.ParseFloat(m[3], 64)
		require.NoError(t, err)
		counts[m[1]] += n
		sum += w
	}
	return counts, sum
}

func TestBarsAddUp(t *testing.T) {
	f := newFake()
	s := serve(t, f)
	r := do(t, "GET", s.URL+"/campaigns/fallback-1", nil)
	require.Equal(t, http.StatusOK, r.code)
	counts, sum := barCounts(t, r.body)
	assert.Equal(t, map[string]int64{"ok": 400, "warn": 30, "fail": 40, "flight": 20, "pending": 500, "cancel": 10}, counts)
	assert.InDelta(t, 100, sum, 0.01)
	assert.Contains(t, r.body, `data-field="rate">12</b>`, "EIDs/s")
	assert.Contains(t, r.body, `data-field="eta">42s</b>`, "520 left at 12.5/s")

	r = do(t, "GET", s.URL+"/", nil)
	require.Equal(t, http.StatusOK, r.code)
	assert.Less(t, strings.Index(r.body, `data-key="fallback-1"`), strings.Index(r.body, `data-key="audit-1"`), "newest first")
	counts, _ = barCounts(t, r.body)
	assert.Equal(t, map[string]int64{"ok": 400, "warn": 30, "fail": 40, "flight": 20, "pending": 500 + 3, "cancel": 10}, counts)
}

func TestItemQueryFromParameters(t *testing.T) {
	f := newFake()
	s := serve(t, f, campaignweb.WithPageSize(50))
	tests := []struct {
		query string
		want  campaign.ItemQuery
	}{
		{"", campaign.ItemQuery{Failed: true, Limit: 50}},
		{"?after=89049032000001000000000000000171&limit=1000", campaign.ItemQuery{Failed: true, After: "89049032000001000000000000000171", Limit: 1000}},
		{"?status=FAILED&code=8.1.1,3.9", campaign.ItemQuery{Status: esimgw.StatusFailed, StatusCode: "8.1.1,3.9", Limit: 50}},
		{"?status=NO_RESULT", campaign.ItemQuery{Status: esimgw.StatusNoResult, Limit: 50}},
	}
	for _, tt := range tests {
		r := do(t, "GET", s.URL+"/campaigns/fallback-1"+tt.query, nil)
		require.Equal(t, http.StatusOK, r.code, tt.query)
		f.mu.Lock()
		assert.Equal(t, tt.want, f.lastQuery, tt.query)
		f.mu.Unlock()
	}
}

func TestBadRequests(t *testing.T) {
	s := serve(t, newFake(), campaignweb.WithControls(), campaignweb.WithListSize(1))
	tests := []struct {
		method, path string
		code         int
		says         string
	}{
		{"GET", "/campaigns/nope", http.StatusNotFound, "no such campaign: nope"},
		{"GET", "/campaigns/" + url.PathEscape("<b>x</b>"), http.StatusNotFound, "no such campaign: &lt;b&gt;x&lt;/b&gt;"},
		{"GET", "/campaigns/nope/export", http.StatusNotFound, "no such campaign"},
		{"GET", "/nowhere", http.StatusNotFound, "no such page"},
		{"GET", "/campaigns/fallback-1?after=123", http.StatusBadRequest, "after &#34;123&#34;"},
		{"GET", "/campaigns/fallback-1?after=" + url.QueryEscape("<script>"), http.StatusBadRequest, "after &#34;&lt;script&gt;&#34;"},
		{"GET", "/campaigns/fallback-1?limit=0", http.StatusBadRequest, "limit &#34;0&#34;"},
		{"GET", "/campaigns/fallback-1?limit=1001", http.StatusBadRequest, "limit &#34;1001&#34;"},
		{"GET", "/campaigns/fallback-1?limit=ten", http.StatusBadRequest, "limit"},
		{"GET", "/campaigns/fallback-1?limit=1&limit=2", http.StatusBadRequest, "given 2 times"},
		{"GET", "/campaigns/fallback-1?page=2", http.StatusBadRequest, "unknown parameter &#34;page&#34;"},
		{"GET", "/campaigns/fallback-1?status=FAILED!", http.StatusBadRequest, "status"},
		{"GET", "/campaigns/fallback-1?code=8.1.1,3.9", http.StatusBadRequest, "code needs status"},
		{"GET", "/campaigns/fallback-1?status=FAILED&code=%07", http.StatusBadRequest, "code"},
		{"GET", "/campaigns/fallback-1/export?format=xml", http.StatusBadRequest, "want csv or jsonl"},
		{"GET", "/?page=0", http.StatusBadRequest, "page &#34;0&#34;"},
		{"GET", "/?page=x", http.StatusBadRequest, "page"},
		{"GET", "/?page=3", http.StatusNotFound, "page 3: there are 2"},
		{"GET", "/?sort=key", http.StatusBadRequest, "unknown parameter"},
		{"POST", "/campaigns/fallback-1/explode", http.StatusNotFound, "no action"},
		{"POST", "/campaigns/nope/pause", http.StatusNotFound, "no such campaign"},
		{"DELETE", "/campaigns/fallback-1", http.StatusMethodNotAllowed, ""},
	}
	for _, tt := range tests {
		r := do(t, tt.method, s.URL+tt.path, nil)
		assert.Equal(t, tt.code, r.code, "%s %s: %s", tt.method, tt.path, r.body)
		assert.Contains(t, r.body, tt.says, "%s %s", tt.method, tt.path)
		assert.NotContains(t, r.body, "<script", "%s %s", tt.method, tt.path)
	}
	r := do(t, "GET", s.URL+"/?page=2", nil)
	assert.Equal(t, http.StatusOK, r.code)
	assert.Contains(t, r.body, `data-key="audit-1"`)
	assert.NotContains(t, r.body, `data-key="fallback-1"`)
}

func TestReadOnlyByDefault(t *testing.T) {
	f := newFake()
	s := serve(t, f)
	for _, a := range []string{"pause", "resume", "cancel", "retry-failed"} {
		r := do(t, "POST", s.URL+"/campaigns/fallback-1/"+a, nil)
		assert.Equal(t, http.StatusMethodNotAllowed, r.code, a)
	}
	assert.Empty(t, f.calls)
}

func TestControls(t *testing.T) {
	f := newFake()
	s := serve(t, f, campaignweb.WithControls())
	r := do(t, "GET", s.URL+"/campaigns/fallback-1", nil)
	require.Equal(t, http.StatusOK, r.code)
	assert.Contains(t, r.body, `<form method="post" action="/campaigns/fallback-1/pause">`)
	assert.NotContains(t, r.body, `/resume"`, "a running campaign has no resume button")
	assert.Contains(t, r.body, `action="/campaigns/fallback-1/retry-failed"`)
	r = do(t, "GET", s.URL+"/campaigns/audit-1", nil)
	assert.Contains(t, r.body, `action="/campaigns/audit-1/resume"`)
	assert.NotContains(t, r.body, `/pause"`)

	// Another site's page cannot press the buttons in an operator's browser.
	for _, h := range []map[string]string{
		{"Sec-Fetch-Site": "cross-site"},
		{"Sec-Fetch-Site": "same-site"},
		{"Origin": "https://evil.example"},
	} {
		r := do(t, "POST", s.URL+"/campaigns/fallback-1/cancel", h)
		assert.Equal(t, http.StatusForbidden, r.code, "%v", h)
	}
	assert.Empty(t, f.calls)

	for _, tt := range []struct {
		action, done string
	}{{"pause", "pause"}, {"resume", "resume"}, {"cancel", "cancel"}, {"retry-failed", "retry-failed%3A7"}} {
		r := do(t, "POST", s.URL+"/campaigns/fallback-1/"+tt.action, map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": s.URL})
		assert.Equal(t, http.StatusSeeOther, r.code, tt.action)
		assert.Equal(t, "/campaigns/fallback-1?done="+tt.done, r.header.Get("Location"))
	}
	assert.Equal(t, []string{"pause fallback-1", "resume fallback-1", "cancel fallback-1", "retry-failed fallback-1"}, f.calls)
	r = do(t, "GET", s.URL+"/campaigns/fallback-1?done=retry-failed:7", nil)
	assert.Contains(t, r.body, "Done: 7 EIDs queued again")

	f.err = fmt.Errorf("%w: fallback-1", campaign.ErrCancelled)
	r = do(t, "POST", s.URL+"/campaigns/fallback-1/resume", map[string]string{"Sec-Fetch-Site": "same-origin"})
	assert.Equal(t, http.StatusConflict, r.code)
	assert.Contains(t, r.body, "is cancelled")
	f.err = errors.New("connection refused")
	r = do(t, "POST", s.URL+"/campaigns/fallback-1/pause", map[string]string{"Sec-Fetch-Site": "same-origin"})
	assert.Equal(t, http.StatusInternalServerError, r.code)
	assert.NotContains(t, r.body, "connection refused", "database details stay in the log")
}

func TestPrefix(t *testing.T) {
	s := serve(t, newFake(), campaignweb.WithPrefix("/ops/"))
	r := do(t, "GET", s.URL+"/ops/", nil)
	require.Equal(t, http.StatusOK, r.code)
	assert.Contains(t, r.body, `href="/ops/campaigns/fallback-1"`)
	r = do(t, "GET", s.URL+"/ops/campaigns/fallback-1", nil)
	assert.Equal(t, http.StatusOK, r.code)
	assert.Contains(t, r.body, `href="/ops/campaigns/fallback-1/export?format=csv"`)
	assert.Equal(t, http.StatusMovedPermanently, do(t, "GET", s.URL+"/ops", nil).code)
	assert.Equal(t, http.StatusNotFound, do(t, "GET", s.URL+"/", nil).code)
	assert.Equal(t, http.StatusNotFound, do(t, "GET", s.URL+"/opsx/", nil).code)
}

func TestExport(t *testing.T) {
	s := serve(t, newFake())
	r := do(t, "GET", s.URL+"/campaigns/fallback-1/export?format=jsonl", nil)
	require.Equal(t, http.StatusOK, r.code)
	assert.Equal(t, "application/jsonl; charset=utf-8", r.header.Get("Content-Type"))
	assert.Equal(t, `attachment; filename="fallback-1.jsonl"`, r.header.Get("Content-Disposition"))
	assert.Equal(t, fmt.Sprintf("export of fallback-1 as %d\n", campaign.ExportJSONLines), r.body)
	r = do(t, "GET", s.URL+"/campaigns/fallback-1/export", nil)
	assert.Equal(t, fmt.Sprintf("export of fallback-1 as %d\n", campaign.ExportCSV), r.body)
}

func TestNewRefusesBadOptions(t *testing.T) {
	var ve *esimgw.ValidationError
	for _, o := range []campaignweb.Option{
		campaignweb.WithPrefix("ops"), campaignweb.WithPrefix("/a b"), campaignweb.WithPageSize(0),
		campaignweb.WithPageSize(campaign.MaxItemLimit + 1), campaignweb.WithListSize(0), campaignweb.WithRefresh(-time.Second),
	} {
		_, err := campaignweb.New(t.Context(), newFake(), o)
		assert.ErrorAs(t, err, &ve)
	}
	_, err := campaignweb.New(t.Context(), nil)
	assert.Error(t, err)
}

package es2plus_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/es2plus"
	"github.com/esimgw/esimgw/progress"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type recorder struct {
	mu  sync.Mutex
	got []*es2plus.DownloadProgressInfo
	err func(n int) error // error for the n-th call (1-based)
}

func (r *recorder) HandleDownloadProgressInfo(_ context.Context, n *es2plus.DownloadProgressInfo) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, n)
	if r.err != nil {
		return r.err(len(r.got))
	}
	return nil
}

func (r *recorder) calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

func post(h http.Handler, b []byte, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, es2plus.Path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Admin-Protocol", "gsma/rsp/v2.5.0")
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

type errResp struct {
	Header struct {
		FunctionExecutionStatus struct{ Status string } `json:"functionExecutionStatus"`
	} `json:"header"`
	Error struct{ Code, Field, Message string } `json:"error"`
}

func decodeErr(t *testing.T, w *httptest.ResponseRecorder) errResp {
	t.Helper()
	assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
	var e errResp
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &e), w.Body.String())
	assert.Equal(t, "Failed", e.Header.FunctionExecutionStatus.Status)
	return e
}

func TestHandlerRequests(t *testing.T) {
	tests := []struct {
		name   string
		method string
		body   []byte
		hdr    map[string]string
		status int
		code   string
		field  string
		calls  int
	}{
		{"ok", "", body(t, nil), nil, 204, "", "", 1},
		{"charset", "", body(t, nil), map[string]string{"Content-Type": "application/json;charset=UTF-8"}, 204, "", "", 1},
		{"no content type", "", body(t, nil), map[string]string{"Content-Type": ""}, 204, "", "", 1},
		{"no admin protocol", "", body(t, nil), map[string]string{"X-Admin-Protocol": ""}, 204, "", "", 1},
		{"admin protocol v2.0", "", body(t, nil), map[string]string{"X-Admin-Protocol": "gsma/rsp/v2.0.0"}, 204, "", "", 1},
		{"GET", http.MethodGet, nil, nil, 405, "method_not_allowed", "", 0},
		{"xml", "", body(t, nil), map[string]string{"Content-Type": "text/xml"}, 415, "unsupported_media_type", "", 0},
		{"admin protocol v3", "", body(t, nil), map[string]string{"X-Admin-Protocol": "gsma/rsp/v3.0.0"}, 400, "unsupported_protocol", "", 0},
		{"missing iccid", "", body(t, map[string]any{"iccid": nil}), nil, 400, "invalid_field", "iccid", 0},
		{"bad timestamp", "", body(t, map[string]any{"timestamp": "yesterday"}), nil, 400, "invalid_field", "timestamp", 0},
		{"bad json", "", []byte("{"), nil, 400, "malformed_json", "", 0},
		{"too large", "", append(body(t, nil)[:1], bytes.Repeat([]byte(" "), 2048)...), nil, 413, "body_too_large", "", 0},
		{"sns disabled", "", []byte(`{"Type":"Notification","TopicArn":"arn:x","MessageId":"1","Message":"{}"}`), nil, 400, "sns_disabled", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := &recorder{}
			h := es2plus.NewHTTPHandler(app, es2plus.WithLogger(quiet), es2plus.WithMaxBodyBytes(1024))
			req := httptest.NewRequest(cmpOr(tt.method, http.MethodPost), es2plus.Path, bytes.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			for k, v := range tt.hdr {
				if v == "" {
					req.Header.Del(k)
				} else {
					req.Header.Set(k, v)
				}
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			assert.Equal(t, tt.status, w.Code, w.Body.String())
			assert.Equal(t, es2plus.AdminProtocol, w.Header().Get("X-Admin-Protocol"))
			if tt.status == 204 {
				assert.Empty(t, w.Body.Bytes())
			} else {
				e := decodeErr(t, w)
				assert.Equal(t, tt.code, e.Error.Code)
				assert.Equal(t, tt.field, e.Error.Field)
			}
			assert.Equal(t, tt.calls, app.calls())
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestHandlerStatusOK(t *testing.T) {
	h := es2plus.NewHTTPHandler(&recorder{}, es2plus.WithStatusOK(), es2plus.WithLogger(quiet))
	w := post(h, body(t, nil), nil)
	assert.Equal(t, 200, w.Code)
	assert.JSONEq(t, `{"header":{"functionExecutionStatus":{"status":"Executed-Success"}}}`, w.Body.String())
}

func TestHandlerApplicationOutcomes(t *testing.T) {
	boom := errors.New("database down")
	app := &recorder{err: func(n int) error {
		switch n {
		case 1:
			return boom
		case 3:
			return &es2plus.RejectError{Reason: "unknown profile"}
		case 4:
			return &es2plus.RejectError{StatusCode: 409, Reason: "conflict"}
		}
		return nil
	}}
	h := es2plus.NewHTTPHandler(app, es2plus.WithLogger(quiet))
	b := body(t, nil)

	w := post(h, b, nil) // application fails: 500, retry allowed
	assert.Equal(t, 500, w.Code)
	assert.Equal(t, "application_error", decodeErr(t, w).Error.Code)

	w = post(h, b, nil) // the retry is handed over again (not poisoned)
	assert.Equal(t, 204, w.Code)
	assert.Equal(t, 2, app.calls())

	w = post(h, b, nil) // duplicate of an accepted one: not handed over
	assert.Equal(t, 204, w.Code)
	assert.Equal(t, 2, app.calls())

	w = post(h, body(t, map[string]any{"notificationPointId": 4}), nil) // rejected
	assert.Equal(t, 422, w.Code)
	e := decodeErr(t, w)
	assert.Equal(t, "rejected", e.Error.Code)
	assert.Equal(t, "unknown profile", e.Error.Message)

	w = post(h, body(t, map[string]any{"notificationPointId": 5}), nil)
	assert.Equal(t, 409, w.Code)

	// Same call id and point, other ICCID: not a duplicate.
	w = post(h, body(t, map[string]any{"iccid": "8931041010654378931"}), nil)
	assert.Equal(t, 204, w.Code)
	assert.Equal(t, 5, app.calls())
	// Padded form of an accepted ICCID: a duplicate.
	w = post(h, body(t, map[string]any{"iccid": "8931041010654378931F"}), nil)
	assert.Equal(t, 204, w.Code)
	assert.Equal(t, 5, app.calls())
}

// blockingApp blocks the first call until released, and reports when a call
// started.
type blockingApp struct {
	started chan struct{}
	release chan error
	calls   atomic.Int32
}

func (b *blockingApp) HandleDownloadProgressInfo(ctx context.Context, _ *es2plus.DownloadProgressInfo) error {
	n := b.calls.Add(1)
	if n == 1 {
		b.started <- struct{}{}
		return <-b.release
	}
	return nil
}

func TestHandlerConcurrentDuplicates(t *testing.T) {
	for _, firstFails := range []bool{false, true} {
		t.Run(map[bool]string{false: "first succeeds", true: "first fails"}[firstFails], func(t *testing.T) {
			app := &blockingApp{started: make(chan struct{}), release: make(chan error)}
			h := es2plus.NewHTTPHandler(app, es2plus.WithLogger(quiet))
			b := body(t, nil)
			codes := make(chan int, 4)
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { defer wg.Done(); codes <- post(h, b, nil).Code }()
			<-app.started // the first delivery is inside the application
			for range 3 {
				wg.Add(1)
				go func() { defer wg.Done(); codes <- post(h, b, nil).Code }()
			}
			if firstFails {
				app.release <- errors.New("transient")
			} else {
				app.release <- nil
			}
			wg.Wait()
			close(codes)
			var got []int
			for c := range codes {
				got = append(got, c)
			}
			if firstFails {
				// One waiter takes over and succeeds; the others see its outcome.
				assert.ElementsMatch(t, []int{500, 204, 204, 204}, got)
				assert.Equal(t, int32(2), app.calls.Load())
			} else {
				assert.ElementsMatch(t, []int{204, 204, 204, 204}, got)
				assert.Equal(t, int32(1), app.calls.Load())
			}
		})
	}
}

func TestHandlerWaiterContextCanceled(t *testing.T) {
	app := &blockingApp{started: make(chan struct{}), release: make(chan error)}
	h := es2plus.NewHTTPHandler(app, es2plus.WithLogger(quiet))
	b := body(t, nil)
	done := make(chan int)
	go func() { done <- post(h, b, nil).Code }()
	<-app.started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest(http.MethodPost, es2plus.Path, bytes.NewReader(b)).WithContext(ctx)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	assert.Equal(t, 503, w.Code)
	app.release <- nil
	assert.Equal(t, 204, <-done)
}

func TestHandlerDedupBounded(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	app := &recorder{}
	h := es2plus.NewHTTPHandler(app, es2plus.WithLogger(quiet), es2plus.WithDedup(2, time.Hour), es2plus.WithClock(clock))
	hdr := func(id string) map[string]any {
		return map[string]any{"header": map[string]any{"functionRequesterIdentifier": "r", "functionCallIdentifier": id}}
	}
	for _, id := range []string{"a", "b", "c"} {
		require.Equal(t, 204, post(h, body(t, hdr(id)), nil).Code)
	}
	post(h, body(t, hdr("c")), nil) // remembered
	assert.Equal(t, 3, app.calls())
	post(h, body(t, hdr("a")), nil) // evicted by size: handed over again
	assert.Equal(t, 4, app.calls())

	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	post(h, body(t, hdr("a")), nil) // expired by age
	assert.Equal(t, 5, app.calls())

	off := es2plus.NewHTTPHandler(app, es2plus.WithLogger(quiet), es2plus.WithDedup(0, 0))
	post(off, body(t, nil), nil)
	post(off, body(t, nil), nil)
	assert.Equal(t, 7, app.calls())
}

func TestFeedBoard(t *testing.T) {
	board := progress.NewBoard()
	var next atomic.Int32
	h := es2plus.NewHTTPHandler(es2plus.FeedBoard(board, es2plus.HandlerFunc(func(context.Context, *es2plus.DownloadProgressInfo) error {
		if next.Add(1) == 1 {
			return errors.New("not yet")
		}
		return nil
	})), es2plus.WithLogger(quiet))
	b3 := body(t, map[string]any{"iccid": "8931041010654378930F", "eid": "89049032000001000000000000000042"})
	assert.Equal(t, 500, post(h, b3, nil).Code)
	assert.Zero(t, board.Len(), "not recorded before the application accepted")
	assert.Equal(t, 204, post(h, b3, nil).Code)
	e, ok := board.Get("8931041010654378930")
	require.True(t, ok)
	assert.Equal(t, progress.StageDownloaded, e.Stage)
	assert.Equal(t, "ES2+", e.Source)
	assert.Equal(t, "89049032000001000000000000000042", e.EID)

	assert.Equal(t, 204, post(h, []byte(specExample()), nil).Code) // point 4 Failed with resultData
	e, _ = board.Get("8931041010654378930")
	assert.Equal(t, progress.StageFailed, e.Stage)
	assert.Equal(t, progress.StageInstalled, e.Attempted)
	assert.Equal(t, progress.OutcomeFailed, e.Outcome)
	assert.Contains(t, e.Detail, "installFailedDueToInsufficientMemoryForProfile")
	assert.Contains(t, e.Detail, "8.1/4.8")

	// nil next is fine.
	require.NoError(t, es2plus.FeedBoard(board, nil).HandleDownloadProgressInfo(context.Background(), mustDecode(t, body(t, map[string]any{"notificationPointId": 6}))))
	e, _ = board.Get("8931041010654378930")
	assert.Equal(t, progress.StageEnabled, e.Stage)
}

func mustDecode(t *testing.T, b []byte) *es2plus.DownloadProgressInfo {
	t.Helper()
	n, err := es2plus.Decode(b)
	require.NoError(t, err)
	return n
}

func TestProgressEvent(t *testing.T) {
	tests := []struct {
		point     int
		status    string
		stage     progress.Stage
		attempted progress.Stage
		ok        bool
	}{
		{1, "Failed", progress.StageFailed, progress.StageDownloaded, true},
		{2, "Failed", progress.StageFailed, progress.StageDownloaded, true},
		{3, "Executed-Success", progress.StageDownloaded, progress.StageUnknown, true},
		{3, "Expired", progress.StageExpired, progress.StageDownloaded, true},
		{4, "Executed-Success", progress.StageInstalled, progress.StageUnknown, true},
		{4, "Executed-WithWarning", progress.StageInstalled, progress.StageUnknown, true},
		{4, "Failed", progress.StageFailed, progress.StageInstalled, true},
		{5, "Executed-Success", progress.StageUnknown, progress.StageUnknown, false},
		{6, "Executed-Success", progress.StageEnabled, progress.StageUnknown, true},
		{7, "Executed-Success", progress.StageDisabled, progress.StageUnknown, true},
		{8, "Executed-Success", progress.StageDeleted, progress.StageUnknown, true},
		{101, "Executed-Success", progress.StageUnknown, progress.StageUnknown, false},
		{101, "Failed", progress.StageFailed, progress.StageUnknown, true},
	}
	for _, tt := range tests {
		n := mustDecode(t, body(t, map[string]any{"notificationPointId": tt.point,
			"notificationPointStatus": map[string]any{"status": tt.status}}))
		ev, ok := es2plus.ProgressEvent(n)
		assert.Equal(t, tt.ok, ok, "point %d %s", tt.point, tt.status)
		assert.Equal(t, tt.stage, ev.Stage, "point %d %s", tt.point, tt.status)
		assert.Equal(t, tt.attempted, ev.Attempted, "point %d %s", tt.point, tt.status)
		assert.Equal(t, "ES2+", ev.Source)
		assert.Equal(t, n.Timestamp, ev.Time)
		assert.Equal(t, "fc-1", ev.Ref)
	}
}

func TestNewRequest(t *testing.T) {
	app := &recorder{}
	srv := httptest.NewServer(es2plus.NewHTTPHandler(app, es2plus.WithLogger(quiet)))
	defer srv.Close()
	n := mustDecode(t, []byte(specExample()))
	req, err := es2plus.NewRequest(context.Background(), srv.URL, n)
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(req.URL.Path, es2plus.Path))
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, 204, resp.StatusCode)
	require.Equal(t, 1, app.calls())
	assert.Equal(t, n.ResultData, app.got[0].ResultData)
}

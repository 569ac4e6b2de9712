package rest

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var quick = RetryPolicy{MaxAttempts: 3, MaxThrottled: 5, InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond}

func newTest(t *testing.T, h http.HandlerFunc, opts ...Option) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := New("test", srv.URL+"/api", append([]Option{WithRetryPolicy(quick)}, opts...)...)
	require.NoError(t, err)
	return c
}

func TestNewRefusesBadBase(t *testing.T) {
	for _, base := range []string{"", "ftp://x", "/relative", "https://user:pw@host/"} {
		_, err := New("test", base)
		assert.Error(t, err, base)
	}
}

func TestDoDecodesAndEncodes(t *testing.T) {
	c := newTest(t, func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "/api/things/a%2Fb", r.URL.EscapedPath())
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		var in map[string]string
		require.NoError(t, json.NewDecoder(r.Body).Decode(&in))
		_ = json.NewEncoder(w).Encode(map[string]string{"echo": in["x"]})
	})
	var out struct{ Echo string }
	_, err := c.Do(context.Background(), Request{Method: http.MethodPost, Path: "/things/a%2Fb", Body: map[string]string{"x": "y"}}, &out)
	require.NoError(t, err)
	assert.Equal(t, "y", out.Echo)
}

func TestAPIErrorCarriesStatusAndCode(t *testing.T) {
	c := newTest(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"errorCode":"INVALID_PARAMETER","errorMessage":"bad\neid"}`))
	})
	_, err := c.Do(context.Background(), Request{Method: http.MethodPost, Path: "/x"}, nil)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusBadRequest, ae.StatusCode)
	assert.Equal(t, "INVALID_PARAMETER", ae.Code)
	assert.Equal(t, "test: POST /x: HTTP 400 INVALID_PARAMETER: bad eid", ae.Error())
	assert.Equal(t, int64(1), c.Stats().Requests, "a 400 is not retried")
}

func TestPostIsNotRetriedAfter5xx(t *testing.T) {
	var n atomic.Int32
	c := newTest(t, func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(http.StatusBadGateway)
	})
	_, err := c.Do(context.Background(), Request{Method: http.MethodPost, Path: "/x"}, nil)
	require.Error(t, err)
	assert.Equal(t, int32(1), n.Load(), "a POST that may have run is not sent twice")
	_, err = c.Do(context.Background(), Request{Method: http.MethodGet, Path: "/x", Idempotent: true}, nil)
	require.Error(t, err)
	assert.Equal(t, int32(1+quick.MaxAttempts), n.Load(), "a GET is retried up to MaxAttempts")
}

func TestPostLostAfterWritingIsUncertain(t *testing.T) {
	c := newTest(t, func(w http.ResponseWriter, r *http.Request) {
		hj, _ := w.(http.Hijacker)
		conn, _, _ := hj.Hijack()
		_ = conn.Close()
	})
	_, err := c.Do(context.Background(), Request{Method: http.MethodPost, Path: "/x", Body: map[string]int{"a": 1}}, nil)
	var ue *UncertainError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, int64(1), c.Stats().Requests)
}

func TestConnectFailureIsRetried(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	c, err := New("test", "http://"+addr, WithRetryPolicy(quick))
	require.NoError(t, err)
	_, err = c.Do(context.Background(), Request{Method: http.MethodPost, Path: "/x"}, nil)
	require.Error(t, err)
	assert.Equal(t, int64(quick.MaxAttempts), c.Stats().Requests, "nothing was written, so a POST may be sent again")
}

func TestThrottledRequestWaitsRetryAfter(t *testing.T) {
	var mu sync.Mutex
	var times []time.Time
	c := newTest(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		first := len(times) == 1
		mu.Unlock()
		if first {
			w.Header().Set("Retry-After", "0.2")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		_, _ = w.Write([]byte(`{}`))
	})
	_, err := c.Do(context.Background(), Request{Method: http.MethodPost, Path: "/x"}, nil)
	require.NoError(t, err, "a 429 was refused unread, so even a POST is sent again")
	require.Len(t, times, 2)
	assert.GreaterOrEqual(t, times[1].Sub(times[0]), 200*time.Millisecond)
	assert.Equal(t, int64(1), c.Stats().Throttled)
}

type tokenAuth struct {
	mu      sync.Mutex
	token   int
	renewed int
}

func (a *tokenAuth) Authorize(_ context.Context, r *http.Request) (any, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r.Header.Set("Authorization", "Bearer t"+string(rune('0'+a.token)))
	return a.token, nil
}

func (a *tokenAuth) Renew(_ context.Context, used any, _ *APIError) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if used.(int) == a.token {
		a.token++
		a.renewed++
	}
	return true
}

func TestUnauthorizedRenewsOnceAndRetries(t *testing.T) {
	auth := &tokenAuth{}
	c := newTest(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer t1" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`{}`))
	}, WithAuthorizer(auth))
	_, err := c.Do(context.Background(), Request{Method: http.MethodPost, Path: "/x"}, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, auth.renewed)

	auth.token = 5 // now every token is refused: one renewal, then the 401 is returned
	_, err = c.Do(context.Background(), Request{Method: http.MethodPost, Path: "/x"}, nil)
	assert.ErrorIs(t, err, ErrUnauthorized)
	assert.Equal(t, 2, auth.renewed)
}

func TestWindowLimiterNeverExceedsItsWindow(t *testing.T) {
	// reserve is tested with a made-up clock: measuring wake-ups would test the scheduler instead.
	const n, window = 5, time.Second
	l := NewWindowLimiter(n, window)
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	var starts []time.Time
	for i := range 40 {
		now := t0.Add(time.Duration(i) * 30 * time.Millisecond) // callers arrive faster than the limit
		s := l.reserve(now)
		require.False(t, s.Before(now), "no start before its request")
		starts = append(starts, s)
	}
	for i := 1; i < len(starts); i++ {
		require.False(t, starts[i].Before(starts[i-1]), "starts never go back")
	}
	for i := n; i < len(starts); i++ {
		assert.GreaterOrEqual(t, starts[i].Sub(starts[i-n]), window, "start %d", i)
	}
	assert.Equal(t, t0.Add(7*window+120*time.Millisecond), starts[39], "and no slower than the limit: 5 a second")
	// After a quiet spell a caller starts at once.
	assert.Equal(t, t0.Add(time.Hour), l.reserve(t0.Add(time.Hour)))

	assert.Nil(t, NewWindowLimiter(0, time.Second))
	assert.NoError(t, (*WindowLimiter)(nil).Wait(context.Background()))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	busy := NewWindowLimiter(1, time.Hour)
	require.NoError(t, busy.Wait(context.Background()))
	assert.ErrorIs(t, busy.Wait(ctx), context.Canceled)
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"junk", 0}, {"-3", 0}, {"NaN", 0}, {"0", 0},
		{"2", 2 * time.Second}, {"1.5", 1500 * time.Millisecond}, {"99999", time.Hour}, {"Inf", time.Hour},
		{"Thu, 03 Dec 2026 12:00:30 GMT", 30 * time.Second}, {"Thu, 03 Dec 2026 11:00:00 GMT", 0},
	} {
		assert.Equal(t, c.want, ParseRetryAfter(c.in, now), c.in)
	}
}

func TestDecodeErrorFields(t *testing.T) {
	for _, c := range []struct{ body, code, msg string }{
		{`{"errorCode":"INVALID_ACCESS","errorMessage":"no"}`, "INVALID_ACCESS", "no"},
		{`{"error_status":400,"error_message":"bad"}`, "", "bad"},
		{`{"error_status":"REQUEST_LIMIT","error_message":"slow down"}`, "REQUEST_LIMIT", "slow down"},
		{`{"error":"invalid_client","error_description":"who"}`, "invalid_client", "who"},
		{"<html>\nerror", "", "<html>"},
	} {
		code, msg := DecodeErrorFields(400, []byte(c.body))
		assert.Equal(t, c.code, code, c.body)
		assert.Equal(t, c.msg, msg, c.body)
	}
	assert.True(t, errors.Is(&APIError{StatusCode: 429}, ErrThrottled))
}

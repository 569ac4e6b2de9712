package soap

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		value string
		want  time.Duration
		ok    bool
	}{
		{"", 0, false},
		{"3", 3 * time.Second, true},
		{" 0 ", 0, true},
		{"Thu, 03 Dec 2026 12:00:10 GMT", 10 * time.Second, true},
		{"Thu, 03 Dec 2026 11:00:00 GMT", 0, true}, // in the past: now
		{"-1", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			h := http.Header{}
			if tt.value != "" {
				h.Set("Retry-After", tt.value)
			}
			d, ok := retryAfter(h, now)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, d)
		})
	}
}

func TestStatusCodesFromFaultDetail(t *testing.T) {
	tests := []struct {
		name, detail, subject, reason string
	}{
		{"none", "", "", ""},
		{"StatusCodeData", `<StatusCodeData><Subject>8.1.1</Subject><Reason>3.8</Reason></StatusCodeData>`, "8.1.1", "3.8"},
		{"prefixed", `<rps:StatusCodeData xmlns:rps="urn:x"><rps:Subject> 1.1 </rps:Subject><rps:Reason>5.1</rps:Reason></rps:StatusCodeData>`, "1.1", "5.1"},
		{"cut short: what was read", `<Subject>1.2`, "1.2", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, r := statusCodes([]byte(tt.detail))
			assert.Equal(t, tt.subject, s)
			assert.Equal(t, tt.reason, r)
		})
	}
}

func TestCallErrorSaysItsOutcome(t *testing.T) {
	base := CallError{Endpoint: "https://smsr/ES4", Action: "a", Interface: "ES4", Function: "EnableProfile", FunctionCallIdentifier: "fc-1", Err: errors.New("boom")}
	tests := []struct {
		outcome  Outcome
		attempts int
		status   int
		want     string
		sentinel error
	}{
		{NotSent, 4, 0, "soap: ES4 EnableProfile to https://smsr/ES4 (FunctionCallIdentifier fc-1) not sent after 4 attempts: boom", ErrNotSent},
		{Refused, 1, 400, "soap: ES4 EnableProfile to https://smsr/ES4 (FunctionCallIdentifier fc-1) refused by the peer (HTTP 400), not executed after 1 attempt: boom", ErrRefused},
		{OutcomeUnknown, 1, 0, "soap: ES4 EnableProfile to https://smsr/ES4 (FunctionCallIdentifier fc-1) outcome unknown: the peer may have executed it after 1 attempt: boom; call again only with the same FunctionCallIdentifier fc-1, or audit first", ErrOutcomeUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.outcome.String(), func(t *testing.T) {
			e := base
			e.Outcome, e.Attempts, e.StatusCode = tt.outcome, tt.attempts, tt.status
			assert.Equal(t, tt.want, e.Error())
			for _, s := range []error{ErrNotSent, ErrRefused, ErrOutcomeUnknown} {
				assert.Equal(t, s == tt.sentinel, errors.Is(&e, s), "errors.Is %v", s)
			}
		})
	}
	var zero CallError
	assert.ErrorIs(t, &zero, ErrOutcomeUnknown, "the zero value is the safe one")
}

func TestCall503(t *testing.T) {
	faultEnv := AppendEnvelope(nil, &Header{}, ReceiverFault("overloaded"))
	busy := func(retryAfter string, fault bool) httpmock.Responder {
		return func(*http.Request) (*http.Response, error) {
			r := httpmock.NewStringResponse(503, "")
			if fault {
				r = httpmock.NewBytesResponse(503, faultEnv)
				r.Header.Set("Content-Type", "application/soap+xml")
			}
			if retryAfter != "" {
				r.Header.Set("Retry-After", retryAfter)
			}
			return r, nil
		}
	}
	t.Run("with a SOAP fault: retried", func(t *testing.T) {
		c, mt := mockedClient(t)
		n := 0
		mt.RegisterResponder(http.MethodPost, endpoint, func(r *http.Request) (*http.Response, error) {
			if n++; n == 1 {
				return busy("", true)(r)
			}
			return httpmock.NewBytesResponse(http.StatusAccepted, nil), nil
		})
		h, body := request()
		resp, err := c.Call(context.Background(), endpoint, h, body)
		require.NoError(t, err)
		assert.Equal(t, 2, resp.Attempts)
	})
	t.Run("Retry-After is honoured", func(t *testing.T) {
		c, mt := mockedClient(t)
		n := 0
		mt.RegisterResponder(http.MethodPost, endpoint, func(r *http.Request) (*http.Response, error) {
			if n++; n == 1 {
				return busy("1", false)(r)
			}
			return httpmock.NewBytesResponse(http.StatusAccepted, nil), nil
		})
		h, body := request()
		start := time.Now()
		_, err := c.Call(context.Background(), endpoint, h, body)
		require.NoError(t, err)
		assert.GreaterOrEqual(t, time.Since(start), time.Second, "waited as asked, not the 1 ms backoff")
	})
	t.Run("Retry-After past the deadline: refused at once, saying what it asked", func(t *testing.T) {
		c, mt := mockedClient(t)
		mt.RegisterResponder(http.MethodPost, endpoint, busy("120", true))
		h, body := request()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		start := time.Now()
		_, err := c.Call(ctx, endpoint, h, body)
		assert.Less(t, time.Since(start), 4*time.Second, "did not wait for a retry the deadline would cut off")
		var ce *CallError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, Refused, ce.Outcome)
		assert.Equal(t, 1, ce.Attempts)
		assert.Equal(t, 503, ce.StatusCode)
		assert.Equal(t, 2*time.Minute, ce.RetryAfter)
		require.NotNil(t, ce.Fault)
		assert.Contains(t, err.Error(), "it asked to retry after 2m0s")
	})
}

package soap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const endpoint = "https://smsr.example.net/esim-messaging/3/ES4/ES4SmSrService"

func fastRetry(n int) ClientOption {
	return WithRetryPolicy(RetryPolicy{MaxAttempts: n, InitialInterval: time.Millisecond, MaxInterval: 2 * time.Millisecond})
}

func mockedClient(t *testing.T, opts ...ClientOption) (*Client, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	return NewClient(append([]ClientOption{WithHTTPClient(&http.Client{Transport: mt}), fastRetry(4), WithLogger(newTextLogger(io.Discard))}, opts...)...), mt
}

func request() (*Header, *testBody) {
	return &Header{From: testFrom, To: testTo, MessageID: testMsgID, Action: testAction, ReplyTo: "https://mno/cb"},
		&testBody{Name: "ES4-EnableProfileRequest", Eid: "89049032123451234512345678901235", Iccd: "89310410106543789305"}
}

func TestCallAccepted(t *testing.T) {
	c, mt := mockedClient(t)
	var gotCT string
	var gotBody []byte
	mt.RegisterResponder(http.MethodPost, endpoint, func(r *http.Request) (*http.Response, error) {
		gotCT = r.Header.Get("Content-Type")
		gotBody, _ = io.ReadAll(r.Body)
		return httpmock.NewBytesResponse(http.StatusAccepted, nil), nil
	})
	h, body := request()
	resp, err := c.Call(context.Background(), endpoint, h, body)
	require.NoError(t, err)
	assert.Equal(t, http.StatusAccepted, resp.StatusCode)
	assert.Nil(t, resp.Message)
	assert.Equal(t, `application/soap+xml; charset=utf-8; action="http://gsma.com/ES4/PlatformManagement/ES4-EnableProfile"`, gotCT)
	assert.Equal(t, string(AppendEnvelope(nil, h, body)), string(gotBody))
}

func TestCallRetriesSameBytes(t *testing.T) {
	tests := []struct {
		name     string
		failures []func() (*http.Response, error)
	}{
		{"503 three times", []func() (*http.Response, error){
			func() (*http.Response, error) { return httpmock.NewStringResponse(503, "busy"), nil },
			func() (*http.Response, error) { return httpmock.NewStringResponse(503, "busy"), nil },
			func() (*http.Response, error) { return httpmock.NewStringResponse(503, "busy"), nil },
		}},
		{"connection refused (dial)", []func() (*http.Response, error){
			func() (*http.Response, error) {
				return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := mockedClient(t)
			var bodies []string
			mt.RegisterResponder(http.MethodPost, endpoint, func(r *http.Request) (*http.Response, error) {
				b, _ := io.ReadAll(r.Body)
				bodies = append(bodies, string(b))
				if n := len(bodies); n <= len(tt.failures) {
					return tt.failures[n-1]()
				}
				return httpmock.NewBytesResponse(http.StatusAccepted, nil), nil
			})
			h, body := request()
			resp, err := c.Call(context.Background(), endpoint, h, body)
			require.NoError(t, err)
			assert.Equal(t, len(tt.failures)+1, resp.Attempts)
			require.Len(t, bodies, len(tt.failures)+1)
			for _, b := range bodies[1:] {
				assert.Equal(t, bodies[0], b, "a retry resends the same MessageID and body")
			}
		})
	}
}

func TestCallErrors(t *testing.T) {
	faultEnv := AppendEnvelope(nil, &Header{}, SenderFault("Action not supported", "wsa:ActionNotSupported"))
	tests := []struct {
		name      string
		responder httpmock.Responder
		attempts  int
		check     func(t *testing.T, err error)
	}{
		{"soap fault on 500", func(*http.Request) (*http.Response, error) {
			r := httpmock.NewBytesResponse(500, faultEnv)
			r.Header.Set("Content-Type", "application/soap+xml; charset=utf-8")
			return r, nil
		}, 1, func(t *testing.T, err error) {
			var f *Fault
			require.ErrorAs(t, err, &f)
			assert.Equal(t, FaultSender, f.Code)
			assert.Equal(t, 500, f.HTTPStatus)
			assert.ErrorIs(t, err, ErrRefused)
			var ce *CallError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, 500, ce.StatusCode)
			assert.Same(t, f, ce.Fault)
		}},
		{"503 forever", httpmock.NewStringResponder(503, "busy"), 4, func(t *testing.T, err error) {
			var he *HTTPError
			require.ErrorAs(t, err, &he)
			assert.Equal(t, 503, he.StatusCode)
			assert.Equal(t, "busy", he.Body)
			assert.ErrorIs(t, err, ErrRefused)
		}},
		{"404 html", httpmock.NewStringResponder(404, "<html>not found</html>"), 1, func(t *testing.T, err error) {
			var he *HTTPError
			require.ErrorAs(t, err, &he)
			assert.Equal(t, 404, he.StatusCode)
		}},
		{"200 garbage", httpmock.NewStringResponder(200, "<not-soap/>"), 1, func(t *testing.T, err error) {
			assert.ErrorIs(t, err, ErrNotEnvelope)
			assert.ErrorIs(t, err, ErrOutcomeUnknown, "a 2xx was an acceptance, whatever came with it")
		}},
		{"502 is not resent", httpmock.NewStringResponder(502, "bad gateway"), 1, func(t *testing.T, err error) {
			assert.ErrorIs(t, err, ErrOutcomeUnknown, "a proxy's 502 says nothing of what the gateway did")
		}},
		{"504 is not resent", httpmock.NewStringResponder(504, ""), 1, func(t *testing.T, err error) {
			assert.ErrorIs(t, err, ErrOutcomeUnknown)
		}},
		{"reset from a round tripper that reports nothing: not resent", httpmock.NewErrorResponder(errors.New("read: connection reset by peer")), 1,
			func(t *testing.T, err error) {
				assert.ErrorIs(t, err, ErrOutcomeUnknown, "the request may have left")
			}},
		{"oversized", httpmock.NewStringResponder(200, strings.Repeat("x", 2048)), 1, func(t *testing.T, err error) {
			assert.ErrorIs(t, err, ErrTooLarge)
			assert.ErrorIs(t, err, ErrOutcomeUnknown)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := mockedClient(t, WithMaxResponseBytes(1024))
			mt.RegisterResponder(http.MethodPost, endpoint, tt.responder)
			h, body := request()
			_, err := c.Call(context.Background(), endpoint, h, body)
			require.Error(t, err)
			var ce *CallError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.attempts, ce.Attempts)
			assert.Equal(t, tt.attempts, mt.GetTotalCallCount())
			tt.check(t, err)
		})
	}
}

func TestCallSyncResponse(t *testing.T) {
	c, mt := mockedClient(t)
	reply := AppendEnvelope(nil, &Header{RelatesTo: testMsgID, Action: "http://gsma.com/ES4/ProfileManagement/ES4-GetEISResponse"},
		&testBody{Name: "ES4-GetEISResponse", Eid: "e"})
	mt.RegisterResponder(http.MethodPost, endpoint, func(*http.Request) (*http.Response, error) {
		r := httpmock.NewBytesResponse(200, reply)
		r.Header.Set("Content-Type", "application/soap+xml; charset=utf-8")
		return r, nil
	})
	h, body := request()
	resp, err := c.Call(context.Background(), endpoint, h, body)
	require.NoError(t, err)
	require.NotNil(t, resp.Message)
	assert.Equal(t, testMsgID, resp.Message.Header.RelatesTo)
	assert.Equal(t, "ES4-GetEISResponse", resp.Message.BodyName)
}

func TestCallContextCancelStopsRetries(t *testing.T) {
	c, mt := mockedClient(t, WithRetryPolicy(RetryPolicy{MaxAttempts: 100, InitialInterval: time.Hour}))
	mt.RegisterResponder(http.MethodPost, endpoint, httpmock.NewStringResponder(503, "busy"))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for mt.GetTotalCallCount() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	h, body := request()
	_, err := c.Call(ctx, endpoint, h, body)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestCallUsernameTokenNeverLogged(t *testing.T) {
	var logs bytes.Buffer
	c, mt := mockedClient(t, WithUsernameToken(UsernameToken{Username: "mno", Password: "s3cr3t-pw", Digest: true}),
		WithLogger(newTextLogger(&logs)))
	var sent []byte
	mt.RegisterResponder(http.MethodPost, endpoint, func(r *http.Request) (*http.Response, error) {
		sent, _ = io.ReadAll(r.Body)
		if mt.GetTotalCallCount() == 1 {
			return httpmock.NewStringResponse(503, "busy"), nil
		}
		return httpmock.NewBytesResponse(202, nil), nil
	})
	h, body := request()
	_, err := c.Call(context.Background(), endpoint, h, body)
	require.NoError(t, err)
	m, err := ReadMessage(sent, ReadOptions{})
	require.NoError(t, err)
	assert.NotEmpty(t, m.Header.Security, "the Security header travels")
	assert.NotContains(t, string(sent), "s3cr3t-pw", "digest mode never sends the password")
	assert.NotContains(t, logs.String(), "s3cr3t-pw")
}

func TestHandler(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	h := NewHandler(MessageHandlerFunc(func(ctx context.Context, m *Message) (*Reply, error) {
		mu.Lock()
		seen = append(seen, m.BodyName)
		mu.Unlock()
		switch m.BodyName {
		case "fail":
			return nil, errors.New("database down")
		case "reject":
			return nil, SenderFault("no such profile")
		case "sync":
			return &Reply{Header: Header{RelatesTo: m.Header.MessageID}, Body: &testBody{Name: "syncResponse"}}, nil
		}
		return nil, nil
	}), WithMaxMessageBytes(4096), WithHandlerLogger(newTextLogger(io.Discard)))
	srv := httptest.NewServer(h)
	defer srv.Close()

	post := func(body string, ct string) (*http.Response, []byte) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		req.Header.Set("Content-Type", ct)
		res, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, b
	}
	env := func(name string) string {
		return string(AppendEnvelope(nil, &Header{MessageID: "m-" + name}, &testBody{Name: name}))
	}
	const soapCT = "application/soap+xml; charset=utf-8"

	res, body := post(env("ok"), soapCT)
	assert.Equal(t, http.StatusAccepted, res.StatusCode)
	assert.Empty(t, body)

	res, body = post(env("fail"), soapCT)
	assert.Equal(t, http.StatusInternalServerError, res.StatusCode, "an application failure makes the gateway retry")
	m, err := ReadMessage(body, ReadOptions{})
	require.NoError(t, err)
	require.NotNil(t, m.Fault)
	assert.Equal(t, FaultReceiver, m.Fault.Code)

	res, _ = post(env("reject"), soapCT)
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)

	res, body = post(env("sync"), soapCT)
	assert.Equal(t, http.StatusOK, res.StatusCode)
	m, err = ReadMessage(body, ReadOptions{})
	require.NoError(t, err)
	assert.Equal(t, "m-sync", m.Header.RelatesTo)

	res, _ = post(`<x/>`, soapCT)
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	res, body = post(`<s:Envelope xmlns:s="http://example.org/soap-envelope"><s:Body><x/></s:Body></s:Envelope>`, soapCT)
	assert.Equal(t, http.StatusInternalServerError, res.StatusCode, "VersionMismatch is not a Sender fault")
	assert.Contains(t, string(body), `<env:Upgrade><env:SupportedEnvelope qname="s12:Envelope"`, "a VersionMismatch names the versions understood")
	res, _ = post(env("ok"), "application/json")
	assert.Equal(t, http.StatusUnsupportedMediaType, res.StatusCode)
	res, _ = post(env("ok"), soapCT+`; action="unterminated`)
	assert.Equal(t, http.StatusUnsupportedMediaType, res.StatusCode, "after an accepted type, another is parsed again")
	res, _ = post(env("ok"), "application/json")
	assert.Equal(t, http.StatusUnsupportedMediaType, res.StatusCode)
	res, _ = post(`<a>`+strings.Repeat("x", 5000)+`</a>`, soapCT)
	assert.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode)

	getRes, err := srv.Client().Get(srv.URL)
	require.NoError(t, err)
	getRes.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, getRes.StatusCode)

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"ok", "fail", "reject", "sync"}, seen, "refused messages never reach the application")
}

func newTextLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func TestClientFormattingNeverRevealsPassword(t *testing.T) {
	c := NewClient(WithUsernameToken(UsernameToken{Username: "mno", Password: "s3cr3t-pw"}))
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		assert.NotContains(t, fmt.Sprintf(verb, c), "s3cr3t-pw", verb)
	}
}

// A nil Response to fill is refused before anything is sent: the gateway never sees the request.
func TestCallIntoResponseNilResponseIsNotSent(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
	defer srv.Close()
	c := NewClient(WithHTTPClient(srv.Client()), WithLogger(newTextLogger(io.Discard)))
	h := &Header{Action: "urn:a", MessageID: "urn:uuid:1"}
	err := c.CallIntoResponse(context.Background(), srv.URL, h, nil, nil, nil)
	var ce *CallError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, NotSent, ce.Outcome)
	assert.ErrorIs(t, err, ErrNotSent)
	assert.Equal(t, int32(0), hits.Load())
}

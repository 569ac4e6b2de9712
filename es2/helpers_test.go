package es2_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/es2"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

const (
	testEndpoint = "https://smdp.example.net/esim-messaging/3/ES2/ES2SmDpService"
	testReplyTo  = "https://mno.example.org/rsp/callbacks"
	testMNO      = "1.3.6.1.4.1.99999.10"
	testSMSR     = "1.3.6.1.4.1.99999.20"
	testSMDP     = "1.3.6.1.4.1.99999.30"
	testEID      = "89049032000001000000000000000171"
	testICCID    = "89310410106543789305" // Luhn-valid
	otherICCID   = "89310410000000001009"
)

var testTime = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

// profileFunc is the signature of the asynchronous functions on one profile.
type profileFunc = func(context.Context, string, string, ...esimgw.CallOption) (*esimgw.Operation[*esimgw.Result], error)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// fastRetry retries 503s without waiting long.
func fastRetry() soap.RetryPolicy {
	return soap.RetryPolicy{MaxAttempts: 3, InitialInterval: time.Millisecond, MaxInterval: time.Millisecond, MaxElapsed: time.Second}
}

// recorder keeps the requests an httpmock responder saw.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	ContentType string
	Body        []byte
	Message     *soap.Message
}

func (r *recorder) add(t *testing.T, req *http.Request) recorded {
	t.Helper()
	body, err := io.ReadAll(req.Body)
	require.NoError(t, err)
	m, err := soap.ReadMessage(body, soap.ReadOptions{})
	require.NoError(t, err)
	rec := recorded{ContentType: req.Header.Get("Content-Type"), Body: body, Message: m}
	r.mu.Lock()
	r.reqs = append(r.reqs, rec)
	r.mu.Unlock()
	return rec
}

func (r *recorder) all() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.reqs...)
}

func (r *recorder) last(t *testing.T) recorded {
	t.Helper()
	all := r.all()
	require.NotEmpty(t, all, "no request was sent")
	return all[len(all)-1]
}

// mocked is an es2.Client posting to an httpmock transport, with a Dispatcher for its callbacks.
type mocked struct {
	c   *es2.Client
	mt  *httpmock.MockTransport
	d   *esimgw.Dispatcher
	rec *recorder
}

func newMocked(t *testing.T, opts ...esimgw.Option) *mocked {
	t.Helper()
	m := &mocked{mt: httpmock.NewMockTransport(), rec: &recorder{}}
	m.d = esimgw.NewDispatcher(esimgw.WithDispatcherLogger(quiet()))
	base := []esimgw.Option{
		esimgw.WithEntity(testMNO, "ExampleMNO"),
		esimgw.WithReplyTo(testReplyTo),
		esimgw.WithPeerEntityID(testSMDP),
		esimgw.WithDispatcher(m.d),
		esimgw.WithHTTPClient(&http.Client{Transport: m.mt}),
		esimgw.WithSOAPOptions(soap.WithRetryPolicy(fastRetry())),
		esimgw.WithClock(func() time.Time { return testTime }),
		esimgw.WithLogger(quiet()),
	}
	c, err := es2.NewClient(testEndpoint, testSMSR, append(base, opts...)...)
	require.NoError(t, err)
	m.c = c
	return m
}

// answer registers a responder that records each request and answers with the responses in turn (the
// last one repeats). A nil rps.Response answers 202 with no body.
func (m *mocked) answer(t *testing.T, answers ...any) {
	t.Helper()
	var mu sync.Mutex
	n := 0
	m.mt.RegisterResponder(http.MethodPost, testEndpoint, func(req *http.Request) (*http.Response, error) {
		rec := m.rec.add(t, req)
		mu.Lock()
		a := answers[min(n, len(answers)-1)]
		n++
		mu.Unlock()
		switch a := a.(type) {
		case nil:
			return httpmock.NewBytesResponse(http.StatusAccepted, nil), nil
		case int:
			return httpmock.NewStringResponse(a, http.StatusText(a)), nil
		case *soap.Fault:
			r := httpmock.NewBytesResponse(a.StatusCode(), soap.AppendEnvelope(nil, &soap.Header{}, a))
			r.Header.Set("Content-Type", "application/soap+xml; charset=utf-8")
			return r, nil
		case rps.Response:
			h := &soap.Header{From: testEndpoint + "?EntityId=" + testSMDP, To: testReplyTo, MessageID: "//" + testSMDP + "/urn:uuid:reply",
				Action: actionOf(a), RelatesTo: rec.Message.Header.MessageID}
			r := httpmock.NewBytesResponse(http.StatusOK, soap.AppendEnvelope(nil, h, a))
			r.Header.Set("Content-Type", "application/soap+xml; charset=utf-8")
			return r, nil
		}
		t.Errorf("bad answer %T", a)
		return httpmock.NewStringResponse(500, "test"), nil
	})
}

func actionOf(resp rps.Response) string {
	f, _, ok := rps.FunctionByElement(resp.ElementName())
	if !ok {
		return ""
	}
	return f.ResponseAction
}

// status builds a FunctionExecutionStatus.
func status(st esimgw.Status, codes ...string) rps.BaseResponseType {
	b := rps.BaseResponseType{FunctionExecutionStatus: rps.ExecutionStatusType{Status: rps.StatusType(st)}}
	if len(codes) >= 2 {
		d := &rps.StatusCodeDataType{Subject: codes[0], Reason: codes[1]}
		if len(codes) > 2 {
			d.Message = codes[2]
		}
		b.FunctionExecutionStatus.StatusCodeData = d
	}
	return b
}

// deliver hands a callback for the request rec to the dispatcher, as a CallbackServer would.
func deliver(t *testing.T, d *esimgw.Dispatcher, rec recorded, resp rps.Response) {
	t.Helper()
	h := &soap.Header{From: testEndpoint + "?EntityId=" + testSMDP, To: testReplyTo, MessageID: "//" + testSMDP + "/urn:uuid:cb",
		Action: actionOf(resp), RelatesTo: rec.Message.Header.MessageID}
	m, err := soap.ReadMessage(soap.AppendEnvelope(nil, h, resp), soap.ReadOptions{})
	require.NoError(t, err)
	_, err = d.ServeSOAP(context.Background(), m)
	require.NoError(t, err)
}

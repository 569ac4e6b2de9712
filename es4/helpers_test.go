package es4_test

import (
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/es4"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const (
	endpoint    = "https://smsr.example.net/esim-messaging/3/ES4/ES4SmSrService"
	operatorOID = "1.3.6.1.4.1.99999.10"
	smsrOID     = "1.3.6.1.4.1.99999.20"
	replyTo     = "https://mno.example.org/rsp/es4-callbacks"
	testEID     = "89049032123451234512345678901235"
	testICCID   = "89310410106543789305"
	otherICCID  = "89310410106543789313"
)

var fixedNow = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// recorder is an httpmock transport that keeps every request body it was sent.
type recorder struct {
	*httpmock.MockTransport
	mu     sync.Mutex
	bodies [][]byte
	ctypes []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.bodies = append(r.bodies, b)
	r.ctypes = append(r.ctypes, req.Header.Get("Content-Type"))
	r.mu.Unlock()
	req.Body = io.NopCloser(bytes.NewReader(b))
	return r.MockTransport.RoundTrip(req)
}

func (r *recorder) sent() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.bodies...)
}

// mocked returns an es4 client over an httpmock transport, with a deterministic clock and quick retries,
// and the Dispatcher its operations are tracked by.
func mocked(t testing.TB, opts ...esimgw.Option) (*es4.Client, *recorder, *esimgw.Dispatcher) {
	t.Helper()
	rec := &recorder{MockTransport: httpmock.NewMockTransport()}
	d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(discard()))
	base := []esimgw.Option{
		esimgw.WithEntity(operatorOID, "ExampleMNO"),
		esimgw.WithPeerEntityID(smsrOID),
		esimgw.WithReplyTo(replyTo),
		esimgw.WithDispatcher(d),
		esimgw.WithHTTPClient(&http.Client{Transport: rec}),
		esimgw.WithClock(func() time.Time { return fixedNow }),
		esimgw.WithLogger(discard()),
		esimgw.WithSOAPOptions(soap.WithRetryPolicy(soap.RetryPolicy{MaxAttempts: 3, InitialInterval: time.Millisecond, MaxInterval: 2 * time.Millisecond})),
	}
	c, err := es4.NewClient(endpoint, append(base, opts...)...)
	require.NoError(t, err)
	return c, rec, d
}

// envelope is a response envelope carrying el, as an SM-SR would send it.
func envelope(el soap.BodyWriter, relatesTo string) []byte {
	h := &soap.Header{
		From:      "https://smsr.example.net?EntityId=" + smsrOID,
		To:        replyTo,
		MessageID: "//" + smsrOID + "/urn:uuid:c0ffee00-0000-4000-8000-000000000001?TransactionId=tx-1&MessageDate=2024-05-01T10:00:41Z",
		RelatesTo: relatesTo,
	}
	return soap.AppendEnvelope(nil, h, el)
}

func soapResponse(status int, body []byte) *http.Response {
	r := httpmock.NewBytesResponse(status, body)
	r.Header.Set("Content-Type", "application/soap+xml; charset=utf-8")
	return r
}

// answer responds to every POST with el in a 200 envelope.
func answer(el rps.Element) httpmock.Responder {
	return func(*http.Request) (*http.Response, error) { return soapResponse(http.StatusOK, envelope(el, "")), nil }
}

func accepted() httpmock.Responder { return httpmock.NewBytesResponder(http.StatusAccepted, nil) }

// status builds a FunctionExecutionStatus; subject and reason may be empty.
func status(st esimgw.Status, subject, reason string) rps.BaseResponseType {
	es := rps.ExecutionStatusType{Status: rps.StatusType(st)}
	if subject != "" || reason != "" {
		es.StatusCodeData = &rps.StatusCodeDataType{Subject: subject, Reason: reason, SubjectIdentifier: testICCID, Message: "from the test"}
	}
	start := rps.NewDateTime(fixedNow.Add(time.Second))
	end := rps.NewDateTime(fixedNow.Add(40 * time.Second))
	return rps.BaseResponseType{ProcessingStart: &start, ProcessingEnd: &end, FunctionExecutionStatus: es}
}

var success = status(esimgw.StatusExecutedSuccess, "", "")

// deliverCallback delivers el through the dispatcher as the callback answering the request relatesTo (omitted
// when relatesTo is empty, the callback's own MessageID then carrying txID).
func deliverCallback(t testing.TB, d *esimgw.Dispatcher, el rps.Element, relatesTo, txID string) error {
	t.Helper()
	h := &soap.Header{
		From:      "https://smsr.example.net?EntityId=" + smsrOID,
		To:        replyTo,
		MessageID: "//" + smsrOID + "/urn:uuid:c0ffee00-0000-4000-8000-000000000002?TransactionId=" + txID + "&MessageDate=2024-05-01T10:00:41Z",
		RelatesTo: relatesTo,
	}
	m, err := soap.ReadMessage(soap.AppendEnvelope(nil, h, el), soap.ReadOptions{})
	require.NoError(t, err)
	_, err = d.ServeSOAP(context.Background(), m)
	return err
}

var uuidRE = regexp.MustCompile(`urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// normalise replaces the random MessageID part (the FunctionCallIdentifier, and so the TransactionId, are
// fixed by the tests) and breaks the one-line envelope at every tag, so golden diffs read line by line.
func normalise(b []byte) []byte {
	b = uuidRE.ReplaceAll(b, []byte("urn:uuid:RANDOM"))
	return append(bytes.ReplaceAll(b, []byte("><"), []byte(">\n<")), '\n')
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".xml")
	got = normalise(got)
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./es4 -run %s -update to create it", t.Name())
	require.Equal(t, string(want), string(got))
}

package esimgw_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// rawBody is a body element written by hand, for the spellings and namespaces real peers use.
type rawBody struct{ name, xml string }

func (b rawBody) AppendXML(dst []byte) []byte { return append(dst, b.xml...) }
func (b rawBody) ElementName() string         { return b.name }

// envelope builds the bytes of an inbound message as a gateway would post it. Empty From, To and
// MessageID get realistic values.
func envelope(h *soap.Header, body soap.BodyWriter) []byte {
	hh := *h
	if hh.From == "" {
		hh.From = "https://smsr.example.net/esim-messaging/3/ES4/ES4SmSrService?EntityId=" + peerOID + "&EntityName=SM-SR"
	}
	if hh.To == "" {
		hh.To = replyURL + "?EntityId=" + ourOID
	}
	if hh.MessageID == "" {
		hh.MessageID = soap.NewMessageID(peerOID, testNow).String()
	}
	return soap.AppendEnvelope(nil, &hh, body)
}

// readMessage is what soap.Handler hands the dispatcher for that envelope.
func readMessage(t testing.TB, h *soap.Header, body soap.BodyWriter) *soap.Message {
	t.Helper()
	m, err := soap.ReadMessage(envelope(h, body), soap.ReadOptions{})
	require.NoError(t, err)
	return m
}

// pendingKey registers an ES4 EnableProfile operation as the engine would and returns its key.
func pendingKey(t testing.TB, tr *correlate.Tracker) (correlate.OperationKey, *esimgw.Operation[rps.Response]) {
	t.Helper()
	return pendingOf(t, tr, "EnableProfile")
}

// pendingOf registers an ES4 operation of function (a callback of another function does not resolve it).
func pendingOf(t testing.TB, tr *correlate.Tracker, function string) (correlate.OperationKey, *esimgw.Operation[rps.Response]) {
	t.Helper()
	mid := soap.NewMessageID(ourOID, testNow)
	key := correlate.OperationKey{MessageID: mid.String(), TransactionID: mid.TransactionID, FunctionCallIdentifier: mid.TransactionID,
		Interface: "ES4", Function: function}
	p, err := tr.Register(key)
	require.NoError(t, err)
	return key, esimgw.NewOperation[rps.Response](tr, p, nil)
}

// inboundRecorder is an unmatched (and duplicate) handler that records what it got.
type inboundRecorder struct {
	mu   sync.Mutex
	got  []*esimgw.Inbound
	dups []*esimgw.Inbound
	fail int // fail this many calls before accepting
}

func (r *inboundRecorder) unmatched(_ context.Context, in *esimgw.Inbound) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail > 0 {
		r.fail--
		return errors.New("store unavailable")
	}
	r.got = append(r.got, in)
	return nil
}

func (r *inboundRecorder) duplicate(_ context.Context, in *esimgw.Inbound) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dups = append(r.dups, in)
}

func (r *inboundRecorder) all() []*esimgw.Inbound {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*esimgw.Inbound(nil), r.got...)
}

func (r *inboundRecorder) duplicates() []*esimgw.Inbound {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*esimgw.Inbound(nil), r.dups...)
}

func newRecordingDispatcher(opts ...esimgw.DispatcherOption) (*esimgw.Dispatcher, *inboundRecorder) {
	rec := &inboundRecorder{}
	d := esimgw.NewDispatcher(append([]esimgw.DispatcherOption{
		esimgw.WithDispatcherLogger(quietLogger()),
		esimgw.WithUnmatchedHandler(rec.unmatched),
		esimgw.WithDuplicateHandler(rec.duplicate),
	}, opts...)...)
	return d, rec
}

// serveHTTP puts h behind soap.Handler on an httptest server.
func serveHTTP(t *testing.T, h soap.MessageHandler) string {
	t.Helper()
	srv := httptest.NewServer(soap.NewHandler(h, soap.WithHandlerLogger(quietLogger())))
	t.Cleanup(srv.Close)
	return srv.URL
}

func postEnvelope(t *testing.T, url string, data []byte) (int, []byte) {
	t.Helper()
	res, err := http.Post(url, "application/soap+xml; charset=utf-8", bytes.NewReader(data))
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, body
}

// faultOf decodes the SOAP fault of an error answer.
func faultOf(t *testing.T, body []byte) *soap.Fault {
	t.Helper()
	m, err := soap.ReadMessage(body, soap.ReadOptions{})
	require.NoError(t, err, "%s", body)
	require.NotNil(t, m.Fault, "%s", body)
	return m.Fault
}

func enableCallback(status rps.StatusType, codes ...string) *rps.ES4EnableProfileResponse {
	return &rps.ES4EnableProfileResponse{BaseResponseType: statusBase(status, codes...)}
}

const njiwaEnableCallback = `<rps:ES4-EnableProfileResponse xmlns:rps="http://namespaces.gsma.org/esim-messaging/1">` +
	`<rps:FunctionExecutionStatus><rps:Status>EXECUTED_SUCCESS</rps:Status></rps:FunctionExecutionStatus></rps:ES4-EnableProfileResponse>`

func TestDispatcherCallbackCorrelation(t *testing.T) {
	tests := []struct {
		name   string
		header func(key correlate.OperationKey) *soap.Header
		body   soap.BodyWriter
	}{
		{
			name:   "by RelatesTo",
			header: func(k correlate.OperationKey) *soap.Header { return &soap.Header{RelatesTo: k.MessageID} },
			body:   enableCallback(rps.StatusTypeEXECUTED_SUCCESS),
		},
		{
			name: "by TransactionId without RelatesTo (gSOAP)",
			header: func(k correlate.OperationKey) *soap.Header {
				return &soap.Header{MessageID: soap.NewMessageIDInTransaction(peerOID, k.TransactionID, testNow).String()}
			},
			body: enableCallback(rps.StatusTypeEXECUTED_SUCCESS),
		},
		{
			name: "by TransactionId when RelatesTo names nothing we know",
			header: func(k correlate.OperationKey) *soap.Header {
				return &soap.Header{RelatesTo: "uuid:unknown", MessageID: soap.NewMessageIDInTransaction(peerOID, k.TransactionID, testNow).String()}
			},
			body: enableCallback(rps.StatusTypeEXECUTED_SUCCESS),
		},
		{
			name: "esim-messaging/1 body (Njiwa) with a misspelled callback Action",
			header: func(k correlate.OperationKey) *soap.Header {
				return &soap.Header{RelatesTo: k.MessageID, Action: "http://gsma.com/ES4/ProfileManagentCallBack/ES4-EnableProfile"}
			},
			body: rawBody{"ES4-EnableProfileResponse", njiwaEnableCallback},
		},
		{
			name: "the Action of another function is ignored: dispatch is on the body",
			header: func(k correlate.OperationKey) *soap.Header {
				return &soap.Header{RelatesTo: k.MessageID, Action: "http://gsma.com/ES2/ProfileManagentCallBack/ES2-DownloadProfile"}
			},
			body: enableCallback(rps.StatusTypeEXECUTED_SUCCESS),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, rec := newRecordingDispatcher()
			key, op := pendingKey(t, d.Tracker())
			reply, err := d.ServeSOAP(context.Background(), readMessage(t, tt.header(key), tt.body))
			require.NoError(t, err)
			assert.Nil(t, reply, "a callback is acknowledged with 202, not a reply")
			assertClosed(t, op.Done())
			v, err := op.Wait(context.Background())
			require.NoError(t, err)
			require.IsType(t, &rps.ES4EnableProfileResponse{}, v)
			assert.Equal(t, rps.StatusTypeEXECUTED_SUCCESS, v.ResponseBase().FunctionExecutionStatus.Status)
			assert.Zero(t, d.Tracker().Pending())
			assert.Empty(t, rec.all())
			assert.Empty(t, rec.duplicates())
		})
	}

	t.Run("Njiwa headers: 2007/05 namespace, lower-case relatesTo, SOAP 1.2 envelope", func(t *testing.T) {
		d, rec := newRecordingDispatcher()
		key, op := pendingKey(t, d.Tracker())
		raw := `<?xml version="1.0" encoding="UTF-8"?>` +
			`<S:Envelope xmlns:S="http://www.w3.org/2003/05/soap-envelope" xmlns:wsam="http://www.w3.org/2007/05/addressing/metadata">` +
			`<S:Header><wsam:Action>http://gsma.com/ES4/ProfileManagentCallBack/ES4-EnableProfile</wsam:Action>` +
			`<wsam:MessageID>uuid:5c8f0c36-9c1f-4b5e-8f0a-000000000001</wsam:MessageID>` +
			`<wsam:relatesTo>` + xmlEscape(key.MessageID) + `</wsam:relatesTo></S:Header>` +
			`<S:Body>` + njiwaEnableCallback + `</S:Body></S:Envelope>`
		m, err := soap.ReadMessage([]byte(raw), soap.ReadOptions{})
		require.NoError(t, err)
		_, err = d.ServeSOAP(context.Background(), m)
		require.NoError(t, err)
		assertClosed(t, op.Done())
		assert.Empty(t, rec.all())
	})
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func TestDispatcherDuplicateCallback(t *testing.T) {
	d, rec := newRecordingDispatcher()
	url := serveHTTP(t, d)
	key, op := pendingKey(t, d.Tracker())
	data := envelope(&soap.Header{RelatesTo: key.MessageID}, enableCallback(rps.StatusTypeFAILED, "8.2.1", "3.9"))

	for i := range 3 {
		status, body := postEnvelope(t, url, data)
		assert.Equal(t, http.StatusAccepted, status, "copy %d", i)
		assert.Empty(t, body)
	}
	_, err := op.Wait(context.Background())
	require.ErrorIs(t, err, esimgw.ErrFailed)
	assert.Empty(t, rec.all(), "a duplicate is not unmatched")
	dups := rec.duplicates()
	require.Len(t, dups, 2, "every further copy is reported as a duplicate")
	for _, in := range dups {
		assert.Equal(t, esimgw.InboundCallback, in.Kind)
		require.NotNil(t, in.Operation)
		assert.Equal(t, key, *in.Operation)
		assert.Equal(t, key.FunctionCallIdentifier, in.FunctionCallIdentifier())
		assert.ErrorIs(t, in.Err, esimgw.ErrFailed)
	}

	t.Run("duplicates are acknowledged without a duplicate handler", func(t *testing.T) {
		logs, logger := newLogBuffer()
		d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(logger))
		key, _ := pendingKey(t, d.Tracker())
		m := readMessage(t, &soap.Header{RelatesTo: key.MessageID}, enableCallback(rps.StatusTypeEXECUTED_SUCCESS))
		for range 2 {
			_, err := d.ServeSOAP(context.Background(), m)
			require.NoError(t, err)
		}
		assert.Equal(t, 1, logs.count("duplicate callback"))
	})
}

func TestDispatcherUnmatchedCallback(t *testing.T) {
	tests := []struct {
		name      string
		header    *soap.Header
		body      soap.BodyWriter
		wantIface string
		wantFunc  string
		wantTx    string
		check     func(t *testing.T, in *esimgw.Inbound)
	}{
		{
			name: "ES4 EnableProfile FAILED with both identifiers",
			header: &soap.Header{RelatesTo: "//" + ourOID + "/urn:uuid:1?TransactionId=fc-restart-1&MessageDate=2024-05-01T10:00:00Z",
				MessageID: "//" + peerOID + "/urn:uuid:2?TransactionId=fc-restart-1&MessageDate=2024-05-01T10:00:41Z"},
			body:      enableCallback(rps.StatusTypeFAILED, "8.2.1", "3.9", testICCID, "Profile ICCID unknown"),
			wantIface: "ES4", wantFunc: "EnableProfile", wantTx: "fc-restart-1",
			check: func(t *testing.T, in *esimgw.Inbound) {
				require.ErrorIs(t, in.Err, esimgw.ErrFailed)
				var fe *esimgw.FunctionError
				require.ErrorAs(t, in.Err, &fe)
				assert.Equal(t, testICCID, fe.SubjectIdentifier)
				assert.Nil(t, in.Warning)
			},
		},
		{
			name:      "ES2 DownloadProfile success without RelatesTo",
			header:    &soap.Header{MessageID: "//" + peerOID + "/urn:uuid:3?TransactionId=urn:uuid:abc&MessageDate=2024-05-01T10:00:41Z"},
			body:      &rps.ES2DownloadProfileResponse{BaseResponseType: statusBase(rps.StatusTypeEXECUTED_SUCCESS), Iccid: testICCID},
			wantIface: "ES2", wantFunc: "DownloadProfile", wantTx: "urn:uuid:abc",
			check: func(t *testing.T, in *esimgw.Inbound) {
				assert.NoError(t, in.Err)
				assert.Equal(t, testICCID, in.Element.(*rps.ES2DownloadProfileResponse).Iccid)
			},
		},
		{
			name:      "warning, JAX-WS MessageID without TransactionId",
			header:    &soap.Header{RelatesTo: "uuid:0001", MessageID: "uuid:0002"},
			body:      enableCallback(rps.StatusTypeEXECUTED_WITHWARNING, "8.1", "1.1"),
			wantIface: "ES4", wantFunc: "EnableProfile", wantTx: "",
			check: func(t *testing.T, in *esimgw.Inbound) {
				assert.NoError(t, in.Err)
				require.NotNil(t, in.Warning)
				assert.Equal(t, "8.1", in.Warning.Subject)
			},
		},
		{
			name:      "KPN ? separators in the MessageID",
			header:    &soap.Header{MessageID: "//" + peerOID + "/urn:uuid:4?MessageDate=2024-05-01T10:00:41Z?TransactionId=fc-kpn"},
			body:      &rps.ES4AuditEISResponse{BaseResponseType: statusBase(rps.StatusTypeEXECUTED_SUCCESS)},
			wantIface: "ES4", wantFunc: "AuditEIS", wantTx: "fc-kpn",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, rec := newRecordingDispatcher()
			// Something else is pending: an unrelated operation must not be resolved.
			_, op := pendingKey(t, d.Tracker())
			m := readMessage(t, tt.header, tt.body)
			_, err := d.ServeSOAP(context.Background(), m)
			require.NoError(t, err)
			got := rec.all()
			require.Len(t, got, 1)
			in := got[0]
			assert.Equal(t, esimgw.InboundCallback, in.Kind)
			assert.Equal(t, "callback", in.Kind.String())
			assert.Equal(t, tt.wantIface, in.Interface)
			assert.Equal(t, tt.wantFunc, in.Function)
			assert.Equal(t, tt.header.RelatesTo, in.RelatesTo)
			assert.Equal(t, tt.wantTx, in.TransactionID)
			assert.Equal(t, tt.wantTx, in.FunctionCallIdentifier())
			assert.Nil(t, in.Operation)
			assert.Same(t, m, in.Message)
			require.NotNil(t, in.Element)
			assert.Equal(t, tt.body.ElementName(), in.Element.ElementName())
			if tt.check != nil {
				tt.check(t, in)
			}
			assert.Equal(t, 1, d.Tracker().Pending())
			select {
			case <-op.Done():
				t.Fatal("an unrelated operation was resolved")
			default:
			}
		})
	}

	t.Run("without an unmatched handler it is logged with its identifiers and acknowledged", func(t *testing.T) {
		logs, logger := newLogBuffer()
		d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(logger))
		_, err := d.ServeSOAP(context.Background(), readMessage(t, &soap.Header{RelatesTo: "uuid:gone",
			MessageID: "//" + peerOID + "/urn:uuid:5?TransactionId=fc-lost&MessageDate=2024-05-01T10:00:41Z"},
			enableCallback(rps.StatusTypeEXECUTED_SUCCESS)))
		require.NoError(t, err)
		out := logs.String()
		assert.Equal(t, 1, logs.count("level=WARN"), out)
		assert.Contains(t, out, "fc-lost")
		assert.Contains(t, out, "uuid:gone")
		assert.Contains(t, out, "ES4 EnableProfile")
	})
}

func TestDispatcherUnmatchedHandlerErrorIsRetried(t *testing.T) {
	d, rec := newRecordingDispatcher()
	rec.fail = 1
	url := serveHTTP(t, d)
	data := envelope(&soap.Header{RelatesTo: "uuid:before-restart"}, enableCallback(rps.StatusTypeEXECUTED_SUCCESS))

	status, body := postEnvelope(t, url, data)
	assert.Equal(t, http.StatusInternalServerError, status, "a handler error must make the gateway retry")
	f := faultOf(t, body)
	assert.Equal(t, soap.FaultReceiver, f.Code)
	assert.Contains(t, f.Reason, "unmatched handler")
	assert.Empty(t, rec.all())

	status, body = postEnvelope(t, url, data)
	assert.Equal(t, http.StatusAccepted, status)
	assert.Empty(t, body)
	require.Len(t, rec.all(), 1, "the retry is delivered once")
	assert.Equal(t, "uuid:before-restart", rec.all()[0].RelatesTo)
}

// notificationXML writes a profile notification with the given element spellings.
func notificationXML(name, eidTag, eid, iccid, tsTag, ts string) string {
	return `<rps:` + name + `><rps:` + eidTag + `>` + eid + `</rps:` + eidTag + `><rps:Iccid>` + iccid + `</rps:Iccid>` +
		`<rps:` + tsTag + `>` + ts + `</rps:` + tsTag + `></rps:` + name + `>`
}

func smsrChangeXML(name, tsTag, ts string) string {
	return `<rps:` + name + `><rps:Eis><rps:RemainingMemory>2048</rps:RemainingMemory><rps:Smsr-id>` + peerOID + `</rps:Smsr-id></rps:Eis>` +
		`<rps:` + tsTag + `>` + ts + `</rps:` + tsTag + `></rps:` + name + `>`
}

func TestDispatcherNotifications(t *testing.T) {
	at := time.Date(2024, 5, 1, 10, 0, 41, 0, time.UTC)
	const lowerEID = "89049032abcdef12345123456789abcd"
	type tc struct {
		name      string
		body      rawBody
		wantIface string
		wantKind  esimgw.NotificationKind
		wantEid   string
		wantIccid string
		wantAt    time.Time
	}
	var tests []tc
	for _, iface := range []string{"ES2", "ES4"} {
		for _, kind := range []esimgw.NotificationKind{esimgw.ProfileEnabled, esimgw.ProfileDisabled, esimgw.ProfileDeleted} {
			name := iface + "-Handle" + string(kind) + "Notification"
			tests = append(tests,
				tc{name: name, body: rawBody{name, notificationXML(name, "Eid", testEID, testICCID, "CompletionTimestamp", "2024-05-01T10:00:41Z")},
					wantIface: iface, wantKind: kind, wantEid: testEID, wantIccid: testICCID, wantAt: at},
				tc{name: name + " completionTimestamp lower-case eid", body: rawBody{name, notificationXML(name, "eid", lowerEID, testICCID, "completionTimestamp", "2024-05-01T12:00:41+02:00")},
					wantIface: iface, wantKind: kind, wantEid: strings.ToUpper(lowerEID), wantIccid: testICCID, wantAt: at},
				tc{name: name + " CompletionTimeStamp", body: rawBody{name, notificationXML(name, "EID", testEID, testICCID, "CompletionTimeStamp", "2024-05-01T10:00:41.000Z")},
					wantIface: iface, wantKind: kind, wantEid: testEID, wantIccid: testICCID, wantAt: at},
			)
		}
		name := iface + "-HandleSMSRChangeNotification"
		tests = append(tests,
			tc{name: name, body: rawBody{name, smsrChangeXML(name, "CompletionTimestamp", "2024-05-01T10:00:41Z")}, wantIface: iface, wantKind: esimgw.SMSRChange, wantAt: at},
			tc{name: name + " completionTimestamp", body: rawBody{name, smsrChangeXML(name, "completionTimestamp", "2024-05-01T10:00:41Z")}, wantIface: iface, wantKind: esimgw.SMSRChange, wantAt: at},
		)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []*esimgw.Notification
			record := func(_ context.Context, n *esimgw.Notification) error { got = append(got, n); return nil }
			d, rec := newRecordingDispatcher(esimgw.WithNotificationHandler(esimgw.Notifications{
				ProfileEnabled: record, ProfileDisabled: record, ProfileDeleted: record, SMSRChange: record,
			}))
			action := "http://gsma.com/" + tt.wantIface + "/PlatformManagement/" + tt.body.name
			m := readMessage(t, &soap.Header{Action: action}, tt.body)
			reply, err := d.ServeSOAP(context.Background(), m)
			require.NoError(t, err)
			assert.Nil(t, reply)
			assert.Empty(t, rec.all())
			require.Len(t, got, 1)
			n := got[0]
			assert.Equal(t, tt.wantIface, n.Interface)
			assert.Equal(t, tt.wantKind, n.Kind)
			assert.Equal(t, tt.wantEid, n.Eid)
			assert.Equal(t, tt.wantIccid, n.Iccid)
			assert.True(t, tt.wantAt.Equal(n.CompletionTimestamp), "CompletionTimestamp %v, want %v", n.CompletionTimestamp, tt.wantAt)
			assert.Equal(t, action, n.Header.Action)
			require.NotNil(t, n.Element)
			assert.Equal(t, tt.body.name, n.Element.ElementName())
			if tt.wantKind == esimgw.SMSRChange {
				require.NotNil(t, n.EIS)
				assert.Equal(t, peerOID, n.EIS.SmsrID)
				assert.EqualValues(t, 2048, n.EIS.RemainingMemory)
			} else {
				assert.Nil(t, n.EIS)
			}
		})
	}
}

func TestDispatcherNotificationRouting(t *testing.T) {
	body := rawBody{"ES4-HandleProfileDisabledNotification",
		notificationXML("ES4-HandleProfileDisabledNotification", "Eid", testEID, testICCID, "CompletionTimestamp", "2024-05-01T10:00:41Z")}
	handlerErr := errors.New("queue full")
	tests := []struct {
		name          string
		handler       esimgw.NotificationHandler // nil: none configured
		wantStatus    int
		wantUnmatched bool
	}{
		{name: "typed function", handler: esimgw.Notifications{ProfileDisabled: func(context.Context, *esimgw.Notification) error { return nil }},
			wantStatus: http.StatusAccepted},
		{name: "nil function goes to the unmatched handler", handler: esimgw.Notifications{ProfileEnabled: func(context.Context, *esimgw.Notification) error { return nil }},
			wantStatus: http.StatusAccepted, wantUnmatched: true},
		{name: "ErrNotHandled goes to the unmatched handler",
			handler:    esimgw.NotificationHandlerFunc(func(context.Context, *esimgw.Notification) error { return esimgw.ErrNotHandled }),
			wantStatus: http.StatusAccepted, wantUnmatched: true},
		{name: "wrapped ErrNotHandled too",
			handler: esimgw.NotificationHandlerFunc(func(context.Context, *esimgw.Notification) error {
				return errors.Join(errors.New("not mine"), esimgw.ErrNotHandled)
			}),
			wantStatus: http.StatusAccepted, wantUnmatched: true},
		{name: "no notification handler", wantStatus: http.StatusAccepted, wantUnmatched: true},
		{name: "handler error answers 500",
			handler:    esimgw.Notifications{ProfileDisabled: func(context.Context, *esimgw.Notification) error { return handlerErr }},
			wantStatus: http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []esimgw.DispatcherOption
			if tt.handler != nil {
				opts = append(opts, esimgw.WithNotificationHandler(tt.handler))
			}
			d, rec := newRecordingDispatcher(opts...)
			status, resp := postEnvelope(t, serveHTTP(t, d), envelope(&soap.Header{}, body))
			assert.Equal(t, tt.wantStatus, status)
			if status == http.StatusInternalServerError {
				f := faultOf(t, resp)
				assert.Equal(t, soap.FaultReceiver, f.Code)
				assert.Contains(t, f.Reason, "queue full")
			}
			got := rec.all()
			if !tt.wantUnmatched {
				assert.Empty(t, got)
				return
			}
			require.Len(t, got, 1)
			in := got[0]
			assert.Equal(t, esimgw.InboundNotification, in.Kind)
			assert.Equal(t, "notification", in.Kind.String())
			assert.Equal(t, "ES4", in.Interface)
			assert.Equal(t, "HandleProfileDisabledNotification", in.Function)
			require.NotNil(t, in.Notification)
			assert.Equal(t, esimgw.ProfileDisabled, in.Notification.Kind)
			assert.Equal(t, testICCID, in.Notification.Iccid)
			assert.Empty(t, in.RelatesTo)
		})
	}

	t.Run("nothing configured: logged and acknowledged", func(t *testing.T) {
		logs, logger := newLogBuffer()
		d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(logger))
		status, _ := postEnvelope(t, serveHTTP(t, d), envelope(&soap.Header{}, body))
		assert.Equal(t, http.StatusAccepted, status)
		assert.Equal(t, 1, logs.count("kind=notification"), logs.String())
	})
}

func TestDispatcherUnknownElements(t *testing.T) {
	tests := []struct {
		name      string
		body      soap.BodyWriter
		wantFunc  string
		wantIface string
		wantElem  bool
	}{
		{name: "function KPN added later (docs/kpn.md R14)", body: rawBody{"ES4-SetEmergencyProfileAttributeResponse",
			`<rps:ES4-SetEmergencyProfileAttributeResponse><rps:FunctionExecutionStatus><rps:Status>EXECUTED_SUCCESS</rps:Status></rps:FunctionExecutionStatus></rps:ES4-SetEmergencyProfileAttributeResponse>`},
			wantFunc: "SetEmergencyProfileAttributeResponse", wantIface: "ES4"},
		{name: "known name in a foreign namespace", body: rawBody{"ES4-EnableProfileResponse",
			`<x:ES4-EnableProfileResponse xmlns:x="urn:example:other"><x:FunctionExecutionStatus><x:Status>FAILED</x:Status></x:FunctionExecutionStatus></x:ES4-EnableProfileResponse>`},
			wantFunc: "EnableProfileResponse", wantIface: "ES4"},
		{name: "known name without a namespace", body: rawBody{"ES4-EnableProfileResponse",
			`<ES4-EnableProfileResponse xmlns=""><FunctionExecutionStatus><Status>FAILED</Status></FunctionExecutionStatus></ES4-EnableProfileResponse>`},
			wantFunc: "EnableProfileResponse", wantIface: "ES4"},
		{name: "a request posted to the callback server", body: enableRequest(),
			wantFunc: "EnableProfileRequest", wantIface: "ES4", wantElem: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, rec := newRecordingDispatcher()
			status, _ := postEnvelope(t, serveHTTP(t, d), envelope(&soap.Header{Action: "http://gsma.com/ES4/Future/Whatever"}, tt.body))
			assert.Equal(t, http.StatusAccepted, status, "unknown elements are acknowledged, not refused (docs/kpn.md R14)")
			got := rec.all()
			require.Len(t, got, 1)
			in := got[0]
			assert.Equal(t, esimgw.InboundUnknown, in.Kind)
			assert.Equal(t, "unknown", in.Kind.String())
			assert.Equal(t, tt.wantFunc, in.Function)
			assert.Equal(t, tt.wantIface, in.Interface)
			assert.Equal(t, tt.wantElem, in.Element != nil)
			require.NotNil(t, in.Message)
			assert.Equal(t, "http://gsma.com/ES4/Future/Whatever", in.Message.Header.Action)
			raw, err := in.Message.BodyXML()
			require.NoError(t, err)
			assert.NotEmpty(t, raw, "the raw body is there for the application")
		})
	}

	t.Run("unknown element, unmatched handler fails: 500", func(t *testing.T) {
		d, rec := newRecordingDispatcher()
		rec.fail = 1
		status, _ := postEnvelope(t, serveHTTP(t, d), envelope(&soap.Header{}, tests[0].body))
		assert.Equal(t, http.StatusInternalServerError, status)
	})
}

func TestDispatcherMalformedValues(t *testing.T) {
	enableResp := func(inner string) rawBody {
		return rawBody{"ES4-EnableProfileResponse", `<rps:ES4-EnableProfileResponse>` + inner +
			`<rps:FunctionExecutionStatus><rps:Status>EXECUTED_SUCCESS</rps:Status></rps:FunctionExecutionStatus></rps:ES4-EnableProfileResponse>`}
	}
	const n = "ES4-HandleProfileEnabledNotification"
	tests := []struct {
		name     string
		body     rawBody
		callback bool // an unreadable callback resolves its operation with ErrMalformedCallback
	}{
		{name: "Eid not hex", body: rawBody{n, notificationXML(n, "Eid", "8904903212345123451234567890123Z", testICCID, "CompletionTimestamp", "2024-05-01T10:00:41Z")}},
		{name: "Eid odd length", body: rawBody{n, notificationXML(n, "Eid", "890", testICCID, "CompletionTimestamp", "2024-05-01T10:00:41Z")}},
		{name: "CompletionTimestamp not a date", body: rawBody{n, notificationXML(n, "Eid", testEID, testICCID, "CompletionTimestamp", "yesterday")}},
		{name: "completionTimestamp out of range", body: rawBody{n, notificationXML(n, "Eid", testEID, testICCID, "completionTimestamp", "2024-13-45T99:00:00Z")}},
		{name: "callback ProcessingStart not a date", callback: true, body: enableResp(`<rps:ProcessingStart>soon</rps:ProcessingStart>`)},
		{name: "callback AcceptableValidityPeriod not a number", callback: true, body: enableResp(`<rps:AcceptableValidityPeriod>-1</rps:AcceptableValidityPeriod>`)},
		{name: "callback EuiccResponseData not hex", callback: true, body: rawBody{"ES4-EnableProfileResponse", `<rps:ES4-EnableProfileResponse>` +
			`<rps:FunctionExecutionStatus><rps:Status>FAILED</rps:Status></rps:FunctionExecutionStatus><rps:EuiccResponseData>GG</rps:EuiccResponseData></rps:ES4-EnableProfileResponse>`}},
		{name: "SMSRChange RemainingMemory not a number", body: rawBody{"ES4-HandleSMSRChangeNotification",
			`<rps:ES4-HandleSMSRChangeNotification><rps:Eis><rps:RemainingMemory>lots</rps:RemainingMemory></rps:Eis>` +
				`<rps:CompletionTimestamp>2024-05-01T10:00:41Z</rps:CompletionTimestamp></rps:ES4-HandleSMSRChangeNotification>`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			notified := 0
			count := func(context.Context, *esimgw.Notification) error { notified++; return nil }
			d, rec := newRecordingDispatcher(esimgw.WithNotificationHandler(esimgw.Notifications{ProfileEnabled: count, SMSRChange: count}))
			key, op := pendingKey(t, d.Tracker())
			h := &soap.Header{RelatesTo: key.MessageID}

			if !tt.callback {
				// A notification is the only copy of a state change (issue 17, defect 1): it goes to the
				// unmatched handler with what was read and the decode error, and is acknowledged only then.
				var reply *soap.Reply
				var err error
				require.NotPanics(t, func() { reply, err = d.ServeSOAP(context.Background(), readMessage(t, h, tt.body)) })
				assert.Nil(t, reply)
				require.NoError(t, err)
				got := rec.all()
				require.Len(t, got, 1)
				in := got[0]
				assert.Equal(t, esimgw.InboundNotification, in.Kind)
				require.NotNil(t, in.Notification)
				assert.ErrorIs(t, in.Err, esimgw.ErrMalformedNotification)
				assert.ErrorIs(t, in.Notification.Err, esimgw.ErrMalformedNotification)
				var fe *rps.FieldError
				assert.ErrorAs(t, in.Err, &fe, "the field and value that broke it")
				raw, rerr := in.Message.BodyXML()
				require.NoError(t, rerr)
				assert.NotEmpty(t, raw, "the raw body is there")
				assert.Zero(t, notified, "a half-readable notification never reaches the typed handler")

				// Over HTTP: 202 once handed over; 500 (retry later) when the hand-over fails.
				h2 := &soap.Header{MessageID: soap.NewMessageID(peerOID, testNow).String()}
				status, resp := postEnvelope(t, serveHTTP(t, d), envelope(h2, tt.body))
				assert.Equal(t, http.StatusAccepted, status, "%s", resp)
				rec.mu.Lock()
				rec.fail = 1
				rec.mu.Unlock()
				status, _ = postEnvelope(t, serveHTTP(t, d), envelope(&soap.Header{}, tt.body))
				assert.Equal(t, http.StatusInternalServerError, status)
				assert.Len(t, rec.all(), 2)

				assert.Equal(t, 1, d.Tracker().Pending(), "an unreadable notification resolves nothing")
				select {
				case <-op.Done():
					t.Fatal("resolved by an unreadable notification")
				default:
				}
				return
			}

			var reply *soap.Reply
			var err error
			require.NotPanics(t, func() { reply, err = d.ServeSOAP(context.Background(), readMessage(t, h, tt.body)) })
			assert.Nil(t, reply)
			var f *soap.Fault
			require.ErrorAs(t, err, &f)
			assert.Equal(t, soap.FaultSender, f.Code)
			assert.Equal(t, http.StatusBadRequest, f.StatusCode())

			status, resp := postEnvelope(t, serveHTTP(t, d), envelope(h, tt.body))
			assert.Equal(t, http.StatusBadRequest, status)
			assert.Equal(t, soap.FaultSender, faultOf(t, resp).Code)
			assert.Zero(t, notified)
			assert.Empty(t, rec.all())
			// The waiter learns the result exists but is unreadable, instead of waiting for a retry that a
			// 400 will not bring; the HTTP copy was a duplicate of the first and resolved nothing more.
			assert.Equal(t, 0, d.Tracker().Pending())
			_, werr := op.Wait(context.Background())
			assert.ErrorIs(t, werr, esimgw.ErrMalformedCallback)
		})
	}
}

// fuzzSeeds are real callback and notification envelopes.
func fuzzSeeds(t testing.TB) [][]byte {
	key := soap.NewMessageID(ourOID, testNow)
	n := "ES4-HandleProfileEnabledNotification"
	seeds := [][]byte{
		envelope(&soap.Header{RelatesTo: key.String(), Action: "http://gsma.com/ES4/PlatformManagementCallBack/ES4-EnableProfile"},
			enableCallback(rps.StatusTypeFAILED, "8.2.1", "3.9", testICCID, "Profile ICCID unknown on this eUICC")),
		envelope(&soap.Header{MessageID: soap.NewMessageIDInTransaction(peerOID, key.TransactionID, testNow).String()},
			&rps.ES2DownloadProfileResponse{BaseResponseType: statusBase(rps.StatusTypeEXECUTED_SUCCESS), Iccid: testICCID, EuiccResponseData: rps.HexBinary{1, 2}}),
		envelope(&soap.Header{}, &rps.ES4AuditEISResponse{BaseResponseType: statusBase(rps.StatusTypeEXECUTED_WITHWARNING, "8.1", "1.1"),
			Eis: &rps.EISType{SmsrID: peerOID, ProfileInfo: []rps.ProfileInfoType{{Iccid: testICCID, State: rps.ProfileStateTypeEnabled}}}}),
		envelope(&soap.Header{}, rawBody{n, notificationXML(n, "Eid", testEID, testICCID, "completionTimestamp", "2024-05-01T10:00:41Z")}),
		envelope(&soap.Header{}, rawBody{"ES2-HandleSMSRChangeNotification", smsrChangeXML("ES2-HandleSMSRChangeNotification", "CompletionTimeStamp", "2024-05-01T10:00:41Z")}),
		envelope(&soap.Header{}, rawBody{"ES4-EnableProfileResponse", njiwaEnableCallback}),
		envelope(&soap.Header{}, rawBody{"ES4-FutureResponse", `<rps:ES4-FutureResponse><rps:X>1</rps:X></rps:ES4-FutureResponse>`}),
		envelope(&soap.Header{}, soap.SenderFault("bad")),
		// Njiwa: SOAP 1.1 rpc/literal wrapper, 2007/05 headers, ES3 Action on an ES2 callback (issue 17).
		njiwaEnvelope("http://gsma.com/ES3/ProfileManagentCallBack/ES2-DeleteProfile", key.String(), "DeleteProfilePResponse", njiwaStatus("FAILED")),
		envelope(&soap.Header{}, rawBody{"ES4-HandleSMSRChangeNotification", vendorSMSRChange}), // defect 1's values
	}
	return seeds
}

func FuzzDispatcher(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := soap.ReadMessage(data, soap.ReadOptions{})
		if err != nil {
			return
		}
		ok := func(context.Context, *esimgw.Notification) error { return nil }
		d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(quietLogger()),
			esimgw.WithNotificationHandler(esimgw.Notifications{ProfileEnabled: ok, ProfileDisabled: ok, SMSRChange: ok}),
			esimgw.WithUnmatchedHandler(func(_ context.Context, in *esimgw.Inbound) error {
				if in.Kind == esimgw.InboundNotification && in.Notification == nil {
					t.Errorf("notification without its Notification")
				}
				return nil
			}))
		reply, err := d.ServeSOAP(context.Background(), m)
		if reply != nil {
			t.Errorf("a one-way message got a reply")
		}
		if err != nil {
			var f *soap.Fault
			if !errors.As(err, &f) || f.Code != soap.FaultSender {
				t.Errorf("only a sender fault may come back when every handler succeeds, got %v", err)
			}
		}
	})
}

func TestTrackerOptionsWithAStoreAreReportedNotSilentlyDropped(t *testing.T) {
	tests := []struct {
		name  string
		opts  []esimgw.DispatcherOption
		warns bool
	}{
		{"tracker options, no store", []esimgw.DispatcherOption{esimgw.WithTrackerOptions(correlate.WithMaxPending(1))}, false},
		{"a store, no tracker options", []esimgw.DispatcherOption{esimgw.WithStore(correlate.NewTracker())}, false},
		{"a store and tracker options", []esimgw.DispatcherOption{esimgw.WithStore(correlate.NewTracker()), esimgw.WithTrackerOptions(correlate.WithMaxPending(1))}, true},
		{"a tracker and tracker options", []esimgw.DispatcherOption{esimgw.WithTrackerOptions(correlate.WithMaxPending(1)), esimgw.WithTracker(correlate.NewTracker())}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			opts := append([]esimgw.DispatcherOption{esimgw.WithDispatcherLogger(slog.New(slog.NewTextHandler(&buf, nil)))}, tt.opts...)
			esimgw.NewDispatcher(opts...)
			if tt.warns {
				assert.Contains(t, buf.String(), "WithTrackerOptions ignored")
			} else {
				assert.NotContains(t, buf.String(), "WithTrackerOptions")
			}
		})
	}

	// Without a store of its own the options apply: the bound holds.
	d := esimgw.NewDispatcher(esimgw.WithTrackerOptions(correlate.WithMaxPending(1)))
	_, err := d.Tracker().Register(correlate.OperationKey{MessageID: "a"})
	require.NoError(t, err)
	_, err = d.Tracker().Register(correlate.OperationKey{MessageID: "b"})
	assert.ErrorIs(t, err, correlate.ErrTooManyPending)
}

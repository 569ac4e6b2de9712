package esimgw_test

// Regression tests for the numbered defects of issue 17, each with a message of the shape a real peer sent.

import (
	"context"
	"encoding/hex"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// Defect 2: the WS-Addressing headers of an operator's integration templates carry no namespace. The
// callback is matched by its unqualified RelatesTo all the same.
func TestDefect2UnqualifiedRelatesToResolvesCallback(t *testing.T) {
	d, rec := newRecordingDispatcher()
	key, op := pendingKey(t, d.Tracker())
	raw := `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://www.w3.org/2003/05/soap-envelope" ` +
		`xmlns:rps="http://namespaces.gsma.org/esim-messaging/3"><soapenv:Header>` +
		`<From><Address>https://smsr.example.net?EntityId=` + peerOID + `</Address></From>` +
		`<To>` + replyURL + `</To>` +
		`<MessageID>//` + peerOID + `/urn:uuid:7c1e2a9e-5d0b-4b39-9e1c-4f0c2a000001</MessageID>` +
		`<Action>http://gsma.com/ES4/PlatformManagementCallBack/ES4-EnableProfile</Action>` +
		`<RelatesTo RelationshipType="http://www.w3.org/2005/08/addressing/reply">` + xmlEscape(key.MessageID) + `</RelatesTo>` +
		`</soapenv:Header><soapenv:Body><rps:ES4-EnableProfileResponse><rps:FunctionExecutionStatus><rps:Status>EXECUTED_SUCCESS</rps:Status>` +
		`</rps:FunctionExecutionStatus></rps:ES4-EnableProfileResponse></soapenv:Body></soapenv:Envelope>`
	status, body := postEnvelope(t, serveHTTP(t, d), []byte(raw))
	require.Equal(t, http.StatusAccepted, status, "%s", body)
	assertClosed(t, op.Done())
	_, err := op.Wait(context.Background())
	require.NoError(t, err)
	assert.Empty(t, rec.all(), "matched, not unmatched")
}

// Defect 4: node-soap (and others) acknowledge a one-way request with a 2xx whose envelope has an empty
// Body. The gateway accepted the call; it is pending, not "not sent".
func TestDefect4EmptyBodyEnvelopeIsAcceptance(t *testing.T) {
	for _, status := range []int{http.StatusAccepted, http.StatusOK} {
		g := newFakeGateway(t, func(*soap.Message) (*http.Response, error) {
			r := httpmock.NewStringResponse(status, `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" `+
				`xmlns:tns="http://namespaces.gsma.org/esim-messaging/3"><soap:Body></soap:Body></soap:Envelope>`)
			r.Header.Set("Content-Type", "application/soap+xml; charset=utf-8")
			return r, nil
		})
		d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(quietLogger()))
		c := newEngine(t, "ES4", g, esimgw.WithDispatcher(d), esimgw.WithReplyTo(replyURL))
		p, x, err := c.Start(context.Background(), mustFunction(t, rps.ES4, "EnableProfile"), enableRequest(), &rps.ES4EnableProfileResponse{})
		require.NoError(t, err, "HTTP %d", status)
		require.NotNil(t, p)
		assert.Nil(t, x.Response)
		assert.Equal(t, 1, d.Tracker().Pending(), "the operation waits for its callback")
	}
}

// vendorSMSRChange is an SMSRChange notification as a vendor's SM-SR posts it: its EIS has values outside
// their schema types (Status 00, Role 1, FallbackAttribute 01).
const vendorSMSRChange = `<rps:ES4-HandleSMSRChangeNotification><rps:Eis><rps:EumSignedInfo><rps:Eid>` + testEID + `</rps:Eid>` +
	`<rps:Eum-id>1.3.6.1.4.1.99999.30</rps:Eum-id><rps:ProductionDate>2020-01-01T00:00:00Z</rps:ProductionDate></rps:EumSignedInfo>` +
	`<rps:RemainingMemory>2048</rps:RemainingMemory><rps:AvailableMemoryForProfiles>1024</rps:AvailableMemoryForProfiles>` +
	`<rps:Smsr-id>` + peerOID + `</rps:Smsr-id>` +
	`<rps:ProfileInfo><rps:Iccid>` + testICCID + `</rps:Iccid><rps:FallbackAttribute>01</rps:FallbackAttribute><rps:State>Enabled</rps:State></rps:ProfileInfo>` +
	`<rps:Isd-r><rps:Aid>A0000005591010FFFFFFFF8900000100</rps:Aid><rps:Role>1</rps:Role></rps:Isd-r>` +
	`<rps:AuditTrail><rps:Record><rps:OperationExecutionStatus><rps:Status>00</rps:Status></rps:OperationExecutionStatus></rps:Record></rps:AuditTrail>` +
	`</rps:Eis><rps:CompletionTimestamp>2024-05-01T10:00:41Z</rps:CompletionTimestamp></rps:ES4-HandleSMSRChangeNotification>`

// Defect 1: a notification with schema-invalid values was refused with 400 and so lost. It is handed over
// (to the unmatched handler, with what was read, the decode error and the raw body) and acknowledged only
// after the hand-over.
func TestDefect1NotificationWithInvalidValuesIsHandedOver(t *testing.T) {
	typed := 0
	d, rec := newRecordingDispatcher(esimgw.WithNotificationHandler(esimgw.Notifications{
		SMSRChange: func(context.Context, *esimgw.Notification) error { typed++; return nil }}))
	url := serveHTTP(t, d)
	body := rawBody{"ES4-HandleSMSRChangeNotification", vendorSMSRChange}

	rec.fail = 1 // the store is down: not acknowledged, so the SM-SR posts it again
	status, _ := postEnvelope(t, url, envelope(&soap.Header{MessageID: "//" + peerOID + "/urn:uuid:smsr-1"}, body))
	assert.Equal(t, http.StatusInternalServerError, status)
	status, resp := postEnvelope(t, url, envelope(&soap.Header{MessageID: "//" + peerOID + "/urn:uuid:smsr-1"}, body))
	require.Equal(t, http.StatusAccepted, status, "%s", resp)

	got := rec.all()
	require.Len(t, got, 1, "handed over once")
	in := got[0]
	assert.Equal(t, esimgw.InboundNotification, in.Kind)
	assert.Equal(t, "HandleSMSRChangeNotification", in.Function)
	require.NotNil(t, in.Notification)
	n := in.Notification
	assert.Equal(t, esimgw.SMSRChange, n.Kind)
	assert.ErrorIs(t, n.Err, esimgw.ErrMalformedNotification)
	var fe *rps.FieldError
	require.ErrorAs(t, n.Err, &fe)
	assert.Equal(t, "FallbackAttribute", fe.Field)
	assert.Equal(t, "01", fe.Value)
	require.NotNil(t, n.EIS, "what was read before the bad value")
	assert.Equal(t, testEID, n.EIS.EumSignedInfo.Eid.String())
	assert.Equal(t, peerOID, n.EIS.SmsrID)
	raw, err := in.Message.BodyXML()
	require.NoError(t, err)
	assert.Contains(t, string(raw), "<rps:Role>1</rps:Role>", "the raw body, for what was not read")
	assert.Zero(t, typed, "never to the typed handler as if it were whole")
}

// Defect 9: notifications of one EID are handed over one at a time in arrival order, with a growing
// Sequence; another EID is not held up by them.
func TestDefect9NotificationsOfOneEIDInArrivalOrder(t *testing.T) {
	const otherEID = "89049032123451234512345678901316"
	release := make(chan struct{})
	var mu sync.Mutex
	running := map[string]int{}
	maxRunning := 0
	var order []uint64
	handler := func(ctx context.Context, n *esimgw.Notification) error {
		mu.Lock()
		running[n.Eid]++
		maxRunning = max(maxRunning, running[n.Eid])
		if n.Eid == testEID {
			order = append(order, n.Sequence)
		}
		first := n.Eid == testEID && len(order) == 1
		mu.Unlock()
		if first {
			<-release // the first of testEID is slow
		} else {
			time.Sleep(time.Millisecond)
		}
		mu.Lock()
		running[n.Eid]--
		mu.Unlock()
		return nil
	}
	d, _ := newRecordingDispatcher(esimgw.WithNotificationHandler(esimgw.Notifications{ProfileEnabled: handler, ProfileDisabled: handler}))
	post := func(eid, kind string) error {
		name := "ES4-Handle" + kind + "Notification"
		_, err := d.ServeSOAP(context.Background(), readMessage(t, &soap.Header{}, rawBody{name, notificationXML(name, "Eid", eid, testICCID, "CompletionTimestamp", "2024-05-01T10:00:41Z")}))
		return err
	}
	var wg sync.WaitGroup
	wg.Go(func() { assert.NoError(t, post(testEID, "ProfileDisabled")) })
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(order) == 1 }, 5*time.Second, time.Millisecond)
	for i := range 8 {
		wg.Go(func() { assert.NoError(t, post(testEID, []string{"ProfileEnabled", "ProfileDisabled"}[i%2])) })
	}
	// Another EID goes through while testEID's first is still being handled.
	require.NoError(t, post(otherEID, "ProfileEnabled"))
	mu.Lock()
	assert.Len(t, order, 1, "the later notifications of the EID wait for the first")
	mu.Unlock()
	close(release)
	wg.Wait()
	assert.Equal(t, 1, maxRunning, "never two of one EID at once")
	require.Len(t, order, 9)
	assert.IsIncreasing(t, order, "handed over in arrival order")
}

// asciiHex is the encoding one vendor uses for EIDs: the hex of the ASCII codes of the 32 digits.
func asciiHex(eid string) string { return strings.ToUpper(hex.EncodeToString([]byte(eid))) }

// Defect 7: an EID sent as the hex of its ASCII digits is recognised, normalised and reported with a typed
// warning, in notifications (Eid and EIS) and callbacks, and refused with a clear reason on the way out.
func TestDefect7ASCIIHexEID(t *testing.T) {
	raw := asciiHex(testEID)
	require.Len(t, raw, 64)

	eid, w := esimgw.NormalizeEID(raw)
	assert.Equal(t, testEID, eid)
	require.NotNil(t, w)
	assert.ErrorIs(t, w, esimgw.ErrASCIIHexEID)
	assert.Equal(t, raw, w.Raw)
	eid, w = esimgw.NormalizeEID(strings.ToLower(testEID))
	assert.Equal(t, testEID, eid, "an ordinary EID is only upper-cased")
	assert.Nil(t, w)
	bad := asciiHex(testEID[:31] + "0") // digits, but the check digits do not verify: not an EID
	eid, w = esimgw.NormalizeEID(bad)
	assert.Equal(t, bad, eid)
	assert.Nil(t, w)

	var ve *esimgw.ValidationError
	require.ErrorAs(t, esimgw.ValidateEID(raw), &ve)
	assert.Contains(t, ve.Rule, "hex of the ASCII digits of EID "+testEID)

	var mu sync.Mutex
	var got []*esimgw.Notification
	h := func(_ context.Context, n *esimgw.Notification) error {
		mu.Lock()
		got = append(got, n)
		mu.Unlock()
		return nil
	}
	d, rec := newRecordingDispatcher(esimgw.WithNotificationHandler(esimgw.Notifications{ProfileEnabled: h, SMSRChange: h}))
	url := serveHTTP(t, d)
	n := "ES4-HandleProfileEnabledNotification"
	status, _ := postEnvelope(t, url, envelope(&soap.Header{}, rawBody{n, notificationXML(n, "Eid", raw, testICCID, "CompletionTimestamp", "2024-05-01T10:00:41Z")}))
	require.Equal(t, http.StatusAccepted, status)
	smsr := strings.Replace(vendorSMSRChange, "<rps:Eid>"+testEID, "<rps:Eid>"+raw, 1)
	smsr = strings.Replace(smsr, "<rps:FallbackAttribute>01<", "<rps:FallbackAttribute>1<", 1)
	status, _ = postEnvelope(t, url, envelope(&soap.Header{}, rawBody{"ES4-HandleSMSRChangeNotification", smsr}))
	require.Equal(t, http.StatusAccepted, status)
	mu.Lock()
	require.Len(t, got, 2)
	assert.Equal(t, testEID, got[0].Eid)
	assert.ErrorIs(t, got[0].Warning, esimgw.ErrASCIIHexEID)
	require.NotNil(t, got[1].EIS)
	assert.Equal(t, testEID, got[1].EIS.EumSignedInfo.Eid.String())
	var ew *esimgw.EIDEncodingWarning
	require.ErrorAs(t, got[1].Warning, &ew)
	assert.Equal(t, "Eis/EumSignedInfo/Eid", ew.Field)
	mu.Unlock()

	// A callback's EIS (AuditEIS) is normalised before its waiter sees it.
	key, op := pendingOf(t, d.Tracker(), "AuditEIS")
	audit := &rps.ES4AuditEISResponse{BaseResponseType: statusBase(rps.StatusTypeEXECUTED_SUCCESS),
		Eis: &rps.EISType{EumSignedInfo: rps.EumSignedInfoType{Eid: rps.HexBinary(testEID)}, SmsrID: peerOID}}
	status, _ = postEnvelope(t, url, envelope(&soap.Header{RelatesTo: key.MessageID}, audit))
	require.Equal(t, http.StatusAccepted, status)
	v, err := op.Wait(context.Background())
	require.NoError(t, err)
	assert.Equal(t, testEID, v.(*rps.ES4AuditEISResponse).Eis.EumSignedInfo.Eid.String())
	assert.Empty(t, rec.all())
}

// Defect 8: an unmatched callback whose own MessageID has no TransactionId shows the FunctionCallIdentifier
// its RelatesTo carries.
func TestDefect8FunctionCallIdentifierFromRelatesTo(t *testing.T) {
	d, rec := newRecordingDispatcher()
	ours := soap.NewMessageIDInTransaction(ourOID, "fc-from-relatesto", testNow).String()
	status, _ := postEnvelope(t, serveHTTP(t, d), envelope(&soap.Header{MessageID: "//" + peerOID + "/urn:uuid:no-transaction",
		RelatesTo: ours}, enableCallback(rps.StatusTypeEXECUTED_SUCCESS)))
	require.Equal(t, http.StatusAccepted, status)
	got := rec.all()
	require.Len(t, got, 1)
	assert.Empty(t, got[0].TransactionID)
	assert.Equal(t, "fc-from-relatesto", got[0].FunctionCallIdentifier())
}

// A callback's element must be the result of the function its RelatesTo (or TransactionID) names: an
// AuditEIS result relating to an EnableProfile request does not resolve it (its waiter would take an
// audit for an enable), is handed to the unmatched handler with a *MismatchedCallbackError naming the
// operation, and is acknowledged only after that. The operation's own callback still resolves it; Njiwa's
// RPC wrapper (AuditEISPResponse, Action with the ProfileManagent typo) is recognised as AuditEIS first.
func TestCallbackOfAnotherFunctionResolvesNothing(t *testing.T) {
	audit := &rps.ES4AuditEISResponse{BaseResponseType: statusBase(rps.StatusTypeEXECUTED_SUCCESS),
		Eis: &rps.EISType{SmsrID: peerOID, ProfileInfo: []rps.ProfileInfoType{{Iccid: testICCID, State: rps.ProfileStateTypeEnabled}}}}
	for _, tc := range []struct {
		name     string
		envelope func(key correlate.OperationKey) []byte
		soap11   string // the SOAPAction of a SOAP 1.1 envelope
	}{
		{"by RelatesTo", func(key correlate.OperationKey) []byte {
			return envelope(&soap.Header{RelatesTo: key.MessageID, MessageID: "//" + peerOID + "/urn:uuid:audit-1",
				Action: "http://gsma.com/ES4/ProfileManagementCallBack/ES4-AuditEIS"}, audit)
		}, ""},
		{"by TransactionId", func(key correlate.OperationKey) []byte {
			return envelope(&soap.Header{MessageID: "//" + peerOID + "/urn:uuid:audit-2?TransactionId=" + key.TransactionID}, audit)
		}, ""},
		{"Njiwa's wrapper", func(key correlate.OperationKey) []byte {
			return njiwaEnvelope("http://gsma.com/ES4/ProfileManagentCallback/ES4-AuditEIS", key.MessageID, "AuditEISPResponse", njiwaStatus("EXECUTED_SUCCESS"))
		}, "http://gsma.com/ES4/ProfileManagentCallback/ES4-AuditEIS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, rec := newRecordingDispatcher()
			key, op := pendingKey(t, d.Tracker()) // an ES4 EnableProfile
			url := serveHTTP(t, d)

			post := func() int {
				if tc.soap11 != "" {
					return postNjiwa(t, url, tc.envelope(key), tc.soap11)
				}
				status, _ := postEnvelope(t, url, tc.envelope(key))
				return status
			}
			rec.fail = 1 // not handed over: not acknowledged either, so the sender posts it again
			assert.Equal(t, http.StatusInternalServerError, post())
			require.Equal(t, http.StatusAccepted, post())

			got := rec.all()
			require.Len(t, got, 1, "handed over once")
			in := got[0]
			assert.Equal(t, esimgw.InboundCallback, in.Kind)
			assert.Equal(t, "AuditEIS", in.Function)
			var me *correlate.MismatchedCallbackError
			require.ErrorAs(t, in.Err, &me)
			assert.ErrorIs(t, in.Err, correlate.ErrMismatchedCallback)
			assert.Equal(t, key, me.Operation)
			assert.Equal(t, "AuditEIS", me.Function)
			require.NotNil(t, in.Operation)
			assert.Equal(t, key, *in.Operation)
			select {
			case <-op.Done():
				t.Fatal("an EnableProfile was resolved by an AuditEIS result")
			default:
			}
			assert.Equal(t, 1, d.Tracker().Pending())

			status, resp := postEnvelope(t, url, envelope(&soap.Header{RelatesTo: key.MessageID, MessageID: "//" + peerOID + "/urn:uuid:enable"},
				enableCallback(rps.StatusTypeEXECUTED_SUCCESS)))
			require.Equal(t, http.StatusAccepted, status, "%s", resp)
			assertClosed(t, op.Done())
			v, err := op.Wait(context.Background())
			require.NoError(t, err)
			assert.IsType(t, &rps.ES4EnableProfileResponse{}, v)
			assert.Len(t, rec.all(), 1, "the right callback went to its operation")
		})
	}
}

// Defect 7 in a synchronous answer: a GetEIS answer whose EIS carries the hex of the ASCII digits of its
// EID is normalised as a callback's and a notification's are, with the *EIDEncodingWarning on the Exchange.
func TestDefect7ASCIIHexEIDInSyncAnswer(t *testing.T) {
	raw := asciiHex(testEID)
	g := newFakeGateway(t, respondWith(func() *http.Response {
		return soapResponse(http.StatusOK, nil, &rps.ES4GetEISResponse{BaseResponseType: statusBase(rps.StatusTypeEXECUTED_SUCCESS),
			Eis: &rps.EISType{EumSignedInfo: rps.EumSignedInfoType{Eid: mustParseHex(t, raw)}, SmsrID: peerOID}})
	}))
	c := newEngine(t, "ES4", g)
	resp := &rps.ES4GetEISResponse{}
	x, err := c.Call(context.Background(), mustFunction(t, rps.ES4, "GetEIS"), &rps.ES4GetEISRequest{Eid: mustParseHex(t, testEID)}, resp)
	require.NoError(t, err)
	require.NotNil(t, resp.Eis)
	assert.Equal(t, testEID, resp.Eis.EumSignedInfo.Eid.String(), "normalised")
	require.NotNil(t, x.EIDWarning)
	assert.ErrorIs(t, x.EIDWarning, esimgw.ErrASCIIHexEID)
	assert.Equal(t, raw, x.EIDWarning.Raw)
	assert.Equal(t, "Eis/EumSignedInfo/Eid", x.EIDWarning.Field)

	// The typed result of the same answer carries the normalised EIS.
	r, err := esimgw.CallResult(context.Background(), c, mustFunction(t, rps.ES4, "GetEIS"), &rps.ES4GetEISRequest{Eid: mustParseHex(t, testEID)},
		&rps.ES4GetEISResponse{}, esimgw.EISResultOf)
	require.NoError(t, err)
	assert.Equal(t, testEID, r.EIS.EumSignedInfo.Eid.String())
}

func mustParseHex(t *testing.T, s string) rps.HexBinary {
	t.Helper()
	b, err := rps.ParseHexBinary(s)
	require.NoError(t, err)
	return b
}

package esimgw_test

// Issue 17, defect 3: Njiwa (the open-source SGP.02 SM-SR/SM-DP: JAX-WS, SOAP 1.1 rpc/literal,
// esim-messaging/1) end to end. Its shapes, from its sources (docs/wire.md sections 2, 4.2, 4.3): headers
// in the 2007/05 metadata namespace with a lower-case relatesTo, the body wrapper named after its Java
// operation without the interface prefix (EnableProfileResponse, DeleteISDPResponse,
// DeleteProfilePResponse, AuditEISPResponse), children partly unqualified (ProcessingEnd,
// CompletionTimeStamp), "ProfileManagent" Action folders and "ES3/" Actions on ES2 callbacks.

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

const njiwaMeta = "http://www.w3.org/2007/05/addressing/metadata"

// njiwaEnvelope is a SOAP 1.1 message as Njiwa's JAX-WS proxies write it.
func njiwaEnvelope(action, relatesTo, wrapper, children string) []byte {
	h := `<From xmlns="` + njiwaMeta + `"><Address>https://njiwa.example/sr?EntityId=` + peerOID + `</Address></From>` +
		`<To xmlns="` + njiwaMeta + `">` + replyURL + `</To>`
	if relatesTo != "" {
		h += `<relatesTo xmlns="` + njiwaMeta + `">` + xmlEscape(relatesTo) + `</relatesTo>`
	}
	h += `<Action xmlns="` + njiwaMeta + `">` + action + `</Action>`
	return []byte(`<?xml version="1.0" ?><S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Header>` + h +
		`</S:Header><S:Body><ns2:` + wrapper + ` xmlns:ns2="http://namespaces.gsma.org/esim-messaging/1">` + children +
		`</ns2:` + wrapper + `></S:Body></S:Envelope>`)
}

// njiwaStatus is the start of every Njiwa response: its base fields, ProcessingEnd unqualified.
func njiwaStatus(status string) string {
	return `<ns2:ProcessingStart>2026-12-03T10:00:00Z</ns2:ProcessingStart><ProcessingEnd>2026-12-03T10:00:05Z</ProcessingEnd>` +
		`<ns2:AcceptableValidityPeriod>86400</ns2:AcceptableValidityPeriod><ns2:FunctionExecutionStatus><ns2:Status>` + status +
		`</ns2:Status></ns2:FunctionExecutionStatus>`
}

func postNjiwa(t *testing.T, url string, data []byte, action string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(string(data)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("SOAPAction", `"`+action+`"`)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = res.Body.Close()
	return res.StatusCode
}

func TestNjiwaEndToEnd(t *testing.T) {
	var mu sync.Mutex
	var notes []*esimgw.Notification
	note := func(_ context.Context, n *esimgw.Notification) error {
		mu.Lock()
		defer mu.Unlock()
		notes = append(notes, n)
		return nil
	}
	d, rec := newRecordingDispatcher(esimgw.WithNotificationHandler(esimgw.Notifications{ProfileDisabled: note, SMSRChange: note}))
	callbacks := serveHTTP(t, d)

	// The Njiwa SM-SR / SM-DP: accepts each async request (202) and posts its callback, SOAP 1.1
	// rpc/literal, to the callback server; answers GetEIS at once with its RPC wrapper.
	var njiwa map[string]struct{ action, wrapper, children string }
	g := newFakeGateway(t, func(m *soap.Message) (*http.Response, error) {
		if m.Version != soap.SOAP11 {
			t.Errorf("the client spoke %v to a SOAP 1.1 gateway", m.Version)
		}
		if m.BodyName == "ES4-GetEISRequest" {
			body := njiwaEnvelope("http://gsma.com/ES4/ProfileManagent/ES4-GetEISResponse", m.Header.MessageID, "GetEISResponse",
				njiwaStatus("EXECUTED_SUCCESS")+`<ns2:Eis><ns2:EumSignedInfo><ns2:Eid>`+strings.ToLower(testEID)+`</ns2:Eid></ns2:EumSignedInfo>`+
					`<ns2:Smsr-id>`+peerOID+`</ns2:Smsr-id></ns2:Eis>`)
			r := httpmock.NewBytesResponse(http.StatusOK, body)
			r.Header.Set("Content-Type", "text/xml; charset=utf-8")
			return r, nil
		}
		cb, ok := njiwa[m.BodyName]
		if !ok {
			t.Errorf("unexpected request %s", m.BodyName)
			return accepted(), nil
		}
		relates := m.Header.MessageID
		go postNjiwa(t, callbacks, njiwaEnvelope(cb.action, relates, cb.wrapper, cb.children), cb.action)
		return accepted(), nil
	})
	njiwa = map[string]struct{ action, wrapper, children string }{
		"ES4-EnableProfileRequest": {"http://gsma.com/ES4/ProfileManagentCallBack/ES4-EnableProfile", "EnableProfileResponse",
			njiwaStatus("EXECUTED_SUCCESS") + `<ns2:EuiccResponseData>9000</ns2:EuiccResponseData>`},
		"ES4-DisableProfileRequest": {"http://gsma.com/ES4/ProfileManagentCallBack/ES4-DisableProfile", "DisableProfileResponse",
			njiwaStatus("FAILED")},
		"ES4-DeleteProfileRequest": {"http://gsma.com/ES4/ProfileManagentCallBack/ES4-DeleteProfile", "DeleteISDPResponse",
			njiwaStatus("EXECUTED_SUCCESS")},
		"ES4-AuditEISRequest": {"http://gsma.com/ES4/ProfileManagentCallBack/ES4-AuditEIS", "AuditEISPResponse",
			njiwaStatus("EXECUTED_SUCCESS") + `<ns2:Eis><ns2:Smsr-id>` + peerOID + `</ns2:Smsr-id><ns2:ProfileInfo><ns2:Iccid>` + testICCID +
				`</ns2:Iccid><ns2:State>Enabled</ns2:State></ns2:ProfileInfo></ns2:Eis>`},
		"ES4-PrepareSMSRChangeRequest": {"http://gsma.com/ES4/eUICCManagementCallBack/ES4-PrepareSMSRChange", "PrepareSMSRChangeResponse",
			njiwaStatus("EXECUTED_SUCCESS")},
		"ES2-EnableProfileRequest": {"http://gsma.com/ES3/ProfileManagentCallBack/ES2-EnableProfile", "EnableProfileResponse",
			njiwaStatus("EXECUTED_SUCCESS")},
		"ES2-DeleteProfileRequest": {"http://gsma.com/ES3/ProfileManagentCallBack/ES2-DeleteProfile", "DeleteProfilePResponse",
			njiwaStatus("EXECUTED_SUCCESS")},
		"ES2-DownloadProfileRequest": {"http://gsma.com/ES2/ProfileManagentCallBack/ES2-DownloadProfile", "DownloadProfileResponse",
			njiwaStatus("EXECUTED_SUCCESS") + `<ns2:Iccid>` + testICCID + `</ns2:Iccid><ns2:EuiccResponseData>9000</ns2:EuiccResponseData>`},
	}
	soap11 := esimgw.WithSOAPOptions(soap.WithSOAPVersion(soap.SOAP11))
	es4 := newEngine(t, "ES4", g, esimgw.WithDispatcher(d), esimgw.WithReplyTo(replyURL), soap11)
	es2 := newEngine(t, "ES2", g, esimgw.WithDispatcher(d), esimgw.WithReplyTo(replyURL), soap11)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// Sync: Njiwa's GetEISResponse wrapper (and its ES3/ProfileManagent Action) is ES4-GetEISResponse.
	var eis rps.ES4GetEISResponse
	_, err := es4.Call(ctx, mustFunction(t, rps.ES4, "GetEIS"), &rps.ES4GetEISRequest{BaseRequestType: rps.BaseRequestType{FunctionCallIdentifier: "n-geteis"},
		Eid: rps.HexBinary(mustHexEID(t))}, &eis)
	require.NoError(t, err)
	require.NotNil(t, eis.Eis)
	assert.Equal(t, testEID, eis.Eis.EumSignedInfo.Eid.String())

	eid := rps.HexBinary(mustHexEID(t))
	base := func(id string) rps.BaseRequestType { return rps.BaseRequestType{FunctionCallIdentifier: id} }
	for _, tc := range []struct {
		c       *esimgw.Client
		fn      string
		req     rps.Request
		resp    rps.Response
		failed  bool
		checked func(t *testing.T, v rps.Response)
	}{
		{c: es4, fn: "EnableProfile", req: &rps.ES4EnableProfileRequest{BaseRequestType: base("n1"), Eid: eid, Iccid: testICCID}, resp: &rps.ES4EnableProfileResponse{},
			checked: func(t *testing.T, v rps.Response) {
				assert.Equal(t, rps.HexBinary{0x90, 0}, v.(*rps.ES4EnableProfileResponse).EuiccResponseData)
			}},
		{c: es4, fn: "DisableProfile", req: &rps.ES4DisableProfileRequest{BaseRequestType: base("n2"), Eid: eid, Iccid: testICCID}, resp: &rps.ES4DisableProfileResponse{}, failed: true},
		{c: es4, fn: "DeleteProfile", req: &rps.ES4DeleteProfileRequest{BaseRequestType: base("n3"), Eid: eid, Iccid: testICCID}, resp: &rps.ES4DeleteProfileResponse{}},
		{c: es4, fn: "AuditEIS", req: &rps.ES4AuditEISRequest{BaseRequestType: base("n4"), Eid: eid}, resp: &rps.ES4AuditEISResponse{},
			checked: func(t *testing.T, v rps.Response) {
				e := v.(*rps.ES4AuditEISResponse).Eis
				require.NotNil(t, e)
				require.Len(t, e.ProfileInfo, 1)
				assert.Equal(t, rps.ProfileStateTypeEnabled, e.ProfileInfo[0].State)
			}},
		{c: es4, fn: "PrepareSMSRChange", req: &rps.ES4PrepareSMSRChangeRequest{BaseRequestType: base("n5"), Eid: eid, CurrentSmsrID: peerOID}, resp: &rps.ES4PrepareSMSRChangeResponse{}},
		{c: es2, fn: "EnableProfile", req: &rps.ES2EnableProfileRequest{BaseRequestType: base("n6"), Eid: eid, SmsrID: peerOID, Iccid: testICCID}, resp: &rps.ES2EnableProfileResponse{}},
		{c: es2, fn: "DeleteProfile", req: &rps.ES2DeleteProfileRequest{BaseRequestType: base("n7"), Eid: eid, Iccid: testICCID, SmsrID: peerOID}, resp: &rps.ES2DeleteProfileResponse{}},
		{c: es2, fn: "DownloadProfile", req: &rps.ES2DownloadProfileRequest{BaseRequestType: base("n8"), Eid: eid, SmsrID: peerOID, Iccid: testICCID}, resp: &rps.ES2DownloadProfileResponse{},
			checked: func(t *testing.T, v rps.Response) {
				assert.Equal(t, testICCID, v.(*rps.ES2DownloadProfileResponse).Iccid)
			}},
	} {
		t.Run(tc.c.Interface()+" "+tc.fn, func(t *testing.T) {
			p, _, err := tc.c.Start(ctx, mustFunction(t, rps.Interface(tc.c.Interface()), tc.fn), tc.req, tc.resp)
			require.NoError(t, err)
			op := esimgw.NewOperation[rps.Response](d.Tracker(), p, nil)
			v, err := op.Wait(ctx)
			if tc.failed {
				require.ErrorIs(t, err, esimgw.ErrFailed, "Njiwa's FAILED reaches the waiter")
				return
			}
			require.NoError(t, err, "the Njiwa callback resolved the operation")
			if tc.checked != nil {
				tc.checked(t, v)
			}
		})
	}
	assert.Empty(t, rec.all(), "every Njiwa callback matched its operation")

	// Notifications, Njiwa style: RPC wrappers, ProfileManagentCallBack Actions, CompletionTimeStamp.
	dis := "http://gsma.com/ES2/ProfileManagentCallBack/ES2-HandleProfileDisabledNotification"
	assert.Equal(t, http.StatusAccepted, postNjiwa(t, callbacks, njiwaEnvelope(dis, "", "HandleProfileDisabledNotification",
		`<ns2:Eid>`+testEID+`</ns2:Eid><ns2:Iccid>`+testICCID+`</ns2:Iccid><CompletionTimeStamp>2026-12-03T10:00:41Z</CompletionTimeStamp>`), dis))
	smsr := "http://gsma.com/ES4/ProfileManagentCallBack/ES4-HandleSMSRChangeNotification"
	assert.Equal(t, http.StatusAccepted, postNjiwa(t, callbacks, njiwaEnvelope(smsr, "", "HandleSMSRChangeNotification",
		`<ns2:Eis><ns2:EumSignedInfo><ns2:Eid>`+testEID+`</ns2:Eid></ns2:EumSignedInfo><ns2:Smsr-id>1.3.6.1.4.1.99999.21</ns2:Smsr-id></ns2:Eis>`+
			`<CompletionTimeStamp>2026-12-03T10:00:42Z</CompletionTimeStamp>`), smsr))
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, notes, 2)
	assert.Equal(t, "ES2", notes[0].Interface)
	assert.Equal(t, esimgw.ProfileDisabled, notes[0].Kind)
	assert.Equal(t, testICCID, notes[0].Iccid)
	assert.Equal(t, time.Date(2026, 12, 3, 10, 0, 41, 0, time.UTC), notes[0].CompletionTimestamp.UTC())
	assert.Equal(t, "ES4", notes[1].Interface)
	assert.Equal(t, esimgw.SMSRChange, notes[1].Kind)
	require.NotNil(t, notes[1].EIS)
	assert.Equal(t, "1.3.6.1.4.1.99999.21", notes[1].EIS.SmsrID)
	assert.Empty(t, rec.all())
}

func mustHexEID(t *testing.T) []byte {
	t.Helper()
	b, err := rps.ParseHexBinary(testEID)
	require.NoError(t, err)
	return b
}

// TestCanonicalNjiwaNames: the spellings Njiwa and relaying SM-DPs use, and what they stand for.
func TestCanonicalNjiwaNames(t *testing.T) {
	d, rec := newRecordingDispatcher()
	for _, tc := range []struct {
		wrapper, action, wantIface, wantFunction string
	}{
		{"EnableProfileResponse", "http://gsma.com/ES4/ProfileManagentCallBack/ES4-EnableProfile", "ES4", "EnableProfile"},
		{"DeleteISDPResponse", "http://gsma.com/ES4/ProfileManagentCallBack/ES4-DeleteISDP", "ES4", "DeleteProfile"},
		{"AuditEISPResponse", "http://gsma.com/ES4/ProfileManagentCallBack/ES4-AuditEISResponse", "ES4", "AuditEIS"},
		{"SMSRChangeResponse", "http://gsma.com/ES4/eUICCManagementCallBack/ES4-SMSRChange", "ES4", "SMSRChange"},
		{"DisableProfileResponse", "http://gsma.com/ES3/ProfileManagentCallBack/ES2-DisableProfile", "ES2", "DisableProfile"},
		{"ES3-EnableProfileResponse", "http://gsma.com/ES3/ProfileManagentCallBack/ES3-EnableProfile", "ES2", "EnableProfile"},
		{"ES3-DeleteProfileResponse", "", "ES2", "DeleteProfile"},
		{"DownloadProfileResponse", "http://gsma.com/ES2/PlatformManagement/ES2-DownloadProfileResponse", "ES2", "DownloadProfile"}, // WHTY
		{"EnableProfileResponse", "http://gsma.com/ES2/PlatformManagement/ES2-EnableProfileResponse", "ES2", "EnableProfile"},       // WHTY
	} {
		t.Run(tc.wrapper+" "+tc.action, func(t *testing.T) {
			before := len(rec.all())
			status := postNjiwa(t, serveHTTP(t, d), njiwaEnvelope(tc.action, "//"+ourOID+"/urn:uuid:nobody-waits", tc.wrapper, njiwaStatus("EXECUTED_SUCCESS")), tc.action)
			require.Equal(t, http.StatusAccepted, status)
			got := rec.all()
			require.Len(t, got, before+1)
			in := got[len(got)-1]
			assert.Equal(t, esimgw.InboundCallback, in.Kind, "recognised as a callback, not an unknown element")
			assert.Equal(t, tc.wantIface, in.Interface)
			assert.Equal(t, tc.wantFunction, in.Function)
		})
	}
	// A wrapper whose interface nothing names stays unknown (acknowledged, handed over raw).
	status := postNjiwa(t, serveHTTP(t, d), njiwaEnvelope("urn:whatever", "", "EnableProfileResponse", njiwaStatus("EXECUTED_SUCCESS")), "urn:whatever")
	require.Equal(t, http.StatusAccepted, status)
	got := rec.all()
	assert.Equal(t, esimgw.InboundUnknown, got[len(got)-1].Kind)
}

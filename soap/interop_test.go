package soap

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 17, defect 3: Njiwa (JAX-WS, SOAP 1.1 rpc/literal) posts SOAP 1.1 envelopes with its headers in
// the 2007/05 metadata namespace and a lower-case relatesTo.
const njiwaSOAP11Callback = `<?xml version="1.0" ?><S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Header>` +
	`<From xmlns="http://www.w3.org/2007/05/addressing/metadata"><Address>http://sr?EntityId=1.2.3</Address></From>` +
	`<To xmlns="http://www.w3.org/2007/05/addressing/metadata">https://mno/cb</To>` +
	`<relatesTo xmlns="http://www.w3.org/2007/05/addressing/metadata">//1.2/urn:uuid:abc?TransactionId=t1</relatesTo>` +
	`<Action xmlns="http://www.w3.org/2007/05/addressing/metadata" S:mustUnderstand="1">http://gsma.com/ES4/ProfileManagentCallBack/ES4-EnableProfile</Action>` +
	`</S:Header><S:Body><ns2:EnableProfileResponse xmlns:ns2="http://namespaces.gsma.org/esim-messaging/1"><Eid>e</Eid></ns2:EnableProfileResponse></S:Body></S:Envelope>`

func TestReadSOAP11(t *testing.T) {
	m, err := ReadMessage([]byte(njiwaSOAP11Callback), ReadOptions{})
	require.NoError(t, err)
	assert.Equal(t, SOAP11, m.Version)
	assert.Equal(t, "//1.2/urn:uuid:abc?TransactionId=t1", m.Header.RelatesTo)
	assert.Equal(t, "http://gsma.com/ES4/ProfileManagentCallBack/ES4-EnableProfile", m.Header.Action)
	assert.Equal(t, "http://sr?EntityId=1.2.3", m.Header.From)
	assert.Equal(t, "EnableProfileResponse", m.BodyName)
	assert.Equal(t, NSRPSv1, m.BodySpace)
	var body testBody
	require.NoError(t, m.DecodeBody(&body))
	assert.Equal(t, "e", body.Eid)

	// A SOAP 1.1 fault, as JAX-WS writes it.
	fault := `<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><S:Fault><faultcode>S:Client</faultcode>` +
		`<faultstring>bad</faultstring></S:Fault></S:Body></S:Envelope>`
	m, err = ReadMessage([]byte(fault), ReadOptions{})
	require.NoError(t, err)
	require.NotNil(t, m.Fault)
	assert.Equal(t, FaultSender, m.Fault.Code)
}

// Issue 17, defect 2: WS-Addressing headers with no namespace, as an operator's integration templates
// write them, are read by local name.
func TestReadUnqualifiedAddressingHeaders(t *testing.T) {
	doc := `<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Header>` +
		`<From><Address>http://sr?EntityId=1.2.3</Address></From><To>https://mno/cb</To>` +
		`<MessageID>//1.2/urn:uuid:cb1</MessageID><Action>http://gsma.com/ES4/PlatformManagementCallBack/ES4-EnableProfile</Action>` +
		`<RelatesTo RelationshipType="http://www.w3.org/2005/08/addressing/reply">//1.3/urn:uuid:req?TransactionId=t9</RelatesTo>` +
		`</env:Header><env:Body><rps:ES4-EnableProfileResponse xmlns:rps="http://namespaces.gsma.org/esim-messaging/3"/></env:Body></env:Envelope>`
	m, err := ReadMessage([]byte(doc), ReadOptions{})
	require.NoError(t, err)
	assert.Equal(t, Header{From: "http://sr?EntityId=1.2.3", To: "https://mno/cb", MessageID: "//1.2/urn:uuid:cb1",
		Action: "http://gsma.com/ES4/PlatformManagementCallBack/ES4-EnableProfile", RelatesTo: "//1.3/urn:uuid:req?TransactionId=t9",
		RelationshipType: RelationshipReply}, m.Header)

	// An unqualified header of another name is still just an unknown header.
	doc = strings.Replace(doc, "<To>https://mno/cb</To>", "<Other>x</Other>", 1)
	m, err = ReadMessage([]byte(doc), ReadOptions{})
	require.NoError(t, err)
	assert.Empty(t, m.Header.To)
}

func TestHandlerSOAP11(t *testing.T) {
	var got []*Message
	h := NewHandler(MessageHandlerFunc(func(ctx context.Context, m *Message) (*Reply, error) {
		got = append(got, m)
		switch m.Header.MessageID {
		case "reject":
			return nil, SenderFault("no such profile", "wsa:InvalidAddressingHeader")
		case "sync":
			return &Reply{Header: Header{RelatesTo: "sync", Action: "urn:answer"}, Body: &testBody{Name: "syncResponse"}}, nil
		}
		return nil, nil
	}), WithHandlerLogger(newTextLogger(io.Discard)))
	srv := httptest.NewServer(h)
	defer srv.Close()
	post := func(body string) (*http.Response, []byte) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		req.Header.Set("Content-Type", "text/xml; charset=utf-8")
		req.Header.Set("SOAPAction", `"http://gsma.com/ES4/ProfileManagentCallBack/ES4-EnableProfile"`)
		res, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, b
	}
	env11 := func(id string) string {
		return string(AppendEnvelopeVersion(nil, SOAP11, &Header{MessageID: id}, &testBody{Name: "x"}))
	}

	res, body := post(njiwaSOAP11Callback)
	assert.Equal(t, http.StatusAccepted, res.StatusCode, string(body))
	require.Len(t, got, 1)
	assert.Equal(t, SOAP11, got[0].Version)

	res, body = post(env11("reject"))
	assert.Equal(t, http.StatusInternalServerError, res.StatusCode, "SOAP 1.1 answers every fault with 500")
	assert.Equal(t, "text/xml; charset=utf-8", res.Header.Get("Content-Type"))
	m, err := ReadMessage(body, ReadOptions{})
	require.NoError(t, err)
	assert.Equal(t, SOAP11, m.Version, "a fault is answered in the version that came in")
	require.NotNil(t, m.Fault)
	assert.Equal(t, "wsa:InvalidAddressingHeader", m.Fault.Code, "SOAP 1.1 carries the subcode as faultcode")
	assert.Equal(t, "no such profile", m.Fault.Reason)

	res, body = post(env11("sync"))
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "text/xml; charset=utf-8", res.Header.Get("Content-Type"))
	m, err = ReadMessage(body, ReadOptions{})
	require.NoError(t, err)
	assert.Equal(t, SOAP11, m.Version)
	assert.Equal(t, "sync", m.Header.RelatesTo)
	assert.Contains(t, string(body), `<wsa:Action env:mustUnderstand="1">urn:answer</wsa:Action>`)

	// A SOAP 1.1 envelope that is not well formed is refused in SOAP 1.1 too.
	res, body = post(`<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><a>`)
	assert.Equal(t, http.StatusInternalServerError, res.StatusCode)
	m, err = ReadMessage(body, ReadOptions{})
	require.NoError(t, err)
	assert.Equal(t, SOAP11, m.Version)
	assert.Contains(t, string(body), "<faultcode>env:Client</faultcode>", "SOAP 1.2's Sender is 1.1's Client")
	assert.Len(t, got, 3, "refused messages never reach the application")
}

func TestClientSOAP11(t *testing.T) {
	c, mt := mockedClient(t, WithSOAPVersion(SOAP11))
	var sent *http.Request
	var sentBody []byte
	mt.RegisterResponder(http.MethodPost, endpoint, func(r *http.Request) (*http.Response, error) {
		sent = r
		sentBody, _ = io.ReadAll(r.Body)
		res := httpmock.NewBytesResponse(200, AppendEnvelopeVersion(nil, SOAP11, &Header{RelatesTo: testMsgID}, &testBody{Name: "ES4-GetEISResponse"}))
		res.Header.Set("Content-Type", "text/xml; charset=utf-8")
		return res, nil
	})
	h, body := request()
	r, err := c.Call(context.Background(), endpoint, h, body)
	require.NoError(t, err)
	assert.Equal(t, "text/xml; charset=utf-8", sent.Header.Get("Content-Type"))
	assert.Equal(t, `"`+testAction+`"`, sent.Header.Get("SOAPAction"))
	m, err := ReadMessage(sentBody, ReadOptions{})
	require.NoError(t, err)
	assert.Equal(t, SOAP11, m.Version)
	assert.Equal(t, testAction, m.Header.Action)
	require.NotNil(t, r.Message)
	assert.Equal(t, SOAP11, r.Message.Version)
	assert.Equal(t, "ES4-GetEISResponse", r.Message.BodyName)
}

// Issue 17, defect 4: a 2xx carrying an envelope whose Body is empty (node-soap's one-way answer) is an
// acceptance, not a failure.
func TestCallEmptyBodyEnvelopeIsAcceptance(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		doc    string
		ok     bool
	}{
		{"202 empty Body", 202, `<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body></soap:Body></soap:Envelope>`, true},
		{"200 self-closed Body with headers", 200, `<?xml version="1.0"?><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Header/><soap:Body/></soap:Envelope>`, true},
		{"202 SOAP 1.1 empty Body", 202, `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>`, true},
		{"500 empty Body is no acceptance", 500, `<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body/></soap:Envelope>`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mt := mockedClient(t, fastRetry(1))
			mt.RegisterResponder(http.MethodPost, endpoint, func(r *http.Request) (*http.Response, error) {
				res := httpmock.NewStringResponse(tc.status, tc.doc)
				res.Header.Set("Content-Type", "application/soap+xml; charset=utf-8")
				return res, nil
			})
			h, body := request()
			r, err := c.Call(context.Background(), endpoint, h, body)
			if !tc.ok {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.status, r.StatusCode)
			assert.Nil(t, r.Message, "an acceptance has no message")
		})
	}
}

func TestHTTPAction(t *testing.T) {
	for _, tc := range []struct {
		h      http.Header
		action string
		ok     bool
	}{
		{http.Header{"Content-Type": {`application/soap+xml; charset=utf-8; action="urn:a"`}}, "urn:a", true},
		{http.Header{"Content-Type": {`text/xml`}, "Soapaction": {`"urn:b"`}}, "urn:b", true},
		{http.Header{"Content-Type": {`text/xml`}, "Soapaction": {`""`}}, "", true},
		{http.Header{"Content-Type": {`application/soap+xml`}}, "", false},
	} {
		a, ok := HTTPAction(tc.h)
		assert.Equal(t, tc.action, a)
		assert.Equal(t, tc.ok, ok)
	}
}

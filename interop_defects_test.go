package esimgw_test

// Regression tests for the numbered defects of issue 17, each with a message of the shape a real peer sent.

import (
	"context"
	"net/http"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
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

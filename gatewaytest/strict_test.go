package gatewaytest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// TestStrictWire proves the mock refuses what a real gateway refuses, with the fault it would give.
func TestStrictWire(t *testing.T) {
	const enable = "http://gsma.com/ES4/PlatformManagement/ES4-EnableProfile"
	body := func(inner string) string {
		return `<rps:ES4-EnableProfileRequest>` + inner + `</rps:ES4-EnableProfileRequest>`
	}
	good := `<rps:FunctionCallIdentifier>x1</rps:FunctionCallIdentifier><rps:Eid>` + gatewaytest.DefaultEID +
		`</rps:Eid><rps:Iccid>` + gatewaytest.DefaultDisabledICCID + `</rps:Iccid>`
	for _, tc := range []struct {
		name      string
		iface     gatewaytest.Interface
		profile   gatewaytest.Behavior
		headers   func(o *op) string
		body      string
		status    int
		subcode   string
		subcodes  []string // instead of subcode: nested subcodes (Metro's wsa:InvalidAddressingHeader/...)
		reasonHas string
		// httpAction is the action outside the envelope: "" sends the header's wsa:Action, "-" none.
		httpAction string
		lenient    bool // WithStrict(false)
		detail     string
	}{
		{name: "well formed", body: body(good), status: http.StatusAccepted},
		{name: "missing MessageID", headers: func(o *op) string { return hdrs(o, enable, "MessageID") }, body: body(good),
			status: 400, subcode: gatewaytest.SubcodeHeaderRequired},
		{name: "missing From", headers: func(o *op) string { return hdrs(o, enable, "From") }, body: body(good),
			status: 400, subcode: gatewaytest.SubcodeHeaderRequired},
		{name: "header in the 2007/05 namespace", headers: func(o *op) string {
			h := strings.Replace(hdrs(o, enable, ""), "<wsa:MessageID>", `<m:MessageID xmlns:m="`+soap.NSAddressingMetadata+`">`, 1)
			return strings.Replace(h, "</wsa:MessageID>", "</m:MessageID>", 1)
		}, body: body(good), status: 400, subcode: gatewaytest.SubcodeInvalidHeader},
		{name: "From without EntityId", headers: func(o *op) string {
			return strings.Replace(hdrs(o, enable, ""), "?EntityId="+o.g.OperatorID, "", 1)
		}, body: body(good), status: 400, subcode: gatewaytest.SubcodeInvalidHeader},
		{name: "unknown Action", headers: func(o *op) string { return hdrs(o, "http://gsma.com/ES4/PlatformManagement/ES4-Reboot", "") },
			body: body(good), status: 400, subcode: gatewaytest.SubcodeActionNotSupp},
		{name: "ES2 Action on ES4", headers: func(o *op) string { return hdrs(o, "http://gsma.com/ES2/PlatformManagement/ES2-EnableProfile", "") },
			body: body(good), status: 400, subcode: gatewaytest.SubcodeActionNotSupp},
		{name: "Action does not match body", headers: func(o *op) string { return hdrs(o, "http://gsma.com/ES4/PlatformManagement/ES4-DisableProfile", "") },
			body: body(good), status: 400, subcode: gatewaytest.SubcodeActionNotSupp},
		{name: "body in the wrong namespace", body: `<x:ES4-EnableProfileRequest xmlns:x="http://namespaces.gsma.org/esim-messaging/1">` +
			strings.ReplaceAll(good, "rps:", "x:") + `</x:ES4-EnableProfileRequest>`, status: 400, reasonHas: "schema validation"},
		{name: "child in the wrong namespace", body: body(strings.Replace(good, "<rps:Eid>"+gatewaytest.DefaultEID+"</rps:Eid>",
			`<e:Eid xmlns:e="urn:other">`+gatewaytest.DefaultEID+`</e:Eid>`, 1)), status: 400, reasonHas: "namespace"},
		{name: "wrong element order", body: body(`<rps:FunctionCallIdentifier>x1</rps:FunctionCallIdentifier><rps:Iccid>` +
			gatewaytest.DefaultDisabledICCID + `</rps:Iccid><rps:Eid>` + gatewaytest.DefaultEID + `</rps:Eid>`), status: 400, reasonHas: "out of order"},
		{name: "misspelt element", body: body(strings.ReplaceAll(good, "rps:Iccid", "rps:ICCID")), status: 400, reasonHas: "schema validation"},
		{name: "missing required element", body: body(`<rps:FunctionCallIdentifier>x1</rps:FunctionCallIdentifier><rps:Eid>` +
			gatewaytest.DefaultEID + `</rps:Eid>`), status: 400, reasonHas: "missing element Iccid"},
		{name: "unknown element", body: body(good + `<rps:Extra>1</rps:Extra>`), status: 400, reasonHas: "unexpected element Extra"},
		{name: "bad hex", body: body(strings.Replace(good, gatewaytest.DefaultEID, "zz", 1)), status: 400, reasonHas: "schema validation"},
		// Issue 17, defect 6: what Metro refuses, with Metro's fault (HTTP 500, ProblemHeaderQName).
		{name: "MessageID twice", headers: func(o *op) string {
			return hdrs(o, enable, "") + `<wsa:MessageID>//` + o.g.OperatorID + `/urn:uuid:second</wsa:MessageID>`
		}, body: body(good), status: 500, subcodes: []string{gatewaytest.SubcodeInvalidHeader, gatewaytest.SubcodeInvalidCardinality},
			reasonHas: "wsa:MessageID appears 2 times", detail: "wsa:MessageID"},
		{name: "Action twice (zeep with WsAddressingPlugin on top of its own headers)", headers: func(o *op) string {
			return hdrs(o, enable, "") + `<wsa:Action>` + enable + `</wsa:Action>`
		}, body: body(good), status: 500, subcodes: []string{gatewaytest.SubcodeInvalidHeader, gatewaytest.SubcodeInvalidCardinality}, detail: "wsa:Action"},
		{name: "To twice", headers: func(o *op) string { return hdrs(o, enable, "") + `<wsa:To>https://elsewhere</wsa:To>` },
			body: body(good), status: 500, subcodes: []string{gatewaytest.SubcodeInvalidHeader, gatewaytest.SubcodeInvalidCardinality}, detail: "wsa:To"},
		{name: "HTTP action contradicts wsa:Action", httpAction: "http://gsma.com/ES4/PlatformManagement/ES4-DisableProfile", body: body(good),
			status: 500, subcodes: []string{gatewaytest.SubcodeInvalidHeader, gatewaytest.SubcodeActionMismatch}, detail: "wsa:Action"},
		{name: "no HTTP action is no contradiction", httpAction: "-", body: body(good), status: http.StatusAccepted},
		{name: "lenient: MessageID twice accepted", lenient: true, headers: func(o *op) string {
			return hdrs(o, enable, "") + `<wsa:MessageID>//` + o.g.OperatorID + `/urn:uuid:second</wsa:MessageID>`
		}, body: body(good), status: http.StatusAccepted},
		{name: "lenient: contradicting HTTP action accepted", lenient: true, httpAction: "urn:whatever", body: body(good), status: http.StatusAccepted},
		{name: "KPN: function outside the subset", profile: gatewaytest.ProfileKPN,
			headers: func(o *op) string { return hdrs(o, "http://gsma.com/ES4/PlatformManagement/ES4-DisableProfile", "") },
			body:    `<rps:ES4-DisableProfileRequest>` + good + `</rps:ES4-DisableProfileRequest>`, status: 400, subcode: gatewaytest.SubcodeActionNotSupp},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newOp(t, gatewaytest.WithProfile(tc.profile), gatewaytest.WithStrict(!tc.lenient))
			h := hdrs(o, enable, "")
			if tc.headers != nil {
				h = tc.headers(o)
			}
			action := tc.httpAction
			switch action {
			case "":
				action = h[strings.Index(h, "<wsa:Action>")+len("<wsa:Action>") : strings.Index(h, "</wsa:Action>")]
			case "-":
				action = ""
			}
			payload := `<?xml version="1.0" encoding="UTF-8"?><env:Envelope xmlns:env="` + soap.NSEnvelope + `" xmlns:wsa="` +
				soap.NSAddressing + `" xmlns:rps="` + soap.NSRPS + `"><env:Header>` + h + `</env:Header><env:Body>` + tc.body + `</env:Body></env:Envelope>`
			resp, err := o.client.Post(context.Background(), o.g.ES4URL, action, []byte(payload))
			if tc.status == http.StatusAccepted {
				require.NoError(t, err)
				assert.Equal(t, http.StatusAccepted, resp.StatusCode)
				return
			}
			var f *soap.Fault
			require.True(t, errors.As(err, &f), "want a SOAP fault, got %v", err)
			assert.Equal(t, tc.status, f.HTTPStatus)
			assert.Equal(t, soap.FaultSender, f.Code)
			if tc.subcode != "" {
				assert.Equal(t, []string{tc.subcode}, f.Subcodes)
			}
			if tc.subcodes != nil {
				assert.Equal(t, tc.subcodes, f.Subcodes)
			}
			if tc.detail != "" {
				assert.Contains(t, string(f.Detail), ">"+tc.detail+"</", "Metro names the header in wsa:ProblemHeaderQName")
			}
			assert.Contains(t, f.Reason, tc.reasonHas)
			reqs := o.g.Requests()
			require.NotEmpty(t, reqs)
			assert.NotNil(t, reqs[len(reqs)-1].Fault)
			assert.Zero(t, o.g.Executions("x1"))
		})
	}
}

// hdrs writes the addressing headers of a request to the mock's ES4, leaving out omit.
func hdrs(o *op, action, omit string) string {
	var b strings.Builder
	add := func(name, xml string) {
		if name != omit {
			b.WriteString(xml)
		}
	}
	add("From", `<wsa:From><wsa:Address>https://operator.example?EntityId=`+o.g.OperatorID+`</wsa:Address></wsa:From>`)
	add("To", `<wsa:To>`+o.g.ES4URL+`</wsa:To>`)
	add("MessageID", `<wsa:MessageID>`+strings.ReplaceAll(soap.NewMessageID(o.g.OperatorID, time.Now()).String(), "&", "&amp;")+`</wsa:MessageID>`)
	add("Action", `<wsa:Action>`+action+`</wsa:Action>`)
	add("ReplyTo", `<wsa:ReplyTo><wsa:Address>`+o.cb.url("/cb")+`</wsa:Address></wsa:ReplyTo>`)
	return b.String()
}

func TestNoReplyToNoCallback(t *testing.T) {
	o := newOp(t)
	body := &rps.ES4EnableProfileRequest{BaseRequestType: base(), Eid: hexEID(t, gatewaytest.DefaultEID), Iccid: gatewaytest.DefaultDisabledICCID}
	h := o.header(t, body)
	h.ReplyTo = ""
	resp, err := o.client.Call(context.Background(), o.g.ES4URL, h, body)
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	// Executed all the same, but no callback.
	require.Eventually(t, func() bool {
		r := o.g.Requests()
		return r[len(r)-1].Status == rps.StatusTypeEXECUTED_SUCCESS
	}, wait, 5*time.Millisecond)
	assert.Empty(t, o.g.Callbacks())
	e, _ := o.g.EUICC(gatewaytest.DefaultEID)
	en, _ := e.Enabled()
	assert.Equal(t, gatewaytest.DefaultDisabledICCID, en.ICCID)
}

func TestRetriedRequestExecutedOnce(t *testing.T) {
	o := newOp(t)
	body := &rps.ES4EnableProfileRequest{BaseRequestType: base(), Eid: hexEID(t, gatewaytest.DefaultEID), Iccid: gatewaytest.DefaultDisabledICCID}
	h := o.header(t, body)
	for range 3 {
		resp, err := o.client.Call(context.Background(), o.g.ES4URL, h, body)
		require.NoError(t, err)
		require.Equal(t, http.StatusAccepted, resp.StatusCode)
	}
	o.cb.next(t, "ES4-EnableProfileResponse")
	assert.Equal(t, 1, o.g.Executions(body.FunctionCallIdentifier))
	assert.Equal(t, 3, o.g.Arrivals(body.FunctionCallIdentifier))
	dups := 0
	for _, r := range o.g.Requests() {
		if r.Duplicate {
			dups++
		}
	}
	assert.Equal(t, 2, dups)
	require.Len(t, o.g.Callbacks(), 1)

	// Sync: the same response again.
	gb := &rps.ES4GetEISRequest{BaseRequestType: base(), Eid: hexEID(t, gatewaytest.DefaultEID)}
	gh := o.header(t, gb)
	r1, err := o.client.Call(context.Background(), o.g.ES4URL, gh, gb)
	require.NoError(t, err)
	r2, err := o.client.Call(context.Background(), o.g.ES4URL, gh, gb)
	require.NoError(t, err)
	assert.Equal(t, r1.Message.Header.MessageID, r2.Message.Header.MessageID)
	assert.Equal(t, 1, o.g.Executions(gb.FunctionCallIdentifier))
}

// TestStrictSOAP11: a SOAP 1.2 gateway refuses a SOAP 1.1 envelope (VersionMismatch, answered in SOAP
// 1.1); WithStrict(false) takes it, so that a SOAP 1.1 client mode can be tried against the mock.
func TestStrictSOAP11(t *testing.T) {
	for _, strict := range []bool{true, false} {
		o := newOp(t, gatewaytest.WithStrict(strict))
		c11 := soap.NewClient(soap.WithTLSConfig(o.g.ClientTLSConfig()), soap.WithSOAPVersion(soap.SOAP11),
			soap.WithRetryPolicy(soap.RetryPolicy{MaxAttempts: 1}))
		body := &rps.ES4EnableProfileRequest{BaseRequestType: base(), Eid: hexEID(t, gatewaytest.DefaultEID), Iccid: gatewaytest.DefaultDisabledICCID}
		resp, err := c11.Call(context.Background(), o.g.ES4URL, o.header(t, body), body)
		if strict {
			var f *soap.Fault
			require.ErrorAs(t, err, &f)
			assert.Equal(t, soap.FaultVersionMismatch, f.Code)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, http.StatusAccepted, resp.StatusCode)
		o.cb.next(t, "ES4-EnableProfileResponse")
	}
}

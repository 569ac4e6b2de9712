package es4_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/es4"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

var pol2 = rps.POL2Type{Rule: []rps.POL2RuleType{{
	Subject: rps.POL2SubjectTypePROFILE, Action: rps.POL2ActionTypeDISABLE, Qualification: rps.POL2QualificationTypeNotAllowed,
}}}

var address = rps.SubscriptionAddressType{Imsi: "204080000000001", Msisdn: "31600000001"}

// invocation calls one ES4 function with the test's fixed arguments and per-call options. For an
// asynchronous function it returns the operation's Done channel and key.
type invocation func(ctx context.Context, c *es4.Client, opts ...esimgw.CallOption) (done <-chan struct{}, key correlate.OperationKey, err error)

func asyncOp[T any](op *esimgw.Operation[T], err error) (<-chan struct{}, correlate.OperationKey, error) {
	if err != nil {
		return nil, correlate.OperationKey{}, err
	}
	return op.Done(), op.Key(), nil
}

func syncCall[T any](_ T, err error) (<-chan struct{}, correlate.OperationKey, error) {
	return nil, correlate.OperationKey{}, err
}

// functions lists every ES4 function: its invocation, whether it is asynchronous, and a successful response.
var functions = []struct {
	name   string
	call   invocation
	async  bool
	answer rps.Response
}{
	{"GetEIS", func(ctx context.Context, c *es4.Client, o ...esimgw.CallOption) (<-chan struct{}, correlate.OperationKey, error) {
		return syncCall(c.GetEIS(ctx, testEID, o...))
	}, false, &rps.ES4GetEISResponse{BaseResponseType: success, Eis: &rps.EISType{SmsrID: smsrOID}}},
	{"UpdatePolicyRules", func(ctx context.Context, c *es4.Client, o ...esimgw.CallOption) (<-chan struct{}, correlate.OperationKey, error) {
		return syncCall(c.UpdatePolicyRules(ctx, testEID, testICCID, pol2, o...))
	}, false, &rps.ES4UpdatePolicyRulesResponse{BaseResponseType: success}},
	{"UpdateSubscriptionAddress", func(ctx context.Context, c *es4.Client, o ...esimgw.CallOption) (<-chan struct{}, correlate.OperationKey, error) {
		return syncCall(c.UpdateSubscriptionAddress(ctx, testEID, testICCID, address, o...))
	}, false, &rps.ES4UpdateSubscriptionAddressResponse{BaseResponseType: success}},
	{"AuditEIS", func(ctx context.Context, c *es4.Client, o ...esimgw.CallOption) (<-chan struct{}, correlate.OperationKey, error) {
		return asyncOp(c.AuditEIS(ctx, testEID, []string{testICCID, otherICCID}, o...))
	}, true, &rps.ES4AuditEISResponse{BaseResponseType: success, Eis: &rps.EISType{SmsrID: smsrOID}}},
	{"EnableProfile", func(ctx context.Context, c *es4.Client, o ...esimgw.CallOption) (<-chan struct{}, correlate.OperationKey, error) {
		return asyncOp(c.EnableProfile(ctx, testEID, testICCID, o...))
	}, true, &rps.ES4EnableProfileResponse{BaseResponseType: success}},
	{"DisableProfile", func(ctx context.Context, c *es4.Client, o ...esimgw.CallOption) (<-chan struct{}, correlate.OperationKey, error) {
		return asyncOp(c.DisableProfile(ctx, testEID, testICCID, o...))
	}, true, &rps.ES4DisableProfileResponse{BaseResponseType: success}},
	{"DeleteProfile", func(ctx context.Context, c *es4.Client, o ...esimgw.CallOption) (<-chan struct{}, correlate.OperationKey, error) {
		return asyncOp(c.DeleteProfile(ctx, testEID, testICCID, o...))
	}, true, &rps.ES4DeleteProfileResponse{BaseResponseType: success}},
	{"SetFallBackAttribute", func(ctx context.Context, c *es4.Client, o ...esimgw.CallOption) (<-chan struct{}, correlate.OperationKey, error) {
		return asyncOp(c.SetFallBackAttribute(ctx, testEID, testICCID, o...))
	}, true, &rps.ES4SetFallBackAttributeResponse{BaseResponseType: success}},
	{"PrepareSMSRChange", func(ctx context.Context, c *es4.Client, o ...esimgw.CallOption) (<-chan struct{}, correlate.OperationKey, error) {
		return asyncOp(c.PrepareSMSRChange(ctx, testEID, smsrOID, o...))
	}, true, &rps.ES4PrepareSMSRChangeResponse{BaseResponseType: success}},
	{"SMSRChange", func(ctx context.Context, c *es4.Client, o ...esimgw.CallOption) (<-chan struct{}, correlate.OperationKey, error) {
		return asyncOp(c.SMSRChange(ctx, testEID, "1.3.6.1.4.1.99999.21", o...))
	}, true, &rps.ES4SMSRChangeResponse{BaseResponseType: success}},
}

// TestRequestEnvelopes compares every function's request with its golden file, checks the Content-Type
// action, and that the answer is handled (sync: decoded; async: pending until the callback).
func TestRequestEnvelopes(t *testing.T) {
	for _, f := range functions {
		t.Run(f.name, func(t *testing.T) {
			c, rec, d := mocked(t)
			fn, ok := rps.FunctionByName(rps.ES4, f.name)
			require.True(t, ok)
			if f.async {
				rec.RegisterResponder(http.MethodPost, endpoint, accepted())
			} else {
				rec.RegisterResponder(http.MethodPost, endpoint, answer(f.answer))
			}
			done, key, err := f.call(t.Context(), c, esimgw.WithFunctionCallIdentifier("fc-"+f.name), esimgw.WithCallValidityPeriod(10*time.Minute))
			require.NoError(t, err)
			require.Len(t, rec.sent(), 1)
			golden(t, f.name, rec.sent()[0])
			assert.Equal(t, `application/soap+xml; charset=utf-8; action="`+fn.RequestAction+`"`, rec.ctypes[0])
			if !f.async {
				assert.Zero(t, d.Tracker().Pending())
				return
			}
			assert.Equal(t, "fc-"+f.name, key.FunctionCallIdentifier)
			assert.Equal(t, "fc-"+f.name, key.TransactionID, "the FunctionCallIdentifier doubles as TransactionId")
			assert.Equal(t, f.name, key.Function)
			assert.Contains(t, string(rec.sent()[0]), "<wsa:MessageID>"+strings.ReplaceAll(key.MessageID, "&", "&amp;")+"</wsa:MessageID>")
			select {
			case <-done:
				t.Fatal("resolved before any callback")
			default:
			}
			require.NoError(t, deliverCallback(t, d, f.answer, key.MessageID, ""))
			<-done
			assert.Zero(t, d.Tracker().Pending())
		})
	}
}

// TestKPNSetFallBackValidity: with WithKPN, SetFallBackAttribute goes out with 720 s whatever was asked.
func TestKPNSetFallBackValidity(t *testing.T) {
	c, rec, _ := mocked(t, esimgw.WithKPN())
	rec.RegisterResponder(http.MethodPost, endpoint, accepted())
	_, err := c.SetFallBackAttribute(t.Context(), testEID, testICCID,
		esimgw.WithFunctionCallIdentifier("fc-SetFallBackAttribute"), esimgw.WithCallValidityPeriod(time.Minute))
	require.NoError(t, err)
	golden(t, "SetFallBackAttribute-KPN", rec.sent()[0])
	assert.Contains(t, string(rec.sent()[0]), "<rps:ValidityPeriod>720</rps:ValidityPeriod>")
}

func TestGetEISDecodes(t *testing.T) {
	c, rec, _ := mocked(t)
	eid, err := rps.ParseHexBinary(testEID)
	require.NoError(t, err)
	audit := rps.NewDateTime(fixedNow.Add(-time.Hour))
	eis := &rps.EISType{
		EumSignedInfo:              rps.EumSignedInfoType{Eid: eid, EumID: "1.3.6.1.4.1.99999.1", PlatformType: "Test", PlatformVersion: "1.0.0"},
		RemainingMemory:            1 << 20,
		AvailableMemoryForProfiles: 1 << 19,
		LastAuditDate:              &audit,
		SmsrID:                     smsrOID,
		ProfileInfo: []rps.ProfileInfoType{
			{Iccid: testICCID, MnoID: operatorOID, State: rps.ProfileStateTypeEnabled, FallbackAttribute: true, Pol2: pol2},
			{Iccid: otherICCID, MnoID: operatorOID, State: rps.ProfileStateTypeDisabled, SubscriptionAddress: address},
		},
	}
	rec.RegisterResponder(http.MethodPost, endpoint, answer(&rps.ES4GetEISResponse{BaseResponseType: success, Eis: eis}))
	res, err := c.GetEIS(t.Context(), testEID)
	require.NoError(t, err)
	require.NotNil(t, res.EIS)
	assert.Nil(t, res.Warning)
	assert.Equal(t, fixedNow.Add(time.Second), res.ProcessingStart)
	assert.Equal(t, fixedNow.Add(40*time.Second), res.ProcessingEnd)
	assert.Equal(t, testEID, res.EIS.EumSignedInfo.Eid.String())
	assert.Equal(t, smsrOID, res.EIS.SmsrID)
	assert.Equal(t, audit.Time, res.EIS.LastAuditDate.Time)
	require.Len(t, res.EIS.ProfileInfo, 2)
	assert.Equal(t, rps.ProfileStateTypeEnabled, res.EIS.ProfileInfo[0].State)
	assert.True(t, res.EIS.ProfileInfo[0].FallbackAttribute)
	assert.Equal(t, pol2, res.EIS.ProfileInfo[0].Pol2)
	assert.Equal(t, address, res.EIS.ProfileInfo[1].SubscriptionAddress)
}

// TestStatuses runs every status through a synchronous answer, an asynchronous callback and an
// asynchronous function answered synchronously (200 at once, as Njiwa does).
func TestStatuses(t *testing.T) {
	const fcID = "fc-status"
	statuses := []struct {
		name           string
		base           rps.BaseResponseType
		failed         bool
		expired        bool
		warning        bool
		euiccResponse  bool
		acceptablePart time.Duration
	}{
		{name: "success", base: success},
		{name: "with warning", base: status(esimgw.StatusExecutedWithWarning, "8.2.3", "3.8"), warning: true},
		{name: "failed", base: status(esimgw.StatusFailed, "8.2.1", "3.9"), failed: true, euiccResponse: true},
		{name: "expired", base: status(esimgw.StatusExpired, "1.6", "5.3"), expired: true},
		{name: "validity refused", base: func() rps.BaseResponseType {
			b := status(esimgw.StatusFailed, "1.2.1", "3.8")
			b.AcceptableValidityPeriod = 600
			return b
		}(), failed: true, acceptablePart: 10 * time.Minute},
	}
	check := func(t *testing.T, res *esimgw.Result, err error, want struct {
		failed, expired, warning, euicc bool
		acceptable                      time.Duration
		subject                         string
	}) {
		t.Helper()
		switch {
		case want.failed || want.expired:
			require.Error(t, err)
			assert.Equal(t, want.failed, errors.Is(err, esimgw.ErrFailed), "ErrFailed")
			assert.Equal(t, want.expired, errors.Is(err, esimgw.ErrExpired), "ErrExpired")
			var fe *esimgw.FunctionError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, "ES4", fe.Interface)
			assert.Equal(t, want.subject, fe.Subject)
			assert.NotEmpty(t, fe.Reason)
			assert.Equal(t, testICCID, fe.SubjectIdentifier)
			assert.Equal(t, "from the test", fe.Message)
			assert.Equal(t, fcID, fe.FunctionCallIdentifier)
			assert.Equal(t, want.acceptable, fe.AcceptableValidityPeriod)
			if want.euicc {
				assert.Equal(t, []byte{0x6A, 0x88}, fe.EuiccResponseData)
			}
		default:
			require.NoError(t, err)
			require.NotNil(t, res)
			assert.Equal(t, want.warning, res.Warning != nil)
			if want.warning {
				assert.Equal(t, "8.2.3", res.Warning.Subject)
				assert.Equal(t, "3.8", res.Warning.Reason)
				assert.Equal(t, esimgw.StatusExecutedWithWarning, res.Outcome().Status)
			}
		}
	}
	for _, s := range statuses {
		want := struct {
			failed, expired, warning, euicc bool
			acceptable                      time.Duration
			subject                         string
		}{s.failed, s.expired, s.warning, s.euiccResponse, s.acceptablePart, ""}
		if s.base.FunctionExecutionStatus.StatusCodeData != nil {
			want.subject = s.base.FunctionExecutionStatus.StatusCodeData.Subject
		}
		resp := &rps.ES4EnableProfileResponse{BaseResponseType: s.base}
		if s.euiccResponse {
			resp.EuiccResponseData = rps.HexBinary{0x6A, 0x88}
		}
		t.Run(s.name+"/sync", func(t *testing.T) {
			c, rec, _ := mocked(t)
			rec.RegisterResponder(http.MethodPost, endpoint, answer(&rps.ES4UpdatePolicyRulesResponse{BaseResponseType: s.base}))
			res, err := c.UpdatePolicyRules(t.Context(), testEID, testICCID, pol2, esimgw.WithFunctionCallIdentifier(fcID))
			w := want
			w.euicc = false
			check(t, res, err, w)
		})
		t.Run(s.name+"/callback", func(t *testing.T) {
			c, rec, d := mocked(t)
			rec.RegisterResponder(http.MethodPost, endpoint, accepted())
			op, err := c.EnableProfile(t.Context(), testEID, testICCID, esimgw.WithFunctionCallIdentifier(fcID))
			require.NoError(t, err)
			require.NoError(t, deliverCallback(t, d, resp, op.MessageID(), ""))
			res, err := op.Wait(t.Context())
			check(t, res, err, want)
		})
		t.Run(s.name+"/immediate", func(t *testing.T) {
			c, rec, d := mocked(t)
			rec.RegisterResponder(http.MethodPost, endpoint, answer(resp))
			op, err := c.EnableProfile(t.Context(), testEID, testICCID, esimgw.WithFunctionCallIdentifier(fcID))
			require.NoError(t, err)
			select {
			case <-op.Done():
			default:
				t.Fatal("a 200 answer must resolve the operation at once")
			}
			assert.Zero(t, d.Tracker().Pending())
			res, err := op.Wait(t.Context())
			check(t, res, err, want)
			// A late copy of the callback resolves nothing.
			require.NoError(t, deliverCallback(t, d, resp, op.MessageID(), ""))
		})
	}
}

func TestAuditEISCallbackCarriesEIS(t *testing.T) {
	c, rec, d := mocked(t)
	rec.RegisterResponder(http.MethodPost, endpoint, accepted())
	op, err := c.AuditEIS(t.Context(), testEID, nil)
	require.NoError(t, err)
	assert.NotContains(t, string(rec.sent()[0]), "<rps:Iccid>", "nil audits every profile")
	eis := &rps.EISType{SmsrID: smsrOID, ProfileInfo: []rps.ProfileInfoType{{Iccid: testICCID, State: rps.ProfileStateTypeEnabled}}}
	// No RelatesTo: correlated by the TransactionId inside the callback's own MessageID.
	require.NoError(t, deliverCallback(t, d, &rps.ES4AuditEISResponse{BaseResponseType: success, Eis: eis}, "", op.TransactionID()))
	res, err := op.Wait(t.Context())
	require.NoError(t, err)
	require.NotNil(t, res.EIS)
	assert.Equal(t, rps.ProfileStateTypeEnabled, res.EIS.ProfileInfo[0].State)
}

// TestTransportErrors: what leaves the operation pending, what withdraws it, and what the caller sees.
func TestTransportErrors(t *testing.T) {
	fault := soap.AppendEnvelope(nil, &soap.Header{}, soap.SenderFault("wsa:Action not supported"))
	tests := []struct {
		name      string
		responses []httpmock.Responder
		check     func(t *testing.T, err error)
		attempts  int
		pending   bool
	}{
		{
			name:      "SOAP fault",
			responses: []httpmock.Responder{func(*http.Request) (*http.Response, error) { return soapResponse(http.StatusBadRequest, fault), nil }},
			check: func(t *testing.T, err error) {
				var f *soap.Fault
				require.ErrorAs(t, err, &f)
				assert.Equal(t, "wsa:Action not supported", f.Reason)
			},
			attempts: 1,
		},
		{
			name:      "503 then accepted",
			responses: []httpmock.Responder{httpmock.NewStringResponder(http.StatusServiceUnavailable, "busy"), accepted()},
			check:     func(t *testing.T, err error) { require.NoError(t, err) },
			attempts:  2,
			pending:   true,
		},
		{
			name:      "503 until the retries run out",
			responses: []httpmock.Responder{httpmock.NewStringResponder(http.StatusServiceUnavailable, "busy")},
			check: func(t *testing.T, err error) {
				var he *soap.HTTPError
				require.ErrorAs(t, err, &he)
				assert.Equal(t, http.StatusServiceUnavailable, he.StatusCode)
			},
			attempts: 3,
		},
		{
			name:      "unexpected response element",
			responses: []httpmock.Responder{answer(&rps.ES4GetEISResponse{BaseResponseType: success})},
			check:     func(t *testing.T, err error) { require.ErrorIs(t, err, esimgw.ErrUnexpectedResponse) },
			attempts:  1,
		},
		{
			name:      "404 without a body",
			responses: []httpmock.Responder{httpmock.NewBytesResponder(http.StatusNotFound, nil)},
			check: func(t *testing.T, err error) {
				var he *soap.HTTPError
				require.ErrorAs(t, err, &he)
			},
			attempts: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rec, d := mocked(t)
			n := 0
			rec.RegisterResponder(http.MethodPost, endpoint, func(r *http.Request) (*http.Response, error) {
				resp := tt.responses[min(n, len(tt.responses)-1)]
				n++
				return resp(r)
			})
			op, err := c.EnableProfile(t.Context(), testEID, testICCID)
			tt.check(t, err)
			sent := rec.sent()
			require.Len(t, sent, tt.attempts)
			for _, b := range sent[1:] {
				assert.Equal(t, string(sent[0]), string(b), "a retry resends the same bytes: same MessageID and FunctionCallIdentifier")
			}
			assert.Equal(t, tt.pending, d.Tracker().Pending() == 1)
			if tt.pending {
				assert.Contains(t, string(sent[0]), strings.ReplaceAll(op.MessageID(), "&", "&amp;"))
			} else {
				assert.Nil(t, op)
			}
		})
	}
}

func TestSyncUnexpectedResponse(t *testing.T) {
	c, rec, _ := mocked(t)
	rec.RegisterResponder(http.MethodPost, endpoint, answer(&rps.ES4EnableProfileResponse{BaseResponseType: success}))
	_, err := c.GetEIS(t.Context(), testEID)
	require.ErrorIs(t, err, esimgw.ErrUnexpectedResponse)
	rec.RegisterResponder(http.MethodPost, endpoint, accepted())
	_, err = c.GetEIS(t.Context(), testEID)
	require.ErrorIs(t, err, esimgw.ErrUnexpectedResponse, "a 202 is no answer to a synchronous function")
}

// TestNothingSent: every refusal before sending leaves no request on the wire and nothing registered.
func TestNothingSent(t *testing.T) {
	badEID := testEID[:31] + "6" // check digits no longer verify
	tests := []struct {
		name  string
		opts  []esimgw.Option
		call  func(ctx context.Context, c *es4.Client) error
		field string
		is    error
	}{
		{"EID check digits", nil, func(ctx context.Context, c *es4.Client) error { return second(c.GetEIS(ctx, badEID)) }, "Eid", nil},
		{"EID length", nil, func(ctx context.Context, c *es4.Client) error {
			return second(c.EnableProfile(ctx, testEID[:30], testICCID))
		}, "Eid", nil},
		{"EID hex digits", nil, func(ctx context.Context, c *es4.Client) error {
			return second(c.AuditEIS(ctx, "8904903212345123451234567890123G", nil))
		}, "Eid", nil},
		{"EID checked before ICCID", nil, func(ctx context.Context, c *es4.Client) error {
			return second(c.DisableProfile(ctx, badEID, "12"))
		}, "Eid", nil},
		{"ICCID Luhn", nil, func(ctx context.Context, c *es4.Client) error {
			return second(c.DisableProfile(ctx, testEID, "89310410106543789306"))
		}, "Iccid", nil},
		{"ICCID prefix", nil, func(ctx context.Context, c *es4.Client) error {
			return second(c.DeleteProfile(ctx, testEID, "99310410106543789305"))
		}, "Iccid", nil},
		{"ICCID empty", nil, func(ctx context.Context, c *es4.Client) error {
			return second(c.SetFallBackAttribute(ctx, testEID, ""))
		}, "Iccid", nil},
		{"ICCID in AuditEIS list", nil, func(ctx context.Context, c *es4.Client) error {
			return second(c.AuditEIS(ctx, testEID, []string{testICCID, "8931041010654378930X"}))
		}, "Iccid", nil},
		{"ICCID of a sync function", nil, func(ctx context.Context, c *es4.Client) error {
			return second(c.UpdatePolicyRules(ctx, testEID, "8931", pol2))
		}, "Iccid", nil},
		{"CurrentSMSRid", nil, func(ctx context.Context, c *es4.Client) error {
			return second(c.PrepareSMSRChange(ctx, testEID, "1.3..6"))
		}, "CurrentSMSRid", nil},
		{"Target-Smsr-id", nil, func(ctx context.Context, c *es4.Client) error {
			return second(c.SMSRChange(ctx, testEID, "smsr.example"))
		}, "Target-Smsr-id", nil},
		{"pol2 Subject", nil, func(ctx context.Context, c *es4.Client) error {
			return second(c.UpdatePolicyRules(ctx, testEID, testICCID, rps.POL2Type{Rule: []rps.POL2RuleType{{Action: "DISABLE", Qualification: "Not-Allowed"}}}))
		}, "pol2/Rule[1]/Subject", nil},
		{"pol2 Action", nil, func(ctx context.Context, c *es4.Client) error {
			return second(c.UpdatePolicyRules(ctx, testEID, testICCID, rps.POL2Type{Rule: append(pol2.Rule[:1:1], rps.POL2RuleType{Subject: "PROFILE", Action: "disable", Qualification: "Not-Allowed"})}))
		}, "pol2/Rule[2]/Action", nil},
		{"pol2 Qualification", nil, func(ctx context.Context, c *es4.Client) error {
			return second(c.UpdatePolicyRules(ctx, testEID, testICCID, rps.POL2Type{Rule: []rps.POL2RuleType{{Subject: "PROFILE", Action: "DELETE", Qualification: "Forbidden"}}}))
		}, "pol2/Rule[1]/Qualification", nil},
		{"Imsi", nil, func(ctx context.Context, c *es4.Client) error {
			return second(c.UpdateSubscriptionAddress(ctx, testEID, testICCID, rps.SubscriptionAddressType{Imsi: "2040800000000012"}))
		}, "Imsi", nil},
		{"Msisdn", nil, func(ctx context.Context, c *es4.Client) error {
			return second(c.UpdateSubscriptionAddress(ctx, testEID, testICCID, rps.SubscriptionAddressType{Msisdn: "+31600000001"}))
		}, "Msisdn", nil},
		{"empty subscription address", nil, func(ctx context.Context, c *es4.Client) error {
			return second(c.UpdateSubscriptionAddress(ctx, testEID, testICCID, rps.SubscriptionAddressType{}))
		}, "newSubscriptionAddress", nil},
		{"ValidityPeriod below a second", nil, func(ctx context.Context, c *es4.Client) error {
			return second(c.EnableProfile(ctx, testEID, testICCID, esimgw.WithCallValidityPeriod(500*time.Millisecond)))
		}, "ValidityPeriod", nil},
		{"ValidityPeriod fraction", nil, func(ctx context.Context, c *es4.Client) error {
			return second(c.GetEIS(ctx, testEID, esimgw.WithCallValidityPeriod(1500*time.Millisecond)))
		}, "ValidityPeriod", nil},
		{"FunctionCallIdentifier", nil, func(ctx context.Context, c *es4.Client) error {
			return second(c.EnableProfile(ctx, testEID, testICCID, esimgw.WithFunctionCallIdentifier("fc\n1")))
		}, "FunctionCallIdentifier", nil},
		{"provider OID", nil, func(ctx context.Context, c *es4.Client) error {
			return second(c.EnableProfile(ctx, testEID, testICCID, esimgw.WithCallProviderEntityID("kpn")))
		}, "X-KPN-ProviderEntityId", nil},
		{"no replyTo", []esimgw.Option{esimgw.WithReplyTo("")}, func(ctx context.Context, c *es4.Client) error {
			return second(c.EnableProfile(ctx, testEID, testICCID))
		}, "", esimgw.ErrNoReplyTo},
		{"no dispatcher", []esimgw.Option{esimgw.WithDispatcher(nil)}, func(ctx context.Context, c *es4.Client) error {
			return second(c.AuditEIS(ctx, testEID, nil))
		}, "", esimgw.ErrNoDispatcher},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rec, d := mocked(t, tt.opts...)
			rec.RegisterResponder(http.MethodPost, endpoint, accepted())
			err := tt.call(t.Context(), c)
			require.Error(t, err)
			if tt.is != nil {
				require.ErrorIs(t, err, tt.is)
			} else {
				var ve *esimgw.ValidationError
				require.ErrorAs(t, err, &ve)
				assert.Equal(t, tt.field, ve.Field)
				assert.NotEmpty(t, ve.Rule)
				assert.Equal(t, esimgw.StatusInvalidRequest, esimgw.OutcomeOf(nil, err).Status)
			}
			assert.Zero(t, rec.GetTotalCallCount(), "no request may leave")
			assert.Zero(t, d.Tracker().Pending())
		})
	}
}

func second[T any](_ T, err error) error { return err }

func TestNewClient(t *testing.T) {
	_, err := es4.NewClient("http://smsr.example.net/es4", esimgw.WithEntity(operatorOID, ""))
	var ve *esimgw.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "endpoint", ve.Field)

	_, err = es4.NewClient(endpoint)
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "EntityId", ve.Field)

	c, err := es4.NewClient(endpoint, esimgw.WithEntity(operatorOID, ""))
	require.NoError(t, err)
	assert.Equal(t, "ES4", c.Engine().Interface())
	assert.Equal(t, endpoint, c.Engine().Endpoint())
}

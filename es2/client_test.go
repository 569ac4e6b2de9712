package es2_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/es2"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

func TestNewClientValidates(t *testing.T) {
	for _, tc := range []struct {
		name, endpoint, smsr, field string
		opts                        []esimgw.Option
	}{
		{"empty SM-SR", testEndpoint, "", es2.FieldSmsrID, []esimgw.Option{esimgw.WithEntity(testMNO, "")}},
		{"SM-SR not an OID", testEndpoint, "1.3.6..1", es2.FieldSmsrID, []esimgw.Option{esimgw.WithEntity(testMNO, "")}},
		{"SM-SR with letters", testEndpoint, "smsr-1", es2.FieldSmsrID, []esimgw.Option{esimgw.WithEntity(testMNO, "")}},
		{"plain http", "http://smdp.example.net/ES2", testSMSR, "endpoint", []esimgw.Option{esimgw.WithEntity(testMNO, "")}},
		{"no entity", testEndpoint, testSMSR, "EntityId", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := es2.NewClient(tc.endpoint, tc.smsr, tc.opts...)
			require.Nil(t, c)
			var ve *esimgw.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.field, ve.Field)
		})
	}
	c, err := es2.NewClient(testEndpoint, testSMSR, esimgw.WithEntity(testMNO, ""))
	require.NoError(t, err)
	assert.Equal(t, testSMSR, c.SMSRID())
	assert.Equal(t, "ES2", c.Engine().Interface())
}

// TestValidationBeforeSending: every invalid argument is a *esimgw.ValidationError and nothing is sent.
func TestValidationBeforeSending(t *testing.T) {
	ctx := context.Background()
	m := newMocked(t)
	m.answer(t, nil)
	badPol2 := rps.POL2Type{Rule: []rps.POL2RuleType{{Subject: "PROFILE", Action: "SUSPEND", Qualification: "Not-Allowed"}}}
	for _, tc := range []struct {
		name, field string
		call        func() error
	}{
		{"download both", es2.FieldIccidOrProfileType, func() error {
			_, err := m.c.DownloadProfile(ctx, es2.DownloadRequest{Eid: testEID, Iccid: testICCID, ProfileType: "iot"})
			return err
		}},
		{"download neither", es2.FieldIccidOrProfileType, func() error {
			_, err := m.c.DownloadProfile(ctx, es2.DownloadRequest{Eid: testEID, Enable: true})
			return err
		}},
		{"download bad EID", esimgw.FieldEID, func() error {
			_, err := m.c.DownloadProfile(ctx, es2.DownloadRequest{Eid: "89049032000001000000000000000172", Iccid: testICCID})
			return err
		}},
		{"download bad ICCID", esimgw.FieldICCID, func() error {
			_, err := m.c.DownloadProfile(ctx, es2.DownloadRequest{Eid: testEID, Iccid: "89310410106543789306"})
			return err
		}},
		{"download blank profile type", es2.FieldProfileType, func() error {
			_, err := m.c.DownloadProfile(ctx, es2.DownloadRequest{Eid: testEID, ProfileType: " iot"})
			return err
		}},
		{"GetEIS short EID", esimgw.FieldEID, func() error { _, err := m.c.GetEIS(ctx, "8904"); return err }},
		{"enable bad ICCID", esimgw.FieldICCID, func() error { _, err := m.c.EnableProfile(ctx, testEID, "12345"); return err }},
		{"disable bad EID", esimgw.FieldEID, func() error { _, err := m.c.DisableProfile(ctx, "xyz", testICCID); return err }},
		{"delete bad ICCID", esimgw.FieldICCID, func() error { _, err := m.c.DeleteProfile(ctx, testEID, ""); return err }},
		{"fall-back bad ICCID", esimgw.FieldICCID, func() error { _, err := m.c.SetFallBackAttribute(ctx, testEID, "89F1"); return err }},
		{"policy rules bad rule", "pol2/Rule[1]/Action", func() error { _, err := m.c.UpdatePolicyRules(ctx, testEID, testICCID, badPol2); return err }},
		{"address empty", "newSubscriptionAddress", func() error {
			_, err := m.c.UpdateSubscriptionAddress(ctx, testEID, testICCID, rps.SubscriptionAddressType{})
			return err
		}},
		{"address bad MSISDN", "Msisdn", func() error {
			_, err := m.c.UpdateSubscriptionAddress(ctx, testEID, testICCID, rps.SubscriptionAddressType{Msisdn: "31"})
			return err
		}},
		{"address bad IMSI", "Imsi", func() error {
			_, err := m.c.UpdateSubscriptionAddress(ctx, testEID, testICCID, rps.SubscriptionAddressType{Imsi: "2040490000001011"})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var ve *esimgw.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.field, ve.Field)
			assert.Equal(t, esimgw.StatusInvalidRequest, esimgw.OutcomeOf(nil, err).Status)
		})
	}
	assert.Zero(t, m.mt.GetTotalCallCount(), "nothing may be sent for an invalid request")
	assert.Zero(t, m.d.Tracker().Pending())
}

func TestValidateProfileType(t *testing.T) {
	require.NoError(t, es2.ValidateProfileType("esimgw-test-iot"))
	long := make([]byte, es2.MaxProfileTypeLength+1)
	for i := range long {
		long[i] = 'a'
	}
	for _, bad := range []string{"", " x", "x\n", "a\x01b", string(long), "\xff"} {
		assert.Error(t, es2.ValidateProfileType(bad), "%q", bad)
	}
	assert.NoError(t, es2.ValidateProfileType(string(long[1:])))
}

func TestGetEIS(t *testing.T) {
	m := newMocked(t)
	eis := &rps.EISType{SmsrID: testSMSR, ProfileInfo: []rps.ProfileInfoType{{Iccid: testICCID, State: rps.ProfileStateTypeEnabled}}}
	m.answer(t, &rps.ES2GetEISResponse{BaseResponseType: status(esimgw.StatusExecutedSuccess), Eis: eis})
	res, err := m.c.GetEIS(context.Background(), testEID)
	require.NoError(t, err)
	require.NotNil(t, res.EIS)
	assert.Equal(t, testICCID, res.EIS.ProfileInfo[0].Iccid)
	assert.Nil(t, res.Warning)
	assert.Equal(t, esimgw.StatusExecutedSuccess, res.Outcome().Status)
	req := m.rec.last(t)
	var body rps.ES2GetEISRequest
	require.NoError(t, req.Message.DecodeBody(&body))
	assert.Equal(t, testSMSR, body.SmsrID)
	assert.Equal(t, testEID, body.Eid.String())
}

func TestSyncFailed(t *testing.T) {
	m := newMocked(t)
	m.answer(t, &rps.ES2GetEISResponse{BaseResponseType: status(esimgw.StatusFailed, "8.1.1", "3.9", "EID unknown")})
	res, err := m.c.GetEIS(context.Background(), testEID, esimgw.WithFunctionCallIdentifier("fc-1"))
	require.NotNil(t, res, "the result comes with the error, as from an operation's Wait")
	assert.Nil(t, res.EIS)
	var fe *esimgw.FunctionError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "fc-1", fe.FunctionCallIdentifier)
	assert.True(t, errors.Is(err, esimgw.ErrFailed))
	assert.Equal(t, "ES2", fe.Interface)
	assert.Equal(t, "GetEIS", fe.Function)
	o := esimgw.OutcomeOf(nil, err)
	assert.Equal(t, esimgw.StatusFailed, o.Status)
	assert.Equal(t, "8.1.1,3.9", o.StatusCode)
	assert.Equal(t, "EID unknown", o.Message)
}

func TestSyncWarning(t *testing.T) {
	m := newMocked(t)
	m.answer(t, &rps.ES2UpdatePolicyRulesResponse{BaseResponseType: status(esimgw.StatusExecutedWithWarning, "8.2.3", "3.8", "rule ignored")},
		&rps.ES2UpdateSubscriptionAddressResponse{BaseResponseType: status(esimgw.StatusExecutedWithWarning, "8.2.6", "2.1")})
	res, err := m.c.UpdatePolicyRules(context.Background(), testEID, testICCID, rps.POL2Type{})
	require.NoError(t, err)
	require.NotNil(t, res.Warning)
	o := res.Outcome()
	assert.Equal(t, esimgw.StatusExecutedWithWarning, o.Status)
	assert.Equal(t, "8.2.3,3.8", o.StatusCode)

	res, err = m.c.UpdateSubscriptionAddress(context.Background(), testEID, testICCID, rps.SubscriptionAddressType{Msisdn: "31600000101"})
	require.NoError(t, err)
	assert.Equal(t, "8.2.6,2.1", res.Outcome().StatusCode)
}

func TestSOAPFault(t *testing.T) {
	m := newMocked(t)
	m.answer(t, soap.SenderFault("wsa:Action not supported"))
	res, err := m.c.GetEIS(context.Background(), testEID)
	assert.Nil(t, res)
	var f *soap.Fault
	require.ErrorAs(t, err, &f)
	assert.Equal(t, esimgw.StatusError, esimgw.OutcomeOf(nil, err).Status)

	op, err := m.c.EnableProfile(context.Background(), testEID, testICCID)
	assert.Nil(t, op)
	require.ErrorAs(t, err, &f)
	assert.Zero(t, m.d.Tracker().Pending(), "a refused request must be withdrawn")
}

// Test503Retry: 503s are retried with the very same bytes, then the 202 is taken.
func Test503Retry(t *testing.T) {
	m := newMocked(t)
	m.answer(t, http.StatusServiceUnavailable, http.StatusServiceUnavailable, nil)
	op, err := m.c.DisableProfile(context.Background(), testEID, testICCID)
	require.NoError(t, err)
	reqs := m.rec.all()
	require.Len(t, reqs, 3)
	assert.Equal(t, reqs[0].Body, reqs[2].Body)
	assert.Equal(t, 1, m.d.Tracker().Pending())

	deliver(t, m.d, reqs[2], &rps.ES2DisableProfileResponse{BaseResponseType: status(esimgw.StatusExecutedSuccess)})
	res, err := op.Wait(context.Background())
	require.NoError(t, err)
	assert.Equal(t, esimgw.StatusExecutedSuccess, res.Outcome().Status)
}

func Test503Exhausted(t *testing.T) {
	m := newMocked(t)
	m.answer(t, http.StatusServiceUnavailable)
	_, err := m.c.DeleteProfile(context.Background(), testEID, testICCID)
	var he *soap.HTTPError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, http.StatusServiceUnavailable, he.StatusCode)
	assert.Len(t, m.rec.all(), 3)
	assert.Zero(t, m.d.Tracker().Pending())
}

// TestAsyncFunctions: each asynchronous function is accepted, resolved by its callback through the
// Dispatcher, and maps FAILED, WITHWARNING and EuiccResponseData.
func TestAsyncFunctions(t *testing.T) {
	type start func(ctx context.Context, m *mocked) (func(context.Context) (*esimgw.Result, error), error)
	wrap := func(f func(*es2.Client) profileFunc) start {
		return func(ctx context.Context, m *mocked) (func(context.Context) (*esimgw.Result, error), error) {
			op, err := f(m.c)(ctx, testEID, testICCID)
			if err != nil {
				return nil, err
			}
			return op.Wait, nil
		}
	}
	cases := []struct {
		name  string
		start start
		resp  func(rps.BaseResponseType) rps.Response
	}{
		{"EnableProfile", wrap(func(c *es2.Client) profileFunc {
			return c.EnableProfile
		}), func(b rps.BaseResponseType) rps.Response {
			return &rps.ES2EnableProfileResponse{BaseResponseType: b, EuiccResponseData: rps.HexBinary{0x6A, 0x80}}
		}},
		{"DisableProfile", wrap(func(c *es2.Client) profileFunc {
			return c.DisableProfile
		}), func(b rps.BaseResponseType) rps.Response {
			return &rps.ES2DisableProfileResponse{BaseResponseType: b, EuiccResponseData: rps.HexBinary{0x6A, 0x80}}
		}},
		{"DeleteProfile", wrap(func(c *es2.Client) profileFunc {
			return c.DeleteProfile
		}), func(b rps.BaseResponseType) rps.Response {
			return &rps.ES2DeleteProfileResponse{BaseResponseType: b, EuiccResponseData: rps.HexBinary{0x6A, 0x80}}
		}},
		{"SetFallBackAttribute", wrap(func(c *es2.Client) profileFunc {
			return c.SetFallBackAttribute
		}), func(b rps.BaseResponseType) rps.Response {
			return &rps.ES2SetFallBackAttributeResponse{BaseResponseType: b}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			m := newMocked(t)
			m.answer(t, nil)

			wait, err := tc.start(ctx, m)
			require.NoError(t, err)
			deliver(t, m.d, m.rec.last(t), tc.resp(status(esimgw.StatusExecutedSuccess)))
			res, err := wait(ctx)
			require.NoError(t, err)
			assert.Equal(t, esimgw.StatusExecutedSuccess, res.Outcome().Status)

			wait, err = tc.start(ctx, m)
			require.NoError(t, err)
			deliver(t, m.d, m.rec.last(t), tc.resp(status(esimgw.StatusExecutedWithWarning, "8.2.1", "3.8")))
			res, err = wait(ctx)
			require.NoError(t, err)
			assert.Equal(t, "8.2.1,3.8", res.Outcome().StatusCode)

			wait, err = tc.start(ctx, m)
			require.NoError(t, err)
			deliver(t, m.d, m.rec.last(t), tc.resp(status(esimgw.StatusFailed, "8.2.1", "3.9")))
			_, err = wait(ctx)
			var fe *esimgw.FunctionError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tc.name, fe.Function)
			assert.NotEmpty(t, fe.FunctionCallIdentifier)
			if tc.name != "SetFallBackAttribute" {
				assert.Equal(t, []byte{0x6A, 0x80}, fe.EuiccResponseData)
			}
			assert.Zero(t, m.d.Tracker().Pending())
		})
	}
}

func TestDownloadProfile(t *testing.T) {
	ctx := context.Background()
	t.Run("by ProfileType: the SM-DP names the ICCID", func(t *testing.T) {
		m := newMocked(t)
		m.answer(t, nil)
		op, err := m.c.DownloadProfile(ctx, es2.DownloadRequest{Eid: testEID, ProfileType: "esimgw-test-iot", Enable: true})
		require.NoError(t, err)
		assert.Equal(t, "DownloadProfile", op.Function())
		req := m.rec.last(t)
		var body rps.ES2DownloadProfileRequest
		require.NoError(t, req.Message.DecodeBody(&body))
		assert.True(t, body.EnableProfile)
		assert.Equal(t, testSMSR, body.SmsrID)
		assert.Empty(t, body.Iccid)
		deliver(t, m.d, req, &rps.ES2DownloadProfileResponse{BaseResponseType: status(esimgw.StatusExecutedSuccess), Iccid: otherICCID})
		res, err := op.Wait(ctx)
		require.NoError(t, err)
		assert.Equal(t, otherICCID, res.Iccid)
		assert.Equal(t, esimgw.StatusExecutedSuccess, res.Outcome().Status)
	})
	t.Run("by ICCID: the ICCID asked when the callback names none", func(t *testing.T) {
		m := newMocked(t)
		m.answer(t, nil)
		op, err := m.c.DownloadProfile(ctx, es2.DownloadRequest{Eid: testEID, Iccid: testICCID})
		require.NoError(t, err)
		deliver(t, m.d, m.rec.last(t), &rps.ES2DownloadProfileResponse{BaseResponseType: status(esimgw.StatusExecutedSuccess)})
		res, err := op.Wait(ctx)
		require.NoError(t, err)
		assert.Equal(t, testICCID, res.Iccid)
	})
	t.Run("synchronous FAILED (Njiwa)", func(t *testing.T) {
		m := newMocked(t)
		m.answer(t, &rps.ES2DownloadProfileResponse{BaseResponseType: status(esimgw.StatusFailed, "8.2.5", "3.9", "unknown profile type")})
		op, err := m.c.DownloadProfile(ctx, es2.DownloadRequest{Eid: testEID, ProfileType: "nope"})
		require.NoError(t, err)
		select {
		case <-op.Done():
		default:
			t.Fatal("a synchronous FAILED must resolve the operation at once")
		}
		_, err = op.Wait(ctx)
		require.ErrorIs(t, err, esimgw.ErrFailed)
		assert.Equal(t, "8.2.5,3.9", esimgw.OutcomeOf(nil, err).StatusCode)
	})
	t.Run("EXPIRED callback", func(t *testing.T) {
		m := newMocked(t)
		m.answer(t, nil)
		op, err := m.c.DownloadProfile(ctx, es2.DownloadRequest{Eid: testEID, Iccid: testICCID})
		require.NoError(t, err)
		deliver(t, m.d, m.rec.last(t), &rps.ES2DownloadProfileResponse{BaseResponseType: status(esimgw.StatusExpired, "1.6", "5.3")})
		_, err = op.Wait(ctx)
		require.ErrorIs(t, err, esimgw.ErrExpired)
	})
	t.Run("no replyTo", func(t *testing.T) {
		m := newMocked(t, esimgw.WithReplyTo(""))
		_, err := m.c.DownloadProfile(ctx, es2.DownloadRequest{Eid: testEID, Iccid: testICCID})
		require.ErrorIs(t, err, esimgw.ErrNoReplyTo)
	})
	t.Run("no dispatcher", func(t *testing.T) {
		m := newMocked(t, esimgw.WithDispatcher(nil))
		_, err := m.c.EnableProfile(ctx, testEID, testICCID)
		require.ErrorIs(t, err, esimgw.ErrNoDispatcher)
	})
}

// TestFunctionTable: every ES2 function the client calls is in rps's table with the Action sent.
func TestFunctionTable(t *testing.T) {
	for _, name := range []string{"GetEIS", "DownloadProfile", "UpdatePolicyRules", "UpdateSubscriptionAddress",
		"EnableProfile", "DisableProfile", "DeleteProfile", "SetFallBackAttribute"} {
		f, ok := rps.FunctionByName(rps.ES2, name)
		require.True(t, ok, name)
		assert.NotEmpty(t, f.RequestAction, name)
	}
}

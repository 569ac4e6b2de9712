package gatewaytest_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/es2plus"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

func TestKPNProfile(t *testing.T) {
	o := newOp(t, gatewaytest.WithProfile(gatewaytest.ProfileKPN))
	o.sep = soap.SeparatorQuestion
	o.extra = []soap.Param{{Name: soap.ParamKPNProviderEntityID, Value: "1.3.6.1.4.1.54008"}}
	o.g.SetNotificationURL(gatewaytest.ES4, o.cb.url("/notifications"))
	eid := hexEID(t, gatewaytest.DefaultEID)

	// SetFallBackAttribute runs with 720 s whatever was asked, and says so.
	r, m := o.async(t, &rps.ES4SetFallBackAttributeRequest{BaseRequestType: base(60), Eid: eid, Iccid: gatewaytest.DefaultDisabledICCID})
	st, _, _ := status(r)
	require.Equal(t, rps.StatusTypeEXECUTED_SUCCESS, st)
	assert.Equal(t, rps.PositiveInteger(720), r.ResponseBase().AcceptableValidityPeriod)
	reqs := o.g.Requests()
	last := reqs[len(reqs)-1]
	assert.Equal(t, gatewaytest.KPNSetFallBackValidity, last.Validity)
	// The request's From is recorded: '?' separators and the provider id.
	assert.Equal(t, soap.SeparatorQuestion, last.From.Separator)
	pid, ok := last.From.ProviderEntityID()
	assert.True(t, ok)
	assert.Equal(t, "1.3.6.1.4.1.54008", pid)
	// The mock's From uses '?' too.
	assert.True(t, strings.Contains(m.Header.From, "?EntityId="+o.g.SMSRID+"?EntityName=KPN"), m.Header.From)

	// Enabling through the API sends no ProfileEnabled notification.
	r, _ = o.async(t, &rps.ES2EnableProfileRequest{BaseRequestType: base(), Eid: eid, SmsrID: o.g.SMSRID, Iccid: gatewaytest.DefaultDisabledICCID})
	st, _, _ = status(r)
	require.Equal(t, rps.StatusTypeEXECUTED_SUCCESS, st)
	// A local switch does: ES4 Enabled and Disabled only.
	require.NoError(t, o.g.SimulateLocalEnable(gatewaytest.DefaultEID, gatewaytest.DefaultEnabledICCID))
	o.cb.next(t, "ES4-HandleProfileEnabledNotification")
	require.Eventually(t, func() bool { return len(o.g.Notifications()) == 2 }, wait, 5*time.Millisecond)
	for _, n := range o.g.Notifications() {
		assert.Equal(t, gatewaytest.ES4, n.Interface)
	}
	require.NoError(t, o.g.SimulateLocalDelete(gatewaytest.DefaultEID, gatewaytest.DefaultDisabledICCID))
	assert.Len(t, o.g.Notifications(), 2, "KPN sends no ProfileDeleted notification")

	// Outside the subset: refused as KPN would.
	_, _, err := o.call(t, &rps.ES4GetEISRequest{BaseRequestType: base(), Eid: eid})
	var f *soap.Fault
	require.True(t, errors.As(err, &f))
	assert.Equal(t, []string{gatewaytest.SubcodeActionNotSupp}, f.Subcodes)
}

func TestNotificationsGSMA(t *testing.T) {
	o := newOp(t)
	o.g.SetNotificationURL(gatewaytest.ES4, o.cb.url("/es4"))
	o.g.SetNotificationURL(gatewaytest.ES2, o.cb.url("/es2"))
	require.NoError(t, o.g.SimulateFallback(gatewaytest.DefaultEID))
	n := o.cb.next(t, "ES4-HandleProfileDisabledNotification")
	assert.Equal(t, "http://gsma.com/ES4/PlatformManagement/ES4-HandleProfileDisabledNotification", n.Header.Action)
	assert.Empty(t, n.Header.RelatesTo)
	var body rps.ES4HandleProfileDisabledNotification
	require.NoError(t, n.DecodeBody(&body))
	assert.Equal(t, gatewaytest.DefaultEnabledICCID, body.Iccid)
	require.Eventually(t, func() bool { return len(o.g.Notifications()) == 4 }, wait, 5*time.Millisecond)
	e, _ := o.g.EUICC(gatewaytest.DefaultEID)
	en, _ := e.Enabled()
	assert.Equal(t, gatewaytest.FallbackICCID, en.ICCID)

	// ES2 DownloadProfile with EnableProfile: the GSMA profile confirms with an ES2 ProfileEnabled notification.
	r, _ := o.async(t, &rps.ES2DownloadProfileRequest{BaseRequestType: base(), Eid: hexEID(t, gatewaytest.DefaultEID), SmsrID: o.g.SMSRID,
		Iccid: gatewaytest.CatalogICCID, EnableProfile: true})
	st, _, _ := status(r)
	require.Equal(t, rps.StatusTypeEXECUTED_SUCCESS, st)
	n = o.cb.next(t, "ES2-HandleProfileEnabledNotification")
	var en2 rps.ES2HandleProfileEnabledNotification
	require.NoError(t, n.DecodeBody(&en2))
	assert.Equal(t, gatewaytest.CatalogICCID, en2.Iccid)
}

func TestExpired(t *testing.T) {
	o := newOp(t)
	r, _ := o.async(t, &rps.ES4EnableProfileRequest{BaseRequestType: base(1), Eid: hexEID(t, gatewaytest.UnreachableEID), Iccid: gatewaytest.UnreachableICCID})
	st, s, rs := status(r)
	assert.Equal(t, rps.StatusTypeEXPIRED, st)
	assert.Equal(t, []string{"1.6", "5.3"}, []string{s, rs})

	require.NoError(t, o.g.SetLatency(gatewaytest.DefaultEID, 3*time.Second))
	r, _ = o.async(t, &rps.ES4EnableProfileRequest{BaseRequestType: base(1), Eid: hexEID(t, gatewaytest.DefaultEID), Iccid: gatewaytest.DefaultDisabledICCID})
	st, _, _ = status(r)
	assert.Equal(t, rps.StatusTypeEXPIRED, st)
	e, _ := o.g.EUICC(gatewaytest.DefaultEID)
	en, _ := e.Enabled()
	assert.Equal(t, gatewaytest.DefaultEnabledICCID, en.ICCID, "an expired request changes nothing")
}

func enableReq(t *testing.T) *rps.ES4EnableProfileRequest {
	return &rps.ES4EnableProfileRequest{BaseRequestType: base(), Eid: hexEID(t, gatewaytest.DefaultEID), Iccid: gatewaytest.DefaultDisabledICCID}
}

func TestFaults(t *testing.T) {
	t.Run("503 then success with client retries", func(t *testing.T) {
		o := newOp(t)
		o.client = soap.NewClient(soap.WithTLSConfig(o.g.ClientTLSConfig()),
			soap.WithRetryPolicy(soap.RetryPolicy{MaxAttempts: 4, InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond}))
		o.g.Inject(gatewaytest.ServiceUnavailable{Times: 2})
		resp, _, err := o.call(t, enableReq(t))
		require.NoError(t, err)
		assert.Equal(t, 3, resp.Attempts)
		assert.Equal(t, 2, o.g.FaultsFired(gatewaytest.ServiceUnavailable{}))
	})
	for _, tc := range []struct {
		name  string
		fault gatewaytest.Fault
	}{
		{"refuse", gatewaytest.RefuseConnections{Times: 1}},
		{"reset", gatewaytest.ResetConnections{Times: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newOp(t)
			o.g.Inject(tc.fault)
			body := enableReq(t)
			_, _, err := o.call(t, body)
			require.Error(t, err)
			var he *soap.HTTPError
			assert.False(t, errors.As(err, &he), "a transport failure, not an HTTP answer: %v", err)
			assert.Zero(t, o.g.Executions(body.FunctionCallIdentifier))
			// The fault is used up: the next call goes through.
			o.async(t, enableReq(t))
		})
	}
	t.Run("SOAP fault", func(t *testing.T) {
		o := newOp(t)
		o.g.Inject(gatewaytest.SOAPFault{Times: 1})
		body := enableReq(t)
		_, _, err := o.call(t, body)
		var f *soap.Fault
		require.True(t, errors.As(err, &f))
		assert.Equal(t, soap.FaultReceiver, f.Code)
		assert.Zero(t, o.g.Executions(body.FunctionCallIdentifier))
	})
	t.Run("delay 202, callback first", func(t *testing.T) {
		o := newOp(t)
		o.g.Inject(gatewaytest.Delay202{Delay: 300 * time.Millisecond, Times: 1})
		done := make(chan error, 1)
		go func() { _, _, err := o.call(t, enableReq(t)); done <- err }()
		o.cb.next(t, "ES4-EnableProfileResponse") // arrives while the 202 is held
		require.NoError(t, <-done)
	})
	t.Run("callback before 202", func(t *testing.T) {
		o := newOp(t)
		o.g.Inject(gatewaytest.CallbackBefore202{Times: 1})
		_, _, err := o.call(t, enableReq(t))
		require.NoError(t, err)
		// Delivered before Call returned.
		cbs := o.g.Callbacks()
		require.Len(t, cbs, 1)
		assert.Equal(t, gatewaytest.OutcomeDelivered, cbs[0].Outcome)
	})
	t.Run("duplicate callbacks", func(t *testing.T) {
		o := newOp(t)
		o.g.Inject(gatewaytest.DuplicateCallbacks{Times: 1})
		_, h, err := o.call(t, enableReq(t))
		require.NoError(t, err)
		a := o.cb.next(t, "ES4-EnableProfileResponse")
		b := o.cb.next(t, "ES4-EnableProfileResponse")
		assert.Equal(t, h.MessageID, a.Header.RelatesTo)
		assert.Equal(t, a.Header.MessageID, b.Header.MessageID)
		assert.Len(t, o.g.Callbacks(), 2)
	})
	t.Run("reordered callbacks", func(t *testing.T) {
		o := newOp(t)
		o.g.Inject(gatewaytest.ReorderCallbacks{Times: 1})
		_, h1, err := o.call(t, &rps.ES4GetEISRequest{BaseRequestType: base(), Eid: hexEID(t, gatewaytest.DefaultEID)}) // sync: untouched
		require.NoError(t, err)
		_ = h1
		_, first, err := o.call(t, &rps.ES4AuditEISRequest{BaseRequestType: base(), Eid: hexEID(t, gatewaytest.DefaultEID)})
		require.NoError(t, err)
		require.Eventually(t, func() bool { return len(o.g.Callbacks()) == 1 }, wait, 5*time.Millisecond) // held
		_, second, err := o.call(t, &rps.ES4AuditEISRequest{BaseRequestType: base(), Eid: hexEID(t, gatewaytest.DefaultEID)})
		require.NoError(t, err)
		a := o.cb.next(t, "ES4-AuditEISResponse")
		b := o.cb.next(t, "ES4-AuditEISResponse")
		assert.Equal(t, second.MessageID, a.Header.RelatesTo)
		assert.Equal(t, first.MessageID, b.Header.RelatesTo)
	})
	t.Run("callback without RelatesTo", func(t *testing.T) {
		o := newOp(t)
		o.g.Inject(gatewaytest.CallbacksWithoutRelatesTo{})
		_, h, err := o.call(t, enableReq(t))
		require.NoError(t, err)
		m := o.cb.next(t, "ES4-EnableProfileResponse")
		assert.Empty(t, m.Header.RelatesTo)
		req, _ := soap.ParseMessageID(h.MessageID)
		got, _ := soap.ParseMessageID(m.Header.MessageID)
		assert.Equal(t, req.TransactionID, got.TransactionID, "the TransactionId still correlates")
	})
	t.Run("malformed callback", func(t *testing.T) {
		o := newOp(t)
		o.g.Inject(gatewaytest.MalformedCallback{Times: 1})
		_, _, err := o.call(t, enableReq(t))
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			c := o.g.Callbacks()
			return len(c) == 1 && c[0].Outcome == gatewaytest.OutcomeUndelivered
		}, wait, 5*time.Millisecond)
		c := o.g.Callbacks()[0]
		assert.Equal(t, http.StatusBadRequest, c.HTTPStatus)
		assert.Equal(t, 1, c.Attempts, "a refusal is not retried")
	})
	t.Run("receiver errors then recovers", func(t *testing.T) {
		o := newOp(t)
		o.cb.fail.Store(2)
		_, _, err := o.call(t, enableReq(t))
		require.NoError(t, err)
		o.cb.next(t, "ES4-EnableProfileResponse")
		require.Eventually(t, func() bool {
			c := o.g.Callbacks()
			return len(c) == 1 && c[0].Outcome == gatewaytest.OutcomeDelivered
		}, wait, 5*time.Millisecond)
		assert.Equal(t, 3, o.g.Callbacks()[0].Attempts)
	})
	t.Run("receiver down", func(t *testing.T) {
		o := newOp(t, gatewaytest.WithCallbackRetry(soap.RetryPolicy{MaxAttempts: 3, InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond}))
		o.cb.srv.Close()
		_, _, err := o.call(t, enableReq(t))
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			c := o.g.Callbacks()
			return len(c) == 1 && c[0].Outcome == gatewaytest.OutcomeUndelivered
		}, wait, 5*time.Millisecond)
		c := o.g.Callbacks()[0]
		assert.Equal(t, 3, c.Attempts)
		assert.Error(t, c.Err)
	})
	t.Run("reset clears", func(t *testing.T) {
		o := newOp(t)
		o.g.Inject(gatewaytest.ServiceUnavailable{})
		o.g.Reset()
		o.async(t, enableReq(t))
	})
}

func TestSendDownloadProgress(t *testing.T) {
	g := gatewaytest.Start(t)
	got := make(chan *es2plus.DownloadProgressInfo, 16)
	h := es2plus.NewHTTPHandler(es2plus.HandlerFunc(func(ctx context.Context, n *es2plus.DownloadProgressInfo) error {
		got <- n
		return nil
	}))
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = g.CallbackServerTLSConfig()
	srv.StartTLS()
	t.Cleanup(srv.Close)
	base := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)

	posts, err := g.SendDownloadProgress(context.Background(), base, gatewaytest.DownloadSequence{
		EID: gatewaytest.DefaultEID, ICCID: gatewaytest.CatalogICCID, ProfileType: gatewaytest.CatalogProfileType,
		Duplicate: es2plus.PointBPPInstalled, Invalid: true})
	require.NoError(t, err)
	var points []es2plus.NotificationPoint
	for _, p := range posts {
		points = append(points, p.Point)
	}
	assert.Equal(t, []es2plus.NotificationPoint{0, 3, 4, 4, 6}, points)
	assert.Equal(t, http.StatusBadRequest, posts[0].HTTPStatus)
	var delivered []es2plus.NotificationPoint
	for len(got) > 0 {
		delivered = append(delivered, (<-got).NotificationPointID)
	}
	assert.Equal(t, []es2plus.NotificationPoint{3, 4, 6}, delivered, "the duplicate is absorbed by the receiver")

	posts, err = g.SendDownloadProgress(context.Background(), base, gatewaytest.DownloadSequence{
		EID: gatewaytest.DefaultEID, ICCID: gatewaytest.CatalogICCID2, ProfileType: gatewaytest.CatalogProfileType, Fail: es2plus.PointEligibilityRetryLimit})
	require.NoError(t, err)
	require.Len(t, posts, 1)
	assert.Equal(t, es2plus.StatusFailed, posts[0].Status)
}

// WithoutDeduplication: a resent request is executed again, as by a gateway that does not recognise its
// FunctionCallIdentifier; the de-duplicating default answers it without a second execution.
func TestWithoutDeduplication(t *testing.T) {
	for _, tc := range []struct {
		name       string
		opts       []gatewaytest.Option
		executions int
		second     rps.StatusType
	}{
		{"default: de-duplicated", nil, 1, ""},
		{"WithoutDeduplication: executed twice", []gatewaytest.Option{gatewaytest.WithoutDeduplication()}, 2, rps.StatusTypeFAILED},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newOp(t, tc.opts...)
			body := enableReq(t)
			r, _ := o.async(t, body)
			st, _, _ := status(r)
			assert.Equal(t, rps.StatusTypeEXECUTED_SUCCESS, st)
			resp, _, err := o.call(t, body) // the same FunctionCallIdentifier again
			require.NoError(t, err)
			assert.Equal(t, http.StatusAccepted, resp.StatusCode)
			assert.Equal(t, tc.executions, o.g.Executions(body.FunctionCallIdentifier))
			if tc.second != "" {
				r := o.cb.next(t, "ES4-EnableProfileResponse")
				el, _ := rps.NewElement("ES4-EnableProfileResponse")
				require.NoError(t, r.DecodeBody(el))
				st, subject, reason := status(el.(rps.Response))
				assert.Equal(t, tc.second, st, "the profile is already enabled")
				assert.Equal(t, "8.2.1/3.8", subject+"/"+reason)
			}
		})
	}
}

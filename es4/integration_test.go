package es4_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/callback"
	"github.com/esimgw/esimgw/es4"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// eventually is generous: nothing here measures time, it only waits for deliveries over loopback.
const eventually = 15 * time.Second

// rig is an operator set-up against the mock: Dispatcher + CallbackServer (mTLS) + es4.Client (mTLS).
type rig struct {
	gw     *gatewaytest.Gateway
	d      *esimgw.Dispatcher
	srv    *callback.Server
	client *es4.Client
}

func newRig(tb testing.TB, gwOpts []gatewaytest.Option, dOpts []esimgw.DispatcherOption, cOpts ...esimgw.Option) *rig {
	tb.Helper()
	gw := gatewaytest.Start(tb, append([]gatewaytest.Option{gatewaytest.WithLogger(discard())}, gwOpts...)...)
	op := gatewaytest.NewOperator(tb, gw, dOpts...)
	gw.SetNotificationURL(gatewaytest.ES2, "") // these tests count ES4 notifications only
	c, err := es4.NewClient(gw.ES4URL, slices.Concat(op.Options, []esimgw.Option{esimgw.WithPeerEntityID(gw.SMSRID)}, cOpts)...)
	require.NoError(tb, err)
	return &rig{gw: gw, d: op.Dispatcher, srv: op.Server, client: c}
}

// profiles returns the profiles of eid as the SM-SR reports them through GetEIS.
func (r *rig) profiles(t *testing.T, eid string) map[string]rps.ProfileInfoType {
	t.Helper()
	res, err := r.client.GetEIS(t.Context(), eid)
	require.NoError(t, err)
	require.NotNil(t, res.EIS)
	out := map[string]rps.ProfileInfoType{}
	for _, p := range res.EIS.ProfileInfo {
		out[p.Iccid] = p
	}
	return out
}

// wait(t)(client.EnableProfile(...)) requires the call to succeed and waits for the operation's result.
func wait(t *testing.T) func(op *esimgw.Operation[*esimgw.Result], err error) (*esimgw.Result, error) {
	return func(op *esimgw.Operation[*esimgw.Result], err error) (*esimgw.Result, error) {
		t.Helper()
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(t.Context(), eventually)
		defer cancel()
		return op.Wait(ctx)
	}
}

// TestIntegrationState: every function against the mock SM-SR over mTLS; the result is checked through
// the state the SM-SR reports afterwards (GetEIS, AuditEIS), not only through the status.
func TestIntegrationState(t *testing.T) {
	const eid = gatewaytest.DefaultEID
	t.Run("EnableProfile", func(t *testing.T) {
		r := newRig(t, nil, nil)
		res, err := wait(t)(r.client.EnableProfile(t.Context(), eid, gatewaytest.DefaultDisabledICCID))
		require.NoError(t, err)
		assert.Nil(t, res.Warning)
		p := r.profiles(t, eid)
		assert.Equal(t, rps.ProfileStateTypeEnabled, p[gatewaytest.DefaultDisabledICCID].State)
		assert.Equal(t, rps.ProfileStateTypeDisabled, p[gatewaytest.DefaultEnabledICCID].State)
	})
	t.Run("DisableProfile falls back", func(t *testing.T) {
		r := newRig(t, nil, nil)
		_, err := wait(t)(r.client.DisableProfile(t.Context(), eid, gatewaytest.DefaultEnabledICCID))
		require.NoError(t, err)
		p := r.profiles(t, eid)
		assert.Equal(t, rps.ProfileStateTypeDisabled, p[gatewaytest.DefaultEnabledICCID].State)
		assert.Equal(t, rps.ProfileStateTypeEnabled, p[gatewaytest.FallbackICCID].State)
	})
	t.Run("DeleteProfile", func(t *testing.T) {
		r := newRig(t, nil, nil)
		_, err := wait(t)(r.client.DeleteProfile(t.Context(), eid, gatewaytest.DefaultDisabledICCID))
		require.NoError(t, err)
		assert.NotContains(t, r.profiles(t, eid), gatewaytest.DefaultDisabledICCID)
	})
	t.Run("SetFallBackAttribute", func(t *testing.T) {
		r := newRig(t, nil, nil)
		_, err := wait(t)(r.client.SetFallBackAttribute(t.Context(), eid, gatewaytest.DefaultEnabledICCID))
		require.NoError(t, err)
		p := r.profiles(t, eid)
		assert.True(t, p[gatewaytest.DefaultEnabledICCID].FallbackAttribute)
		assert.False(t, p[gatewaytest.FallbackICCID].FallbackAttribute)
	})
	t.Run("SetFallBackAttribute KPN 720 s", func(t *testing.T) {
		r := newRig(t, []gatewaytest.Option{gatewaytest.WithProfile(gatewaytest.ProfileKPN)}, nil, esimgw.WithKPN())
		_, err := wait(t)(r.client.SetFallBackAttribute(t.Context(), eid, gatewaytest.DefaultEnabledICCID, esimgw.WithCallValidityPeriod(time.Minute)))
		require.NoError(t, err)
		reqs := r.gw.Requests()
		require.NotEmpty(t, reqs)
		assert.Equal(t, esimgw.KPNSetFallBackValidity, reqs[len(reqs)-1].Validity)
	})
	t.Run("UpdatePolicyRules", func(t *testing.T) {
		r := newRig(t, nil, nil)
		_, err := r.client.UpdatePolicyRules(t.Context(), eid, gatewaytest.DefaultEnabledICCID, pol2)
		require.NoError(t, err)
		assert.Equal(t, pol2, r.profiles(t, eid)[gatewaytest.DefaultEnabledICCID].Pol2)
		// The rule is enforced: disabling is now refused by the SM-SR.
		_, err = wait(t)(r.client.DisableProfile(t.Context(), eid, gatewaytest.DefaultEnabledICCID))
		require.ErrorIs(t, err, esimgw.ErrFailed)
	})
	t.Run("UpdateSubscriptionAddress", func(t *testing.T) {
		r := newRig(t, nil, nil)
		_, err := r.client.UpdateSubscriptionAddress(t.Context(), eid, gatewaytest.DefaultEnabledICCID, address)
		require.NoError(t, err)
		assert.Equal(t, address, r.profiles(t, eid)[gatewaytest.DefaultEnabledICCID].SubscriptionAddress)
	})
	t.Run("AuditEIS", func(t *testing.T) {
		r := newRig(t, nil, nil)
		op, err := r.client.AuditEIS(t.Context(), eid, nil)
		require.NoError(t, err)
		res, err := op.Wait(t.Context())
		require.NoError(t, err)
		require.NotNil(t, res.EIS)
		assert.Equal(t, eid, res.EIS.EumSignedInfo.Eid.String())
		var iccids []string
		for _, p := range res.EIS.ProfileInfo {
			iccids = append(iccids, p.Iccid)
		}
		// Another operator's profile is not shown to this one.
		assert.ElementsMatch(t, []string{gatewaytest.DefaultEnabledICCID, gatewaytest.DefaultDisabledICCID, gatewaytest.FallbackICCID}, iccids)
		require.NotNil(t, res.EIS.LastAuditDate)
	})
	t.Run("SMSR change", func(t *testing.T) {
		r := newRig(t, nil, nil)
		const target = "1.3.6.1.4.1.99999.21"
		_, err := wait(t)(r.client.PrepareSMSRChange(t.Context(), eid, r.gw.SMSRID))
		require.NoError(t, err)
		_, err = wait(t)(r.client.SMSRChange(t.Context(), eid, target))
		require.NoError(t, err)
		e, ok := r.gw.EUICC(eid)
		require.True(t, ok)
		assert.Equal(t, target, e.SMSRID)
	})
	t.Run("FAILED leaves the state alone", func(t *testing.T) {
		r := newRig(t, nil, nil)
		_, err := wait(t)(r.client.DeleteProfile(t.Context(), eid, gatewaytest.DefaultEnabledICCID))
		require.ErrorIs(t, err, esimgw.ErrFailed)
		require.NotErrorIs(t, err, esimgw.ErrExpired)
		var fe *esimgw.FunctionError
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, esimgw.SubjectProfileICCID, fe.Subject)
		assert.Equal(t, gatewaytest.DefaultEnabledICCID, fe.SubjectIdentifier)
		assert.Equal(t, rps.ProfileStateTypeEnabled, r.profiles(t, eid)[gatewaytest.DefaultEnabledICCID].State)
	})
	t.Run("EXPIRED on an unreachable eUICC", func(t *testing.T) {
		r := newRig(t, nil, nil)
		_, err := wait(t)(r.client.DisableProfile(t.Context(), gatewaytest.UnreachableEID, gatewaytest.UnreachableICCID, esimgw.WithCallValidityPeriod(time.Second)))
		require.ErrorIs(t, err, esimgw.ErrExpired)
		require.NotErrorIs(t, err, esimgw.ErrFailed)
	})
}

// TestIntegrationDeliveries: the ways callbacks reach the operator, injected in the mock.
func TestIntegrationDeliveries(t *testing.T) {
	const eid = gatewaytest.DefaultEID
	t.Run("callback before the 202", func(t *testing.T) {
		r := newRig(t, nil, nil)
		r.gw.Inject(gatewaytest.CallbackBefore202{Times: 1})
		_, err := wait(t)(r.client.EnableProfile(t.Context(), eid, gatewaytest.DefaultDisabledICCID))
		require.NoError(t, err)
		assert.Equal(t, 1, r.gw.FaultsFired(gatewaytest.CallbackBefore202{}))
		assert.Equal(t, rps.ProfileStateTypeEnabled, r.profiles(t, eid)[gatewaytest.DefaultDisabledICCID].State)
	})
	t.Run("duplicate callback", func(t *testing.T) {
		dups := make(chan *esimgw.Inbound, 4)
		r := newRig(t, nil, []esimgw.DispatcherOption{esimgw.WithDuplicateHandler(func(_ context.Context, in *esimgw.Inbound) { dups <- in })})
		r.gw.Inject(gatewaytest.DuplicateCallbacks{Copies: 2, Times: 1})
		op, err := r.client.EnableProfile(t.Context(), eid, gatewaytest.DefaultDisabledICCID)
		_, werr := wait(t)(op, err)
		require.NoError(t, werr)
		in := <-dups
		require.NotNil(t, in.Operation)
		assert.Equal(t, op.MessageID(), in.Operation.MessageID)
		assert.Equal(t, op.FunctionCallIdentifier(), in.FunctionCallIdentifier())
		require.Eventually(t, func() bool { return delivered(r.gw.Callbacks()) == 2 }, eventually, 10*time.Millisecond)
		assert.Empty(t, dups, "one duplicate report, one resolution")
	})
	t.Run("callback without RelatesTo", func(t *testing.T) {
		r := newRig(t, nil, nil)
		r.gw.Inject(gatewaytest.CallbacksWithoutRelatesTo{Times: 1})
		_, err := wait(t)(r.client.EnableProfile(t.Context(), eid, gatewaytest.DefaultDisabledICCID))
		require.NoError(t, err)
		cbs := r.gw.Callbacks()
		require.Len(t, cbs, 1)
		assert.Empty(t, cbs[0].Header.RelatesTo)
	})
	t.Run("unmatched callback of an abandoned operation", func(t *testing.T) {
		unmatched := make(chan *esimgw.Inbound, 4)
		r := newRig(t, nil, []esimgw.DispatcherOption{esimgw.WithUnmatchedHandler(func(_ context.Context, in *esimgw.Inbound) error {
			unmatched <- in
			return nil
		})})
		// Callbacks are held until two are ready, so the first operation is abandoned before its callback
		// can possibly arrive.
		r.gw.Inject(gatewaytest.ReorderCallbacks{Batch: 2, Times: 1})
		gone, err := r.client.SetFallBackAttribute(t.Context(), eid, gatewaytest.DefaultEnabledICCID, esimgw.WithFunctionCallIdentifier("fc-abandoned"))
		require.NoError(t, err)
		cancelled, cancel := context.WithCancel(t.Context())
		cancel()
		_, err = gone.Wait(cancelled)
		require.ErrorIs(t, err, esimgw.ErrAbandoned)
		require.ErrorIs(t, err, context.Canceled)
		_, err = wait(t)(r.client.EnableProfile(t.Context(), eid, gatewaytest.DefaultDisabledICCID))
		require.NoError(t, err)
		in := <-unmatched
		assert.Equal(t, esimgw.InboundCallback, in.Kind)
		assert.Equal(t, "SetFallBackAttribute", in.Function)
		assert.Equal(t, gone.MessageID(), in.RelatesTo)
		assert.Equal(t, gone.TransactionID(), in.TransactionID)
		assert.Equal(t, "fc-abandoned", in.FunctionCallIdentifier())
		assert.NotEmpty(t, in.Message.Header.MessageID)
		assert.NoError(t, in.Err)
		assert.IsType(t, &rps.ES4SetFallBackAttributeResponse{}, in.Element)
	})
	t.Run("handler error then retry", func(t *testing.T) {
		var calls, handled atomic.Int32
		var mu sync.Mutex
		var got []*esimgw.Notification
		notes := esimgw.Notifications{ProfileEnabled: func(_ context.Context, n *esimgw.Notification) error {
			if calls.Add(1) == 1 {
				return errors.New("database unavailable")
			}
			mu.Lock()
			got = append(got, n)
			mu.Unlock()
			handled.Add(1)
			return nil
		}, ProfileDisabled: func(context.Context, *esimgw.Notification) error { return nil }}
		r := newRig(t, nil, []esimgw.DispatcherOption{esimgw.WithNotificationHandler(notes)})
		require.NoError(t, r.gw.SimulateLocalEnable(eid, gatewaytest.DefaultDisabledICCID))
		require.Eventually(t, func() bool {
			for _, n := range r.gw.Notifications() {
				if n.Function == "HandleProfileEnabledNotification" && n.Outcome == gatewaytest.OutcomeDelivered {
					return true
				}
			}
			return false
		}, eventually, 10*time.Millisecond)
		assert.Equal(t, int32(2), calls.Load(), "refused once with a 500, then delivered again")
		assert.Equal(t, int32(1), handled.Load())
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, gatewaytest.DefaultDisabledICCID, got[0].Iccid)
		assert.Equal(t, eid, got[0].Eid)
		for _, n := range r.gw.Notifications() {
			if n.Function == "HandleProfileEnabledNotification" {
				assert.Equal(t, 2, n.Attempts)
			}
		}
	})
}

func delivered(cbs []gatewaytest.Callback) int {
	n := 0
	for _, c := range cbs {
		if c.Outcome == gatewaytest.OutcomeDelivered {
			n++
		}
	}
	return n
}

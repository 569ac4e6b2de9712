package es2_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/es2"
	"github.com/esimgw/esimgw/es4"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/progress"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// eventually bounds waits for deliveries over loopback; nothing here measures time.
const eventually = 15 * time.Second

// gwRig is an operator set-up against the mock gateway over mutual TLS: one Dispatcher (its notification
// handler a Watcher in front of the application's) behind one CallbackServer, serving an es2.Client and an
// es4.Client.
type gwRig struct {
	gw      *gatewaytest.Gateway
	es2     *es2.Client
	es4     *es4.Client
	watcher *es2.Watcher

	mu    sync.Mutex
	notes []*esimgw.Notification // what the application's handler saw
}

func newGWRig(t *testing.T, gwOpts ...gatewaytest.Option) *gwRig {
	t.Helper()
	r := &gwRig{gw: gatewaytest.Start(t, append([]gatewaytest.Option{gatewaytest.WithLogger(quiet())}, gwOpts...)...)}
	r.watcher = es2.NewWatcher(esimgw.NotificationHandlerFunc(func(_ context.Context, n *esimgw.Notification) error {
		r.mu.Lock()
		r.notes = append(r.notes, n)
		r.mu.Unlock()
		return nil
	}))
	op := gatewaytest.NewOperator(t, r.gw, esimgw.WithNotificationHandler(r.watcher))
	opts := op.Options
	if r.gw.Behavior() == gatewaytest.ProfileKPN {
		opts = append(opts, esimgw.WithKPN())
	}
	var err error
	r.es2, err = es2.NewClient(r.gw.ES2URL, r.gw.SMSRID, append(opts, esimgw.WithPeerEntityID(r.gw.SMDPID))...)
	require.NoError(t, err)
	r.es4, err = es4.NewClient(r.gw.ES4URL, append(opts, esimgw.WithPeerEntityID(r.gw.SMSRID))...)
	require.NoError(t, err)
	return r
}

// profiles returns the profiles of eid as the SM-SR reports them through ES2 GetEIS.
func (r *gwRig) profiles(t *testing.T, eid string) map[string]rps.ProfileInfoType {
	t.Helper()
	res, err := r.es2.GetEIS(t.Context(), eid)
	if err != nil || res.EIS == nil {
		t.Fatalf("GetEIS %s: %v", eid, err)
	}
	out := make(map[string]rps.ProfileInfoType, len(res.EIS.ProfileInfo))
	for i := range res.EIS.ProfileInfo {
		out[progress.NormalizeICCID(res.EIS.ProfileInfo[i].Iccid)] = res.EIS.ProfileInfo[i]
	}
	return out
}

// waitOp[T](t)(client.F(...)) requires the call to succeed and waits for the operation's result.
// The waits share one deadline, ended with the test.
func waitOp[T any](t *testing.T) func(*esimgw.Operation[T], error) (T, error) {
	ctx, cancel := context.WithTimeout(t.Context(), eventually)
	t.Cleanup(cancel)
	return func(op *esimgw.Operation[T], err error) (T, error) {
		t.Helper()
		if err != nil {
			t.Fatalf("not sent: %v", err)
		}
		return op.Wait(ctx)
	}
}

// TestIntegrationFunctions runs every ES2 function against the mock over mTLS and checks the state the
// SM-SR reports afterwards.
func TestIntegrationFunctions(t *testing.T) {
	r := newGWRig(t)
	const eid = gatewaytest.DefaultEID
	ctx := t.Context()

	wait := waitOp[*esimgw.Result](t)

	before := r.profiles(t, eid)
	require.Equal(t, rps.ProfileStateTypeEnabled, before[gatewaytest.DefaultEnabledICCID].State)

	dl, err := waitOp[*esimgw.DownloadResult](t)(r.es2.DownloadProfile(ctx, es2.DownloadRequest{Eid: eid, Iccid: gatewaytest.CatalogICCID}))
	require.NoError(t, err)
	assert.Equal(t, gatewaytest.CatalogICCID, dl.Iccid)
	assert.Equal(t, esimgw.StatusExecutedSuccess, dl.Outcome().Status)
	assert.Equal(t, rps.ProfileStateTypeDisabled, r.profiles(t, eid)[gatewaytest.CatalogICCID].State)

	_, err = wait(r.es2.EnableProfile(ctx, eid, gatewaytest.CatalogICCID))
	require.NoError(t, err)
	now := r.profiles(t, eid)
	assert.Equal(t, rps.ProfileStateTypeEnabled, now[gatewaytest.CatalogICCID].State)
	assert.Equal(t, rps.ProfileStateTypeDisabled, now[gatewaytest.DefaultEnabledICCID].State)

	_, err = r.es2.UpdateSubscriptionAddress(ctx, eid, gatewaytest.CatalogICCID, rps.SubscriptionAddressType{Imsi: "204049000000999", Msisdn: "31600000999"})
	require.NoError(t, err)
	assert.Equal(t, "31600000999", r.profiles(t, eid)[gatewaytest.CatalogICCID].SubscriptionAddress.Msisdn)

	pol2 := rps.POL2Type{Rule: []rps.POL2RuleType{{Subject: rps.POL2SubjectTypePROFILE, Action: rps.POL2ActionTypeDELETE, Qualification: rps.POL2QualificationTypeNotAllowed}}}
	_, err = r.es2.UpdatePolicyRules(ctx, eid, gatewaytest.DefaultDisabledICCID, pol2)
	require.NoError(t, err)
	require.Len(t, r.profiles(t, eid)[gatewaytest.DefaultDisabledICCID].Pol2.Rule, 1)

	_, err = wait(r.es2.SetFallBackAttribute(ctx, eid, gatewaytest.CatalogICCID))
	require.NoError(t, err)
	now = r.profiles(t, eid)
	assert.True(t, now[gatewaytest.CatalogICCID].FallbackAttribute)
	assert.False(t, now[gatewaytest.FallbackICCID].FallbackAttribute)

	_, err = wait(r.es2.DisableProfile(ctx, eid, gatewaytest.DefaultEnabledICCID))
	require.Error(t, err, "disabling a disabled profile is refused")
	_, err = wait(r.es2.EnableProfile(ctx, eid, gatewaytest.DefaultEnabledICCID))
	require.NoError(t, err)
	_, err = wait(r.es2.DeleteProfile(ctx, eid, gatewaytest.DefaultDisabledICCID))
	require.ErrorIs(t, err, esimgw.ErrFailed, "POL2 forbids deleting it")
	_, err = wait(r.es2.DeleteProfile(ctx, eid, gatewaytest.OtherMNOICCID))
	require.ErrorIs(t, err, esimgw.ErrFailed, "another operator's profile")
	_, err = wait(r.es2.DisableProfile(ctx, eid, gatewaytest.DefaultEnabledICCID))
	require.NoError(t, err)
	_, err = wait(r.es2.DeleteProfile(ctx, eid, gatewaytest.DefaultEnabledICCID))
	require.NoError(t, err)
	_, present := r.profiles(t, eid)[gatewaytest.DefaultEnabledICCID]
	assert.False(t, present)
}

func TestIntegrationSyncFailed(t *testing.T) {
	r := newGWRig(t)
	_, err := r.es2.GetEIS(t.Context(), "89049032000001000000000000000559")
	var fe *esimgw.FunctionError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "GetEIS", fe.Function)
}

// TestIntegrationActivate covers Activate end to end: GSMA (notification), KPN (no notification: ES4
// audit), download failure and the warning case, checking state through GetEIS.
func TestIntegrationActivate(t *testing.T) {
	t.Run("GSMA, notification", func(t *testing.T) {
		r := newGWRig(t)
		board := progress.NewBoard(progress.WithLogger(quiet()))
		a, err := r.es2.Activate(t.Context(), es2.ActivateRequest{Eid: gatewaytest.DefaultEID, ProfileType: gatewaytest.CatalogProfileType},
			es2.WithNotificationVerifier(r.watcher), es2.WithProgressBoard(board), es2.WithVerifyTimeout(eventually))
		require.NoError(t, err)
		assert.True(t, a.Enabled)
		assert.Equal(t, es2.VerifiedByNotification, a.VerifiedBy)
		assert.Equal(t, gatewaytest.CatalogICCID, a.Iccid)
		assert.Equal(t, rps.ProfileStateTypeEnabled, r.profiles(t, gatewaytest.DefaultEID)[a.Iccid].State)
		e, ok := board.Get(a.Iccid)
		require.True(t, ok)
		assert.Equal(t, progress.StageEnabled, e.Stage)
		r.mu.Lock()
		defer r.mu.Unlock()
		require.NotEmpty(t, r.notes, "the application's handler sees the notification too")
		assert.Equal(t, esimgw.ProfileEnabled, r.notes[0].Kind)
	})
	t.Run("KPN, audit", func(t *testing.T) {
		r := newGWRig(t, gatewaytest.WithProfile(gatewaytest.ProfileKPN))
		a, err := r.es2.Activate(t.Context(), es2.ActivateRequest{Eid: gatewaytest.DefaultEID, Iccid: gatewaytest.CatalogICCID},
			es2.WithAuditVerifier(r.es4), es2.WithVerifyTimeout(eventually))
		require.NoError(t, err)
		assert.True(t, a.Enabled)
		assert.Equal(t, es2.VerifiedByAudit, a.VerifiedBy)
		assert.Equal(t, esimgw.StatusExecutedSuccess, a.Outcome().Status)
	})
	t.Run("download failure", func(t *testing.T) {
		r := newGWRig(t)
		a, err := r.es2.Activate(t.Context(), es2.ActivateRequest{Eid: gatewaytest.FullEID, Iccid: gatewaytest.CatalogICCID},
			es2.WithNotificationVerifier(r.watcher))
		require.ErrorIs(t, err, esimgw.ErrFailed)
		assert.Equal(t, es2.StepDownload, a.FailedStep())
		assert.Equal(t, esimgw.StatusFailed, a.Outcome().Status)
		_, present := r.profiles(t, gatewaytest.FullEID)[gatewaytest.CatalogICCID]
		assert.False(t, present)
	})
	t.Run("downloaded but not enabled", func(t *testing.T) {
		r := newGWRig(t)
		// The enabled profile's POL2 forbids disabling it, so the new one cannot be enabled.
		pol2 := rps.POL2Type{Rule: []rps.POL2RuleType{{Subject: rps.POL2SubjectTypePROFILE, Action: rps.POL2ActionTypeDISABLE, Qualification: rps.POL2QualificationTypeNotAllowed}}}
		_, err := r.es2.UpdatePolicyRules(t.Context(), gatewaytest.DefaultEID, gatewaytest.DefaultEnabledICCID, pol2)
		require.NoError(t, err)
		a, err := r.es2.Activate(t.Context(), es2.ActivateRequest{Eid: gatewaytest.DefaultEID, Iccid: gatewaytest.CatalogICCID},
			es2.WithNotificationVerifier(r.watcher), es2.WithVerifyTimeout(100*time.Millisecond))
		require.NoError(t, err)
		assert.False(t, a.Enabled)
		assert.Equal(t, esimgw.StatusExecutedWithWarning, a.Outcome().Status)
		assert.Equal(t, rps.ProfileStateTypeDisabled, r.profiles(t, gatewaytest.DefaultEID)[gatewaytest.CatalogICCID].State)
	})
}

// TestIntegrationNotifications: notifications of local changes reach the application through the Watcher,
// on the same server as the callbacks.
func TestIntegrationNotifications(t *testing.T) {
	r := newGWRig(t)
	w := r.watcher.Watch(gatewaytest.DefaultEID, gatewaytest.DefaultDisabledICCID, esimgw.ProfileEnabled)
	defer w.Stop()
	require.NoError(t, r.gw.SimulateLocalEnable(gatewaytest.DefaultEID, gatewaytest.DefaultDisabledICCID))
	ctx, cancel := context.WithTimeout(t.Context(), eventually)
	defer cancel()
	n, err := w.Next(ctx)
	require.NoError(t, err)
	assert.Equal(t, gatewaytest.DefaultDisabledICCID, n.Iccid)
}

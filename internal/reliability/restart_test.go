package reliability_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/callback"
	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// TestCallbackServerRestart: operations are pending when the operator's process (Dispatcher, Tracker,
// CallbackServer) goes down. The gateway's callbacks fail while it is down and are retried; the restarted
// process, on the same address and with an empty Tracker, receives every one of them in its unmatched
// handler with what is needed to resume: the request's MessageID (RelatesTo), the TransactionId, the
// FunctionCallIdentifier and the result. None is lost, none is handed over twice.
func TestCallbackServerRestart(t *testing.T) {
	retry := soap.RetryPolicy{MaxAttempts: 1000, InitialInterval: 10 * time.Millisecond, MaxInterval: 50 * time.Millisecond, MaxElapsed: eventually}
	r := newRig(t, []gatewaytest.Option{gatewaytest.WithCallbackRetry(retry)})
	// Hold every callback until the process is down, so that none reaches the first process.
	r.gw.Inject(gatewaytest.ReorderCallbacks{Batch: 1000, Times: 1})

	type started struct {
		op     interface{ Key() correlate.OperationKey }
		verify func(t *testing.T, in *esimgw.Inbound)
	}
	var ops []started
	enable, err := r.client.EnableProfile(t.Context(), eid, disabled)
	require.NoError(t, err)
	ops = append(ops, started{enable, func(t *testing.T, in *esimgw.Inbound) {
		assert.NoError(t, in.Err)
		assert.IsType(t, &rps.ES4EnableProfileResponse{}, in.Element)
	}})
	del, err := r.client.DeleteProfile(t.Context(), gatewaytest.SecondEID, gatewaytest.SecondEnabledICCID)
	require.NoError(t, err)
	ops = append(ops, started{del, func(t *testing.T, in *esimgw.Inbound) {
		assert.ErrorIs(t, in.Err, esimgw.ErrFailed, "an enabled profile cannot be deleted")
		var fe *esimgw.FunctionError
		require.ErrorAs(t, in.Err, &fe)
		assert.Equal(t, gatewaytest.SecondEnabledICCID, fe.SubjectIdentifier)
	}})
	audit, err := r.client.AuditEIS(t.Context(), gatewaytest.SecondEID, nil)
	require.NoError(t, err)
	ops = append(ops, started{audit, func(t *testing.T, in *esimgw.Inbound) {
		require.NoError(t, in.Err)
		resp, ok := in.Element.(*rps.ES4AuditEISResponse)
		require.True(t, ok)
		require.NotNil(t, resp.Eis)
		assert.Equal(t, gatewaytest.SecondEID, resp.Eis.EumSignedInfo.Eid.String())
	}})
	expire, err := r.client.DisableProfile(t.Context(), gatewaytest.UnreachableEID, gatewaytest.UnreachableICCID, esimgw.WithCallValidityPeriod(time.Second))
	require.NoError(t, err)
	ops = append(ops, started{expire, func(t *testing.T, in *esimgw.Inbound) {
		assert.ErrorIs(t, in.Err, esimgw.ErrExpired)
	}})

	require.Eventually(t, func() bool { return len(r.gw.Callbacks()) == len(ops) }, eventually, 5*time.Millisecond, "all callbacks held")
	require.Equal(t, len(ops), r.op.Dispatcher.Tracker().Pending())

	// The process goes down with its pending operations.
	addr := r.op.Server.Addr().String()
	ctx, cancel := context.WithTimeout(context.Background(), eventually)
	defer cancel()
	require.NoError(t, r.op.Server.Shutdown(ctx))
	r.gw.Reset() // release the callbacks: they fail and are retried
	require.Eventually(t, func() bool {
		for _, c := range r.gw.Callbacks() {
			if c.Attempts < 1 || c.Err == nil {
				return false
			}
		}
		return true
	}, eventually, 5*time.Millisecond, "every callback failed at least once while the server was down")

	// The restarted process: a new Dispatcher with an empty Tracker, a new server on the same address.
	after := newLedger()
	d2 := esimgw.NewDispatcher(after.dispatcherOptions()...)
	s2, err := callback.NewServer(d2, callback.WithTLS(r.gw.CallbackServerTLSConfig()), callback.WithLogger(quiet()))
	require.NoError(t, err)
	require.NoError(t, s2.Listen(addr))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), eventually)
		defer cancel()
		_ = s2.Shutdown(ctx)
	})

	for _, cb := range deliveredCallbacks(t, r.gw, len(ops)) {
		assert.Equal(t, gatewaytest.OutcomeDelivered, cb.Outcome, cb.Function)
		assert.Greater(t, cb.Attempts, 1, "delivered by a retry after the restart")
	}
	var fcIDs []string
	for _, o := range ops {
		k := o.op.Key()
		fcIDs = append(fcIDs, k.FunctionCallIdentifier)
		t.Run(k.Function, func(t *testing.T) {
			ins := after.unmatchedOf(k.FunctionCallIdentifier)
			require.Len(t, ins, 1)
			in := ins[0]
			assert.Equal(t, esimgw.InboundCallback, in.Kind)
			assert.Equal(t, "ES4", in.Interface)
			assert.Equal(t, k.Function, in.Function)
			assert.Equal(t, k.MessageID, in.RelatesTo, "the request's MessageID")
			assert.Equal(t, k.TransactionID, in.TransactionID)
			assert.Equal(t, k.FunctionCallIdentifier, in.FunctionCallIdentifier())
			o.verify(t, in)
		})
	}
	lost, dup := after.lostAndDuplicated(fcIDs...)
	assert.Zero(t, lost)
	assert.Zero(t, dup)
	assert.Zero(t, after.duplicateCount())
	r.book.mu.Lock()
	assert.Empty(t, r.book.results, "the first process saw none of them")
	r.book.mu.Unlock()
}

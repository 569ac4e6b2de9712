package contract_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/digirm"
	"github.com/esimgw/esimgw/digirm/digirmtest"
	"github.com/esimgw/esimgw/internal/pgtest"
	"github.com/esimgw/esimgw/pgstore"
	"github.com/esimgw/esimgw/thingspace"
	"github.com/esimgw/esimgw/thingspace/thingspacetest"
)

// twoReplicas opens two pgstore Stores on one schema: two replicas of one service.
func twoReplicas(t *testing.T) (a, b *pgstore.Store) {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	require.NoError(t, pgstore.Migrate(ctx, pool))
	open := func() *pgstore.Store {
		s, err := pgstore.New(ctx, pool)
		require.NoError(t, err)
		t.Cleanup(s.Close)
		return s
	}
	return open(), open()
}

// A ThingSpace request sent by one replica whose callback reaches another: the waiter gets the refusal as
// the typed *esimgw.FunctionError (Interface, Function, Subject and Reason), and a success as a Result.
func TestThingSpaceOutcomeAcrossReplicas(t *testing.T) {
	storeA, storeB := twoReplicas(t)
	ts := thingspacetest.Start(t)
	sender, err := thingspace.NewClient(append(ts.ClientOptions(), thingspace.WithStore(storeA))...)
	require.NoError(t, err)
	receiver, err := thingspace.NewClient(append(ts.ClientOptions(), thingspace.WithStore(storeB))...)
	require.NoError(t, err)
	recv := httptest.NewServer(receiver.CallbackHandler())
	t.Cleanup(recv.Close)
	ctx := waitCtx(t)
	require.NoError(t, receiver.RegisterCallback(ctx, "", recv.URL), "callbacks go to the other replica only")
	t.Cleanup(func() { _ = ts.WaitIdle(context.Background()) })

	op, err := sender.Enable(ctx, esimgw.ProfileRef{EID: thingspacetest.DefaultEID, ICCID: thingspacetest.EnabledICCID})
	require.NoError(t, err)
	_, err = op.Wait(ctx)
	var fe *esimgw.FunctionError
	require.ErrorAs(t, err, &fe, "typed, not text: %v", err)
	assert.Equal(t, string(esimgw.PlatformThingSpace), fe.Interface)
	assert.Equal(t, "enable", fe.Function, "the receiver names the action as the sender does")
	assert.Equal(t, esimgw.StatusFailed, fe.Status)
	assert.Equal(t, "8.2.1", fe.Subject)
	assert.Equal(t, "3.8", fe.Reason)
	assert.Equal(t, op.FunctionCallIdentifier(), fe.FunctionCallIdentifier)
	assert.ErrorIs(t, err, esimgw.ErrFailed)
	assert.Equal(t, esimgw.StatusFailed, esimgw.OutcomeOf(nil, err).Status)

	op, err = sender.Disable(ctx, esimgw.ProfileRef{EID: thingspacetest.DefaultEID, ICCID: thingspacetest.EnabledICCID})
	require.NoError(t, err)
	r, err := op.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, esimgw.StatusExecutedSuccess, r.Outcome().Status)
}

// Digi Remote Manager on pgstore: a download by activation code reports the ICCID the device reported,
// at the replica that polled and at another that attached to the operation; a failed transaction reaches
// the other replica as a typed *esimgw.FunctionError with the platform's message.
func TestDigiOutcomeAcrossReplicas(t *testing.T) {
	storeA, storeB := twoReplicas(t)
	drm := digirmtest.Start(t, digirmtest.WithActionDuration(20*time.Millisecond))
	c, err := digirm.NewClient(append(drm.ClientOptions(), digirm.WithStore(storeA))...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	ctx := waitCtx(t)

	op, err := c.Download(ctx, esimgw.DownloadSpec{EID: digirmtest.DefaultEID, ActivationCode: digirmtest.ActivationCode})
	require.NoError(t, err)
	elsewhere, err := storeB.AttachOperation(ctx, op.FunctionCallIdentifier())
	require.NoError(t, err)
	r, err := op.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, digirmtest.CatalogICCID2, r.Iccid, "the ICCID the device reported, through pgstore")
	value, verr := waitPending(t, elsewhere)
	require.NoError(t, verr)
	raw, ok := value.(json.RawMessage)
	require.True(t, ok, "the transaction is stored as its JSON, got %T", value)
	tx, err := digirm.DecodeTransaction(raw)
	require.NoError(t, err)
	assert.Equal(t, digirmtest.CatalogICCID2, tx.ICCID, "the other replica reads the same transaction")

	drm.Inject(digirmtest.FailTransactions{MessageCode: "sim_error", Message: "the eSIM refused"})
	op2, err := c.Enable(ctx, esimgw.ProfileRef{EID: digirmtest.DefaultEID, ICCID: digirmtest.DisabledICCID})
	require.NoError(t, err)
	elsewhere, err = storeB.AttachOperation(ctx, op2.FunctionCallIdentifier())
	require.NoError(t, err)
	_, err = op2.Wait(ctx)
	var te *digirm.TransactionError
	require.ErrorAs(t, err, &te, "the polling replica keeps the transaction")
	_, verr = waitPending(t, elsewhere)
	var fe *esimgw.FunctionError
	require.ErrorAs(t, verr, &fe, "typed at the other replica, not text: %v", verr)
	assert.Equal(t, string(esimgw.PlatformDigiRM), fe.Interface)
	assert.Equal(t, "enable", fe.Function)
	assert.Equal(t, "sim_error: the eSIM refused", fe.Message)
	assert.Equal(t, op2.FunctionCallIdentifier(), fe.FunctionCallIdentifier)
	assert.Equal(t, err.Error(), verr.Error(), "the same text on both replicas")
	assert.True(t, errors.Is(verr, esimgw.ErrFailed))
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// waitPending waits for an attached operation's result.
func waitPending(t *testing.T, p *correlate.Pending) (any, error) {
	t.Helper()
	select {
	case <-p.Done():
	case <-time.After(30 * time.Second):
		t.Fatalf("operation %s not finished after 30 s", p.Key().MessageID)
	}
	v, err, _ := p.Result()
	return v, err
}

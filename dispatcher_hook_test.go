package esimgw_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// The result hook sees a callback before its operation resolves and before the 202; its failure answers
// 503 (the gateway retries) and leaves the operation pending.
func TestResultHookRunsBeforeTheAcknowledgement(t *testing.T) {
	enable := mustFunction(t, rps.ES4, "EnableProfile")
	var (
		op       *esimgw.Operation[*esimgw.Result]
		calls    int
		resolved []bool // whether the operation was resolved when the hook ran
	)
	d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(quietLogger()), esimgw.WithResultHook(func(_ context.Context, in *esimgw.Inbound) error {
		calls++
		select {
		case <-op.Done():
			resolved = append(resolved, true)
		default:
			resolved = append(resolved, false)
		}
		assert.Equal(t, "EnableProfile", in.Function)
		assert.Equal(t, op.MessageID(), in.RelatesTo)
		if calls == 1 {
			return errors.New("application database unavailable")
		}
		return nil
	}))
	c := newEngine(t, "ES4", newFakeGateway(t, nil), esimgw.WithReplyTo(replyURL), esimgw.WithDispatcher(d))
	var err error
	op, err = esimgw.StartOperation(context.Background(), c, enable, enableRequest(), &rps.ES4EnableProfileResponse{}, esimgw.ResultOf)
	require.NoError(t, err)
	cb := func() error {
		_, err := d.ServeSOAP(context.Background(), readMessage(t,
			&soap.Header{RelatesTo: op.MessageID(), MessageID: soap.NewMessageID(peerOID, testNow).String()},
			&rps.ES4EnableProfileResponse{BaseResponseType: statusBase(rps.StatusTypeEXECUTED_SUCCESS)}))
		return err
	}
	err = cb()
	var f *soap.Fault
	require.ErrorAs(t, err, &f)
	assert.Equal(t, http.StatusServiceUnavailable, f.StatusCode(), "the gateway retries")
	select {
	case <-op.Done():
		t.Fatal("resolved although the hook failed")
	default:
	}
	require.NoError(t, cb(), "the gateway's retry")
	_, err = op.Wait(waitCtx(t))
	require.NoError(t, err)
	assert.Equal(t, []bool{false, false}, resolved, "the hook ran before the operation resolved, both times")
}

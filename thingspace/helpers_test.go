package thingspace_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/thingspace"
	"github.com/esimgw/esimgw/thingspace/thingspacetest"
)

var quick = thingspace.RetryPolicy{MaxAttempts: 3, InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond}

type env struct {
	ts       *thingspacetest.Server
	client   *thingspace.Client
	receiver *httptest.Server
}

// setUp starts a mock, a client for it and the client's callback receiver, registered for both accounts.
func setUp(t *testing.T, mock []thingspacetest.Option, opts ...thingspace.Option) *env {
	t.Helper()
	ts := thingspacetest.Start(t, mock...)
	c, err := thingspace.NewClient(append(append(ts.ClientOptions(), thingspace.WithRetryPolicy(quick)), opts...)...)
	require.NoError(t, err)
	recv := httptest.NewServer(c.CallbackHandler())
	t.Cleanup(recv.Close)
	ctx := context.Background()
	require.NoError(t, c.RegisterCallback(ctx, thingspacetest.AccountName, recv.URL))
	require.NoError(t, c.RegisterCallback(ctx, thingspacetest.OtherAccountName, recv.URL))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = ts.WaitIdle(ctx)
	})
	return &env{ts: ts, client: c, receiver: recv}
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func ref(iccid string) esimgw.ProfileRef {
	return esimgw.ProfileRef{EID: thingspacetest.DefaultEID, ICCID: iccid}
}

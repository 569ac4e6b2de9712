package thingspace_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/callback"
	"github.com/esimgw/esimgw/thingspace"
	"github.com/esimgw/esimgw/thingspace/thingspacetest"
)

// The receiver as a JSON route of an callback.Server, the client's operations in the Dispatcher's
// Store beside the SOAP clients'.
func TestReceiverOnTheCallbackServerSharingTheDispatchersStore(t *testing.T) {
	ts := thingspacetest.Start(t)
	d := esimgw.NewDispatcher()
	c, err := thingspace.NewClient(append(ts.ClientOptions(), thingspace.WithStore(d.Store()))...)
	require.NoError(t, err)
	srv, err := callback.NewServer(d, callback.WithPlainHTTP(), callback.WithRoute("/thingspace", c.CallbackHandler()))
	require.NoError(t, err)
	require.NoError(t, srv.Listen("127.0.0.1:0"))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = ts.WaitIdle(ctx)
		_ = srv.Shutdown(ctx)
	})
	ctx := waitCtx(t)
	require.NoError(t, c.RegisterCallback(ctx, "", srv.URL()+"/thingspace"))

	op, err := c.Enable(ctx, ref(thingspacetest.DisabledICCID))
	require.NoError(t, err)
	_, err = op.Wait(ctx)
	require.NoError(t, err)
	assert.Same(t, d.Store(), c.Store())
	p, err := d.Store().AttachOperation(ctx, op.MessageID())
	require.NoError(t, err, "the Dispatcher's store knows the ThingSpace operation")
	assert.Equal(t, "ThingSpace", p.Key().Interface)
}

package esimgw_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// A request that was not sent reports the identifiers it carried, so that a callback for it (the
// gateway may have run it before the answer was lost) can be matched by the application.
func TestFailedSendNamesItsOperation(t *testing.T) {
	const endpoint = "https://smsr.example.net/ES4"
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder(http.MethodPost, endpoint, httpmock.NewErrorResponder(&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}))
	quiet := slog.New(slog.DiscardHandler)
	d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(quiet))
	c, err := esimgw.NewClient("ES4", endpoint, esimgw.WithEntity("1.2.3", ""), esimgw.WithReplyTo("https://mno/cb"),
		esimgw.WithDispatcher(d), esimgw.WithLogger(quiet), esimgw.WithHTTPClient(&http.Client{Transport: mt}),
		esimgw.WithSOAPOptions(soap.WithRetryPolicy(soap.RetryPolicy{MaxAttempts: 2, InitialInterval: time.Millisecond})))
	require.NoError(t, err)
	fn, _ := rps.FunctionByName(rps.ES4, "EnableProfile")
	_, _, err = c.Start(context.Background(), fn, &rps.ES4EnableProfileRequest{Eid: rps.HexBinary{0x89}, Iccid: "8931"},
		&rps.ES4EnableProfileResponse{}, esimgw.WithFunctionCallIdentifier("order-42"))

	var se *esimgw.SendError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "order-42", se.Key.FunctionCallIdentifier)
	assert.NotEmpty(t, se.Key.MessageID)
	assert.Contains(t, err.Error(), "order-42")
	var ce *esimgw.CallError
	require.ErrorAs(t, err, &ce, "one error type for every call")
	assert.Equal(t, 2, ce.Attempts)
	assert.Equal(t, esimgw.NotSent, ce.Outcome)
	assert.Equal(t, "order-42", ce.FunctionCallIdentifier)
	assert.Equal(t, "EnableProfile", ce.Function)
	assert.Equal(t, se.Key.MessageID, ce.MessageID)
	assert.ErrorIs(t, err, esimgw.ErrNotSent)
	assert.ErrorIs(t, err, soap.ErrNotSent)
	var op *net.OpError
	require.ErrorAs(t, err, &op, "the transport's error is still inspectable")
	assert.Contains(t, err.Error(), "not sent after 2 attempts")
	assert.Zero(t, d.Tracker().Pending())
}

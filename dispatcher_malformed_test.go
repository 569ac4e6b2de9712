package esimgw_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// A callback cut short in its body is refused with 400, which no sender retries; its operation must not
// be left waiting: it resolves with ErrMalformedCallback.
func TestCallbackCutShortResolvesItsOperation(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(quiet))
	key := correlate.OperationKey{MessageID: "//1.2.3/urn:uuid:req?TransactionId=tx-1", TransactionID: "tx-1", Interface: "ES4", Function: "EnableProfile"}
	p, err := d.Tracker().Register(key)
	require.NoError(t, err)
	op := esimgw.NewOperation[any](d.Tracker(), p, nil)

	resp := &rps.ES4EnableProfileResponse{}
	resp.FunctionExecutionStatus.Status = rps.StatusTypeEXECUTED_SUCCESS
	whole := soap.AppendEnvelope(nil, &soap.Header{MessageID: "//9.9/urn:uuid:cb", RelatesTo: key.MessageID, Action: "x"}, resp)
	cut := whole[:bytes.Index(whole, []byte("<rps:Status>"))+5]

	srv := httptest.NewServer(soap.NewHandler(d, soap.WithHandlerLogger(quiet)))
	defer srv.Close()
	res, err := http.Post(srv.URL, "application/soap+xml; charset=utf-8", bytes.NewReader(cut))
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)

	_, err = op.Wait(context.Background())
	assert.ErrorIs(t, err, esimgw.ErrMalformedCallback)
	assert.Zero(t, d.Tracker().Pending())
}

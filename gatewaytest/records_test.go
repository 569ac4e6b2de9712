package gatewaytest_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/wsdl/rps"
)

func getEIS(t *testing.T) *rps.ES4GetEISRequest {
	return &rps.ES4GetEISRequest{BaseRequestType: base(), Eid: hexEID(t, gatewaytest.DefaultEID)}
}

func fcisOf(rs []gatewaytest.Request) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.FunctionCallIdentifier)
	}
	return out
}

func TestRecordLimit(t *testing.T) {
	o := newOp(t, gatewaytest.WithRecordLimit(3))
	var fcis []string
	for range 5 {
		b := getEIS(t)
		o.sync(t, b)
		fcis = append(fcis, b.FunctionCallIdentifier)
	}
	reqs := o.g.Requests()
	assert.Equal(t, fcis[2:], fcisOf(reqs), "the last three, oldest first")
	assert.Less(t, reqs[0].Seq, reqs[1].Seq)
	assert.Less(t, reqs[1].Seq, reqs[2].Seq)
	assert.Zero(t, o.g.Arrivals(fcis[0]), "dropped from the records")
	assert.Equal(t, 1, o.g.Arrivals(fcis[4]))
	assert.Equal(t, 1, o.g.Executions(fcis[0]), "de-duplication memory is not a record")

	var audits []string
	for range 4 {
		b := &rps.ES4AuditEISRequest{BaseRequestType: base(), Eid: hexEID(t, gatewaytest.DefaultEID)}
		o.async(t, b)
		audits = append(audits, b.FunctionCallIdentifier)
	}
	require.NoError(t, o.g.WaitIdle(t.Context()))
	assert.Equal(t, audits[1:], fcisOf(o.g.Requests()))
	cbs := o.g.Callbacks()
	require.Len(t, cbs, 3)
	for _, c := range cbs {
		assert.Equal(t, gatewaytest.OutcomeDelivered, c.Outcome)
	}
	st := o.g.Stats()
	assert.Equal(t, 9, st.Requests, "Stats count past the limit")
	assert.Equal(t, 9, st.Executed)
	assert.Equal(t, 4, st.Callbacks)
	assert.Equal(t, 4, st.Delivered)

	o.g.ClearRecords()
	assert.Empty(t, o.g.Requests())
	assert.Empty(t, o.g.Callbacks())
	assert.Equal(t, st, o.g.Stats(), "ClearRecords leaves Stats alone")
}

func TestRecordsUnlimitedByDefault(t *testing.T) {
	o := newOp(t)
	for range 5 {
		o.sync(t, getEIS(t))
	}
	assert.Len(t, o.g.Requests(), 5)
}

func TestDuplicateWindow(t *testing.T) {
	o := newOp(t, gatewaytest.WithDuplicateWindow(2))
	type sent struct {
		body   *rps.ES4GetEISRequest
		msgID  string
		answer string
	}
	var calls []sent
	for range 3 {
		b := getEIS(t)
		resp, h, err := o.call(t, b)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		calls = append(calls, sent{b, h.MessageID, resp.Message.Header.MessageID})
	}
	retry := func(s sent) string {
		h := o.header(t, s.body)
		h.MessageID = s.msgID
		resp, err := o.client.Call(context.Background(), o.g.ES4URL, h, s.body)
		require.NoError(t, err)
		return resp.Message.Header.MessageID
	}
	assert.Equal(t, calls[2].answer, retry(calls[2]), "in the window: the same response, not executed again")
	assert.Equal(t, 1, o.g.Stats().Duplicates)
	assert.Zero(t, o.g.Executions(calls[0].body.FunctionCallIdentifier), "out of the window")
	assert.NotEqual(t, calls[0].answer, retry(calls[0]), "out of the window: executed again")
	reqs := o.g.Requests()
	assert.False(t, reqs[len(reqs)-1].Duplicate)
	st := o.g.Stats()
	assert.Equal(t, 4, st.Executed)
	assert.Equal(t, 5, st.Requests)
	assert.Equal(t, 1, st.Duplicates)
}

func TestStats(t *testing.T) {
	o := newOp(t)
	o.g.SetNotificationURL(gatewaytest.ES4, o.cb.url("/es4"))
	o.g.Inject(gatewaytest.SOAPFault{Times: 1})
	_, _, err := o.call(t, getEIS(t))
	require.Error(t, err)
	// FAILED: the profile is already enabled.
	r, _ := o.async(t, &rps.ES4EnableProfileRequest{BaseRequestType: base(), Eid: hexEID(t, gatewaytest.DefaultEID), Iccid: gatewaytest.DefaultEnabledICCID})
	st, _, _ := status(r)
	require.Equal(t, rps.StatusTypeFAILED, st)
	// EXPIRED: never executed.
	r, _ = o.async(t, &rps.ES4AuditEISRequest{BaseRequestType: base(1), Eid: hexEID(t, gatewaytest.UnreachableEID)})
	st, _, _ = status(r)
	require.Equal(t, rps.StatusTypeEXPIRED, st)
	// Two ES4 notifications (the GSMA profile also sends ES2 ones, to no URL here).
	require.NoError(t, o.g.SimulateFallback(gatewaytest.DefaultEID))
	require.NoError(t, o.g.WaitIdle(t.Context()))
	assert.Equal(t, gatewaytest.Stats{Requests: 3, Refused: 1, Executed: 1, Failed: 1, Expired: 1, Callbacks: 2, Notifications: 2,
		Delivered: 4}, o.g.Stats())
}

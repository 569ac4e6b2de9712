package gatewaytest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

func TestDefaultSeedIsValid(t *testing.T) {
	for _, eid := range []string{gatewaytest.DefaultEID, gatewaytest.SecondEID, gatewaytest.FullEID, gatewaytest.UnreachableEID} {
		assert.NoError(t, esimgw.ValidateEID(eid), eid)
	}
	for _, ic := range []string{gatewaytest.DefaultEnabledICCID, gatewaytest.DefaultDisabledICCID, gatewaytest.FallbackICCID,
		gatewaytest.OtherMNOICCID, gatewaytest.SecondEnabledICCID, gatewaytest.FullEnabledICCID, gatewaytest.UnreachableICCID,
		gatewaytest.CatalogICCID, gatewaytest.CatalogICCID2, gatewaytest.OtherMNOCatalogICCID} {
		assert.NoError(t, esimgw.ValidateICCID(ic), ic)
	}
}

func TestSyncGetEIS(t *testing.T) {
	o := newOp(t)
	for _, tc := range []struct {
		name string
		body rps.Element
	}{
		{"ES4", &rps.ES4GetEISRequest{BaseRequestType: base(), Eid: hexEID(t, gatewaytest.DefaultEID)}},
		{"ES2", &rps.ES2GetEISRequest{BaseRequestType: base(), Eid: hexEID(t, gatewaytest.DefaultEID), SmsrID: o.g.SMSRID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, m := o.sync(t, tc.body)
			st, _, _ := status(r)
			require.Equal(t, rps.StatusTypeEXECUTED_SUCCESS, st)
			eis := r.(interface{ EISData() *rps.EISType }).EISData()
			require.NotNil(t, eis)
			assert.Equal(t, o.g.SMSRID, eis.SmsrID)
			var iccids []string
			for _, p := range eis.ProfileInfo {
				iccids = append(iccids, p.Iccid)
			}
			// Only the caller's profiles: OtherMNOICCID is hidden.
			assert.Equal(t, []string{gatewaytest.DefaultEnabledICCID, gatewaytest.DefaultDisabledICCID, gatewaytest.FallbackICCID}, iccids)
			from, err := soap.ParseEntityAddress(m.Header.From)
			require.NoError(t, err)
			assert.NotEmpty(t, from.EntityID)
			assert.Equal(t, soap.SeparatorAmpersand, from.Separator)
			// The response continues the request's transaction.
			req := o.g.Requests()
			rq, err := soap.ParseMessageID(req[len(req)-1].Header.MessageID)
			require.NoError(t, err)
			rs, err := soap.ParseMessageID(m.Header.MessageID)
			require.NoError(t, err)
			assert.Equal(t, rq.TransactionID, rs.TransactionID)
		})
	}
}

func TestEnableDisableCycle(t *testing.T) {
	o := newOp(t)
	eid := hexEID(t, gatewaytest.DefaultEID)
	r, m := o.async(t, &rps.ES4EnableProfileRequest{BaseRequestType: base(), Eid: eid, Iccid: gatewaytest.DefaultDisabledICCID})
	st, _, _ := status(r)
	require.Equal(t, rps.StatusTypeEXECUTED_SUCCESS, st)
	// The callback continues the request's transaction and comes from the SM-SR.
	from, err := soap.ParseEntityAddress(m.Header.From)
	require.NoError(t, err)
	assert.Equal(t, o.g.SMSRID, from.EntityID)
	e, ok := o.g.EUICC(gatewaytest.DefaultEID)
	require.True(t, ok)
	en, _ := e.Enabled()
	assert.Equal(t, gatewaytest.DefaultDisabledICCID, en.ICCID)
	p, _ := e.Profile(gatewaytest.DefaultEnabledICCID)
	assert.Equal(t, gatewaytest.StateDisabled, p.State)

	// Disabling the enabled profile enables the fall-back one.
	r, _ = o.async(t, &rps.ES2DisableProfileRequest{BaseRequestType: base(), Eid: eid, SmsrID: o.g.SMSRID, Iccid: gatewaytest.DefaultDisabledICCID})
	st, _, _ = status(r)
	require.Equal(t, rps.StatusTypeEXECUTED_SUCCESS, st)
	e, _ = o.g.EUICC(gatewaytest.DefaultEID)
	en, _ = e.Enabled()
	assert.Equal(t, gatewaytest.FallbackICCID, en.ICCID)

	// The API enable sent no notification.
	assert.Empty(t, o.g.Notifications())
	cbs := o.g.Callbacks()
	require.Len(t, cbs, 2)
	assert.Equal(t, gatewaytest.OutcomeDelivered, cbs[0].Outcome)
	assert.Equal(t, 1, cbs[0].Attempts)
}

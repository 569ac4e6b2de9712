package campaign_test

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/campaign"
	"github.com/esimgw/esimgw/gatewaytest"
)

// fallbackMoved reports whether fleet member i's fall-back attribute is on its second profile.
func fallbackMoved(t *testing.T, gw *gatewaytest.Gateway, i int) bool {
	t.Helper()
	e, ok := gw.EUICC(gatewaytest.FleetEID(i))
	require.True(t, ok)
	for _, p := range e.Profiles {
		if p.ICCID == gatewaytest.FleetFallbackICCID(i) {
			return p.Fallback
		}
	}
	return false
}

func TestCampaignRunsEveryEIDOnce(t *testing.T) {
	const n = 300
	gw := gatewaytest.Start(t, gatewaytest.WithSeed(gatewaytest.Seed{}), gatewaytest.WithFleet(n))
	pool := migrated(t)
	m := manager(t, pool)
	// Two EIDs the mock does not know: FAILED 8.1.1 / 3.9.
	input := fleetLines(0, n, gatewaytest.FleetEID(n)+","+gatewaytest.FleetFallbackICCID(n), gatewaytest.FleetEID(n+1)+","+gatewaytest.FleetFallbackICCID(n+1))
	rep, err := m.Create(t.Context(), campaign.Spec{Key: "fb", Function: "ES4.SetFallBackAttribute"}, campaign.CSV(strings.NewReader(input)))
	require.NoError(t, err)
	require.Equal(t, int64(n+2), rep.Queued)
	startWorker(t, gw, pool)

	p := waitFinished(t, m, "fb", time.Minute)
	assert.Equal(t, int64(n+2), p.Total)
	assert.Equal(t, int64(n), p.Succeeded)
	assert.Equal(t, int64(2), p.Failed)
	require.NotEmpty(t, p.ByOutcome)
	var failed campaign.OutcomeCount
	for _, o := range p.ByOutcome {
		if o.Status == esimgw.StatusFailed {
			failed = o
		}
	}
	assert.Equal(t, campaign.OutcomeCount{Status: esimgw.StatusFailed, StatusCode: "8.1.1,3.9", Description: failed.Description, Count: 2}, failed)
	for i := range n + 2 {
		fci := campaign.FunctionCallIdentifier("fb", 1, gatewaytest.FleetEID(i))
		assert.Equal(t, 1, gw.Executions(fci), "EID %d executed once", i)
	}
	moved := 0
	for i := range n {
		if fallbackMoved(t, gw, i) {
			moved++
		}
	}
	assert.Equal(t, int64(moved), p.Succeeded, "the campaign's count is the mock's state")

	var buf bytes.Buffer
	require.NoError(t, m.Export(t.Context(), "fb", &buf, campaign.ExportCSV))
	recs, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, n+3)
	assert.Equal(t, []string{"2", gatewaytest.FleetEID(0), gatewaytest.FleetFallbackICCID(0), "1", "done", "EXECUTED_SUCCESS"}, recs[1][:6])
	last := recs[n+2]
	assert.Equal(t, []string{gatewaytest.FleetEID(n + 1), "FAILED", "8.1.1,3.9"}, []string{last[1], last[5], last[6]})
	assert.Equal(t, campaign.FunctionCallIdentifier("fb", 1, gatewaytest.FleetEID(n+1)), last[10])
}

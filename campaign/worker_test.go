package campaign_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
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

	// The failed EIDs, a page of one at a time, then by their outcome row.
	var pages [][]string
	after := ""
	for {
		page, more, err := m.Items(t.Context(), "fb", campaign.ItemQuery{Failed: true, After: after, Limit: 1})
		require.NoError(t, err)
		require.Len(t, page, 1)
		assert.Equal(t, "8.1.1,3.9", page[0].StatusCode)
		pages = append(pages, []string{page[0].EID, page[0].FunctionCallIdentifier})
		after = page[0].EID
		if !more {
			break
		}
	}
	assert.Equal(t, [][]string{
		{gatewaytest.FleetEID(n), campaign.FunctionCallIdentifier("fb", 1, gatewaytest.FleetEID(n))},
		{gatewaytest.FleetEID(n + 1), campaign.FunctionCallIdentifier("fb", 1, gatewaytest.FleetEID(n+1))},
	}, pages)
	byCode, more, err := m.Items(t.Context(), "fb", campaign.ItemQuery{Status: esimgw.StatusFailed, StatusCode: "8.1.1,3.9"})
	require.NoError(t, err)
	assert.False(t, more)
	assert.Len(t, byCode, 2)
	ok, more, err := m.Items(t.Context(), "fb", campaign.ItemQuery{Status: esimgw.StatusExecutedSuccess, Limit: campaign.MaxItemLimit})
	require.NoError(t, err)
	assert.False(t, more)
	assert.Len(t, ok, n)
	_, _, err = m.Items(t.Context(), "fb", campaign.ItemQuery{Limit: campaign.MaxItemLimit + 1})
	var ve *esimgw.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "Limit", ve.Field)
	_, _, err = m.Items(t.Context(), "fb", campaign.ItemQuery{After: "89<script>"})
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "After", ve.Field)
	_, _, err = m.Items(t.Context(), "nope", campaign.ItemQuery{})
	require.ErrorIs(t, err, campaign.ErrNotFound)

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

// TestResultPaths runs small campaigns with the Recorder only as the Dispatcher's unmatched handler, and
// through a gateway that resets connections after reading requests for a while: every EID is executed once
// either way, and the export in JSON Lines says so.
func TestResultPaths(t *testing.T) {
	tests := []struct {
		name      string
		intercept bool
		faults    []gatewaytest.Fault
	}{
		{"unmatched handler", false, nil},
		{"reset connections", true, []gatewaytest.Fault{gatewaytest.ResetConnections{Times: 10}}},
		{"service unavailable", true, []gatewaytest.Fault{gatewaytest.ServiceUnavailable{Times: 10}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const n = 60
			gw := gatewaytest.Start(t, gatewaytest.WithSeed(gatewaytest.Seed{}), gatewaytest.WithFleet(n))
			pool := migrated(t)
			m := manager(t, pool)
			_, err := m.Create(t.Context(), campaign.Spec{Key: "paths", Function: "ES4.SetFallBackAttribute", Rate: 1000, Burst: 10},
				campaign.CSV(strings.NewReader(fleetLines(0, n))))
			require.NoError(t, err)
			gw.Inject(tt.faults...)
			startWorkerWith(t, gw, pool, tt.intercept, campaign.WithOverloadBackoff(100*time.Millisecond),
				campaign.WithRiverConfig(func(c *river.Config) { c.RetryPolicy = quickRetry{} }))
			p := waitFinished(t, m, "paths", time.Minute)
			assert.Equal(t, int64(n), p.Succeeded, "%+v", p)
			assert.Equal(t, n, gw.Stats().Executed)
			for _, f := range tt.faults {
				assert.Positive(t, gw.FaultsFired(f), "%T fired", f)
			}
			var buf bytes.Buffer
			require.NoError(t, m.Export(t.Context(), "paths", &buf, campaign.ExportJSONLines))
			dec := json.NewDecoder(&buf)
			rows := 0
			for dec.More() {
				var r campaign.ExportRow
				require.NoError(t, dec.Decode(&r))
				assert.Equal(t, "EXECUTED_SUCCESS", r.Status)
				assert.Equal(t, 1, gw.Executions(r.FunctionCallIdentifier), r.EID)
				assert.NotNil(t, r.DoneAt)
				rows++
			}
			assert.Equal(t, n, rows)
		})
	}
}

// quickRetry retries a failed send after 100 ms, so that a test of faults does not wait River's backoff.
type quickRetry struct{}

func (quickRetry) NextRetry(*rivertype.JobRow) time.Time {
	return time.Now().Add(100 * time.Millisecond)
}

package campaign_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/campaign"
	"github.com/esimgw/esimgw/gatewaytest"
)

// catalogICCID is the ICCID of the catalogue profile made for fleet member i.
func catalogICCID(i int) string { return esimgw.ICCIDWithLuhn(fmt.Sprintf("893104299%010d", i)) }

// profileOf returns fleet member i's profile iccid as the mock holds it.
func profileOf(t *testing.T, gw *gatewaytest.Gateway, i int, iccid string) (gatewaytest.Profile, bool) {
	t.Helper()
	e, ok := gw.EUICC(gatewaytest.FleetEID(i))
	require.True(t, ok)
	for _, p := range e.Profiles {
		if p.ICCID == iccid {
			return p, true
		}
	}
	return gatewaytest.Profile{}, false
}

// TestES2DownloadAndActivate runs ES2 campaigns on the mock's SM-DP with per-EID arguments: DownloadProfile
// of a named ICCID per EID, and Activate (DownloadProfile with enable) of a ProfileType the SM-DP picks
// the profile of. Each EID is executed once, and the mock's state is what the campaign says.
func TestES2DownloadAndActivate(t *testing.T) {
	const n = 40
	gw := gatewaytest.Start(t, gatewaytest.WithSeed(gatewaytest.Seed{}), gatewaytest.WithFleet(2*n))
	const activateType = "campaign-activate-iot"
	for i := range n {
		require.NoError(t, gw.AddCatalogProfile(gatewaytest.CatalogProfile{ICCID: catalogICCID(i), ProfileType: "campaign-download-iot"}))
		require.NoError(t, gw.AddCatalogProfile(gatewaytest.CatalogProfile{ICCID: catalogICCID(n + i), ProfileType: activateType}))
	}
	pool := migrated(t)
	m := manager(t, pool)

	// DownloadProfile: the ICCID per EID, on its line; one line names a profile the catalogue lacks.
	var dl strings.Builder
	for i := range n {
		fmt.Fprintf(&dl, "%s,%s\n", gatewaytest.FleetEID(i), catalogICCID(i))
	}
	fmt.Fprintf(&dl, "%s,%s\n", gatewaytest.FleetEID(n), catalogICCID(3*n))
	rep, err := m.Create(t.Context(), campaign.Spec{Key: "dl", Function: "es2.downloadprofile"}, campaign.CSV(strings.NewReader(dl.String())))
	require.NoError(t, err)
	require.Equal(t, int64(n+1), rep.Queued)
	assert.Equal(t, "ES2.DownloadProfile", rep.Campaign.Function)

	// Activate: the campaign's default argument, a ProfileType; bad arguments are bad lines.
	var act strings.Builder
	for i := n; i < 2*n; i++ {
		fmt.Fprintf(&act, `{"eid":"%s"}`+"\n", gatewaytest.FleetEID(i))
	}
	act.WriteString(`{"eid":"` + gatewaytest.FleetEID(0) + `","profileType":" padded "}` + "\n")
	act.WriteString(`{"eid":"` + gatewaytest.FleetEID(1) + `","iccid":"8931"}` + "\n")
	rep, err = m.Create(t.Context(), campaign.Spec{Key: "act", Function: "ES2.Activate", Arg: campaign.ProfileTypePrefix + activateType},
		campaign.JSONLines(strings.NewReader(act.String())))
	require.NoError(t, err)
	require.Equal(t, int64(n), rep.Queued)
	require.Len(t, rep.BadLines, 2)
	assert.Equal(t, []int64{n + 1, n + 2}, []int64{rep.BadLines[0].Line, rep.BadLines[1].Line})
	_, err = m.Create(t.Context(), campaign.Spec{Key: "noarg", Function: "ES2.Activate"}, campaign.Slice(gatewaytest.FleetEID(0)), campaign.RefuseBadInput())
	var ie *campaign.InputError
	require.ErrorAs(t, err, &ie)
	assert.Contains(t, ie.Lines[0].Error(), "needs the profile to download")

	startWorker(t, gw, pool)
	p := waitFinished(t, m, "dl", time.Minute)
	assert.Equal(t, int64(n), p.Succeeded, "%+v", p)
	require.Equal(t, int64(1), p.Failed)
	assert.Equal(t, "8.2.1,3.9", p.ByOutcome[len(p.ByOutcome)-1].StatusCode, "unknown ICCID")
	for i := range n {
		assert.Equal(t, 1, gw.Executions(campaign.FunctionCallIdentifier("dl", 1, gatewaytest.FleetEID(i))))
		prof, ok := profileOf(t, gw, i, catalogICCID(i))
		require.True(t, ok, "member %d has its profile", i)
		assert.Equal(t, gatewaytest.StateDisabled, prof.State, "downloaded, not enabled")
	}

	p = waitFinished(t, m, "act", time.Minute)
	assert.Equal(t, int64(n), p.Succeeded, "%+v", p)
	enabled := 0
	for i := n; i < 2*n; i++ {
		assert.Equal(t, 1, gw.Executions(campaign.FunctionCallIdentifier("act", 1, gatewaytest.FleetEID(i))))
		e, _ := gw.EUICC(gatewaytest.FleetEID(i))
		for _, prof := range e.Profiles {
			if prof.ProfileType == activateType && prof.State == gatewaytest.StateEnabled {
				enabled++
			}
		}
	}
	assert.Equal(t, n, enabled, "every EID got one profile of the type, enabled")
}

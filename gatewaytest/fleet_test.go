package gatewaytest_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/es4"
	"github.com/esimgw/esimgw/gatewaytest"
)

func TestFleetIdentifiers(t *testing.T) {
	seen := map[string]bool{}
	for _, ic := range []string{gatewaytest.DefaultEnabledICCID, gatewaytest.DefaultDisabledICCID, gatewaytest.FallbackICCID,
		gatewaytest.OtherMNOICCID, gatewaytest.SecondEnabledICCID, gatewaytest.FullEnabledICCID, gatewaytest.UnreachableICCID,
		gatewaytest.CatalogICCID, gatewaytest.CatalogICCID2, gatewaytest.OtherMNOCatalogICCID,
		gatewaytest.DefaultEID, gatewaytest.SecondEID, gatewaytest.FullEID, gatewaytest.UnreachableEID} {
		seen[ic] = true
	}
	for _, i := range []int{0, 1, 9, 10, 42, 99_999, 100_000, gatewaytest.MaxFleet - 1} {
		eid, en, fb := gatewaytest.FleetEID(i), gatewaytest.FleetEnabledICCID(i), gatewaytest.FleetFallbackICCID(i)
		require.NoError(t, esimgw.ValidateEID(eid), i)
		require.NoError(t, esimgw.ValidateICCID(en), i)
		require.NoError(t, esimgw.ValidateICCID(fb), i)
		for _, id := range []string{eid, en, fb} {
			require.False(t, seen[id], "%s (member %d) collides", id, i)
			seen[id] = true
		}
		got, ok := gatewaytest.FleetIndex(eid)
		require.True(t, ok, eid)
		assert.Equal(t, i, got)
		assert.Equal(t, eid, gatewaytest.FleetEID(i), "deterministic")

		e := gatewaytest.FleetEUICC(i)
		assert.Equal(t, eid, e.EID)
		p, ok := e.Enabled()
		require.True(t, ok)
		assert.Equal(t, en, p.ICCID)
		assert.True(t, p.Fallback, "the enabled profile holds the fall-back attribute until it is moved")
		p, ok = e.Profile(fb)
		require.True(t, ok)
		assert.Equal(t, gatewaytest.StateDisabled, p.State)
		assert.False(t, p.Fallback)
	}
	for _, eid := range []string{gatewaytest.DefaultEID, "", "89049032000002", "89049032000002000000000000000100"} {
		_, ok := gatewaytest.FleetIndex(eid)
		assert.False(t, ok, eid)
	}
	assert.Equal(t, []string{gatewaytest.FleetEID(0), gatewaytest.FleetEID(1), gatewaytest.FleetEID(2)},
		slices.Collect(gatewaytest.FleetEIDs(3)))
	for eid := range gatewaytest.FleetEIDs(10) {
		assert.Equal(t, gatewaytest.FleetEID(0), eid)
		break // the iterator stops when asked
	}
	assert.Panics(t, func() { gatewaytest.FleetEID(-1) })
	assert.Panics(t, func() { gatewaytest.FleetFallbackICCID(gatewaytest.MaxFleet) })
}

func TestWithFleet(t *testing.T) {
	const n = 1000
	g := gatewaytest.Start(t, gatewaytest.WithFleet(n))
	all := g.EUICCs()
	require.Len(t, all, 4+n, "the fleet comes after the default seed")
	assert.Equal(t, gatewaytest.DefaultEID, all[0].EID)
	for i, e := range all[4:] {
		require.Equal(t, gatewaytest.FleetEID(i), e.EID)
		require.Len(t, e.Profiles, 2)
		assert.Equal(t, g.OperatorID, e.Profiles[0].MNOID)
		assert.NotEmpty(t, e.Profiles[1].ISDPAID)
	}

	only := gatewaytest.Start(t, gatewaytest.WithSeed(gatewaytest.Seed{}), gatewaytest.WithFleet(3))
	var eids []string
	for _, e := range only.EUICCs() {
		eids = append(eids, e.EID)
	}
	assert.Equal(t, slices.Collect(gatewaytest.FleetEIDs(3)), eids)
	err := only.LoadSeed(gatewaytest.Seed{EUICCs: []gatewaytest.EUICC{gatewaytest.FleetEUICC(3), gatewaytest.FleetEUICC(1)}})
	var se *gatewaytest.SeedError
	require.True(t, errors.As(err, &se), "%v", err)
	assert.Len(t, only.EUICCs(), 3, "a refused seed adds nothing")
	_, ok := only.EUICC(gatewaytest.FleetEID(3))
	assert.False(t, ok)
	require.NoError(t, only.LoadSeed(gatewaytest.Seed{EUICCs: []gatewaytest.EUICC{gatewaytest.FleetEUICC(3)}}),
		"the undo released the ICCIDs of the refused seed")

	_, err = gatewaytest.New(gatewaytest.WithFleet(-1))
	assert.Error(t, err)
	_, err = gatewaytest.New(gatewaytest.WithSeed(gatewaytest.Seed{EUICCs: []gatewaytest.EUICC{gatewaytest.FleetEUICC(2)}}), gatewaytest.WithFleet(3))
	assert.True(t, errors.As(err, &se), "a seed holding a fleet EID: %v", err)
}

// The fleet over the wire: move the fall-back attribute, then disable the enabled profile and the eUICC
// falls back to it.
func TestFleetFallBackOverTheWire(t *testing.T) {
	gw := gatewaytest.Start(t, gatewaytest.WithSeed(gatewaytest.Seed{}), gatewaytest.WithFleet(50))
	op := gatewaytest.NewOperator(t, gw)
	c, err := es4.NewClient(gw.ES4URL, op.Options...)
	require.NoError(t, err)
	ctx := context.Background()
	const i = 37
	eid := gatewaytest.FleetEID(i)

	set, err := c.SetFallBackAttribute(ctx, eid, gatewaytest.FleetFallbackICCID(i))
	require.NoError(t, err)
	_, err = set.Wait(ctx)
	require.NoError(t, err)
	e, _ := gw.EUICC(eid)
	p, _ := e.Profile(gatewaytest.FleetFallbackICCID(i))
	assert.True(t, p.Fallback)
	p, _ = e.Profile(gatewaytest.FleetEnabledICCID(i))
	assert.False(t, p.Fallback, "the attribute moved")

	eis, err := c.GetEIS(ctx, eid)
	require.NoError(t, err)
	assert.Len(t, eis.EIS.ProfileInfo, 2)

	g := gatewaytest.Start(t, gatewaytest.WithFleet(50)) // the same EIDs on another gateway
	_, ok := g.EUICC(eid)
	assert.True(t, ok)

	// The fleet's other members are untouched.
	other, _ := gw.EUICC(gatewaytest.FleetEID(i + 1))
	p, _ = other.Enabled()
	assert.True(t, p.Fallback)
	assert.Equal(t, 2, gw.Stats().Executed, "one SetFallBackAttribute and one GetEIS executed")
}

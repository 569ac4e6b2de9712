package bulk_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/bulk"
	"github.com/esimgw/esimgw/digirm/digirmtest"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/internal/contract"
	"github.com/esimgw/esimgw/thingspace/thingspacetest"
)

// fleet is a platform's client on a mock holding n eUICCs, member i with enabled(i) enabled and
// disabled(i) disabled.
type fleet struct {
	contract.Subject
	eid, enabled, disabled func(i int) string
}

const fleetSize = 12

var platforms = []struct {
	name  string
	start func(t *testing.T) fleet
}{
	{"es4", func(t *testing.T) fleet {
		gw := gatewaytest.Start(t, gatewaytest.WithFleet(fleetSize))
		return fleet{contract.ES4(t, gw), gatewaytest.FleetEID, gatewaytest.FleetEnabledICCID, gatewaytest.FleetFallbackICCID}
	}},
	{"thingspace", func(t *testing.T) fleet {
		ts := thingspacetest.Start(t)
		for i := range fleetSize { // the mock has no fleet of its own: gatewaytest's identifiers
			ts.AddEUICC(gatewaytest.FleetEID(i), map[string]string{
				gatewaytest.FleetEnabledICCID(i):  thingspacetest.StateEnabled,
				gatewaytest.FleetFallbackICCID(i): thingspacetest.StateDisabled,
			})
		}
		return fleet{contract.ThingSpace(t, ts), gatewaytest.FleetEID, gatewaytest.FleetEnabledICCID, gatewaytest.FleetFallbackICCID}
	}},
	{"digirm", func(t *testing.T) fleet {
		drm := digirmtest.Start(t, digirmtest.WithFleet(fleetSize), digirmtest.WithActionDuration(10*time.Millisecond))
		return fleet{contract.DigiRM(t, drm), digirmtest.FleetEID, digirmtest.FleetEnabledICCID, digirmtest.FleetDisabledICCID}
	}},
}

// The same enable over a fleet on every platform: each EID gets its own ICCID, a refused enable and an
// EID without an ICCID are those EIDs' failures, typed alike everywhere, and the run goes on.
func TestAwaitEnableOverFleet(t *testing.T) {
	for _, p := range platforms {
		t.Run(p.name, func(t *testing.T) {
			f := p.start(t)
			eids := make([]string, fleetSize)
			iccids := make(map[string]string, fleetSize)
			for i := range fleetSize {
				eids[i] = f.eid(i)
				iccids[eids[i]] = f.disabled(i)
			}
			iccids[eids[0]] = f.enabled(0) // already enabled: the platform refuses
			delete(iccids, eids[1])        // no ICCID: refused before sending

			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			failures := bulk.NewFailureCollector[*esimgw.Result]()
			sum, err := bulk.Run(ctx, bulk.Slice(eids), bulk.Await(f.Manager.Enable, bulk.ICCIDs(iccids)), failures.Add,
				bulk.WithConcurrency(4))
			require.NoError(t, err)
			assert.Equal(t, int64(fleetSize-2), sum.Succeeded)
			failed := failures.Outcomes()
			require.Len(t, failed, 2)
			var fe *esimgw.FunctionError
			require.ErrorAs(t, failed[0].Err, &fe, "EID 0")
			assert.Equal(t, string(f.Manager.Platform()), fe.Interface)
			var ve *esimgw.ValidationError
			require.ErrorAs(t, failed[1].Err, &ve, "EID 1")
			assert.Equal(t, esimgw.FieldICCID, ve.Field)

			for i := 2; i < fleetSize; i++ {
				st := f.State(eids[i])
				assert.Equal(t, esimgw.ProfileStateEnabled, st[f.disabled(i)], "member %d", i)
				assert.Equal(t, esimgw.ProfileStateDisabled, st[f.enabled(i)], "member %d", i)
			}
			assert.Equal(t, esimgw.ProfileStateDisabled, f.State(eids[1])[f.disabled(1)], "nothing was sent for member 1")
		})
	}
}

// SameICCID, Disable and Audit through the same adapter; a cancelled run abandons the waits in flight.
func TestAwaitOtherActions(t *testing.T) {
	for _, p := range platforms {
		t.Run(p.name, func(t *testing.T) {
			f := p.start(t)
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			c := bulk.NewCollector[*esimgw.Result]()
			_, err := bulk.Run(ctx, bulk.Slice([]string{f.EID}), bulk.Await(f.Manager.Disable, bulk.SameICCID(f.EnabledICCID)), c.Add)
			require.NoError(t, err)
			require.Equal(t, 1, c.Len())
			require.NoError(t, c.Outcomes()[0].Err)
			assert.Equal(t, esimgw.ProfileStateDisabled, f.State(f.EID)[f.EnabledICCID])

			if a, ok := f.Manager.(esimgw.ProfileAuditor); ok {
				audits := bulk.NewCollector[*esimgw.AuditResult]()
				_, err := bulk.Run(ctx, bulk.Slice([]string{f.EID}), bulk.Await(a.Audit, bulk.EID), audits.Add)
				require.NoError(t, err)
				o := audits.Outcomes()[0]
				require.NoError(t, o.Err)
				pi, ok := o.Value.Profile(f.DisabledICCID)
				require.True(t, ok)
				assert.Equal(t, esimgw.ProfileStateDisabled, pi.State)
			}

			cancelled, stop := context.WithCancel(ctx)
			stop()
			_, err = bulk.Await(f.Manager.Enable, bulk.SameICCID(f.DisabledICCID))(cancelled, f.EID)
			require.Error(t, err, "a wait on an ended context has no result")
		})
	}
}

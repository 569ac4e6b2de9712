package gatewaytest

import (
	"fmt"
	"iter"
	"slices"
	"strconv"

	"github.com/esimgw/esimgw"
)

// A fleet is n generated eUICCs for runs over many EIDs (package bulk). Fleet member i has
//
//	EID FleetEID(i)                     "89049032000002" + i in 16 digits + 2 check digits
//	FleetEnabledICCID(i)  Enabled       with the fall-back attribute, owned by the gateway's OperatorID
//	FleetFallbackICCID(i) Disabled      owned by the OperatorID, ready to take the fall-back attribute
//
// so that SetFallBackAttribute(FleetEID(i), FleetFallbackICCID(i)) moves the attribute and a later
// DisableProfile of the enabled profile falls back to it. EIDs carry valid mod-97 check digits and ICCIDs
// valid Luhn digits; none collides with the default seed. The identifiers depend on i only, so a client
// process can generate the EIDs of a fleet the mock holds (FleetEIDs) without asking it.
//
// The mock keeps about 1 KiB of state per fleet eUICC, whatever the number of calls made to it (with
// WithRecordLimit and WithDuplicateWindow set).

// MaxFleet is the largest fleet WithFleet accepts (IMSIs have room for nine digits of index).
const MaxFleet = 1_000_000_000

// WithFleet adds n fleet eUICCs (members 0 to n-1, see FleetEID) after the seed: the default seed, or
// the one WithSeed or WithSeedFile gives (WithSeed(Seed{}) for a fleet alone). New fails when n is
// negative or above MaxFleet, or when the seed already holds a fleet EID or ICCID.
func WithFleet(n int) Option { return func(c *config) { c.fleet = n } }

// FleetEID returns the EID of fleet member i. Like the other Fleet functions it panics unless
// 0 <= i < MaxFleet.
func FleetEID(i int) string {
	checkMember(i)
	eid, err := esimgw.EIDWithCheckDigits(fmt.Sprintf("%s%016d", fleetEIDPrefix, i))
	if err != nil {
		panic("gatewaytest: " + err.Error()) // unreachable: 30 digits
	}
	return eid
}

// FleetEnabledICCID returns the ICCID of fleet member i's enabled profile.
func FleetEnabledICCID(i int) string { return fleetICCID(1, i) }

// FleetFallbackICCID returns the ICCID of fleet member i's disabled profile, the one to give the
// fall-back attribute.
func FleetFallbackICCID(i int) string { return fleetICCID(2, i) }

const fleetEIDPrefix = "89049032000002"

func checkMember(i int) {
	if i < 0 || i >= MaxFleet {
		panic(fmt.Sprintf("gatewaytest: fleet member %d out of range [0, %d)", i, MaxFleet))
	}
}

func fleetICCID(kind, i int) string {
	checkMember(i)
	return esimgw.ICCIDWithLuhn(fmt.Sprintf("8931042%d%011d", kind, i))
}

// FleetIndex returns the member index of a fleet EID, and false for any other EID.
func FleetIndex(eid string) (int, bool) {
	if len(eid) != 32 || eid[:len(fleetEIDPrefix)] != fleetEIDPrefix || esimgw.ValidateEID(eid) != nil {
		return 0, false
	}
	i, err := strconv.Atoi(eid[len(fleetEIDPrefix):30])
	if err != nil || i >= MaxFleet {
		return 0, false
	}
	return i, true
}

// FleetEIDs yields the EIDs of fleet members 0 to n-1 in order, generated one at a time (nothing is held,
// so bulk.Seq(FleetEIDs(n)) streams a fleet of any size).
func FleetEIDs(n int) iter.Seq[string] {
	return func(yield func(string) bool) {
		for i := range n {
			if !yield(FleetEID(i)) {
				return
			}
		}
	}
}

// FleetEUICC returns fleet member i as WithFleet adds it (defaults such as ISD-P AIDs are filled in when
// it is added).
func FleetEUICC(i int) EUICC {
	addr := func(kind int) SubscriptionAddress {
		return SubscriptionAddress{IMSI: fmt.Sprintf("20404%d%09d", kind, i), MSISDN: fmt.Sprintf("31%d%09d", kind, i)}
	}
	return EUICC{EID: FleetEID(i), Profiles: []Profile{
		{ICCID: FleetEnabledICCID(i), State: StateEnabled, Fallback: true, ProfileType: CatalogProfileType,
			SubscriptionAddress: addr(1), AllocatedMemory: DefaultProfileSize},
		{ICCID: FleetFallbackICCID(i), State: StateDisabled, ProfileType: CatalogProfileType,
			SubscriptionAddress: addr(2), AllocatedMemory: DefaultProfileSize},
	}}
}

// addFleetLocked adds fleet members 0 to n-1; nothing is added when one is refused.
func (g *Gateway) addFleetLocked(n int) error {
	if n < 0 || n > MaxFleet {
		return fmt.Errorf("gatewaytest: fleet of %d eUICCs: want 0 to %d", n, MaxFleet)
	}
	eids, cat := len(g.euiccOrder), len(g.catalogOrder)
	g.euiccOrder = slices.Grow(g.euiccOrder, n)
	for i := range n {
		if err := g.addEUICCLocked(FleetEUICC(i)); err != nil {
			g.truncateLocked(eids, cat)
			return err
		}
	}
	return nil
}

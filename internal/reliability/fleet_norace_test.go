//go:build !race

package reliability_test

// fleetSize is the fleet TestFleetFallback switches: the full 100k without the race detector (about 20 s
// on 2 cores).
const fleetSize = 100_000

// fleetHeapGrowthLimit bounds the live heap's growth from the first checkpoint (see fleet_test.go).
const fleetHeapGrowthLimit = 8 << 20

//go:build race

package reliability_test

// fleetSize under the race detector, which makes the run 6 to 10 times slower (100k EIDs would take over
// 3 minutes of `go test -race ./...`): 10k EIDs run every path with the detector on in about 15 s. The
// full 100k, and the memory bound that matters, run without it: go test -run FleetFallback
// ./internal/reliability.
const fleetSize = 10_000

// fleetHeapGrowthLimit is looser under the race detector, whose live heap jumps by up to 7.5 MiB between
// checkpoints and back (measured over 1k to 10k EIDs); a per-EID leak of 2 KiB still fails it.
const fleetHeapGrowthLimit = 16 << 20

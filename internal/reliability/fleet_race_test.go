//go:build race

package reliability_test

// fleetSize under the race detector, which makes the run 5 to 8 times slower (100k EIDs took 2m22s of
// `go test -race ./...` on 2 cores, against 17 to 26 s without): 10k EIDs run every path with the detector
// on in 10 to 20 s. The full 100k, and the tighter memory bounds, run without it: go test -run
// FleetFallback ./internal/reliability.
const fleetSize = 10_000

// fleetHeapGrowthLimit is looser under the race detector, whose live heap jumps by up to 7.5 MiB between
// checkpoints and back (measured over 1k to 10k EIDs); a per-EID leak of 2 KiB still fails it.
const fleetHeapGrowthLimit = 16 << 20

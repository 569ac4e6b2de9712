//go:build !race

package campaign_test

// rateTestN EIDs at rateTestRate a second: see race_test.go.
const rateTestN, rateTestRate = 200, 40.0

// killTestN is the campaign TestKillWorker runs (the 10k EIDs).
const killTestN = 10_000

// createTestN is the campaign TestCreateMillion creates (the million EIDs).
const createTestN = 1_000_000

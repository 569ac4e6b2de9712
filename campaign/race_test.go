//go:build race

package campaign_test

// Under the race detector a campaign EID costs 5 to 10 times the CPU (about 20 EIDs/s on the 2 shared
// cores of CI, against 100+ without): the rate test then asks for a rate the machine can sustain, so that
// it measures the limiter and not the detector.
const rateTestN, rateTestRate = 60, 10.0

// killTestN is the campaign TestKillWorker runs: 10k without the race detector (norace_test.go).
const killTestN = 600

// createTestN is the campaign TestCreateMillion creates: a million without the race detector.
const createTestN = 20_000

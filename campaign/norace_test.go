//go:build !race

package campaign_test

// rateTestN EIDs at rateTestRate a second: see race_test.go.
const rateTestN, rateTestRate = 200, 40.0

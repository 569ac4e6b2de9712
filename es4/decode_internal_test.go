package es4

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
)

// TestDecodeEID: decodeEID gives what esimgw.ParseEID gives, for EIDs of digits and of hexadecimal
// letters of either case.
func TestDecodeEID(t *testing.T) {
	const digits = "0123456789abcdefABCDEF"
	r := rand.New(rand.NewPCG(5, 6))
	eids := []string{"89049032123451234512345678901235", "ffffffffffffffffffffffffffffffff", "00000000000000000000000000000000"}
	for range 2000 {
		b := make([]byte, 32)
		for i := range b {
			b[i] = digits[r.IntN(len(digits))]
		}
		eids = append(eids, string(b))
	}
	for _, eid := range eids {
		want, err := esimgw.ParseEID(eid)
		if err != nil {
			continue // decimal without valid check digits
		}
		var dst [16]byte
		require.Equal(t, want, decodeEID(&dst, eid), eid)
	}
}

package campaign_test

import (
	"fmt"
	"strings"

	"github.com/esimgw/esimgw/campaign"
)

// Every request of a campaign carries a FunctionCallIdentifier made from the campaign's key, the round
// (1, then one more for each RetryFailed) and the EID, so that a retried job repeats its call instead of
// making a new one.
func ExampleFunctionCallIdentifier() {
	fmt.Println(campaign.FunctionCallIdentifier("fallback-2026-12", 1, "89049032000001000000000000000017"))
	// Output:
	// cmp-fallback-2026-12-1-89049032000001000000000000000017
}

// The functions a campaign can run, here those on Verizon ThingSpace (the names are also what esimgw
// campaign create --function takes).
func ExampleFunctions() {
	for _, f := range campaign.Functions() {
		if strings.HasPrefix(f, "ThingSpace.") {
			fmt.Println(f)
		}
	}
	// Output:
	// ThingSpace.Delete
	// ThingSpace.Disable
	// ThingSpace.Download
	// ThingSpace.DownloadEnable
	// ThingSpace.Enable
}

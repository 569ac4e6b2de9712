package bulk_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/esimgw/esimgw/bulk"
)

// Switch a fleet read from a file (here a string) to its fall-back profile, eight at a time, and keep
// only the failures for a report.
func Example() {
	fleet := strings.NewReader(`# EIDs, one a line
89049032000000000000000000000001
89049032000000000000000000000002
89049032000000000000000000000003
`)
	// In a real program fn calls the gateway, e.g. es4Client.EnableProfile(ctx, eid, fallbackICCID) and
	// waits for the operation.
	enableFallBack := func(ctx context.Context, eid string) (string, error) {
		if strings.HasSuffix(eid, "2") {
			return "", errors.New("eUICC unreachable")
		}
		return "Enabled", nil
	}
	failures := bulk.NewFailureCollector[string]()
	sum, err := bulk.Run(context.Background(), bulk.Lines(fleet), enableFallBack, failures.Add,
		bulk.WithConcurrency(8), bulk.WithRate(100, 10))
	if err != nil {
		fmt.Println("run failed:", err)
		return
	}
	fmt.Printf("read %d, succeeded %d, failed %d\n", sum.Read, sum.Succeeded, sum.Failed)
	for _, o := range failures.Outcomes() {
		fmt.Printf("EID %s (line item %d): %v\n", o.EID, o.Index, o.Err)
	}
	// Output:
	// read 3, succeeded 2, failed 1
	// EID 89049032000000000000000000000002 (line item 1): eUICC unreachable
}

// Draw a progress bar while a run goes on. The bar writes to any io.Writer, usually os.Stderr.
func ExampleNewProgressBar() {
	bar := bulk.NewProgressBar(nil, bulk.WithBarWidth(20))
	fmt.Println(bar.Render(bulk.Progress{Total: 1000, Done: 250, Succeeded: 250}))
	// Output:
	// [=====>              ]  25.0%  250/1000  ok 250  failed 0  0/s
}

package bulk_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/bulk"
	"github.com/esimgw/esimgw/digirm"
	"github.com/esimgw/esimgw/digirm/digirmtest"
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

// Enable each eUICC's own profile over a fleet, on any esimgw.ProfileManager: here a Digi Remote Manager
// client on its mock, and the same line runs on es4, es2 and thingspace clients. The third EID has no
// ICCID: it is refused before anything is sent, and the run goes on.
func ExampleAwait() {
	drm := digirmtest.NewServer(digirmtest.WithFleet(3))
	defer drm.Close()
	client, err := digirm.NewClient(drm.ClientOptions()...)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = client.Close() }()
	var m esimgw.ProfileManager = client

	iccids := map[string]string{ // the per-EID argument: the profile to enable on each eUICC
		digirmtest.FleetEID(0): digirmtest.FleetDisabledICCID(0),
		digirmtest.FleetEID(1): digirmtest.FleetDisabledICCID(1),
	}
	fleet := []string{digirmtest.FleetEID(0), digirmtest.FleetEID(1), digirmtest.FleetEID(2)}
	outcomes := bulk.NewCollector[*esimgw.Result]()
	sum, err := bulk.Run(context.Background(), bulk.Slice(fleet), bulk.Await(m.Enable, bulk.ICCIDs(iccids)), outcomes.Add)
	if err != nil {
		fmt.Println("run failed:", err)
		return
	}
	fmt.Printf("%s: succeeded %d, failed %d\n", m.Platform(), sum.Succeeded, sum.Failed)
	for _, o := range outcomes.Outcomes() {
		fmt.Println(o.Index, esimgw.OutcomeOf(nil, o.Err).Status)
	}
	// Output:
	// DigiRM: succeeded 2, failed 1
	// 0 EXECUTED_SUCCESS
	// 1 EXECUTED_SUCCESS
	// 2 INVALID_REQUEST
}

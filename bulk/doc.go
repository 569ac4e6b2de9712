// Package bulk runs one function over a fleet of eUICCs (EIDs) with bounded concurrency, an optional rate
// limit, progress reporting and memory that stays flat however large the fleet is.
//
// Run reads EIDs from a Source one at a time (a slice, a channel, a line reader over a file of millions of
// EIDs), hands each to a fixed pool of worker goroutines and streams every per-EID Outcome to a sink as it
// completes. Nothing is accumulated unless you ask for it with a Collector, and no goroutine outlives the
// EID it was working on: the pool has exactly WithConcurrency workers for the whole run.
//
//	src := bulk.Lines(file)                        // one EID per line, streamed
//	bar := bulk.NewProgressBar(os.Stderr)
//	sum, err := bulk.Run(ctx, src, func(ctx context.Context, eid string) (*esimgw.EISResult, error) {
//		return client.GetEIS(ctx, eid)
//	},
//		func(o bulk.Outcome[*esimgw.EISResult]) { ... }, // the sink: each outcome as it completes
//		bulk.WithConcurrency(64),
//		bulk.WithRate(200, 20),                    // at most 200 calls/s, bursts of 20
//		bulk.WithProgress(bar.Update),
//	)
//	bar.Finish(sum)
//
// On any platform, Await builds fn from an esimgw.ProfileManager's action (or a ProfileDownloader's
// Download, a ProfileAuditor's Audit) and the per-EID argument, and waits for each Operation:
//
//	var m esimgw.ProfileManager = digiClient // es4Client.Manager(), thingspaceClient, ...
//	sum, err := bulk.Run(ctx, src, bulk.Await(m.Enable, bulk.ICCIDs(iccidByEID)), sink)
//
// Errors from fn are per-EID outcomes, not a reason to stop; WithStopOnError changes that. Run returns an
// error only when ctx ends or the Source fails; the Summary counts what was done either way.
package bulk

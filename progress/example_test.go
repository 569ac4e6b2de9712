package progress_test

import (
	"context"
	"fmt"
	"time"

	"github.com/esimgw/esimgw/progress"
)

func Example() {
	board := progress.NewBoard(progress.WithMaxEntries(100000))
	ts := time.Date(2026, 11, 23, 10, 15, 0, 0, time.UTC)

	// An SGP.02 download ordered over ES2 and an SGP.22 download reported by
	// an SM-DP+ over ES2+ land on the same board.
	_, _ = board.Update(progress.Event{Source: "ES2", ICCID: "8931041010654378931", Stage: progress.StageRequested, Time: ts})
	_, _ = board.Update(progress.Event{Source: "ES2", ICCID: "8931041010654378931", Stage: progress.StageInstalled, Time: ts.Add(time.Minute)})
	_, _ = board.Update(progress.Event{Source: "ES2+", ICCID: "8931041010654378930F", Stage: progress.StageDownloaded, Time: ts})
	_, _ = board.Update(progress.Event{Source: "ES2+", ICCID: "8931041010654378930F", Stage: progress.StageFailed,
		Attempted: progress.StageInstalled, Status: "Failed", Detail: "installFailedDueToInsufficientMemoryForProfile", Time: ts.Add(time.Minute)})

	for _, e := range board.Snapshot() {
		fmt.Println(e.ICCID, e.Source, e.Stage, e.Outcome, e.Detail)
	}
	// Output:
	// 8931041010654378930 ES2+ Failed Failed installFailedDueToInsufficientMemoryForProfile
	// 8931041010654378931 ES2 Installed Succeeded
}

func ExampleBoard_Subscribe() {
	board := progress.NewBoard()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	changes := board.Subscribe(ctx, 64) // full buffer: changes are dropped, never block Update

	_, _ = board.Update(progress.Event{Source: "ES2+", ICCID: "8931041010654378930", Stage: progress.StageInstalled})
	c := <-changes
	fmt.Println(c.Entry.ICCID, c.Entry.Stage, c.Entry.Outcome)
	// Output: 8931041010654378930 Installed Succeeded
}

package progress_test

import (
	"context"
	"fmt"
	"time"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/digirm"
	"github.com/esimgw/esimgw/digirm/digirmtest"
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

// A profile action on any platform, watched on the board as it starts and as it settles: here an enable
// on Digi Remote Manager's mock; the same code runs on es4, es2 and thingspace clients.
func ExampleWatch() {
	drm := digirmtest.NewServer()
	defer drm.Close()
	client, err := digirm.NewClient(drm.ClientOptions()...)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = client.Close() }()
	var m esimgw.ProfileManager = client

	ctx := context.Background()
	board := progress.NewBoard()
	ref := esimgw.ProfileRef{EID: digirmtest.DefaultEID, ICCID: digirmtest.DisabledICCID}
	op, err := m.Enable(ctx, ref)
	if err != nil {
		fmt.Println(err) // refused before anything was sent: nothing on the board
		return
	}
	watched := progress.Watch(ctx, board, op, progress.StageEnabled, ref)
	e, _ := board.Get(ref.ICCID)
	fmt.Println(e.Source, e.Stage, e.Attempted, e.Outcome)
	if _, err := op.Wait(ctx); err != nil {
		fmt.Println(err)
	}
	<-watched
	e, _ = board.Get(ref.ICCID)
	fmt.Println(e.Source, e.Stage, e.Outcome, e.Status)
	// Output:
	// DigiRM Requested Enabled Pending
	// DigiRM Enabled Succeeded EXECUTED_SUCCESS
}

package progress_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/progress"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

func TestStageAndOutcome(t *testing.T) {
	tests := []struct {
		name    string
		stages  []progress.Stage
		want    progress.Stage
		outcome progress.Outcome
	}{
		{"requested", []progress.Stage{progress.StageRequested}, progress.StageRequested, progress.OutcomePending},
		{"downloaded", []progress.Stage{progress.StageRequested, progress.StageDownloaded}, progress.StageDownloaded, progress.OutcomePending},
		{"installed", []progress.Stage{progress.StageDownloaded, progress.StageInstalled}, progress.StageInstalled, progress.OutcomeSucceeded},
		{"enabled after install", []progress.Stage{progress.StageInstalled, progress.StageEnabled}, progress.StageEnabled, progress.OutcomeSucceeded},
		{"disabled alone implies install", []progress.Stage{progress.StageDisabled}, progress.StageDisabled, progress.OutcomeSucceeded},
		{"deleted after install", []progress.Stage{progress.StageInstalled, progress.StageDeleted}, progress.StageDeleted, progress.OutcomeSucceeded},
		{"failed", []progress.Stage{progress.StageDownloaded, progress.StageFailed}, progress.StageFailed, progress.OutcomeFailed},
		{"expired", []progress.Stage{progress.StageRequested, progress.StageExpired}, progress.StageExpired, progress.OutcomeExpired},
		{"retry after failure", []progress.Stage{progress.StageFailed, progress.StageRequested}, progress.StageRequested, progress.OutcomePending},
		{"deleted after failure stays failed", []progress.Stage{progress.StageFailed, progress.StageDeleted}, progress.StageDeleted, progress.OutcomeFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := progress.NewBoard()
			var e progress.Entry
			var err error
			for i, s := range tt.stages {
				e, err = b.Update(progress.Event{Source: "ES2+", ICCID: "8931041010654378930", Stage: s, Time: at(i)})
				require.NoError(t, err)
			}
			assert.Equal(t, tt.want, e.Stage)
			assert.Equal(t, tt.outcome, e.Outcome)
			got, ok := b.Get("8931041010654378930")
			require.True(t, ok)
			assert.Equal(t, e, got)
		})
	}
}

func TestStageNames(t *testing.T) {
	for s := progress.StageUnknown; s <= progress.StageExpired; s++ {
		txt, err := s.MarshalText()
		require.NoError(t, err)
		var back progress.Stage
		require.NoError(t, back.UnmarshalText(txt))
		assert.Equal(t, s, back)
	}
	assert.Equal(t, "Stage(42)", progress.Stage(42).String())
	assert.Equal(t, "Outcome(9)", progress.Outcome(9).String())
	var s progress.Stage
	assert.Error(t, s.UnmarshalText([]byte("nope")))
	assert.True(t, progress.StageFailed.Failure())
	assert.False(t, progress.StageInstalled.Failure())
}

func TestUpdateRejects(t *testing.T) {
	b := progress.NewBoard()
	_, err := b.Update(progress.Event{Stage: progress.StageInstalled})
	assert.ErrorIs(t, err, progress.ErrNoICCID)
	_, err = b.Update(progress.Event{ICCID: "F"})
	assert.ErrorIs(t, err, progress.ErrNoICCID)
	_, err = b.Update(progress.Event{ICCID: "8931041010654378930"})
	assert.ErrorIs(t, err, progress.ErrNoStage)
	assert.Zero(t, b.Len())
}

func TestICCIDNormalised(t *testing.T) {
	b := progress.NewBoard()
	_, err := b.Update(progress.Event{ICCID: "8931041010654378930F", Stage: progress.StageDownloaded, Source: "ES2+"})
	require.NoError(t, err)
	_, err = b.Update(progress.Event{ICCID: "8931041010654378930", Stage: progress.StageInstalled, Source: "ES2"})
	require.NoError(t, err)
	assert.Equal(t, 1, b.Len())
	e, ok := b.Get("8931041010654378930f")
	require.True(t, ok)
	assert.Equal(t, "8931041010654378930", e.ICCID)
	assert.Equal(t, progress.StageInstalled, e.Stage)
	assert.Equal(t, 2, e.Events)
	assert.Equal(t, "8931041010654378930", progress.NormalizeICCID(" 8931041010654378930f "))
}

func TestOutOfOrderDoesNotRegress(t *testing.T) {
	b := progress.NewBoard()
	_, _ = b.Update(progress.Event{ICCID: "1", Stage: progress.StageInstalled, Time: at(5)})
	e, err := b.Update(progress.Event{ICCID: "1", Stage: progress.StageDownloaded, Time: at(4)})
	require.NoError(t, err)
	assert.Equal(t, progress.StageInstalled, e.Stage)
	assert.Equal(t, progress.OutcomeSucceeded, e.Outcome)
	assert.Equal(t, at(5), e.Time)
	require.Len(t, e.History, 2)
	assert.Equal(t, progress.StageDownloaded, e.History[1].Stage)
}

func TestHistoryBounded(t *testing.T) {
	b := progress.NewBoard(progress.WithHistory(3))
	var e progress.Entry
	for i := range 10 {
		e, _ = b.Update(progress.Event{ICCID: "1", Stage: progress.StageRequested, Time: at(i), Ref: fmt.Sprint(i)})
	}
	require.Len(t, e.History, 3)
	assert.Equal(t, []string{"7", "8", "9"}, []string{e.History[0].Ref, e.History[1].Ref, e.History[2].Ref})

	b = progress.NewBoard(progress.WithHistory(0))
	e, _ = b.Update(progress.Event{ICCID: "1", Stage: progress.StageRequested})
	assert.Empty(t, e.History)
}

func TestEIDIndex(t *testing.T) {
	b := progress.NewBoard()
	const eid = "89049032000001000000000000000042"
	_, _ = b.Update(progress.Event{ICCID: "2", EID: eid, Stage: progress.StageInstalled})
	_, _ = b.Update(progress.Event{ICCID: "1", EID: eid, Stage: progress.StageDownloaded})
	_, _ = b.Update(progress.Event{ICCID: "3", Stage: progress.StageDownloaded})
	got := b.GetByEID(eid)
	require.Len(t, got, 2)
	assert.Equal(t, "1", got[0].ICCID)
	assert.Equal(t, "2", got[1].ICCID)
	// The profile moves to another eUICC.
	_, _ = b.Update(progress.Event{ICCID: "1", EID: "other", Stage: progress.StageRequested})
	assert.Len(t, b.GetByEID(eid), 1)
	assert.Len(t, b.GetByEID("other"), 1)
	assert.Empty(t, b.GetByEID("none"))
}

func TestEvictionPrefersFinished(t *testing.T) {
	b := progress.NewBoard(progress.WithMaxEntries(3))
	_, _ = b.Update(progress.Event{ICCID: "1", Stage: progress.StageRequested})
	_, _ = b.Update(progress.Event{ICCID: "2", Stage: progress.StageInstalled})
	_, _ = b.Update(progress.Event{ICCID: "3", Stage: progress.StageFailed})
	_, _ = b.Update(progress.Event{ICCID: "4", Stage: progress.StageRequested})
	assert.Equal(t, 3, b.Len())
	_, ok := b.Get("2")
	assert.False(t, ok, "oldest finished is evicted first")
	_, ok = b.Get("1")
	assert.True(t, ok, "pending survives while a finished one exists")

	_, _ = b.Update(progress.Event{ICCID: "5", Stage: progress.StageRequested})
	_, ok = b.Get("3")
	assert.False(t, ok)
	// Only pending entries left: the least recently updated goes.
	_, _ = b.Update(progress.Event{ICCID: "1", Stage: progress.StageDownloaded}) // touch 1
	_, _ = b.Update(progress.Event{ICCID: "6", Stage: progress.StageRequested})
	_, ok = b.Get("4")
	assert.False(t, ok)
	assert.Equal(t, 3, b.Len())
	assert.Equal(t, uint64(3), b.Evicted())
	var keys []string
	for _, e := range b.Snapshot() {
		keys = append(keys, e.ICCID)
	}
	assert.Equal(t, []string{"1", "5", "6"}, keys)
}

func TestSubscribe(t *testing.T) {
	b := progress.NewBoard()
	ctx, cancel := context.WithCancel(context.Background())
	ch := b.Subscribe(ctx, 4)
	_, _ = b.Update(progress.Event{ICCID: "1", Stage: progress.StageDownloaded, Source: "ES2+"})
	c := <-ch
	assert.Equal(t, progress.StageDownloaded, c.Event.Stage)
	assert.Equal(t, "1", c.Entry.ICCID)
	cancel()
	for range ch { // drains and ends once closed
	}
	// Updates after the subscriber left do not block or count.
	_, _ = b.Update(progress.Event{ICCID: "1", Stage: progress.StageInstalled})
	assert.Zero(t, b.Dropped())
}

func TestSlowSubscriberDoesNotBlock(t *testing.T) {
	b := progress.NewBoard()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := b.Subscribe(ctx, 1)
	for i := range 5 {
		_, err := b.Update(progress.Event{ICCID: fmt.Sprint(i), Stage: progress.StageRequested})
		require.NoError(t, err)
	}
	assert.Equal(t, uint64(4), b.Dropped())
	c := <-ch
	assert.Equal(t, "0", c.Entry.ICCID)
}

func TestConcurrent(t *testing.T) {
	b := progress.NewBoard(progress.WithMaxEntries(50), progress.WithHistory(4))
	ctx, cancel := context.WithCancel(context.Background())
	ch := b.Subscribe(ctx, 8)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				_, _ = b.Update(progress.Event{ICCID: fmt.Sprint(i % 70), Stage: progress.Stage(1 + (i+g)%8)})
				_, _ = b.Get(fmt.Sprint(i % 70))
				_ = b.Snapshot()
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range ch {
		}
	}()
	for range 10 {
		_ = b.GetByEID("x")
	}
	cancel()
	wg.Wait()
	assert.LessOrEqual(t, b.Len(), 50)
}

func BenchmarkUpdate(b *testing.B) {
	board := progress.NewBoard(progress.WithMaxEntries(10000))
	iccids := make([]string, 1024)
	for i := range iccids {
		iccids[i] = fmt.Sprintf("89310410106543%05d", i)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := board.Subscribe(ctx, 16)
	go func() {
		for range ch {
		}
	}()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		_, _ = board.Update(progress.Event{Source: "ES2+", ICCID: iccids[i%len(iccids)], Stage: progress.Stage(1 + i%6)})
	}
}

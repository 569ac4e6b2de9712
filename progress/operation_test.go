package progress_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/digirm/digirmtest"
	"github.com/esimgw/esimgw/internal/contract"
	"github.com/esimgw/esimgw/progress"
)

// waitWatched waits for op as its caller would, then for Watch to have put the outcome on the board.
func waitWatched[T any](t *testing.T, op *esimgw.Operation[T], watched <-chan struct{}) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	_, err := op.Wait(ctx)
	select {
	case <-watched:
	case <-ctx.Done():
		t.Fatal("the settled event never reached the board")
	}
	return err
}

// The same Watch on every platform's mock: the action is Requested as it starts, and its outcome (a
// success, a *FunctionError, a download's profile) settles the entry, with the platform as Source.
func TestWatchOnEveryPlatform(t *testing.T) {
	for _, p := range contract.Platforms() {
		t.Run(p.Name, func(t *testing.T) {
			s := p.New(t)
			platform := string(s.Manager.Platform())
			board := progress.NewBoard()
			watch := func(step progress.Stage, ref esimgw.ProfileRef, call func(context.Context, esimgw.ProfileRef) (*esimgw.Operation[*esimgw.Result], error)) (progress.Entry, error) {
				t.Helper()
				op, err := call(t.Context(), ref)
				require.NoError(t, err)
				err = waitWatched(t, op, progress.Watch(t.Context(), board, op, step, ref))
				e, ok := board.Get(ref.ICCID)
				require.True(t, ok)
				require.Len(t, e.History, 2, "requested, then settled")
				assert.Equal(t, progress.StageRequested, e.History[0].Stage)
				assert.Equal(t, step, e.History[0].Attempted)
				for _, ev := range e.History {
					assert.Equal(t, platform, ev.Source)
					assert.Equal(t, s.EID, ev.EID)
				}
				board = progress.NewBoard() // the next action starts on a clean board
				return e, err
			}

			e, err := watch(progress.StageEnabled, esimgw.ProfileRef{EID: s.EID, ICCID: s.DisabledICCID}, s.Manager.Enable)
			require.NoError(t, err)
			assert.Equal(t, progress.StageEnabled, e.Stage)
			assert.Equal(t, progress.OutcomeSucceeded, e.Outcome)
			assert.Equal(t, string(esimgw.StatusExecutedSuccess), e.Status)

			e, err = watch(progress.StageDisabled, esimgw.ProfileRef{EID: s.EID, ICCID: s.DisabledICCID}, s.Manager.Disable)
			require.NoError(t, err)
			assert.Equal(t, progress.StageDisabled, e.Stage)

			e, err = watch(progress.StageDeleted, esimgw.ProfileRef{EID: s.EID, ICCID: s.UnknownICCID}, s.Manager.Delete)
			var fe *esimgw.FunctionError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, progress.StageFailed, e.Stage)
			assert.Equal(t, progress.StageDeleted, e.Attempted)
			assert.Equal(t, progress.OutcomeFailed, e.Outcome)
			assert.Equal(t, string(esimgw.StatusFailed), e.Status)
			assert.Contains(t, e.Detail, fe.Function)

			d, ok := s.Manager.(esimgw.ProfileDownloader)
			if !ok {
				return
			}
			spec := esimgw.DownloadSpec{EID: s.EID, ICCID: s.DownloadICCID, Enable: true}
			op, err := d.Download(t.Context(), spec)
			require.NoError(t, err)
			ref := esimgw.ProfileRef{EID: spec.EID, ICCID: spec.ICCID}
			require.NoError(t, waitWatched(t, op, progress.Watch(t.Context(), board, op, progress.StageEnabled, ref)))
			e, ok = board.Get(s.DownloadICCID)
			require.True(t, ok)
			assert.Equal(t, progress.StageEnabled, e.Stage)
			assert.Equal(t, progress.OutcomeSucceeded, e.Outcome)
			assert.Equal(t, platform, e.Source)
		})
	}
}

// A refused call (no Operation) puts nothing on the board; a watch whose context ends stops.
func TestWatchNothingToWatch(t *testing.T) {
	board := progress.NewBoard()
	<-progress.Watch[*esimgw.Result](t.Context(), board, nil, progress.StageEnabled, esimgw.ProfileRef{ICCID: "89310410000000000019"})
	assert.Zero(t, board.Len())

	s := contract.Platforms()[0].New(t)
	ctx, cancel := context.WithCancel(t.Context())
	op, err := s.Manager.Enable(t.Context(), esimgw.ProfileRef{EID: s.EID, ICCID: s.DisabledICCID})
	require.NoError(t, err)
	watched := progress.Watch(ctx, board, op, progress.StageEnabled, esimgw.ProfileRef{EID: s.EID, ICCID: s.DisabledICCID})
	cancel()
	<-watched
	_, err = op.Wait(t.Context())
	require.NoError(t, err, "the watch abandoned nothing")
}

// A wait that ends before the result (the operation abandoned) shows as Expired with NO_RESULT: the
// function may still complete.
func TestWatchAbandonedWait(t *testing.T) {
	s := contract.DigiRM(t, digirmtest.Start(t, digirmtest.WithActionDuration(time.Minute)))
	board := progress.NewBoard()
	ref := esimgw.ProfileRef{EID: s.EID, ICCID: s.DisabledICCID}
	op, err := s.Manager.Enable(t.Context(), ref)
	require.NoError(t, err)
	watched := progress.Watch(t.Context(), board, op, progress.StageEnabled, ref)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err = op.Wait(ctx)
	require.ErrorIs(t, err, esimgw.ErrAbandoned)
	<-watched
	e, ok := board.Get(ref.ICCID)
	require.True(t, ok)
	assert.Equal(t, progress.StageExpired, e.Stage)
	assert.Equal(t, progress.StageEnabled, e.Attempted)
	assert.Equal(t, progress.OutcomeExpired, e.Outcome)
	assert.Equal(t, string(esimgw.StatusNoResult), e.Status)
}

func TestSettled(t *testing.T) {
	key := correlate.OperationKey{Interface: string(esimgw.PlatformThingSpace), Function: "enable", MessageID: "req-1"}
	ref := esimgw.ProfileRef{EID: "89049032000001000000000000000171", ICCID: "89310410000000000027"}
	failed := &esimgw.FunctionError{Interface: key.Interface, Function: key.Function,
		ExecutionStatus: esimgw.ExecutionStatus{Status: esimgw.StatusFailed, Subject: "8.2.1", Reason: "3.8"}}
	expired := &esimgw.FunctionError{Interface: key.Interface, Function: key.Function,
		ExecutionStatus: esimgw.ExecutionStatus{Status: esimgw.StatusExpired}}
	warning := &esimgw.Warning{Subject: "8.2.1", Reason: "3.9"}
	tests := []struct {
		name      string
		step      progress.Stage
		ref       esimgw.ProfileRef
		v         any
		err       error
		stage     progress.Stage
		attempted progress.Stage
		status    esimgw.Status
		iccid     string
	}{
		{"success", progress.StageEnabled, ref, &esimgw.Result{}, nil, progress.StageEnabled, progress.StageUnknown, esimgw.StatusExecutedSuccess, ref.ICCID},
		{"warning", progress.StageEnabled, ref, &esimgw.Result{Warning: warning}, nil, progress.StageEnabled, progress.StageUnknown, esimgw.StatusExecutedWithWarning, ref.ICCID},
		{"no result value", progress.StageDeleted, ref, (*esimgw.Result)(nil), nil, progress.StageDeleted, progress.StageUnknown, esimgw.StatusExecutedSuccess, ref.ICCID},
		{"failed", progress.StageEnabled, ref, nil, failed, progress.StageFailed, progress.StageEnabled, esimgw.StatusFailed, ref.ICCID},
		{"failed, wrapped", progress.StageEnabled, ref, nil, fmt.Errorf("transaction 7: %w", failed), progress.StageFailed, progress.StageEnabled, esimgw.StatusFailed, ref.ICCID},
		{"expired", progress.StageDisabled, ref, nil, expired, progress.StageExpired, progress.StageDisabled, esimgw.StatusExpired, ref.ICCID},
		{"wait ended", progress.StageEnabled, ref, nil, fmt.Errorf("wait: %w", context.DeadlineExceeded), progress.StageExpired, progress.StageEnabled, esimgw.StatusNoResult, ref.ICCID},
		{"abandoned", progress.StageEnabled, ref, nil, esimgw.ErrAbandoned, progress.StageExpired, progress.StageEnabled, esimgw.StatusNoResult, ref.ICCID},
		{"transport", progress.StageEnabled, ref, nil, errors.New("connection reset"), progress.StageFailed, progress.StageEnabled, esimgw.StatusError, ref.ICCID},
		{"download names its profile", progress.StageInstalled, esimgw.ProfileRef{EID: ref.EID}, &esimgw.DownloadResult{Iccid: "89310410000000001009"}, nil,
			progress.StageInstalled, progress.StageUnknown, esimgw.StatusExecutedSuccess, "89310410000000001009"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := progress.Settled(key, tt.step, tt.ref, tt.v, tt.err)
			assert.Equal(t, tt.stage, ev.Stage)
			assert.Equal(t, tt.attempted, ev.Attempted)
			assert.Equal(t, string(tt.status), ev.Status)
			assert.Equal(t, tt.iccid, ev.ICCID)
			assert.Equal(t, key.Interface, ev.Source)
			assert.Equal(t, "req-1", ev.Ref)
			assert.Contains(t, ev.Detail, "enable: ")
		})
	}
}

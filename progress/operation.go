package progress

import (
	"cmp"
	"context"
	"errors"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/correlate"
)

// Requested is the event of a profile action just started on any platform (an esimgw.ProfileManager's
// Enable, Disable or Delete, a ProfileDownloader's Download): StageRequested, with Attempted the step
// asked for (StageEnabled, StageDisabled, StageDeleted; StageInstalled or StageEnabled for a download).
// key is the operation's (Operation.Key): its Interface, the esimgw.Platform, is the Source.
func Requested(key correlate.OperationKey, step Stage, ref esimgw.ProfileRef) Event {
	return Event{Source: key.Interface, ICCID: ref.ICCID, EID: ref.EID, Stage: StageRequested, Attempted: step,
		Status: "Requested", Detail: key.Function + " requested", Ref: reference(key)}
}

// Settled is the event of a profile action that ended with v and err, as its Operation's Wait returned
// them, whatever the platform:
//
//	outcome                                    Stage    Attempted  Status (Detail: esimgw.OutcomeOf's)
//	no error (*esimgw.Result, *DownloadResult) step     -          EXECUTED_SUCCESS, EXECUTED_WITHWARNING
//	*esimgw.FunctionError FAILED, also wrapped Failed   step       FAILED with the platform's codes
//	  (digirm.TransactionError)
//	*esimgw.FunctionError EXPIRED              Expired  step       EXPIRED
//	the wait ended first (context, abandoned)  Expired  step       NO_RESULT: the function may still complete
//	any other error (transport)                Failed   step       ERROR
//
// A download's ICCID, when ref has none (by activation code or profile type), is the *DownloadResult's.
func Settled(key correlate.OperationKey, step Stage, ref esimgw.ProfileRef, v any, err error) Event {
	ev := Requested(key, step, ref)
	if d, ok := v.(*esimgw.DownloadResult); ok && d != nil && ev.ICCID == "" {
		ev.ICCID = d.Iccid
	}
	o := esimgw.OutcomeOf(warningOf(v), err)
	ev.Status, ev.Detail = string(o.Status), key.Function+": "+cmp.Or(o.Description, o.Message, string(o.Status))
	switch {
	case err == nil:
		ev.Stage, ev.Attempted = step, StageUnknown
	case errors.Is(err, esimgw.ErrExpired), o.Status == esimgw.StatusNoResult:
		ev.Stage = StageExpired
	default:
		ev.Stage = StageFailed
	}
	return ev
}

// warningOf is the warning of a ProfileManager operation's result.
func warningOf(v any) *esimgw.Warning {
	var r *esimgw.Result
	switch v := v.(type) {
	case *esimgw.Result:
		r = v
	case *esimgw.DownloadResult:
		if v != nil {
			r = &v.Result
		}
	case *esimgw.AuditResult:
		if v != nil {
			r = &v.Result
		}
	}
	if r == nil {
		return nil
	}
	return r.Warning
}

// reference is the event's correlation reference: the most specific identifier the operation has.
func reference(key correlate.OperationKey) string {
	return cmp.Or(key.FunctionCallIdentifier, key.TransactionID, key.MessageID)
}

// Watch puts op, a profile action on ref's profile asking for step, on b: the Requested event now and the
// Settled event once op settles. It waits on op.Done in a goroutine of its own and never abandons op, so
// the caller waits for op as before (op.Wait); it stops watching when ctx ends, so a ctx that outlives
// the caller's wait (the program's) also shows a wait that ran out, as Expired. The returned channel is
// closed once the settled event is on the board, or watching stopped. A nil op (the call was refused
// before anything was sent) puts nothing on the board. Events without an ICCID (a download by
// activation code, before its result names the profile) are skipped. It reads the settled result with
// op.Wait, so with a TracerProvider on the es2 or es4 client a watched operation shows a second Wait
// span, the watcher's, with esimgw.wait.ready true (docs/telemetry.md).
//
//	op, err := m.Enable(ctx, ref)
//	if err != nil {
//		return err
//	}
//	progress.Watch(ctx, board, op, progress.StageEnabled, ref)
//	r, err := op.Wait(ctx)
func Watch[T any](ctx context.Context, b *Board, op *esimgw.Operation[T], step Stage, ref esimgw.ProfileRef) <-chan struct{} {
	done := make(chan struct{})
	if op == nil {
		close(done)
		return done
	}
	key := op.Key()
	_, _ = b.Update(Requested(key, step, ref)) // without an ICCID: ErrNoICCID, nothing to show yet
	go func() {
		defer close(done)
		select {
		case <-op.Done():
		case <-ctx.Done():
			return
		}
		v, err := op.Wait(context.WithoutCancel(ctx)) // settled: returns at once, abandons nothing
		_, _ = b.Update(Settled(key, step, ref, v, err))
	}()
	return done
}

package bulk

import (
	"context"

	"github.com/esimgw/esimgw"
)

// Await returns the fn of Run that, for each EID, starts call with the argument arg gives for that EID
// and waits for the operation's result: one profile action over a fleet on any platform.
//
//	var m esimgw.ProfileManager = es4Client.Manager() // or a *thingspace.Client, a *digirm.Client
//	sum, err := bulk.Run(ctx, bulk.Lines(file), bulk.Await(m.Enable, bulk.SameICCID(fallbackICCID)), sink)
//
// call is a method value: an esimgw.ProfileManager's Enable, Disable or Delete (arg gives the
// esimgw.ProfileRef of each EID: SameICCID, ICCIDs or a function of your own), an
// esimgw.ProfileDownloader's Download (arg gives an esimgw.DownloadSpec) or an esimgw.ProfileAuditor's
// Audit (arg EID). A Source yields EIDs only, so whatever else an EID needs comes from arg.
//
// The EID's Outcome.Err is arg's error, call's (a *esimgw.ValidationError: nothing was sent) or the
// operation's (a *esimgw.FunctionError when the platform refused), whatever the platform. The wait ends
// with Run's context: a run that is cancelled or stopped (WithStopOnError) abandons the operations in
// flight, which then end with esimgw.ErrAbandoned.
func Await[A, T any](call func(context.Context, A) (*esimgw.Operation[T], error), arg func(eid string) (A, error)) func(context.Context, string) (T, error) {
	return func(ctx context.Context, eid string) (T, error) {
		var zero T
		a, err := arg(eid)
		if err != nil {
			return zero, err
		}
		op, err := call(ctx, a)
		if err != nil {
			return zero, err
		}
		return op.Wait(ctx)
	}
}

// SameICCID is Await's arg for a profile with the same ICCID on every eUICC (a fleet's bootstrap or
// fall-back profile).
func SameICCID(iccid string) func(eid string) (esimgw.ProfileRef, error) {
	return func(eid string) (esimgw.ProfileRef, error) { return esimgw.ProfileRef{EID: eid, ICCID: iccid}, nil }
}

// ICCIDs is Await's arg for a profile per eUICC: iccids maps each EID to its ICCID. An EID the map
// lacks gets an empty ICCID, which the platform's client refuses (a *esimgw.ValidationError for the
// ICCID) before sending anything, so it is that EID's failure and the run goes on.
func ICCIDs(iccids map[string]string) func(eid string) (esimgw.ProfileRef, error) {
	return func(eid string) (esimgw.ProfileRef, error) {
		return esimgw.ProfileRef{EID: eid, ICCID: iccids[eid]}, nil
	}
}

// EID is Await's arg for a call that takes the EID alone (esimgw.ProfileAuditor's Audit).
func EID(eid string) (string, error) { return eid, nil }

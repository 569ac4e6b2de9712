package campaign

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/digirm"
	"github.com/esimgw/esimgw/es2"
	"github.com/esimgw/esimgw/es4"
	"github.com/esimgw/esimgw/thingspace"
)

// ArgKind says what per-EID argument a campaign function takes.
type ArgKind int

const (
	// ArgNone: the function takes the EID only; an argument on an input line is a bad line.
	ArgNone ArgKind = iota
	// ArgICCID: an ICCID is required (the line's, else the campaign's default).
	ArgICCID
	// ArgOptionalICCID: an ICCID may be given (AuditEIS: audit only that profile).
	ArgOptionalICCID
	// ArgOID: an OID is required (an SM-SR ID).
	ArgOID
	// ArgProfile: the profile to download is required: an ICCID, or "type:" and a ProfileType for a
	// profile of that type the SM-DP picks (ES2.DownloadProfile, ES2.Activate).
	ArgProfile
	// ArgDigiProfile: the profile DigiRM.Download installs is required: the ICCID of an activation code
	// Digi Remote Manager holds, or "code:" and the activation code itself.
	ArgDigiProfile
)

// ActivationCodePrefix starts an ArgDigiProfile argument that is an activation code rather than an ICCID:
// "code:LPA:1$smdp.example.com$ABC-123". An ICCID never contains ':'.
const ActivationCodePrefix = "code:"

// ProfileTypePrefix starts an ArgProfile argument that names a ProfileType rather than an ICCID:
// "type:M2M-fallback". An ICCID never contains ':', so the two cannot be confused.
const ProfileTypePrefix = "type:"

// downloadRequest turns an ArgProfile argument into the DownloadRequest of eid.
func downloadRequest(eid, arg string, enable bool) es2.DownloadRequest {
	r := es2.DownloadRequest{Eid: eid, Enable: enable}
	if pt, ok := strings.CutPrefix(arg, ProfileTypePrefix); ok {
		r.ProfileType = pt
	} else {
		r.Iccid = arg
	}
	return r
}

func downloadWarning(r *esimgw.DownloadResult) *esimgw.Warning {
	if r == nil {
		return nil
	}
	return r.Warning
}

// es2Download is ES2 DownloadProfile of the EID's profile argument; with enable, what es2.Activate sends.
func es2Download(name string, enable bool) function {
	return es2Fn(name, ArgProfile, func(ctx context.Context, c *es2.Client, eid, arg string, opts []esimgw.CallOption) (call, error) {
		op, err := c.DownloadProfile(ctx, downloadRequest(eid, arg, enable), opts...)
		return started(op, err, downloadWarning)
	})
}

// Clients are the clients a Worker calls: ES4 for the ES4.* functions, ES2 for the ES2.* ones,
// ThingSpace for ThingSpace.* and DigiRM for DigiRM.* (platform.go). A job whose function needs a client
// the Worker lacks sends nothing and is retried by River (another worker may have the client); its last
// attempt records ErrNoClient as the EID's outcome.
//
// The ThingSpace client's results come by callback: give it
// thingspace.WithUnmatchedHandler(recorder.ThingSpaceHandler(nil)) and mount its CallbackHandler.
type Clients struct {
	ES4        *es4.Client
	ES2        *es2.Client
	ThingSpace *thingspace.Client
	DigiRM     *digirm.Client
}

// call is what starting a function gave: a final outcome (synchronous functions, a FAILED answer at once)
// or an operation whose result comes later.
type call struct {
	final   bool
	outcome esimgw.Outcome
	op      operation
	ref     string // a carrier platform's request ID (ThingSpace requestId, Digi transaction)
}

// operation is the untyped view of an *esimgw.Operation[T] a worker needs.
type operation interface {
	// settle withdraws the in-memory wait at once, so that the callback goes to the Recorder. If the
	// operation resolved already (an answer that came with the request, a callback that beat the 202), it
	// reports its outcome; if the request's outcome is unknown (its answer was lost after it was written),
	// it reports that error: the request must go again, with the same identifier.
	settle() (o esimgw.Outcome, resolved bool, unknown error)
}

type resultOp[T any] struct {
	*esimgw.Operation[T]
	warning func(T) *esimgw.Warning
}

func (o resultOp[T]) settle() (esimgw.Outcome, bool, error) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	v, err := o.Wait(ctx) // an ended context: Wait returns the result if it is here, else withdraws
	switch {
	case errors.Is(err, esimgw.ErrOutcomeUnknown):
		return esimgw.Outcome{}, false, err
	case errors.Is(err, esimgw.ErrAbandoned):
		return esimgw.Outcome{}, false, nil
	case err != nil:
		return esimgw.OutcomeOf(nil, err), true, nil
	}
	return esimgw.OutcomeOf(o.warning(v), nil), true, nil
}

func resultWarning(r *esimgw.Result) *esimgw.Warning {
	if r == nil {
		return nil
	}
	return r.Warning
}

func eisWarning(r *esimgw.EISResult) *esimgw.Warning {
	if r == nil {
		return nil
	}
	return r.Warning
}

func started[T any](op *esimgw.Operation[T], err error, warning func(T) *esimgw.Warning) (call, error) {
	if err != nil {
		return call{}, err
	}
	return call{op: resultOp[T]{op, warning}}, nil
}

// finished is the call of a synchronous function: an outcome now, or an error to retry.
func finished(warn *esimgw.Warning, err error) (call, error) {
	o := esimgw.OutcomeOf(warn, err)
	if err != nil && o.Status == esimgw.StatusError {
		return call{}, err // transport and the like: the job retries with the same identifier
	}
	return call{final: true, outcome: o}, nil
}

// function is one entry of the function table.
type function struct {
	name     string          // "ES4.EnableProfile"
	platform esimgw.Platform // a carrier platform, which does not de-duplicate (platform.go); "" for SGP.02
	arg      ArgKind
	argField string // for ArgOID: the element the OID goes into
	start    func(ctx context.Context, c Clients, eid, arg string, opts []esimgw.CallOption) (call, error)
}

// ErrNoClient is the error of an EID whose campaign function needs a client the Worker was not given.
var ErrNoClient = errors.New("campaign: the worker has no client for this function's interface")

func es4Fn(name string, arg ArgKind, argField string, f func(ctx context.Context, c *es4.Client, eid, arg string, opts []esimgw.CallOption) (call, error)) function {
	return function{name: "ES4." + name, arg: arg, argField: argField, start: func(ctx context.Context, c Clients, eid, a string, opts []esimgw.CallOption) (call, error) {
		if c.ES4 == nil {
			return call{}, ErrNoClient
		}
		return f(ctx, c.ES4, eid, a, opts)
	}}
}

func es2Fn(name string, arg ArgKind, f func(ctx context.Context, c *es2.Client, eid, arg string, opts []esimgw.CallOption) (call, error)) function {
	return function{name: "ES2." + name, arg: arg, start: func(ctx context.Context, c Clients, eid, a string, opts []esimgw.CallOption) (call, error) {
		if c.ES2 == nil {
			return call{}, ErrNoClient
		}
		return f(ctx, c.ES2, eid, a, opts)
	}}
}

type profileFn[C any] func(C, context.Context, string, string, ...esimgw.CallOption) (*esimgw.Operation[*esimgw.Result], error)

func es4Profile(name string, m profileFn[*es4.Client]) function {
	return es4Fn(name, ArgICCID, "", func(ctx context.Context, c *es4.Client, eid, iccid string, opts []esimgw.CallOption) (call, error) {
		op, err := m(c, ctx, eid, iccid, opts...)
		return started(op, err, resultWarning)
	})
}

func es2Profile(name string, m profileFn[*es2.Client]) function {
	return es2Fn(name, ArgICCID, func(ctx context.Context, c *es2.Client, eid, iccid string, opts []esimgw.CallOption) (call, error) {
		op, err := m(c, ctx, eid, iccid, opts...)
		return started(op, err, resultWarning)
	})
}

// functionTable lists what a campaign can run.
//
// ES2.Activate is es2.Client.Activate as a campaign runs it: DownloadProfile with EnableProfile=true, the
// SM-DP's callback being the EID's outcome (EXECUTED_SUCCESS: downloaded and enabled; a warning: downloaded,
// perhaps not enabled; FAILED with the codes saying which). That is Activate without a verifier: waiting
// for a HandleProfileEnabledNotification or auditing afterwards would hold the EID's job past its callback,
// where a campaign snoozes it instead; run an ES4.AuditEIS campaign over the same EIDs to verify.
func functionTable() []function {
	return []function{
		es4Fn("GetEIS", ArgNone, "", func(ctx context.Context, c *es4.Client, eid, _ string, opts []esimgw.CallOption) (call, error) {
			r, err := c.GetEIS(ctx, eid, opts...)
			return finished(eisWarning(r), err)
		}),
		es4Fn("AuditEIS", ArgOptionalICCID, "", func(ctx context.Context, c *es4.Client, eid, iccid string, opts []esimgw.CallOption) (call, error) {
			var iccids []string
			if iccid != "" {
				iccids = []string{iccid}
			}
			op, err := c.AuditEIS(ctx, eid, iccids, opts...)
			return started(op, err, eisWarning)
		}),
		es4Profile("EnableProfile", (*es4.Client).EnableProfile),
		es4Profile("DisableProfile", (*es4.Client).DisableProfile),
		es4Profile("DeleteProfile", (*es4.Client).DeleteProfile),
		es4Profile("SetFallBackAttribute", (*es4.Client).SetFallBackAttribute),
		es4Fn("PrepareSMSRChange", ArgOID, "CurrentSMSRid", func(ctx context.Context, c *es4.Client, eid, oid string, opts []esimgw.CallOption) (call, error) {
			op, err := c.PrepareSMSRChange(ctx, eid, oid, opts...)
			return started(op, err, resultWarning)
		}),
		es4Fn("SMSRChange", ArgOID, "Target-Smsr-id", func(ctx context.Context, c *es4.Client, eid, oid string, opts []esimgw.CallOption) (call, error) {
			op, err := c.SMSRChange(ctx, eid, oid, opts...)
			return started(op, err, resultWarning)
		}),
		es2Fn("GetEIS", ArgNone, func(ctx context.Context, c *es2.Client, eid, _ string, opts []esimgw.CallOption) (call, error) {
			r, err := c.GetEIS(ctx, eid, opts...)
			return finished(eisWarning(r), err)
		}),
		es2Profile("EnableProfile", (*es2.Client).EnableProfile),
		es2Profile("DisableProfile", (*es2.Client).DisableProfile),
		es2Profile("DeleteProfile", (*es2.Client).DeleteProfile),
		es2Profile("SetFallBackAttribute", (*es2.Client).SetFallBackAttribute),
		es2Download("DownloadProfile", false),
		es2Download("Activate", true),
		platformAction(esimgw.PlatformThingSpace, "Enable", esimgw.ProfileManager.Enable),
		platformAction(esimgw.PlatformThingSpace, "Disable", esimgw.ProfileManager.Disable),
		platformAction(esimgw.PlatformThingSpace, "Delete", esimgw.ProfileManager.Delete),
		thingSpaceDownload("Download", false),
		thingSpaceDownload("DownloadEnable", true),
		platformAction(esimgw.PlatformDigiRM, "Enable", esimgw.ProfileManager.Enable),
		platformAction(esimgw.PlatformDigiRM, "Disable", esimgw.ProfileManager.Disable),
		platformAction(esimgw.PlatformDigiRM, "Delete", esimgw.ProfileManager.Delete),
		digiDownload(),
	}
}

// Functions returns the names a Spec's Function may take, sorted: "ES2.DeleteProfile", ...
func Functions() []string {
	var names []string
	for _, f := range functionTable() {
		names = append(names, f.name)
	}
	slices.Sort(names)
	return names
}

func lookupFunction(name string) (function, error) {
	for _, f := range functionTable() {
		if strings.EqualFold(f.name, name) {
			return f, nil
		}
	}
	return function{}, &esimgw.ValidationError{Field: "Function", Value: name, Rule: "must be one of " + strings.Join(Functions(), ", ")}
}

// checkArg validates an entry's argument (or the default) for f and returns the argument to store.
func (f function) checkArg(arg string) error {
	switch f.arg {
	case ArgNone:
		if arg != "" {
			return fmt.Errorf("%s takes no argument, got %q", f.name, arg)
		}
	case ArgICCID:
		if arg == "" {
			return fmt.Errorf("%s needs an ICCID (on the line or as the campaign's default argument)", f.name)
		}
		return esimgw.ValidateICCID(arg)
	case ArgOptionalICCID:
		if arg != "" {
			return esimgw.ValidateICCID(arg)
		}
	case ArgOID:
		if arg == "" {
			return fmt.Errorf("%s needs an OID for %s (on the line or as the campaign's default argument)", f.name, f.argField)
		}
		return esimgw.ValidateOID(f.argField, arg)
	case ArgProfile:
		if arg == "" {
			return fmt.Errorf("%s needs the profile to download: an ICCID, or %s and a ProfileType (on the line or as the campaign's default argument)",
				f.name, ProfileTypePrefix)
		}
		if pt, ok := strings.CutPrefix(arg, ProfileTypePrefix); ok {
			return es2.ValidateProfileType(pt)
		}
		return esimgw.ValidateICCID(arg)
	case ArgDigiProfile:
		if arg == "" {
			return fmt.Errorf("%s needs the profile to download: an ICCID, or %s and an activation code (on the line or as the campaign's default argument)",
				f.name, ActivationCodePrefix)
		}
		if code, ok := strings.CutPrefix(arg, ActivationCodePrefix); ok {
			return esimgw.ValidateActivationCode(code)
		}
		return esimgw.ValidateICCID(arg)
	}
	return nil
}

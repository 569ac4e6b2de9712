package es2

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/progress"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// StepName names a step of Activate, after the multistep operation device platforms (Digi Remote
// Manager) show.
type StepName string

// Steps, in the order Activate reports them. Every activation ends with StepSuccessful or StepFailed.
const (
	StepStarting       StepName = "starting"        // validated; nothing sent yet
	StepDownload       StepName = "download"        // DownloadProfile (EnableProfile=true) accepted; waiting for its callback
	StepDownloadVerify StepName = "download_verify" // the callback says the profile is installed
	StepEnable         StepName = "enable"          // the SM-DP enabled it as part of the download
	StepEnableVerify   StepName = "enable_verify"   // the verifier confirmed (or refuted) the enable
	StepFailed         StepName = "failed"          // final: Err says which step failed and why
	StepSuccessful     StepName = "successful"      // final: enabled, or downloaded with a warning
)

// Step is one report of Activate's progress.
type Step struct {
	Name   StepName
	Time   time.Time
	Detail string
	Err    error // StepFailed only: a *StepError
}

// Verification says how an activation's enable was confirmed.
type Verification string

// Verifications.
const (
	NotVerified            Verification = ""             // no verifier: the SM-DP's callback was taken as it is
	VerifiedByNotification Verification = "notification" // a HandleProfileEnabledNotification arrived
	VerifiedByAudit        Verification = "audit"        // an ES4 AuditEIS showed the profile's state
)

// Errors of Activate's verification, wrapped in a *StepError.
var (
	// ErrVerifyTimeout: the verifier had no answer within the verify timeout. It comes with
	// context.DeadlineExceeded, so esimgw.OutcomeOf reports it as StatusNoResult.
	ErrVerifyTimeout = errors.New("es2: no verification within the verify timeout")
	// ErrNotOnEUICC: the SM-DP reported the profile downloaded, yet the SM-SR's audit does not list it.
	ErrNotOnEUICC = errors.New("es2: the profile is not on the eUICC")
)

// StepError is Activate's error: the step that failed (StepStarting for an invalid request, StepDownload,
// StepEnable or StepEnableVerify) and why. errors.As reaches the *esimgw.FunctionError, *ValidationError or
// context error inside.
type StepError struct {
	Step StepName
	Err  error
}

// Error reads like `es2: activate: download: ES2 DownloadProfile: FAILED: ...` or
// `es2: activate: enable_verify timed out: ...`.
func (e *StepError) Error() string {
	if e.Timeout() {
		return "es2: activate: " + string(e.Step) + " timed out: " + e.Err.Error()
	}
	return "es2: activate: " + string(e.Step) + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *StepError) Unwrap() error { return e.Err }

// Timeout reports whether the step ended because a deadline passed (the caller's context or the verify
// timeout), rather than with a verdict.
func (e *StepError) Timeout() bool {
	return errors.Is(e.Err, context.DeadlineExceeded) || errors.Is(e.Err, ErrVerifyTimeout)
}

// Auditor is the ES4 side Activate can verify with; *es4.Client satisfies it.
type Auditor interface {
	AuditEIS(ctx context.Context, eid string, iccids []string, opts ...esimgw.CallOption) (*esimgw.Operation[*esimgw.EISResult], error)
}

// DefaultVerifyTimeout is how long each verifier waits unless WithVerifyTimeout says otherwise.
const DefaultVerifyTimeout = 5 * time.Minute

// ActivateRequest names the eUICC and the profile to activate: its ICCID, or a ProfileType the SM-DP picks
// a profile of (exactly one of the two).
type ActivateRequest struct {
	Eid         string
	Iccid       string
	ProfileType string
}

// ActivateOption configures Activate.
type ActivateOption func(*activateConfig)

type activateConfig struct {
	watcher       *Watcher
	auditor       Auditor
	report        func(Step)
	board         *progress.Board
	verifyTimeout time.Duration
	callOpts      []esimgw.CallOption
	now           func() time.Time
}

// WithNotificationVerifier verifies the enable by waiting for a HandleProfileEnabledNotification through w,
// which must be the notification handler of the Dispatcher the client's callbacks go to. KPN sends none
// for an enable you asked for (docs/kpn.md R9): with KPN use WithAuditVerifier, or no verifier.
func WithNotificationVerifier(w *Watcher) ActivateOption {
	return func(c *activateConfig) { c.watcher = w }
}

// WithAuditVerifier verifies the enable with an ES4 AuditEIS of the profile (an *es4.Client). With
// WithNotificationVerifier too, the audit runs only when no notification came within the verify timeout.
func WithAuditVerifier(a Auditor) ActivateOption { return func(c *activateConfig) { c.auditor = a } }

// WithStepReporter calls f with each step as it happens, from Activate's goroutine: f should not block.
func WithStepReporter(f func(Step)) ActivateOption { return func(c *activateConfig) { c.report = f } }

// WithProgressBoard feeds the steps to b (Source "ES2"; stages Requested, Installed, Enabled, or Failed /
// Expired with the stage attempted), next to ES2+ progress.
func WithProgressBoard(b *progress.Board) ActivateOption {
	return func(c *activateConfig) { c.board = b }
}

// WithVerifyTimeout bounds each verifier's wait (default DefaultVerifyTimeout). The wait for the
// DownloadProfile callback is bounded by the caller's context only.
func WithVerifyTimeout(d time.Duration) ActivateOption {
	return func(c *activateConfig) { c.verifyTimeout = d }
}

// WithDownloadOptions passes call options (FunctionCallIdentifier, ValidityPeriod, provider OID) to the
// DownloadProfile call.
func WithDownloadOptions(opts ...esimgw.CallOption) ActivateOption {
	return func(c *activateConfig) { c.callOpts = append(c.callOpts, opts...) }
}

// WithStepClock sets the clock that dates steps and board events (default time.Now).
func WithStepClock(now func() time.Time) ActivateOption {
	return func(c *activateConfig) { c.now = now }
}

// Activation is what Activate found out. It is returned even when Activate fails, with Err set.
type Activation struct {
	Eid                    string
	Iccid                  string // as asked, or as the SM-DP chose for a ProfileType
	ProfileType            string
	FunctionCallIdentifier string                 // of the DownloadProfile call
	Download               *esimgw.DownloadResult // the DownloadProfile callback's result, nil if none came
	// Warning is the SM-DP's EXECUTED_WITHWARNING, or the warning Activate sets when the profile was
	// downloaded but not enabled.
	Warning      *esimgw.Warning
	Enabled      bool // the profile is enabled: verified, or reported by the SM-DP when not verified
	VerifiedBy   Verification
	Notification *esimgw.Notification // the notification that verified the enable
	EIS          *rps.EISType         // the audited EIS
	Steps        []Step               // every step reported, in order
	Err          error                // the *StepError Activate returned
}

// Outcome is the flat row REST platforms show: EXECUTED_SUCCESS when enabled, EXECUTED_WITHWARNING when
// downloaded with a warning (possibly not enabled), FAILED or EXPIRED with the gateway's codes, or a local
// status (esimgw.StatusNoResult for a timeout).
func (a *Activation) Outcome() esimgw.Outcome { return esimgw.OutcomeOf(a.Warning, a.Err) }

// FailedStep is the step that failed, "" when none did.
func (a *Activation) FailedStep() StepName {
	var se *StepError
	if errors.As(a.Err, &se) {
		return se.Step
	}
	return ""
}

// Activate downloads a profile with EnableProfile=true, waits for the DownloadProfile callback, then
// verifies the enable (WithNotificationVerifier, WithAuditVerifier; none: the callback is taken as it is),
// reporting each step (WithStepReporter, WithProgressBoard). It returns the Activation in every case, and a
// *StepError when a step failed or timed out:
//
//   - success: the profile is enabled; Outcome EXECUTED_SUCCESS (or EXECUTED_WITHWARNING with the SM-DP's
//     warning);
//   - download failure: a FAILED or EXPIRED callback that names no installed profile (StepDownload);
//   - enable failure: a FAILED or EXPIRED callback that names the ICCID it installed (the SM-DP only reports
//     the ICCID of a profile it put on the eUICC: the enable is what failed; StepEnable), or an audit that
//     does not find the profile (StepEnableVerify, ErrNotOnEUICC);
//   - timeout: ctx ended while waiting for the callback (StepDownload), or a verifier had no answer in
//     time after an EXECUTED_SUCCESS callback (StepEnableVerify, ErrVerifyTimeout); StepError.Timeout
//     reports it;
//   - downloaded but not enabled: the audit shows the profile Disabled (or Created), or no enabled
//     notification came in time after the SM-DP said EXECUTED_WITHWARNING. Not an error: the Activation
//     has Enabled false, a Warning, and Outcome EXECUTED_WITHWARNING.
func (c *Client) Activate(ctx context.Context, r ActivateRequest, opts ...ActivateOption) (*Activation, error) {
	cfg := activateConfig{verifyTimeout: DefaultVerifyTimeout, now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	x := &activation{c: c, cfg: cfg, a: &Activation{Eid: r.Eid, Iccid: r.Iccid, ProfileType: r.ProfileType}}
	x.a.Err = x.run(ctx, DownloadRequest{Eid: r.Eid, Iccid: r.Iccid, ProfileType: r.ProfileType, Enable: true})
	if x.a.Err != nil {
		return x.a, x.a.Err
	}
	return x.a, nil
}

// activation is one run of Activate.
type activation struct {
	c   *Client
	cfg activateConfig
	a   *Activation
}

// downloaded is the DownloadProfile callback as Activate needs it: whether the SM-DP named an ICCID.
type downloaded struct {
	res   *esimgw.DownloadResult
	named bool
}

func (x *activation) run(ctx context.Context, dr DownloadRequest) error {
	if err := dr.Validate(); err != nil {
		return x.fail(StepStarting, err)
	}
	var watch *Watch
	if x.cfg.watcher != nil {
		watch = x.cfg.watcher.Watch(dr.Eid, dr.Iccid, esimgw.ProfileEnabled) // before the request leaves
		defer watch.Stop()
	}
	x.step(StepStarting, "activating "+x.what()+" on eUICC "+dr.Eid)
	op, err := x.startDownload(ctx, dr)
	if err != nil {
		return x.fail(StepDownload, err)
	}
	x.a.FunctionCallIdentifier = op.FunctionCallIdentifier()
	x.step(StepDownload, "DownloadProfile with EnableProfile=true accepted (FunctionCallIdentifier "+x.a.FunctionCallIdentifier+"); waiting for its callback")
	x.feed(progress.StageRequested, progress.StageUnknown, "", "DownloadProfile requested")
	d, err := op.Wait(ctx)
	if d.res != nil {
		x.a.Download, x.a.Iccid = d.res, d.res.Iccid
	}
	if err != nil {
		if d.named {
			x.step(StepDownloadVerify, "the SM-DP reports profile "+x.a.Iccid+" installed, but the function failed")
			return x.fail(StepEnable, err)
		}
		return x.fail(StepDownload, err)
	}
	x.a.Warning = d.res.Warning
	status := statusText(d.res.Warning)
	x.step(StepDownloadVerify, "the SM-DP reports profile "+x.a.Iccid+" installed ("+status+")")
	x.feed(progress.StageInstalled, progress.StageUnknown, status, "downloaded")
	x.step(StepEnable, "enabled by the SM-DP with the download (EnableProfile=true; "+status+")")
	return x.verify(ctx, watch)
}

func (x *activation) what() string {
	if x.a.Iccid != "" {
		return "profile " + x.a.Iccid
	}
	return "a profile of type " + x.a.ProfileType
}

func (x *activation) startDownload(ctx context.Context, dr DownloadRequest) (*esimgw.Operation[downloaded], error) {
	return startDownload(ctx, x.c, dr, func(resp rps.Response, warn *esimgw.Warning, err error) (downloaded, error) {
		res, err := downloadResultOf(resp, warn, err, dr.Iccid)
		d, _ := resp.(*rps.ES2DownloadProfileResponse)
		return downloaded{res: res, named: d != nil && d.Iccid != ""}, err
	}, x.cfg.callOpts)
}

// verify runs the verifiers after a successful callback.
func (x *activation) verify(ctx context.Context, watch *Watch) error {
	if watch == nil && x.cfg.auditor == nil {
		x.a.Enabled = x.a.Warning == nil
		x.step(StepEnableVerify, "not verified (no verifier): taking the SM-DP's "+statusText(x.a.Warning))
		return x.succeed()
	}
	if watch != nil {
		n, err := x.awaitEnabled(ctx, watch)
		switch {
		case n != nil:
			x.a.Enabled, x.a.VerifiedBy, x.a.Notification = true, VerifiedByNotification, n
			x.step(StepEnableVerify, n.Interface+" HandleProfileEnabledNotification for "+n.Iccid+" received")
			return x.succeed()
		case ctx.Err() != nil:
			return x.fail(StepEnableVerify, err)
		case x.cfg.auditor == nil && x.a.Warning != nil:
			return x.notEnabled("no HandleProfileEnabledNotification within " + x.cfg.verifyTimeout.String() + " after the SM-DP's EXECUTED_WITHWARNING")
		case x.cfg.auditor == nil:
			return x.fail(StepEnableVerify, fmt.Errorf("no HandleProfileEnabledNotification for %s within %s: %w", x.a.Iccid, x.cfg.verifyTimeout, err))
		}
	}
	return x.audit(ctx)
}

// awaitEnabled waits up to the verify timeout for the enabled notification of the activated profile (the
// watch may be on the whole eUICC when the ICCID was not known in advance).
func (x *activation) awaitEnabled(ctx context.Context, watch *Watch) (*esimgw.Notification, error) {
	vctx, cancel := x.verifyContext(ctx)
	defer cancel()
	want := progress.NormalizeICCID(x.a.Iccid)
	for {
		n, err := watch.Next(vctx)
		if err != nil {
			return nil, x.verifyErr(ctx, err)
		}
		if progress.NormalizeICCID(n.Iccid) == want {
			return n, nil
		}
	}
}

func (x *activation) audit(ctx context.Context) error {
	vctx, cancel := x.verifyContext(ctx)
	defer cancel()
	op, err := x.cfg.auditor.AuditEIS(vctx, x.a.Eid, []string{x.a.Iccid})
	if err != nil {
		return x.fail(StepEnableVerify, err)
	}
	res, err := op.Wait(vctx)
	if err != nil {
		return x.fail(StepEnableVerify, x.verifyErr(ctx, err))
	}
	x.a.EIS = res.EIS
	state, found := profileState(res.EIS, x.a.Iccid)
	switch {
	case !found:
		return x.fail(StepEnableVerify, fmt.Errorf("%w: AuditEIS does not list %s", ErrNotOnEUICC, x.a.Iccid))
	case state == rps.ProfileStateTypeEnabled:
		x.a.Enabled, x.a.VerifiedBy = true, VerifiedByAudit
		x.step(StepEnableVerify, "AuditEIS shows profile "+x.a.Iccid+" Enabled")
		return x.succeed()
	}
	x.a.VerifiedBy = VerifiedByAudit
	return x.notEnabled("AuditEIS shows profile " + x.a.Iccid + " " + string(state))
}

func (x *activation) verifyContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, x.cfg.verifyTimeout, ErrVerifyTimeout)
}

// verifyErr adds ErrVerifyTimeout to an error caused by the verify timeout (not by the caller's context).
func (x *activation) verifyErr(ctx context.Context, err error) error {
	if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, ErrVerifyTimeout) {
		return fmt.Errorf("%w (%s): %w", ErrVerifyTimeout, x.cfg.verifyTimeout, err)
	}
	return err
}

func profileState(eis *rps.EISType, iccid string) (rps.ProfileStateType, bool) {
	if eis == nil {
		return "", false
	}
	want := progress.NormalizeICCID(iccid)
	for _, p := range eis.ProfileInfo {
		if progress.NormalizeICCID(p.Iccid) == want {
			return p.State, true
		}
	}
	return "", false
}

// notEnabled ends an activation whose profile was downloaded but not enabled: a warning, not an error.
func (x *activation) notEnabled(detail string) error {
	x.a.Enabled = false
	if x.a.Warning == nil {
		x.a.Warning = &esimgw.Warning{Status: esimgw.StatusExecutedWithWarning, SubjectIdentifier: x.a.Iccid,
			Message: "downloaded but not enabled: " + detail}
	}
	x.step(StepEnableVerify, detail)
	x.feed(progress.StageInstalled, progress.StageUnknown, string(esimgw.StatusExecutedWithWarning), "downloaded but not enabled: "+detail)
	x.step(StepSuccessful, "profile "+x.a.Iccid+" downloaded but not enabled")
	return nil
}

func (x *activation) succeed() error {
	detail := "profile " + x.a.Iccid + " downloaded and enabled"
	if !x.a.Enabled {
		detail = "profile " + x.a.Iccid + " downloaded (" + statusText(x.a.Warning) + ")"
	}
	if x.a.Enabled {
		x.feed(progress.StageEnabled, progress.StageUnknown, statusText(x.a.Warning), "enabled")
	}
	x.step(StepSuccessful, detail)
	return nil
}

// fail ends the activation at step with err.
func (x *activation) fail(step StepName, err error) error {
	se := &StepError{Step: step, Err: err}
	attempted := progress.StageEnabled
	if step == StepDownload {
		attempted = progress.StageInstalled
	}
	stage := progress.StageFailed
	if se.Timeout() || errors.Is(err, esimgw.ErrExpired) {
		stage = progress.StageExpired
	}
	if step != StepStarting {
		x.feed(stage, attempted, string(esimgw.OutcomeOf(nil, err).Status), err.Error())
	}
	x.report(Step{Name: StepFailed, Time: x.cfg.now(), Detail: string(step) + " failed", Err: se})
	return se
}

func (x *activation) step(name StepName, detail string) {
	x.report(Step{Name: name, Time: x.cfg.now(), Detail: detail})
}

func (x *activation) report(s Step) {
	x.a.Steps = append(x.a.Steps, s)
	if x.cfg.report != nil {
		x.cfg.report(s)
	}
}

// feed puts an event on the progress board, when there is one and the ICCID is known.
func (x *activation) feed(stage, attempted progress.Stage, status, detail string) {
	if x.cfg.board == nil || x.a.Iccid == "" {
		return
	}
	_, _ = x.cfg.board.Update(progress.Event{Source: "ES2", ICCID: x.a.Iccid, EID: x.a.Eid, Stage: stage, Attempted: attempted,
		Time: x.cfg.now(), Status: status, Detail: detail, Ref: x.a.FunctionCallIdentifier})
}

func statusText(w *esimgw.Warning) string {
	if w == nil {
		return string(esimgw.StatusExecutedSuccess)
	}
	return w.String()
}

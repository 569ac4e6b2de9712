package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/bulk"
	"github.com/esimgw/esimgw/es2"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/internal/cli"
	"github.com/esimgw/esimgw/soap"
)

const gatewayHelp = `
Without --kpn or gateway flags it runs against an embedded mock gateway (with its seeded eUICC and
profiles as defaults). Against KPN's RSP Gateway:

  esimgw %s --kpn %s \
    --cert client.crt --key client.key --entity-id $MY_OID \
    --listen :8443 --replyto https://callbacks.example.com:8443/ \
    --callback-cert callbacks.crt --callback-key callbacks.key --callback-ca kpn-client-ca.pem`

// runner is what call needs of where a command runs: --timeout, the progress lines and how to wait.
type runner struct {
	timeout  time.Duration
	printf   func(format string, args ...any)
	session  *cli.Session // SGP.02: cli.Wait, whose timeout message names the callback URL
	awaiting string       // what the "sent" line says it waits for
}

// sessionRunner is the runner of an SGP.02 session.
func sessionRunner(s *cli.Session, timeout time.Duration) *runner {
	return &runner{timeout: timeout, printf: s.Printf, session: s, awaiting: "the callback"}
}

// call sends one asynchronous request with start, waits for its result within --timeout and fills res.
// Table output gets the example programs' progress lines; an interrupt names the FunctionCallIdentifier.
func call[T any](ctx context.Context, r *runner, res *callResult, start func(ctx context.Context) (*esimgw.Operation[T], error)) (T, error) {
	cctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	began := time.Now()
	op, err := start(cctx)
	if err != nil {
		var ce *soap.CallError
		if errors.As(err, &ce) {
			res.FunctionCallIdentifier, res.MessageID = ce.FunctionCallIdentifier, ce.MessageID
		}
		res.setOutcome(esimgw.OutcomeOf(nil, err), began)
		var zero T
		if badInput(err) {
			err = usage(err)
		}
		return zero, err
	}
	res.setOperation(op.Key())
	if op.FunctionCallIdentifier() == "" { // a query answered at once (Digi's inventory)
		r.printf("-> %s %s answered\n", op.Interface(), op.Function())
	} else {
		r.printf("-> %s %s sent (FunctionCallIdentifier %s), waiting for %s\n", op.Interface(), op.Function(), op.FunctionCallIdentifier(), r.awaiting)
	}
	v, err := waitOp(ctx, r, op)
	if err != nil && errors.Is(context.Cause(ctx), errInterrupted) {
		err = waitInterrupted(fmt.Sprintf("%s %s (FunctionCallIdentifier %s)", op.Interface(), op.Function(), op.FunctionCallIdentifier()), err)
	}
	o := esimgw.OutcomeOf(nil, err)
	if rv, ok := any(v).(interface{ Outcome() esimgw.Outcome }); ok && err == nil {
		o = rv.Outcome()
	}
	res.setOutcome(o, began)
	if err == nil {
		what := "callback"
		if r.session == nil && op.Interface() == string(esimgw.PlatformDigiRM) {
			what = "result"
		}
		r.printf("<- %s %s %s: %s after %s\n", what, op.Interface(), op.Function(), cli.FormatOutcome(o), time.Since(began).Round(time.Millisecond))
	}
	return v, err
}

// finish prints res (JSON modes) and turns a function that did not succeed into the command's error.
func (g *globals) finish(res *callResult, err error) error {
	g.emit(res, false)
	return err
}

type profileSpec struct {
	use, iface, function string
	verb                 string // "enable"
	done                 string // "enabled on"
}

// profileCommand is a command running one asynchronous function on one profile of one eUICC.
func profileCommand(g *globals, p profileSpec) *cobra.Command {
	needs, group := cli.NeedES4, "es4"
	defICCID := gatewaytest.DefaultDisabledICCID
	if p.iface == "ES2" {
		needs, group = cli.NeedES2, "es2"
	}
	if p.use == "disable" {
		defICCID = gatewaytest.DefaultEnabledICCID
	}
	app := g.newApp(p.use, needs)
	var eid, iccid string
	app.Flags.StringVar(&eid, "eid", "", "EID of the eUICC")
	app.Flags.StringVar(&iccid, "iccid", "", "ICCID of the profile to "+p.verb)
	app.EnvVar("eid", "EID")
	app.EnvVar("iccid", "ICCID")
	var pf *platformFlags
	if p.use != "fallback" { // SGP.02 only
		pf = addPlatformFlags(app, strings.ToLower(p.iface), platformThingSpace, platformDigiRM)
	}
	long := fmt.Sprintf("Runs %s %s on one profile and waits for its callback.", p.iface, p.function)
	switch p.use {
	case "enable":
		long += " The callback is the only completion signal: KPN sends no\nProfileEnabled notification for an enable you asked for. The profile enabled before is disabled."
	case "fallback":
		long += " The eUICC enables the fall-back profile by itself when it\nloses the network with the enabled one. KPN runs it with a fixed 720 s validity, so with --kpn the wait\nis 14 minutes unless --timeout says otherwise."
	}
	long += fmt.Sprintf(gatewayHelp, p.use, "--eid $EID --iccid $ICCID")
	if pf != nil {
		long += "\n" + platformHelp
	}
	cmd := &cobra.Command{
		Use:     p.use,
		Short:   fmt.Sprintf("%s %s: %s a profile", p.iface, p.function, p.verb),
		Long:    long,
		GroupID: group,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.resolve(cmd, app); err != nil {
				return err
			}
			if pf != nil {
				if err := pf.check(p.use); err != nil {
					return err
				}
				if pf.carrier() {
					return g.carrierProfileCall(cmd.Context(), app, pf, p, eid, iccid)
				}
			}
			if err := cli.Defaults(app, &eid, &iccid, gatewaytest.DefaultEID, defICCID); err != nil {
				return usage(err)
			}
			if p.use == "fallback" && app.KPN && !app.TimeoutSet {
				app.Timeout = esimgw.KPNSetFallBackValidity + 2*time.Minute
			}
			ctx := cmd.Context()
			s, err := app.Start(ctx, cli.StartOptions{})
			if err != nil {
				return err
			}
			defer s.Close()
			s.Describe()
			res := &callResult{Command: p.use, Platform: strings.ToLower(p.iface), Interface: p.iface, Function: p.function, EID: eid, ICCID: iccid}
			_, err = call(ctx, sessionRunner(s, app.Timeout), res, func(ctx context.Context) (*esimgw.Operation[*esimgw.Result], error) {
				switch p.use {
				case "enable":
					return s.ES4.EnableProfile(ctx, eid, iccid)
				case "fallback":
					return s.ES4.SetFallBackAttribute(ctx, eid, iccid)
				case "disable":
					return s.ES2.DisableProfile(ctx, eid, iccid)
				default:
					return s.ES2.DeleteProfile(ctx, eid, iccid)
				}
			})
			if err == nil {
				s.Printf("profile %s is %s %s\n", iccid, p.done, eid)
			}
			return g.finish(res, err)
		},
	}
	bind(cmd, app)
	return cmd
}

// carrierProfileCall runs enable, disable or delete on a carrier platform through esimgw.ProfileManager.
func (g *globals) carrierProfileCall(ctx context.Context, app *cli.App, pf *platformFlags, p profileSpec, eid, iccid string) error {
	def := cli.CarrierMockDisabled
	if p.use == "disable" {
		def = cli.CarrierMockEnabled
	}
	ref, err := pf.ref(&eid, &iccid, def)
	if err != nil {
		return err
	}
	if err := ref.Validate(); err != nil {
		return usage(err)
	}
	t, err := pf.start(ctx, app)
	if err != nil {
		return err
	}
	defer t.Close()
	t.Describe()
	printf := func(format string, args ...any) { fmt.Fprintf(app.Stdout, format, args...) }
	res := &callResult{Command: p.use, Platform: pf.name, Interface: string(t.Manager.Platform()), Function: p.use, EID: eid, ICCID: iccid}
	_, err = call(ctx, carrierRunner(app, t, printf), res, func(ctx context.Context) (*esimgw.Operation[*esimgw.Result], error) {
		switch p.use {
		case "enable":
			return t.Manager.Enable(ctx, ref)
		case "disable":
			return t.Manager.Disable(ctx, ref)
		default:
			return t.Manager.Delete(ctx, ref)
		}
	})
	if err == nil {
		printf("profile %s is %s %s\n", iccid, p.done, eid)
	}
	return g.finish(res, err)
}

func auditCommand(g *globals) *cobra.Command {
	app := g.newApp("audit", cli.NeedES4)
	var eids, iccids cli.Strings
	app.Flags.Var(&eids, "eid", "EID of an eUICC to audit (repeat, or comma-separate, for several)")
	eidFile := app.Flags.String("eids", "", "file with one EID a line to audit ('#' comments and blank lines skipped)")
	app.Flags.Var(&iccids, "iccid", "audit only this profile (repeatable; default: every profile)")
	concurrency := app.Flags.Int("concurrency", 8, "audits in flight at once for several EIDs")
	app.EnvVar("eid", "EID")
	pf := addPlatformFlags(app, platformES4, platformDigiRM)
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "ES4 AuditEIS: read eUICCs again and list their profiles",
		Long: `Has the SM-SR audit eUICCs (ES4 AuditEIS; the refreshed EIS arrives as a callback) and prints each one's
profiles. With several EIDs (--eid repeated, or --eids FILE) it audits them with bounded concurrency, draws
a progress bar on stderr when stderr is a terminal and prints one line (or JSON object) per eUICC.
With --output json the result is always an array, one element per eUICC. With --platform digirm it lists what
Digi Remote Manager's inventory holds for each eUICC (what the devices last reported).` + fmt.Sprintf(gatewayHelp, "audit", "--eid $EID") + "\n" + platformHelp,
		GroupID: "es4",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.resolve(cmd, app); err != nil {
				return err
			}
			if err := pf.check("audit"); err != nil {
				return err
			}
			ctx := cmd.Context()
			if *eidFile != "" {
				f, err := os.Open(*eidFile)
				if err != nil {
					return usage(fmt.Errorf("--eids: %w", err))
				}
				defer f.Close()
				src := bulk.Lines(f)
				for {
					eid, ok, err := src.Next(ctx)
					if err != nil {
						return usage(fmt.Errorf("--eids %s: %w", *eidFile, err))
					}
					if !ok {
						break
					}
					eids = append(eids, eid)
				}
			}
			if len(eids) == 0 {
				switch {
				case pf.carrier() && pf.embedded():
					eids = cli.Strings{cli.CarrierMockEID}
				case pf.carrier() || !app.Embedded():
					return cli.Usagef("give --eid or --eids")
				default:
					eids = cli.Strings{gatewaytest.DefaultEID}
				}
			}
			for _, eid := range eids {
				if err := esimgw.ValidateEID(eid); err != nil {
					return usage(err)
				}
			}
			for _, iccid := range iccids {
				if err := esimgw.ValidateICCID(iccid); err != nil {
					return usage(err)
				}
			}
			if *concurrency < 1 {
				return cli.Usagef("--concurrency must be at least 1")
			}
			// audit audits one eUICC and returns its document and how to print its profiles.
			var audit func(ctx context.Context, eid string) (res *callResult, print func(), err error)
			if pf.carrier() {
				t, err := pf.start(ctx, app)
				if err != nil {
					return err
				}
				defer t.Close()
				t.Describe()
				auditor, _ := t.Manager.(esimgw.ProfileAuditor) // check allows only auditors
				printf := func(format string, args ...any) { fmt.Fprintf(app.Stdout, format, args...) }
				audit = func(ctx context.Context, eid string) (*callResult, func(), error) {
					res := &callResult{Command: "audit", Platform: pf.name, Interface: string(auditor.Platform()), Function: "audit", EID: eid}
					r, err := call(ctx, carrierRunner(app, t, printf), res, func(ctx context.Context) (*esimgw.Operation[*esimgw.AuditResult], error) {
						return auditor.Audit(ctx, eid)
					})
					if r == nil {
						return res, nil, err
					}
					if len(iccids) > 0 {
						r.Profiles = slices.DeleteFunc(r.Profiles, func(p esimgw.ProfileInfo) bool { return !slices.Contains(iccids, p.ICCID) })
					}
					res.EIS = auditEIS(r)
					return res, func() { printAudit(app.Stdout, r) }, err
				}
			} else {
				s, err := app.Start(ctx, cli.StartOptions{})
				if err != nil {
					return err
				}
				defer s.Close()
				s.Describe()
				audit = func(ctx context.Context, eid string) (*callResult, func(), error) {
					res := &callResult{Command: "audit", Platform: platformES4, Interface: "ES4", Function: "AuditEIS", EID: eid}
					r, err := call(ctx, sessionRunner(s, app.Timeout), res, func(ctx context.Context) (*esimgw.Operation[*esimgw.EISResult], error) {
						return s.ES4.AuditEIS(ctx, eid, iccids)
					})
					if r == nil {
						return res, nil, err
					}
					res.EIS = eisOf(eid, r.EIS)
					return res, func() { cli.PrintEIS(s.Out(), "", eid, r.EIS) }, err
				}
			}
			defer g.flush()
			if len(eids) == 1 {
				res, print, err := audit(ctx, eids[0])
				if err == nil && print != nil {
					print()
				}
				g.emit(res, true)
				return err
			}
			var opts []bulk.Option
			if g.terminal {
				bar := bulk.NewProgressBar(g.stderr, bulk.WithLabel("audit "))
				opts = append(opts, bulk.WithProgress(bar.Update))
			}
			one := func(ctx context.Context, eid string) (*callResult, error) {
				res, _, err := audit(ctx, eid)
				return res, err
			}
			sum, err := bulk.Run(ctx, bulk.Slice(eids), one, func(o bulk.Outcome[*callResult]) {
				res := o.Value
				if res == nil {
					res = &callResult{Command: "audit", Platform: pf.name, EID: o.EID}
					res.setOutcome(esimgw.OutcomeOf(nil, o.Err), time.Now())
				}
				line := fmt.Sprintf("%s  %s", o.EID, cli.FormatOutcome(esimgw.Outcome{Status: res.Status, StatusCode: res.StatusCode,
					Description: res.Description, Message: res.Message}))
				if res.EIS != nil {
					enabled := "-"
					for _, p := range res.EIS.Profiles {
						if p.State == "Enabled" {
							enabled = p.ICCID
						}
					}
					line += fmt.Sprintf("  profiles=%d enabled=%s", len(res.EIS.Profiles), enabled)
				}
				fmt.Fprintln(app.Stdout, line)
				g.emit(res, true)
			}, append(opts, bulk.WithConcurrency(*concurrency))...)
			if err != nil {
				return err
			}
			if sum.Failed > 0 {
				return fmt.Errorf("%d of %d audits failed", sum.Failed, sum.Read)
			}
			return nil
		},
	}
	bind(cmd, app)
	return cmd
}

func downloadCommand(g *globals) *cobra.Command {
	app := g.newApp("download", cli.NeedES2)
	req := es2.DownloadRequest{}
	app.Flags.StringVar(&req.Eid, "eid", "", "EID of the eUICC")
	app.Flags.StringVar(&req.Iccid, "iccid", "", "ICCID of the profile to download")
	app.Flags.StringVar(&req.ProfileType, "profile-type", "", "download a profile of this ProfileType instead (the SM-DP picks it)")
	app.Flags.BoolVar(&req.Enable, "enable", false, "enable the profile once installed")
	app.EnvVar("eid", "EID")
	pf := addPlatformFlags(app, platformES2, platformThingSpace, platformDigiRM)
	var code string
	app.Flags.StringVar(&code, "activation-code", "", "digirm: download with this activation code instead of --iccid (one Digi does not know)")
	app.EnvVar("activation-code", "ACTIVATION_CODE")
	cmd := &cobra.Command{
		Use:   "download",
		Short: "ES2 DownloadProfile: download a profile, by ICCID or ProfileType",
		Long: `Downloads a profile with ES2 DownloadProfile, by ICCID or ProfileType (the SM-DP picks the profile and
names its ICCID in the callback), with or without enabling it, and waits for the callback. To download,
enable and verify the enable in one step, see esimgw activate.` + fmt.Sprintf(gatewayHelp, "download", "--smsr-id $SMSR_OID --eid $EID --profile-type $TYPE --enable") +
			"\n" + platformHelp + " Digi downloads by --iccid (an activation code it knows) or --activation-code.",
		GroupID: "es2",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.resolve(cmd, app); err != nil {
				return err
			}
			if err := pf.check("download"); err != nil {
				return err
			}
			if pf.carrier() {
				spec := esimgw.DownloadSpec{EID: req.Eid, ICCID: req.Iccid, ProfileType: req.ProfileType, ActivationCode: code,
					Enable: req.Enable, DeviceID: pf.DeviceID}
				return g.carrierDownload(cmd.Context(), app, pf, spec)
			}
			if code != "" {
				return cli.Usagef("--activation-code is for --platform digirm; ES2 downloads by --iccid or --profile-type")
			}
			if err := cli.DownloadTarget(app, &req.Eid, &req.Iccid, &req.ProfileType); err != nil {
				return err
			}
			if err := req.Validate(); err != nil {
				return usage(err)
			}
			ctx := cmd.Context()
			s, err := app.Start(ctx, cli.StartOptions{})
			if err != nil {
				return err
			}
			defer s.Close()
			s.Describe()
			res := &callResult{Command: "download", Platform: platformES2, Interface: "ES2", Function: "DownloadProfile", EID: req.Eid, ICCID: req.Iccid, ProfileType: req.ProfileType}
			r, err := call(ctx, sessionRunner(s, app.Timeout), res, func(ctx context.Context) (*esimgw.Operation[*esimgw.DownloadResult], error) {
				return s.ES2.DownloadProfile(ctx, req)
			})
			reportDownload(s.Printf, res, r, req.Enable, err)
			return g.finish(res, err)
		},
	}
	bind(cmd, app)
	return cmd
}

// carrierDownload downloads a profile on a carrier platform through esimgw.ProfileDownloader.
func (g *globals) carrierDownload(ctx context.Context, app *cli.App, pf *platformFlags, spec esimgw.DownloadSpec) error {
	if pf.embedded() {
		if spec.EID == "" {
			spec.EID = cli.CarrierMockEID
		}
		if spec.ICCID == "" && spec.ActivationCode == "" && spec.ProfileType == "" {
			spec.ICCID = cli.CarrierMockCatalog
		}
	}
	if spec.EID == "" {
		return cli.Usagef("--eid is required")
	}
	t, err := pf.start(ctx, app)
	if err != nil {
		return err
	}
	defer t.Close()
	t.Describe()
	downloader, _ := t.Manager.(esimgw.ProfileDownloader) // both carriers download
	printf := func(format string, args ...any) { fmt.Fprintf(app.Stdout, format, args...) }
	res := &callResult{Command: "download", Platform: pf.name, Interface: string(downloader.Platform()), Function: "download",
		EID: spec.EID, ICCID: spec.ICCID, ProfileType: spec.ProfileType}
	r, err := call(ctx, carrierRunner(app, t, printf), res, func(ctx context.Context) (*esimgw.Operation[*esimgw.DownloadResult], error) {
		return downloader.Download(ctx, spec)
	})
	reportDownload(printf, res, r, spec.Enable, err)
	return g.finish(res, err)
}

// reportDownload takes the ICCID a download reported into res and, when it succeeded, says where the
// profile is.
func reportDownload(printf func(string, ...any), res *callResult, r *esimgw.DownloadResult, enable bool, err error) {
	if r != nil && r.Iccid != "" {
		res.ICCID = r.Iccid
	}
	if err != nil {
		return
	}
	state := "installed (disabled)"
	if enable {
		state = "installed and enabled"
	}
	printf("profile %s is %s on %s\n", res.ICCID, state, res.EID)
}

func activateCommand(g *globals) *cobra.Command {
	app := g.newApp("activate", cli.NeedES2)
	req := es2.ActivateRequest{}
	app.Flags.StringVar(&req.Eid, "eid", "", "EID of the eUICC")
	app.Flags.StringVar(&req.Iccid, "iccid", "", "ICCID of the profile to download and enable")
	app.Flags.StringVar(&req.ProfileType, "profile-type", "", "a profile of this ProfileType instead (the SM-DP picks it)")
	verify := app.Flags.Bool("verify", true, "wait for the ES2 HandleProfileEnabledNotification that confirms the enable")
	verifyTimeout := app.Flags.Duration("verify-timeout", es2.DefaultVerifyTimeout, "how long to wait for that notification")
	app.EnvVar("eid", "EID")
	cmd := &cobra.Command{
		Use:   "activate",
		Short: "ES2 DownloadProfile with enable, verified by the notification that follows",
		Long: `Downloads a profile with EnableProfile=true, waits for the DownloadProfile callback and (with --verify, the
default) for the ES2 HandleProfileEnabledNotification that confirms the enable, printing each step.
The outcome is EXECUTED_SUCCESS when the profile is enabled, EXECUTED_WITHWARNING when it was downloaded
but its enable was not confirmed in time.` + fmt.Sprintf(gatewayHelp, "activate", "--smsr-id $SMSR_OID --eid $EID --profile-type $TYPE"),
		GroupID: "es2",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.resolve(cmd, app); err != nil {
				return err
			}
			if err := cli.DownloadTarget(app, &req.Eid, &req.Iccid, &req.ProfileType); err != nil {
				return err
			}
			if err := (es2.DownloadRequest{Eid: req.Eid, Iccid: req.Iccid, ProfileType: req.ProfileType}).Validate(); err != nil {
				return usage(err)
			}
			if *verifyTimeout <= 0 {
				return cli.Usagef("--verify-timeout must be positive")
			}
			ctx := cmd.Context()
			var watcher *es2.Watcher
			opts := cli.StartOptions{}
			if *verify {
				watcher = es2.NewWatcher(nil)
				opts.Notifications = watcher
			}
			s, err := app.Start(ctx, opts)
			if err != nil {
				return err
			}
			defer s.Close()
			s.Describe()
			res := &callResult{Command: "activate", Interface: "ES2", Function: "DownloadProfile", EID: req.Eid, ICCID: req.Iccid, ProfileType: req.ProfileType}
			aopts := []es2.ActivateOption{es2.WithVerifyTimeout(*verifyTimeout), es2.WithStepReporter(func(st es2.Step) {
				line := "step " + string(st.Name)
				if st.Detail != "" {
					line += ": " + st.Detail
				}
				fmt.Fprintln(app.Stdout, line)
			})}
			if watcher != nil {
				aopts = append(aopts, es2.WithNotificationVerifier(watcher))
			}
			cctx, cancel := context.WithTimeout(ctx, app.Timeout)
			defer cancel()
			began := time.Now()
			a, err := s.ES2.Activate(cctx, req, aopts...)
			if a != nil {
				res.FunctionCallIdentifier = a.FunctionCallIdentifier
				if a.Iccid != "" {
					res.ICCID = a.Iccid
				}
				enabled := a.Enabled
				res.Enabled, res.VerifiedBy = &enabled, string(a.VerifiedBy)
				res.Steps = []stepJSON{}
				for _, st := range a.Steps {
					sj := stepJSON{Name: string(st.Name), Time: st.Time.UTC().Format(time.RFC3339Nano), Detail: st.Detail}
					if st.Err != nil {
						sj.Error = cli.Message(st.Err)
					}
					res.Steps = append(res.Steps, sj)
				}
				res.setOutcome(a.Outcome(), began)
			} else {
				res.setOutcome(esimgw.OutcomeOf(nil, err), began)
			}
			if err != nil && errors.Is(context.Cause(ctx), errInterrupted) {
				err = waitInterrupted(fmt.Sprintf("ES2 DownloadProfile (FunctionCallIdentifier %s)", res.FunctionCallIdentifier), err)
			}
			if badInput(err) {
				err = usage(err)
			}
			if err == nil {
				s.Printf("=> %s enabled=%v verified by %s\n", cli.FormatOutcome(a.Outcome()), a.Enabled, a.VerifiedBy)
			}
			return g.finish(res, err)
		},
	}
	bind(cmd, app)
	return cmd
}

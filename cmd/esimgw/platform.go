package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/internal/cli"
)

// The values of --platform.
const (
	platformES4        = "es4"
	platformES2        = "es2"
	platformThingSpace = cli.PlatformThingSpace
	platformDigiRM     = cli.PlatformDigiRM
)

// platformFlags are --platform and the settings of the carrier platforms (ThingSpace, Digi Remote
// Manager, cli.CarrierFlags) on a command's flag set with their ESIMGW_* fall-backs.
type platformFlags struct {
	*cli.CarrierFlags
	name    string
	sgp02   string   // the command's SGP.02 interface (es4 or es2): the default
	allowed []string // what --platform takes on this command
}

const platformHelp = `
With --platform thingspace or digirm the same command runs on Verizon ThingSpace or Digi Remote Manager
through the library's common ProfileManager interface, against that platform's embedded mock unless its
endpoint is given (--thingspace-url with the app key and secret, user, password, account and a callback URL
ThingSpace can reach; --digirm-url with a user and password or an API key). The JSON fields are the same.`

// addPlatformFlags adds --platform (default sgp02, the command's SGP.02 interface) and the carrier
// settings to app's flags. allowed lists the carrier platforms the command runs on.
func addPlatformFlags(app *cli.App, sgp02 string, carriers ...string) *platformFlags {
	pf := &platformFlags{sgp02: sgp02, allowed: append([]string{sgp02}, carriers...)}
	app.Flags.StringVar(&pf.name, "platform", sgp02, "where the profile is managed: "+strings.Join(pf.allowed, ", "))
	app.EnvVar("platform", "PLATFORM")
	pf.CarrierFlags = cli.AddCarrierFlags(app, carriers...)
	return pf
}

// check refuses a --platform the command does not run on.
func (pf *platformFlags) check(command string) error {
	if slices.Contains(pf.allowed, pf.name) {
		return nil
	}
	return cli.Usagef("--platform %q: %s runs on %s", pf.name, command, strings.Join(pf.allowed, ", "))
}

// carrier reports whether --platform names a carrier platform (not SGP.02).
func (pf *platformFlags) carrier() bool {
	return pf.name == platformThingSpace || pf.name == platformDigiRM
}

// embedded reports whether the carrier platform runs against its embedded mock (no endpoint given).
func (pf *platformFlags) embedded() bool { return pf.Embedded(pf.name) }

// start builds the client of the carrier platform --platform names.
func (pf *platformFlags) start(ctx context.Context, app *cli.App) (*cli.Carrier, error) {
	return pf.Start(ctx, app, pf.name)
}

// ref is the profile a carrier command acts on, with the embedded mock's defaults.
func (pf *platformFlags) ref(eid, iccid *string, defICCID string) (esimgw.ProfileRef, error) {
	if pf.embedded() {
		if *eid == "" {
			*eid = cli.CarrierMockEID
		}
		if *iccid == "" {
			*iccid = defICCID
		}
	}
	switch {
	case *eid == "" && *iccid == "":
		return esimgw.ProfileRef{}, cli.Usagef("--eid and --iccid are required")
	case *eid == "":
		return esimgw.ProfileRef{}, cli.Usagef("--eid is required")
	case *iccid == "":
		return esimgw.ProfileRef{}, cli.Usagef("--iccid is required")
	}
	return esimgw.ProfileRef{EID: *eid, ICCID: *iccid, DeviceID: pf.DeviceID}, nil
}

// carrierRunner is the runner of a carrier platform: no callback server, a result by callback
// (ThingSpace) or by polling (Digi).
func carrierRunner(app *cli.App, t *cli.Carrier, printf func(string, ...any)) *runner {
	what := "its callback"
	if t.Platform == platformDigiRM {
		what = "its result (polling the transaction)"
	}
	return &runner{timeout: app.Timeout, printf: printf, awaiting: what}
}

// auditEIS is the EIS document of a platform-neutral audit (Digi's inventory): the same fields as an
// SGP.02 audit's, with the states spelt as SGP.02 does.
func auditEIS(r *esimgw.AuditResult) *eisJSON {
	e := &eisJSON{EID: r.EID, Profiles: []profileJSON{}}
	for _, p := range r.Profiles {
		e.Profiles = append(e.Profiles, profileJSON{ICCID: p.ICCID, State: sgp02State(p.State), FallbackAttribute: p.Fallback,
			ProfileType: p.Type, Carrier: p.Carrier})
	}
	return e
}

func sgp02State(s esimgw.ProfileState) string {
	switch s {
	case esimgw.ProfileStateEnabled:
		return "Enabled"
	case esimgw.ProfileStateDisabled:
		return "Disabled"
	case esimgw.ProfileStateCreated:
		return "Created"
	}
	return "Unknown"
}

// printAudit prints a platform-neutral audit as a table.
func printAudit(w io.Writer, r *esimgw.AuditResult) {
	fmt.Fprintf(w, "eUICC %s\n", r.EID)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  ICCID\tSTATE\tTYPE\tCARRIER")
	for _, p := range r.Profiles {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", p.ICCID, sgp02State(p.State), cmpOr(p.Type, "-"), cmpOr(p.Carrier, "-"))
	}
	if len(r.Profiles) == 0 {
		fmt.Fprintln(tw, "  (no profiles)\t\t\t")
	}
	_ = tw.Flush()
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// waitTimeout says which wait ran out, and still matches context.DeadlineExceeded (esimgw.OutcomeOf
// reports it as NO_RESULT).
type waitTimeout struct {
	err error
	msg string
}

func (e *waitTimeout) Error() string { return e.msg }
func (e *waitTimeout) Unwrap() error { return e.err }

// waitOp waits for op within the runner's --timeout.
func waitOp[T any](ctx context.Context, r *runner, op *esimgw.Operation[T]) (T, error) {
	if r.session != nil {
		return cli.Wait(ctx, r.session, op)
	}
	wctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	v, err := op.Wait(wctx)
	if err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		err = &waitTimeout{err: err, msg: fmt.Sprintf("no result of %s %s within --timeout %s (FunctionCallIdentifier %s); it may still come",
			op.Interface(), op.Function(), r.timeout, op.FunctionCallIdentifier())}
	}
	return v, err
}

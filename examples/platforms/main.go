// Command platforms runs the very same enable, written once against esimgw.ProfileManager, on an SGP.02
// SM-SR over ES4, on Verizon ThingSpace and on Digi Remote Manager. The three platforms deliver the result
// differently (a SOAP callback, a JSON callback, a polled transaction); the code does not change.
//
// Without endpoint flags each platform is its embedded mock, and the mocks share their seeded eUICC and
// profiles, so this enables the same profile three times:
//
//	go run ./examples/platforms
//
// Any platform can be a real one, with the same settings as the esimgw CLI's --platform (see -h), and
// -platforms chooses which run:
//
//	go run ./examples/platforms -platforms digirm -eid $EID -iccid $ICCID \
//		-digirm-url https://remotemanager.digi.com/ws/v1/esim_profiles -digirm-api-key-id $ID -digirm-api-key-secret $SECRET
//
// Every flag falls back to an ESIMGW_* environment variable.
package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/internal/cli"
)

const name = "esimgw-platforms"

const doc = `Usage: platforms [flags] [-platforms es4,thingspace,digirm] -eid EID -iccid ICCID

Runs the same enable through esimgw.ProfileManager on ES4, Verizon ThingSpace and Digi Remote Manager and
waits for each result. A platform without its endpoint (-es4-url or -kpn, -thingspace-url, -digirm-url)
runs against its embedded mock; when every chosen platform does, -eid and -iccid default to the mocks'
shared seed (-eid ` + gatewaytest.DefaultEID + ` -iccid ` + gatewaytest.DefaultDisabledICCID + `).`

// platformES4 is -platforms' value for ES4; the carriers' are cli.PlatformThingSpace and cli.PlatformDigiRM.
const platformES4 = "es4"

func main() { os.Exit(cli.Main(name, run)) }

func run(ctx context.Context, env cli.Env, args []string, stdout, stderr io.Writer) error {
	app := cli.New(name, doc, cli.NeedES4, env, stdout, stderr)
	eid := app.Flags.String("eid", "", "EID of the eUICC")
	iccid := app.Flags.String("iccid", "", "ICCID of the profile to enable")
	var platforms cli.Strings
	app.Flags.Var(&platforms, "platforms", "the platforms to run on, in order (comma-separated; default es4,thingspace,digirm)")
	app.EnvVar("eid", "EID")
	app.EnvVar("iccid", "ICCID")
	app.EnvVar("platforms", "PLATFORMS")
	carriers := cli.AddCarrierFlags(app, cli.PlatformThingSpace, cli.PlatformDigiRM)
	if err := app.Parse(args); err != nil {
		return err
	}
	allPlatforms := []string{platformES4, cli.PlatformThingSpace, cli.PlatformDigiRM}
	if len(platforms) == 0 {
		platforms = allPlatforms
	}
	embedded := true
	for _, p := range platforms {
		switch {
		case !slices.Contains(allPlatforms, p):
			return cli.Usagef("-platforms: unknown platform %q (es4, thingspace, digirm)", p)
		case p == platformES4:
			embedded = embedded && app.Embedded()
		default:
			embedded = embedded && carriers.Embedded(p)
		}
	}
	if embedded {
		*eid, *iccid = cmp.Or(*eid, gatewaytest.DefaultEID), cmp.Or(*iccid, gatewaytest.DefaultDisabledICCID)
	}
	if *eid == "" || *iccid == "" {
		return cli.Usagef("-eid and -iccid are required when a platform is not its embedded mock")
	}
	ref := esimgw.ProfileRef{EID: *eid, ICCID: *iccid, DeviceID: carriers.DeviceID}
	if err := ref.Validate(); err != nil {
		return err
	}
	for _, p := range platforms {
		if err := onPlatform(ctx, app, carriers, p, ref); err != nil {
			return err
		}
	}
	return nil
}

// onPlatform starts platform's client (and mock) and runs enable on it.
func onPlatform(ctx context.Context, app *cli.App, carriers *cli.CarrierFlags, platform string, ref esimgw.ProfileRef) error {
	var m esimgw.ProfileManager
	if platform == platformES4 {
		s, err := app.Start(ctx, cli.StartOptions{})
		if err != nil {
			return err
		}
		defer s.Close()
		s.Describe()
		m = s.ES4.Manager()
	} else {
		c, err := carriers.Start(ctx, app, platform)
		if err != nil {
			return err
		}
		defer c.Close()
		c.Describe()
		m = c.Manager
	}
	return enable(ctx, app.Stdout, app.Timeout, m, ref)
}

// enable is the code that runs unchanged on every platform.
func enable(ctx context.Context, w io.Writer, timeout time.Duration, m esimgw.ProfileManager, ref esimgw.ProfileRef) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	op, err := m.Enable(ctx, ref)
	if err != nil {
		return err // a *esimgw.ValidationError: nothing was sent
	}
	fmt.Fprintf(w, "-> %s %s sent, waiting for its result\n", m.Platform(), op.Function())
	r, err := op.Wait(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", m.Platform(), err) // a *esimgw.FunctionError when the platform refused it
	}
	fmt.Fprintf(w, "<- %s %s: %s\nprofile %s is enabled on %s (%s)\n\n", m.Platform(), op.Function(),
		cli.FormatOutcome(r.Outcome()), ref.ICCID, ref.EID, m.Platform())
	return nil
}

// Command fallback gives a profile the fall-back attribute with ES4 SetFallBackAttribute (SGP.02 v4.0) and
// waits for the SM-SR's callback. The eUICC enables the fall-back profile by itself when it loses the
// network with the enabled one; the attribute moves from the profile that had it.
//
// Without gateway flags it runs against an embedded mock gateway:
//
//	go run ./examples/fallback
//
// Against KPN's RSP Gateway, which runs SetFallBackAttribute with a fixed 720 s validity (kpn.md R10), so
// the program waits up to 14 minutes unless -timeout says otherwise:
//
//	go run ./examples/fallback -kpn -eid $EID -iccid $ICCID \
//		-cert client.crt -key client.key -entity-id $MY_OID \
//		-listen :8443 -replyto https://callbacks.example.com:8443/ \
//		-callback-cert callbacks.crt -callback-key callbacks.key -callback-ca kpn-client-ca.pem
//
// Every flag falls back to an ESIMGW_* environment variable (see -h).
package main

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/examples/internal/cli"
	"github.com/esimgw/esimgw/gatewaytest"
)

const name = "esimgw-fallback"

const doc = `Usage: fallback [flags] -eid EID -iccid ICCID

Sets the fall-back profile with ES4 SetFallBackAttribute and waits for the callback (with -kpn up to
720 s + 2 min unless -timeout is given). Without -kpn or gateway flags it runs against an embedded mock
gateway (default -eid ` + gatewaytest.DefaultEID + ` -iccid ` + gatewaytest.DefaultDisabledICCID + `).`

func main() { os.Exit(cli.Main(name, run)) }

func run(ctx context.Context, env cli.Env, args []string, stdout, stderr io.Writer) error {
	app := cli.New(name, doc, cli.NeedES4, env, stdout, stderr)
	eid := app.Flags.String("eid", "", "EID of the eUICC")
	iccid := app.Flags.String("iccid", "", "ICCID of the profile to make the fall-back profile")
	app.EnvVar("eid", "EID")
	if err := app.Parse(args); err != nil {
		return err
	}
	if err := cli.Defaults(app, eid, iccid, gatewaytest.DefaultEID, gatewaytest.DefaultDisabledICCID); err != nil {
		return err
	}
	if app.KPN && !app.TimeoutSet {
		app.Timeout = esimgw.KPNSetFallBackValidity + 2*time.Minute
	}
	s, err := app.Start(ctx, cli.StartOptions{})
	if err != nil {
		return err
	}
	defer s.Close()
	s.Describe()
	_, err = cli.Do(ctx, s, func(ctx context.Context) (*esimgw.Operation[*esimgw.Result], error) {
		return s.ES4.SetFallBackAttribute(ctx, *eid, *iccid)
	})
	if err != nil {
		return err
	}
	s.Printf("profile %s is the fall-back profile of %s\n", *iccid, *eid)
	return nil
}

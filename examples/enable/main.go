// Command enable enables a profile on an eUICC with ES4 EnableProfile and waits for the SM-SR's callback,
// which is the only completion signal: KPN sends no ProfileEnabled notification for an enable you asked
// for (kpn.md R9). The profile enabled before is disabled by the eUICC.
//
// Without gateway flags it runs against an embedded mock gateway and enables one of its seeded profiles:
//
//	go run ./examples/enable
//
// Against KPN's RSP Gateway (ES4 EnableProfile is in KPN's subset):
//
//	go run ./examples/enable -kpn -eid $EID -iccid $ICCID \
//		-cert client.crt -key client.key -entity-id $MY_OID [-provider-entity-id $VENDOR_OID] \
//		-listen :8443 -replyto https://callbacks.example.com:8443/ \
//		-callback-cert callbacks.crt -callback-key callbacks.key -callback-ca kpn-client-ca.pem
//
// Every flag falls back to an ESIMGW_* environment variable (see -h).
package main

import (
	"context"
	"io"
	"os"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/examples/internal/cli"
	"github.com/esimgw/esimgw/gatewaytest"
)

const name = "esimgw-enable"

const doc = `Usage: enable [flags] -eid EID -iccid ICCID

Enables a profile with ES4 EnableProfile and waits for the callback. Without -kpn or gateway flags it
runs against an embedded mock gateway (default -eid ` + gatewaytest.DefaultEID + `
-iccid ` + gatewaytest.DefaultDisabledICCID + `).`

func main() { os.Exit(cli.Main(name, run)) }

func run(ctx context.Context, env cli.Env, args []string, stdout, stderr io.Writer) error {
	app := cli.New(name, doc, cli.NeedES4, env, stdout, stderr)
	eid := app.Flags.String("eid", "", "EID of the eUICC")
	iccid := app.Flags.String("iccid", "", "ICCID of the profile to enable")
	app.EnvVar("eid", "EID")
	if err := app.Parse(args); err != nil {
		return err
	}
	if err := cli.Defaults(app, eid, iccid, gatewaytest.DefaultEID, gatewaytest.DefaultDisabledICCID); err != nil {
		return err
	}
	s, err := app.Start(ctx, cli.StartOptions{})
	if err != nil {
		return err
	}
	defer s.Close()
	s.Describe()
	_, err = cli.Do(ctx, s, func(ctx context.Context) (*esimgw.Operation[*esimgw.Result], error) {
		return s.ES4.EnableProfile(ctx, *eid, *iccid)
	})
	if err != nil {
		return err
	}
	s.Printf("profile %s is enabled on %s\n", *iccid, *eid)
	return nil
}

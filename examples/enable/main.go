// Command enable enables a profile on an eUICC with ES4 EnableProfile and waits for the SM-SR's callback,
// which is the only completion signal: KPN sends no ProfileEnabled notification for an enable you asked
// for (docs/kpn.md R9). The profile enabled before is disabled by the eUICC.
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
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/internal/cli"
)

const name = "esimgw-enable"

const doc = `Usage: enable [flags] -eid EID -iccid ICCID

Enables a profile with ES4 EnableProfile and waits for the callback. Without -kpn or gateway flags it
runs against an embedded mock gateway (default -eid ` + gatewaytest.DefaultEID + `
-iccid ` + gatewaytest.DefaultDisabledICCID + `).`

// command is this program: one asynchronous function on one profile.
func command() cli.ProfileCommand {
	return cli.ProfileCommand{
		Name:         name,
		Doc:          doc,
		Needs:        cli.NeedES4,
		ICCIDUsage:   "ICCID of the profile to enable",
		DefaultICCID: gatewaytest.DefaultDisabledICCID,
		Call: func(ctx context.Context, s *cli.Session, eid, iccid string) (*esimgw.Operation[*esimgw.Result], error) {
			return s.ES4.EnableProfile(ctx, eid, iccid)
		},
		Done: "profile %s is enabled on %s\n",
	}
}

func main() { os.Exit(cli.Main(name, run)) }

func run(ctx context.Context, env cli.Env, args []string, stdout, stderr io.Writer) error {
	return command().Run(ctx, env, args, stdout, stderr)
}

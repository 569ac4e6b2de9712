// Command disable disables a profile with ES2 DisableProfile: the SM-DP has the eUICC's SM-SR disable it, and the
// eUICC then enables its fall-back profile. It waits for the SM-DP's callback.
//
// Without gateway flags it runs against an embedded mock gateway:
//
//	go run ./examples/disable
//
// Against KPN's RSP Gateway (ES2 DisableProfile is in KPN's subset; KPN checks access with the SM-SR ID):
//
//	go run ./examples/disable -kpn -eid $EID -iccid $ICCID -smsr-id $SMSR_OID \
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

const name = "esimgw-disable"

const doc = `Usage: disable [flags] -eid EID -iccid ICCID

Disables a profile with ES2 DisableProfile (the eUICC falls back to its fall-back profile) and waits for the callback.
Without -kpn or gateway flags it runs against an embedded mock gateway (default -eid ` + gatewaytest.DefaultEID + `
-iccid ` + gatewaytest.DefaultEnabledICCID + `).`

// command is this program: one asynchronous function on one profile.
func command() cli.ProfileCommand {
	return cli.ProfileCommand{
		Name:         name,
		Doc:          doc,
		Needs:        cli.NeedES2,
		ICCIDUsage:   "ICCID of the profile to disable",
		DefaultICCID: gatewaytest.DefaultEnabledICCID,
		Call: func(ctx context.Context, s *cli.Session, eid, iccid string) (*esimgw.Operation[*esimgw.Result], error) {
			return s.ES2.DisableProfile(ctx, eid, iccid)
		},
		Done: "profile %s is disabled on %s\n",
	}
}

func main() { os.Exit(cli.Main(name, run)) }

func run(ctx context.Context, env cli.Env, args []string, stdout, stderr io.Writer) error {
	return command().Run(ctx, env, args, stdout, stderr)
}

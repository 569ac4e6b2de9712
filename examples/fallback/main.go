// Command fallback gives a profile the fall-back attribute with ES4 SetFallBackAttribute (SGP.02 v4.0) and
// waits for the SM-SR's callback. The eUICC enables the fall-back profile by itself when it loses the
// network with the enabled one; the attribute moves from the profile that had it.
//
// Without gateway flags it runs against an embedded mock gateway:
//
//	go run ./examples/fallback
//
// Against KPN's RSP Gateway, which runs SetFallBackAttribute with a fixed 720 s validity (docs/kpn.md R10), so
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
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/internal/cli"
)

const name = "esimgw-fallback"

const doc = `Usage: fallback [flags] -eid EID -iccid ICCID

Sets the fall-back profile with ES4 SetFallBackAttribute and waits for the callback (with -kpn up to
720 s + 2 min unless -timeout is given). Without -kpn or gateway flags it runs against an embedded mock
gateway (default -eid ` + gatewaytest.DefaultEID + ` -iccid ` + gatewaytest.DefaultDisabledICCID + `).`

// command is this program: one asynchronous function on one profile.
func command() cli.ProfileCommand {
	return cli.ProfileCommand{
		Name:         name,
		Doc:          doc,
		Needs:        cli.NeedES4,
		ICCIDUsage:   "ICCID of the profile to make the fall-back profile",
		DefaultICCID: gatewaytest.DefaultDisabledICCID,
		KPNWait:      esimgw.KPNSetFallBackValidity + 2*time.Minute,
		Call: func(ctx context.Context, s *cli.Session, eid, iccid string) (*esimgw.Operation[*esimgw.Result], error) {
			return s.ES4.SetFallBackAttribute(ctx, eid, iccid)
		},
		Done: "profile %s is the fall-back profile of %s\n",
	}
}

func main() { os.Exit(cli.Main(name, run)) }

func run(ctx context.Context, env cli.Env, args []string, stdout, stderr io.Writer) error {
	return command().Run(ctx, env, args, stdout, stderr)
}

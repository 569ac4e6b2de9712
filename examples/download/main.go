// Command download asks the SM-DP to download a profile to an eUICC with ES2 DownloadProfile, by ICCID or
// by ProfileType (the SM-DP then picks the profile), optionally enabling it once installed, and waits for
// the SM-DP's callback, which names the ICCID downloaded.
//
// Without gateway flags it runs against an embedded mock gateway and downloads a catalogue profile:
//
//	go run ./examples/download -enable
//	go run ./examples/download -profile-type esimgw-test-iot
//
// Against KPN's RSP Gateway (ES2 DownloadProfile is in KPN's subset; KPN checks access with the SM-SR ID):
//
//	go run ./examples/download -kpn -eid $EID -profile-type $TYPE -enable -smsr-id $SMSR_OID \
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
	"github.com/esimgw/esimgw/es2"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/internal/cli"
)

const name = "esimgw-download"

const doc = `Usage: download [flags] -eid EID (-iccid ICCID | -profile-type TYPE) [-enable]

Downloads a profile with ES2 DownloadProfile, by ICCID or ProfileType, with or without enabling it, and
waits for the callback. Without -kpn or gateway flags it runs against an embedded mock gateway (default
-eid ` + gatewaytest.DefaultEID + ` -iccid ` + gatewaytest.CatalogICCID + `).`

func main() { os.Exit(cli.Main(name, run)) }

func run(ctx context.Context, env cli.Env, args []string, stdout, stderr io.Writer) error {
	app := cli.New(name, doc, cli.NeedES2, env, stdout, stderr)
	req := es2.DownloadRequest{}
	app.Flags.StringVar(&req.Eid, "eid", "", "EID of the eUICC")
	app.Flags.StringVar(&req.Iccid, "iccid", "", "ICCID of the profile to download")
	app.Flags.StringVar(&req.ProfileType, "profile-type", "", "download a profile of this ProfileType instead (the SM-DP picks it)")
	app.Flags.BoolVar(&req.Enable, "enable", false, "enable the profile once installed")
	app.EnvVar("eid", "EID")
	if err := app.Parse(args); err != nil {
		return err
	}
	if err := cli.DownloadTarget(app, &req.Eid, &req.Iccid, &req.ProfileType); err != nil {
		return err
	}
	if err := req.Validate(); err != nil {
		return err
	}
	s, err := app.Start(ctx, cli.StartOptions{})
	if err != nil {
		return err
	}
	defer s.Close()
	s.Describe()
	res, err := cli.Do(ctx, s, func(ctx context.Context) (*esimgw.Operation[*esimgw.DownloadResult], error) {
		return s.ES2.DownloadProfile(ctx, req)
	})
	if err != nil {
		return err
	}
	state := "installed (disabled)"
	if req.Enable {
		state = "installed and enabled"
	}
	s.Printf("profile %s is %s on %s\n", res.Iccid, state, req.Eid)
	return nil
}

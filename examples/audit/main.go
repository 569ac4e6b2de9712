// Command audit has the SM-SR read eUICCs again (ES4 AuditEIS, asynchronous: the refreshed EIS arrives
// as a callback) and prints each eUICC's profiles as a table. With several EIDs (-eid repeated, or -eids
// FILE with one EID a line) it audits the fleet with bounded concurrency (package bulk), draws a progress
// bar on stderr and prints one line per eUICC.
//
// Without gateway flags it runs against an embedded mock gateway:
//
//	go run ./examples/audit
//	go run ./examples/audit -eid 89049032000001000000000000000171 -eid 89049032000001000000000000000268
//
// Against KPN's RSP Gateway (ES4 AuditEIS is in KPN's subset):
//
//	go run ./examples/audit -kpn -eid $EID \
//		-cert client.crt -key client.key -entity-id $MY_OID \
//		-listen :8443 -replyto https://callbacks.example.com:8443/ \
//		-callback-cert callbacks.crt -callback-key callbacks.key -callback-ca kpn-client-ca.pem
//
// Every flag falls back to an ESIMGW_* environment variable (see -h).
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/bulk"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/internal/cli"
)

const name = "esimgw-audit"

const doc = `Usage: audit [flags] [-eid EID ...] [-eids FILE]

Audits eUICCs with ES4 AuditEIS and prints their profiles. Without -kpn or gateway flags it runs
against an embedded mock gateway (and audits its eUICC ` + gatewaytest.DefaultEID + ` by default).`

func main() { os.Exit(cli.Main(name, run)) }

func run(ctx context.Context, env cli.Env, args []string, stdout, stderr io.Writer) error {
	app := cli.New(name, doc, cli.NeedES4, env, stdout, stderr)
	var eids, iccids cli.Strings
	app.Flags.Var(&eids, "eid", "EID of an eUICC to audit (repeat, or comma-separate, for several)")
	eidFile := app.Flags.String("eids", "", "file with one EID a line to audit ('#' comments and blank lines skipped)")
	app.Flags.Var(&iccids, "iccid", "audit only this profile (repeatable; default: every profile)")
	concurrency := app.Flags.Int("concurrency", 8, "audits in flight at once for several EIDs")
	app.EnvVar("eid", "EID")
	if err := app.Parse(args); err != nil {
		return err
	}
	if *eidFile != "" {
		f, err := os.Open(*eidFile)
		if err != nil {
			return fmt.Errorf("-eids: %w", err)
		}
		defer f.Close()
		src := bulk.Lines(f)
		for {
			eid, ok, err := src.Next(ctx)
			if err != nil {
				return fmt.Errorf("-eids %s: %w", *eidFile, err)
			}
			if !ok {
				break
			}
			eids = append(eids, eid)
		}
	}
	if len(eids) == 0 {
		if !app.Embedded() {
			return cli.Usagef("give -eid or -eids")
		}
		eids = cli.Strings{gatewaytest.DefaultEID}
	}
	for _, eid := range eids {
		if err := esimgw.ValidateEID(eid); err != nil {
			return err
		}
	}
	for _, iccid := range iccids {
		if err := esimgw.ValidateICCID(iccid); err != nil {
			return err
		}
	}

	s, err := app.Start(ctx, cli.StartOptions{})
	if err != nil {
		return err
	}
	defer s.Close()
	s.Describe()

	if len(eids) == 1 {
		res, err := cli.Do(ctx, s, func(ctx context.Context) (*esimgw.Operation[*esimgw.EISResult], error) {
			return s.ES4.AuditEIS(ctx, eids[0], iccids)
		})
		if err != nil {
			return err
		}
		cli.PrintEIS(s.Out(), "", eids[0], res.EIS)
		return nil
	}

	bar := bulk.NewProgressBar(app.Stderr, bulk.WithLabel("audit "))
	sum, err := bulk.Run(ctx, bulk.Slice(eids), func(ctx context.Context, eid string) (*esimgw.EISResult, error) {
		return audit(ctx, s, eid, iccids)
	}, func(o bulk.Outcome[*esimgw.EISResult]) {
		if o.Err != nil {
			s.Printf("%s  %s\n", o.EID, cli.FormatOutcome(esimgw.OutcomeOf(nil, o.Err)))
			return
		}
		enabled, n := "-", 0
		if o.Value.EIS != nil {
			n = len(o.Value.EIS.ProfileInfo)
			if e := cli.EnabledICCID(o.Value.EIS); e != "" {
				enabled = e
			}
		}
		s.Printf("%s  %s  profiles=%d enabled=%s\n", o.EID, cli.FormatOutcome(o.Value.Outcome()), n, enabled)
	}, bulk.WithConcurrency(*concurrency), bulk.WithProgress(bar.Update))
	if err != nil {
		return err
	}
	if sum.Failed > 0 {
		return fmt.Errorf("%d of %d audits failed", sum.Failed, sum.Read)
	}
	return nil
}

// audit sends AuditEIS for one eUICC of a fleet and waits for its callback.
func audit(ctx context.Context, s *cli.Session, eid string, iccids []string) (*esimgw.EISResult, error) {
	cctx, cancel := s.Call(ctx)
	defer cancel()
	op, err := s.ES4.AuditEIS(cctx, eid, iccids)
	if err != nil {
		return nil, err
	}
	return cli.Wait(ctx, s, op)
}

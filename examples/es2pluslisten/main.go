// Command es2pluslisten receives SGP.22 ES2+ HandleDownloadProgressInfo webhooks, the JSON an SM-DP+
// (Telna's, for example) posts for each step of a consumer/IoT profile download, and prints each step once:
// duplicates are acknowledged without being printed again, invalid messages are refused with 400. The
// webhook handler (package es2plus) is mounted at es2plus.Path on the same mutual-TLS callback server that
// takes SGP.02 callbacks and notifications (callback.WithRoute), and feeds a progress.Board whose final
// state is printed at the end.
//
// Without gateway flags it starts an embedded mock gateway whose SM-DP+ mode posts a whole download
// sequence (BPP downloaded, installed, enabled):
//
//	go run ./examples/es2pluslisten -count 3
//
// In production, give the SM-DP+ https://<your public name>:8443/gsma/rsp2/es2plus/handleDownloadProgressInfo
// and run:
//
//	go run ./examples/es2pluslisten -listen :8443 \
//		-callback-cert callbacks.crt -callback-key callbacks.key -callback-ca smdpplus-client-ca.pem
//
// Every flag falls back to an ESIMGW_* environment variable (see -h).
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/esimgw/esimgw/callback"
	"github.com/esimgw/esimgw/es2plus"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/internal/cli"
	"github.com/esimgw/esimgw/progress"
)

const name = "esimgw-es2pluslisten"

const doc = `Usage: es2pluslisten [flags]

Receives ES2+ HandleDownloadProgressInfo webhooks at ` + es2plus.Path + ` (and SGP.02 callbacks
and notifications at /) and prints each download step once, until interrupted, -count steps arrived or
-timeout (when given) passed. Without callback certificate flags it starts an embedded mock gateway whose
SM-DP+ mode posts a download sequence.`

func main() { os.Exit(cli.Main(name, run)) }

func run(ctx context.Context, env cli.Env, args []string, stdout, stderr io.Writer) error {
	app := cli.New(name, doc, 0, env, stdout, stderr)
	count := app.Flags.Int("count", 0, "stop after this many download steps (0: run until interrupted)")
	if err := app.Parse(args); err != nil {
		return err
	}
	if *count < 0 {
		return cli.Usagef("-count must not be negative")
	}
	steps := cli.NewCounter(*count)
	board := progress.NewBoard(progress.WithMaxEntries(100000))
	printAndFeed := es2plus.FeedBoard(board, es2plus.HandlerFunc(
		func(ctx context.Context, n *es2plus.DownloadProgressInfo) error {
			fmt.Fprintln(app.Stdout, formatStep(n))
			return nil
		}))
	// Counted once the board has the step too, so that the board printed at the end is complete.
	handler := es2plus.NewHTTPHandler(es2plus.HandlerFunc(func(ctx context.Context, n *es2plus.DownloadProgressInfo) error {
		if err := printAndFeed.HandleDownloadProgressInfo(ctx, n); err != nil {
			return err
		}
		steps.Add()
		return nil
	}), es2plus.WithLogger(app.Logger))

	opts := app.PrintingOptions(cli.NewCounter(0))
	opts.Server = append(opts.Server, callback.WithRoute(es2plus.Path, handler))
	s, err := app.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer s.Close()
	s.Describe()
	base := s.Server.URL()
	s.Printf("ES2+ webhooks at %s%s\n", base, es2plus.Path)
	if app.TimeoutSet {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, app.Timeout)
		defer cancel()
	}
	s.Printf("listening; stop with Ctrl-C\n")

	if gw := s.Gateway; gw != nil {
		s.Printf("embedded mock (SM-DP+ mode): downloading %s to %s, one message sent twice\n",
			gatewaytest.CatalogICCID, gatewaytest.DefaultEID)
		go func() {
			_, err := gw.SendDownloadProgress(ctx, base, gatewaytest.DownloadSequence{
				EID: gatewaytest.DefaultEID, ICCID: gatewaytest.CatalogICCID, ProfileType: gatewaytest.CatalogProfileType,
				Duplicate: es2plus.PointBPPInstalled,
			})
			if err != nil && ctx.Err() == nil {
				fmt.Fprintf(app.Stderr, "%s: the mock SM-DP+: %s\n", name, cli.Message(err))
			}
		}()
	}
	select {
	case <-steps.Done():
	case <-ctx.Done():
	}
	s.Printf("%d download steps received\n", steps.Count())
	for _, e := range board.Snapshot() {
		s.Printf("board: %s eid=%s stage=%s outcome=%s (%d events)\n", e.ICCID, e.EID, e.Stage, e.Outcome, e.Events)
	}
	return nil
}

// formatStep renders one notification on one line.
func formatStep(n *es2plus.DownloadProgressInfo) string {
	line := fmt.Sprintf("es2+ %s %s eid=%s iccid=%s", n.NotificationPointID, n.NotificationPointStatus.Status, n.EID, n.ICCID)
	if ev, ok := es2plus.ProgressEvent(n); ok {
		line += " stage=" + ev.Stage.String()
	}
	if n.Result != nil {
		line += " result=" + n.Result.Summary()
	}
	return line + " functionCallIdentifier=" + n.Header.FunctionCallIdentifier
}

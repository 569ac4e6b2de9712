// Command quickstart shows the whole esimgw flow in a few seconds on a fresh machine, with nothing else
// installed and no network: it starts the embedded mock gateway (package gatewaytest: an SM-SR on ES4 and
// an SM-DP on ES2 over mutual TLS, with a throw-away CA), audits an eUICC, downloads and enables a
// profile step by step, lets the device switch profile on its own so that the gateway sends
// notifications, audits again and lists what went over the wire. It is the README's first command:
//
//	go run ./examples/quickstart
//
// The same calls against KPN's RSP Gateway are the other example programs with -kpn (see their -h):
// examples/audit, examples/download, examples/enable and examples/listen.
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
	"github.com/esimgw/esimgw/es2"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/internal/cli"
)

const name = "esimgw-quickstart"

const doc = `Usage: quickstart [-v]

Runs the whole esimgw flow against an embedded mock gateway and prints what happens, step by step:
audit an eUICC, download and enable a profile, receive notifications, audit again.`

func main() { os.Exit(cli.Main(name, run)) }

func run(ctx context.Context, env cli.Env, args []string, stdout, stderr io.Writer) error {
	app := cli.New(name, doc, cli.NeedES2|cli.NeedES4|cli.MockOnly, env, stdout, stderr)
	if err := app.Parse(args); err != nil {
		return err
	}
	began := time.Now()
	ctx, cancel := context.WithTimeout(ctx, app.Timeout)
	defer cancel()

	// Every notification is printed; the Watcher in front lets Activate wait for the one about its profile.
	notes := make(chan *esimgw.Notification, 16)
	watcher := es2.NewWatcher(esimgw.NotificationHandlerFunc(func(ctx context.Context, n *esimgw.Notification) error {
		fmt.Fprintln(app.Stdout, "   "+cli.FormatNotification(n))
		select {
		case notes <- n:
		default:
		}
		return nil
	}))
	s, err := app.Start(ctx, cli.StartOptions{Notifications: watcher})
	if err != nil {
		return err
	}
	defer s.Close()
	gw := s.Gateway
	s.Indent = "   "
	eid := gatewaytest.DefaultEID

	s.Printf("esimgw quickstart: the whole flow against an embedded mock gateway, no network or files needed.\n\n")
	s.Printf("1. Started a mock SM-SR (ES4) and SM-DP (ES2) at https://%s, with a throw-away CA,\n", gw.Addr())
	s.Printf("   and your callback server at %s. Both directions use mutual TLS.\n", s.ReplyTo)
	s.Printf("   Your EntityId is %s; asynchronous results come back to that replyTo address.\n\n", s.EntityID)

	s.Printf("2. Audit eUICC %s (ES4 AuditEIS): the SM-SR answers 202 at once and posts the result later.\n", eid)
	res, err := cli.Do(ctx, s, func(ctx context.Context) (*esimgw.Operation[*esimgw.EISResult], error) {
		return s.ES4.AuditEIS(ctx, eid, nil)
	})
	if err != nil {
		return err
	}
	cli.PrintEIS(s.Out(), "   ", eid, res.EIS)
	s.Printf("\n")

	s.Printf("3. Download profile %s and enable it (ES2 DownloadProfile with EnableProfile=true),\n", gatewaytest.CatalogICCID)
	s.Printf("   verified by the ES2 HandleProfileEnabledNotification (es2.Activate reports each step):\n")
	a, err := s.ES2.Activate(ctx, es2.ActivateRequest{Eid: eid, Iccid: gatewaytest.CatalogICCID},
		es2.WithNotificationVerifier(watcher),
		es2.WithVerifyTimeout(10*time.Second),
		es2.WithStepReporter(func(st es2.Step) {
			line := "   step " + string(st.Name)
			if st.Detail != "" {
				line += ": " + st.Detail
			}
			fmt.Fprintln(app.Stdout, line)
		}))
	if err != nil {
		return err
	}
	s.Printf("   => %s enabled=%v verified by %s\n\n", cli.FormatOutcome(a.Outcome()), a.Enabled, a.VerifiedBy)
	drain(notes)

	s.Printf("4. The device switches back to %s on its own (simulated): nobody asked, so the gateway\n", gatewaytest.DefaultEnabledICCID)
	s.Printf("   sends notifications (this mock on ES4 and ES2; KPN sends ES4 ProfileEnabled/ProfileDisabled).\n")
	if err := gw.SimulateLocalEnable(eid, gatewaytest.DefaultEnabledICCID); err != nil {
		return fmt.Errorf("simulating a local enable: %w", err)
	}
	for got := 0; got < 4; got++ { // Enabled and Disabled, on ES4 and ES2
		select {
		case <-notes:
		case <-time.After(10 * time.Second):
			return fmt.Errorf("only %d of the 4 notifications arrived", got)
		}
	}
	s.Printf("\n")

	s.Printf("5. Audit again: the final state.\n")
	res, err = cli.Do(ctx, s, func(ctx context.Context) (*esimgw.Operation[*esimgw.EISResult], error) {
		return s.ES4.AuditEIS(ctx, eid, nil)
	})
	if err != nil {
		return err
	}
	cli.PrintEIS(s.Out(), "   ", eid, res.EIS)
	s.Printf("\n")

	s.Printf("6. What went over the wire, as the mock recorded it:\n")
	printWire(s, gw)

	s.Printf("\nDone in %s. Next:\n", time.Since(began).Round(10*time.Millisecond))
	s.Printf("  go run ./examples/audit -h        every example takes -h, and -kpn for KPN's RSP Gateway\n")
	s.Printf("  go run ./examples/listen -count 4 print the notifications a gateway sends\n")
	s.Printf("  go run ./examples/mockgateway     the mock as a process, for other languages\n")
	return nil
}

// printWire lists requests, callbacks and notifications in the order they happened.
func printWire(s *cli.Session, gw *gatewaytest.Gateway) {
	type line struct {
		t    time.Time
		text string
	}
	var lines []line
	for _, r := range gw.Requests() {
		text := fmt.Sprintf("   request      %s %-20s from %s", r.Interface, r.Function, r.Header.From)
		if r.Status != "" {
			text += " -> " + string(r.Status)
		}
		lines = append(lines, line{r.Time, text})
	}
	for _, c := range gw.Callbacks() {
		lines = append(lines, line{c.Time, fmt.Sprintf("   callback     %s %-20s %s", c.Interface, c.Function, c.Status)})
	}
	for _, n := range gw.Notifications() {
		lines = append(lines, line{n.Time, fmt.Sprintf("   notification %s %s", n.Interface, n.Function)})
	}
	slices.SortStableFunc(lines, func(a, b line) int { return cmp.Compare(a.t.UnixNano(), b.t.UnixNano()) })
	for _, l := range lines {
		s.Printf("%s\n", l.text)
	}
}

func drain(ch <-chan *esimgw.Notification) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

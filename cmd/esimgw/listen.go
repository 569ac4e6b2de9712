package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/callback"
	"github.com/esimgw/esimgw/internal/cli"
)

// errStopping refuses a message that arrived after --count was reached.
var errStopping = errors.New("esimgw listen: stopping after --count messages; deliver again later")

func listenCommand(g *globals) *cobra.Command {
	app := g.newApp("listen", 0)
	count := app.Flags.Int("count", 0, "stop after this many messages (0: run until interrupted)")
	healthAddr := app.Flags.String("health", "", "serve /healthz and /readyz at ADDR (plain HTTP, no client certificate), e.g. :8081;\nthe same address as --metrics serves both")
	app.EnvVar("health", "HEALTH")
	cmd := &cobra.Command{
		Use:   "listen",
		Short: "Run the callback server and print every callback and notification",
		Long: `Runs the operator's callback server and prints every message it receives: ES2 and ES4 notifications (state
changes the gateway reports unasked, such as a local switch or a fall-back on the device) and callbacks
nobody here waits for (calls another process sent with this server as replyTo, or sent before a restart),
with their FunctionCallIdentifier. Each is acknowledged only after it was printed. It runs until
interrupted, --count messages arrived or --timeout (when given) passed.

--metrics ADDR (a flag of every command) serves the OpenTelemetry metrics of the callback server and its
dispatcher in the Prometheus text format (docs/telemetry.md lists them); --health ADDR serves /healthz and
/readyz for probes. Both listen without TLS, apart from the callback server's mutual TLS.

Without --kpn or callback certificate flags it starts an embedded mock gateway that simulates a local
profile switch and a fall-back, so notifications arrive at once. Against KPN's RSP Gateway:

  esimgw listen --kpn --listen :8443 --replyto https://callbacks.example.com:8443/ \
    --callback-cert callbacks.crt --callback-key callbacks.key --callback-ca kpn-client-ca.pem \
    --metrics :9464 --health :8081`,
		GroupID: "run",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.resolve(cmd, app); err != nil {
				return err
			}
			if *count < 0 {
				return cli.Usagef("--count must not be negative")
			}
			ctx := cmd.Context()
			counter := cli.NewCounter(*count)
			// Past --count the listener is stopping: a message is refused (500) rather than acknowledged
			// unprinted, so that the gateway delivers it again to the next listener.
			var mu sync.Mutex
			take := func(print func()) error {
				mu.Lock()
				defer mu.Unlock()
				if *count > 0 && counter.Count() >= int64(*count) {
					return errStopping
				}
				print()
				counter.Add()
				return nil
			}
			opts := cli.StartOptions{
				Notifications: esimgw.NotificationHandlerFunc(func(ctx context.Context, n *esimgw.Notification) error {
					return take(func() {
						fmt.Fprintln(app.Stdout, cli.FormatNotification(n))
						g.emit(notificationJSON(n), true)
					})
				}),
				Unmatched: func(ctx context.Context, in *esimgw.Inbound) error {
					return take(func() {
						fmt.Fprintln(app.Stdout, cli.FormatInbound(in))
						g.emit(inboundJSON(in), true)
					})
				},
			}
			var endpoints []*http.Server
			defer func() {
				for _, s := range endpoints {
					sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
					_ = s.Shutdown(sctx)
					cancel()
				}
			}()
			s, err := app.Start(ctx, opts)
			if err != nil {
				return err
			}
			defer func() {
				s.Close()
				// Operations other processes registered in a shared store are theirs to report.
				if t := s.Dispatcher.Tracker(); t != nil && t.Pending() > 0 {
					fmt.Fprintf(app.Stdout, "%d operations still pending\n", t.Pending())
				}
			}()
			var hopts []callback.HealthOption
			for _, c := range s.ReadinessChecks() {
				hopts = append(hopts, callback.WithReadinessCheck(c))
			}
			health := callback.NewHealthHandler(hopts...)
			serve := func(flag, addr string, h http.Handler) error {
				ln, err := net.Listen("tcp", addr)
				if err != nil {
					return usage(fmt.Errorf("--%s %s: %w", flag, addr, err))
				}
				srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
				endpoints = append(endpoints, srv)
				go func() { _ = srv.Serve(ln) }()
				s.Printf("%-9s http://%s\n", flag, ln.Addr())
				return nil
			}
			switch {
			case g.tel.mux != nil && *healthAddr == g.tel.metricsAddr && !strings.HasSuffix(*healthAddr, ":0"):
				g.tel.mux.Handle("/", health) // one address serves /metrics, /healthz and /readyz
			case *healthAddr != "":
				if err := serve("health", *healthAddr, health); err != nil {
					return err
				}
			}
			if err := s.Listen(ctx, counter); err != nil {
				return err
			}
			g.flush()
			if errors.Is(context.Cause(ctx), errInterrupted) {
				return &interruptedError{msg: fmt.Sprintf("interrupted after %d messages", counter.Count()), err: context.Cause(ctx)}
			}
			return nil
		},
	}
	bind(cmd, app)
	return cmd
}

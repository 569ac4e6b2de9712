package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"github.com/esimgw/esimgw/campaign"
	"github.com/esimgw/esimgw/campaign/campaignweb"
)

// withManagerFunc opens the campaigns' database and Manager for a subcommand (campaignCommand's).
type withManagerFunc func(cmd *cobra.Command, key *string, f func(ctx context.Context, m *campaign.Manager, pool *pgxpool.Pool) error) error

// campaignWebJSON is what `campaign web` prints in JSON modes once it serves.
type campaignWebJSON struct {
	URL      string `json:"url"`
	Controls bool   `json:"controls"`
	RiverUI  bool   `json:"riverUI"`
}

// campaignWebCommand serves package campaignweb's pages (and River's UI) until interrupted.
func campaignWebCommand(g *globals, withManager withManagerFunc) *cobra.Command {
	var listen, prefix string
	var controls, noRiverUI bool
	var refresh time.Duration
	cmd := &cobra.Command{
		Use:   "web",
		Short: "Serve a web view of the campaigns: progress bars, throughput, ETA, failed EIDs, River's UI",
		Long: `Serves a small server-rendered web view of the campaigns in --store: every campaign with its per-outcome
progress bar, throughput and ETA; a page per campaign with its outcomes by SGP.02 status and Subject/Reason
code and its failed EIDs, a page at a time; CSV and JSON Lines exports; and River's own UI under /riverui/
(read-only). It is read-only unless --controls adds pause, resume, cancel and retry-failed buttons (POST
forms; cross-origin requests are refused). It authenticates nobody: keep --listen on loopback, or put it
behind your own access control. Stop it with Ctrl-C.`,
		Example: `  esimgw campaign web --store $DB                       # http://127.0.0.1:8080/
  esimgw campaign web --store $DB --listen :8080 --controls --prefix /campaigns`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withManager(cmd, nil, func(ctx context.Context, m *campaign.Manager, _ *pgxpool.Pool) error {
				opts := []campaignweb.Option{campaignweb.WithPrefix(prefix), campaignweb.WithRefresh(refresh), campaignweb.WithLogger(
					slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))}
				if controls {
					opts = append(opts, campaignweb.WithControls())
				}
				if !noRiverUI {
					opts = append(opts, campaignweb.WithRiverUI(m.River()))
				}
				hctx, cancel := context.WithCancel(ctx)
				defer cancel()
				h, err := campaignweb.New(hctx, m, opts...)
				if err != nil {
					return usage(err)
				}
				ln, err := net.Listen("tcp", listen)
				if err != nil {
					return usage(fmt.Errorf("--listen %s: %w", listen, err))
				}
				srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
				served := make(chan error, 1)
				go func() { served <- srv.Serve(ln) }()
				url := "http://" + ln.Addr().String() + strings.TrimSuffix(prefix, "/") + "/"
				if g.table() {
					mode := "read-only"
					if controls {
						mode = "with controls"
					}
					fmt.Fprintf(g.stdout, "serving the campaigns (%s) on %s; stop with Ctrl-C\n", mode, url)
				} else {
					g.emit(campaignWebJSON{URL: url, Controls: controls, RiverUI: !noRiverUI}, false)
				}
				select {
				case err := <-served:
					return fmt.Errorf("--listen %s: %w", listen, err)
				case <-ctx.Done():
				}
				sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer scancel()
				_ = srv.Shutdown(sctx)
				if errors.Is(context.Cause(ctx), errInterrupted) {
					return &interruptedError{msg: "interrupted; the web view stopped", err: context.Cause(ctx)}
				}
				return ctx.Err()
			})
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8080", "address to serve on")
	cmd.Flags().StringVar(&prefix, "prefix", "", "path the pages are served under, e.g. /campaigns (default: the root)")
	cmd.Flags().BoolVar(&controls, "controls", false, "add pause, resume, cancel and retry-failed buttons")
	cmd.Flags().BoolVar(&noRiverUI, "no-riverui", false, "do not serve River's UI under /riverui/")
	cmd.Flags().DurationVar(&refresh, "refresh", 10*time.Second, "how often the pages reload themselves (0: never)")
	return cmd
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/campaign"
	"github.com/esimgw/esimgw/digirm"
	"github.com/esimgw/esimgw/internal/cli"
	"github.com/esimgw/esimgw/thingspace"
)

// campaignJSON is a campaign with its progress (esimgw campaign status, list, create and run).
type campaignJSON struct {
	Key         string        `json:"key"`
	Function    string        `json:"function"`
	Arg         string        `json:"arg,omitempty"`
	State       string        `json:"state"`
	Round       int           `json:"round"`
	Total       int64         `json:"total"`
	Pending     int64         `json:"pending"`
	InFlight    int64         `json:"inFlight"`
	Succeeded   int64         `json:"succeeded"`
	Warnings    int64         `json:"warnings"`
	Failed      int64         `json:"failed"`
	Cancelled   int64         `json:"cancelled"`
	RecentRate  float64       `json:"recentRate"`
	ElapsedMs   int64         `json:"elapsedMs"`
	ByOutcome   []outcomeJSON `json:"byOutcome"`
	Queued      *int64        `json:"queued,omitempty"`     // create: EIDs added
	Duplicates  *int64        `json:"duplicates,omitempty"` // create: EIDs already in the campaign
	BadLines    []badLineJSON `json:"badLines,omitempty"`   // create: refused input lines
	RetryQueued *int64        `json:"retryQueued,omitempty"`
	CreatedAt   string        `json:"createdAt"`
}

type outcomeJSON struct {
	Status      string `json:"status"`
	StatusCode  string `json:"statusCode,omitempty"`
	Description string `json:"description,omitempty"`
	Count       int64  `json:"count"`
}

type badLineJSON struct {
	Line  int64  `json:"line"`
	Text  string `json:"text"`
	Error string `json:"error"`
}

func progressJSON(p campaign.Progress) campaignJSON {
	c := p.Campaign
	j := campaignJSON{Key: c.Key, Function: c.Function, Arg: c.Arg, State: string(c.State), Round: c.Round, Total: p.Total,
		Pending: p.Pending, InFlight: p.InFlight, Succeeded: p.Succeeded, Warnings: p.Warnings, Failed: p.Failed, Cancelled: p.Cancelled,
		RecentRate: p.RecentRate, ElapsedMs: p.Elapsed.Milliseconds(), ByOutcome: []outcomeJSON{}, CreatedAt: c.CreatedAt.UTC().Format(time.RFC3339)}
	for _, o := range p.ByOutcome {
		j.ByOutcome = append(j.ByOutcome, outcomeJSON{Status: string(o.Status), StatusCode: o.StatusCode, Description: o.Description, Count: o.Count})
	}
	return j
}

func printProgress(w io.Writer, p campaign.Progress) {
	c := p.Campaign
	fmt.Fprintf(w, "campaign %s  %s %s  %s  round %d\n", c.Key, c.Function, c.Arg, c.State, c.Round)
	fmt.Fprintf(w, "  total %d  pending %d  in flight %d  succeeded %d  warnings %d  failed %d  cancelled %d  (%.1f/s, %s)\n",
		p.Total, p.Pending, p.InFlight, p.Succeeded, p.Warnings, p.Failed, p.Cancelled, p.RecentRate, p.Elapsed.Round(time.Second))
	if len(p.ByOutcome) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, o := range p.ByOutcome {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\n", o.Status, cli.Dash(o.StatusCode), cli.Dash(o.Description), o.Count)
		}
		_ = tw.Flush()
	}
}

const campaignLong = `Fleet campaigns (package campaign): a named run of one function (ES2, ES4, ThingSpace or DigiRM) over
a list of EIDs, each EID one River job in PostgreSQL (--store), surviving restarts and shared by any number
of worker processes. Every EID's FunctionCallIdentifier (cmp-<key>-<round>-<EID>) is fixed when it is
queued, so a retried job never runs an SGP.02 function twice; ThingSpace and Digi Remote Manager do not
de-duplicate, so their request ID is recorded before a retry could send again, and a retry resumes it.

  esimgw campaign create --store $DB --key fallback-2026-12 --function ES4.SetFallBackAttribute \
    --eids fleet.csv --format csv --rate 200 --burst 20
  esimgw campaign run --store $DB --kpn ...           # a worker: sends, receives the callbacks, records
  esimgw campaign create --store $DB --key ts-1 --function ThingSpace.Enable --eids devices.csv --format csv
  esimgw campaign run --store $DB --platform thingspace --thingspace-url ...   # a worker for ThingSpace too
  esimgw campaign status --store $DB --key fallback-2026-12
  esimgw campaign export --store $DB --key fallback-2026-12 --format jsonl > results.jsonl
  esimgw campaign web --store $DB --listen 127.0.0.1:8080   # progress bars, failed EIDs, River's UI`

func campaignCommand(g *globals) *cobra.Command {
	var dbURL string
	root := &cobra.Command{
		Use:     "campaign",
		Short:   "Create, run, watch and export fleet campaigns (PostgreSQL, River)",
		Long:    campaignLong,
		GroupID: "run",
		Args:    noArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	root.PersistentFlags().StringVar(&dbURL, "store", "", "PostgreSQL URL of the campaigns' database (env ESIMGW_STORE)")
	// withManager opens the database and the Manager for a management subcommand.
	withManager := func(cmd *cobra.Command, key *string, f func(ctx context.Context, m *campaign.Manager, pool *pgxpool.Pool) error) error {
		if !cmd.Flags().Changed("store") {
			if v, ok := g.env("ESIMGW_STORE"); ok {
				dbURL = v
			}
		}
		if dbURL == "" {
			return cli.Usagef("--store is required (the campaigns' PostgreSQL URL)")
		}
		if key != nil && *key == "" {
			return cli.Usagef("--key is required")
		}
		ctx := cmd.Context()
		cfg, err := pgxpool.ParseConfig(dbURL)
		if err != nil {
			return usage(fmt.Errorf("--store: %w", err))
		}
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return fmt.Errorf("--store: %w", err)
		}
		defer pool.Close()
		if err := campaign.Migrate(ctx, pool); err != nil {
			return err
		}
		m, err := campaign.NewManager(pool, campaign.WithManagerLogger(slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: slog.LevelError}))))
		if err != nil {
			return err
		}
		err = f(ctx, m, pool)
		if errors.Is(err, campaign.ErrNotFound) {
			return usage(err)
		}
		return err
	}
	showProgress := func(ctx context.Context, m *campaign.Manager, key string, mod func(*campaignJSON)) error {
		p, err := m.Progress(ctx, key)
		if err != nil {
			return err
		}
		if g.table() {
			printProgress(g.stdout, p)
			return nil
		}
		j := progressJSON(p)
		if mod != nil {
			mod(&j)
		}
		g.emit(j, false)
		return nil
	}

	// create
	var spec campaign.Spec
	var eidsFile, format string
	var eids []string
	var refuse bool
	create := &cobra.Command{
		Use:   "create",
		Short: "Queue a campaign: one function over a list of EIDs",
		Long: "Queues one job per EID of --eids FILE (or --eid ...), in one transaction. Running it again with the same\n" +
			"--key adds only the EIDs not yet in the campaign. Functions: " + strings.Join(campaign.Functions(), ", ") + ".",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if spec.Function == "" {
				return cli.Usagef("--function is required (one of %s)", strings.Join(campaign.Functions(), ", "))
			}
			var src campaign.Source
			switch {
			case eidsFile != "" && len(eids) > 0:
				return cli.Usagef("give --eids or --eid, not both")
			case eidsFile != "":
				f, err := os.Open(eidsFile)
				if err != nil {
					return usage(fmt.Errorf("--eids: %w", err))
				}
				defer f.Close()
				switch format {
				case "lines":
					src = campaign.Lines(f)
				case "csv":
					src = campaign.CSV(f)
				case "jsonl":
					src = campaign.JSONLines(f)
				default:
					return cli.Usagef("--format %q: want lines, csv or jsonl", format)
				}
			case len(eids) > 0:
				src = campaign.Slice(eids...)
			default:
				return cli.Usagef("give --eids FILE or --eid")
			}
			return withManager(cmd, &spec.Key, func(ctx context.Context, m *campaign.Manager, _ *pgxpool.Pool) error {
				var opts []campaign.CreateOption
				if refuse {
					opts = append(opts, campaign.RefuseBadInput())
				}
				rep, err := m.Create(ctx, spec, src, opts...)
				if err != nil {
					var ie *campaign.InputError
					var sm *campaign.SpecMismatchError
					if errors.As(err, &ie) || errors.As(err, &sm) || badInput(err) {
						return usage(err)
					}
					return err
				}
				if g.table() {
					fmt.Fprintf(g.stdout, "queued %d EIDs (%d already in the campaign, %d bad lines) in %s\n",
						rep.Queued, rep.Duplicates, rep.BadCount, rep.Elapsed.Round(time.Millisecond))
					for _, le := range rep.BadLines {
						fmt.Fprintf(g.stdout, "  line %d: %s\n", le.Line, cli.Message(le))
					}
				}
				return showProgress(ctx, m, spec.Key, func(j *campaignJSON) {
					j.Queued, j.Duplicates = &rep.Queued, &rep.Duplicates
					for _, le := range rep.BadLines {
						j.BadLines = append(j.BadLines, badLineJSON{Line: le.Line, Text: le.Text, Error: cli.Message(le.Err)})
					}
				})
			})
		},
	}
	create.Flags().StringVar(&spec.Key, "key", "", "the campaign's name: 1 to 40 of a-z 0-9 . _ -")
	create.Flags().StringVar(&spec.Function, "function", "", "the function, e.g. ES4.SetFallBackAttribute")
	create.Flags().StringVar(&spec.Arg, "arg", "", "the argument for EIDs whose line has none (an ICCID, an OID, type:PROFILETYPE for ES2.DownloadProfile/Activate, code:ACTIVATIONCODE for DigiRM.Download)")
	create.Flags().StringVar(&eidsFile, "eids", "", "input file: one EID (and optional argument) a line")
	create.Flags().StringVar(&format, "format", "lines", "input format of --eids: lines, csv or jsonl")
	create.Flags().StringSliceVar(&eids, "eid", nil, "an EID (repeat, or comma-separate) instead of --eids")
	create.Flags().Float64Var(&spec.Rate, "rate", 0, "calls a second toward the gateway, all workers together (0: no limit)")
	create.Flags().IntVar(&spec.Burst, "burst", 1, "burst of --rate")
	create.Flags().IntVar(&spec.MaxInFlight, "max-in-flight", 0, "EIDs sent and awaiting their result, all workers together (0: no limit)")
	create.Flags().DurationVar(&spec.ResultTimeout, "result-timeout", 0, "wait for a callback before recording NO_RESULT (default 15m)")
	create.Flags().BoolVar(&refuse, "refuse-bad-input", false, "queue nothing when any line is bad")

	// status, pause, resume, cancel, retry-failed, export
	keyed := func(use, short string, run func(ctx context.Context, m *campaign.Manager, key string) error) *cobra.Command {
		var key string
		c := &cobra.Command{Use: use, Short: short, Args: noArgs, RunE: func(cmd *cobra.Command, _ []string) error {
			return withManager(cmd, &key, func(ctx context.Context, m *campaign.Manager, _ *pgxpool.Pool) error { return run(ctx, m, key) })
		}}
		c.Flags().StringVar(&key, "key", "", "the campaign's name")
		return c
	}
	status := keyed("status", "Show a campaign's progress and outcomes", func(ctx context.Context, m *campaign.Manager, key string) error {
		return showProgress(ctx, m, key, nil)
	})
	control := func(use, short string, f func(*campaign.Manager, context.Context, string) error) *cobra.Command {
		return keyed(use, short, func(ctx context.Context, m *campaign.Manager, key string) error {
			if err := f(m, ctx, key); err != nil {
				if errors.Is(err, campaign.ErrCancelled) {
					return usage(err)
				}
				return err
			}
			return showProgress(ctx, m, key, nil)
		})
	}
	retry := keyed("retry-failed", "Queue the failed EIDs again, in a new round (new FunctionCallIdentifiers)", func(ctx context.Context, m *campaign.Manager, key string) error {
		n, err := m.RetryFailed(ctx, key)
		if err != nil {
			return err
		}
		if g.table() {
			fmt.Fprintf(g.stdout, "%d EIDs queued again\n", n)
		}
		return showProgress(ctx, m, key, func(j *campaignJSON) { j.RetryQueued = &n })
	})
	var exportFormat string
	export := keyed("export", "Write every EID's result (csv or jsonl) to stdout", func(ctx context.Context, m *campaign.Manager, key string) error {
		f := campaign.ExportCSV
		switch exportFormat {
		case "csv":
		case "jsonl":
			f = campaign.ExportJSONLines
		default:
			return cli.Usagef("--format %q: want csv or jsonl", exportFormat)
		}
		return m.Export(ctx, key, g.stdout, f)
	})
	export.Flags().StringVar(&exportFormat, "format", "csv", "csv or jsonl (--output does not apply: the export is the output)")
	list := &cobra.Command{Use: "list", Short: "List the campaigns", Args: noArgs, RunE: func(cmd *cobra.Command, _ []string) error {
		return withManager(cmd, nil, func(ctx context.Context, m *campaign.Manager, _ *pgxpool.Pool) error {
			cs, err := m.List(ctx)
			if err != nil {
				return err
			}
			defer g.flush()
			for _, c := range cs {
				p, err := m.Progress(ctx, c.Key)
				if err != nil {
					return err
				}
				if g.table() {
					printProgress(g.stdout, p)
				} else {
					g.emit(progressJSON(p), true)
				}
			}
			return nil
		})
	}}
	root.AddCommand(create, list, status, control("pause", "Pause a campaign (workers send nothing new)", (*campaign.Manager).Pause),
		control("resume", "Resume a paused campaign", (*campaign.Manager).Resume),
		control("cancel", "Cancel a campaign for good (EIDs not sent are not sent)", (*campaign.Manager).Cancel),
		retry, export, campaignRunCommand(g), campaignWebCommand(g, withManager))
	return root
}

// campaignRunCommand is a worker: the gateway clients and callback server of the common flags (the embedded
// mock by default), the campaign Worker, and the Recorder as the callback server's unmatched handler so
// that every result is committed before its callback is acknowledged.
func campaignRunCommand(g *globals) *cobra.Command {
	app := g.newApp("campaign run", cli.NeedES2|cli.NeedES4)
	until := app.Flags.String("until-done", "", "stop once the campaign with this key has nothing pending or in flight")
	concurrency := app.Flags.Int("concurrency", 16, "jobs this worker runs at once")
	pf := addPlatformFlags(app, platformES4, platformThingSpace, platformDigiRM)
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run a campaign worker: send the jobs, receive the callbacks, record the results",
		Long: `Runs a campaign worker against the gateway of the common flags (the embedded mock without them): it sends
the queued jobs of every running campaign within their rate and in-flight limits, receives their callbacks
on its callback server and records each result in the database before acknowledging it. Run as many as you
like against one database; it stops on SIGINT/SIGTERM, or with --until-done KEY once that campaign is done.
The campaigns' database is --store.

With --platform thingspace or digirm the worker also runs that carrier platform's client (its embedded mock
unless its endpoint is given, with the same flags as enable --platform), for the campaigns of ThingSpace.*
or DigiRM.* functions: a ThingSpace worker receives callbacks on --thingspace-listen and records them, a
Digi worker polls the transactions. Those platforms do not de-duplicate, so an EID whose request may have
run without an answer is recorded ERROR "outcome unknown ... audit first", never sent again.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.resolve(cmd, app); err != nil {
				return err
			}
			if err := pf.check("campaign run"); err != nil {
				return err
			}
			if app.Store == "" {
				return cli.Usagef("--store is required (the campaigns' PostgreSQL URL)")
			}
			ctx := cmd.Context()
			pool, err := pgxpool.New(ctx, app.Store)
			if err != nil {
				return usage(fmt.Errorf("--store: %w", err))
			}
			defer pool.Close()
			if err := campaign.Migrate(ctx, pool); err != nil {
				return err
			}
			m, err := campaign.NewManager(pool, campaign.WithManagerLogger(app.Logger))
			if err != nil {
				return err
			}
			if *until != "" {
				if _, err := m.Get(ctx, *until); err != nil {
					return usage(fmt.Errorf("--until-done: %w", err))
				}
			}
			rec := campaign.NewRecorder(pool, app.Logger)
			s, err := app.Start(ctx, cli.StartOptions{Unmatched: rec.CallbackHandler(func(ctx context.Context, in *esimgw.Inbound) error {
				fmt.Fprintln(app.Stdout, cli.FormatInbound(in))
				return nil
			})})
			if err != nil {
				return err
			}
			defer s.Close()
			s.Describe()
			clients := campaign.Clients{ES4: s.ES4, ES2: s.ES2}
			wopts := []campaign.WorkerOption{campaign.WithConcurrency(*concurrency), campaign.WithWorkerLogger(app.Logger)}
			if pf.carrier() {
				pf.ThingSpaceOptions = append(pf.ThingSpaceOptions, thingspace.WithUnmatchedHandler(rec.ThingSpaceHandler(nil)))
				t, err := pf.start(ctx, app)
				if err != nil {
					return err
				}
				defer t.Close()
				t.Describe()
				switch c := t.Manager.(type) {
				case *thingspace.Client:
					clients.ThingSpace = c
				case *digirm.Client:
					clients.DigiRM = c
					if pf.embedded() {
						// The embedded mock's transactions take 50 ms, not Digi's minutes.
						wopts = append(wopts, campaign.WithTransactionPolling(100*time.Millisecond, time.Second))
					}
				}
			}
			w, err := campaign.NewWorker(pool, clients, wopts...)
			if err != nil {
				return err
			}
			if err := w.Start(ctx); err != nil {
				return err
			}
			defer func() {
				sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = w.Stop(sctx)
			}()
			s.Printf("worker running; stop with Ctrl-C\n")
			tick := time.NewTicker(250 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					if errors.Is(context.Cause(ctx), errInterrupted) {
						return &interruptedError{msg: "interrupted; the jobs in flight are taken up by the next worker", err: context.Cause(ctx)}
					}
					return ctx.Err()
				case <-tick.C:
				}
				if *until == "" {
					continue
				}
				p, err := m.Progress(ctx, *until)
				if err != nil {
					return err
				}
				if p.Pending == 0 && p.InFlight == 0 {
					if g.table() {
						printProgress(g.stdout, p)
					} else {
						g.emit(progressJSON(p), false)
					}
					if p.Failed > 0 {
						return fmt.Errorf("campaign %s: %d of %d EIDs failed", *until, p.Failed, p.Total)
					}
					return nil
				}
			}
		},
	}
	bind(cmd, app)
	return cmd
}

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/internal/cli"
	"github.com/esimgw/esimgw/internal/version"
)

// Output formats of --output.
const (
	outputTable = "table"
	outputJSON  = "json"
	outputJSONL = "jsonl"
)

// globals is what every command shares: the environment, the real standard streams and --output.
type globals struct {
	env            cli.Env
	stdout, stderr io.Writer
	output         string
	terminal       bool       // stderr is a terminal: progress bars draw only then
	mu             sync.Mutex // guards pending and the order of emitted lines: listeners emit from many goroutines
	// pending collects the JSON documents of a command that prints one array (--output json with several
	// results); flushed by flush.
	pending []any
	tel     telemetry // --metrics, --trace
}

const rootLong = `esimgw drives eSIM remote provisioning of M2M devices over GSMA SGP.02: ES2 (operator to SM-DP) and ES4
(operator to SM-SR), as the KPN RSP Gateway and other SM-SR/SM-DP platforms expose them (SOAP 1.2 with
WS-Addressing over mutual TLS, asynchronous results as callbacks to your replyTo address).

Without --kpn or any gateway flag, every command starts an embedded mock gateway and runs against it, so
each one can be tried at once. Against KPN's RSP Gateway give --kpn with your certificates, EntityId and
callback server settings; against another gateway its URLs. Every flag falls back to an ESIMGW_*
environment variable (shown in each command's help); a flag given wins.

Output: --output table (for people), json (one JSON document) or jsonl (one JSON object a line, as results
come). The JSON fields are stable and documented in docs/cli.md.

Exit codes: 0 success (EXECUTED_SUCCESS or EXECUTED_WITHWARNING); 1 the function FAILED or EXPIRED, no
callback came within --timeout, or the command could not do its job (gateway unreachable, certificate);
2 a bad flag, argument or value, named on one line of stderr; 130 interrupted (SIGINT/SIGTERM), naming the
FunctionCallIdentifier whose callback was awaited.`

func newRoot(env cli.Env, stdout, stderr io.Writer) (*cobra.Command, *globals) {
	g := &globals{env: env, stdout: cli.Sync(stdout), stderr: cli.Sync(stderr), terminal: isTerminal(stderr)}
	root := &cobra.Command{
		Use:           "esimgw",
		Short:         "eSIM remote provisioning (GSMA SGP.02 ES2/ES4) from the command line",
		Long:          rootLong,
		Version:       version.Read().String(), // the module version, as every esimgw program reports it
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("output") {
				if v, ok := env("ESIMGW_OUTPUT"); ok && v != "" {
					g.output = v
				}
			}
			switch g.output {
			case outputTable, outputJSON, outputJSONL:
			default:
				return cli.Usagef("--output %q: want table, json or jsonl", g.output)
			}
			return g.startTelemetry(cmd)
		},
	}
	root.SetOut(g.stdout)
	root.SetErr(g.stderr)
	root.SetVersionTemplate("esimgw {{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return flagError{err} })
	root.PersistentFlags().StringVarP(&g.output, "output", "o", outputTable, "output format: table, json or jsonl (env ESIMGW_OUTPUT)")
	g.tel.flags(root)
	root.AddGroup(&cobra.Group{ID: "es4", Title: "ES4 (SM-SR) functions:"}, &cobra.Group{ID: "es2", Title: "ES2 (SM-DP) functions:"},
		&cobra.Group{ID: "run", Title: "Servers:"})
	root.AddCommand(
		auditCommand(g),
		profileCommand(g, profileSpec{use: "enable", iface: "ES4", function: "EnableProfile", verb: "enable", done: "enabled on"}),
		profileCommand(g, profileSpec{use: "fallback", iface: "ES4", function: "SetFallBackAttribute", verb: "make the fall-back profile", done: "the fall-back profile of"}),
		profileCommand(g, profileSpec{use: "disable", iface: "ES2", function: "DisableProfile", verb: "disable", done: "disabled on"}),
		profileCommand(g, profileSpec{use: "delete", iface: "ES2", function: "DeleteProfile", verb: "delete", done: "deleted from"}),
		downloadCommand(g),
		activateCommand(g),
		listenCommand(g),
		mockCommand(g),
		campaignCommand(g),
	)
	root.SetHelpCommandGroupID("run")
	root.SetCompletionCommandGroupID("run")
	return root, g
}

// noArgs refuses positional arguments: every input is a flag.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if cmd.HasSubCommands() {
		return flagError{fmt.Errorf("unknown command %q", args[0])}
	}
	return flagError{fmt.Errorf("unexpected argument %q (every input is a flag)", args[0])}
}

// normalizeArgs accepts the example programs' single-dash long flags (-eid, -version): each "-name" or
// "-name=value" whose name is a long flag of some command becomes "--name...". Everything after "--" is
// left alone.
func normalizeArgs(root *cobra.Command, args []string) []string {
	long := map[string]bool{"help": true, "version": true}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) { long[f.Name] = len(f.Name) > 1 })
		c.PersistentFlags().VisitAll(func(f *pflag.Flag) { long[f.Name] = len(f.Name) > 1 })
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' {
			name, _, _ := strings.Cut(a[1:], "=")
			if long[name] {
				a = "-" + a
			}
		}
		out = append(out, a)
	}
	return out
}

// usage marks err as a bad command line or value (exit 2).
func usage(err error) error {
	if err == nil || isUsage(err) {
		return err
	}
	return &cli.UsageError{Msg: cli.Message(err)}
}

// badInput reports whether err is a value the library refused before sending anything.
func badInput(err error) bool {
	var ve *esimgw.ValidationError
	return errors.As(err, &ve)
}

func (g *globals) table() bool { return g.output == outputTable }

// emit prints one JSON document (json: indented, or kept for the array flush prints when many is set;
// jsonl: one line).
func (g *globals) emit(v any, many bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch g.output {
	case outputJSONL:
		writeJSON(g.stdout, v, "")
	case outputJSON:
		if many {
			g.pending = append(g.pending, v)
			return
		}
		writeJSON(g.stdout, v, "  ")
	}
}

// flush prints the array of the documents emit kept (an empty array when there were none).
func (g *globals) flush() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.output != outputJSON {
		return
	}
	docs := g.pending
	if docs == nil {
		docs = []any{}
	}
	writeJSON(g.stdout, docs, "  ")
	g.pending = nil
}

// writeJSON writes v and a newline in one Write, without HTML escaping (MessageIDs carry '&').
func writeJSON(w io.Writer, v any, indent string) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	_ = enc.Encode(v) // our own types: they always encode
	_, _ = w.Write(b.Bytes())
}

// newApp makes the cli.App of a command (its common flags, with ESIMGW_* fall-backs); the command adds
// its own flags to app.Flags and then calls bind.
func (g *globals) newApp(name string, needs cli.Needs) *cli.App {
	// cobra: messages and the flags' help name --eid, as -h and docs/cli.md do.
	return cli.New("esimgw "+name, "", needs|cli.TwoDashes, g.env, g.stdout, g.stderr)
}

// bind gives cmd the flags of app.
func bind(cmd *cobra.Command, app *cli.App) {
	cmd.Flags().AddGoFlagSet(app.Flags)
	cmd.Flags().SortFlags = false
	// One set of gateway flags serves every function command (esimgw mock prints one): a command accepts
	// the other interface's flags too, hidden and unused, as it ignores their ESIMGW_* variables.
	if app.Flags.Lookup("cert") == nil {
		return
	}
	for _, name := range []string{"es2-url", "es4-url", "smsr-id"} {
		if cmd.Flags().Lookup(name) == nil {
			cmd.Flags().String(name, "", "not used by this command")
			_ = cmd.Flags().MarkHidden(name)
		}
	}
}

// resolve applies the environment and checks the common flags after cobra parsed the command line; in
// JSON modes the human-readable progress lines are dropped so that stdout is pure JSON.
func (g *globals) resolve(cmd *cobra.Command, app *cli.App) error {
	if err := app.Resolve(cmd.Flags().Changed); err != nil {
		return usage(err)
	}
	app.Instrument = g.tel.options()
	if !g.table() {
		app.Stdout = cli.Sync(io.Discard)
	}
	return nil
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w any) bool {
	type stater interface{ Stat() (os.FileInfo, error) }
	f, ok := w.(stater)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

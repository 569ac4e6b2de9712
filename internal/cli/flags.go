package cli

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/internal/version"
)

// KPN's production endpoints (docs/kpn.md R1).
const (
	KPNES2URL = "https://rsp.kpnthings.com" + gatewaytest.ES2Path
	KPNES4URL = "https://rsp.kpnthings.com" + gatewaytest.ES4Path
)

// DefaultTimeout bounds a program's requests and the wait for their callbacks unless -timeout says otherwise.
const DefaultTimeout = 2 * time.Minute

// Needs says which clients a program uses, and so which flags it has.
type Needs uint8

const (
	NeedES4 Needs = 1 << iota // an es4.Client (-es4-url)
	NeedES2                   // an es2.Client (-es2-url, -smsr-id)
	// MockOnly: the program always runs against the embedded mock and has no gateway flags (quickstart).
	MockOnly
	// TwoDashes: the program spells its flags --name (cmd/esimgw); it sets App.LongFlags from New on, so
	// that the flags' own help says --kpn too.
	TwoDashes
)

// App is one program's command line: the common flags, parsed, with their environment fall-backs.
// Programs add their own flags to Flags before Parse.
type App struct {
	Name  string
	Flags *flag.FlagSet

	KPN              bool
	ES2URL, ES4URL   string
	Cert, Key, CA    string
	EntityID         string
	EntityName       string
	ProviderEntityID string
	SMSRID           string
	Listen           string
	ReplyTo          string
	CallbackCert     string
	CallbackKey      string
	CallbackCA       string
	CallbackSubject  string
	// Store is a PostgreSQL URL for pending operations (pgstore); "" keeps them in memory.
	Store   string
	Timeout time.Duration
	// TimeoutSet is true when -timeout (or ESIMGW_TIMEOUT) was given.
	TimeoutSet bool
	Verbose    bool

	// Stdout and Stderr are the program's streams, safe for concurrent use.
	Stdout, Stderr io.Writer
	// Logger logs to Stderr: errors only (quiet), everything with -v. Valid after Parse.
	Logger *slog.Logger
	// Instrument is added to the StartOptions of every Start: the program's telemetry providers
	// (cmd/esimgw's --metrics and --trace).
	Instrument StartOptions
	// LongFlags says the program spells its flags with two dashes (cmd/esimgw, on cobra); the example
	// programs, on the flag package, spell them with one. Flag follows it, so that a message names a flag
	// as the program's -h and documentation do.
	LongFlags bool

	needs   Needs
	env     Env
	doc     string
	envVars map[string]string // flag name -> environment variable
}

// New returns the command line of program name. doc is the usage text's first lines: a synopsis and what
// the program does. needs selects the client flags.
func New(name, doc string, needs Needs, env Env, stdout, stderr io.Writer) *App {
	if env == nil {
		env = NoEnv
	}
	a := &App{
		Name: name, Flags: flag.NewFlagSet(name, flag.ContinueOnError),
		Stdout: Sync(stdout), Stderr: Sync(stderr),
		needs: needs, env: env, doc: doc, envVars: map[string]string{}, LongFlags: needs&TwoDashes != 0,
	}
	fs := a.Flags
	fs.SetOutput(a.Stdout)
	fs.Usage = a.usage

	if needs&MockOnly != 0 {
		a.durationVar(&a.Timeout, "timeout", "TIMEOUT", DefaultTimeout, "how long to wait for the gateway's answers and callbacks")
		fs.BoolVar(&a.Verbose, "v", false, "debug logs on stderr")
		return a
	}
	a.boolVar(&a.KPN, "kpn", "KPN", false, "talk to KPN's RSP Gateway (default URLs "+
		"https://rsp.kpnthings.com/esim-messaging/3/..., '?'-separated wsa:From); without "+a.Flag("kpn")+" or any gateway\n"+
		"setting the program runs against an embedded mock gateway")
	if needs&NeedES2 != 0 {
		a.stringVar(&a.ES2URL, "es2-url", "ES2_URL", "", "the gateway's ES2 (SM-DP) endpoint (default with "+a.Flag("kpn")+": KPN's)")
	}
	if needs&NeedES4 != 0 {
		a.stringVar(&a.ES4URL, "es4-url", "ES4_URL", "", "the gateway's ES4 (SM-SR) endpoint (default with "+a.Flag("kpn")+": KPN's)")
	}
	if needs&(NeedES2|NeedES4) != 0 {
		a.stringVar(&a.Cert, "cert", "CERT", "", "your client certificate (PEM; the one whose subject CN you gave the gateway)")
		a.stringVar(&a.Key, "key", "KEY", "", "the client certificate's private key (PEM)")
		a.stringVar(&a.CA, "ca", "CA", "", "CA bundle (PEM) to verify the gateway's server certificate with (default: the system roots)")
		a.stringVar(&a.EntityID, "entity-id", "ENTITY_ID", "", "your EntityId: your operator OID, sent in wsa:From")
		a.stringVar(&a.EntityName, "entity-name", "ENTITY_NAME", "", "your EntityName, sent in wsa:From (optional)")
		a.stringVar(&a.ProviderEntityID, "provider-entity-id", "PROVIDER_ENTITY_ID", "",
			"X-KPN-ProviderEntityId: the OID of the vendor of the profiles you manage (optional)")
	}
	if needs&NeedES2 != 0 {
		a.stringVar(&a.SMSRID, "smsr-id", "SMSR_ID", "", "the SM-SR ID (OID) of your eUICCs, required by ES2 calls")
	}
	a.stringVar(&a.Listen, "listen", "LISTEN", "", "address the callback server listens on (default :8443; embedded mock: 127.0.0.1:0)")
	a.stringVar(&a.ReplyTo, "replyto", "REPLY_TO", "", "public https URL of the callback server, sent as wsa:ReplyTo\n"+
		"(required with KPN's URLs; otherwise derived from the bound address)")
	a.stringVar(&a.CallbackCert, "callback-cert", "CALLBACK_CERT", "", "the callback server's certificate (PEM; for KPN an OV certificate for the replyTo name)")
	a.stringVar(&a.CallbackKey, "callback-key", "CALLBACK_KEY", "", "the callback server certificate's private key (PEM)")
	a.stringVar(&a.CallbackCA, "callback-ca", "CALLBACK_CA", "", "CA bundle (PEM) the gateway's client certificate must chain to\n"+
		"(KPN: the Sectigo chain or KPN IoT Private Root CA 1)")
	a.stringVar(&a.CallbackSubject, "callback-subject", "CALLBACK_SUBJECT", "", "accept callbacks only from a client certificate with this subject CN (optional)")
	a.stringVar(&a.Store, "store", "STORE", "", "PostgreSQL URL to keep pending operations, results and seen notifications in\n"+
		"(postgres://user@host:5432/db), shared by replicas and kept across restarts (default: in memory)")
	a.durationVar(&a.Timeout, "timeout", "TIMEOUT", DefaultTimeout, "how long to wait for the gateway's answers and callbacks")
	fs.BoolVar(&a.Verbose, "v", false, "debug logs on stderr")
	return a
}

func (a *App) stringVar(p *string, name, env, def, usage string) {
	a.Flags.StringVar(p, name, def, usage+" (env ESIMGW_"+env+")")
	a.envVars[name] = "ESIMGW_" + env
}

func (a *App) boolVar(p *bool, name, env string, def bool, usage string) {
	a.Flags.BoolVar(p, name, def, usage+" (env ESIMGW_"+env+")")
	a.envVars[name] = "ESIMGW_" + env
}

func (a *App) durationVar(p *time.Duration, name, env string, def time.Duration, usage string) {
	a.Flags.DurationVar(p, name, def, usage+" (env ESIMGW_"+env+")")
	a.envVars[name] = "ESIMGW_" + env
}

// EnvVar registers an environment fall-back for a program's own flag (ESIMGW_<suffix>).
func (a *App) EnvVar(flagName, suffix string) {
	a.envVars[flagName] = "ESIMGW_" + suffix
	if f := a.Flags.Lookup(flagName); f != nil {
		f.Usage += " (env ESIMGW_" + suffix + ")"
	}
}

func (a *App) usage() {
	w := a.Flags.Output()
	fmt.Fprintf(w, "%s\n\nFlags (flags win over the ESIMGW_* environment variables):\n", strings.TrimSpace(a.doc))
	a.Flags.PrintDefaults()
}

// Embedded reports whether the program runs against the embedded mock gateway: no -kpn and no gateway
// setting (URL, client or callback certificate) was given.
func (a *App) Embedded() bool {
	return !a.KPN && a.ES2URL == "" && a.ES4URL == "" && a.Cert == "" && a.CallbackCert == ""
}

// Parse parses args, applies the environment fall-backs to flags not given and checks the common flags.
// Positional arguments are refused. It also takes -version, which prints the module version
// (internal/version); after -h or -version it returns flag.ErrHelp, on which Exec exits 0.
func (a *App) Parse(args []string) error {
	printVersion := func(io.Writer) bool { return false }
	if a.Flags.Lookup("version") == nil {
		printVersion = version.Flag(a.Flags, a.Name)
	}
	if err := a.Flags.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return &UsageError{Msg: err.Error()}
	}
	if printVersion(a.Stdout) {
		return flag.ErrHelp
	}
	if a.Flags.NArg() > 0 {
		return Usagef("unexpected argument %q", a.Flags.Arg(0))
	}
	set := map[string]bool{}
	a.Flags.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return a.Resolve(func(name string) bool { return set[name] })
}

// Resolve is the part of Parse after the command line was read, for a command line parsed elsewhere (the
// esimgw CLI's cobra commands, which carry these flags): it applies the environment fall-backs to the flags
// isSet reports as not given, sets up the Logger and checks the common flags.
func (a *App) Resolve(isSet func(name string) bool) error {
	set := map[string]bool{}
	for name, envVar := range a.envVars {
		if isSet(name) {
			set[name] = true
			continue
		}
		v, ok := a.env(envVar)
		if !ok || v == "" {
			continue
		}
		if err := a.Flags.Set(name, v); err != nil {
			return Usagef("%s=%q: %v", envVar, v, err)
		}
		set[name] = true
	}
	a.TimeoutSet = set["timeout"]
	level := slog.LevelError
	if a.Verbose {
		level = slog.LevelDebug
	}
	a.Logger = slog.New(slog.NewTextHandler(a.Stderr, &slog.HandlerOptions{Level: level}))
	return a.check()
}

func (a *App) check() error {
	if a.Timeout <= 0 {
		return Usagef("%s must be positive", a.Flag("timeout"))
	}
	if a.Embedded() {
		return nil
	}
	if a.KPN {
		if a.needs&NeedES2 != 0 && a.ES2URL == "" {
			a.ES2URL = KPNES2URL
		}
		if a.needs&NeedES4 != 0 && a.ES4URL == "" {
			a.ES4URL = KPNES4URL
		}
	}
	var missing []string
	req := func(ok bool, flagName string) {
		if !ok {
			missing = append(missing, a.Flag(flagName))
		}
	}
	if a.needs&NeedES2 != 0 {
		req(a.ES2URL != "", "es2-url (or "+a.Flag("kpn")+")")
		req(a.SMSRID != "", "smsr-id")
	}
	if a.needs&NeedES4 != 0 {
		req(a.ES4URL != "", "es4-url (or "+a.Flag("kpn")+")")
	}
	if a.needs&(NeedES2|NeedES4) != 0 {
		req(a.Cert != "", "cert")
		req(a.Key != "", "key")
		req(a.EntityID != "", "entity-id")
	}
	req(a.CallbackCert != "", "callback-cert")
	req(a.CallbackKey != "", "callback-key")
	req(a.CallbackCA != "", "callback-ca")
	if a.ReplyTo == "" && (a.ES2URL == KPNES2URL || a.ES4URL == KPNES4URL) {
		missing = append(missing, a.Flag("replyto")+" (the public https URL KPN posts callbacks to)")
	}
	if len(missing) > 0 {
		return Usagef("against a real gateway these are required: %s", strings.Join(missing, ", "))
	}
	for _, u := range []struct{ flag, v string }{{"es2-url", a.ES2URL}, {"es4-url", a.ES4URL}, {"replyto", a.ReplyTo}} {
		if u.v == "" {
			continue
		}
		p, err := url.Parse(u.v)
		if err != nil || p.Scheme != "https" || p.Host == "" {
			return fmt.Errorf("%s %q: not an https URL", a.Flag(u.flag), u.v)
		}
	}
	for _, o := range []struct{ flag, v string }{{"entity-id", a.EntityID}, {"provider-entity-id", a.ProviderEntityID}, {"smsr-id", a.SMSRID}} {
		if o.v == "" {
			continue
		}
		if err := esimgw.ValidateOID(o.flag, o.v); err != nil {
			return fmt.Errorf("%s: %w", a.Flag(o.flag), err)
		}
	}
	return nil
}

// Flag is the flag name as the program spells it: "-name", or "--name" with LongFlags.
func (a *App) Flag(name string) string {
	if a.LongFlags {
		return "--" + name
	}
	return "-" + name
}

// Strings is a repeatable string flag.
type Strings []string

func (s *Strings) String() string { return strings.Join(*s, ",") }

// Set appends v; a comma-separated v appends each part.
func (s *Strings) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*s = append(*s, p)
		}
	}
	return nil
}

// Defaults fills -eid and -iccid with the embedded mock's seeded values when they were not given, requires
// them against a real gateway, and validates them.
func Defaults(a *App, eid, iccid *string, defEID, defICCID string) error {
	if a.Embedded() {
		if *eid == "" {
			*eid = defEID
		}
		if *iccid == "" {
			*iccid = defICCID
		}
	}
	var missing []string
	if *eid == "" {
		missing = append(missing, a.Flag("eid"))
	}
	if *iccid == "" {
		missing = append(missing, a.Flag("iccid"))
	}
	switch len(missing) {
	case 1:
		return Usagef("%s is required", missing[0])
	case 2:
		return Usagef("%s and %s are required", missing[0], missing[1])
	}
	_, err := esimgw.ValidateProfile(*eid, *iccid)
	return err
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/digirm"
	"github.com/esimgw/esimgw/digirm/digirmtest"
	"github.com/esimgw/esimgw/internal/cli"
	"github.com/esimgw/esimgw/thingspace"
	"github.com/esimgw/esimgw/thingspace/thingspacetest"
)

// The values of --platform.
const (
	platformES4        = "es4"
	platformES2        = "es2"
	platformThingSpace = "thingspace"
	platformDigiRM     = "digirm"
)

// platformFlags are --platform and the settings of the carrier platforms (ThingSpace, Digi Remote
// Manager), on a command's flag set with their ESIMGW_* fall-backs. A carrier platform without its
// endpoint runs against its embedded mock, as the SGP.02 commands do without gateway flags.
type platformFlags struct {
	name     string
	sgp02    string   // the command's SGP.02 interface (es4 or es2): the default
	allowed  []string // what --platform takes on this command
	deviceID string

	tsURL, tsTokenURL, tsAppKey, tsAppSecret, tsUser, tsPassword string
	tsAccount, tsCallbackUser, tsCallbackPassword, tsSMSROID     string
	tsListen, tsCallbackURL, tsTLSCert, tsTLSKey                 string
	drmURL, drmUser, drmPassword, drmKeyID, drmKeySecret         string
}

const platformHelp = `
With --platform thingspace or digirm the same command runs on Verizon ThingSpace or Digi Remote Manager
through the library's common ProfileManager interface, against that platform's embedded mock unless its
endpoint is given (--thingspace-url with the app key and secret, user, password, account and a callback URL
ThingSpace can reach; --digirm-url with a user and password or an API key). The JSON fields are the same.`

// addPlatformFlags adds --platform (default sgp02, the command's SGP.02 interface) and the carrier
// settings to app's flags. allowed lists the carrier platforms the command runs on.
func addPlatformFlags(app *cli.App, sgp02 string, carriers ...string) *platformFlags {
	pf := &platformFlags{sgp02: sgp02, allowed: append([]string{sgp02}, carriers...)}
	fs := app.Flags
	str := func(p *string, name, env, def, usage string) {
		fs.StringVar(p, name, def, usage)
		app.EnvVar(name, env)
	}
	str(&pf.name, "platform", "PLATFORM", sgp02, "where the profile is managed: "+strings.Join(pf.allowed, ", "))
	if slices.Contains(carriers, platformDigiRM) {
		str(&pf.deviceID, "device-id", "DEVICE_ID", "", "digirm: the device ID (optional; the EID finds the device)")
	}
	if slices.Contains(carriers, platformThingSpace) {
		str(&pf.tsURL, "thingspace-url", "THINGSPACE_URL", "", "thingspace: the M2M API base, e.g. "+thingspace.DefaultBaseURL+" (default: the embedded mock)")
		str(&pf.tsTokenURL, "thingspace-token-url", "THINGSPACE_TOKEN_URL", "", "thingspace: the OAuth2 token endpoint (default with --thingspace-url: "+thingspace.DefaultTokenURL+")")
		str(&pf.tsAppKey, "thingspace-app-key", "THINGSPACE_APP_KEY", "", "thingspace: the application key (OAuth2 client id)")
		str(&pf.tsAppSecret, "thingspace-app-secret", "THINGSPACE_APP_SECRET", "", "thingspace: the application secret")
		str(&pf.tsUser, "thingspace-user", "THINGSPACE_USER", "", "thingspace: the M2M account's user name (session login)")
		str(&pf.tsPassword, "thingspace-password", "THINGSPACE_PASSWORD", "", "thingspace: the M2M account's password")
		str(&pf.tsAccount, "thingspace-account", "THINGSPACE_ACCOUNT", "", "thingspace: the billing account (accountName; leading zeros matter)")
		str(&pf.tsCallbackUser, "thingspace-callback-user", "THINGSPACE_CALLBACK_USER", "", "thingspace: the user name ThingSpace echoes in the account's callbacks")
		str(&pf.tsCallbackPassword, "thingspace-callback-password", "THINGSPACE_CALLBACK_PASSWORD", "", "thingspace: the password ThingSpace echoes in the account's callbacks")
		str(&pf.tsSMSROID, "thingspace-smsr-oid", "THINGSPACE_SMSR_OID", "", "thingspace: the SM-SR object id sent with profile actions (optional)")
		str(&pf.tsListen, "thingspace-listen", "THINGSPACE_LISTEN", "", "thingspace: address the callback receiver listens on (default :9001; embedded mock: 127.0.0.1:0)")
		str(&pf.tsCallbackURL, "thingspace-callback-url", "THINGSPACE_CALLBACK_URL", "", "thingspace: the public URL of the callback receiver, registered for the account\n"+
			"(port 80, 443, 9001-9006, 28200-28220 or 50551-50559)")
		str(&pf.tsTLSCert, "thingspace-tls-cert", "THINGSPACE_TLS_CERT", "", "thingspace: the callback receiver's certificate (PEM; none: plain HTTP behind a TLS proxy)")
		str(&pf.tsTLSKey, "thingspace-tls-key", "THINGSPACE_TLS_KEY", "", "thingspace: the callback receiver certificate's private key (PEM)")
	}
	if slices.Contains(carriers, platformDigiRM) {
		str(&pf.drmURL, "digirm-url", "DIGIRM_URL", "", "digirm: the esim_profiles API, e.g. "+digirm.DefaultBaseURL+" (default: the embedded mock)")
		str(&pf.drmUser, "digirm-user", "DIGIRM_USER", "", "digirm: user name (HTTP Basic)")
		str(&pf.drmPassword, "digirm-password", "DIGIRM_PASSWORD", "", "digirm: password (HTTP Basic)")
		str(&pf.drmKeyID, "digirm-api-key-id", "DIGIRM_API_KEY_ID", "", "digirm: API key id (X-API-KEY-ID; instead of a user and password)")
		str(&pf.drmKeySecret, "digirm-api-key-secret", "DIGIRM_API_KEY_SECRET", "", "digirm: API key secret (X-API-KEY-SECRET)")
	}
	return pf
}

// check refuses a --platform the command does not run on.
func (pf *platformFlags) check(command string) error {
	if slices.Contains(pf.allowed, pf.name) {
		return nil
	}
	return cli.Usagef("--platform %q: %s runs on %s", pf.name, command, strings.Join(pf.allowed, ", "))
}

// carrier reports whether --platform names a carrier platform (not SGP.02).
func (pf *platformFlags) carrier() bool {
	return pf.name == platformThingSpace || pf.name == platformDigiRM
}

// embedded reports whether the carrier platform runs against its embedded mock (no endpoint given).
func (pf *platformFlags) embedded() bool {
	if pf.name == platformThingSpace {
		return pf.tsURL == ""
	}
	return pf.drmURL == ""
}

// carrierTarget is a running carrier platform client (and its mock and callback receiver, when embedded).
type carrierTarget struct {
	pf       *platformFlags
	manager  esimgw.ProfileManager
	closers  []func()
	timeout  time.Duration
	stdout   io.Writer
	describe []string
}

// The embedded mocks' seeded eUICC and profiles (the same identifiers on both).
const (
	carrierMockEID      = thingspacetest.DefaultEID
	carrierMockEnabled  = thingspacetest.EnabledICCID
	carrierMockDisabled = thingspacetest.DisabledICCID
	carrierMockCatalog  = thingspacetest.CatalogICCID
)

// start builds the client of the carrier platform --platform names.
func (pf *platformFlags) start(ctx context.Context, app *cli.App) (t *carrierTarget, err error) {
	t = &carrierTarget{pf: pf, timeout: app.Timeout, stdout: app.Stdout}
	defer func() {
		if err != nil {
			t.Close()
			t = nil
		}
	}()
	mockLog := slog.New(slog.DiscardHandler)
	if app.Verbose {
		mockLog = app.Logger.With("component", "mock")
	}
	switch pf.name {
	case platformThingSpace:
		return t, t.startThingSpace(ctx, app, mockLog)
	default:
		return t, t.startDigiRM(app, mockLog)
	}
}

func (t *carrierTarget) startThingSpace(ctx context.Context, app *cli.App, mockLog *slog.Logger) error {
	pf := t.pf
	var opts []thingspace.Option
	listen, callbackURL := pf.tsListen, pf.tsCallbackURL
	if pf.embedded() {
		mock := thingspacetest.NewServer(thingspacetest.WithLogger(mockLog))
		t.closers = append(t.closers, mock.Close)
		opts = mock.ClientOptions()
		if listen == "" {
			listen = "127.0.0.1:0"
		}
		t.describe = append(t.describe, "platform  ThingSpace embedded mock at "+mock.URL+" (no --thingspace-url given)")
	} else {
		var missing []string
		for _, f := range []struct{ v, name string }{{pf.tsAppKey, "thingspace-app-key"}, {pf.tsAppSecret, "thingspace-app-secret"},
			{pf.tsUser, "thingspace-user"}, {pf.tsPassword, "thingspace-password"}, {pf.tsAccount, "thingspace-account"},
			{pf.tsCallbackUser, "thingspace-callback-user"}, {pf.tsCallbackPassword, "thingspace-callback-password"},
			{pf.tsCallbackURL, "thingspace-callback-url"}} {
			if f.v == "" {
				missing = append(missing, "--"+f.name)
			}
		}
		if len(missing) > 0 {
			return cli.Usagef("against ThingSpace these are required: %s", strings.Join(missing, ", "))
		}
		if (pf.tsTLSCert == "") != (pf.tsTLSKey == "") {
			return cli.Usagef("give --thingspace-tls-cert and --thingspace-tls-key together")
		}
		tokenURL := pf.tsTokenURL
		if tokenURL == "" {
			tokenURL = thingspace.DefaultTokenURL
		}
		opts = []thingspace.Option{thingspace.WithBaseURL(pf.tsURL), thingspace.WithTokenURL(tokenURL),
			thingspace.WithAppCredentials(pf.tsAppKey, pf.tsAppSecret), thingspace.WithSession(pf.tsUser, pf.tsPassword),
			thingspace.WithAccount(thingspace.Account{Name: pf.tsAccount, CallbackUsername: pf.tsCallbackUser, CallbackPassword: pf.tsCallbackPassword})}
		if pf.tsSMSROID != "" {
			opts = append(opts, thingspace.WithSMSROID(pf.tsSMSROID))
		}
		if listen == "" {
			listen = ":9001"
		}
		t.describe = append(t.describe, "platform  ThingSpace "+pf.tsURL)
	}
	c, err := thingspace.NewClient(append(opts, thingspace.WithLogger(app.Logger),
		thingspace.WithProgressHandler(func(_ context.Context, p thingspace.Progress) error {
			fmt.Fprintf(t.stdout, "   progress %s %s: %s (the final callback follows)\n", p.Key.Interface, p.Key.Function, p.Warning)
			return nil
		}))...)
	if err != nil {
		return usage(err)
	}
	t.manager = c
	t.closers = append(t.closers, func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Close(cctx)
	})
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("thingspace callback receiver: cannot listen on %s (--thingspace-listen): %w", listen, err)
	}
	srv := &http.Server{Handler: c.CallbackHandler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(app.Logger.Handler(), slog.LevelDebug)}
	tlsOn := pf.tsTLSCert != ""
	go func() {
		if tlsOn {
			_ = srv.ServeTLS(ln, pf.tsTLSCert, pf.tsTLSKey)
			return
		}
		_ = srv.Serve(ln)
	}()
	t.closers = append(t.closers, func() { _ = srv.Close() })
	if callbackURL == "" {
		callbackURL = "http://" + ln.Addr().String() + "/"
	}
	rctx, cancel := context.WithTimeout(ctx, app.Timeout)
	defer cancel()
	if err := c.RegisterCallback(rctx, "", callbackURL); err != nil {
		if badInput(err) {
			return usage(fmt.Errorf("--thingspace-callback-url: %w", err))
		}
		return fmt.Errorf("registering the callback URL %s: %w", callbackURL, err)
	}
	t.describe = append(t.describe, fmt.Sprintf("callbacks %s (listening on %s)", callbackURL, ln.Addr()))
	return nil
}

func (t *carrierTarget) startDigiRM(app *cli.App, mockLog *slog.Logger) error {
	pf := t.pf
	var opts []digirm.Option
	if pf.embedded() {
		mock := digirmtest.NewServer(digirmtest.WithLogger(mockLog))
		t.closers = append(t.closers, mock.Close)
		opts = mock.ClientOptions()
		t.describe = append(t.describe, "platform  Digi Remote Manager embedded mock at "+mock.URL+" (no --digirm-url given)")
	} else {
		basic, key := pf.drmUser != "" || pf.drmPassword != "", pf.drmKeyID != "" || pf.drmKeySecret != ""
		switch {
		case basic && key:
			return cli.Usagef("give --digirm-user and --digirm-password or an API key (--digirm-api-key-id, --digirm-api-key-secret), not both")
		case basic:
			opts = append(opts, digirm.WithBasicAuth(pf.drmUser, pf.drmPassword))
		case key:
			opts = append(opts, digirm.WithAPIKey(pf.drmKeyID, pf.drmKeySecret))
		default:
			return cli.Usagef("against Digi Remote Manager these are required: --digirm-user and --digirm-password, or --digirm-api-key-id and --digirm-api-key-secret")
		}
		opts = append(opts, digirm.WithBaseURL(pf.drmURL))
		t.describe = append(t.describe, "platform  Digi Remote Manager "+pf.drmURL+" (results by polling)")
	}
	c, err := digirm.NewClient(append(opts, digirm.WithLogger(app.Logger))...)
	if err != nil {
		return usage(err)
	}
	t.manager = c
	t.closers = append(t.closers, func() { _ = c.Close() })
	return nil
}

// Close stops the client, the receiver and the mock, last started first.
func (t *carrierTarget) Close() {
	if t == nil {
		return
	}
	for i := len(t.closers) - 1; i >= 0; i-- {
		t.closers[i]()
	}
	t.closers = nil
}

// Describe prints where the command runs.
func (t *carrierTarget) Describe() {
	for _, line := range t.describe {
		fmt.Fprintln(t.stdout, line)
	}
}

// ref is the profile a carrier command acts on, with the embedded mock's defaults.
func (pf *platformFlags) ref(eid, iccid *string, defICCID string) (esimgw.ProfileRef, error) {
	if pf.embedded() {
		if *eid == "" {
			*eid = carrierMockEID
		}
		if *iccid == "" {
			*iccid = defICCID
		}
	}
	switch {
	case *eid == "" && *iccid == "":
		return esimgw.ProfileRef{}, cli.Usagef("--eid and --iccid are required")
	case *eid == "":
		return esimgw.ProfileRef{}, cli.Usagef("--eid is required")
	case *iccid == "":
		return esimgw.ProfileRef{}, cli.Usagef("--iccid is required")
	}
	return esimgw.ProfileRef{EID: *eid, ICCID: *iccid, DeviceID: pf.deviceID}, nil
}

// carrierRunner is the runner of a carrier target: no callback server, a result by callback (ThingSpace)
// or by polling (Digi).
func (t *carrierTarget) runner(printf func(string, ...any)) *runner {
	what := "its callback"
	if t.pf.name == platformDigiRM {
		what = "its result (polling the transaction)"
	}
	return &runner{timeout: t.timeout, printf: printf, awaiting: what}
}

// auditEIS is the EIS document of a platform-neutral audit (Digi's inventory): the same fields as an
// SGP.02 audit's, with the states spelt as SGP.02 does.
func auditEIS(r *esimgw.AuditResult) *eisJSON {
	e := &eisJSON{EID: r.EID, Profiles: []profileJSON{}}
	for _, p := range r.Profiles {
		e.Profiles = append(e.Profiles, profileJSON{ICCID: p.ICCID, State: sgp02State(p.State), FallbackAttribute: p.Fallback,
			ProfileType: p.Type, Carrier: p.Carrier})
	}
	return e
}

func sgp02State(s esimgw.ProfileState) string {
	switch s {
	case esimgw.ProfileStateEnabled:
		return "Enabled"
	case esimgw.ProfileStateDisabled:
		return "Disabled"
	case esimgw.ProfileStateCreated:
		return "Created"
	}
	return "Unknown"
}

// printAudit prints a platform-neutral audit as a table.
func printAudit(w io.Writer, r *esimgw.AuditResult) {
	fmt.Fprintf(w, "eUICC %s\n", r.EID)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  ICCID\tSTATE\tTYPE\tCARRIER")
	for _, p := range r.Profiles {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", p.ICCID, sgp02State(p.State), cmpOr(p.Type, "-"), cmpOr(p.Carrier, "-"))
	}
	if len(r.Profiles) == 0 {
		fmt.Fprintln(tw, "  (no profiles)\t\t\t")
	}
	_ = tw.Flush()
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// waitTimeout says which wait ran out, and still matches context.DeadlineExceeded (esimgw.OutcomeOf
// reports it as NO_RESULT).
type waitTimeout struct {
	err error
	msg string
}

func (e *waitTimeout) Error() string { return e.msg }
func (e *waitTimeout) Unwrap() error { return e.err }

// waitOp waits for op within the runner's --timeout.
func waitOp[T any](ctx context.Context, r *runner, op *esimgw.Operation[T]) (T, error) {
	if r.session != nil {
		return cli.Wait(ctx, r.session, op)
	}
	wctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	v, err := op.Wait(wctx)
	if err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		err = &waitTimeout{err: err, msg: fmt.Sprintf("no result of %s %s within --timeout %s (FunctionCallIdentifier %s); it may still come",
			op.Interface(), op.Function(), r.timeout, op.FunctionCallIdentifier())}
	}
	return v, err
}

package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/digirm"
	"github.com/esimgw/esimgw/digirm/digirmtest"
	"github.com/esimgw/esimgw/thingspace"
	"github.com/esimgw/esimgw/thingspace/thingspacetest"
)

// The carrier platforms a program can run on beside SGP.02 (the CLI's --platform values).
const (
	PlatformThingSpace = "thingspace"
	PlatformDigiRM     = "digirm"
)

// The embedded carrier mocks' seeded eUICC and profiles: the same identifiers on both, and gatewaytest's.
const (
	CarrierMockEID      = thingspacetest.DefaultEID
	CarrierMockEnabled  = thingspacetest.EnabledICCID
	CarrierMockDisabled = thingspacetest.DisabledICCID
	CarrierMockCatalog  = thingspacetest.CatalogICCID
)

// CarrierFlags are the settings of the carrier platforms (Verizon ThingSpace, Digi Remote Manager) on a
// program's flags, with their ESIMGW_* fall-backs. A carrier platform without its endpoint runs against
// its embedded mock, as the SGP.02 programs do without gateway flags.
type CarrierFlags struct {
	// DeviceID is -device-id: Digi Remote Manager's device ID (optional).
	DeviceID string
	// ThingSpaceOptions are more options for the ThingSpace client Start builds (esimgw campaign run: the
	// campaign Recorder as its unmatched handler).
	ThingSpaceOptions []thingspace.Option

	tsURL, tsTokenURL, tsAppKey, tsAppSecret, tsUser, tsPassword string
	tsAccount, tsCallbackUser, tsCallbackPassword, tsSMSROID     string
	tsListen, tsCallbackURL, tsTLSCert, tsTLSKey                 string
	drmURL, drmUser, drmPassword, drmKeyID, drmKeySecret         string
}

// AddCarrierFlags adds the settings of platforms (PlatformThingSpace, PlatformDigiRM) to app's flags.
func AddCarrierFlags(app *App, platforms ...string) *CarrierFlags {
	cf := &CarrierFlags{}
	str := func(p *string, name, env, def, usage string) {
		app.Flags.StringVar(p, name, def, usage)
		app.EnvVar(name, env)
	}
	if slices.Contains(platforms, PlatformDigiRM) {
		str(&cf.DeviceID, "device-id", "DEVICE_ID", "", "digirm: the device ID (optional; the EID finds the device)")
	}
	if slices.Contains(platforms, PlatformThingSpace) {
		str(&cf.tsURL, "thingspace-url", "THINGSPACE_URL", "", "thingspace: the M2M API base, e.g. "+thingspace.DefaultBaseURL+" (default: the embedded mock)")
		str(&cf.tsTokenURL, "thingspace-token-url", "THINGSPACE_TOKEN_URL", "", "thingspace: the OAuth2 token endpoint (default with "+app.Flag("thingspace-url")+": "+thingspace.DefaultTokenURL+")")
		str(&cf.tsAppKey, "thingspace-app-key", "THINGSPACE_APP_KEY", "", "thingspace: the application key (OAuth2 client id)")
		str(&cf.tsAppSecret, "thingspace-app-secret", "THINGSPACE_APP_SECRET", "", "thingspace: the application secret")
		str(&cf.tsUser, "thingspace-user", "THINGSPACE_USER", "", "thingspace: the M2M account's user name (session login)")
		str(&cf.tsPassword, "thingspace-password", "THINGSPACE_PASSWORD", "", "thingspace: the M2M account's password")
		str(&cf.tsAccount, "thingspace-account", "THINGSPACE_ACCOUNT", "", "thingspace: the billing account (accountName; leading zeros matter)")
		str(&cf.tsCallbackUser, "thingspace-callback-user", "THINGSPACE_CALLBACK_USER", "", "thingspace: the user name ThingSpace echoes in the account's callbacks")
		str(&cf.tsCallbackPassword, "thingspace-callback-password", "THINGSPACE_CALLBACK_PASSWORD", "", "thingspace: the password ThingSpace echoes in the account's callbacks")
		str(&cf.tsSMSROID, "thingspace-smsr-oid", "THINGSPACE_SMSR_OID", "", "thingspace: the SM-SR object id sent with profile actions (optional)")
		str(&cf.tsListen, "thingspace-listen", "THINGSPACE_LISTEN", "", "thingspace: address the callback receiver listens on (default :9001; embedded mock: 127.0.0.1:0)")
		str(&cf.tsCallbackURL, "thingspace-callback-url", "THINGSPACE_CALLBACK_URL", "", "thingspace: the public URL of the callback receiver, registered for the account\n"+
			"(port 80, 443, 9001-9006, 28200-28220 or 50551-50559)")
		str(&cf.tsTLSCert, "thingspace-tls-cert", "THINGSPACE_TLS_CERT", "", "thingspace: the callback receiver's certificate (PEM; none: plain HTTP behind a TLS proxy)")
		str(&cf.tsTLSKey, "thingspace-tls-key", "THINGSPACE_TLS_KEY", "", "thingspace: the callback receiver certificate's private key (PEM)")
	}
	if slices.Contains(platforms, PlatformDigiRM) {
		str(&cf.drmURL, "digirm-url", "DIGIRM_URL", "", "digirm: the esim_profiles API, e.g. "+digirm.DefaultBaseURL+" (default: the embedded mock)")
		str(&cf.drmUser, "digirm-user", "DIGIRM_USER", "", "digirm: user name (HTTP Basic)")
		str(&cf.drmPassword, "digirm-password", "DIGIRM_PASSWORD", "", "digirm: password (HTTP Basic)")
		str(&cf.drmKeyID, "digirm-api-key-id", "DIGIRM_API_KEY_ID", "", "digirm: API key id (X-API-KEY-ID; instead of a user and password)")
		str(&cf.drmKeySecret, "digirm-api-key-secret", "DIGIRM_API_KEY_SECRET", "", "digirm: API key secret (X-API-KEY-SECRET)")
	}
	return cf
}

// Embedded reports whether platform runs against its embedded mock (no endpoint given).
func (cf *CarrierFlags) Embedded(platform string) bool {
	if platform == PlatformThingSpace {
		return cf.tsURL == ""
	}
	return cf.drmURL == ""
}

// Carrier is a running carrier platform client, and its mock and callback receiver when embedded.
type Carrier struct {
	Platform string // PlatformThingSpace or PlatformDigiRM
	Manager  esimgw.ProfileManager

	closers  []func()
	stdout   io.Writer
	describe []string
}

// Start builds the client of carrier platform (PlatformThingSpace or PlatformDigiRM) on its embedded mock
// unless its endpoint is given, with the callback receiver ThingSpace needs. A wrong setting is a
// *UsageError.
func (cf *CarrierFlags) Start(ctx context.Context, app *App, platform string) (t *Carrier, err error) {
	t = &Carrier{Platform: platform, stdout: app.Stdout}
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
	switch platform {
	case PlatformThingSpace:
		return t, t.startThingSpace(ctx, app, cf, mockLog)
	case PlatformDigiRM:
		return t, t.startDigiRM(app, cf, mockLog)
	}
	return t, Usagef("unknown carrier platform %q (%s or %s)", platform, PlatformThingSpace, PlatformDigiRM)
}

func (t *Carrier) startThingSpace(ctx context.Context, app *App, cf *CarrierFlags, mockLog *slog.Logger) error {
	var opts []thingspace.Option
	listen, callbackURL := cf.tsListen, cf.tsCallbackURL
	if cf.Embedded(t.Platform) {
		mock := thingspacetest.NewServer(thingspacetest.WithLogger(mockLog))
		t.closers = append(t.closers, mock.Close)
		opts = mock.ClientOptions()
		if listen == "" {
			listen = "127.0.0.1:0"
		}
		t.describe = append(t.describe, "platform  ThingSpace embedded mock at "+mock.URL+" (no "+app.Flag("thingspace-url")+" given)")
	} else {
		var missing []string
		for _, f := range []struct{ v, name string }{{cf.tsAppKey, "thingspace-app-key"}, {cf.tsAppSecret, "thingspace-app-secret"},
			{cf.tsUser, "thingspace-user"}, {cf.tsPassword, "thingspace-password"}, {cf.tsAccount, "thingspace-account"},
			{cf.tsCallbackUser, "thingspace-callback-user"}, {cf.tsCallbackPassword, "thingspace-callback-password"},
			{cf.tsCallbackURL, "thingspace-callback-url"}} {
			if f.v == "" {
				missing = append(missing, app.Flag(f.name))
			}
		}
		if len(missing) > 0 {
			return Usagef("against ThingSpace these are required: %s", strings.Join(missing, ", "))
		}
		if (cf.tsTLSCert == "") != (cf.tsTLSKey == "") {
			return Usagef("give %s and %s together", app.Flag("thingspace-tls-cert"), app.Flag("thingspace-tls-key"))
		}
		tokenURL := cf.tsTokenURL
		if tokenURL == "" {
			tokenURL = thingspace.DefaultTokenURL
		}
		opts = []thingspace.Option{thingspace.WithBaseURL(cf.tsURL), thingspace.WithTokenURL(tokenURL),
			thingspace.WithAppCredentials(cf.tsAppKey, cf.tsAppSecret), thingspace.WithSession(cf.tsUser, cf.tsPassword),
			thingspace.WithAccount(thingspace.Account{Name: cf.tsAccount, CallbackUsername: cf.tsCallbackUser, CallbackPassword: cf.tsCallbackPassword})}
		if cf.tsSMSROID != "" {
			opts = append(opts, thingspace.WithSMSROID(cf.tsSMSROID))
		}
		if listen == "" {
			listen = ":9001"
		}
		t.describe = append(t.describe, "platform  ThingSpace "+cf.tsURL)
	}
	var certs []tls.Certificate
	if cf.tsTLSCert != "" {
		// Loaded here, not by ServeTLS: its error would end the receiver's goroutine unseen, and the command
		// wait its whole timeout for callbacks nothing receives.
		pair, err := tls.LoadX509KeyPair(cf.tsTLSCert, cf.tsTLSKey)
		if err != nil {
			return fmt.Errorf("thingspace callback receiver certificate (%s, %s): %w", app.Flag("thingspace-tls-cert"), app.Flag("thingspace-tls-key"), err)
		}
		certs = []tls.Certificate{pair}
	}
	opts = append(opts, cf.ThingSpaceOptions...)
	c, err := thingspace.NewClient(append(opts, thingspace.WithLogger(app.Logger),
		thingspace.WithProgressHandler(func(_ context.Context, p thingspace.Progress) error {
			fmt.Fprintf(t.stdout, "   progress %s %s: %s (the final callback follows)\n", p.Key.Interface, p.Key.Function, p.Warning)
			return nil
		}))...)
	if err != nil {
		return asUsage(err)
	}
	t.Manager = c
	t.closers = append(t.closers, func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Close(cctx)
	})
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("thingspace callback receiver: cannot listen on %s (%s): %w", listen, app.Flag("thingspace-listen"), err)
	}
	srv := &http.Server{Handler: c.CallbackHandler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(app.Logger.Handler(), slog.LevelDebug)}
	if certs != nil {
		srv.TLSConfig = &tls.Config{Certificates: certs}
	}
	go func() {
		if certs != nil {
			_ = srv.ServeTLS(ln, "", "")
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
		if isBadInput(err) {
			return asUsage(fmt.Errorf("%s: %w", app.Flag("thingspace-callback-url"), err))
		}
		return fmt.Errorf("registering the callback URL %s: %w", callbackURL, err)
	}
	t.describe = append(t.describe, fmt.Sprintf("callbacks %s (listening on %s)", callbackURL, ln.Addr()))
	return nil
}

func (t *Carrier) startDigiRM(app *App, cf *CarrierFlags, mockLog *slog.Logger) error {
	var opts []digirm.Option
	if cf.Embedded(t.Platform) {
		mock := digirmtest.NewServer(digirmtest.WithLogger(mockLog))
		t.closers = append(t.closers, mock.Close)
		opts = mock.ClientOptions()
		t.describe = append(t.describe, "platform  Digi Remote Manager embedded mock at "+mock.URL+" (no "+app.Flag("digirm-url")+" given)")
	} else {
		basic, key := cf.drmUser != "" || cf.drmPassword != "", cf.drmKeyID != "" || cf.drmKeySecret != ""
		switch {
		case basic && key:
			return Usagef("give %s and %s or an API key (%s, %s), not both", app.Flag("digirm-user"), app.Flag("digirm-password"), app.Flag("digirm-api-key-id"), app.Flag("digirm-api-key-secret"))
		case basic:
			opts = append(opts, digirm.WithBasicAuth(cf.drmUser, cf.drmPassword))
		case key:
			opts = append(opts, digirm.WithAPIKey(cf.drmKeyID, cf.drmKeySecret))
		default:
			return Usagef("against Digi Remote Manager these are required: %s and %s, or %s and %s", app.Flag("digirm-user"), app.Flag("digirm-password"), app.Flag("digirm-api-key-id"), app.Flag("digirm-api-key-secret"))
		}
		opts = append(opts, digirm.WithBaseURL(cf.drmURL))
		t.describe = append(t.describe, "platform  Digi Remote Manager "+cf.drmURL+" (results by polling)")
	}
	c, err := digirm.NewClient(append(opts, digirm.WithLogger(app.Logger))...)
	if err != nil {
		return asUsage(err)
	}
	t.Manager = c
	t.closers = append(t.closers, func() { _ = c.Close() })
	return nil
}

// Close stops the client, the receiver and the mock, last started first. A nil Carrier does nothing.
func (t *Carrier) Close() {
	if t == nil {
		return
	}
	for i := len(t.closers) - 1; i >= 0; i-- {
		t.closers[i]()
	}
	t.closers = nil
}

// Describe prints where the command runs.
func (t *Carrier) Describe() {
	for _, line := range t.describe {
		fmt.Fprintln(t.stdout, line)
	}
}

// asUsage makes err, a setting the library refused, a *UsageError.
func asUsage(err error) error {
	if err == nil || isUsage(err) {
		return err
	}
	return &UsageError{Msg: Message(err)}
}

// isBadInput reports whether err is a value the library refused before sending anything.
func isBadInput(err error) bool {
	var ve *esimgw.ValidationError
	return errors.As(err, &ve)
}

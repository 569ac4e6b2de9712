package thingspace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/internal/rest"
)

// Default endpoints (docs/carriers.md).
const (
	DefaultBaseURL  = "https://thingspace.verizon.com/api/m2m/v1"
	DefaultTokenURL = "https://thingspace.verizon.com/api/ts/v1/oauth2/token"
)

// ServiceDeviceProfile is the callback service that carries profile results.
const ServiceDeviceProfile = "DeviceProfileService"

// Action is a profile action: the last segment of its path.
type Action string

// The eUICC profile actions.
const (
	ActionDownloadEnable  Action = "download_enable"
	ActionDownloadDisable Action = "download_disable"
	ActionEnable          Action = "enable"
	ActionDisable         Action = "disable"
	ActionDelete          Action = "delete"
)

// APIError is a ThingSpace error answer: HTTP status, errorCode and errorMessage.
type APIError = rest.APIError

// UncertainError is a profile action that was sent but got no answer: it may have been executed, and it
// was not sent again.
type UncertainError = rest.UncertainError

// RetryPolicy bounds retries (see internal/rest for what is retried).
type RetryPolicy = rest.RetryPolicy

// Account is one billing account the client acts for, with the credentials ThingSpace echoes in that
// account's callbacks (given when registering the callback URL).
type Account struct {
	Name             string // the accountName, e.g. "0000123456-00001" (leading zeros matter)
	CallbackUsername string
	CallbackPassword string
}

// Progress is a callback that did not end its operation: EXECUTED_WITHWARNING, which a device that did not
// answer in time gets before its final result (docs/carriers.md).
type Progress struct {
	Key      correlate.OperationKey
	Account  string
	Warning  *esimgw.Warning
	Callback *Callback
}

type config struct {
	base, tokenURL     string
	appKey, appSecret  string
	username, password string
	accounts           []Account
	smsrOID            string
	sharedStore        bool // the store was given (WithStore): other replicas may send through it
	httpc              *http.Client
	store              correlate.Store
	opTimeout          time.Duration
	retry              RetryPolicy
	margin             time.Duration
	now                func() time.Time
	logger             *slog.Logger
	progress           func(context.Context, Progress) error
	unmatched          func(context.Context, *Callback) error
	duplicate          func(context.Context, *Callback)
	sources            []netip.Prefix
	anyPort            bool
	barrier            time.Duration
}

// Option configures a Client.
type Option func(*config)

// WithBaseURL sets the M2M API base (default DefaultBaseURL).
func WithBaseURL(u string) Option { return func(c *config) { c.base = u } }

// WithTokenURL sets the OAuth2 token endpoint (default DefaultTokenURL).
func WithTokenURL(u string) Option { return func(c *config) { c.tokenURL = u } }

// WithAppCredentials sets the ThingSpace application key and secret (OAuth2 client credentials).
// Required.
func WithAppCredentials(key, secret string) Option {
	return func(c *config) { c.appKey, c.appSecret = key, secret }
}

// WithSession sets the M2M user name and password for the session login. Required.
func WithSession(username, password string) Option {
	return func(c *config) { c.username, c.password = username, password }
}

// WithAccount adds an account (at least one is required; the first is the default for a ProfileRef with
// no Account). Its callback credentials are required: they are how callbacks are authenticated.
func WithAccount(a Account) Option { return func(c *config) { c.accounts = append(c.accounts, a) } }

// WithSMSROID sets the SM-SR object ID sent as smsrOid. Required.
func WithSMSROID(oid string) Option { return func(c *config) { c.smsrOID = oid } }

// WithHTTPClient sets the HTTP client for the API and the token endpoint.
func WithHTTPClient(h *http.Client) Option { return func(c *config) { c.httpc = h } }

// WithStore keeps the client's pending operations, their results and the callbacks already handed over in
// s (default: a new in-memory correlate.Tracker). Give it the Dispatcher's Store to keep ES2/ES4 and
// ThingSpace operations in one place; with a durable store replicas can each take any callback. A store
// given here may be shared with other senders, so a callback for an operation it does not know (yet) is
// refused with 503 while ThingSpace will try it again (callbackCount below maxCallbackThreshold): the
// replica that sent the request registers the operation only once ThingSpace answered it. The last
// attempt goes to the unmatched handler.
func WithStore(s correlate.Store) Option { return func(c *config) { c.store = s } }

// WithOperationTimeout sets how long an operation is kept waiting for its callback in the store before
// the store may forget it (default 24 h: a device can stay unreachable for long).
func WithOperationTimeout(d time.Duration) Option { return func(c *config) { c.opTimeout = d } }

// WithRetryPolicy sets retry bounds.
func WithRetryPolicy(p RetryPolicy) Option { return func(c *config) { c.retry = p } }

// WithTokenRefreshMargin sets how long before its expiry the bearer token is replaced (default 1 min).
func WithTokenRefreshMargin(d time.Duration) Option { return func(c *config) { c.margin = d } }

// WithClock sets the clock the token expiry is judged by (default time.Now). For tests.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithProgressHandler receives each warning callback once (see Progress). An error answers 500, so that
// ThingSpace delivers it again.
func WithProgressHandler(f func(ctx context.Context, p Progress) error) Option {
	return func(c *config) { c.progress = f }
}

// WithUnmatchedHandler receives authenticated callbacks no operation waits for (after a restart, or for
// an operation whose waiter gave up). An error answers 500, so that ThingSpace delivers it again. Without
// one they are acknowledged and logged at Warn level with every identifier.
func WithUnmatchedHandler(f func(ctx context.Context, cb *Callback) error) Option {
	return func(c *config) { c.unmatched = f }
}

// WithDuplicateHandler is told of each callback that repeats one already handed over.
func WithDuplicateHandler(f func(ctx context.Context, cb *Callback)) Option {
	return func(c *config) { c.duplicate = f }
}

// WithAllowedSources accepts callbacks only from these source networks (ThingSpace's published
// addresses); others are refused 403. Without it any source that presents the credentials is accepted.
// Behind a proxy the source is the proxy: filter there instead.
func WithAllowedSources(prefixes ...netip.Prefix) Option {
	return func(c *config) { c.sources = append(c.sources, prefixes...) }
}

// WithoutCallbackPortCheck lets RegisterCallback register URLs on any port. ThingSpace only calls the
// ports listed in docs/carriers.md; this is for mocks on loopback.
func WithoutCallbackPortCheck() Option { return func(c *config) { c.anyPort = true } }

// Client calls the ThingSpace eUICC profile actions for a set of accounts, and receives their callbacks
// (CallbackHandler). It implements esimgw.ProfileDownloader. It is safe for concurrent use.
type Client struct {
	cfg      config
	api      *rest.Client
	creds    *credentials
	store    correlate.Store
	accounts map[string]Account
	logger   *slog.Logger

	mu       sync.Mutex
	pending  map[string]*pendingRequest // by requestId
	swept    int                        // len(pending) after the last sweep
	inflight map[uint64]chan struct{}   // profile actions sent whose answer (the requestId) is not yet read
	nextPost uint64
}

// pendingRequest is what the receiver needs to know of an operation waiting for its callback.
type pendingRequest struct {
	account string
	p       *correlate.Pending
}

var _ esimgw.ProfileDownloader = (*Client)(nil)

// NewClient returns a client; see the options for what is required.
func NewClient(opts ...Option) (*Client, error) {
	cfg := config{base: DefaultBaseURL, tokenURL: DefaultTokenURL, margin: time.Minute, now: time.Now,
		logger: slog.New(slog.DiscardHandler), barrier: 30 * time.Second, opTimeout: 24 * time.Hour}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	switch {
	case cfg.appKey == "" || cfg.appSecret == "":
		return nil, errors.New("thingspace: WithAppCredentials is required")
	case cfg.username == "" || cfg.password == "":
		return nil, errors.New("thingspace: WithSession is required")
	case len(cfg.accounts) == 0:
		return nil, errors.New("thingspace: at least one WithAccount is required")
	}
	if err := esimgw.ValidateOID("smsrOid", cfg.smsrOID); err != nil {
		return nil, err
	}
	accounts := make(map[string]Account, len(cfg.accounts))
	for _, a := range cfg.accounts {
		if err := validateAccountName(a.Name); err != nil {
			return nil, err
		}
		if a.CallbackUsername == "" || a.CallbackPassword == "" {
			return nil, fmt.Errorf("thingspace: account %q: callback username and password are required (they authenticate its callbacks)", a.Name)
		}
		if _, dup := accounts[a.Name]; dup {
			return nil, fmt.Errorf("thingspace: account %q given twice", a.Name)
		}
		accounts[a.Name] = a
	}
	if cfg.httpc == nil {
		cfg.httpc = &http.Client{Timeout: 60 * time.Second}
	}
	cfg.sharedStore = cfg.store != nil
	if cfg.store == nil {
		cfg.store = correlate.NewTracker(correlate.WithLogger(cfg.logger))
	}
	ropts := []rest.Option{rest.WithHTTPClient(cfg.httpc), rest.WithLogger(cfg.logger), rest.WithUserAgent("esimgw-thingspace")}
	if cfg.retry != (RetryPolicy{}) {
		ropts = append(ropts, rest.WithRetryPolicy(cfg.retry))
	}
	api, err := rest.New("thingspace", cfg.base, ropts...)
	if err != nil {
		return nil, err
	}
	creds := &credentials{
		cc: clientcredentials.Config{ClientID: cfg.appKey, ClientSecret: cfg.appSecret, TokenURL: cfg.tokenURL,
			AuthStyle: oauth2.AuthStyleInHeader},
		httpc: cfg.httpc, api: api, username: cfg.username, password: cfg.password, margin: cfg.margin, now: cfg.now,
	}
	rest.WithAuthorizer(creds)(api)
	return &Client{cfg: cfg, api: api, creds: creds, store: cfg.store, accounts: accounts, logger: cfg.logger,
		pending: make(map[string]*pendingRequest), inflight: make(map[uint64]chan struct{})}, nil
}

// validateAccountName: ThingSpace account names are short printable strings ("1223334444-00001").
func validateAccountName(name string) error {
	if name == "" || len(name) > 64 || strings.TrimSpace(name) != name || strings.ContainsAny(name, "/?#%") {
		return &esimgw.ValidationError{Field: esimgw.FieldAccount, Value: name, Rule: "must be 1 to 64 characters without blanks around them or / ? # %"}
	}
	for i := 0; i < len(name); i++ {
		if name[i] < 0x20 || name[i] > 0x7e {
			return &esimgw.ValidationError{Field: esimgw.FieldAccount, Value: name, Rule: "must be printable ASCII"}
		}
	}
	return nil
}

// Platform returns esimgw.PlatformThingSpace.
func (c *Client) Platform() esimgw.Platform { return esimgw.PlatformThingSpace }

// Store returns the store the client's operations are kept in.
func (c *Client) Store() correlate.Store { return c.store }

// account resolves a ProfileRef's Account: "" is the first configured one; any other must be configured.
func (c *Client) account(name string) (Account, error) {
	if name == "" {
		return c.cfg.accounts[0], nil
	}
	a, ok := c.accounts[name]
	if !ok {
		return Account{}, &esimgw.ValidationError{Field: esimgw.FieldAccount, Value: name, Rule: "unknown account: not configured on this client (WithAccount)"}
	}
	return a, nil
}

// Enable enables a downloaded profile (POST .../actions/enable); the result arrives by callback.
func (c *Client) Enable(ctx context.Context, ref esimgw.ProfileRef) (*esimgw.Operation[*esimgw.Result], error) {
	return c.profileAction(ctx, ActionEnable, ref)
}

// Disable disables a profile.
func (c *Client) Disable(ctx context.Context, ref esimgw.ProfileRef) (*esimgw.Operation[*esimgw.Result], error) {
	return c.profileAction(ctx, ActionDisable, ref)
}

// Delete deletes a profile.
func (c *Client) Delete(ctx context.Context, ref esimgw.ProfileRef) (*esimgw.Operation[*esimgw.Result], error) {
	return c.profileAction(ctx, ActionDelete, ref)
}

// Download downloads profile spec.ICCID and enables it (download_enable) or leaves it disabled
// (download_disable). ThingSpace downloads by ICCID only: a ProfileType or activation code is refused.
func (c *Client) Download(ctx context.Context, spec esimgw.DownloadSpec) (*esimgw.Operation[*esimgw.DownloadResult], error) {
	switch {
	case spec.ProfileType != "":
		return nil, &esimgw.ValidationError{Field: "ProfileType", Value: spec.ProfileType, Rule: "ThingSpace downloads by ICCID, not by profile type"}
	case spec.ActivationCode != "":
		return nil, &esimgw.ValidationError{Field: esimgw.FieldActivationCode, Value: spec.ActivationCode, Rule: "ThingSpace downloads by ICCID, not by activation code"}
	}
	action := ActionDownloadDisable
	if spec.Enable {
		action = ActionDownloadEnable
	}
	ref := esimgw.ProfileRef{EID: spec.EID, ICCID: spec.ICCID, Account: spec.Account}
	return start(ctx, c, action, ref, func(cb *Callback, err error) (*esimgw.DownloadResult, error) {
		r := &esimgw.DownloadResult{Result: esimgw.Result{Err: err}, Iccid: spec.ICCID}
		if cb != nil {
			if got := cb.Device("iccid"); got != "" {
				r.Iccid = got
			}
		}
		return r, err
	})
}

func (c *Client) profileAction(ctx context.Context, action Action, ref esimgw.ProfileRef) (*esimgw.Operation[*esimgw.Result], error) {
	return start(ctx, c, action, ref, func(_ *Callback, err error) (*esimgw.Result, error) {
		return &esimgw.Result{Err: err}, err
	})
}

type actionRequest struct {
	Devices     []actionDevice `json:"devices"`
	AccountName string         `json:"accountName"`
	SMSROID     string         `json:"smsrOid"`
}

type actionDevice struct {
	DeviceIDs []DeviceID `json:"deviceIds"`
}

type actionResponse struct {
	RequestID string `json:"requestId"`
}

// start validates ref, sends the action and registers its operation under the requestId ThingSpace
// answers with. convert makes the typed result from the final callback.
func start[T any](ctx context.Context, c *Client, action Action, ref esimgw.ProfileRef, convert func(*Callback, error) (T, error)) (*esimgw.Operation[T], error) {
	if err := ref.Validate(); err != nil {
		return nil, err
	}
	acct, err := c.account(ref.Account)
	if err != nil {
		return nil, err
	}
	body := actionRequest{
		Devices:     []actionDevice{{DeviceIDs: []DeviceID{{Kind: "eid", ID: ref.EID}, {Kind: "iccid", ID: ref.ICCID}}}},
		AccountName: acct.Name, SMSROID: c.cfg.smsrOID,
	}
	done := c.beginPost()
	var out actionResponse
	_, err = c.api.Do(ctx, rest.Request{Method: http.MethodPost, Path: "/devices/profile/actions/" + string(action), Body: body}, &out)
	if err != nil {
		done()
		return nil, err
	}
	if strings.TrimSpace(out.RequestID) == "" || len(out.RequestID) > maxFieldLength {
		done()
		return nil, &rest.DecodeError{Platform: "thingspace", Method: http.MethodPost, Path: "/devices/profile/actions/" + string(action),
			Err: errors.New("the answer has no usable requestId")}
	}
	key := correlate.OperationKey{MessageID: out.RequestID, FunctionCallIdentifier: out.RequestID,
		Interface: string(esimgw.PlatformThingSpace), Function: string(action)}
	p, err := c.store.RegisterOperation(ctx, key, time.Now().Add(c.cfg.opTimeout))
	if err != nil {
		done()
		return nil, fmt.Errorf("thingspace: requestId %s: %w", out.RequestID, err)
	}
	c.addPending(out.RequestID, &pendingRequest{account: acct.Name, p: p})
	done() // after registering: a callback that raced the answer now finds its operation
	return esimgw.NewOperation(c.store, p, func(v any, err error) (T, error) {
		cb, _ := v.(*Callback)
		return convert(cb, err)
	}), nil
}

// beginPost records a profile action in flight; the callback receiver waits for those before it
// declares a callback unmatched, since its requestId may be in an answer not yet read.
func (c *Client) beginPost() (done func()) {
	c.mu.Lock()
	id := c.nextPost
	c.nextPost++
	ch := make(chan struct{})
	c.inflight[id] = ch
	c.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			delete(c.inflight, id)
			c.mu.Unlock()
			close(ch)
		})
	}
}

// awaitInflight waits until every profile action that was in flight when it was called has its answer
// (bounded by the barrier timeout and ctx).
func (c *Client) awaitInflight(ctx context.Context) {
	c.mu.Lock()
	chans := make([]chan struct{}, 0, len(c.inflight))
	for _, ch := range c.inflight {
		chans = append(chans, ch)
	}
	c.mu.Unlock()
	if len(chans) == 0 {
		return
	}
	t := time.NewTimer(c.cfg.barrier)
	defer t.Stop()
	for _, ch := range chans {
		select {
		case <-ch:
		case <-t.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

func (c *Client) addPending(requestID string, pr *pendingRequest) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pending[requestID] = pr
	if len(c.pending) > 2*c.swept+64 {
		// Operations whose waiter gave up leave their entry; drop those now and then, so memory follows
		// the operations still pending.
		for id, q := range c.pending {
			select {
			case <-q.p.Done():
				delete(c.pending, id)
			default:
			}
		}
		c.swept = len(c.pending)
	}
}

func (c *Client) lookupPending(requestID string) *pendingRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pending[requestID]
}

func (c *Client) dropPending(requestID string) {
	c.mu.Lock()
	delete(c.pending, requestID)
	c.mu.Unlock()
}

// Stats counts the client's work.
type Stats struct {
	rest.Stats
	TokenFetches  int // OAuth2 tokens fetched
	SessionLogins int // M2M sessions started
}

// Stats returns the counters.
func (c *Client) Stats() Stats {
	tokens, logins := c.creds.counts()
	return Stats{Stats: c.api.Stats(), TokenFetches: tokens, SessionLogins: logins}
}

// Close ends the M2M session (POST /session/logout). Pending operations stay registered.
func (c *Client) Close(ctx context.Context) error { return c.creds.logout(ctx) }

// CallbackRegistration is one registered callback listener of an account.
type CallbackRegistration struct {
	AccountName string `json:"accountName,omitempty"`
	Name        string `json:"name"`
	URL         string `json:"url"`
	Username    string `json:"username,omitempty"`
	Password    string `json:"password,omitempty"`
}

// RegisterCallback registers callbackURL as the account's DeviceProfileService listener, with the
// account's callback credentials so that its callbacks can be authenticated. The URL must be https (or
// http) on a port ThingSpace calls (80, 443, 9001-9006, 28200-28220, 50551-50559).
func (c *Client) RegisterCallback(ctx context.Context, account, callbackURL string) error {
	acct, err := c.account(account)
	if err != nil {
		return err
	}
	if err := c.validateCallbackURL(callbackURL); err != nil {
		return err
	}
	body := CallbackRegistration{Name: ServiceDeviceProfile, URL: callbackURL, Username: acct.CallbackUsername, Password: acct.CallbackPassword}
	_, err = c.api.Do(ctx, rest.Request{Method: http.MethodPost, Path: "/callbacks/" + url.PathEscape(acct.Name), Body: body}, nil)
	return err
}

// ListCallbacks returns the account's registered listeners.
func (c *Client) ListCallbacks(ctx context.Context, account string) ([]CallbackRegistration, error) {
	acct, err := c.account(account)
	if err != nil {
		return nil, err
	}
	var out []CallbackRegistration
	_, err = c.api.Do(ctx, rest.Request{Method: http.MethodGet, Path: "/callbacks/" + url.PathEscape(acct.Name), Idempotent: true}, &out)
	return out, err
}

// DeregisterCallback removes the account's listener for service ("" is ServiceDeviceProfile).
func (c *Client) DeregisterCallback(ctx context.Context, account, service string) error {
	acct, err := c.account(account)
	if err != nil {
		return err
	}
	if service == "" {
		service = ServiceDeviceProfile
	}
	_, err = c.api.Do(ctx, rest.Request{Method: http.MethodDelete,
		Path: "/callbacks/" + url.PathEscape(acct.Name) + "/name/" + url.PathEscape(service), Idempotent: true}, nil)
	return err
}

// CallbackPortAllowed reports whether ThingSpace calls back on port.
func CallbackPortAllowed(port int) bool {
	switch {
	case port == 80, port == 443:
	case port >= 9001 && port <= 9006:
	case port >= 28200 && port <= 28220:
	case port >= 50551 && port <= 50559:
	default:
		return false
	}
	return true
}

func (c *Client) validateCallbackURL(raw string) error {
	bad := func(rule string) error { return &esimgw.ValidationError{Field: "url", Value: raw, Rule: rule} }
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil {
		return bad("must be an absolute http(s) URL without credentials")
	}
	if c.cfg.anyPort {
		return nil
	}
	port := 443
	if u.Scheme == "http" {
		port = 80
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return bad("bad port")
		}
		port = n
	}
	if !CallbackPortAllowed(port) {
		return bad("ThingSpace calls back only on ports 80, 443, 9001-9006, 28200-28220 and 50551-50559")
	}
	return nil
}

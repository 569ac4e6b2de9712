package digirm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/internal/rest"
)

// DefaultBaseURL is the esim_profiles API of Digi's hosted Remote Manager.
const DefaultBaseURL = "https://remotemanager.digi.com/ws/v1/esim_profiles"

// APIError is a Digi Remote Manager error answer (HTTP status, error code and message when sent).
type APIError = rest.APIError

// UncertainError is an action that was sent but got no answer: it may have been executed, and it was not
// sent again.
type UncertainError = rest.UncertainError

// RetryPolicy bounds retries (see internal/rest for what is retried).
type RetryPolicy = rest.RetryPolicy

// Throttle is the web-service rate the client keeps to: at most Requests starts in any Window, at most
// Concurrent requests in flight. Digi counts calls over a sliding 10-second window (docs/carriers.md);
// the client spaces its own by Window plus Margin, so that network jitter cannot push two windows' worth
// into one of Digi's.
type Throttle struct {
	Requests   int
	Window     time.Duration
	Concurrent int
	Margin     time.Duration
}

// DefaultThrottle returns the Premier account's limit: 240 calls a minute (40 in any 10 s) and 4 at once.
// Other subscriptions allow less; set yours with WithThrottle.
func DefaultThrottle() Throttle { return ThrottlePerMinute(240, 4) }

// ThrottlePerMinute returns the Throttle for a limit stated per minute, over Digi's 10-second window.
func ThrottlePerMinute(perMinute, concurrent int) Throttle {
	return Throttle{Requests: max(perMinute/6, 1), Window: 10 * time.Second, Concurrent: concurrent, Margin: 500 * time.Millisecond}
}

type config struct {
	base               string
	user, password     string
	keyID, keySecret   string
	httpc              *http.Client
	store              correlate.Store
	opTimeout          time.Duration
	retry              RetryPolicy
	throttle           Throttle
	pollFirst, pollMax time.Duration
	logger             *slog.Logger
	maxBody            int64
}

// Option configures a Client.
type Option func(*config)

// WithBaseURL sets the esim_profiles API base, e.g. https://remotemanager.digi.com/ws/v1/esim_profiles
// (the default).
func WithBaseURL(u string) Option { return func(c *config) { c.base = u } }

// WithBasicAuth authenticates with a user name and password. Exactly one of WithBasicAuth and WithAPIKey
// is required.
func WithBasicAuth(user, password string) Option {
	return func(c *config) { c.user, c.password = user, password }
}

// WithAPIKey authenticates with an API key (X-API-KEY-ID, X-API-KEY-SECRET), required for SSO accounts.
func WithAPIKey(id, secret string) Option {
	return func(c *config) { c.keyID, c.keySecret = id, secret }
}

// WithHTTPClient sets the HTTP client.
func WithHTTPClient(h *http.Client) Option { return func(c *config) { c.httpc = h } }

// WithStore keeps the client's pending operations and their results in s (default: a new in-memory
// correlate.Tracker), e.g. the Dispatcher's Store, so that every platform's operations are in one place.
func WithStore(s correlate.Store) Option { return func(c *config) { c.store = s } }

// WithOperationTimeout sets how long an operation is kept in the store before the store may forget it
// (default 1 h; Digi's actions take 3 to 10 minutes).
func WithOperationTimeout(d time.Duration) Option { return func(c *config) { c.opTimeout = d } }

// WithRetryPolicy sets retry bounds.
func WithRetryPolicy(p RetryPolicy) Option { return func(c *config) { c.retry = p } }

// WithThrottle sets the rate the client keeps to (default DefaultThrottle()).
func WithThrottle(t Throttle) Option { return func(c *config) { c.throttle = t } }

// WithPollInterval sets the first progress poll's delay after an action (default 30 s: actions take 3 to
// 10 minutes) and the most the back-off grows to between polls (default 2 min).
func WithPollInterval(first, most time.Duration) Option {
	return func(c *config) { c.pollFirst, c.pollMax = first, most }
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// Client drives Digi Remote Manager's v1/esim_profiles API. It implements esimgw.ProfileDownloader and
// esimgw.ProfileAuditor; every action is an *esimgw.Operation that completes by polling its transaction
// (the API has no callback). It is safe for concurrent use; Close stops its pollers.
type Client struct {
	cfg    config
	api    *rest.Client
	store  correlate.Store
	logger *slog.Logger

	ctx    context.Context // the pollers' context, ended by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	actions, polls, completed, failed atomic.Int64
}

var (
	_ esimgw.ProfileDownloader = (*Client)(nil)
	_ esimgw.ProfileAuditor    = (*Client)(nil)
)

type basicAuth struct{ user, password string }

func (a basicAuth) Authorize(_ context.Context, r *http.Request) (any, error) {
	r.SetBasicAuth(a.user, a.password)
	return nil, nil
}

func (basicAuth) Renew(context.Context, any, *rest.APIError) bool { return false }

type apiKey struct{ id, secret string }

func (a apiKey) Authorize(_ context.Context, r *http.Request) (any, error) {
	r.Header.Set("X-API-KEY-ID", a.id)
	r.Header.Set("X-API-KEY-SECRET", a.secret)
	return nil, nil
}

func (apiKey) Renew(context.Context, any, *rest.APIError) bool { return false }

// NewClient returns a client; Close it when done.
func NewClient(opts ...Option) (*Client, error) {
	cfg := config{base: DefaultBaseURL, throttle: DefaultThrottle(), pollFirst: 30 * time.Second, pollMax: 2 * time.Minute,
		logger: slog.New(slog.DiscardHandler), maxBody: 64 << 20, opTimeout: time.Hour}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	var auth rest.Authorizer
	switch basic, key := cfg.user != "" || cfg.password != "", cfg.keyID != "" || cfg.keySecret != ""; {
	case basic && key:
		return nil, errors.New("digirm: give WithBasicAuth or WithAPIKey, not both")
	case basic && (cfg.user == "" || cfg.password == ""):
		return nil, errors.New("digirm: WithBasicAuth needs a user name and a password")
	case key && (cfg.keyID == "" || cfg.keySecret == ""):
		return nil, errors.New("digirm: WithAPIKey needs an id and a secret")
	case basic:
		auth = basicAuth{cfg.user, cfg.password}
	case key:
		auth = apiKey{cfg.keyID, cfg.keySecret}
	default:
		return nil, errors.New("digirm: WithBasicAuth or WithAPIKey is required")
	}
	t := cfg.throttle
	if t.Requests < 1 || t.Window <= 0 || t.Concurrent < 1 || t.Margin < 0 {
		return nil, fmt.Errorf("digirm: throttle %+v: want Requests, Window and Concurrent positive", t)
	}
	if cfg.pollFirst <= 0 || cfg.pollMax < cfg.pollFirst {
		return nil, fmt.Errorf("digirm: poll interval %v..%v: want 0 < first <= most", cfg.pollFirst, cfg.pollMax)
	}
	if cfg.httpc == nil {
		// Keep an idle connection for each request that may run at once (net/http keeps two by default).
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = max(t.Concurrent, 2)
		cfg.httpc = &http.Client{Timeout: 60 * time.Second, Transport: tr}
	}
	if cfg.store == nil {
		cfg.store = correlate.NewTracker(correlate.WithLogger(cfg.logger))
	}
	ropts := []rest.Option{rest.WithHTTPClient(cfg.httpc), rest.WithAuthorizer(auth), rest.WithLogger(cfg.logger),
		rest.WithUserAgent("esimgw-digirm"), rest.WithRateLimit(t.Requests, t.Window+t.Margin), rest.WithConcurrency(t.Concurrent),
		rest.WithMaxBody(cfg.maxBody)}
	if cfg.retry != (RetryPolicy{}) {
		ropts = append(ropts, rest.WithRetryPolicy(cfg.retry))
	}
	api, err := rest.New("digirm", cfg.base, ropts...)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Client{cfg: cfg, api: api, store: cfg.store, logger: cfg.logger, ctx: ctx, cancel: cancel}, nil
}

// Close stops polling. Operations still pending stay pending (their transactions go on at Digi); wait for
// them before closing, or find their outcome later with Progress.
func (c *Client) Close() error {
	c.cancel()
	c.wg.Wait()
	return nil
}

// Platform returns esimgw.PlatformDigiRM.
func (c *Client) Platform() esimgw.Platform { return esimgw.PlatformDigiRM }

// Store returns the store the client's operations are kept in.
func (c *Client) Store() correlate.Store { return c.store }

// Stats counts the client's work: HTTP requests (and throttling), actions sent, progress polls, and
// operations completed or failed.
type Stats struct {
	rest.Stats
	Actions   int64 // action requests that were accepted (a transaction came back)
	Polls     int64 // progress requests
	Completed int64 // operations that ended (complete, failed or unknown)
	Failed    int64 // of which failed or unknown
}

// RequestsPerOperation is the polling cost: HTTP requests (actions, polls, retries and throttled attempts
// included) per completed operation; 0 before any completed.
func (s Stats) RequestsPerOperation() float64 {
	if s.Completed == 0 {
		return 0
	}
	return float64(s.Requests) / float64(s.Completed)
}

// PollsPerOperation is the progress polls per completed operation.
func (s Stats) PollsPerOperation() float64 {
	if s.Completed == 0 {
		return 0
	}
	return float64(s.Polls) / float64(s.Completed)
}

// Stats returns the counters.
func (c *Client) Stats() Stats {
	return Stats{Stats: c.api.Stats(), Actions: c.actions.Load(), Polls: c.polls.Load(), Completed: c.completed.Load(), Failed: c.failed.Load()}
}

// ValidateDeviceID checks a Digi device ID ("00000000-00000000-0040FFFF-FF0F4242"): hexadecimal groups
// separated by dashes, at most 64 characters. "" (none given) is valid.
func ValidateDeviceID(id string) error {
	if id == "" {
		return nil
	}
	bad := &esimgw.ValidationError{Field: esimgw.FieldDeviceID, Value: id, Rule: "must be hexadecimal groups separated by dashes, e.g. 00000000-00000000-0040FFFF-FF0F4242"}
	if len(id) > 64 || id[0] == '-' || id[len(id)-1] == '-' || strings.Contains(id, "--") {
		return bad
	}
	for i := 0; i < len(id); i++ {
		switch ch := id[i]; {
		case ch == '-', ch >= '0' && ch <= '9', ch >= 'a' && ch <= 'f', ch >= 'A' && ch <= 'F':
		default:
			return bad
		}
	}
	return nil
}

// actionBody is the payload of the four actions.
type actionBody struct {
	DeviceID       string `json:"device_id,omitempty"`
	EID            string `json:"eid,omitempty"`
	ICCID          string `json:"iccid,omitempty"`
	ActivationCode string `json:"activation_code,omitempty"`
}

func validateRef(ref esimgw.ProfileRef) error {
	if err := ref.Validate(); err != nil {
		return err
	}
	if err := esimgw.ValidateNoAccount(esimgw.PlatformDigiRM, ref.Account); err != nil {
		return err
	}
	return ValidateDeviceID(ref.DeviceID)
}

// Enable enables a downloaded profile (POST /enable), completing when its transaction does.
func (c *Client) Enable(ctx context.Context, ref esimgw.ProfileRef) (*esimgw.Operation[*esimgw.Result], error) {
	return c.profileAction(ctx, "enable", ref)
}

// Disable disables the active profile (POST /disable).
func (c *Client) Disable(ctx context.Context, ref esimgw.ProfileRef) (*esimgw.Operation[*esimgw.Result], error) {
	return c.profileAction(ctx, "disable", ref)
}

// Delete deletes a profile from the eSIM (POST /delete).
func (c *Client) Delete(ctx context.Context, ref esimgw.ProfileRef) (*esimgw.Operation[*esimgw.Result], error) {
	return c.profileAction(ctx, "delete", ref)
}

func (c *Client) profileAction(ctx context.Context, action string, ref esimgw.ProfileRef) (*esimgw.Operation[*esimgw.Result], error) {
	if err := validateRef(ref); err != nil {
		return nil, err
	}
	body := actionBody{DeviceID: ref.DeviceID, EID: ref.EID, ICCID: ref.ICCID}
	return startOperation(ctx, c, action, body, func(t *Transaction, err error) (*esimgw.Result, error) {
		return &esimgw.Result{Err: err}, err
	})
}

// Download downloads a profile: by spec.ICCID when its activation code is registered with Digi, else by
// spec.ActivationCode (exactly one of the two). With spec.Enable an enable transaction follows once the
// download completed, and the operation completes with it. The result names the ICCID the device
// reported.
func (c *Client) Download(ctx context.Context, spec esimgw.DownloadSpec) (*esimgw.Operation[*esimgw.DownloadResult], error) {
	if err := esimgw.ValidateEID(spec.EID); err != nil {
		return nil, err
	}
	if err := esimgw.ValidateNoAccount(esimgw.PlatformDigiRM, spec.Account); err != nil {
		return nil, err
	}
	if err := ValidateDeviceID(spec.DeviceID); err != nil {
		return nil, err
	}
	switch {
	case spec.ProfileType != "":
		return nil, &esimgw.ValidationError{Field: "ProfileType", Value: spec.ProfileType, Rule: "Digi Remote Manager downloads by ICCID or activation code, not by profile type"}
	case spec.ICCID != "" && spec.ActivationCode != "":
		return nil, &esimgw.ValidationError{Field: esimgw.FieldActivationCode, Value: spec.ActivationCode,
			Rule: "give an ICCID (registered activation code) or an activation code, not both"}
	case spec.ICCID != "":
		if err := esimgw.ValidateICCID(spec.ICCID); err != nil {
			return nil, err
		}
	default:
		if err := esimgw.ValidateActivationCode(spec.ActivationCode); err != nil {
			if spec.ActivationCode == "" {
				return nil, &esimgw.ValidationError{Field: esimgw.FieldActivationCode,
					Rule: "give an activation code, or the ICCID of one registered with Digi Remote Manager"}
			}
			return nil, err
		}
	}
	body := actionBody{DeviceID: spec.DeviceID, EID: spec.EID, ICCID: spec.ICCID, ActivationCode: spec.ActivationCode}
	toResult := func(t *Transaction, err error) (*esimgw.DownloadResult, error) {
		r := &esimgw.DownloadResult{Result: esimgw.Result{Err: err}, Iccid: spec.ICCID}
		if t != nil && t.ICCID != "" {
			r.Iccid = t.ICCID
		}
		return r, err
	}
	if !spec.Enable {
		return startOperation(ctx, c, "download", body, toResult)
	}
	return c.downloadAndEnable(ctx, body, toResult)
}

// downloadAndEnable runs the download transaction and then, for the ICCID it reports, an enable one, as
// one operation.
func (c *Client) downloadAndEnable(ctx context.Context, body actionBody, toResult func(*Transaction, error) (*esimgw.DownloadResult, error)) (*esimgw.Operation[*esimgw.DownloadResult], error) {
	tx, err := c.send(ctx, "download", body)
	if err != nil {
		return nil, err
	}
	key := correlate.OperationKey{MessageID: "digirm:" + string(tx.Transaction), FunctionCallIdentifier: string(tx.Transaction),
		Interface: string(esimgw.PlatformDigiRM), Function: "download+enable"}
	p, err := c.store.RegisterOperation(ctx, key, time.Now().Add(c.cfg.opTimeout))
	if err != nil {
		return nil, fmt.Errorf("digirm: transaction %s: %w", tx.Transaction, err)
	}
	c.goPoll(func() {
		final, ferr := c.pollUntilDone(p, "download", tx)
		if ferr == nil && final != nil {
			iccid := final.ICCID
			if iccid == "" {
				iccid = body.ICCID
			}
			next := actionBody{DeviceID: body.DeviceID, EID: body.EID, ICCID: iccid}
			etx, err := c.send(c.ctx, "enable", next)
			if err != nil {
				c.finish(p, rawJSON(final), err)
				return
			}
			final, ferr = c.pollUntilDone(p, "enable", etx)
			if final != nil && final.ICCID == "" {
				final.ICCID = iccid
			}
		}
		c.finish(p, rawJSON(final), ferr)
	})
	return esimgw.NewOperation(c.store, p, func(v any, err error) (*esimgw.DownloadResult, error) {
		return toResult(storedTransaction(v), err)
	}), nil
}

// send posts an action and returns its transaction.
func (c *Client) send(ctx context.Context, action string, body actionBody) (*Transaction, error) {
	resp, err := c.api.DoRaw(ctx, rest.Request{Method: http.MethodPost, Path: "/" + action, Body: body})
	if err != nil {
		return nil, err
	}
	tx, err := DecodeTransaction(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("digirm: POST /%s: %w", action, err)
	}
	c.actions.Add(1)
	return tx, nil
}

// startOperation sends the action and starts polling its transaction.
func startOperation[T any](ctx context.Context, c *Client, action string, body actionBody, convert func(*Transaction, error) (T, error)) (*esimgw.Operation[T], error) {
	tx, err := c.send(ctx, action, body)
	if err != nil {
		return nil, err
	}
	key := correlate.OperationKey{MessageID: "digirm:" + string(tx.Transaction), FunctionCallIdentifier: string(tx.Transaction),
		Interface: string(esimgw.PlatformDigiRM), Function: action}
	p, err := c.store.RegisterOperation(ctx, key, time.Now().Add(c.cfg.opTimeout))
	if err != nil {
		return nil, fmt.Errorf("digirm: transaction %s: %w", tx.Transaction, err)
	}
	c.goPoll(func() {
		final, ferr := c.pollUntilDone(p, action, tx)
		c.finish(p, rawJSON(final), ferr)
	})
	return esimgw.NewOperation(c.store, p, func(v any, err error) (T, error) {
		return convert(storedTransaction(v), err)
	}), nil
}

func (c *Client) goPoll(f func()) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		f()
	}()
}

// rawJSON is v's JSON, nil for nil.
func rawJSON[T any](v *T) json.RawMessage {
	if v == nil {
		return nil
	}
	b, _ := json.Marshal(v) // our own structs of strings: they always encode
	return b
}

// storedTransaction is the transaction finish stored with an operation's outcome (nil when none was).
func storedTransaction(v any) *Transaction {
	b, ok := v.(json.RawMessage)
	if !ok {
		return nil
	}
	t, err := DecodeTransaction(b)
	if err != nil { // stored by finish: it decodes
		return nil
	}
	return t
}

// finish resolves the operation, unless polling stopped because nobody waits any more or Close was called.
// The final transaction or multistep operation (result) is stored as its JSON (json.RawMessage), which
// correlate.Tracker and pgstore keep (pgstore beside SGP.02 body elements), so that a waiter on any replica gets
// the ICCID the device reported; the error as it is (pgstore keeps a *esimgw.FunctionError typed). A
// Store of another kind that refuses the JSON gets the outcome alone.
func (c *Client) finish(p *correlate.Pending, result json.RawMessage, err error) {
	if errors.Is(err, errStopped) {
		return
	}
	c.completed.Add(1)
	if err != nil {
		c.failed.Add(1)
	}
	var value any
	if result != nil {
		value = result
	}
	_, serr := c.store.ResolveOperation(c.ctx, p, value, err)
	if serr != nil && value != nil {
		// A store that keeps only SGP.02 body elements cannot keep the transaction: resolve with the
		// outcome alone (a download by activation code then reports no ICCID).
		c.logger.LogAttrs(c.ctx, slog.LevelWarn, "digirm: the store cannot keep the transaction; resolving with the outcome only",
			slog.String("operation", p.Key().FunctionCallIdentifier), slog.Any("error", serr))
		_, serr = c.store.ResolveOperation(c.ctx, p, nil, err)
	}
	if serr != nil {
		c.logger.LogAttrs(c.ctx, slog.LevelError, "digirm: storing an operation's result failed",
			slog.String("operation", p.Key().FunctionCallIdentifier), slog.Any("error", serr))
	}
}

var errStopped = errors.New("digirm: polling stopped")

// pollUntilDone polls /progress/{tx} with back-off until the transaction is final. It returns the final
// transaction and, for failed or unknown, its *TransactionError; errStopped when the operation was
// abandoned or the client closed; a request error after the retry policy gave up on one poll.
func (c *Client) pollUntilDone(p *correlate.Pending, action string, tx *Transaction) (*Transaction, error) {
	wait := c.cfg.pollFirst
	for !tx.Done() {
		// Jitter spreads the polls of a campaign's operations, which started together, over time.
		d := wait/2 + time.Duration(rand.Int64N(int64(wait/2)+1))
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-p.Done():
			t.Stop()
			return nil, errStopped
		case <-c.ctx.Done():
			t.Stop()
			return nil, errStopped
		}
		next, err := c.Progress(c.ctx, string(tx.Transaction))
		if err != nil {
			if c.ctx.Err() != nil {
				return nil, errStopped
			}
			return nil, fmt.Errorf("digirm: %s transaction %s: polling: %w", action, tx.Transaction, err)
		}
		tx = next
		wait = min(wait*2, c.cfg.pollMax)
	}
	if tx.Status == StatusComplete {
		return tx, nil
	}
	return tx, transactionError(action, tx)
}

// Progress returns a transaction's state (GET /progress/{tx}); asking also makes Digi check it.
func (c *Client) Progress(ctx context.Context, tx string) (*Transaction, error) {
	if tx == "" || len(tx) > maxValue {
		return nil, &esimgw.ValidationError{Field: "transaction", Value: tx, Rule: "must be a transaction id"}
	}
	c.polls.Add(1)
	resp, err := c.api.DoRaw(ctx, rest.Request{Method: http.MethodGet, Path: "/progress/" + url.PathEscape(tx), Idempotent: true})
	if err != nil {
		return nil, err
	}
	t, err := DecodeTransaction(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("digirm: GET /progress/%s: %w", tx, err)
	}
	return t, nil
}

// Query selects inventory or transactions: Query is a Remote Manager query-language condition
// (`eid="8904..."`), OrderBy a field with an optional "asc "/"desc " prefix, Size the page size (at most
// and by default 1000).
type Query struct {
	Query   string
	OrderBy string
	Size    int
}

func (q Query) values(cursor string) (url.Values, error) {
	if q.Size < 0 || q.Size > MaxPageSize {
		return nil, &esimgw.ValidationError{Field: "size", Value: strconv.Itoa(q.Size), Rule: "must be 0 (the default, 1000) to 1000"}
	}
	v := url.Values{}
	if q.Query != "" {
		v.Set("query", q.Query)
	}
	if q.OrderBy != "" {
		v.Set("orderby", q.OrderBy)
	}
	if q.Size > 0 {
		v.Set("size", strconv.Itoa(q.Size))
	}
	if cursor != "" {
		v.Set("cursor", cursor)
	}
	return v, nil
}

// Profiles iterates over the inventory (GET /inventory), page by page with the cursor. An error ends the
// iteration after being yielded once.
func (c *Client) Profiles(ctx context.Context, q Query) iter.Seq2[Profile, error] {
	return pages(ctx, c, "/inventory", q, DecodeProfilePage)
}

// Transactions iterates over the account's profile actions (GET /transactions/inventory), page by page
// with the cursor: what ran, is running or failed, whoever started it (e.g. `status="in_progress"`, or
// `eid="8904..."` for one device's history). An error ends the iteration after being yielded once.
func (c *Client) Transactions(ctx context.Context, q Query) iter.Seq2[Transaction, error] {
	return pages(ctx, c, "/transactions/inventory", q, DecodeTransactionPage)
}

// pages iterates over a list API, following the cursor until a page comes without one (or repeats it).
func pages[T any](ctx context.Context, c *Client, path string, q Query, decode func([]byte) (*Page[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		cursor := ""
		for {
			v, err := q.values(cursor)
			if err != nil {
				yield(zero, err)
				return
			}
			resp, err := c.api.DoRaw(ctx, rest.Request{Method: http.MethodGet, Path: path, Query: v, Idempotent: true})
			if err != nil {
				yield(zero, err)
				return
			}
			page, err := decode(resp.Body)
			if err != nil {
				yield(zero, fmt.Errorf("digirm: GET %s: %w", path, err))
				return
			}
			for _, item := range page.List {
				if !yield(item, nil) {
					return
				}
			}
			if page.Cursor == "" || len(page.List) == 0 || page.Cursor == cursor {
				return
			}
			cursor = page.Cursor
		}
	}
}

// Profile returns one profile by ICCID (GET /inventory/{iccid}).
func (c *Client) Profile(ctx context.Context, iccid string) (*Profile, error) {
	if err := esimgw.ValidateICCID(iccid); err != nil {
		return nil, err
	}
	var p Profile
	if _, err := c.api.Do(ctx, rest.Request{Method: http.MethodGet, Path: "/inventory/" + url.PathEscape(iccid), Idempotent: true}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Audit lists the profiles the inventory holds for eid: what the device last reported, so it is as fresh
// as the device's last report. The operation is already resolved.
func (c *Client) Audit(ctx context.Context, eid string) (*esimgw.Operation[*esimgw.AuditResult], error) {
	if err := esimgw.ValidateEID(eid); err != nil {
		return nil, err
	}
	r := &esimgw.AuditResult{EID: eid}
	for p, err := range c.Profiles(ctx, Query{Query: `eid="` + eid + `"`}) {
		if err != nil {
			return nil, err
		}
		r.Profiles = append(r.Profiles, esimgw.ProfileInfo{ICCID: p.ICCID, State: p.State(), Type: p.Type, Carrier: p.Carrier})
	}
	return esimgw.CompletedOperation(correlate.OperationKey{Interface: string(esimgw.PlatformDigiRM), Function: "inventory"}, r, nil), nil
}

// Export is what ExportCSV wrote.
type Export struct {
	Bytes int64
	// Truncated is set when Digi cut the data (it returns at most 20,000 records): narrow the query.
	Truncated bool
}

// ExportCSV writes the bulk CSV export (GET /bulk) to w. fields selects columns (nil: all).
func (c *Client) ExportCSV(ctx context.Context, w io.Writer, q Query, fields ...string) (Export, error) {
	v, err := q.values("")
	if err != nil {
		return Export{}, err
	}
	if len(fields) > 0 {
		v.Set("fields", strings.Join(fields, ","))
	}
	resp, err := c.api.DoRaw(ctx, rest.Request{Method: http.MethodGet, Path: "/bulk", Query: v, Idempotent: true,
		Header: http.Header{"Accept": {"text/csv"}}})
	if err != nil {
		return Export{}, err
	}
	n, err := w.Write(resp.Body)
	truncated := resp.Header.Get("Truncated")
	return Export{Bytes: int64(n), Truncated: truncated != "" && !strings.EqualFold(truncated, "false")}, err
}

// ActivateRequest starts a multistep operation: Operation "activate" (download and enable), "download" or
// "enable", for the device, with Carrier the SPN used to find the activation code or profile. The vendor
// warns that the SPN a profile reports may differ from the carrier's marketing name.
type ActivateRequest struct {
	Operation string `json:"operation"`
	DeviceID  string `json:"device_id,omitempty"`
	EID       string `json:"eid,omitempty"`
	ICCID     string `json:"iccid,omitempty"`
	Carrier   string `json:"carrier"`
}

// StartMultistep starts a multistep operation (POST /operations/inventory) and returns an operation that
// completes when it reaches successful or failed (polled like a transaction).
func (c *Client) StartMultistep(ctx context.Context, r ActivateRequest) (*esimgw.Operation[*MultistepOperation], error) {
	switch r.Operation {
	case "activate", "download", "enable":
	default:
		return nil, &esimgw.ValidationError{Field: "operation", Value: r.Operation, Rule: "must be activate, download or enable"}
	}
	if r.EID == "" && r.DeviceID == "" {
		return nil, &esimgw.ValidationError{Field: esimgw.FieldEID, Rule: "give the EID or the device ID"}
	}
	if r.EID != "" {
		if err := esimgw.ValidateEID(r.EID); err != nil {
			return nil, err
		}
	}
	if err := ValidateDeviceID(r.DeviceID); err != nil {
		return nil, err
	}
	if strings.TrimSpace(r.Carrier) == "" || len(r.Carrier) > 256 {
		return nil, &esimgw.ValidationError{Field: "carrier", Value: r.Carrier, Rule: "must name the SPN (1 to 256 characters)"}
	}
	resp, err := c.api.DoRaw(ctx, rest.Request{Method: http.MethodPost, Path: "/operations/inventory", Body: r})
	if err != nil {
		return nil, err
	}
	op, err := DecodeMultistepOperation(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("digirm: POST /operations/inventory: %w", err)
	}
	c.actions.Add(1)
	key := correlate.OperationKey{MessageID: "digirm-op:" + string(op.ID), FunctionCallIdentifier: string(op.ID),
		Interface: string(esimgw.PlatformDigiRM), Function: r.Operation}
	p, err := c.store.RegisterOperation(ctx, key, time.Now().Add(c.cfg.opTimeout))
	if err != nil {
		return nil, fmt.Errorf("digirm: operation %s: %w", op.ID, err)
	}
	c.goPoll(func() {
		wait := c.cfg.pollFirst
		for !op.Done() {
			d := wait/2 + time.Duration(rand.Int64N(int64(wait/2)+1))
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-p.Done():
				t.Stop()
				return
			case <-c.ctx.Done():
				t.Stop()
				return
			}
			c.polls.Add(1)
			resp, err := c.api.DoRaw(c.ctx, rest.Request{Method: http.MethodGet, Path: "/operations/inventory/" + url.PathEscape(string(op.ID)), Idempotent: true})
			if err == nil {
				var next *MultistepOperation
				if next, err = DecodeMultistepOperation(resp.Body); err == nil {
					op = next
				}
			}
			if err != nil {
				if c.ctx.Err() != nil {
					return
				}
				c.finish(p, rawJSON(op), fmt.Errorf("digirm: operation %s: polling: %w", op.ID, err))
				return
			}
			wait = min(wait*2, c.cfg.pollMax)
		}
		var ferr error
		if op.Status == "failed" {
			ferr = &esimgw.FunctionError{Interface: string(esimgw.PlatformDigiRM), Function: r.Operation, FunctionCallIdentifier: string(op.ID),
				ExecutionStatus: esimgw.ExecutionStatus{Status: esimgw.StatusFailed, SubjectIdentifier: op.ICCID, Message: strings.TrimPrefix(op.MessageCode+": "+op.Message, ": ")}}
		}
		c.finish(p, rawJSON(op), ferr)
	})
	return esimgw.NewOperation(c.store, p, func(v any, err error) (*MultistepOperation, error) {
		var o *MultistepOperation
		if b, ok := v.(json.RawMessage); ok {
			o, _ = DecodeMultistepOperation(b) // stored by finish: it decodes
		}
		return o, err
	}), nil
}

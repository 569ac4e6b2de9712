package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/esimgw/esimgw/internal/timing"
)

// Authorizer puts a platform's credentials on requests.
type Authorizer interface {
	// Authorize sets the credentials on req. It returns a value naming the credentials it used, which
	// Renew gets back, so that of many requests refused with the same stale token only one renews it.
	Authorize(ctx context.Context, req *http.Request) (used any, err error)
	// Renew is called when a request sent with used was answered 401. It renews the credentials (unless
	// another request did so already) and reports whether sending the request again can help.
	Renew(ctx context.Context, used any, e *APIError) bool
}

// ErrorDecoder reads a platform's error body into its error code and message; both may be "".
type ErrorDecoder func(status int, body []byte) (code, message string)

// RetryPolicy bounds retries.
type RetryPolicy struct {
	// MaxAttempts bounds the attempts of a request for 5xx answers, transport failures and failures to
	// connect (default 4).
	MaxAttempts int
	// MaxThrottled bounds how often one request is throttled (429) before its *APIError is returned
	// (default 20). The waits themselves follow Retry-After.
	MaxThrottled int
	// InitialInterval and MaxInterval shape the exponential back-off (defaults 500 ms and 30 s), with
	// full jitter. A 429 without Retry-After waits the back-off too, never zero.
	InitialInterval time.Duration
	MaxInterval     time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 4
	}
	if p.MaxThrottled <= 0 {
		p.MaxThrottled = 20
	}
	if p.InitialInterval <= 0 {
		p.InitialInterval = 500 * time.Millisecond
	}
	if p.MaxInterval <= 0 {
		p.MaxInterval = 30 * time.Second
	}
	if p.MaxInterval < p.InitialInterval {
		p.MaxInterval = p.InitialInterval
	}
	return p
}

// backoff returns the wait before attempt n+1 (n >= 1): full jitter over InitialInterval * 2^(n-1),
// capped at MaxInterval, and never below a tenth of InitialInterval so that nothing spins.
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.InitialInterval
	for i := 1; i < n && d < p.MaxInterval; i++ {
		d *= 2
	}
	d = min(d, p.MaxInterval)
	floor := p.InitialInterval / 10
	return floor + time.Duration(rand.Int64N(int64(d-floor)+1))
}

// Stats counts what a Client did since it was made.
type Stats struct {
	Requests  int64 // HTTP requests sent (every attempt)
	Throttled int64 // 429 answers
	Retries   int64 // attempts after the first, for any reason
	Renewals  int64 // 401 answers after which the credentials were renewed
}

// Client sends JSON requests to one platform. It is safe for concurrent use.
type Client struct {
	platform   string
	base       *url.URL
	http       *http.Client
	auth       Authorizer
	decodeErr  ErrorDecoder
	retry      RetryPolicy
	limiter    *WindowLimiter
	sem        chan struct{}
	maxBody    int64
	userAgent  string
	logger     *slog.Logger
	pauseMu    sync.Mutex
	pauseUntil time.Time

	requests, throttled, retries, renewals atomic.Int64
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (default: a new one with a 60 s timeout).
func WithHTTPClient(h *http.Client) Option {
	return func(c *Client) {
		if h != nil {
			c.http = h
		}
	}
}

// WithAuthorizer sets the credentials.
func WithAuthorizer(a Authorizer) Option { return func(c *Client) { c.auth = a } }

// WithErrorDecoder sets how error bodies are read (default: DecodeErrorFields with the common names).
func WithErrorDecoder(d ErrorDecoder) Option {
	return func(c *Client) {
		if d != nil {
			c.decodeErr = d
		}
	}
}

// WithRetryPolicy sets the retry bounds and back-off.
func WithRetryPolicy(p RetryPolicy) Option { return func(c *Client) { c.retry = p.withDefaults() } }

// WithRateLimit lets at most n requests start in any window of length window (nil limiter: no bound).
func WithRateLimit(n int, window time.Duration) Option {
	return func(c *Client) { c.limiter = NewWindowLimiter(n, window) }
}

// WithConcurrency bounds the requests in flight at once (0: no bound).
func WithConcurrency(n int) Option {
	return func(c *Client) {
		if n > 0 {
			c.sem = make(chan struct{}, n)
		} else {
			c.sem = nil
		}
	}
}

// WithMaxBody bounds the bytes read from one answer (default 8 MiB).
func WithMaxBody(n int64) Option {
	return func(c *Client) {
		if n > 0 {
			c.maxBody = n
		}
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) {
		if l != nil {
			c.logger = l
		}
	}
}

// New returns a Client for the platform named platform ("thingspace", "digirm": the prefix of its
// errors) at base, an absolute http or https URL.
func New(platform, base string, opts ...Option) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("%s: base URL: %w", platform, err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%s: base URL %q: want an absolute https URL", platform, base)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%s: base URL %q: credentials in the URL are not used; give them as options", platform, u.Redacted())
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	c := &Client{
		platform:  platform,
		base:      u,
		http:      &http.Client{Timeout: 60 * time.Second},
		decodeErr: DecodeErrorFields,
		retry:     RetryPolicy{}.withDefaults(),
		maxBody:   8 << 20,
		userAgent: "esimgw",
		logger:    slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		if o != nil {
			o(c)
		}
	}
	return c, nil
}

// Base returns the base URL.
func (c *Client) Base() string { return c.base.String() }

// Stats returns the counters.
func (c *Client) Stats() Stats {
	return Stats{Requests: c.requests.Load(), Throttled: c.throttled.Load(), Retries: c.retries.Load(), Renewals: c.renewals.Load()}
}

// Request is one call.
type Request struct {
	Method string
	// Path is appended to the base URL's path; its segments must already be escaped (use url.PathEscape
	// for values).
	Path  string
	Query url.Values
	// Body is encoded as JSON when not nil; Form, when not nil, is sent as
	// application/x-www-form-urlencoded instead.
	Body any
	Form url.Values
	// Header is added to the request (e.g. an Accept of text/csv).
	Header http.Header
	// Idempotent marks a request that may be sent again after a 5xx answer or a failure after it was
	// written (GET, DELETE, PUT of a whole resource). Profile actions are not.
	Idempotent bool
	// NoAuth sends the request without the Authorizer (a login that carries its own credentials).
	NoAuth bool
}

// Response is an answer with its body read.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// Do sends r and decodes a 2xx JSON answer into out (nil: the body is not decoded). Any other answer is
// an *APIError.
func (c *Client) Do(ctx context.Context, r Request, out any) (*Response, error) {
	resp, err := c.DoRaw(ctx, r)
	if err != nil {
		return resp, err
	}
	if out != nil && len(bytes.TrimSpace(resp.Body)) > 0 {
		if err := json.Unmarshal(resp.Body, out); err != nil {
			return resp, &DecodeError{Platform: c.platform, Method: r.Method, Path: r.Path, Err: err, Body: clip(resp.Body)}
		}
	}
	return resp, nil
}

// DecodeError is a 2xx answer whose body is not the JSON expected.
type DecodeError struct {
	Platform, Method, Path string
	Err                    error
	Body                   []byte // at most 512 bytes of it
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("%s: %s %s: undecodable answer: %v", e.Platform, e.Method, e.Path, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// DoRaw sends r and returns the 2xx answer with its body; any other answer is an *APIError.
func (c *Client) DoRaw(ctx context.Context, r Request) (*Response, error) {
	if r.Method == "" {
		r.Method = http.MethodGet
	}
	var body []byte
	ctype := ""
	switch {
	case r.Form != nil:
		body = []byte(r.Form.Encode())
		ctype = "application/x-www-form-urlencoded"
	case r.Body != nil:
		b, err := json.Marshal(r.Body)
		if err != nil {
			return nil, fmt.Errorf("%s: %s %s: encoding the request: %w", c.platform, r.Method, r.Path, err)
		}
		body = b
		ctype = "application/json"
	}
	u := *c.base
	unescaped, err := url.PathUnescape(r.Path)
	if err != nil {
		return nil, fmt.Errorf("%s: %s %s: path: %w", c.platform, r.Method, r.Path, err)
	}
	u.Path = c.base.Path + unescaped
	u.RawPath = c.base.EscapedPath() + r.Path
	if len(r.Query) > 0 {
		u.RawQuery = r.Query.Encode()
	}
	target := u.String()

	failures, throttles, renewed := 0, 0, false
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			c.retries.Add(1)
		}
		resp, wrote, err := c.attempt(ctx, r, target, body, ctype, &renewed)
		if err == nil {
			return resp, nil
		}
		var ae *APIError
		var wait time.Duration
		switch {
		case ctx.Err() != nil:
			return nil, err
		case errors.As(err, &ae) && ae.StatusCode == http.StatusTooManyRequests:
			c.throttled.Add(1)
			throttles++
			if throttles >= c.retry.MaxThrottled {
				return nil, err
			}
			wait = ae.RetryAfter
			if wait <= 0 {
				wait = c.retry.backoff(throttles)
			}
			c.pause(wait)
			c.logger.LogAttrs(ctx, slog.LevelDebug, c.platform+": throttled; waiting",
				slog.String("path", r.Path), slog.Duration("wait", wait))
			wait = 0 // the shared pause does the waiting
		case errors.As(err, &ae) && ae.StatusCode == http.StatusUnauthorized && ae.renewed:
			// Renewed after a refusal: send again at once, once (attempt's renewed flag).
		case errors.As(err, &ae) && ae.StatusCode >= 500 && r.Idempotent:
			failures++
			if failures >= c.retry.MaxAttempts {
				return nil, err
			}
			wait = c.retry.backoff(failures)
		case ae != nil:
			return nil, err
		case !wrote || r.Idempotent:
			var de *DecodeError
			if errors.As(err, &de) {
				return nil, err
			}
			failures++
			if failures >= c.retry.MaxAttempts {
				return nil, err
			}
			wait = c.retry.backoff(failures)
		default:
			// Written, not idempotent, no answer: it may have run. Sending it again could run it twice.
			return nil, &UncertainError{Platform: c.platform, Method: r.Method, Path: r.Path, Err: err}
		}
		if wait > 0 {
			if err := timing.Sleep(ctx, wait); err != nil {
				return nil, err
			}
		}
	}
}

// UncertainError is a request that was written but got no answer: it may or may not have been executed,
// and it was not sent again because it is not idempotent.
type UncertainError struct {
	Platform, Method, Path string
	Err                    error
}

func (e *UncertainError) Error() string {
	return fmt.Sprintf("%s: %s %s: no answer after the request was sent (it may have been executed; not resent): %v",
		e.Platform, e.Method, e.Path, e.Err)
}

func (e *UncertainError) Unwrap() error { return e.Err }

// attempt sends the request once. wrote reports whether any of it reached the connection.
func (c *Client) attempt(ctx context.Context, r Request, target string, body []byte, ctype string, renewed *bool) (*Response, bool, error) {
	release, err := c.admit(ctx)
	if err != nil {
		return nil, false, err
	}
	defer release()
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{
		WroteHeaderField: func(string, []string) { wrote.Store(true) },
		WroteRequest:     func(httptrace.WroteRequestInfo) { wrote.Store(true) },
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), r.Method, target, bytes.NewReader(body))
	if err != nil {
		return nil, false, fmt.Errorf("%s: %s %s: %w", c.platform, r.Method, r.Path, err)
	}
	if body == nil {
		req.Body = http.NoBody
		req.ContentLength = 0
	}
	req.Header.Set("Accept", "application/json")
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	for k, vs := range r.Header {
		req.Header.Del(k)
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	var used any
	if c.auth != nil && !r.NoAuth {
		if used, err = c.auth.Authorize(ctx, req); err != nil {
			return nil, false, fmt.Errorf("%s: %s %s: credentials: %w", c.platform, r.Method, r.Path, err)
		}
	}
	c.requests.Add(1)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, wrote.Load(), fmt.Errorf("%s: %s %s: %w", c.platform, r.Method, r.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return nil, true, fmt.Errorf("%s: %s %s: reading the answer: %w", c.platform, r.Method, r.Path, err)
	}
	if int64(len(b)) > c.maxBody {
		return nil, true, &DecodeError{Platform: c.platform, Method: r.Method, Path: r.Path,
			Err: fmt.Errorf("answer longer than %d bytes", c.maxBody), Body: clip(b)}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: b}, true, nil
	}
	ae := &APIError{Platform: c.platform, Method: r.Method, Path: r.Path, StatusCode: resp.StatusCode, Body: clip(b),
		RetryAfter: ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
	ae.Code, ae.Message = c.decodeErr(resp.StatusCode, b)
	if resp.StatusCode == http.StatusUnauthorized && c.auth != nil && !r.NoAuth && !*renewed {
		if c.auth.Renew(ctx, used, ae) {
			c.renewals.Add(1)
			*renewed = true
			ae.renewed = true
		}
	}
	return nil, true, ae
}

// admit waits until the request may be sent: no pause in force, a concurrency slot, a start in the rate
// window, and still no pause (a 429 may have come in while it waited for the others). The returned
// function gives the concurrency slot back.
func (c *Client) admit(ctx context.Context) (func(), error) {
	for {
		if err := c.waitPause(ctx); err != nil {
			return nil, err
		}
		if c.sem != nil {
			select {
			case c.sem <- struct{}{}:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		release := func() {
			if c.sem != nil {
				<-c.sem
			}
		}
		if err := c.limiter.Wait(ctx); err != nil {
			release()
			return nil, err
		}
		if !c.paused() {
			return release, nil
		}
		release() // its rate slot is given up: erring on the side of sending less
	}
}

func (c *Client) paused() bool {
	c.pauseMu.Lock()
	defer c.pauseMu.Unlock()
	return time.Now().Before(c.pauseUntil)
}

// pause holds every request of the client until d from now (a 429 counts the account, not the request).
func (c *Client) pause(d time.Duration) {
	until := time.Now().Add(d)
	c.pauseMu.Lock()
	if until.After(c.pauseUntil) {
		c.pauseUntil = until
	}
	c.pauseMu.Unlock()
}

func (c *Client) waitPause(ctx context.Context) error {
	for {
		c.pauseMu.Lock()
		d := time.Until(c.pauseUntil)
		c.pauseMu.Unlock()
		if d <= 0 {
			return ctx.Err()
		}
		if err := timing.Sleep(ctx, d); err != nil {
			return err
		}
	}
}

// ParseRetryAfter reads a Retry-After value: delay-seconds or an HTTP date (relative to now). It returns
// 0 for an absent or unreadable value and caps the wait at one hour, so a hostile or broken value cannot
// park the client for good.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	const maxWait = time.Hour
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		if n <= 0 || math.IsNaN(n) {
			return 0
		}
		if n >= maxWait.Seconds() {
			return maxWait
		}
		return time.Duration(n * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), maxWait)
	}
	return 0
}

func clip(b []byte) []byte {
	if len(b) > 512 {
		b = b[:512]
	}
	return append([]byte(nil), b...)
}

package soap

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"

	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// Client posts SOAP 1.2 envelopes over HTTP. It is safe for concurrent use; reuse one per gateway so that
// keep-alive connections (and their TLS sessions) are reused.
type Client struct {
	http     *http.Client      // set by WithHTTPClient: every call goes through its Do
	rt       http.RoundTripper // otherwise: this package's Transport, called directly
	maxBytes int64
	retry    RetryPolicy
	// security writes the WS-Security header. It holds the token's method value, not the token: fmt
	// prints a func as an address, so no formatting of a Client can reveal the password.
	security func(b []byte, now time.Time, nonce []byte) []byte
	logger   *slog.Logger
	now      func() time.Time
	read     ReadOptions
	version  Version   // SOAP12 unless WithSOAPVersion
	bufs     sync.Pool // request envelopes
	pools    messagePools
}

// RetryPolicy says how transport failures and 502/503/504 answers are retried. Retries resend the very same
// bytes, so MessageID and FunctionCallIdentifier never change and a gateway that de-duplicates on them runs
// the function once.
type RetryPolicy struct {
	MaxAttempts     int           // attempts in all, the first included; 1 disables retries
	InitialInterval time.Duration // first wait
	MaxInterval     time.Duration // cap on one wait
	MaxElapsed      time.Duration // cap on all waiting; the caller's context caps it too
}

// DefaultRetryPolicy is used unless WithRetryPolicy says otherwise.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 4, InitialInterval: 200 * time.Millisecond, MaxInterval: 5 * time.Second, MaxElapsed: 30 * time.Second}
}

// ClientOption configures a Client.
type ClientOption func(*Client)

// WithHTTPClient sets the *http.Client used for every call: the seam for tests (httpmock) and for custom
// transports. Its Transport carries the mTLS configuration.
func WithHTTPClient(c *http.Client) ClientOption { return func(cl *Client) { cl.http, cl.rt = c, nil } }

// WithTLSConfig uses a keep-alive HTTP transport with the given TLS configuration (see package mtls), and
// DefaultAttemptTimeout on each attempt.
func WithTLSConfig(cfg *tls.Config) ClientOption {
	return func(cl *Client) { cl.http, cl.rt = nil, NewTransport(cfg) }
}

// DefaultAttemptTimeout bounds one HTTP attempt, response body included, on the transports this package
// builds, so that a gateway that stalls mid-answer cannot hold a caller whose context has no deadline. A
// client given with WithHTTPClient keeps its own Timeout.
const DefaultAttemptTimeout = 2 * time.Minute

// WithMaxResponseBytes caps the size of a response envelope (default DefaultMaxMessageBytes).
func WithMaxResponseBytes(n int64) ClientOption { return func(cl *Client) { cl.maxBytes = n } }

// WithRetryPolicy replaces DefaultRetryPolicy.
func WithRetryPolicy(p RetryPolicy) ClientOption { return func(cl *Client) { cl.retry = p } }

// WithUsernameToken adds a WS-Security UsernameToken header to every call (KPN: optional, off by default).
func WithUsernameToken(t UsernameToken) ClientOption {
	return func(cl *Client) { cl.security = t.AppendHeader }
}

// WithLogger sets the logger (default slog.Default()). Passwords are never logged.
func WithLogger(l *slog.Logger) ClientOption { return func(cl *Client) { cl.logger = l } }

// WithClock sets the clock used for WS-Security timestamps (tests).
func WithClock(now func() time.Time) ClientOption { return func(cl *Client) { cl.now = now } }

// WithSOAPVersion sets the envelope version of every call: SOAP12 (the default, SGP.02's binding) or
// SOAP11 for gateways that speak only SOAP 1.1 (JAX-WS on its default binding, such as Njiwa): a SOAP 1.1
// envelope, Content-Type text/xml and the Action repeated in a SOAPAction header. Answers are read in
// whichever version they come.
func WithSOAPVersion(v Version) ClientOption { return func(cl *Client) { cl.version = v } }

// WithResponseReadOptions sets the XML limits used to decode responses.
func WithResponseReadOptions(o ReadOptions) ClientOption { return func(cl *Client) { cl.read = o } }

// NewClient returns a Client. Without WithHTTPClient or WithTLSConfig it uses a keep-alive transport with
// the system roots and no client certificate, which real gateways refuse: pass your mTLS configuration.
func NewClient(opts ...ClientOption) *Client {
	c := &Client{maxBytes: DefaultMaxMessageBytes, retry: DefaultRetryPolicy(), logger: slog.Default(), now: time.Now}
	for _, o := range opts {
		o(c)
	}
	if c.http == nil && c.rt == nil {
		c.rt = NewTransport(&tls.Config{MinVersion: tls.VersionTLS12})
	}
	if c.retry.MaxAttempts < 1 {
		c.retry.MaxAttempts = 1
	}
	return c
}

// Response is the answer to a call: 202 with no Message for an accepted one-way request, or the decoded
// response envelope.
type Response struct {
	StatusCode int
	Message    *Message // nil when the answer had no body
	Attempts   int
}

// HTTPError is an answer that is neither a SOAP envelope nor an acknowledgement.
type HTTPError struct {
	StatusCode int
	Status     string
	Body       string // the first bytes of the body, for diagnosis
}

func (e *HTTPError) Error() string {
	if e.Body == "" {
		return "soap: HTTP " + e.Status
	}
	return fmt.Sprintf("soap: HTTP %s: %q", e.Status, e.Body)
}

// Temporary reports whether the status is one a retry may cure.
func (e *HTTPError) Temporary() bool {
	return e.StatusCode == http.StatusBadGateway || e.StatusCode == http.StatusServiceUnavailable ||
		e.StatusCode == http.StatusGatewayTimeout
}

// CallError wraps the failure of a call with where it went and how often it was tried.
type CallError struct {
	Endpoint string
	Action   string
	Attempts int
	Err      error
}

func (e *CallError) Error() string {
	return fmt.Sprintf("soap: calling %s (%s) failed after %d attempt(s): %v", e.Endpoint, e.Action, e.Attempts, e.Err)
}

func (e *CallError) Unwrap() error { return e.Err }

// Call posts one envelope carrying h and body to endpoint, retrying transport failures and 502/503/504 per
// the RetryPolicy under ctx. It returns a *Fault (wrapped in *CallError) when the peer answered with one.
func (c *Client) Call(ctx context.Context, endpoint string, h *Header, body BodyWriter) (*Response, error) {
	return c.CallInto(ctx, endpoint, h, body, nil)
}

// CallInto is Call for a caller that knows which answer it expects: when the answer's body is into's
// element, it is decoded into into in the same pass as the envelope (ReadMessageInto), and the
// Message's DecodeBody(into) returns that outcome without reading the body again.
func (c *Client) CallInto(ctx context.Context, endpoint string, h *Header, body BodyWriter, into BodyReader) (*Response, error) {
	bp, _ := c.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	defer c.bufs.Put(bp)
	hdr := *h
	if c.security != nil {
		var nonce [NonceSize]byte
		_, _ = rand.Read(nonce[:])
		hdr.Extra = c.security(append([]byte(nil), h.Extra...), c.now(), nonce[:])
	}
	payload := AppendEnvelopeVersion((*bp)[:0], c.version, &hdr, body)
	*bp = payload
	return c.post(ctx, endpoint, h.Action, payload, into)
}

// Post sends an already encoded envelope, with the same retries as Call. Call is the usual entry point;
// Post serves senders that keep the exact bytes (the mock gateway's callbacks).
func (c *Client) Post(ctx context.Context, endpoint, action string, payload []byte) (*Response, error) {
	return c.post(ctx, endpoint, action, payload, nil)
}

func (c *Client) post(ctx context.Context, endpoint, action string, payload []byte, into BodyReader) (*Response, error) {
	var b backoff.BackOff // made at the first failure: nearly every call succeeds at once
	start := time.Now()
	for attempts := 1; ; attempts++ {
		r, err := c.once(ctx, endpoint, action, payload, into)
		if err == nil {
			r.Attempts = attempts
			return r, nil
		}
		var perm *backoff.PermanentError
		final := errors.As(err, &perm)
		if final {
			err = perm.Err
		}
		retry := !final && ctx.Err() == nil && retryable(err) && attempts < c.retry.MaxAttempts
		var wait time.Duration
		if retry {
			if b == nil {
				b = c.newBackOff()
			}
			wait = b.NextBackOff()
			// MaxElapsed counts from the call's start, the first attempt included.
			retry = c.retry.MaxElapsed <= 0 || time.Since(start)+wait <= c.retry.MaxElapsed
		}
		if retry {
			traceRetry(ctx, attempts, wait, err)
			c.logger.LogAttrs(ctx, slog.LevelWarn, "soap: retrying call",
				slog.String("endpoint", endpoint), slog.String("action", action), slog.Int("attempt", attempts), slog.Any("error", err))
			t := time.NewTimer(wait)
			select {
			case <-t.C:
				continue
			case <-ctx.Done():
				t.Stop()
			}
		}
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		}
		return nil, &CallError{Endpoint: endpoint, Action: action, Attempts: attempts, Err: err}
	}
}

func (c *Client) newBackOff() backoff.BackOff {
	b := backoff.NewExponentialBackOff()
	if c.retry.InitialInterval > 0 {
		b.InitialInterval = c.retry.InitialInterval
	}
	if c.retry.MaxInterval > 0 {
		b.MaxInterval = c.retry.MaxInterval
	}
	b.MaxElapsedTime = 0 // Post checks MaxElapsed from the start of the call
	b.Reset()
	return b
}

// retryable reports whether a failed attempt may be repeated: the request may not have reached the
// gateway, or the gateway said it is temporarily unavailable.
func retryable(err error) bool {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.Temporary()
	}
	var f *Fault
	var ee *EnvelopeError
	if errors.As(err, &f) || errors.As(err, &ee) {
		return false
	}
	return true // transport: refused, reset, EOF, TLS or timeout while dialling
}

func (c *Client) once(ctx context.Context, endpoint, action string, payload []byte, into BodyReader) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(payload))
	if err != nil {
		return nil, backoff.Permanent(err)
	}
	c.version.SetActionHeaders(req.Header, action)
	var res *http.Response
	if c.rt != nil {
		// Straight to the Transport: http.Client would copy the headers for redirects on every call, and a
		// SOAP call is never redirected (a 3xx is an HTTPError).
		res, err = c.rt.RoundTrip(req)
	} else {
		res, err = c.http.Do(req)
	}
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	bp := c.pools.buffer()
	data, err := readInto((*bp)[:0], res.Body, res.ContentLength, c.maxBytes)
	*bp = data
	if err != nil {
		c.pools.bufs.Put(bp)
		if errors.Is(err, ErrTooLarge) {
			return nil, backoff.Permanent(err)
		}
		return nil, err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		c.pools.bufs.Put(bp)
		switch {
		case res.StatusCode == http.StatusAccepted || res.StatusCode == http.StatusNoContent || res.StatusCode == http.StatusOK:
			return &Response{StatusCode: res.StatusCode}, nil
		default:
			return nil, &HTTPError{StatusCode: res.StatusCode, Status: res.Status}
		}
	}
	// Only an error status needs the media type: parsing it allocates.
	if res.StatusCode >= 300 && !isSOAPContentType(res.Header.Get("Content-Type")) {
		c.pools.bufs.Put(bp)
		return nil, &HTTPError{StatusCode: res.StatusCode, Status: res.Status, Body: snippet(data)}
	}
	m, err := c.pools.read(bp, c.read, into)
	if err != nil && errors.Is(err, ErrEmptyBody) && res.StatusCode < 300 {
		// An envelope with an empty Body on a 2xx is a one-way acknowledgement (node-soap and others
		// send one for a 202): the request was accepted, exactly as with no body at all.
		c.pools.bufs.Put(bp)
		return &Response{StatusCode: res.StatusCode}, nil
	}
	if err != nil {
		if res.StatusCode >= 300 {
			err = &HTTPError{StatusCode: res.StatusCode, Status: res.Status, Body: snippet(data)}
		}
		c.pools.bufs.Put(bp) // only now: the snippet quoted it
		return nil, err
	}
	m.HTTPHeader, m.TLS = res.Header, res.TLS
	if m.Fault != nil {
		m.Fault.HTTPStatus = res.StatusCode
		return nil, m.Fault
	}
	if res.StatusCode >= 300 {
		return nil, &HTTPError{StatusCode: res.StatusCode, Status: res.Status, Body: snippet(data)}
	}
	return &Response{StatusCode: res.StatusCode, Message: m}, nil
}

func isSOAPContentType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/soap+xml" || mt == "text/xml" || mt == "application/xml")
}

func snippet(data []byte) string {
	const max = 256
	if len(data) > max {
		return string(data[:max]) + "..." + strconv.Itoa(len(data)-max) + " more bytes"
	}
	return string(data)
}

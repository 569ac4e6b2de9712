package soap

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// Client posts SOAP 1.2 envelopes over HTTP. It is safe for concurrent use; reuse one per gateway so that
// keep-alive connections (and their TLS sessions) are reused.
type Client struct {
	http     *http.Client // set by WithHTTPClient: every call goes through its Do
	rt       *Transport   // otherwise: this package's Transport, called directly
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
	exchs    sync.Pool // *exchange, on rt
	// The last endpoint and action called, parsed and turned into header values (newRequest): a client
	// calls one gateway with a few actions, and both would otherwise be made again on every call.
	endpoint atomic.Pointer[parsedEndpoint]
	action   atomic.Pointer[actionHeaders]
	head     atomic.Pointer[cachedHead] // the request head of the last endpoint and action (prepare)
	// The escaped address blocks of the last few sets of addresses called with (addressBlocks), and
	// where the next set goes.
	addrs    [4]atomic.Pointer[addressBlocks]
	addrNext atomic.Uint32
	// The last sets of addresses not among addrs: one seen again is kept there.
	addrMu         sync.Mutex
	addrMissed     [4]addressSet
	addrMissedNext int
}

// RetryPolicy says how failed attempts are retried. An attempt is repeated only when it proves the request
// was not executed: it was never completely written (connection refused or reset before the last byte, a
// failed handshake other than a certificate failure), or the peer answered 503 Service Unavailable, with
// or without a SOAP fault, after waiting at least as long as its Retry-After asks. Once the request may
// have been read (a reset or a timeout after it was written, a 502 or 504 from a proxy, a 2xx that could
// not be read), nothing is resent: the call fails with OutcomeUnknown. A certificate failure is never
// retried. Retries resend the very same bytes, so MessageID and FunctionCallIdentifier never change.
type RetryPolicy struct {
	MaxAttempts     int           // attempts in all, the first included; 1 disables retries
	InitialInterval time.Duration // first wait
	MaxInterval     time.Duration // cap on one wait (a longer Retry-After is honoured within MaxElapsed)
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
	c.pools.headers = c.rt != nil
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

// Temporary reports whether the status says the peer is temporarily unable (502, 503, 504). The Client
// retries only a 503, the one that proves the request was not executed.
func (e *HTTPError) Temporary() bool {
	return e.StatusCode == http.StatusBadGateway || e.StatusCode == http.StatusServiceUnavailable ||
		e.StatusCode == http.StatusGatewayTimeout
}

// CallError is the failure of a call, synchronous or asynchronous: where it went, how often it was tried,
// and above all its Outcome, which says whether the peer may have executed it. errors.Is(err,
// ErrNotSent), ErrRefused and ErrOutcomeUnknown test the outcome; Err is the last attempt's failure (a
// *Fault, *HTTPError, *EnvelopeError, *TimeoutError, a context error or the transport's error), so
// errors.As reaches those too.
//
// Package esimgw fills Interface, Function and FunctionCallIdentifier; a call made with this package
// alone leaves them empty.
type CallError struct {
	Endpoint  string
	Action    string
	MessageID string // the request's wsa:MessageID ("" for Post, which does not parse the envelope)
	Attempts  int
	Outcome   Outcome
	// StatusCode is the HTTP status of the last answer, 0 when none was read.
	StatusCode int
	// Fault is the SOAP fault of the last answer, if it was one.
	Fault *Fault
	// Subject and Reason are the SGP.02 status codes a gateway put in the fault's detail, if any.
	Subject, Reason string
	// RetryAfter is what the last 503 asked to wait, when it asked for longer than the policy or the
	// caller's deadline allowed.
	RetryAfter time.Duration
	// Fix says what to change when no retry can help (a certificate failure); "" otherwise.
	Fix string

	Interface, Function, FunctionCallIdentifier string

	Err error
}

func (e *CallError) Error() string {
	var b strings.Builder
	b.WriteString("soap: ")
	if e.Function != "" {
		b.WriteString(e.Interface)
		b.WriteByte(' ')
		b.WriteString(e.Function)
		b.WriteString(" to ")
		b.WriteString(e.Endpoint)
	} else {
		b.WriteString(e.Endpoint)
		b.WriteString(" (")
		b.WriteString(e.Action)
		b.WriteByte(')')
	}
	if e.FunctionCallIdentifier != "" {
		b.WriteString(" (FunctionCallIdentifier ")
		b.WriteString(e.FunctionCallIdentifier)
		b.WriteByte(')')
	}
	b.WriteByte(' ')
	switch e.Outcome {
	case NotSent:
		b.WriteString("not sent")
	case Refused:
		b.WriteString("refused by the peer")
		if e.StatusCode != 0 || e.Subject != "" {
			b.WriteString(" (")
			if e.StatusCode != 0 {
				b.WriteString("HTTP ")
				b.WriteString(strconv.Itoa(e.StatusCode))
			}
			if e.Subject != "" || e.Reason != "" {
				if e.StatusCode != 0 {
					b.WriteString(", ")
				}
				b.WriteString("Subject ")
				b.WriteString(e.Subject)
				b.WriteString(" Reason ")
				b.WriteString(e.Reason)
			}
			b.WriteByte(')')
		}
		b.WriteString(", not executed")
	default:
		b.WriteString("outcome unknown: the peer may have executed it")
	}
	b.WriteString(" after ")
	b.WriteString(strconv.Itoa(e.Attempts))
	if e.Attempts == 1 {
		b.WriteString(" attempt")
	} else {
		b.WriteString(" attempts")
	}
	if e.RetryAfter > 0 {
		b.WriteString(" (it asked to retry after ")
		b.WriteString(e.RetryAfter.String())
		b.WriteByte(')')
	}
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	if e.Fix != "" {
		b.WriteString("; no retry can succeed: ")
		b.WriteString(e.Fix)
	}
	if e.Outcome == OutcomeUnknown {
		b.WriteString("; call again only with the same FunctionCallIdentifier")
		if e.FunctionCallIdentifier != "" {
			b.WriteByte(' ')
			b.WriteString(e.FunctionCallIdentifier)
		}
		b.WriteString(", or audit first")
	}
	return b.String()
}

func (e *CallError) Unwrap() error { return e.Err }

// Is reports whether target is the sentinel of e's Outcome (ErrNotSent, ErrRefused, ErrOutcomeUnknown).
func (e *CallError) Is(target error) bool { return target == e.Outcome.Sentinel() }

// Call posts one envelope carrying h and body to endpoint, retrying per the RetryPolicy under ctx. Every
// failure is a *CallError; it wraps a *Fault when the peer answered with one.
func (c *Client) Call(ctx context.Context, endpoint string, h *Header, body BodyWriter) (*Response, error) {
	return c.CallInto(ctx, endpoint, h, body, nil)
}

// CallInto is Call for a caller that knows which answer it expects: when the answer's body is into's
// element, it is decoded into into in the same pass as the envelope (ReadMessageInto), and the
// Message's DecodeBody(into) returns that outcome without reading the body again.
func (c *Client) CallInto(ctx context.Context, endpoint string, h *Header, body BodyWriter, into BodyReader) (*Response, error) {
	r := new(Response)
	if err := c.CallIntoResponse(ctx, endpoint, h, body, into, r); err != nil {
		return nil, err
	}
	return r, nil
}

// CallIntoResponse is CallInto that fills r, which the caller provides, instead of returning a Response
// of its own: a caller that keeps only the Response's values (its Message among them) saves an
// allocation a call. r is left as it was when the call fails. A nil r is refused before anything is
// sent (a *CallError whose Outcome is NotSent).
func (c *Client) CallIntoResponse(ctx context.Context, endpoint string, h *Header, body BodyWriter, into BodyReader, r *Response) error {
	if r == nil {
		return &CallError{Endpoint: endpoint, Action: h.Action, MessageID: h.MessageID, Outcome: NotSent,
			Err: errors.New("soap: CallIntoResponse needs a *Response to fill, got nil")}
	}
	bp, _ := c.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	hdr := h // the caller's, unless a security header is added to a copy
	if c.security != nil {
		var nonce [NonceSize]byte
		_, _ = rand.Read(nonce[:])
		withSecurity := *h
		withSecurity.Extra = c.security(append([]byte(nil), h.Extra...), c.now(), nonce[:])
		hdr = &withSecurity
	}
	// The address and action blocks as escaped for an earlier call with the same values.
	addrs := c.addressBlocks(hdr.From, hdr.To, hdr.ReplyTo)
	payload := appendEnvelope((*bp)[:0], c.version, hdr, body, addrs, c.actionHeaders(hdr.Action).actionXML)
	*bp = payload
	err := c.post(ctx, endpoint, h.Action, payload, into, r)
	c.bufs.Put(bp) // the payload is not referred to once post returns: retries are over
	if ce, ok := err.(*CallError); ok {
		ce.MessageID = h.MessageID
	}
	return err
}

// attemptError is one failed attempt and what it proves.
type attemptError struct {
	err        error
	outcome    Outcome
	status     int
	fault      *Fault
	retryAfter time.Duration // from a 503's Retry-After
	permanent  bool          // no retry can help (bad URL, answer too large, certificate failure)
	fix        string
}

// Post sends an already encoded envelope, with the same retries as Call. Call is the usual entry point;
// Post serves senders that keep the exact bytes (the mock gateway's callbacks).
func (c *Client) Post(ctx context.Context, endpoint, action string, payload []byte) (*Response, error) {
	r := new(Response)
	if err := c.post(ctx, endpoint, action, payload, nil, r); err != nil {
		return nil, err
	}
	return r, nil
}

// post sends payload, with retries, and fills r with the answer; r is left as it was on failure.
func (c *Client) post(ctx context.Context, endpoint, action string, payload []byte, into BodyReader, r *Response) error {
	var b backoff.BackOff // made at the first failure: nearly every call succeeds at once
	start := time.Now()
	for attempts := 1; ; attempts++ {
		ae := c.once(ctx, endpoint, action, payload, into, r)
		if ae == nil {
			r.Attempts = attempts
			return nil
		}
		err := ae.err
		ce := &CallError{Endpoint: endpoint, Action: action, Attempts: attempts, Outcome: ae.outcome, StatusCode: ae.status,
			Fault: ae.fault, Fix: ae.fix}
		if ae.fault != nil {
			ce.Subject, ce.Reason = statusCodes(ae.fault.Detail)
		}
		// Only an attempt that proves the request was not executed is repeated.
		retry := !ae.permanent && ctx.Err() == nil && attempts < c.retry.MaxAttempts &&
			(ae.outcome == NotSent || (ae.outcome == Refused && ae.status == http.StatusServiceUnavailable))
		var wait time.Duration
		if retry {
			if b == nil {
				b = c.newBackOff()
			}
			wait = b.NextBackOff()
			if ae.retryAfter > wait {
				wait = ae.retryAfter
			}
			// MaxElapsed counts from the call's start, the first attempt included. A wait the caller's
			// deadline would cut short is not begun: the peer asked for it, and would refuse earlier.
			retry = c.retry.MaxElapsed <= 0 || time.Since(start)+wait <= c.retry.MaxElapsed
			if d, ok := ctx.Deadline(); ok && ae.retryAfter > 0 && time.Until(d) < wait {
				retry = false
			}
			if !retry && ae.retryAfter > 0 {
				ce.RetryAfter = ae.retryAfter
			}
		}
		if retry {
			traceRetry(ctx, attempts, wait, err)
			c.logger.LogAttrs(ctx, slog.LevelWarn, "soap: retrying call",
				slog.String("endpoint", endpoint), slog.String("action", action), slog.Int("attempt", attempts),
				slog.Duration("wait", wait), slog.Any("error", err))
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
		ce.Err = err
		return ce
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

// answered classifies an attempt that got a status line: what the status says, except that a 2xx whose
// body could not be read or decoded leaves the outcome unknown (the request was accepted).
func answered(status int, err error) *attemptError {
	o := statusOutcome(status)
	if status < 300 {
		o = OutcomeUnknown
	}
	return &attemptError{err: err, outcome: o, status: status}
}

// once makes one attempt and, when it succeeds, fills r with its answer (Attempts aside).
func (c *Client) once(ctx context.Context, endpoint, action string, payload []byte, into BodyReader, r *Response) *attemptError {
	var trace *attemptTrace
	if c.http != nil {
		// A round tripper of someone else's: httptrace tells how far the attempt got (net/http's
		// Transport reports it; this package's Transport marks its errors itself).
		trace = &attemptTrace{}
		ctx = httptrace.WithClientTrace(ctx, trace.trace())
	}
	var req *http.Request
	var ex *exchange
	var err error
	if c.rt != nil {
		ex, _ = c.exchs.Get().(*exchange)
		if ex == nil {
			ex = newExchange()
		}
		if err = c.prepare(ex, ctx, endpoint, action, payload); err != nil {
			return &attemptError{err: err, outcome: NotSent, permanent: true}
		}
		req = &ex.req
	} else if req, err = c.newRequest(ctx, endpoint, action, payload); err != nil {
		return &attemptError{err: err, outcome: NotSent, permanent: true}
	}
	// The Message the answer is read into; it goes back to the pool when once returns, unless handed over.
	m := c.pools.get()
	var (
		handedOver bool
		body       io.Closer // the answer's, closed when once returns
		reuse      *exchange // back to the pool when once returns, after the body is closed
	)
	// One deferred call does all the clean-up, in this order, and once has few returns: the compiler then
	// inlines it at each return instead of running the runtime's deferral, which costs more than the
	// clean-up itself on every call.
	defer func() {
		if body != nil {
			_ = body.Close()
		}
		if reuse != nil {
			c.exchs.Put(reuse) // nothing refers to the exchange once the answer's body is closed
		}
		if !handedOver {
			c.pools.put(m) // only now: errors quoted from its buffer, and read the answer's header
		}
	}()
	var res *http.Response
	if ex != nil {
		// Straight to the Transport: http.Client would copy the headers for redirects on every call, and a
		// SOAP call is never redirected (a 3xx is an HTTPError). The answer's header goes into the map the
		// Message kept from its last use.
		ex.space.pr.res.Header, ex.space.pr.room = m.HTTPHeader, &m.headerValues
		var direct bool
		res, direct, err = c.rt.roundTrip(ctx, req, &ex.space)
		if direct {
			reuse = ex
		}
	} else {
		res, err = c.http.Do(req)
	}
	if err != nil {
		ae := &attemptError{err: err, outcome: transportOutcome(err, trace)}
		if fix := certificateFailure(err); fix != "" {
			ae.outcome, ae.permanent, ae.fix = NotSent, true, fix
		}
		return ae
	}
	body = res.Body
	var ae *attemptError
	handedOver, ae = c.answer(res, ex, m, into, r)
	return ae
}

// answer reads and classifies the answer res of one attempt into m (and into), and fills r when it is a
// success. handedOver reports that m went to the caller, in r or with a fault in the error; once
// returns it to the pool otherwise.
func (c *Client) answer(res *http.Response, ex *exchange, m *Message, into BodyReader, r *Response) (handedOver bool, _ *attemptError) {
	data, err := readInto((*m.buf)[:0], res.Body, res.ContentLength, c.maxBytes)
	*m.buf = data
	if err != nil {
		ae := answered(res.StatusCode, err)
		ae.permanent = errors.Is(err, ErrTooLarge)
		return false, ae
	}
	if len(bytes.TrimSpace(data)) == 0 {
		switch {
		case res.StatusCode == http.StatusAccepted || res.StatusCode == http.StatusNoContent || res.StatusCode == http.StatusOK:
			*r = Response{StatusCode: res.StatusCode}
			return false, nil
		default:
			return false, c.statusError(res, &HTTPError{StatusCode: res.StatusCode, Status: res.Status}, nil)
		}
	}
	// Only an error status needs the media type: parsing it allocates.
	if res.StatusCode >= 300 && !isSOAPContentType(res.Header.Get("Content-Type")) {
		herr := &HTTPError{StatusCode: res.StatusCode, Status: res.Status, Body: snippet(data)}
		return false, c.statusError(res, herr, nil)
	}
	err = c.pools.read(m, c.read, into)
	if err != nil && errors.Is(err, ErrEmptyBody) && res.StatusCode < 300 {
		// An envelope with an empty Body on a 2xx is a one-way acknowledgement (node-soap and others
		// send one for a 202): the request was accepted, exactly as with no body at all.
		*r = Response{StatusCode: res.StatusCode}
		return false, nil
	}
	if err != nil {
		if res.StatusCode >= 300 {
			err = &HTTPError{StatusCode: res.StatusCode, Status: res.Status, Body: snippet(data)}
		}
		if res.StatusCode >= 300 {
			return false, c.statusError(res, err, nil)
		}
		return false, answered(res.StatusCode, err)
	}
	m.HTTPHeader, m.TLS = res.Header, res.TLS
	if ex != nil && res != &ex.space.pr.res {
		// Not the Transport's own parse (net/http's, or its fall-back): a header map of net/http's, which
		// the pool must not clear for the next answer (Message.Release).
		m.HTTPHeader = res.Header.Clone()
	}
	// Handed over from here: to the caller, or with the fault to the error; a released Message returns.
	if m.Fault != nil {
		m.Fault.HTTPStatus = res.StatusCode
		// A fault is a refusal whatever status carries it, 502 and 504 excepted: a proxy's fault says
		// nothing of what the gateway behind it did.
		return true, c.statusError(res, m.Fault, m.Fault)
	}
	if res.StatusCode >= 300 {
		return true, c.statusError(res, &HTTPError{StatusCode: res.StatusCode, Status: res.Status, Body: snippet(data)}, nil)
	}
	*r = Response{StatusCode: res.StatusCode, Message: m}
	return true, nil
}

// newRequest is the POST of payload to endpoint with the headers of action, as http.NewRequestWithContext
// and Version.SetActionHeaders make it. On this package's Transport (c.rt) it is an exchange's request
// (prepare) under ctx; once calls the Transport with an exchange of its pool instead.
func (c *Client) newRequest(ctx context.Context, endpoint, action string, payload []byte) (*http.Request, error) {
	if c.rt == nil {
		// Someone else's http.Client: a request of its own, which its transport may keep or change.
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(payload))
		if err != nil {
			return nil, err
		}
		c.version.SetActionHeaders(req.Header, action)
		return req, nil
	}
	ex := newExchange()
	if err := c.prepare(ex, ctx, endpoint, action, payload); err != nil {
		return nil, err
	}
	return ex.req.WithContext(ctx), nil
}

// exchange is what one attempt on this package's Transport takes besides its context: the request, its
// body and header, and the room for the answer (answerSpace). A Client keeps them in a pool: the
// Transport only reads a request, and nothing refers to any of it once the answer's body is closed.
type exchange struct {
	req    http.Request
	body   payloadBody
	header http.Header
	// headerOf is the action's header values header holds, nil before the first request.
	headerOf *actionHeaders
	getBody  func() (io.ReadCloser, error) // body.rewind, made once
	space    answerSpace
}

func newExchange() *exchange {
	ex := &exchange{header: make(http.Header, 2)}
	ex.getBody = ex.body.rewind
	return ex
}

// prepare makes ex's request the POST of payload to endpoint with the headers of action, as
// http.NewRequest and Version.SetActionHeaders make it, but without a context (the Transport is given
// ctx itself): from the parsed endpoint and the header values of the last call, which requests share.
func (c *Client) prepare(ex *exchange, ctx context.Context, endpoint, action string, payload []byte) error {
	if ctx == nil {
		return errors.New("net/http: nil Context")
	}
	e := c.endpoint.Load()
	if e == nil || e.raw != endpoint {
		u, err := url.Parse(endpoint)
		if err != nil {
			return err
		}
		u.Host = removeEmptyPort(u.Host)
		e = &parsedEndpoint{raw: endpoint, url: u}
		c.endpoint.Store(e)
	}
	a := c.actionHeaders(action)
	ex.body.payload = payload
	ex.body.Reset(payload)
	var body io.ReadCloser = &ex.body
	if len(payload) == 0 {
		body = http.NoBody
	}
	hdr := ex.header
	if ex.headerOf != a {
		// Filled again only for other header values: nothing changes an exchange's header while it is out
		// (this package's Transport only reads a request; one given to net/http's does not come back).
		clear(hdr)
		// Full slice expressions: an append to a request's header copies instead of writing into the next one's.
		hdr["Content-Type"] = a.contentType[:len(a.contentType):len(a.contentType)]
		if a.soapAction != nil {
			hdr["Soapaction"] = a.soapAction[:len(a.soapAction):len(a.soapAction)]
		}
		ex.headerOf = a
	}
	ex.req = http.Request{Method: http.MethodPost, URL: e.url, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: hdr, Body: body, GetBody: ex.getBody, ContentLength: int64(len(payload)), Host: e.url.Host}
	ex.space.head = c.requestHead(e, a, &ex.req)
	return nil
}

// cachedHead is the request head (newRequestHead) of the requests to one parsed endpoint with one
// action's headers; head is nil when they are not of the plain shape.
type cachedHead struct {
	endpoint *parsedEndpoint
	action   *actionHeaders
	head     *requestHead
}

// requestHead returns the head of requests like req, which prepare made from e and a: the one of the last
// call when e and a are still the ones it was made from (both are replaced, never changed, when they do).
func (c *Client) requestHead(e *parsedEndpoint, a *actionHeaders, req *http.Request) *requestHead {
	if h := c.head.Load(); h != nil && h.endpoint == e && h.action == a {
		return h.head
	}
	tmpl := *req
	tmpl.Body, tmpl.GetBody, tmpl.ContentLength = nil, nil, 0
	h := &cachedHead{endpoint: e, action: a, head: newRequestHead(&tmpl)}
	c.head.Store(h)
	return h.head
}

// parsedEndpoint is an endpoint URL as http.NewRequest parses it. url is shared by the requests to it and
// never changed.
type parsedEndpoint struct {
	raw string
	url *url.URL
}

// actionHeaders are the header values SetActionHeaders gives action, shared by the requests that carry it,
// and its escaped Action block in the envelope.
type actionHeaders struct {
	action                  string
	version                 Version
	contentType, soapAction []string
	actionXML               []byte
}

// actionHeaders returns the actionHeaders of action in c's version: those of the last call when it had
// the same action, as nearly every call has (a Client calls a gateway with a few actions).
func (c *Client) actionHeaders(action string) *actionHeaders {
	a := c.action.Load()
	if a == nil || a.action != action || a.version != c.version {
		h := http.Header{}
		c.version.SetActionHeaders(h, action)
		a = &actionHeaders{action: action, version: c.version, contentType: h["Content-Type"], soapAction: h["Soapaction"],
			actionXML: appendActionBlock(nil, c.version, action)}
		c.action.Store(a)
	}
	return a
}

// addressBlocks returns the escaped address blocks of a header with from, to and replyTo, or nil when
// the call is to escape them itself. A Client's calls nearly all carry the same addresses, and a few sets
// (a From naming the profile's vendor, say) each keep a place among the last ones. A set is kept once it
// comes back: a sender whose every call goes elsewhere (callbacks to many subscribers) allocates nothing
// for them.
func (c *Client) addressBlocks(from, to, replyTo string) *addressBlocks {
	for i := range c.addrs {
		if a := c.addrs[i].Load(); a != nil && a.from == from && a.to == to && a.replyTo == replyTo && a.v == c.version {
			return a
		}
	}
	set := addressSet{from, to, replyTo}
	c.addrMu.Lock()
	again := false
	for _, m := range c.addrMissed {
		again = again || m == set
	}
	if !again {
		c.addrMissed[c.addrMissedNext%len(c.addrMissed)] = set
		c.addrMissedNext++
	}
	c.addrMu.Unlock()
	if !again {
		return nil
	}
	a := newAddressBlocks(c.version, from, to, replyTo)
	c.addrs[c.addrNext.Add(1)%uint32(len(c.addrs))].Store(a)
	return a
}

// addressSet is the addresses of a header that addressBlocks keeps the blocks of.
type addressSet struct{ from, to, replyTo string }

// payloadBody is a request body over the bytes of an envelope, which need no closing.
type payloadBody struct {
	bytes.Reader
	payload []byte
}

func (*payloadBody) Close() error { return nil }

// rewind is the request's GetBody: the payload again from its start, as NewRequest's is.
func (b *payloadBody) rewind() (io.ReadCloser, error) {
	if len(b.payload) == 0 {
		return http.NoBody, nil
	}
	again := &payloadBody{payload: b.payload}
	again.Reset(b.payload)
	return again, nil
}

// removeEmptyPort strips the empty port of "host:", as net/http does with a request's host (RFC 3986
// section 6.2.3).
func removeEmptyPort(host string) string {
	if strings.LastIndexByte(host, ':') > strings.LastIndexByte(host, ']') {
		return strings.TrimSuffix(host, ":")
	}
	return host
}

// statusError is the attempt error of an answer with an error status (or a fault).
func (c *Client) statusError(res *http.Response, err error, f *Fault) *attemptError {
	ae := &attemptError{err: err, outcome: statusOutcome(res.StatusCode), status: res.StatusCode, fault: f}
	if res.StatusCode == http.StatusServiceUnavailable {
		ae.retryAfter, _ = retryAfter(res.Header, time.Now())
	}
	return ae
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

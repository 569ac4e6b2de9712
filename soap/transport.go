package soap

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"
)

// Transport is the http.RoundTripper the Client uses unless told otherwise: HTTP/1.1 keep-alive over
// (mutual) TLS to one or a few gateways, each request written and its answer read on the caller's own
// goroutine. net/http's Transport hands every request to a writer goroutine and every answer back from
// a reader goroutine; for small SOAP calls those hand-overs and the scheduler work behind them cost more
// CPU than the TLS records do (bench/README.md). Requests through a proxy (http.ProxyFromEnvironment)
// and requests whose body length is unknown go through a net/http Transport with the same settings.
//
// Request and response syntax is net/http's own (http.Request.Write, http.ReadResponse), so header
// validation, chunked bodies and Connection: close behave as they do there.
type Transport struct {
	cfg      *tls.Config
	settings TransportSettings

	mu      sync.Mutex
	hosts   map[hostKey]*hostConns
	netHTTP *http.Transport // made on first use, under mu
}

// TransportSettings are the limits of a Transport; zero fields take the defaults of DefaultTransportSettings.
type TransportSettings struct {
	DialTimeout           time.Duration // TCP connect
	TLSHandshakeTimeout   time.Duration
	ResponseHeaderTimeout time.Duration // from the request written to the status line and headers read
	AttemptTimeout        time.Duration // the whole exchange, response body included; the context may cap it sooner
	IdleConnTimeout       time.Duration // an idle connection older than this is closed, not reused
	MaxIdleConnsPerHost   int
	Proxy                 func(*http.Request) (*url.URL, error) // nil: http.ProxyFromEnvironment
}

// DefaultTransportSettings are the settings NewTransport uses.
func DefaultTransportSettings() TransportSettings {
	return TransportSettings{
		DialTimeout:           10 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		AttemptTimeout:        DefaultAttemptTimeout,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   256,
		Proxy:                 http.ProxyFromEnvironment,
	}
}

// NewTransport returns a Transport with DefaultTransportSettings and the given TLS configuration (see
// package mtls), which it clones and restricts to HTTP/1.1.
func NewTransport(cfg *tls.Config) *Transport {
	return NewTransportWith(cfg, DefaultTransportSettings())
}

// NewTransportWith is NewTransport with explicit settings.
func NewTransportWith(cfg *tls.Config, s TransportSettings) *Transport {
	d := DefaultTransportSettings()
	positiveOr(&s.DialTimeout, d.DialTimeout)
	positiveOr(&s.TLSHandshakeTimeout, d.TLSHandshakeTimeout)
	positiveOr(&s.ResponseHeaderTimeout, d.ResponseHeaderTimeout)
	positiveOr(&s.AttemptTimeout, d.AttemptTimeout)
	positiveOr(&s.IdleConnTimeout, d.IdleConnTimeout)
	positiveOr(&s.MaxIdleConnsPerHost, d.MaxIdleConnsPerHost)
	if s.Proxy == nil {
		s.Proxy = d.Proxy
	}
	if cfg == nil {
		cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	cfg = cfg.Clone()
	// This transport speaks HTTP/1.1 only; a server must not pick h2 from the offer.
	cfg.NextProtos = []string{"http/1.1"}
	return &Transport{cfg: cfg, settings: s, hosts: map[hostKey]*hostConns{}}
}

// positiveOr sets *v to def unless it is positive.
func positiveOr[T time.Duration | int](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// hostKey names a gateway as its URLs do: "host" and "host:443" are two keys for one host, which costs
// at most a second idle list and saves building a key on every request.
type hostKey struct{ scheme, host string }

// hostConns are the idle connections to one gateway, newest last.
type hostConns struct {
	proxy *url.URL // decided once per host: the environment is read once per process
	idle  []*persistConn
}

type persistConn struct {
	t      *Transport
	host   *hostConns
	conn   net.Conn
	tls    *tls.ConnectionState
	br     *bufio.Reader
	bw     *bufio.Writer
	idleAt time.Time
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL == nil || (req.URL.Scheme != "https" && req.URL.Scheme != "http") || req.URL.Host == "" {
		closeBody(req)
		return nil, fmt.Errorf("soap: transport: unsupported URL %q", req.URL)
	}
	h, err := t.host(req)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	if h.proxy != nil || (req.Body != nil && req.Body != http.NoBody && req.GetBody == nil) {
		return t.viaNetHTTP(req)
	}
	ctx := req.Context()
	if err := ctx.Err(); err != nil { // an idle connection would otherwise take the request before the AfterFunc runs
		closeBody(req)
		return nil, err
	}
	for try := 0; ; try++ {
		var pc *persistConn
		var reused bool
		if try == 0 {
			pc, reused, err = t.conn(ctx, h, req.URL)
		} else {
			pc, err = t.dial(ctx, h, req.URL) // the other idle connections are likely as stale
		}
		if err != nil {
			closeBody(req)
			return nil, err
		}
		res, err := pc.roundTrip(req)
		if err == nil {
			return res, nil
		}
		// A reused connection the server had already closed fails before any answer arrived; the request
		// never reached the application, so it goes once more on a new connection (as net/http does for
		// requests that can be rewound). Anything else is the caller's to retry.
		var stale *staleConnError
		if !reused || try > 0 || !errors.As(err, &stale) || ctx.Err() != nil {
			closeBody(req)
			if ce := ctx.Err(); ce != nil {
				return nil, ce
			}
			if errors.As(err, &stale) {
				err = stale.err
			}
			return nil, err
		}
		if req.Body != nil && req.Body != http.NoBody { // a body without GetBody went to net/http above
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			rewound := *req // the caller's request is not to be changed
			rewound.Body = body
			req = &rewound
		}
	}
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// host finds or makes the idle list of the request's host, deciding once whether it goes through a proxy.
// A Proxy function's error is not remembered: the next request asks again.
func (t *Transport) host(req *http.Request) (*hostConns, error) {
	k := hostKey{req.URL.Scheme, req.URL.Host}
	t.mu.Lock()
	h := t.hosts[k]
	t.mu.Unlock()
	if h != nil {
		return h, nil
	}
	proxy, err := t.settings.Proxy(req)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if h = t.hosts[k]; h == nil {
		h = &hostConns{proxy: proxy}
		t.hosts[k] = h
	}
	return h, nil
}

func canonicalAddr(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// viaNetHTTP sends req through a net/http Transport with the same settings, AttemptTimeout included.
func (t *Transport) viaNetHTTP(req *http.Request) (*http.Response, error) {
	t.mu.Lock()
	if t.netHTTP == nil {
		s := t.settings
		t.netHTTP = &http.Transport{
			Proxy:                 s.Proxy,
			DialContext:           (&net.Dialer{Timeout: s.DialTimeout, KeepAlive: 30 * time.Second}).DialContext,
			TLSClientConfig:       t.cfg,
			TLSHandshakeTimeout:   s.TLSHandshakeTimeout,
			ResponseHeaderTimeout: s.ResponseHeaderTimeout,
			IdleConnTimeout:       s.IdleConnTimeout,
			MaxIdleConnsPerHost:   s.MaxIdleConnsPerHost,
		}
	}
	nh := t.netHTTP
	t.mu.Unlock()
	parent := req.Context()
	ctx, cancel := context.WithTimeout(parent, t.settings.AttemptTimeout)
	res, err := nh.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		if ctx.Err() == context.DeadlineExceeded && parent.Err() == nil {
			return nil, &TimeoutError{Awaiting: "the response", Limit: t.settings.AttemptTimeout, Err: err}
		}
		return nil, err
	}
	res.Body = &cancelOnClose{ReadCloser: res.Body, cancel: cancel}
	return res, nil
}

// cancelOnClose ends an attempt's context once its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// conn returns the newest idle connection that is not too old, or dials a new one.
func (t *Transport) conn(ctx context.Context, h *hostConns, u *url.URL) (*persistConn, bool, error) {
	now := time.Now()
	t.mu.Lock()
	for n := len(h.idle); n > 0; n = len(h.idle) {
		pc := h.idle[n-1]
		h.idle[n-1] = nil
		h.idle = h.idle[:n-1]
		if now.Sub(pc.idleAt) < t.settings.IdleConnTimeout {
			t.mu.Unlock()
			return pc, true, nil
		}
		_ = pc.conn.Close()
	}
	t.mu.Unlock()
	pc, err := t.dial(ctx, h, u)
	return pc, false, err
}

func (t *Transport) dial(ctx context.Context, h *hostConns, u *url.URL) (*persistConn, error) {
	d := net.Dialer{Timeout: t.settings.DialTimeout, KeepAlive: 30 * time.Second}
	addr := canonicalAddr(u)
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	pc := &persistConn{t: t, host: h, conn: raw}
	if u.Scheme == "https" {
		cfg := t.cfg
		if cfg.ServerName == "" {
			cfg = cfg.Clone()
			cfg.ServerName = u.Hostname()
		}
		tc := tls.Client(raw, cfg)
		hctx, cancel := context.WithTimeout(ctx, t.settings.TLSHandshakeTimeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			_ = raw.Close()
			if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
				// Not the context's error: that would read as the caller's own deadline.
				return nil, &TimeoutError{Awaiting: "the TLS handshake", Limit: t.settings.TLSHandshakeTimeout, Err: os.ErrDeadlineExceeded}
			}
			return nil, err
		}
		st := tc.ConnectionState()
		if p := st.NegotiatedProtocol; p != "" && p != "http/1.1" {
			_ = raw.Close()
			return nil, fmt.Errorf("soap: transport: %s negotiated %q, not http/1.1", addr, p)
		}
		pc.conn, pc.tls = tc, &st
	}
	pc.br = bufio.NewReaderSize(pc.conn, 8<<10)
	pc.bw = bufio.NewWriterSize(pc.conn, 8<<10)
	return pc, nil
}

// TimeoutError is an attempt that one of the Transport's limits ended (the caller's context ending is
// reported as the context's error instead).
type TimeoutError struct {
	Awaiting string        // "the TLS handshake", "response headers" or "the rest of the response"
	Limit    time.Duration // the setting that ran out
	Err      error
}

func (e *TimeoutError) Error() string {
	return "soap: transport: timeout awaiting " + e.Awaiting + " (limit " + e.Limit.String() + ")"
}
func (e *TimeoutError) Unwrap() error { return e.Err }

// Timeout reports true, as net.Error does for timeouts.
func (e *TimeoutError) Timeout() bool { return true }

// staleConnError marks a failure on a reused connection before any byte of an answer arrived.
type staleConnError struct{ err error }

func (e *staleConnError) Error() string { return e.err.Error() }
func (e *staleConnError) Unwrap() error { return e.err }

// aLongTimeAgo is a deadline in the past: setting it makes blocked reads and writes return at once.
var aLongTimeAgo = time.Unix(1, 0)

func (pc *persistConn) roundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	s := &pc.t.settings
	// The context's own deadline is left to the AfterFunc below, so that its ending is always seen as
	// ctx.Err() and not mistaken for one of the transport's limits.
	deadline := time.Now().Add(s.AttemptTimeout)
	headerDeadline := time.Now().Add(s.ResponseHeaderTimeout)
	if deadline.Before(headerDeadline) {
		headerDeadline = deadline
	}
	_ = pc.conn.SetWriteDeadline(deadline)
	_ = pc.conn.SetReadDeadline(headerDeadline)
	stop := func() bool { return true }
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, func() { _ = pc.conn.SetDeadline(aLongTimeAgo) })
	}
	fail := func(err error, stale bool) (*http.Response, error) {
		stop()
		_ = pc.conn.Close()
		if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() == nil {
			if headerDeadline.Before(deadline) {
				return nil, &TimeoutError{Awaiting: "response headers", Limit: s.ResponseHeaderTimeout, Err: err}
			}
			return nil, &TimeoutError{Awaiting: "response headers", Limit: s.AttemptTimeout, Err: err}
		}
		if stale {
			return nil, &staleConnError{err}
		}
		return nil, err
	}
	if err := req.Write(pc.bw); err != nil {
		return fail(err, true)
	}
	if err := pc.bw.Flush(); err != nil {
		return fail(err, true)
	}
	if _, err := pc.br.Peek(1); err != nil {
		return fail(err, true)
	}
	var res *http.Response
	for {
		var err error
		if res, err = http.ReadResponse(pc.br, req); err != nil {
			return fail(err, false)
		}
		// 1xx answers (100 Continue, 103 Early Hints) precede the real one.
		if res.StatusCode >= 200 || res.StatusCode == http.StatusSwitchingProtocols {
			break
		}
		_ = res.Body.Close()
	}
	if res.StatusCode == http.StatusSwitchingProtocols {
		return fail(errors.New("soap: transport: unexpected 101 Switching Protocols"), false)
	}
	_ = pc.conn.SetReadDeadline(deadline)
	res.TLS = pc.tls
	res.Body = &connBody{pc: pc, ctx: ctx, body: res.Body, reusable: !res.Close && !req.Close, stop: stop}
	return res, nil
}

// connBody returns the connection to the idle list once the answer has been read to its end, and closes
// it when the body is closed before that.
type connBody struct {
	pc       *persistConn
	ctx      context.Context
	body     io.ReadCloser
	reusable bool
	stop     func() bool
	done     bool
}

func (b *connBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.body.Read(p)
	if err == io.EOF {
		b.finish(true)
	} else if err != nil {
		b.finish(false)
		if ce := b.ctx.Err(); ce != nil {
			err = ce
		} else if errors.Is(err, os.ErrDeadlineExceeded) {
			err = &TimeoutError{Awaiting: "the rest of the response", Limit: b.pc.t.settings.AttemptTimeout, Err: err}
		}
	}
	return n, err
}

func (b *connBody) Close() error {
	if !b.done {
		b.finish(b.body == http.NoBody) // an empty answer leaves nothing unread on the connection
	}
	return nil
}

func (b *connBody) finish(atEOF bool) {
	b.done = true
	// stop reports false when the context's function already ran (or is running): the deadline it set
	// would poison the connection, so it is not reused.
	ok := b.stop() && atEOF && b.reusable
	pc := b.pc
	if !ok {
		_ = pc.conn.Close()
		return
	}
	_ = pc.conn.SetDeadline(time.Time{})
	pc.t.putIdle(pc)
}

func (t *Transport) putIdle(pc *persistConn) {
	pc.idleAt = time.Now()
	t.mu.Lock()
	if len(pc.host.idle) >= t.settings.MaxIdleConnsPerHost {
		t.mu.Unlock()
		_ = pc.conn.Close()
		return
	}
	pc.host.idle = append(pc.host.idle, pc)
	t.mu.Unlock()
}

// CloseIdleConnections closes the connections that are not in use (http.Client.CloseIdleConnections calls it).
func (t *Transport) CloseIdleConnections() {
	t.mu.Lock()
	var all []*persistConn
	for _, h := range t.hosts {
		all = append(all, h.idle...)
		h.idle = nil
	}
	nh := t.netHTTP
	t.mu.Unlock()
	for _, pc := range all {
		_ = pc.conn.Close()
	}
	if nh != nil {
		nh.CloseIdleConnections()
	}
}

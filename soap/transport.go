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
	"net/http/httptrace"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Transport is the http.RoundTripper the Client uses unless told otherwise: HTTP/1.1 keep-alive over
// (mutual) TLS to one or a few gateways, each request written and its answer read on the caller's own
// goroutine. net/http's Transport hands every request to a writer goroutine and every answer back from
// a reader goroutine; for small SOAP calls those hand-overs and the scheduler work behind them cost more
// CPU than the TLS records do (bench/README.md). Requests through a proxy (http.ProxyFromEnvironment)
// and requests with a body but no GetBody (one that cannot be read twice) go through a net/http Transport
// with the same settings.
//
// Request and response syntax is net/http's own (http.Request.Write, http.ReadResponse), so header
// validation, chunked bodies and Connection: close behave as they do there. Unlike net/http it never
// sends a request twice: a connection is reused only while nothing arrived on it unasked, and a request
// that fails after it was written is the caller's to retry. It does not turn user:password in the URL
// into an Authorization header (SM-SRs authenticate the client by its certificate).
type Transport struct {
	cfg      *tls.Config
	settings TransportSettings

	mu      sync.Mutex
	hosts   map[hostKey]*hostConns
	netHTTP *http.Transport // made on first use, under mu
}

// TransportSettings are the limits of a Transport; zero fields take the defaults of DefaultTransportSettings.
type TransportSettings struct {
	DialTimeout            time.Duration // TCP connect
	TLSHandshakeTimeout    time.Duration
	ResponseHeaderTimeout  time.Duration // from the request written to the status line and headers read
	AttemptTimeout         time.Duration // the whole exchange, response body included; the context may cap it sooner
	IdleConnTimeout        time.Duration // an idle connection older than this is closed, not reused
	MaxIdleConnsPerHost    int
	MaxResponseHeaderBytes int64                                 // status line and headers, 1xx answers included
	Proxy                  func(*http.Request) (*url.URL, error) // nil: http.ProxyFromEnvironment
}

// DefaultTransportSettings are the settings NewTransport uses.
func DefaultTransportSettings() TransportSettings {
	return TransportSettings{
		DialTimeout:            10 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  60 * time.Second,
		AttemptTimeout:         DefaultAttemptTimeout,
		IdleConnTimeout:        90 * time.Second,
		MaxIdleConnsPerHost:    256,
		MaxResponseHeaderBytes: 1 << 20,
		Proxy:                  http.ProxyFromEnvironment,
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
	positiveOr(&s.MaxResponseHeaderBytes, d.MaxResponseHeaderBytes)
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
func positiveOr[T time.Duration | int | int64](v *T, def T) {
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
	raw    net.Conn // the TCP connection
	probe  *socketProbe
	conn   net.Conn    // raw, or the TLS connection over it
	rec    *recordConn // between raw and the TLS connection; nil without TLS
	tls    *tls.ConnectionState
	meter  meteredReader // between conn and br: bounds what response headers may take
	br     *bufio.Reader
	bw     *bufio.Writer
	idleAt time.Time
	// The deadlines in force on conn, as this connection last set them (see readBy and writeBy), and the read
	// start of the exchange whose body takes its read deadline (AttemptTimeout from there) once it
	// needs conn (see meteredReader); zero when none is pending.
	rd, wd time.Time
	bodyAt time.Time
	ctx    context.Context // of the exchange under way
	head   headLines       // the last answer's head, for the next one's lines that are the same (readResponseInto)
	abort  func()          // ends the I/O under way: what the end of an exchange's context does
}

// meteredReader reads from conn while left is positive; a negative left means no bound.
type meteredReader struct {
	pc   *persistConn
	left int64
	// drained reports that the last Read of the connection ended short of the room it had, without an
	// error: the TLS layer returned all it had decoded and holds nothing more (see quiet).
	drained bool
}

// errHeaderTooLarge is what the meter returns once response headers used up their bound.
var errHeaderTooLarge = errors.New("soap: transport: response headers over MaxResponseHeaderBytes")

func (m *meteredReader) Read(p []byte) (int, error) {
	if m.left == 0 {
		return 0, errHeaderTooLarge
	}
	if m.left > 0 && int64(len(p)) > m.left {
		p = p[:m.left]
	}
	pc := m.pc
	if !pc.bodyAt.IsZero() {
		// The body needs the connection after all: its deadline replaces the headers' one only now,
		// which an answer that came whole with its head never needs. Set, then the context checked:
		// the past deadline its ending sets (roundTrip's AfterFunc) must not be replaced.
		pc.readBy(pc.bodyAt, pc.t.settings.AttemptTimeout)
		pc.bodyAt = time.Time{}
		if pc.ctx.Err() != nil {
			pc.rd = aLongTimeAgo
			_ = pc.conn.SetReadDeadline(aLongTimeAgo)
		}
	}
	n, err := pc.conn.Read(p)
	m.drained = err == nil && n < len(p)
	if m.left > 0 {
		m.left -= int64(n)
	}
	return n, err
}

// RoundTrip implements http.RoundTripper. Its errors say whether the request was written completely
// (errors.As finds nothing of it outside this package; soap.Client reads it to tell NotSent from
// OutcomeUnknown).
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, _, err := t.roundTrip(req.Context(), req, nil)
	return res, err
}

// answerSpace is the memory of one answer (the parsed response and its body) that soap.Client lends
// the Transport for an exchange, so that an exchange does not allocate it, and the request's head when
// the Client has it already written.
type answerSpace struct {
	pr   plainResponse
	body connBody
	head *requestHead // when not nil, req is written from it (see Client.prepare)
}

// roundTrip is RoundTrip under ctx, which replaces req's own context, with the answer in space when space
// is not nil. direct reports that the exchange ran on this Transport's own connections: then nothing
// refers to req, its body or space once the answer's body is closed, and the caller may use them again
// (net/http's Transport, on the other path, may still read a request's body after its answer came).
func (t *Transport) roundTrip(ctx context.Context, req *http.Request, space *answerSpace) (_ *http.Response, direct bool, _ error) {
	if req.URL == nil || (req.URL.Scheme != "https" && req.URL.Scheme != "http") || req.URL.Host == "" {
		closeBody(req)
		return nil, false, notWritten(fmt.Errorf("soap: transport: unsupported URL %q", req.URL))
	}
	h, err := t.host(req)
	if err != nil {
		closeBody(req)
		return nil, false, notWritten(err)
	}
	if h.proxy != nil || (req.Body != nil && req.Body != http.NoBody && req.GetBody == nil) {
		res, err := t.viaNetHTTP(ctx, req)
		return res, false, err
	}
	if err := ctx.Err(); err != nil { // an idle connection would otherwise take the request before the AfterFunc runs
		closeBody(req)
		return nil, true, notWritten(err)
	}
	pc, now, err := t.conn(ctx, h, req.URL)
	if err != nil {
		closeBody(req)
		if ce := ctx.Err(); ce != nil {
			return nil, true, notWritten(ce)
		}
		return nil, true, notWritten(err)
	}
	if now.IsZero() {
		now = time.Now() // after the dial: the attempt's limits count from here
	}
	res, written, err := pc.roundTrip(ctx, req, space, now)
	if err != nil {
		closeBody(req)
		if ce := ctx.Err(); ce != nil {
			err = ce
		}
		return nil, true, &sendError{written: written, err: err}
	}
	return res, true, nil
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

// viaNetHTTP sends req through a net/http Transport with the same settings under parent, AttemptTimeout
// included.
func (t *Transport) viaNetHTTP(parent context.Context, req *http.Request) (*http.Response, error) {
	t.mu.Lock()
	if t.netHTTP == nil {
		s := t.settings
		t.netHTTP = &http.Transport{
			Proxy:                  s.Proxy,
			DialContext:            (&net.Dialer{Timeout: s.DialTimeout, KeepAlive: 30 * time.Second}).DialContext,
			TLSClientConfig:        t.cfg,
			TLSHandshakeTimeout:    s.TLSHandshakeTimeout,
			ResponseHeaderTimeout:  s.ResponseHeaderTimeout,
			IdleConnTimeout:        s.IdleConnTimeout,
			MaxIdleConnsPerHost:    s.MaxIdleConnsPerHost,
			MaxResponseHeaderBytes: s.MaxResponseHeaderBytes,
		}
	}
	nh := t.netHTTP
	t.mu.Unlock()
	ctx, cancel := context.WithTimeout(parent, t.settings.AttemptTimeout)
	var tr attemptTrace
	ctx = httptrace.WithClientTrace(ctx, tr.trace())
	res, err := nh.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		written := transportOutcome(err, &tr) == OutcomeUnknown
		if ctx.Err() == context.DeadlineExceeded && parent.Err() == nil {
			return nil, &sendError{written: written, err: &TimeoutError{Awaiting: "the response", Limit: t.settings.AttemptTimeout, Err: err}}
		}
		return nil, &sendError{written: written, err: err}
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

// conn returns the newest idle connection that is not too old and still quiet, with the time its age was
// checked at (which serves the exchange's deadlines: the quiet check takes microseconds), or dials a new
// one (now zero).
//
// A connection is not used again once anything arrived on it unasked: the server closed it while it sat
// idle, or sent bytes after the last answer (an answer longer than it said, a second answer, an alert).
// Whatever it reads next would not be the next request's answer. Nothing is ever resent here: a request
// that fails on a connection that looked alive is the caller's to retry (soap.Client resends the very
// same bytes, and the gateway de-duplicates on their FunctionCallIdentifier).
func (t *Transport) conn(ctx context.Context, h *hostConns, u *url.URL) (_ *persistConn, now time.Time, _ error) {
	for {
		pc, now := t.popIdle(h)
		if pc == nil {
			pc, err := t.dial(ctx, h, u)
			return pc, time.Time{}, err
		}
		if pc.quiet() {
			return pc, now, nil
		}
		_ = pc.conn.Close()
	}
}

// popIdle takes the newest idle connection of h, closing the ones past IdleConnTimeout on the way, and
// returns the time their age was taken at.
func (t *Transport) popIdle(h *hostConns) (*persistConn, time.Time) {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for n := len(h.idle); n > 0; n = len(h.idle) {
		pc := h.idle[n-1]
		h.idle[n-1] = nil
		h.idle = h.idle[:n-1]
		if now.Sub(pc.idleAt) < t.settings.IdleConnTimeout {
			return pc, now
		}
		_ = pc.conn.Close()
	}
	return nil, now
}

// quiet reports whether nothing arrived on the idle connection: nothing buffered, no TLS record waiting
// in the TLS layer, and nothing (no data, no end of stream) in the socket.
//
// With TLS, the TLS layer's buffers are empty when the last read of it returned less than it had room
// for (it hands over all it decoded) and recordConn below it is between records (it then holds no raw
// bytes): that is the usual state after an answer, checked without reading. Otherwise a read of it with
// a deadline in the past says: it returns at once, with a record the TLS layer already holds (data or an
// alert), or with a timeout, which a tls.Conn does not keep as an error.
func (pc *persistConn) quiet() bool {
	if pc.br.Buffered() > 0 {
		return false
	}
	if pc.tls != nil && !(pc.meter.drained && pc.rec.idle()) {
		// The deadline is left in the past: roundTrip, which follows every quiet check, sets its own.
		pc.rd = aLongTimeAgo
		_ = pc.conn.SetReadDeadline(aLongTimeAgo)
		_, err := pc.br.Peek(1)
		if !errors.Is(err, os.ErrDeadlineExceeded) || !pc.rec.idle() {
			return false
		}
		pc.meter.drained = true // the read ended in the loop that waits for a record: none is held
	}
	return pc.probe.socketQuiet(pc.raw)
}

func (t *Transport) dial(ctx context.Context, h *hostConns, u *url.URL) (*persistConn, error) {
	d := net.Dialer{Timeout: t.settings.DialTimeout, KeepAlive: 30 * time.Second}
	addr := canonicalAddr(u)
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	pc := &persistConn{t: t, host: h, raw: raw, conn: raw, probe: newSocketProbe(raw)}
	pc.abort = func() { _ = pc.conn.SetDeadline(aLongTimeAgo) } // made once: a call's context gets it (roundTrip)
	if u.Scheme == "https" {
		cfg := t.cfg
		if cfg.ServerName == "" {
			cfg = cfg.Clone()
			cfg.ServerName = u.Hostname()
		}
		pc.rec = &recordConn{Conn: raw}
		tc := tls.Client(pc.rec, cfg)
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
	// The handshake's deadlines are the context's, not set on the connection; drained: a new connection
	// goes to its first exchange without a quiet check.
	pc.meter = meteredReader{pc: pc, left: -1, drained: true}
	pc.br = bufio.NewReaderSize(&pc.meter, 8<<10)
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

// aLongTimeAgo is a deadline in the past: setting it makes blocked reads and writes return at once.
var aLongTimeAgo = time.Unix(1, 0)

// roundTrip writes req and reads the answer's headers. written reports, on failure, whether the request
// was written to its last byte: a request cut short cannot be executed by an HTTP/1.1 peer, which reads
// the whole body its Content-Length announces first.
func (pc *persistConn) roundTrip(ctx context.Context, req *http.Request, space *answerSpace, now time.Time) (_ *http.Response, written bool, _ error) {
	s := &pc.t.settings
	// The context's own deadline is left to the AfterFunc below, so that its ending is always seen as
	// ctx.Err() and not mistaken for one of the transport's limits. The limits count from now, when the
	// exchange began.
	pc.bodyAt, pc.ctx = time.Time{}, ctx
	pc.writeBy(now, s.AttemptTimeout)
	pc.readBy(now, min(s.ResponseHeaderTimeout, s.AttemptTimeout)) // the headers' limit, within the attempt's
	stop := func() bool { return true }
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, pc.abort)
	}
	fail := func(err error, awaiting string) (*http.Response, bool, error) {
		stop()
		_ = pc.conn.Close()
		if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() == nil {
			limit := s.AttemptTimeout
			if awaiting == "response headers" && s.ResponseHeaderTimeout < s.AttemptTimeout {
				limit = s.ResponseHeaderTimeout
			}
			return nil, written, &TimeoutError{Awaiting: awaiting, Limit: limit, Err: err}
		}
		return nil, written, err
	}
	var err error
	if space != nil && space.head != nil {
		err = space.head.write(pc.bw, req.Body, req.ContentLength)
	} else {
		err = writeRequest(pc.bw, req)
	}
	if err != nil {
		return fail(pc.alertAfter(err), "the request to be written")
	}
	if err := pc.bw.Flush(); err != nil {
		return fail(pc.alertAfter(err), "the request to be written")
	}
	written = true
	pc.meter.left = s.MaxResponseHeaderBytes
	var pr *plainResponse
	if space != nil {
		pr = &space.pr
	}
	var res *http.Response
	for {
		var err error
		if res, err = readResponseInto(pc.br, req, pr, &pc.head); err != nil {
			return fail(err, "response headers")
		}
		// 1xx answers (100 Continue, 103 Early Hints) precede the real one.
		if res.StatusCode >= 200 || res.StatusCode == http.StatusSwitchingProtocols {
			break
		}
		_ = res.Body.Close()
	}
	if res.StatusCode == http.StatusSwitchingProtocols {
		return fail(errors.New("soap: transport: unexpected 101 Switching Protocols"), "")
	}
	pc.meter.left = -1
	pc.bodyAt = now // its deadline set by the meter if the body is not all in br already
	res.TLS = pc.tls
	var cb *connBody
	if space != nil {
		cb = &space.body
	} else {
		cb = new(connBody)
	}
	cb.pc, cb.ctx, cb.body, cb.reusable, cb.stop = pc, ctx, res.Body, !res.Close && !req.Close, stop
	cb.done.Store(false)
	res.Body = cb
	return res, true, nil
}

// readBy and writeBy make conn's read (write) deadline due, or leave the one in force when it is no more
// than a small fraction of limit later: a timeout that fires that much late is one a busy scheduler could
// give anyway, and a connection in steady use then moves its deadlines (each a runtime timer) about once
// a second rather than several times an exchange. A deadline earlier than due is always moved.
// The due deadline is from+limit; the check is a subtraction, not time arithmetic on every exchange.
func (pc *persistConn) readBy(from time.Time, limit time.Duration) {
	slack := deadlineSlack(limit)
	if left := pc.rd.Sub(from); left < limit || left > limit+slack {
		pc.rd = from.Add(limit + slack)
		_ = pc.conn.SetReadDeadline(pc.rd)
	}
}

func (pc *persistConn) writeBy(from time.Time, limit time.Duration) {
	slack := deadlineSlack(limit)
	if left := pc.wd.Sub(from); left < limit || left > limit+slack {
		pc.wd = from.Add(limit + slack)
		_ = pc.conn.SetWriteDeadline(pc.wd)
	}
}

func deadlineSlack(limit time.Duration) time.Duration { return min(limit/64, time.Second) }

// alertAfter returns the TLS alert the peer sent before closing, if one waits on the connection, instead
// of the write error err. Under TLS 1.3 the client's handshake ends before the server has checked the
// client's certificate: a server refusing it sends an alert and closes, and the request's write then
// fails with a broken pipe that would hide why (and read as worth retrying).
func (pc *persistConn) alertAfter(err error) error {
	if pc.tls == nil || pc.tls.Version < tls.VersionTLS13 {
		return err
	}
	pc.rd = time.Now().Add(100 * time.Millisecond)
	_ = pc.conn.SetReadDeadline(pc.rd)
	var b [1]byte
	_, rerr := pc.conn.Read(b[:])
	var op *net.OpError
	if errors.As(rerr, &op) && op.Op == "remote error" {
		return rerr
	}
	return err
}

// connBody returns the connection to the idle list once the answer has been read to its end, and closes
// it when the body is closed before that. Close may run while a Read is blocked (it ends that Read).
type connBody struct {
	pc       *persistConn
	ctx      context.Context
	body     io.ReadCloser
	reusable bool
	stop     func() bool
	done     atomic.Bool // the exchange ended: Read returns EOF
}

func (b *connBody) Read(p []byte) (int, error) {
	if b.done.Load() {
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
	b.finish(b.body == http.NoBody) // an empty answer leaves nothing unread on the connection
	return nil
}

// finish ends the exchange once: the connection goes back to the idle list or is closed.
func (b *connBody) finish(atEOF bool) {
	if !b.done.CompareAndSwap(false, true) {
		return
	}
	// stop reports false when the context's function already ran (or is running): the deadline it set
	// would poison the connection, so it is not reused.
	ok := b.stop() && atEOF && b.reusable
	pc := b.pc
	if !ok {
		_ = pc.conn.Close()
		return
	}
	// The deadlines stay as they are: an idle connection is neither read nor written, and the next
	// exchange on it sets its own (quiet, then roundTrip). An answer read whole from br leaves the body's
	// deadline unset: the next read (quiet's, with a deadline in the past) is not the body's.
	pc.ctx, pc.bodyAt = nil, time.Time{}
	pc.t.putIdle(pc)
}

// putIdle adds pc to its host's idle list, and closes the oldest ones there that have outlived
// IdleConnTimeout (they would otherwise wait for a burst to reach them).
func (t *Transport) putIdle(pc *persistConn) {
	now := time.Now()
	pc.idleAt = now
	var expired []*persistConn
	t.mu.Lock()
	idle := pc.host.idle
	i := 0
	for i < len(idle) && now.Sub(idle[i].idleAt) >= t.settings.IdleConnTimeout {
		i++
	}
	if i > 0 {
		expired = append(expired, idle[:i]...)
		n := copy(idle, idle[i:])
		clear(idle[n:])
		idle = idle[:n]
	}
	full := len(idle) >= t.settings.MaxIdleConnsPerHost
	if !full {
		idle = append(idle, pc)
	}
	pc.host.idle = idle
	t.mu.Unlock()
	if full {
		_ = pc.conn.Close()
	}
	for _, old := range expired {
		_ = old.conn.Close()
	}
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

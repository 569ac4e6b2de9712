package callback

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/esimgw/esimgw/mtls"
	"github.com/esimgw/esimgw/soap"
)

// ErrInsecureServer is returned when a callback server would accept callbacks from anyone: plain HTTP or a
// TLS configuration that does not require and verify client certificates, without the matching explicit
// opt-out (WithPlainHTTP, WithoutClientCertificates).
var ErrInsecureServer = errors.New("esimgw: callback server must require verified client certificates")

// Timeouts bound every wait of the callback server, so that a slow client cannot hold it.
type Timeouts struct {
	ReadHeader time.Duration // TLS handshake and request headers; default 10 s
	Read       time.Duration // whole request, body included; default 30 s
	Write      time.Duration // handler plus response; default 60 s (the application's handler runs inside it)
	Idle       time.Duration // keep-alive between requests; default 120 s
}

func (t Timeouts) withDefaults() Timeouts {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&t.ReadHeader, 10*time.Second)
	def(&t.Read, 30*time.Second)
	def(&t.Write, 60*time.Second)
	def(&t.Idle, 120*time.Second)
	return t
}

type serverConfig struct {
	tls          *tls.Config
	plain        bool
	noClientCert bool
	soapPath     string
	extra        []route
	maxBody      int64
	timeouts     Timeouts
	logger       *slog.Logger
	meter        metric.MeterProvider // WithMeterProvider
	bodyBudget   int64                // WithMaxBodyBytesInFlight
}

type route struct {
	path string
	h    http.Handler
}

// Option configures a Server.
type Option func(*serverConfig) error

// WithTLS serves with cfg. It must require and verify client certificates
// (tls.RequireAndVerifyClientCert) unless WithoutClientCertificates is given too.
func WithTLS(cfg *tls.Config) Option {
	return func(c *serverConfig) error { c.tls = cfg; return nil }
}

// WithCertificate serves src's certificate (rotated without restart, see package mtls) and requires
// client certificates issued by clientCAs, optionally only with the given subjects (CN or full DN): the
// KPN set-up, where clientCAs holds the CA of KPN's client certificate and allowedSubjects its CN.
func WithCertificate(src *mtls.Source, clientCAs *x509.CertPool, allowedSubjects ...string) Option {
	return func(c *serverConfig) error {
		var opts []mtls.ConfigOption
		if len(allowedSubjects) > 0 {
			opts = append(opts, mtls.WithAllowedSubjects(allowedSubjects...))
		}
		cfg, err := mtls.ServerConfig(src, clientCAs, opts...)
		if err != nil {
			return err
		}
		c.tls = cfg
		return nil
	}
}

// WithPlainHTTP serves without TLS. Only for a server behind a TLS-terminating proxy that verifies client
// certificates itself, or for local experiments: anyone who reaches the port can post callbacks.
func WithPlainHTTP() Option {
	return func(c *serverConfig) error { c.plain = true; return nil }
}

// WithoutClientCertificates accepts TLS clients without a certificate. Like WithPlainHTTP, an explicit
// choice to let anyone post callbacks.
func WithoutClientCertificates() Option {
	return func(c *serverConfig) error { c.noClientCert = true; return nil }
}

// WithSOAPPath sets the path the SOAP callbacks and notifications are posted to (default "/": every path
// not claimed by WithRoute).
func WithSOAPPath(path string) Option {
	return func(c *serverConfig) error { c.soapPath = path; return nil }
}

// WithRoute serves another handler on the same listener, under the same TLS rules and body limit: for
// example es2plus's webhook handler for SGP.22 download progress.
func WithRoute(path string, h http.Handler) Option {
	return func(c *serverConfig) error { c.extra = append(c.extra, route{path, h}); return nil }
}

// WithMaxBodyBytes caps every request body (default soap.DefaultMaxMessageBytes).
func WithMaxBodyBytes(n int64) Option {
	return func(c *serverConfig) error { c.maxBody = n; return nil }
}

// WithMaxBodyBytesInFlight bounds the bytes all SOAP bodies being received and handled may hold together
// (default soap.DefaultBodyBudget, 64 MiB). Bodies are read into buffers that grow as their bytes arrive,
// never to a Content-Length announced ahead; a message whose body the budget cannot hold is answered 503
// with Retry-After (not handed over), so that many slow senders cannot exhaust memory.
func WithMaxBodyBytesInFlight(n int64) Option {
	return func(c *serverConfig) error { c.bodyBudget = n; return nil }
}

// WithTimeouts replaces the default timeouts; zero fields keep their defaults.
func WithTimeouts(t Timeouts) Option {
	return func(c *serverConfig) error { c.timeouts = t; return nil }
}

// WithLogger sets the logger for refused connections and messages (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(c *serverConfig) error { c.logger = l; return nil }
}

// Server receives the callbacks and notifications a gateway posts to the replyTo address. It is an
// HTTPS server with mutual TLS by default, a body size cap and timeouts on every wait; it hands every
// message to its handler (usually a *Dispatcher) and acknowledges only what was handed over.
type Server struct {
	srv     *http.Server
	handler http.Handler
	logger  *slog.Logger
	tls     bool
	// tlsConfig is the configuration served, kept for ReadinessCheck: net/http writes srv.TLSConfig.
	tlsConfig *tls.Config
	flight    *inflight
	budget    *soap.BodyBudget
	writeWait time.Duration // how long Close waits for hand-overs to be answered

	mu       sync.Mutex
	ln       net.Listener
	done     chan struct{} // closed when the serving goroutine returned
	serveErr error         // what it returned (http.ErrServerClosed mapped to nil); read after done
}

// NewServer returns a server that passes SOAP messages to h. It refuses (ErrInsecureServer) a
// configuration that would not verify client certificates unless that was asked for explicitly.
func NewServer(h soap.MessageHandler, opts ...Option) (*Server, error) {
	c := serverConfig{soapPath: "/", maxBody: soap.DefaultMaxMessageBytes, logger: slog.Default()}
	for _, o := range opts {
		if err := o(&c); err != nil {
			return nil, err
		}
	}
	switch {
	case c.plain && c.tls != nil:
		return nil, errors.New("esimgw: WithPlainHTTP and a TLS configuration exclude each other")
	case !c.plain && c.tls == nil:
		return nil, fmt.Errorf("%w: give WithCertificate or WithTLS (or WithPlainHTTP explicitly)", ErrInsecureServer)
	case c.tls != nil && c.tls.ClientAuth != tls.RequireAndVerifyClientCert && !c.noClientCert:
		return nil, fmt.Errorf("%w: tls.Config.ClientAuth is %v", ErrInsecureServer, c.tls.ClientAuth)
	case c.tls != nil && c.tls.MinVersion != 0 && c.tls.MinVersion < tls.VersionTLS12:
		return nil, errors.New("esimgw: callback server TLS below 1.2 is not allowed")
	}
	mux := http.NewServeMux()
	refusals := newRefusalCounter(c.meter)
	flight := newInflight()
	budget := soap.NewBodyBudget(c.bodyBudget)
	sh := soap.NewHandler(gate{f: flight, next: h}, soap.WithMaxMessageBytes(c.maxBody), soap.WithHandlerLogger(c.logger), soap.WithBodyBudget(budget))
	soapRoute := flight.wrap(refusals.wrap(sh), true)
	if err := handle(mux, c.soapPath, soapRoute); err != nil {
		return nil, err
	}
	var handler http.Handler = mux
	if c.soapPath == "/" && len(c.extra) == 0 {
		handler = soapOnly{mux: mux, soap: soapRoute}
	}
	for _, r := range c.extra {
		if r.h == nil {
			return nil, fmt.Errorf("esimgw: callback server route %q: nil handler", r.path)
		}
		if err := handle(mux, r.path, flight.wrap(http.MaxBytesHandler(r.h, c.maxBody), false)); err != nil {
			return nil, err
		}
	}
	t := c.timeouts.withDefaults()
	var cfg *tls.Config
	if c.tls != nil {
		cfg = c.tls.Clone()
		if cfg.MinVersion < tls.VersionTLS12 {
			cfg.MinVersion = tls.VersionTLS12
		}
	}
	s := &Server{handler: handler, logger: c.logger, tls: cfg != nil, tlsConfig: cfg, flight: flight, budget: budget, writeWait: t.Write}
	s.srv = &http.Server{
		Handler:           handler,
		TLSConfig:         cfg,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(refusalLogHandler{c.logger.Handler(), refusals}, slog.LevelWarn),
		ConnContext:       flight.connContext,
		ConnState:         flight.connState,
	}
	return s, nil
}

// handle registers h on mux, turning ServeMux's panic on a malformed or conflicting pattern (a WithRoute
// path equal to the SOAP path, say) into an error of the constructor.
func handle(mux *http.ServeMux, pattern string, h http.Handler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("esimgw: callback server route %q: %v", pattern, r)
		}
	}()
	mux.Handle(pattern, h)
	return nil
}

// soapOnly routes the requests of a server whose only route is the SOAP one on "/" as its ServeMux would,
// without the mux's matching (a slice of matches and a trailing-slash retry, on every callback): a clean
// path is the SOAP route's, and everything else (a path the mux redirects to its clean form, CONNECT,
// "*") goes through the mux itself.
type soapOnly struct {
	mux  *http.ServeMux
	soap http.Handler
}

func (h soapOnly) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The mux judges the escaped path. Without a RawPath that is the Path escaped byte by byte, and
	// escaping neither adds nor removes a slash or a dot: the Path is as clean, and needs no escaping.
	p := r.URL.Path
	if r.URL.RawPath != "" {
		p = r.URL.EscapedPath()
	}
	if r.Method == http.MethodConnect || r.RequestURI == "*" || !isCleanPath(p) {
		h.mux.ServeHTTP(w, r)
		return
	}
	r.Pattern = "/" // what the mux sets: the pattern that matched
	h.soap.ServeHTTP(w, r)
}

// isCleanPath reports whether the ServeMux leaves p as it is (its cleanPath: path.Clean, keeping a
// trailing slash), that is, does not redirect the request elsewhere: p starts with a slash, and no element
// between its slashes is empty (but the last, after a trailing slash), "." or "..".
func isCleanPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	for i := 0; i < len(p); {
		j := i + 1 // p[i] is a slash
		for j < len(p) && p[j] != '/' {
			j++
		}
		if elem := p[i+1 : j]; elem == "." || elem == ".." || (elem == "" && j < len(p)) {
			return false
		}
		i = j
	}
	return true
}

// refusalLogHandler tags net/http's own log lines (TLS handshake refusals: no client certificate, unknown
// CA, expired certificate, plain HTTP on the TLS port) so they read as refusals. net/http writes one line a
// refused connection and never includes key material.
type refusalLogHandler struct {
	slog.Handler
	refusals *refusalCounter // nil without WithMeterProvider
}

func (h refusalLogHandler) Handle(ctx context.Context, r slog.Record) error {
	r.AddAttrs(slog.String("component", "esimgw.CallbackServer"))
	if strings.Contains(r.Message, "TLS handshake error") || strings.Contains(r.Message, "HTTP request to an HTTPS server") {
		r.Message = "esimgw: connection refused: " + strings.TrimPrefix(r.Message, "http: ")
		h.refusals.handshake(r.Message)
	}
	if h.refusals != nil && !h.Handler.Enabled(ctx, r.Level) {
		return nil // Enabled said yes only so that the refusal is counted
	}
	return h.Handler.Handle(ctx, r)
}

// Enabled is true when refusals are counted, whatever the logger's level: they are counted from these lines.
func (h refusalLogHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.refusals != nil || h.Handler.Enabled(ctx, l)
}

// Handler is the server's routing handler, for mounting in an http.Server of your own (which then owns
// TLS and timeouts).
func (s *Server) Handler() http.Handler { return s.handler }

// Listen binds addr (for example ":8443" or "127.0.0.1:0") and starts serving in the background.
func (s *Server) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("esimgw: callback server: %w", err)
	}
	s.Serve(ln)
	return nil
}

// Serve starts serving ln in the background.
func (s *Server) Serve(ln net.Listener) {
	done := make(chan struct{})
	s.mu.Lock()
	s.ln = ln
	s.done = done
	s.mu.Unlock()
	go func() {
		var err error
		if s.tls {
			err = s.srv.ServeTLS(ln, "", "")
		} else {
			err = s.srv.Serve(ln)
		}
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.mu.Lock()
		s.serveErr = err
		s.mu.Unlock()
		close(done)
	}()
}

// Addr is the bound address, nil before Listen or Serve.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// URL is the base URL of the bound address with host "localhost" when bound to a loopback or unspecified
// address (handy for tests and the mock); production replyTo addresses are public names you configure.
func (s *Server) URL() string {
	addr := s.Addr()
	if addr == nil {
		return ""
	}
	_, port, _ := net.SplitHostPort(addr.String())
	scheme := "https"
	if !s.tls {
		scheme = "http"
	}
	return scheme + "://localhost:" + port
}

// Shutdown stops accepting, lets idle connections go, and waits (bounded by ctx) for the messages in
// flight to be handed over and answered. When ctx ends first it refuses further hand-overs (503, which
// senders retry), leaves the ones running to finish, and returns a *ShutdownError listing them: calling
// Shutdown again waits for them. It may be called more than once, and after Close.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil && ctx.Err() != nil {
		s.flight.close()
		if werr := s.flight.wait(ctx); werr != nil {
			return werr
		}
	} else if werr := s.flight.wait(ctx); werr != nil { // a second Shutdown, after the first gave up
		return werr
	}
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done != nil {
		select {
		case <-done:
			s.mu.Lock()
			serr := s.serveErr
			s.mu.Unlock()
			if err == nil {
				err = serr
			}
		case <-ctx.Done():
		}
	}
	return err
}

// Close refuses new hand-overs at once (503 with Retry-After, which senders retry), waits for those in
// progress to be answered (at most the Write timeout), then closes the listener and every connection.
// A message is thus never handed over without an answer; it returns a *ShutdownError if some were still
// running when the wait ended.
func (s *Server) Close() error {
	s.flight.close()
	ctx, cancel := context.WithTimeout(context.Background(), s.writeWait)
	defer cancel()
	werr := s.flight.wait(ctx)
	err := s.srv.Close()
	if werr != nil {
		return werr
	}
	return err
}

// InFlight lists the messages being handed over now.
func (s *Server) InFlight() []HandOver { return s.flight.snapshot() }

// BodyBytesInUse returns the bytes the SOAP bodies being received and handled hold (see
// WithMaxBodyBytesInFlight).
func (s *Server) BodyBytesInUse() int64 { return s.budget.InUse() }

package gatewaytest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/esimgw/esimgw/mtls/mtlstest"
	"github.com/esimgw/esimgw/soap"
)

// Behavior selects how the mock behaves where gateways differ.
type Behavior uint8

const (
	// ProfileGSMA is a strict SGP.02 SM-SR/SM-DP serving every ES2/ES4 function (the default).
	ProfileGSMA Behavior = iota
	// ProfileKPN behaves like KPN's RSP Gateway: '?' separators in its From address, a fixed 720 s validity
	// for SetFallBackAttribute, KPN's function subset (anything else is refused with wsa:ActionNotSupported)
	// and ES4 Enabled/Disabled notifications only.
	ProfileKPN
)

func (b Behavior) String() string {
	switch b {
	case ProfileGSMA:
		return "gsma"
	case ProfileKPN:
		return "kpn"
	}
	return "Behavior(" + strconv.Itoa(int(b)) + ")"
}

// ParseBehavior parses "gsma" or "kpn".
func ParseBehavior(s string) (Behavior, error) {
	switch strings.ToLower(s) {
	case "gsma", "":
		return ProfileGSMA, nil
	case "kpn":
		return ProfileKPN, nil
	}
	return 0, fmt.Errorf("gatewaytest: unknown profile %q (want gsma or kpn)", s)
}

// KPNSetFallBackValidity is the validity KPN applies to SetFallBackAttribute whatever was asked.
const KPNSetFallBackValidity = 720 * time.Second

type config struct {
	behavior        Behavior
	addr            string
	logger          *slog.Logger
	callbackDelay   time.Duration
	retry           soap.RetryPolicy
	callbackRoots   []*x509.CertPool
	notify          map[Interface]string
	seed            *Seed
	seedFile        string
	smsrID, smdpID  string
	operatorID      string
	defaultValidity time.Duration
	ca              *mtlstest.CA
	recordLimit     int
	dedupWindow     int
	noDedup         bool // WithoutDeduplication
	fleet           int
	lenient         bool // WithStrict(false)
}

// WithStrict switches the checks a JAX-WS (Metro) gateway makes on top of the schema checks on (the
// default) or off: a WS-Addressing header given twice is refused with wsa:InvalidCardinality, an HTTP
// action (Content-Type action= or SOAPAction) that contradicts wsa:Action with wsa:ActionMismatch, both as
// Metro answers them (env:Sender, subcode wsa:InvalidAddressingHeader, HTTP 500, the header's QName in
// wsa:ProblemHeaderQName), and a SOAP 1.1 envelope with env:VersionMismatch. WithStrict(false) accepts
// all three, SOAP 1.1 included, for testing a SOAP 1.1 client mode or a sloppy peer's shapes; the schema
// checks stay.
func WithStrict(on bool) Option { return func(c *config) { c.lenient = !on } }

// Option configures a Gateway.
type Option func(*config)

// WithProfile selects the behaviour profile (ProfileGSMA by default).
func WithProfile(b Behavior) Option { return func(c *config) { c.behavior = b } }

// WithAddr sets the listen address (default 127.0.0.1:0).
func WithAddr(addr string) Option { return func(c *config) { c.addr = addr } }

// WithLogger sets the logger; the mock is silent by default.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithCallbackDelay sets how long after the 202 the callback of an async function is posted (default 5 ms).
func WithCallbackDelay(d time.Duration) Option { return func(c *config) { c.callbackDelay = d } }

// WithCallbackRetry sets how callbacks and notifications are retried when the receiver is down or answers
// 5xx (default: 5 attempts, 10 ms doubling to 200 ms). After the last attempt the delivery is recorded as
// undelivered.
func WithCallbackRetry(p soap.RetryPolicy) Option { return func(c *config) { c.retry = p } }

// WithCallbackRootCAs makes the mock also trust callback servers whose certificates chain to pool (by
// default it trusts only its own CA).
func WithCallbackRootCAs(pool *x509.CertPool) Option {
	return func(c *config) { c.callbackRoots = append(c.callbackRoots, pool) }
}

// WithNotificationURL sets where notifications of an interface are posted (none by default).
func WithNotificationURL(iface Interface, url string) Option {
	return func(c *config) { c.notify[iface] = url }
}

// WithSeed replaces the default seed.
func WithSeed(s Seed) Option { return func(c *config) { c.seed = &s } }

// WithSeedFile replaces the default seed with the JSON Seed in path.
func WithSeedFile(path string) Option { return func(c *config) { c.seedFile = path } }

// WithSMSRID, WithSMDPID and WithOperatorID set the OIDs of the mock's SM-SR, its SM-DP and the default
// operator (DefaultSMSRID, DefaultSMDPID, DefaultOperatorID).
func WithSMSRID(oid string) Option { return func(c *config) { c.smsrID = oid } }

// WithSMDPID sets the SM-DP's OID.
func WithSMDPID(oid string) Option { return func(c *config) { c.smdpID = oid } }

// WithOperatorID sets the default operator's OID: the owner of seeded profiles.
func WithOperatorID(oid string) Option { return func(c *config) { c.operatorID = oid } }

// WithDefaultValidityPeriod sets the validity of async requests that carry no ValidityPeriod (default 24 h);
// it only matters for unreachable or slow eUICCs.
func WithDefaultValidityPeriod(d time.Duration) Option {
	return func(c *config) { c.defaultValidity = d }
}

// WithCA issues the mock's certificates from ca instead of a fresh CA.
func WithCA(ca *mtlstest.CA) Option { return func(c *config) { c.ca = ca } }

// Gateway is a running mock SM-SR (ES4) and SM-DP (ES2) on one HTTPS listener with mutual TLS.
type Gateway struct {
	// ES2URL and ES4URL are the endpoints, with host localhost so that TLS clients send SNI.
	ES2URL, ES4URL string
	// SMSRID, SMDPID: the OIDs of the mock's SM-SR and SM-DP. OperatorID: the default operator, owner of
	// the seeded profiles; OtherOperatorID owns OtherMNOICCID and OtherMNOCatalogICCID.
	SMSRID, SMDPID, OperatorID, OtherOperatorID string

	cfg    config
	logger *slog.Logger

	ca                                        *mtlstest.CA
	serverPair, clientPair, cbPair, gwCliPair *mtlstest.Pair
	ln                                        *faultListener
	srv                                       *http.Server
	cbHTTP                                    *http.Client
	cbClient                                  *soap.Client
	ctx                                       context.Context
	cancel                                    context.CancelFunc
	wg                                        sync.WaitGroup
	closeOnce                                 sync.Once

	mu           sync.Mutex
	euiccs       map[string]*EUICC
	euiccOrder   []string
	installed    map[string]string // ICCID -> EID of every installed profile
	catalog      map[string]*CatalogProfile
	catalogOrder []string
	nextAID      uint32
	calls        map[string]*execution
	callOrder    ring[string] // keys of calls, oldest first, for WithDuplicateWindow
	requests     ring[*Request]
	deliveries   ring[*Callback]
	stats        Stats
	faults       []*activeFault
	reorder      []*pendingSend
	reorderSize  int
	notify       map[Interface]string
	lanes        map[string]*noticeLane // per-EID notification order (order.go)
	seq          int
	closed       bool
	busy         int           // goroutines spawned and not finished
	idle         chan struct{} // closed when busy drops to 0
}

// spawn runs f in a goroutine that Close and WaitIdle wait for; after Close it does nothing.
func (g *Gateway) spawn(f func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return
	}
	if g.busy == 0 {
		g.idle = make(chan struct{})
	}
	g.busy++
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		defer func() {
			g.mu.Lock()
			if g.busy--; g.busy == 0 {
				close(g.idle)
			}
			g.mu.Unlock()
		}()
		f()
	}()
}

// WaitIdle waits until the mock has nothing left to do in the background: every accepted async request
// executed (or expired) and its callback's delivery ended, every notification's delivery ended. It returns
// ctx's error if ctx ends first: an unreachable eUICC keeps a request busy for its whole validity period.
// Callbacks that ReorderCallbacks holds back do not count. Call it after the calls whose effects you want
// to inspect have been answered; Stats and the records are then final for them.
func (g *Gateway) WaitIdle(ctx context.Context) error {
	g.mu.Lock()
	if g.busy == 0 {
		g.mu.Unlock()
		return nil
	}
	idle := g.idle
	g.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// New starts a mock gateway on loopback.
func New(opts ...Option) (*Gateway, error) {
	cfg := config{
		addr: "127.0.0.1:0", callbackDelay: 5 * time.Millisecond,
		retry:  soap.RetryPolicy{MaxAttempts: 5, InitialInterval: 10 * time.Millisecond, MaxInterval: 200 * time.Millisecond, MaxElapsed: 10 * time.Second},
		notify: map[Interface]string{}, smsrID: DefaultSMSRID, smdpID: DefaultSMDPID, operatorID: DefaultOperatorID,
		defaultValidity: 24 * time.Hour,
	}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	if cfg.retry.MaxAttempts < 1 {
		cfg.retry.MaxAttempts = 1
	}
	g := &Gateway{
		SMSRID: cfg.smsrID, SMDPID: cfg.smdpID, OperatorID: cfg.operatorID, OtherOperatorID: DefaultOtherOperatorID,
		cfg: cfg, logger: cfg.logger,
		euiccs: map[string]*EUICC{}, installed: map[string]string{}, catalog: map[string]*CatalogProfile{}, calls: map[string]*execution{},
		notify:   map[Interface]string{},
		requests: newRing[*Request](cfg.recordLimit), deliveries: newRing[*Callback](cfg.recordLimit),
		callOrder: newRing[string](cfg.dedupWindow),
	}
	for k, v := range cfg.notify {
		g.notify[k] = v
	}
	if err := g.makePKI(); err != nil {
		return nil, err
	}
	seed := DefaultSeed()
	switch {
	case cfg.seedFile != "":
		f, err := os.Open(cfg.seedFile)
		if err != nil {
			return nil, fmt.Errorf("gatewaytest: %w", err)
		}
		seed, err = ReadSeed(f)
		f.Close()
		if err != nil {
			return nil, err
		}
	case cfg.seed != nil:
		seed = *cfg.seed
	}
	if err := g.loadSeedLocked(seed); err != nil {
		return nil, err
	}
	if err := g.addFleetLocked(cfg.fleet); err != nil {
		return nil, err
	}
	if err := g.listen(); err != nil {
		return nil, err
	}
	return g, nil
}

// Start is New for tests: it fails tb on error and closes the gateway when the test ends.
func Start(tb testing.TB, opts ...Option) *Gateway {
	tb.Helper()
	g, err := New(opts...)
	if err != nil {
		tb.Fatalf("gatewaytest: %v", err)
	}
	tb.Cleanup(g.Close)
	return g
}

func (g *Gateway) makePKI() error {
	var err error
	g.ca = g.cfg.ca
	if g.ca == nil {
		if g.ca, err = mtlstest.NewCA(mtlstest.WithCommonName("esimgw mock gateway CA")); err != nil {
			return err
		}
	}
	if g.serverPair, err = g.ca.Server(mtlstest.WithCommonName("localhost")); err != nil {
		return err
	}
	if g.clientPair, err = g.ca.Client("operator", mtlstest.WithOrganization("esimgw mock operator")); err != nil {
		return err
	}
	if g.cbPair, err = g.ca.Server(mtlstest.WithCommonName("localhost"), mtlstest.WithOrganization("esimgw mock operator callback server")); err != nil {
		return err
	}
	g.gwCliPair, err = g.ca.Client("gateway", mtlstest.WithOrganization("esimgw mock gateway"))
	return err
}

func (g *Gateway) listen() error {
	raw, err := net.Listen("tcp", g.cfg.addr)
	if err != nil {
		return fmt.Errorf("gatewaytest: listen: %w", err)
	}
	g.ln = &faultListener{Listener: raw, g: g}
	port := raw.Addr().(*net.TCPAddr).Port
	base := "https://localhost:" + strconv.Itoa(port)
	g.ES2URL, g.ES4URL = base+ES2Path, base+ES4Path

	g.cbHTTP = &http.Client{Transport: soap.NewTransport(g.callbackTLSClientConfig())}
	g.cbClient = soap.NewClient(soap.WithHTTPClient(g.cbHTTP), soap.WithRetryPolicy(soap.RetryPolicy{MaxAttempts: 1}), soap.WithLogger(g.logger))
	g.ctx, g.cancel = context.WithCancel(context.Background())

	mux := http.NewServeMux()
	hopts := []soap.HandlerOption{soap.WithHandlerLogger(g.logger)}
	mux.Handle(ES2Path, g.faultMiddleware(ES2, soap.NewHandler(&endpoint{g: g, iface: ES2}, hopts...)))
	mux.Handle(ES4Path, g.faultMiddleware(ES4, soap.NewHandler(&endpoint{g: g, iface: ES4}, hopts...)))
	g.srv = &http.Server{
		Handler: mux,
		TLSConfig: &tls.Config{
			MinVersion:   tls.VersionTLS12,
			Certificates: []tls.Certificate{g.serverPair.TLSCertificate()},
			ClientCAs:    g.ca.Pool(),
			ClientAuth:   tls.RequireAndVerifyClientCert,
			NextProtos:   []string{"http/1.1"}, // HTTP/1.1 only, so that connection faults can hijack
		},
		TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(g.logger.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return g.ctx },
	}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := g.srv.ServeTLS(g.ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			g.logger.Error("gatewaytest: server stopped", "error", err)
		}
	}()
	return nil
}

// Close stops the server and every pending callback and waits for them.
func (g *Gateway) Close() {
	g.closeOnce.Do(func() {
		g.mu.Lock()
		g.closed = true
		g.mu.Unlock()
		g.cancel()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := g.srv.Shutdown(ctx); err != nil {
			_ = g.srv.Close()
		}
		g.wg.Wait()
		g.cbHTTP.CloseIdleConnections()
	})
}

// Behavior returns the behaviour profile.
func (g *Gateway) Behavior() Behavior { return g.cfg.behavior }

// Addr returns the listener's address (127.0.0.1:port).
func (g *Gateway) Addr() string { return g.ln.Addr().String() }

// CA returns the mock's test CA.
func (g *Gateway) CA() *mtlstest.CA { return g.ca }

// CAPool returns a pool holding the mock's CA, which issued every certificate the mock hands out.
func (g *Gateway) CAPool() *x509.CertPool { return g.ca.Pool() }

// ClientTLSConfig returns what an operator needs to call the mock: the operator client certificate and
// the mock's CA as the only root.
func (g *Gateway) ClientTLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{g.clientPair.TLSCertificate()},
		RootCAs:      g.ca.Pool(),
	}
}

// CallbackServerTLSConfig returns a server configuration for the operator's callback server: a certificate
// for localhost, 127.0.0.1 and ::1, and a required client certificate from the mock's CA, which the mock
// presents when it posts callbacks and notifications.
func (g *Gateway) CallbackServerTLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{g.cbPair.TLSCertificate()},
		ClientCAs:    g.ca.Pool(),
		ClientAuth:   tls.RequireAndVerifyClientCert,
	}
}

// callbackTLSClientConfig is what the mock presents when it posts: its own client certificate, trusting
// its CA and any WithCallbackRootCAs pool.
func (g *Gateway) callbackTLSClientConfig() *tls.Config {
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{g.gwCliPair.TLSCertificate()},
		RootCAs:      g.ca.Pool(),
	}
	if len(g.cfg.callbackRoots) == 0 {
		return cfg
	}
	pools := append([]*x509.CertPool{g.ca.Pool()}, g.cfg.callbackRoots...)
	// Go cannot merge CertPools: verify by hand against each pool in turn.
	cfg.InsecureSkipVerify = true
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("gatewaytest: callback server sent no certificate")
		}
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		var last error
		for _, p := range pools {
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: p, Intermediates: inter, DNSName: cs.ServerName})
			if err == nil {
				return nil
			}
			last = err
		}
		return last
	}
	return cfg
}

// Files are the paths WriteFiles wrote.
type Files struct {
	CA                 string // ca.pem: trust it for the mock's server and its callback client certificate
	ClientCert         string // client.crt: the operator's client certificate
	ClientKey          string // client.key
	CallbackServerCert string // callback-server.crt: for the operator's callback server
	CallbackServerKey  string // callback-server.key
}

// WriteFiles writes the CA and the operator's certificates to dir as PEM files.
func (g *Gateway) WriteFiles(dir string) (Files, error) {
	var f Files
	var err error
	if f.CA, err = g.ca.WriteFile(dir, "ca"); err != nil {
		return Files{}, err
	}
	if f.ClientCert, f.ClientKey, err = g.clientPair.WriteFiles(dir, "client"); err != nil {
		return Files{}, err
	}
	if f.CallbackServerCert, f.CallbackServerKey, err = g.cbPair.WriteFiles(dir, "callback-server"); err != nil {
		return Files{}, err
	}
	return f, nil
}

// SetNotificationURL sets (or, with "", clears) where notifications of an interface are posted.
func (g *Gateway) SetNotificationURL(iface Interface, url string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.notify[iface] = url
}

// entityAddress is the mock's own wsa:From for an interface.
func (g *Gateway) entityAddress(iface Interface) soap.EntityAddress {
	oid, name, u := g.SMSRID, "SM-SR", g.ES4URL
	if iface == ES2 {
		oid, name, u = g.SMDPID, "SM-DP", g.ES2URL
	}
	if g.cfg.behavior == ProfileKPN {
		// KPN: host only, '?' separators (docs/kpn.md R6).
		return soap.EntityAddress{Base: strings.TrimSuffix(u, pathOf(iface)), EntityID: oid, EntityName: "KPN", Separator: soap.SeparatorQuestion}
	}
	return soap.EntityAddress{Base: u, EntityID: oid, EntityName: name, Separator: soap.SeparatorAmpersand}
}

func pathOf(iface Interface) string {
	if iface == ES2 {
		return ES2Path
	}
	return ES4Path
}

// sleep waits d or until the gateway closes; it reports whether the wait completed.
func (g *Gateway) sleep(d time.Duration) bool {
	if d <= 0 {
		return g.ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-g.ctx.Done():
		return false
	}
}

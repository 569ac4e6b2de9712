package callback_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/callback"
	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/mtls"
	"github.com/esimgw/esimgw/mtls/mtlstest"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// gatewayCN is the subject KPN's client certificate would carry: the allow-list entry.
const gatewayCN = "gateway.example"

// generous bounds a wait that must end; it is never a performance assertion.
const generous = 20 * time.Second

type serverPKI struct {
	*mtlstest.PKI
	src *mtls.Source
}

func newServerPKI(t *testing.T) *serverPKI {
	t.Helper()
	pki, err := mtlstest.NewPKI(t.TempDir(), gatewayCN)
	require.NoError(t, err)
	src, err := mtls.NewStaticSource(pki.Server.CertPEM, pki.Server.KeyPEM, mtls.WithLogger(quietLogger()))
	require.NoError(t, err)
	return &serverPKI{PKI: pki, src: src}
}

// clientConfig presents pair (none when nil) and trusts the test CA.
func (p *serverPKI) clientConfig(pair *mtlstest.Pair) *tls.Config {
	cfg := &tls.Config{RootCAs: p.CA.Pool(), MinVersion: tls.VersionTLS12}
	if pair != nil {
		cfg.Certificates = []tls.Certificate{pair.TLSCertificate()}
	}
	return cfg
}

// startServer starts a callback server on a loopback port and returns it with its base URL.
func startServer(t *testing.T, h soap.MessageHandler, opts ...callback.Option) (*callback.Server, string) {
	t.Helper()
	s, err := callback.NewServer(h, opts...)
	require.NoError(t, err)
	assert.Nil(t, s.Addr())
	assert.Empty(t, s.URL())
	require.NoError(t, s.Listen("127.0.0.1:0"))
	t.Cleanup(func() { _ = s.Close() })
	_, port, err := net.SplitHostPort(s.Addr().String())
	require.NoError(t, err)
	scheme := "https"
	if strings.HasPrefix(s.URL(), "http://") {
		scheme = "http"
	}
	assert.Equal(t, scheme+"://localhost:"+port, s.URL())
	return s, scheme + "://127.0.0.1:" + port
}

func httpsClient(cfg *tls.Config) *http.Client {
	return &http.Client{
		Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true},
		Timeout:   generous,
	}
}

func post(c *http.Client, url string, data []byte) (int, []byte, error) {
	res, err := c.Post(url, "application/soap+xml; charset=utf-8", bytes.NewReader(data))
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res.StatusCode, body, err
}

// countingHandler counts the messages that reached the application.
type countingHandler struct {
	n   atomic.Int32
	tls atomic.Pointer[tls.ConnectionState]
}

func (h *countingHandler) ServeSOAP(_ context.Context, m *soap.Message) (*soap.Reply, error) {
	h.n.Add(1)
	h.tls.Store(m.TLS)
	return nil, nil
}

func notificationEnvelope() []byte {
	n := "ES4-HandleProfileEnabledNotification"
	return envelope(&soap.Header{}, rawBody{n, notificationXML(n, "Eid", testEID, testICCID, "CompletionTimestamp", "2024-05-01T10:00:41Z")})
}

// waitFor polls cond until it holds or the generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(generous)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestNewCallbackServerRefusesInsecure(t *testing.T) {
	p := newServerPKI(t)
	withAuth := func(a tls.ClientAuthType) *tls.Config {
		cfg := p.ServerTLSConfig()
		cfg.ClientAuth = a
		return cfg
	}
	old := p.ServerTLSConfig()
	old.MinVersion = tls.VersionTLS11
	tests := []struct {
		name     string
		opts     []callback.Option
		insecure bool // ErrInsecureServer
		wantErr  bool // another error
	}{
		{name: "no TLS at all", insecure: true},
		{name: "plain HTTP explicitly", opts: []callback.Option{callback.WithPlainHTTP()}},
		{name: "mutual TLS", opts: []callback.Option{callback.WithTLS(p.ServerTLSConfig())}},
		{name: "WithServerCertificate", opts: []callback.Option{callback.WithCertificate(p.src, p.CA.Pool(), gatewayCN)}},
		{name: "NoClientCert", opts: []callback.Option{callback.WithTLS(withAuth(tls.NoClientCert))}, insecure: true},
		{name: "RequestClientCert", opts: []callback.Option{callback.WithTLS(withAuth(tls.RequestClientCert))}, insecure: true},
		{name: "RequireAnyClientCert", opts: []callback.Option{callback.WithTLS(withAuth(tls.RequireAnyClientCert))}, insecure: true},
		{name: "VerifyClientCertIfGiven", opts: []callback.Option{callback.WithTLS(withAuth(tls.VerifyClientCertIfGiven))}, insecure: true},
		{name: "NoClientCert explicitly", opts: []callback.Option{callback.WithTLS(withAuth(tls.NoClientCert)), callback.WithoutClientCertificates()}},
		{name: "plain HTTP and TLS together", opts: []callback.Option{callback.WithPlainHTTP(), callback.WithTLS(p.ServerTLSConfig())}, wantErr: true},
		{name: "TLS 1.1 allowed", opts: []callback.Option{callback.WithTLS(old)}, wantErr: true},
		{name: "no client CA pool", opts: []callback.Option{callback.WithCertificate(p.src, nil)}, wantErr: true},
		{name: "nil route handler", opts: []callback.Option{callback.WithPlainHTTP(), callback.WithRoute("/progress", nil)}, wantErr: true},
		{name: "route clashing with the SOAP path", opts: []callback.Option{callback.WithPlainHTTP(), callback.WithRoute("/", http.NotFoundHandler())}, wantErr: true},
		{name: "two routes on one path", opts: []callback.Option{callback.WithPlainHTTP(), callback.WithSOAPPath("/soap"),
			callback.WithRoute("/progress", http.NotFoundHandler()), callback.WithRoute("/progress", http.NotFoundHandler())}, wantErr: true},
		{name: "malformed route pattern", opts: []callback.Option{callback.WithPlainHTTP(), callback.WithRoute("/a/{", http.NotFoundHandler())}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s *callback.Server
			var err error
			require.NotPanics(t, func() {
				s, err = callback.NewServer(esimgw.NewDispatcher(), append(tt.opts, callback.WithLogger(quietLogger()))...)
			})
			switch {
			case tt.insecure:
				require.ErrorIs(t, err, callback.ErrInsecureServer)
				assert.Nil(t, s)
			case tt.wantErr:
				require.Error(t, err)
				assert.NotErrorIs(t, err, callback.ErrInsecureServer)
				assert.Nil(t, s)
			default:
				require.NoError(t, err)
				require.NotNil(t, s)
				assert.NotNil(t, s.Handler())
			}
		})
	}
}

func TestCallbackServerServesCallback(t *testing.T) {
	p := newServerPKI(t)
	d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(quietLogger()))
	var seen atomic.Pointer[soap.Message]
	h := soap.MessageHandlerFunc(func(ctx context.Context, m *soap.Message) (*soap.Reply, error) {
		seen.Store(m)
		return d.ServeSOAP(ctx, m)
	})
	_, url := startServer(t, h, callback.WithCertificate(p.src, p.CA.Pool(), gatewayCN), callback.WithLogger(quietLogger()))
	key, op := pendingKey(t, d.Tracker())

	status, body, err := post(httpsClient(p.clientConfig(p.Client)), url+"/rsp/callbacks",
		envelope(&soap.Header{RelatesTo: key.MessageID}, enableCallback(rps.StatusTypeEXECUTED_SUCCESS)))
	require.NoError(t, err)
	assert.Equal(t, http.StatusAccepted, status)
	assert.Empty(t, body)
	// The 202 came after the hand-over.
	assertClosed(t, op.Done())
	m := seen.Load()
	require.NotNil(t, m)
	require.NotNil(t, m.TLS)
	require.NotEmpty(t, m.TLS.PeerCertificates)
	assert.Equal(t, gatewayCN, m.TLS.PeerCertificates[0].Subject.CommonName)
	assert.GreaterOrEqual(t, m.TLS.Version, uint16(tls.VersionTLS12))
	assert.NotEmpty(t, m.RemoteAddr)

	t.Run("GET is refused", func(t *testing.T) {
		res, err := httpsClient(p.clientConfig(p.Client)).Get(url + "/")
		require.NoError(t, err)
		res.Body.Close()
		assert.Equal(t, http.StatusMethodNotAllowed, res.StatusCode)
	})
}

func TestCallbackServerRefusals(t *testing.T) {
	p := newServerPKI(t)
	otherCA, err := mtlstest.NewCA(mtlstest.WithCommonName("other CA"))
	require.NoError(t, err)
	fromOtherCA, err := otherCA.Client(gatewayCN)
	require.NoError(t, err)
	expired, err := p.CA.Client(gatewayCN, mtlstest.WithExpired())
	require.NoError(t, err)
	intruder, err := p.CA.Client("intruder.example")
	require.NoError(t, err)

	tls11 := p.clientConfig(p.Client)
	tls11.MinVersion, tls11.MaxVersion = tls.VersionTLS10, tls.VersionTLS11

	tests := []struct {
		name  string
		plain bool // plain HTTP to the TLS port
		cfg   *tls.Config
	}{
		{name: "plain HTTP to the TLS port", plain: true},
		{name: "no client certificate", cfg: p.clientConfig(nil)},
		{name: "certificate from another CA", cfg: p.clientConfig(fromOtherCA)},
		{name: "expired certificate", cfg: p.clientConfig(expired)},
		{name: "subject not on the allow-list", cfg: p.clientConfig(intruder)},
		{name: "client limited to TLS 1.1", cfg: tls11},
	}
	secrets := []string{"PRIVATE KEY", pemBody(p.Server.KeyPEM), pemBody(p.Client.KeyPEM), pemBody(fromOtherCA.KeyPEM),
		pemBody(expired.KeyPEM), pemBody(intruder.KeyPEM)}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs, logger := newLogBuffer()
			h := &countingHandler{}
			_, url := startServer(t, h, callback.WithCertificate(p.src, p.CA.Pool(), gatewayCN), callback.WithLogger(logger))

			if tt.plain {
				// net/http answers 400 and closes; the close may reset the connection before the client
				// reads the answer (the request body was not consumed), so a reset is a refusal too.
				status, body, err := post(&http.Client{Timeout: generous}, "http://"+strings.TrimPrefix(url, "https://")+"/", notificationEnvelope())
				if err == nil {
					assert.Equal(t, http.StatusBadRequest, status)
					assert.Contains(t, string(body), "HTTPS")
				}
			} else {
				_, _, err := post(httpsClient(tt.cfg), url+"/", notificationEnvelope())
				require.Error(t, err, "the request must not be served")
			}
			waitFor(t, "the refusal to be logged", func() bool { return logs.count("connection refused") > 0 })

			// A good request afterwards still works, and the refusal stays a single line.
			status, _, err := post(httpsClient(p.clientConfig(p.Client)), url+"/", notificationEnvelope())
			require.NoError(t, err)
			assert.Equal(t, http.StatusAccepted, status)
			assert.EqualValues(t, 1, h.n.Load(), "only the good request reached the handler")

			out := logs.String()
			assert.Equal(t, 1, logs.count("connection refused"), "one line a refusal:\n%s", out)
			assert.Equal(t, 1, logs.count("component=esimgw.CallbackServer"), "nothing else logged by net/http:\n%s", out)
			for _, s := range secrets {
				assert.NotContains(t, out, s)
			}
		})
	}
}

// pemBody returns the first base64 line of a PEM block: key material that must never be logged.
func pemBody(b []byte) string {
	lines := strings.Split(string(b), "\n")
	if len(lines) < 2 {
		return string(b)
	}
	return lines[1]
}

func TestCallbackServerBodyCap(t *testing.T) {
	p := newServerPKI(t)
	h := &countingHandler{}
	_, url := startServer(t, h, callback.WithTLS(p.ServerTLSConfig()), callback.WithMaxBodyBytes(4096), callback.WithLogger(quietLogger()))
	c := httpsClient(p.clientConfig(p.Client))

	small := notificationEnvelope()
	require.Less(t, len(small), 4096)
	status, _, err := post(c, url+"/", small)
	require.NoError(t, err)
	assert.Equal(t, http.StatusAccepted, status)

	big := envelope(&soap.Header{}, rawBody{"ES4-FutureResponse", `<rps:ES4-FutureResponse><rps:Blob>` + strings.Repeat("A", 8192) + `</rps:Blob></rps:ES4-FutureResponse>`})
	status, _, err = post(c, url+"/", big)
	require.NoError(t, err)
	assert.Equal(t, http.StatusRequestEntityTooLarge, status)
	assert.EqualValues(t, 1, h.n.Load())
}

func TestCallbackServerSlowLoris(t *testing.T) {
	p := newServerPKI(t)
	tests := []struct {
		name string
		talk func(t *testing.T, addr string) net.Conn
	}{
		{
			name: "half the headers, then silence",
			talk: func(t *testing.T, addr string) net.Conn {
				c, err := tls.Dial("tcp", addr, p.clientConfig(p.Client))
				require.NoError(t, err)
				_, err = io.WriteString(c, "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/soap+xml\r\n")
				require.NoError(t, err)
				return c
			},
		},
		{
			name: "TCP connection, no handshake",
			talk: func(t *testing.T, addr string) net.Conn {
				c, err := net.Dial("tcp", addr)
				require.NoError(t, err)
				return c
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &countingHandler{}
			s, _ := startServer(t, h, callback.WithTLS(p.ServerTLSConfig()), callback.WithLogger(quietLogger()),
				callback.WithTimeouts(callback.Timeouts{ReadHeader: 500 * time.Millisecond}))
			c := tt.talk(t, s.Addr().String())
			defer c.Close()
			require.NoError(t, c.SetReadDeadline(time.Now().Add(generous)))
			_, err := io.Copy(io.Discard, bufio.NewReader(c))
			// io.Copy returns nil at EOF; a reset is fine too. Our own deadline firing is the failure.
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the server kept the stalled connection open: %v", err)
			}
			assert.Zero(t, h.n.Load())
		})
	}
}

func TestCallbackServerWithRoute(t *testing.T) {
	p := newServerPKI(t)
	var routed atomic.Int32
	extra := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
			return
		}
		require.NoError(t, err)
		routed.Add(1)
		require.NotNil(t, r.TLS)
		_, _ = w.Write([]byte("progress:" + string(b)))
	})
	soapH := &countingHandler{}
	_, url := startServer(t, soapH, callback.WithCertificate(p.src, p.CA.Pool(), gatewayCN), callback.WithLogger(quietLogger()),
		callback.WithSOAPPath("/rsp/callbacks"), callback.WithRoute("/es2plus/", extra), callback.WithMaxBodyBytes(1024))
	good := httpsClient(p.clientConfig(p.Client))

	res, err := good.Post(url+"/es2plus/progress", "application/json", strings.NewReader(`{"eid":"1"}`))
	require.NoError(t, err)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, `progress:{"eid":"1"}`, string(b))

	status, _, err := post(good, url+"/rsp/callbacks", notificationEnvelope())
	require.NoError(t, err)
	assert.Equal(t, http.StatusAccepted, status)

	res, err = good.Post(url+"/es2plus/progress", "application/json", strings.NewReader(strings.Repeat("x", 2048)))
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode, "the body cap applies to extra routes")

	_, err = httpsClient(p.clientConfig(nil)).Post(url+"/es2plus/progress", "application/json", strings.NewReader(`{}`))
	require.Error(t, err, "extra routes need a client certificate too")

	res, err = good.Post(url+"/elsewhere", "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusNotFound, res.StatusCode)

	assert.EqualValues(t, 1, routed.Load())
	assert.EqualValues(t, 1, soapH.n.Load())
}

func TestCallbackServerPlainHTTP(t *testing.T) {
	h := &countingHandler{}
	_, url := startServer(t, h, callback.WithPlainHTTP(), callback.WithLogger(quietLogger()))
	require.True(t, strings.HasPrefix(url, "http://"))
	status, _, err := post(&http.Client{Timeout: generous}, url+"/", notificationEnvelope())
	require.NoError(t, err)
	assert.Equal(t, http.StatusAccepted, status)
	assert.EqualValues(t, 1, h.n.Load())
}

func TestCallbackServerWithoutClientCertificates(t *testing.T) {
	p := newServerPKI(t)
	cfg := p.ServerTLSConfig()
	cfg.ClientAuth = tls.NoClientCert
	h := &countingHandler{}
	_, url := startServer(t, h, callback.WithTLS(cfg), callback.WithoutClientCertificates(), callback.WithLogger(quietLogger()))
	status, _, err := post(httpsClient(p.clientConfig(nil)), url+"/", notificationEnvelope())
	require.NoError(t, err)
	assert.Equal(t, http.StatusAccepted, status)
}

func TestCallbackServerShutdownWaitsForInFlight(t *testing.T) {
	p := newServerPKI(t)
	entered := make(chan struct{})
	release := make(chan struct{})
	handed := atomic.Bool{}
	h := soap.MessageHandlerFunc(func(context.Context, *soap.Message) (*soap.Reply, error) {
		close(entered)
		<-release
		handed.Store(true)
		return nil, nil
	})
	s, url := startServer(t, h, callback.WithTLS(p.ServerTLSConfig()), callback.WithLogger(quietLogger()))

	type result struct {
		status int
		err    error
	}
	posted := make(chan result, 1)
	go func() {
		status, _, err := post(httpsClient(p.clientConfig(p.Client)), url+"/", notificationEnvelope())
		posted <- result{status, err}
	}()
	select {
	case <-entered:
	case <-time.After(generous):
		t.Fatal("the handler was never called")
	}

	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(ctx) }()
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned (%v) while a handler was still running", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)

	select {
	case err := <-shut:
		require.NoError(t, err)
	case <-time.After(generous):
		t.Fatal("Shutdown did not return")
	}
	assert.True(t, handed.Load())
	r := <-posted
	require.NoError(t, r.err)
	assert.Equal(t, http.StatusAccepted, r.status, "the in-flight callback was acknowledged")

	_, _, err := post(httpsClient(p.clientConfig(p.Client)), url+"/", notificationEnvelope())
	assert.Error(t, err, "nothing is served after Shutdown")
}

func TestCallbackServerShutdownTwice(t *testing.T) {
	tests := []struct {
		name  string
		first func(s *callback.Server) error
	}{
		{name: "Shutdown then Shutdown", first: func(s *callback.Server) error { return s.Shutdown(context.Background()) }},
		{name: "Close then Shutdown", first: func(s *callback.Server) error { return s.Close() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := startServer(t, &countingHandler{}, callback.WithPlainHTTP(), callback.WithLogger(quietLogger()))
			require.NoError(t, tt.first(s))
			// A second Shutdown (a deferred one, a test cleanup) must return, not wait for its context.
			done := make(chan error, 1)
			go func() { done <- s.Shutdown(context.Background()) }()
			select {
			case err := <-done:
				assert.NoError(t, err)
			case <-time.After(generous):
				t.Fatal("the second Shutdown hangs")
			}
		})
	}

	t.Run("Shutdown of a server never started", func(t *testing.T) {
		s, err := callback.NewServer(&countingHandler{}, callback.WithPlainHTTP(), callback.WithLogger(quietLogger()))
		require.NoError(t, err)
		assert.NoError(t, s.Shutdown(context.Background()))
	})
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

const (
	testEID   = "89049032123451234512345678901235"
	testICCID = "89310410106543789305"
	peerOID   = "1.3.6.1.4.1.99999.20"
)

// rawBody is a body element given as XML.
type rawBody struct{ name, xml string }

func (b rawBody) AppendXML(dst []byte) []byte { return append(dst, b.xml...) }
func (b rawBody) ElementName() string         { return b.name }

// envelope builds the bytes of an inbound message as a gateway would post it; an empty From or MessageID
// gets a realistic value.
func envelope(h *soap.Header, body soap.BodyWriter) []byte {
	hh := *h
	if hh.From == "" {
		hh.From = "https://smsr.example.net/esim-messaging/3/ES4/ES4SmSrService?EntityId=" + peerOID + "&EntityName=SM-SR"
	}
	if hh.To == "" {
		hh.To = "https://mno.example.org/rsp/callbacks?EntityId=1.3.6.1.4.1.99999.10"
	}
	if hh.MessageID == "" {
		hh.MessageID = soap.NewMessageID(peerOID, time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)).String()
	}
	return soap.AppendEnvelope(nil, &hh, body)
}

func notificationXML(name, eidTag, eid, iccid, tsTag, ts string) string {
	return `<rps:` + name + `><rps:` + eidTag + `>` + eid + `</rps:` + eidTag + `><rps:Iccid>` + iccid + `</rps:Iccid>` +
		`<rps:` + tsTag + `>` + ts + `</rps:` + tsTag + `></rps:` + name + `>`
}

// pendingKey registers an ES4 EnableProfile operation with tr and returns its key and operation.
func pendingKey(t testing.TB, tr *correlate.Tracker) (correlate.OperationKey, *esimgw.Operation[rps.Response]) {
	t.Helper()
	mid := soap.NewMessageID("1.3.6.1.4.1.99999.10", time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC))
	key := correlate.OperationKey{MessageID: mid.String(), TransactionID: mid.TransactionID, FunctionCallIdentifier: mid.TransactionID,
		Interface: "ES4", Function: "EnableProfile"}
	p, err := tr.Register(key)
	require.NoError(t, err)
	return key, esimgw.NewOperation[rps.Response](tr, p, nil)
}

func enableCallback(status rps.StatusType) *rps.ES4EnableProfileResponse {
	return &rps.ES4EnableProfileResponse{BaseResponseType: rps.BaseResponseType{FunctionExecutionStatus: rps.ExecutionStatusType{Status: status}}}
}

func assertClosed(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	default:
		t.Fatal("not resolved")
	}
}

// logBuffer is a goroutine-safe log sink for asserting on what was logged.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// count returns the number of log lines containing s.
func (b *logBuffer) count(s string) int {
	n := 0
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.Contains(line, s) {
			n++
		}
	}
	return n
}

func newLogBuffer() (*logBuffer, *slog.Logger) {
	b := &logBuffer{}
	return b, slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

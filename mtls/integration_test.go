package mtls_test

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/mtls"
	"github.com/esimgw/esimgw/mtls/mtlstest"
)

var quiet = mtls.WithLogger(slog.New(slog.DiscardHandler))

// result is what each side of one loopback connection saw.
type result struct {
	serverErr, clientErr error
	peerCN               string   // client CN as seen by the server
	serverSerial         *big.Int // server serial as seen by the client
	version              uint16
}

// handshake runs one connection between a raw TLS listener with serverCfg
// and a client with clientCfg, dialled as "localhost" (so SNI is sent). The
// client reads a line after its handshake, which is where a TLS 1.3 client
// learns that the server refused its certificate.
func handshake(t *testing.T, serverCfg, clientCfg *tls.Config) result {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", serverCfg)
	require.NoError(t, err)
	defer ln.Close()

	type srvRes struct {
		err error
		cn  string
	}
	done := make(chan srvRes, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- srvRes{err: err}
			return
		}
		defer c.Close()
		tc := c.(*tls.Conn)
		_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
		if err := tc.Handshake(); err != nil {
			done <- srvRes{err: err}
			return
		}
		var cn string
		if pc := tc.ConnectionState().PeerCertificates; len(pc) > 0 {
			cn = pc[0].Subject.CommonName
		}
		_, err = io.WriteString(tc, "hello\n")
		done <- srvRes{err: err, cn: cn}
	}()

	_, port, _ := net.SplitHostPort(ln.Addr().String())
	var res result
	d := &net.Dialer{Timeout: 10 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", net.JoinHostPort("localhost", port), clientCfg)
	if err == nil {
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		cs := conn.ConnectionState()
		res.version = cs.Version
		res.serverSerial = cs.PeerCertificates[0].SerialNumber
		line, rerr := bufio.NewReader(conn).ReadString('\n')
		if rerr == nil && line != "hello\n" {
			rerr = errors.New("unexpected greeting " + line)
		}
		err = rerr
		conn.Close()
	}
	res.clientErr = err
	sr := <-done
	res.serverErr, res.peerCN = sr.err, sr.cn
	return res
}

// env is a PKI on disk with a mtls server config built from its files.
type env struct {
	pki *mtlstest.PKI
	src *mtls.Source // server source
}

func newEnv(t *testing.T) *env {
	t.Helper()
	pki, err := mtlstest.NewPKI(t.TempDir(), "smsr.example")
	require.NoError(t, err)
	src, err := mtls.NewFileSource(pki.ServerCertFile, pki.ServerKeyFile, quiet)
	require.NoError(t, err)
	return &env{pki: pki, src: src}
}

func (e *env) serverConfig(t *testing.T, opts ...mtls.ConfigOption) *tls.Config {
	t.Helper()
	cfg, err := mtls.ServerConfig(e.src, e.pki.CA.Pool(), opts...)
	require.NoError(t, err)
	return cfg
}

// clientConfig is a mtls client config presenting pair and pinning the env CA.
func (e *env) clientConfig(t *testing.T, pair *mtlstest.Pair, opts ...mtls.ConfigOption) *tls.Config {
	t.Helper()
	src, err := mtls.NewStaticSource(pair.CertPEM, pair.KeyPEM, quiet)
	require.NoError(t, err)
	cfg, err := mtls.ClientConfig(src, append([]mtls.ConfigOption{mtls.WithRootCAs(e.pki.CA.Pool())}, opts...)...)
	require.NoError(t, err)
	return cfg
}

func TestLoopbackServer(t *testing.T) {
	e := newEnv(t)
	otherCA, err := mtlstest.NewCA(mtlstest.WithCommonName("other CA"))
	require.NoError(t, err)
	strangerCert, err := otherCA.Client("smsr.example")
	require.NoError(t, err)
	expiredCert, err := e.pki.CA.Client("smsr.example", mtlstest.WithExpired())
	require.NoError(t, err)
	intruder, err := e.pki.CA.Client("intruder", mtlstest.WithOrganization("Evil"))
	require.NoError(t, err)
	withOrg, err := e.pki.CA.Client("kpn-gw", mtlstest.WithOrganization("KPN"))
	require.NoError(t, err)

	plainClient := func(certs ...tls.Certificate) *tls.Config {
		return &tls.Config{RootCAs: e.pki.CA.Pool(), Certificates: certs, MinVersion: tls.VersionTLS12}
	}

	tests := []struct {
		name       string
		serverOpts []mtls.ConfigOption
		client     *tls.Config
		wantCN     string           // client CN the server sees, when accepted
		serverErr  func(error) bool // non-nil: refused, and the server error must satisfy it
	}{
		{name: "good client", client: e.clientConfig(t, e.pki.Client), wantCN: "smsr.example"},
		{name: "good client, TLS 1.2", client: e.clientConfig(t, e.pki.Client, mtls.WithMinVersion(tls.VersionTLS12)), wantCN: "smsr.example"},
		{name: "no client certificate", client: plainClient(),
			serverErr: func(err error) bool { return strings.Contains(err.Error(), "certificate") }},
		// A mtls client sends its certificate whatever CAs the server lists;
		// plain crypto/tls with Certificates would send none here.
		{name: "client certificate from another CA", client: e.clientConfig(t, strangerCert),
			serverErr: func(err error) bool {
				var ve *tls.CertificateVerificationError
				var ua x509.UnknownAuthorityError
				return errors.As(err, &ve) && errors.As(err, &ua)
			}},
		{name: "expired client certificate", client: plainClient(expiredCert.TLSCertificate()),
			serverErr: func(err error) bool {
				var inv x509.CertificateInvalidError
				return errors.As(err, &inv) && inv.Reason == x509.Expired
			}},
		{name: "allow-list by CN accepts", serverOpts: []mtls.ConfigOption{mtls.WithAllowedSubjects("smsr.example")},
			client: e.clientConfig(t, e.pki.Client), wantCN: "smsr.example"},
		{name: "allow-list by DN accepts", serverOpts: []mtls.ConfigOption{mtls.WithAllowedSubjects("CN=nobody", "CN=kpn-gw,O=KPN")},
			client: e.clientConfig(t, withOrg), wantCN: "kpn-gw"},
		{name: "allow-list refuses other subject", serverOpts: []mtls.ConfigOption{mtls.WithAllowedSubjects("smsr.example", "CN=kpn-gw,O=KPN")},
			client: e.clientConfig(t, intruder),
			serverErr: func(err error) bool {
				var sna *mtls.SubjectNotAllowedError
				return errors.As(err, &sna) && sna.Subject == "CN=intruder,O=Evil" && sna.CommonName == "intruder" &&
					strings.Contains(err.Error(), `"CN=intruder,O=Evil"`)
			}},
		{name: "allow-list: CN must match whole", serverOpts: []mtls.ConfigOption{mtls.WithAllowedSubjects("kpn")},
			client: e.clientConfig(t, withOrg),
			serverErr: func(err error) bool {
				var sna *mtls.SubjectNotAllowedError
				return errors.As(err, &sna)
			}},
		{name: "TLS 1.1 client refused", client: &tls.Config{
			RootCAs: e.pki.CA.Pool(), Certificates: []tls.Certificate{e.pki.Client.TLSCertificate()},
			MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11},
			serverErr: func(err error) bool { return strings.Contains(err.Error(), "unsupported versions") }},
		{name: "without client auth, no certificate is fine", serverOpts: []mtls.ConfigOption{mtls.WithoutClientAuth()},
			client: plainClient(), wantCN: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := handshake(t, e.serverConfig(t, tt.serverOpts...), tt.client)
			refused := tt.serverErr != nil
			if !refused {
				require.NoError(t, res.serverErr)
				require.NoError(t, res.clientErr)
				assert.Equal(t, tt.wantCN, res.peerCN)
				assert.Equal(t, e.pki.Server.Cert.SerialNumber, res.serverSerial)
				return
			}
			require.Error(t, res.serverErr)
			assert.Error(t, res.clientErr)
			assert.True(t, tt.serverErr(res.serverErr), "server error: %v", res.serverErr)
		})
	}
}

func TestLoopbackClient(t *testing.T) {
	e := newEnv(t)
	otherCA, err := mtlstest.NewCA()
	require.NoError(t, err)
	src, err := mtls.NewFileSource(e.pki.ClientCertFile, e.pki.ClientKeyFile, quiet)
	require.NoError(t, err)
	tls11Server := &tls.Config{
		Certificates: []tls.Certificate{e.pki.Server.TLSCertificate()},
		MinVersion:   tls.VersionTLS10, MaxVersion: tls.VersionTLS11,
	}

	tests := []struct {
		name      string
		server    *tls.Config
		opts      []mtls.ConfigOption
		clientErr func(error) bool // nil: must succeed
	}{
		{name: "pinned CA", server: e.serverConfig(t), opts: []mtls.ConfigOption{mtls.WithRootCAs(e.pki.CA.Pool())}},
		{name: "pinned CA from file", server: e.serverConfig(t), opts: []mtls.ConfigOption{mtls.WithRootCAs(mustPool(t, e.pki.CAFile))}},
		{name: "system roots do not know the test CA", server: e.serverConfig(t),
			clientErr: func(err error) bool { var ua x509.UnknownAuthorityError; return errors.As(err, &ua) }},
		{name: "pinned to another CA", server: e.serverConfig(t), opts: []mtls.ConfigOption{mtls.WithRootCAs(otherCA.Pool())},
			clientErr: func(err error) bool { var ua x509.UnknownAuthorityError; return errors.As(err, &ua) }},
		{name: "server name checked", server: e.serverConfig(t),
			opts:      []mtls.ConfigOption{mtls.WithRootCAs(e.pki.CA.Pool()), mtls.WithServerName("rsp.kpnthings.com")},
			clientErr: func(err error) bool { var he x509.HostnameError; return errors.As(err, &he) }},
		{name: "server subject pinned and matching", server: e.serverConfig(t),
			opts: []mtls.ConfigOption{mtls.WithRootCAs(e.pki.CA.Pool()), mtls.WithAllowedSubjects("localhost")}},
		{name: "server subject pinned and not matching", server: e.serverConfig(t),
			opts: []mtls.ConfigOption{mtls.WithRootCAs(e.pki.CA.Pool()), mtls.WithAllowedSubjects("rsp.kpnthings.com")},
			clientErr: func(err error) bool {
				var sna *mtls.SubjectNotAllowedError
				return errors.As(err, &sna) && sna.Subject == "CN=localhost"
			}},
		{name: "TLS 1.1-only server refused", server: tls11Server, opts: []mtls.ConfigOption{mtls.WithRootCAs(e.pki.CA.Pool())},
			clientErr: func(err error) bool { return strings.Contains(err.Error(), "protocol version") }},
		{name: "TLS 1.3 minimum against a 1.2 server", server: func() *tls.Config {
			c := e.serverConfig(t)
			c.MaxVersion = tls.VersionTLS12
			return c
		}(), opts: []mtls.ConfigOption{mtls.WithRootCAs(e.pki.CA.Pool()), mtls.WithMinVersion(tls.VersionTLS13)},
			clientErr: func(err error) bool { return strings.Contains(err.Error(), "protocol version") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := mtls.ClientConfig(src, tt.opts...)
			require.NoError(t, err)
			assert.False(t, cfg.InsecureSkipVerify)
			res := handshake(t, tt.server, cfg)
			if tt.clientErr == nil {
				require.NoError(t, res.clientErr)
				require.NoError(t, res.serverErr)
				if tt.server.ClientAuth == tls.RequireAndVerifyClientCert {
					assert.Equal(t, "smsr.example", res.peerCN)
				}
				return
			}
			require.Error(t, res.clientErr)
			assert.True(t, tt.clientErr(res.clientErr), "client error: %v", res.clientErr)
		})
	}
}

func mustPool(t *testing.T, file string) *x509.CertPool {
	t.Helper()
	p, err := mtls.LoadCAPool(file)
	require.NoError(t, err)
	return p
}

// rewrite writes data over path in place and moves its mtime forward, so the
// change is seen whatever the file system's timestamp granularity.
func rewrite(t *testing.T, path string, data []byte) {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, data, 0o600))
	next := fi.ModTime().Add(time.Second)
	require.NoError(t, os.Chtimes(path, next, next))
}

func TestLoopbackRotation(t *testing.T) {
	e := newEnv(t)
	clientCfg := e.clientConfig(t, e.pki.Client)
	serverCfg := e.serverConfig(t)
	serial := func() *big.Int {
		t.Helper()
		res := handshake(t, serverCfg, clientCfg)
		require.NoError(t, res.clientErr)
		require.NoError(t, res.serverErr)
		return res.serverSerial
	}
	assert.Equal(t, e.pki.Server.Cert.SerialNumber, serial())

	next, err := e.pki.CA.Server()
	require.NoError(t, err)
	rewrite(t, e.pki.ServerCertFile, next.CertPEM)
	rewrite(t, e.pki.ServerKeyFile, next.KeyPEM)
	assert.Equal(t, next.Cert.SerialNumber, serial(), "next handshake serves the rotated certificate")

	third, err := e.pki.CA.Server()
	require.NoError(t, err)
	rewrite(t, e.pki.ServerCertFile, third.CertPEM[:len(third.CertPEM)/2])
	assert.Equal(t, next.Cert.SerialNumber, serial(), "half-written certificate: old one kept")
	rewrite(t, e.pki.ServerCertFile, third.CertPEM)
	assert.Equal(t, next.Cert.SerialNumber, serial(), "certificate without its key: old one kept")
	rewrite(t, e.pki.ServerKeyFile, third.KeyPEM)
	assert.Equal(t, third.Cert.SerialNumber, serial())
}

func TestLoopbackClientRotation(t *testing.T) {
	e := newEnv(t)
	src, err := mtls.NewFileSource(e.pki.ClientCertFile, e.pki.ClientKeyFile, quiet)
	require.NoError(t, err)
	clientCfg, err := mtls.ClientConfig(src, mtls.WithRootCAs(e.pki.CA.Pool()))
	require.NoError(t, err)
	serverCfg := e.serverConfig(t)

	res := handshake(t, serverCfg, clientCfg)
	require.NoError(t, res.serverErr)
	assert.Equal(t, "smsr.example", res.peerCN)

	renewed, err := e.pki.CA.Client("smsr.example.2027")
	require.NoError(t, err)
	rewrite(t, e.pki.ClientCertFile, renewed.CertPEM)
	rewrite(t, e.pki.ClientKeyFile, renewed.KeyPEM)
	res = handshake(t, serverCfg, clientCfg)
	require.NoError(t, res.serverErr)
	assert.Equal(t, "smsr.example.2027", res.peerCN)
}

func TestHTTPSServer(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.TLS.PeerCertificates[0].Subject.CommonName)
	}))
	srv.TLS = e.serverConfig(t, mtls.WithAllowedSubjects("smsr.example"))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refusals below are expected
	srv.StartTLS()
	defer srv.Close()
	// httptest adds its own certificate to Certificates, which crypto/tls
	// prefers over GetCertificate when the client sends no SNI: dial by name.
	url := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)

	get := func(cfg *tls.Config) (string, error) {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 10 * time.Second}
		defer c.CloseIdleConnections()
		resp, err := c.Get(url)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}

	body, err := get(e.clientConfig(t, e.pki.Client))
	require.NoError(t, err)
	assert.Equal(t, "smsr.example", body)

	_, err = get(&tls.Config{RootCAs: e.pki.CA.Pool()})
	assert.Error(t, err, "no client certificate")

	intruder, err := e.pki.CA.Client("intruder")
	require.NoError(t, err)
	_, err = get(e.clientConfig(t, intruder))
	assert.Error(t, err, "subject not allowed")
}

func TestConfigOptionErrors(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		client bool
		pool   *x509.CertPool
		opts   []mtls.ConfigOption
		src    *mtls.Source
	}{
		{name: "server without client CAs", pool: nil},
		{name: "server with WithRootCAs", pool: e.pki.CA.Pool(), opts: []mtls.ConfigOption{mtls.WithRootCAs(e.pki.CA.Pool())}},
		{name: "server with WithServerName", pool: e.pki.CA.Pool(), opts: []mtls.ConfigOption{mtls.WithServerName("x")}},
		{name: "server allow-list without client auth", opts: []mtls.ConfigOption{mtls.WithoutClientAuth(), mtls.WithAllowedSubjects("x")}},
		{name: "server TLS 1.1 minimum", pool: e.pki.CA.Pool(), opts: []mtls.ConfigOption{mtls.WithMinVersion(tls.VersionTLS11)}},
		{name: "server empty subject", pool: e.pki.CA.Pool(), opts: []mtls.ConfigOption{mtls.WithAllowedSubjects("")}},
		{name: "client with WithoutClientAuth", client: true, opts: []mtls.ConfigOption{mtls.WithoutClientAuth()}},
		{name: "client TLS 1.0 minimum", client: true, opts: []mtls.ConfigOption{mtls.WithMinVersion(tls.VersionTLS10)}},
		{name: "client empty subject", client: true, opts: []mtls.ConfigOption{mtls.WithAllowedSubjects("a", "")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				cfg *tls.Config
				err error
			)
			if tt.client {
				cfg, err = mtls.ClientConfig(e.src, tt.opts...)
			} else {
				cfg, err = mtls.ServerConfig(e.src, tt.pool, tt.opts...)
			}
			assert.Error(t, err)
			assert.Nil(t, cfg)
		})
	}
	t.Run("nil source", func(t *testing.T) {
		_, err := mtls.ClientConfig(nil)
		assert.Error(t, err)
		_, err = mtls.ServerConfig(nil, e.pki.CA.Pool())
		assert.Error(t, err)
	})
}

func TestConfigDefaults(t *testing.T) {
	e := newEnv(t)
	srv := e.serverConfig(t)
	assert.Equal(t, uint16(tls.VersionTLS12), srv.MinVersion)
	assert.Equal(t, tls.RequireAndVerifyClientCert, srv.ClientAuth)
	assert.NotNil(t, srv.ClientCAs)
	assert.NotNil(t, srv.GetCertificate)
	assert.Nil(t, srv.VerifyConnection)
	assert.Empty(t, srv.Certificates, "certificates come from the Source, so rotation works")

	cli, err := mtls.ClientConfig(e.src)
	require.NoError(t, err)
	assert.Equal(t, uint16(tls.VersionTLS12), cli.MinVersion)
	assert.False(t, cli.InsecureSkipVerify)
	assert.Nil(t, cli.RootCAs, "system roots")
	assert.Empty(t, cli.ServerName)
	assert.NotNil(t, cli.GetClientCertificate)

	cli, err = mtls.ClientConfig(e.src, mtls.WithServerName("rsp.kpnthings.com"), mtls.WithMinVersion(tls.VersionTLS13))
	require.NoError(t, err)
	assert.Equal(t, "rsp.kpnthings.com", cli.ServerName)
	assert.Equal(t, uint16(tls.VersionTLS13), cli.MinVersion)

	open, err := mtls.ServerConfig(e.src, nil, mtls.WithoutClientAuth())
	require.NoError(t, err)
	assert.Equal(t, tls.NoClientCert, open.ClientAuth)
}

package mtlstest_test

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/mtls/mtlstest"
)

func verify(c *x509.Certificate, ca *mtlstest.CA, usage x509.ExtKeyUsage, name string, at time.Time) error {
	_, err := c.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{usage}, DNSName: name, CurrentTime: at})
	return err
}

func TestCertificates(t *testing.T) {
	ca, err := mtlstest.NewCA()
	require.NoError(t, err)
	assert.True(t, ca.Cert.IsCA)
	assert.Equal(t, "mtlstest CA", ca.Cert.Subject.CommonName)
	other, err := mtlstest.NewCA(mtlstest.WithCommonName("other"))
	require.NoError(t, err)

	srv, err := ca.Server()
	require.NoError(t, err)
	assert.Equal(t, []string{"localhost"}, srv.Cert.DNSNames)
	require.Len(t, srv.Cert.IPAddresses, 2)
	assert.True(t, srv.Cert.IPAddresses[0].Equal(net.IPv4(127, 0, 0, 1)))
	assert.True(t, srv.Cert.IPAddresses[1].Equal(net.IPv6loopback))
	assert.Equal(t, []string{"localhost", "127.0.0.1", "::1"}, mtlstest.DefaultServerNames())
	now := time.Now()
	assert.NoError(t, verify(srv.Cert, ca, x509.ExtKeyUsageServerAuth, "localhost", now))
	assert.NoError(t, verify(srv.Cert, ca, x509.ExtKeyUsageServerAuth, "127.0.0.1", now))
	assert.Error(t, verify(srv.Cert, other, x509.ExtKeyUsageServerAuth, "localhost", now), "independent CA")
	assert.Error(t, verify(srv.Cert, ca, x509.ExtKeyUsageClientAuth, "", now), "server cert is not a client cert")

	named, err := ca.Server(mtlstest.WithNames("gw.example", "10.0.0.1"), mtlstest.WithCommonName("gw"))
	require.NoError(t, err)
	assert.Equal(t, []string{"gw.example"}, named.Cert.DNSNames)
	assert.Len(t, named.Cert.IPAddresses, 1)
	assert.Equal(t, "gw", named.Cert.Subject.CommonName)

	cli, err := ca.Client("smsr.example", mtlstest.WithOrganization("Example B.V."), mtlstest.WithSerial(42))
	require.NoError(t, err)
	assert.Equal(t, "CN=smsr.example,O=Example B.V.", cli.Cert.Subject.String())
	assert.Equal(t, int64(42), cli.Cert.SerialNumber.Int64())
	assert.NoError(t, verify(cli.Cert, ca, x509.ExtKeyUsageClientAuth, "", now))
	assert.Same(t, ca, cli.CA)

	windows := []struct {
		name         string
		opt          mtlstest.Option
		validNow     bool
		expiredAtNow bool
	}{
		{"expired", mtlstest.WithExpired(), false, true},
		{"not yet valid", mtlstest.WithNotYetValid(), false, false},
		{"expires in 10 days", mtlstest.WithExpiresIn(10 * 24 * time.Hour), true, false},
		{"explicit", mtlstest.WithValidity(now.Add(-time.Minute), now.Add(time.Minute)), true, false},
	}
	for _, w := range windows {
		t.Run(w.name, func(t *testing.T) {
			p, err := ca.Client("x", w.opt)
			require.NoError(t, err)
			err = verify(p.Cert, ca, x509.ExtKeyUsageClientAuth, "", time.Now())
			assert.Equal(t, w.validNow, err == nil, "%v", err)
			assert.Equal(t, w.expiredAtNow, time.Now().After(p.Cert.NotAfter))
		})
	}
	assert.NotEqual(t, srv.Cert.SerialNumber, named.Cert.SerialNumber, "random serials")
}

func TestFilesAndPEM(t *testing.T) {
	dir := t.TempDir()
	pki, err := mtlstest.NewPKI(dir, "client.example")
	require.NoError(t, err)
	for path, want := range map[string][]byte{
		pki.CAFile:         pki.CA.CertPEM,
		pki.ServerCertFile: pki.Server.CertPEM,
		pki.ServerKeyFile:  pki.Server.KeyPEM,
		pki.ClientCertFile: pki.Client.CertPEM,
		pki.ClientKeyFile:  pki.Client.KeyPEM,
	} {
		assert.Equal(t, dir, filepath.Dir(path))
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	fi, err := os.Stat(pki.ClientKeyFile)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	_, err = tls.X509KeyPair(pki.Client.CertPEM, pki.Client.KeyPEM)
	assert.NoError(t, err)
	chain, err := tls.X509KeyPair(pki.Server.ChainPEM(), pki.Server.KeyPEM)
	require.NoError(t, err)
	assert.Len(t, chain.Certificate, 2)

	_, _, err = pki.Client.WriteFiles(filepath.Join(dir, "missing", "dir"), "x")
	assert.Error(t, err)
	_, err = pki.CA.WriteFile(filepath.Join(dir, "missing"), "x")
	assert.Error(t, err)
	_, err = mtlstest.NewPKI(filepath.Join(dir, "missing"), "x")
	assert.Error(t, err)

	var nilCA *mtlstest.CA
	_, err = nilCA.Client("x")
	assert.Error(t, err)
}

func TestLoopbackConfigs(t *testing.T) {
	pki, err := mtlstest.NewPKI(t.TempDir(), "client.example")
	require.NoError(t, err)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", pki.ServerTLSConfig())
	require.NoError(t, err)
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- err.Error()
			return
		}
		defer c.Close()
		tc := c.(*tls.Conn)
		if err := tc.Handshake(); err != nil {
			got <- err.Error()
			return
		}
		got <- tc.ConnectionState().PeerCertificates[0].Subject.CommonName
		_, _ = io.WriteString(tc, "x")
	}()
	conn, err := tls.Dial("tcp", ln.Addr().String(), pki.ClientTLSConfig())
	require.NoError(t, err)
	defer conn.Close()
	b := make([]byte, 1)
	_, err = io.ReadFull(conn, b)
	require.NoError(t, err)
	assert.Equal(t, "client.example", <-got)
}

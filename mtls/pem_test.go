package mtls

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/mtls/mtlstest"
)

func pemBlock(typ string, b []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b})
}

func TestStaticSourceErrors(t *testing.T) {
	ca := mustCA(t)
	good := mustClient(t, ca, "good")
	other := mustClient(t, ca, "other")
	expired := mustClient(t, ca, "old", mtlstest.WithExpired())
	future := mustClient(t, ca, "new", mtlstest.WithNotYetValid())
	encrypted := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}, Bytes: []byte{1}})

	tests := []struct {
		name    string
		cert    []byte
		key     []byte
		opts    []SourceOption
		kind    Kind
		subject string
	}{
		{name: "empty cert", cert: nil, key: good.KeyPEM, kind: KindNoCertificate},
		{name: "key where cert should be", cert: good.KeyPEM, key: good.KeyPEM, kind: KindNoCertificate},
		{name: "garbage certificate block", cert: pemBlock("CERTIFICATE", []byte("nope")), key: good.KeyPEM, kind: KindMalformed},
		{name: "no key", cert: good.CertPEM, key: good.CertPEM, kind: KindNoPrivateKey},
		{name: "empty key", cert: good.CertPEM, key: []byte("  \n"), kind: KindNoPrivateKey},
		{name: "garbage key block", cert: good.CertPEM, key: pemBlock("PRIVATE KEY", []byte("nope")), kind: KindMalformed},
		{name: "garbage EC key block", cert: good.CertPEM, key: pemBlock("EC PRIVATE KEY", []byte("nope")), kind: KindMalformed},
		{name: "encrypted PKCS#8 key", cert: good.CertPEM, key: pemBlock("ENCRYPTED PRIVATE KEY", []byte{1}), kind: KindMalformed},
		{name: "encrypted legacy key", cert: good.CertPEM, key: encrypted, kind: KindMalformed},
		{name: "key of another certificate", cert: good.CertPEM, key: other.KeyPEM, kind: KindKeyMismatch, subject: "CN=good"},
		{name: "expired", cert: expired.CertPEM, key: expired.KeyPEM, kind: KindExpired, subject: "CN=old"},
		{name: "not yet valid", cert: future.CertPEM, key: future.KeyPEM, kind: KindNotYetValid, subject: "CN=new"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := NewStaticSource(tt.cert, tt.key, tt.opts...)
			require.Error(t, err)
			assert.Nil(t, src)
			var ce *CertificateError
			require.True(t, errors.As(err, &ce), "%T %v", err, err)
			assert.Equal(t, tt.kind, ce.Kind, "%v", err)
			assert.Empty(t, ce.Path)
			assert.Equal(t, tt.subject, ce.Subject)
			assert.True(t, IsKind(err, tt.kind))
			assert.Contains(t, err.Error(), tt.kind.String())
		})
	}
}

func TestExpiredErrorCarriesWindow(t *testing.T) {
	ca := mustCA(t)
	nb, na := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	p := mustClient(t, ca, "old", mtlstest.WithValidity(nb, na))
	_, err := NewStaticSource(p.CertPEM, p.KeyPEM)
	var ce *CertificateError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, KindExpired, ce.Kind)
	assert.True(t, ce.NotBefore.Equal(nb))
	assert.True(t, ce.NotAfter.Equal(na))
	assert.Equal(t, `mtls: certificate expired at 2021-01-01T00:00:00Z (subject "CN=old")`, err.Error())
}

func TestAllowExpired(t *testing.T) {
	ca := mustCA(t)
	for _, opt := range []mtlstest.Option{mtlstest.WithExpired(), mtlstest.WithNotYetValid()} {
		p := mustClient(t, ca, "x", opt)
		src, err := NewStaticSource(p.CertPEM, p.KeyPEM, AllowExpired(), WithExpiryWarning(0))
		require.NoError(t, err)
		assert.Equal(t, p.Cert.SerialNumber, src.Leaf().SerialNumber)
	}
}

// selfSigned makes a self-signed leaf for key, for key formats mtlstest
// does not produce.
func selfSigned(t *testing.T, key crypto.Signer) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: "k"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	require.NoError(t, err)
	return pemBlock("CERTIFICATE", der)
}

func TestKeyFormats(t *testing.T) {
	ca := mustCA(t)
	ec := mustClient(t, ca, "ec")
	sec1, err := x509.MarshalECPrivateKey(ec.Key)
	require.NoError(t, err)

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	edPKCS8, err := x509.MarshalPKCS8PrivateKey(edKey)
	require.NoError(t, err)
	rsaPKCS8, err := x509.MarshalPKCS8PrivateKey(rsaKey)
	require.NoError(t, err)

	rsaCert := selfSigned(t, rsaKey)
	edCert := selfSigned(t, edKey)

	tests := []struct {
		name      string
		cert, key []byte
	}{
		{"EC PKCS#8", ec.CertPEM, ec.KeyPEM},
		{"EC SEC 1", ec.CertPEM, pemBlock("EC PRIVATE KEY", sec1)},
		{"EC SEC 1 after EC PARAMETERS", ec.CertPEM, append(pemBlock("EC PARAMETERS", []byte{6, 8, 42, 134, 72, 206, 61, 3, 1, 7}), pemBlock("EC PRIVATE KEY", sec1)...)},
		{"RSA PKCS#1", rsaCert, pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey))},
		{"RSA PKCS#8", rsaCert, pemBlock("PRIVATE KEY", rsaPKCS8)},
		{"Ed25519 PKCS#8", edCert, pemBlock("PRIVATE KEY", edPKCS8)},
		{"chain with intermediate", ec.ChainPEM(), ec.KeyPEM},
		{"cert and key in one blob", append(append([]byte(nil), ec.KeyPEM...), ec.CertPEM...), ec.KeyPEM},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := NewStaticSource(tt.cert, tt.key, WithExpiryWarning(0))
			require.NoError(t, err)
			c, err := src.Certificate()
			require.NoError(t, err)
			require.NotNil(t, c.Leaf)
			assert.Equal(t, c.Leaf.Raw, c.Certificate[0])
		})
	}

	t.Run("chain order kept", func(t *testing.T) {
		src, err := NewStaticSource(ec.ChainPEM(), ec.KeyPEM, WithExpiryWarning(0))
		require.NoError(t, err)
		c, _ := src.Certificate()
		require.Len(t, c.Certificate, 2)
		assert.Equal(t, ca.Cert.Raw, c.Certificate[1])
	})
}

func TestCAPool(t *testing.T) {
	ca1, ca2 := mustCA(t), mustCA(t, mtlstest.WithCommonName("second"))
	leaf1, leaf2 := mustClient(t, ca1, "a"), mustClient(t, ca2, "b")
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, data, 0o600))
		return p
	}
	bundle := append(append([]byte("# comment line\n"), ca1.CertPEM...), ca2.CertPEM...)

	t.Run("bundle of two", func(t *testing.T) {
		pool, err := LoadCAPool(write("bundle.pem", bundle))
		require.NoError(t, err)
		for _, leaf := range []*x509.Certificate{leaf1.Cert, leaf2.Cert} {
			_, err := leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
			assert.NoError(t, err)
		}
	})
	t.Run("from PEM, key blocks ignored", func(t *testing.T) {
		pool, err := CAPoolFromPEM(append(append([]byte(nil), leaf1.KeyPEM...), ca1.CertPEM...))
		require.NoError(t, err)
		_, err = leaf1.Cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		assert.NoError(t, err)
		_, err = leaf2.Cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		assert.Error(t, err)
	})

	errCases := []struct {
		name string
		load func() (*x509.CertPool, error)
		kind Kind
		path bool
	}{
		{"missing file", func() (*x509.CertPool, error) { return LoadCAPool(filepath.Join(dir, "nope.pem")) }, KindUnreadable, true},
		{"empty file", func() (*x509.CertPool, error) { return LoadCAPool(write("empty.pem", nil)) }, KindEmptyCABundle, true},
		{"only a key", func() (*x509.CertPool, error) { return LoadCAPool(write("key.pem", leaf1.KeyPEM)) }, KindEmptyCABundle, true},
		{"empty bytes", func() (*x509.CertPool, error) { return CAPoolFromPEM([]byte("not pem")) }, KindEmptyCABundle, false},
		{"malformed", func() (*x509.CertPool, error) { return CAPoolFromPEM(pemBlock("CERTIFICATE", []byte{0x30})) }, KindMalformed, false},
	}
	for _, tt := range errCases {
		t.Run(tt.name, func(t *testing.T) {
			pool, err := tt.load()
			assert.Nil(t, pool)
			var ce *CertificateError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.kind, ce.Kind)
			assert.Equal(t, tt.path, ce.Path != "")
		})
	}
	t.Run("missing file wraps fs.ErrNotExist", func(t *testing.T) {
		_, err := LoadCAPool(filepath.Join(dir, "nope.pem"))
		assert.ErrorIs(t, err, fs.ErrNotExist)
	})
}

func TestFileSourceErrors(t *testing.T) {
	ca := mustCA(t)
	good, other := mustServer(t, ca), mustServer(t, ca)
	f := newFiles(t)
	certFile, keyFile := f.pair("good", good)
	otherKey := f.write("other.key", other.KeyPEM)
	halfCert := f.write("half.crt", good.CertPEM[:len(good.CertPEM)/2])
	missing := filepath.Join(f.dir, "missing")

	tests := []struct {
		name          string
		cert, key     string
		kind          Kind
		path          string
		wrapsNotExist bool
	}{
		{"no file names", "", "", KindUnreadable, "", false},
		{"missing cert", missing, keyFile, KindUnreadable, missing, true},
		{"missing key", certFile, missing, KindUnreadable, missing, true},
		{"half-written cert", halfCert, keyFile, KindNoCertificate, halfCert, false},
		{"key file is a cert", certFile, certFile, KindNoPrivateKey, certFile, false},
		{"mismatched key", certFile, otherKey, KindKeyMismatch, otherKey, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := NewFileSource(tt.cert, tt.key)
			assert.Nil(t, src)
			var ce *CertificateError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.kind, ce.Kind, "%v", err)
			assert.Equal(t, tt.path, ce.Path)
			if tt.path != "" {
				assert.Contains(t, err.Error(), tt.path)
			}
			assert.Equal(t, tt.wrapsNotExist, errors.Is(err, fs.ErrNotExist))
		})
	}
	t.Run("directory is unreadable", func(t *testing.T) {
		_, err := NewFileSource(f.dir, keyFile)
		assert.True(t, IsKind(err, KindUnreadable), "%v", err)
	})
	t.Run("combined file", func(t *testing.T) {
		both := f.write("both.pem", append(append([]byte(nil), good.CertPEM...), good.KeyPEM...))
		src, err := NewFileSource(both, both, WithExpiryWarning(0))
		require.NoError(t, err)
		assert.Equal(t, good.Cert.SerialNumber, src.Leaf().SerialNumber)
	})
}

func TestKindString(t *testing.T) {
	seen := map[string]bool{}
	for k := KindUnreadable; k <= KindEmptyCABundle; k++ {
		s := k.String()
		assert.NotContains(t, s, "Kind(")
		assert.False(t, seen[s], "duplicate %q", s)
		seen[s] = true
	}
	assert.Equal(t, "Kind(99)", Kind(99).String())
}

func TestCertificateErrorUnwrap(t *testing.T) {
	inner := errors.New("boom")
	err := error(&CertificateError{Kind: KindMalformed, Path: "/x", Err: inner})
	assert.ErrorIs(t, err, inner)
	assert.Equal(t, "mtls: /x: malformed: boom", err.Error())
	assert.False(t, IsKind(inner, KindMalformed))
}

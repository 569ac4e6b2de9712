// Package mtlstest makes throw-away public key infrastructures for tests, the
// mock gateway and the example programs: a CA, server certificates and client
// certificates, all ECDSA P-256, as Go values, PEM bytes or files.
//
// Nothing here is tied to *testing.T, so ordinary programs can use it too.
// Every constructor returns an error instead of panicking. Keys are fresh on
// every call and never meant to protect anything real.
//
//	ca, _ := mtlstest.NewCA()
//	srv, _ := ca.Server()                      // localhost, 127.0.0.1, ::1
//	cli, _ := ca.Client("smsr.example", mtlstest.WithOrganization("Example"))
//	certFile, keyFile, _ := srv.WriteFiles(dir, "server")
//
// Validity windows are options, so expired and not-yet-valid certificates are
// one call away (WithExpired, WithNotYetValid, WithValidity). A second NewCA is
// an independent CA for "wrong CA" tests.
package mtlstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

var defaultServerNames = []string{"localhost", "127.0.0.1", "::1"}

// DefaultServerNames returns the names a server certificate gets by default:
// "localhost", 127.0.0.1 and ::1.
func DefaultServerNames() []string { return append([]string(nil), defaultServerNames...) }

// Option adjusts a certificate made by NewCA, CA.Server or CA.Client.
type Option func(*options)

type options struct {
	cn        string
	org       string
	names     []string
	notBefore time.Time
	notAfter  time.Time
	serial    *big.Int
}

// WithCommonName sets the subject common name.
func WithCommonName(cn string) Option { return func(o *options) { o.cn = cn } }

// WithOrganization sets the subject organization (O).
func WithOrganization(org string) Option { return func(o *options) { o.org = org } }

// WithNames sets the subject alternative names: entries that parse as IP
// addresses become IP SANs, the rest DNS SANs. It replaces the defaults.
func WithNames(names ...string) Option {
	return func(o *options) { o.names = append([]string(nil), names...) }
}

// WithValidity sets the validity window.
func WithValidity(notBefore, notAfter time.Time) Option {
	return func(o *options) { o.notBefore, o.notAfter = notBefore, notAfter }
}

// WithExpired makes a certificate that expired an hour ago (valid for the
// day before that).
func WithExpired() Option {
	return func(o *options) {
		now := time.Now()
		o.notBefore, o.notAfter = now.Add(-25*time.Hour), now.Add(-time.Hour)
	}
}

// WithNotYetValid makes a certificate that becomes valid in a day.
func WithNotYetValid() Option {
	return func(o *options) {
		now := time.Now()
		o.notBefore, o.notAfter = now.Add(24*time.Hour), now.Add(48*time.Hour)
	}
}

// WithExpiresIn makes a certificate valid from an hour ago until now+d.
func WithExpiresIn(d time.Duration) Option {
	return func(o *options) {
		now := time.Now()
		o.notBefore, o.notAfter = now.Add(-time.Hour), now.Add(d)
	}
}

// WithSerial sets the serial number instead of a random one.
func WithSerial(serial int64) Option {
	return func(o *options) { o.serial = big.NewInt(serial) }
}

func collect(defaults options, opts []Option) options {
	o := defaults
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.notBefore.IsZero() && o.notAfter.IsZero() {
		now := time.Now()
		o.notBefore, o.notAfter = now.Add(-time.Hour), now.Add(365*24*time.Hour)
	}
	return o
}

// CA is a throw-away certificate authority.
type CA struct {
	Cert    *x509.Certificate
	Key     *ecdsa.PrivateKey
	CertPEM []byte
}

// Pair is a certificate issued by a CA with its private key.
type Pair struct {
	Cert    *x509.Certificate
	Key     *ecdsa.PrivateKey
	CertPEM []byte // the leaf only
	KeyPEM  []byte // PKCS#8, "PRIVATE KEY"
	CA      *CA
}

// NewCA makes a self-signed CA (common name "mtlstest CA" unless
// WithCommonName is given; valid for ten years unless a validity option is).
func NewCA(opts ...Option) (*CA, error) {
	now := time.Now()
	o := collect(options{cn: "mtlstest CA", notBefore: now.Add(-time.Hour), notAfter: now.Add(10 * 365 * 24 * time.Hour)}, opts)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("mtlstest: generate CA key: %w", err)
	}
	tmpl, err := template(o)
	if err != nil {
		return nil, err
	}
	tmpl.IsCA = true
	tmpl.BasicConstraintsValid = true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("mtlstest: create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("mtlstest: parse CA certificate: %w", err)
	}
	return &CA{Cert: cert, Key: key, CertPEM: encodeCert(der)}, nil
}

// Pool returns a fresh pool holding only this CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// WriteFile writes the CA certificate to dir/name.pem (mode 0644) and
// returns its path.
func (ca *CA) WriteFile(dir, name string) (string, error) {
	path := filepath.Join(dir, name+".pem")
	if err := os.WriteFile(path, ca.CertPEM, 0o644); err != nil {
		return "", fmt.Errorf("mtlstest: %w", err)
	}
	return path, nil
}

// WriteKeyFile writes the CA's private key to dir/name.key (PKCS#8 PEM, mode 0600) and returns its path,
// so that a later LoadCA issues from the same CA (a long-running mock keeps its peers' files valid).
func (ca *CA) WriteKeyFile(dir, name string) (string, error) {
	der, err := x509.MarshalPKCS8PrivateKey(ca.Key)
	if err != nil {
		return "", fmt.Errorf("mtlstest: %w", err)
	}
	path := filepath.Join(dir, name+".key")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return "", fmt.Errorf("mtlstest: %w", err)
	}
	return path, nil
}

// LoadCA reads a CA written by WriteFile and WriteKeyFile. It fails when the files do not hold a CA
// certificate and its ECDSA key.
func LoadCA(certFile, keyFile string) (*CA, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("mtlstest: %w", err)
	}
	cb, _ := pem.Decode(certPEM)
	if cb == nil || cb.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("mtlstest: %s holds no PEM certificate", certFile)
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("mtlstest: %s: %w", certFile, err)
	}
	if !cert.IsCA {
		return nil, fmt.Errorf("mtlstest: %s is not a CA certificate", certFile)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("mtlstest: %w", err)
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		return nil, fmt.Errorf("mtlstest: %s holds no PEM key", keyFile)
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("mtlstest: %s: %w", keyFile, err)
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok || !key.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("mtlstest: %s is not the key of %s", keyFile, certFile)
	}
	return &CA{Cert: cert, Key: key, CertPEM: pem.EncodeToMemory(cb)}, nil
}

// Server issues a server certificate (ExtKeyUsageServerAuth) with common name
// "localhost" and DefaultServerNames as SANs unless options say otherwise.
func (ca *CA) Server(opts ...Option) (*Pair, error) {
	o := collect(options{cn: "localhost", names: defaultServerNames}, opts)
	return ca.issue(o, x509.ExtKeyUsageServerAuth)
}

// Client issues a client certificate (ExtKeyUsageClientAuth) with the given
// subject common name.
func (ca *CA) Client(commonName string, opts ...Option) (*Pair, error) {
	o := collect(options{cn: commonName}, opts)
	return ca.issue(o, x509.ExtKeyUsageClientAuth)
}

func (ca *CA) issue(o options, usage x509.ExtKeyUsage) (*Pair, error) {
	if ca == nil || ca.Cert == nil || ca.Key == nil {
		return nil, errors.New("mtlstest: nil CA")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("mtlstest: generate key: %w", err)
	}
	tmpl, err := template(o)
	if err != nil {
		return nil, err
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{usage}
	for _, n := range o.names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, fmt.Errorf("mtlstest: create certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("mtlstest: parse certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("mtlstest: marshal key: %w", err)
	}
	return &Pair{
		Cert:    cert,
		Key:     key,
		CertPEM: encodeCert(der),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		CA:      ca,
	}, nil
}

func template(o options) (*x509.Certificate, error) {
	serial := o.serial
	if serial == nil {
		var err error
		serial, err = rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
		if err != nil {
			return nil, fmt.Errorf("mtlstest: serial: %w", err)
		}
		serial.Add(serial, big.NewInt(1)) // never zero
	}
	subject := pkix.Name{CommonName: o.cn}
	if o.org != "" {
		subject.Organization = []string{o.org}
	}
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      subject,
		NotBefore:    o.notBefore,
		NotAfter:     o.notAfter,
	}, nil
}

func encodeCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// ChainPEM returns the leaf followed by the CA certificate, as a server or
// client would present it when the CA is an intermediate.
func (p *Pair) ChainPEM() []byte {
	out := append([]byte(nil), p.CertPEM...)
	return append(out, p.CA.CertPEM...)
}

// TLSCertificate returns the pair as a tls.Certificate (leaf only, Leaf set).
func (p *Pair) TLSCertificate() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{p.Cert.Raw}, PrivateKey: p.Key, Leaf: p.Cert}
}

// WriteFiles writes dir/name.crt (mode 0644) and dir/name.key (mode 0600)
// and returns their paths. Existing files are overwritten in place.
func (p *Pair) WriteFiles(dir, name string) (certFile, keyFile string, err error) {
	certFile = filepath.Join(dir, name+".crt")
	keyFile = filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, p.CertPEM, 0o644); err != nil {
		return "", "", fmt.Errorf("mtlstest: %w", err)
	}
	if err := os.WriteFile(keyFile, p.KeyPEM, 0o600); err != nil {
		return "", "", fmt.Errorf("mtlstest: %w", err)
	}
	return certFile, keyFile, nil
}

// PKI is a ready set for loopback tests: one CA, a server certificate for
// DefaultServerNames and a client certificate, written to Dir.
type PKI struct {
	Dir    string
	CA     *CA
	Server *Pair
	Client *Pair

	CAFile         string
	ServerCertFile string
	ServerKeyFile  string
	ClientCertFile string
	ClientKeyFile  string
}

// NewPKI makes a CA, a server certificate and a client certificate with the
// given subject common name, and writes them to dir as ca.pem, server.crt,
// server.key, client.crt and client.key. dir must exist (t.TempDir() or
// os.MkdirTemp).
func NewPKI(dir, clientCN string) (*PKI, error) {
	ca, err := NewCA()
	if err != nil {
		return nil, err
	}
	srv, err := ca.Server()
	if err != nil {
		return nil, err
	}
	cli, err := ca.Client(clientCN)
	if err != nil {
		return nil, err
	}
	p := &PKI{Dir: dir, CA: ca, Server: srv, Client: cli}
	if p.CAFile, err = ca.WriteFile(dir, "ca"); err != nil {
		return nil, err
	}
	if p.ServerCertFile, p.ServerKeyFile, err = srv.WriteFiles(dir, "server"); err != nil {
		return nil, err
	}
	if p.ClientCertFile, p.ClientKeyFile, err = cli.WriteFiles(dir, "client"); err != nil {
		return nil, err
	}
	return p, nil
}

// ServerTLSConfig returns a server config presenting the server certificate
// and requiring a client certificate from the CA (TLS 1.2 minimum). It is
// built with crypto/tls alone, as a reference independent of package mtls.
func (p *PKI) ServerTLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{p.Server.TLSCertificate()},
		ClientCAs:    p.CA.Pool(),
		ClientAuth:   tls.RequireAndVerifyClientCert,
	}
}

// ClientTLSConfig returns a client config presenting the client certificate
// and trusting only the CA (TLS 1.2 minimum). ServerName is left empty:
// dialers fill it from the address ("127.0.0.1" and "localhost" both verify).
func (p *PKI) ClientTLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{p.Client.TLSCertificate()},
		RootCAs:      p.CA.Pool(),
	}
}

package mtls

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// LoadCAPool reads a PEM CA bundle from file. A file with no certificate is a
// *CertificateError of KindEmptyCABundle, a CERTIFICATE block that does not
// parse is KindMalformed (the bundle is refused, not silently shortened), and
// a file that cannot be read is KindUnreadable.
func LoadCAPool(file string) (*x509.CertPool, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, &CertificateError{Kind: KindUnreadable, Path: file, Err: err}
	}
	pool, err := caPool(data, file)
	if err != nil {
		return nil, err
	}
	return pool, nil
}

// CAPoolFromPEM builds a pool from PEM CA certificates. Non-CERTIFICATE
// blocks and text between blocks are ignored; no certificate at all is a
// *CertificateError of KindEmptyCABundle.
func CAPoolFromPEM(pemBytes []byte) (*x509.CertPool, error) {
	return caPool(pemBytes, "")
}

func caPool(data []byte, path string) (*x509.CertPool, error) {
	certs, err := parseCerts(data, path)
	if err != nil {
		if IsKind(err, KindNoCertificate) {
			return nil, &CertificateError{Kind: KindEmptyCABundle, Path: path}
		}
		return nil, err
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

// parseCerts returns every CERTIFICATE block in data, in order.
func parseCerts(data []byte, path string) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, &CertificateError{Kind: KindMalformed, Path: path, Err: err}
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, &CertificateError{Kind: KindNoCertificate, Path: path}
	}
	return certs, nil
}

// parseKey returns the first private key block in data: PKCS#8
// ("PRIVATE KEY"), PKCS#1 ("RSA PRIVATE KEY") or SEC 1 ("EC PRIVATE KEY").
func parseKey(data []byte, path string) (crypto.Signer, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, &CertificateError{Kind: KindNoPrivateKey, Path: path}
		}
		if block.Type == "ENCRYPTED PRIVATE KEY" || block.Headers["Proc-Type"] == "4,ENCRYPTED" {
			return nil, &CertificateError{Kind: KindMalformed, Path: path, Err: errors.New("encrypted private keys are not supported")}
		}
		if !strings.HasSuffix(block.Type, "PRIVATE KEY") {
			continue
		}
		var (
			key any
			err error
		)
		switch block.Type {
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		default:
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		}
		if err != nil {
			return nil, &CertificateError{Kind: KindMalformed, Path: path, Err: err}
		}
		switch k := key.(type) {
		case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
			return k.(crypto.Signer), nil
		}
		return nil, &CertificateError{Kind: KindMalformed, Path: path, Err: fmt.Errorf("unsupported private key type %T", key)}
	}
}

// keyPair parses and checks a certificate chain and its key. certPath and
// keyPath only label errors. now is the time validity is checked against;
// allowExpired skips that check.
func keyPair(certPEM, keyPEM []byte, certPath, keyPath string, now time.Time, allowExpired bool) (*tls.Certificate, error) {
	certs, err := parseCerts(certPEM, certPath)
	if err != nil {
		return nil, err
	}
	leaf := certs[0]
	subject := leaf.Subject.String()
	key, err := parseKey(keyPEM, keyPath)
	if err != nil {
		return nil, err
	}
	pub, ok := leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(key.Public()) {
		return nil, &CertificateError{Kind: KindKeyMismatch, Path: keyPath, Subject: subject}
	}
	if !allowExpired {
		if now.After(leaf.NotAfter) {
			return nil, &CertificateError{Kind: KindExpired, Path: certPath, Subject: subject, NotBefore: leaf.NotBefore, NotAfter: leaf.NotAfter}
		}
		if now.Before(leaf.NotBefore) {
			return nil, &CertificateError{Kind: KindNotYetValid, Path: certPath, Subject: subject, NotBefore: leaf.NotBefore, NotAfter: leaf.NotAfter}
		}
	}
	chain := make([][]byte, len(certs))
	for i, c := range certs {
		chain[i] = c.Raw
	}
	return &tls.Certificate{Certificate: chain, PrivateKey: key, Leaf: leaf}, nil
}

package gatewaytest

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/esimgw/esimgw/mtls/mtlstest"
)

// A mock run as a process (esimgw mock, examples/mockgateway) keeps its PKI in a folder so that a restart
// does not invalidate the files its peers were given: NewInDir, which is LoadOrNewCA before New (with
// WithCA), then WriteMissingFiles instead of WriteFiles.

// NewInDir starts a gateway whose PKI lives in dir (created when missing; "" is a new temporary folder):
// the CA and the operator's files an earlier run left there are reused (LoadOrNewCA, WriteMissingFiles),
// the missing ones written. It returns the gateway and the paths of its files.
func NewInDir(dir string, opts ...Option) (*Gateway, Files, error) {
	var err error
	if dir == "" {
		if dir, err = os.MkdirTemp("", "esimgw-mock-"); err != nil {
			return nil, Files{}, fmt.Errorf("gatewaytest: %w", err)
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, Files{}, fmt.Errorf("gatewaytest: %w", err)
	}
	ca, err := LoadOrNewCA(dir)
	if err != nil {
		return nil, Files{}, err
	}
	g, err := New(append(opts, WithCA(ca))...)
	if err != nil {
		return nil, Files{}, err
	}
	files, err := g.WriteMissingFiles(dir)
	if err != nil {
		g.Close()
		return nil, Files{}, err
	}
	return g, files, nil
}

// LoadOrNewCA returns the CA kept in dir (ca.pem with its private key ca.key, mode 0600) and otherwise
// makes one and writes both there. A ca.pem without its ca.key is an error, not silently replaced: the
// peers trusting that CA would stop working.
func LoadOrNewCA(dir string) (*mtlstest.CA, error) {
	certFile, keyFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca.key")
	_, certErr := os.Stat(certFile)
	_, keyErr := os.Stat(keyFile)
	switch {
	case certErr == nil && keyErr == nil:
		ca, err := mtlstest.LoadCA(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("gatewaytest: reusing the CA in %s: %w (remove ca.pem and ca.key for a new one)", dir, err)
		}
		return ca, nil
	case certErr == nil:
		return nil, fmt.Errorf("gatewaytest: %s has ca.pem but no ca.key: the CA cannot be reused (remove ca.pem for a new one)", dir)
	case !errors.Is(certErr, fs.ErrNotExist):
		return nil, fmt.Errorf("gatewaytest: %w", certErr)
	}
	ca, err := mtlstest.NewCA(mtlstest.WithCommonName("esimgw mock gateway CA"))
	if err != nil {
		return nil, err
	}
	if _, err := ca.WriteFile(dir, "ca"); err != nil {
		return nil, err
	}
	if _, err := ca.WriteKeyFile(dir, "ca"); err != nil {
		return nil, err
	}
	return ca, nil
}

// WriteMissingFiles is WriteFiles for a folder that may hold the files of an earlier run: each client and
// callback-server certificate already there is kept, with its key, when it matches that key, was issued
// by this gateway's CA for the same use and is valid now; otherwise (missing, another CA's, expired) it is
// written afresh. ca.pem is written when missing.
func (g *Gateway) WriteMissingFiles(dir string) (Files, error) {
	out := Files{CA: filepath.Join(dir, "ca.pem")}
	if _, err := os.Stat(out.CA); err != nil {
		if _, err := g.ca.WriteFile(dir, "ca"); err != nil {
			return Files{}, err
		}
	}
	for _, f := range []struct {
		name      string
		pair      *mtlstest.Pair
		usage     x509.ExtKeyUsage
		cert, key *string
	}{
		{"client", g.clientPair, x509.ExtKeyUsageClientAuth, &out.ClientCert, &out.ClientKey},
		{"callback-server", g.cbPair, x509.ExtKeyUsageServerAuth, &out.CallbackServerCert, &out.CallbackServerKey},
	} {
		*f.cert, *f.key = filepath.Join(dir, f.name+".crt"), filepath.Join(dir, f.name+".key")
		if g.issued(*f.cert, *f.key, f.usage) {
			continue
		}
		if _, _, err := f.pair.WriteFiles(dir, f.name); err != nil {
			return Files{}, err
		}
	}
	return out, nil
}

// issued reports whether certFile and keyFile are a pair this gateway's CA issued for usage, valid now.
func (g *Gateway) issued(certFile, keyFile string, usage x509.ExtKeyUsage) bool {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil || pair.Leaf == nil {
		return false
	}
	_, err = pair.Leaf.Verify(x509.VerifyOptions{Roots: g.ca.Pool(), KeyUsages: []x509.ExtKeyUsage{usage}, CurrentTime: time.Now()})
	return err == nil
}

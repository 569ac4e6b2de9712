package mtls

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// ConfigOption configures ClientConfig and ServerConfig. Options that make
// sense on one side only make the other side's constructor fail.
type ConfigOption func(*configOptions)

type configOptions struct {
	rootCAs      *x509.CertPool
	serverName   string
	minVersion   uint16
	allowed      []string
	noClientAuth bool
	clientOnly   []string // names of client-only options given
	serverOnly   []string // names of server-only options given
}

// WithRootCAs pins the CAs the server's chain must lead to (client only).
// Without it the system roots are used, which is right for KPN's publicly
// trusted server certificate.
func WithRootCAs(pool *x509.CertPool) ConfigOption {
	return func(o *configOptions) {
		o.rootCAs = pool
		o.clientOnly = append(o.clientOnly, "WithRootCAs")
	}
}

// WithServerName sets the name the server certificate is verified against
// (client only). Without it net/http and tls.Dial use the dialled host.
func WithServerName(name string) ConfigOption {
	return func(o *configOptions) {
		o.serverName = name
		o.clientOnly = append(o.clientOnly, "WithServerName")
	}
}

// WithMinVersion raises the minimum TLS version (tls.VersionTLS13). Anything
// below TLS 1.2 is refused.
func WithMinVersion(v uint16) ConfigOption {
	return func(o *configOptions) { o.minVersion = v }
}

// WithAllowedSubjects accepts only peers whose leaf certificate's subject
// common name, or whole subject DN as pkix.Name.String writes it (for
// example "CN=gw.example,O=Example,C=NL"), equals one of subjects. The chain
// is verified first as usual; a valid certificate with another subject fails
// the handshake with a *SubjectNotAllowedError naming it. On a server config
// it pins client certificates (the gateway's subject: KPN's client certificate must be verified and may be
// pinned, docs/kpn.md R3); on a client config, the
// server certificate. The check also runs on resumed sessions.
func WithAllowedSubjects(subjects ...string) ConfigOption {
	return func(o *configOptions) { o.allowed = append(o.allowed, subjects...) }
}

// WithoutClientAuth makes a server config that does not ask for client
// certificates at all (server only). The default is to require and verify one.
func WithoutClientAuth() ConfigOption {
	return func(o *configOptions) {
		o.noClientAuth = true
		o.serverOnly = append(o.serverOnly, "WithoutClientAuth")
	}
}

func collectConfigOptions(opts []ConfigOption) (configOptions, error) {
	o := configOptions{minVersion: tls.VersionTLS12}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.minVersion < tls.VersionTLS12 {
		return o, fmt.Errorf("mtls: minimum TLS version %s is below TLS 1.2", tls.VersionName(o.minVersion))
	}
	for _, s := range o.allowed {
		if s == "" {
			return o, errors.New("mtls: empty subject in WithAllowedSubjects")
		}
	}
	return o, nil
}

// ClientConfig returns a client config that presents src's certificate
// (reloaded on rotation, sent whatever CAs the server asks for), verifies the
// server's chain and name (InsecureSkipVerify is never set) against the
// system roots or WithRootCAs, and speaks TLS 1.2 or later.
func ClientConfig(src *Source, opts ...ConfigOption) (*tls.Config, error) {
	if src == nil {
		return nil, errNilSource
	}
	o, err := collectConfigOptions(opts)
	if err != nil {
		return nil, err
	}
	if len(o.serverOnly) > 0 {
		return nil, fmt.Errorf("mtls: %s applies to server configs only", o.serverOnly[0])
	}
	cfg := &tls.Config{
		MinVersion:           o.minVersion,
		RootCAs:              o.rootCAs,
		ServerName:           o.serverName,
		GetClientCertificate: src.GetClientCertificate,
	}
	if len(o.allowed) > 0 {
		cfg.VerifyConnection = allowList(o.allowed, nil)
	}
	return cfg, nil
}

// ServerConfig returns a server config that presents src's certificate
// (reloaded on rotation), requires a client certificate and verifies it
// against clientCAs (tls.RequireAndVerifyClientCert), optionally pins the
// client's subject (WithAllowedSubjects), and speaks TLS 1.2 or later.
//
// clientCAs is required unless WithoutClientAuth is given. To accept a
// publicly trusted client certificate (KPN's Sectigo one) pass
// x509.SystemCertPool() and pin the subject with WithAllowedSubjects:
// the system pool alone accepts anybody with a public certificate.
func ServerConfig(src *Source, clientCAs *x509.CertPool, opts ...ConfigOption) (*tls.Config, error) {
	if src == nil {
		return nil, errNilSource
	}
	o, err := collectConfigOptions(opts)
	if err != nil {
		return nil, err
	}
	if len(o.clientOnly) > 0 {
		return nil, fmt.Errorf("mtls: %s applies to client configs only", o.clientOnly[0])
	}
	cfg := &tls.Config{
		MinVersion:     o.minVersion,
		GetCertificate: src.GetCertificate,
	}
	if o.noClientAuth {
		if len(o.allowed) > 0 {
			return nil, errors.New("mtls: WithAllowedSubjects needs client authentication, not WithoutClientAuth")
		}
		cfg.ClientAuth = tls.NoClientCert
		return cfg, nil
	}
	if clientCAs == nil {
		return nil, errors.New("mtls: server config needs a client CA pool (or WithoutClientAuth)")
	}
	cfg.ClientAuth = tls.RequireAndVerifyClientCert
	cfg.ClientCAs = clientCAs
	if len(o.allowed) > 0 {
		cfg.VerifyConnection = allowList(o.allowed, src)
	}
	return cfg, nil
}

// allowList returns a VerifyConnection callback accepting only peers whose
// leaf subject CN or DN is in subjects. Refusals are logged through src's
// logger when src is not nil.
func allowList(subjects []string, src *Source) func(tls.ConnectionState) error {
	set := make(map[string]struct{}, len(subjects))
	for _, s := range subjects {
		set[s] = struct{}{}
	}
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errNoPeerCertificate
		}
		name := cs.PeerCertificates[0].Subject
		if name.CommonName != "" {
			if _, ok := set[name.CommonName]; ok {
				return nil
			}
		}
		dn := name.String()
		if _, ok := set[dn]; ok {
			return nil
		}
		// Not logged here: the error fails the handshake, and the server's handshake-error log reports it
		// once (logging here too made every refusal appear twice).
		return &SubjectNotAllowedError{Subject: dn, CommonName: name.CommonName}
	}
}

package mtls

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Kind says what is wrong with a certificate, key or CA bundle.
type Kind int

const (
	// KindUnreadable: the file could not be read (missing, permissions).
	// Err wraps the os error, so errors.Is(err, fs.ErrNotExist) works.
	KindUnreadable Kind = iota + 1
	// KindNoCertificate: no CERTIFICATE block in the certificate PEM.
	KindNoCertificate
	// KindNoPrivateKey: no private key block in the key PEM.
	KindNoPrivateKey
	// KindMalformed: a block is there but does not parse (bad DER, an
	// encrypted or unsupported key type).
	KindMalformed
	// KindKeyMismatch: the private key does not belong to the leaf certificate.
	KindKeyMismatch
	// KindExpired: the leaf certificate's NotAfter has passed.
	KindExpired
	// KindNotYetValid: the leaf certificate's NotBefore is in the future.
	KindNotYetValid
	// KindEmptyCABundle: a CA bundle holds no certificates.
	KindEmptyCABundle
)

func (k Kind) String() string {
	switch k {
	case KindUnreadable:
		return "unreadable file"
	case KindNoCertificate:
		return "no certificate"
	case KindNoPrivateKey:
		return "no private key"
	case KindMalformed:
		return "malformed"
	case KindKeyMismatch:
		return "private key does not match certificate"
	case KindExpired:
		return "certificate expired"
	case KindNotYetValid:
		return "certificate not yet valid"
	case KindEmptyCABundle:
		return "empty CA bundle"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// CertificateError reports a certificate, key or CA bundle that cannot be
// used. Inspect it with errors.As.
type CertificateError struct {
	Kind Kind
	// Path is the file concerned; empty when loading from bytes.
	Path string
	// Subject is the leaf certificate's subject DN when it was parsed.
	Subject string
	// NotBefore and NotAfter are set for KindExpired and KindNotYetValid.
	NotBefore, NotAfter time.Time
	// Err is the underlying error, if any.
	Err error
}

func (e *CertificateError) Error() string {
	var b strings.Builder
	b.WriteString("mtls: ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Kind.String())
	switch e.Kind {
	case KindExpired:
		fmt.Fprintf(&b, " at %s", e.NotAfter.UTC().Format(time.RFC3339))
	case KindNotYetValid:
		fmt.Fprintf(&b, " before %s", e.NotBefore.UTC().Format(time.RFC3339))
	}
	if e.Subject != "" {
		fmt.Fprintf(&b, " (subject %q)", e.Subject)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *CertificateError) Unwrap() error { return e.Err }

// IsKind reports whether err is or wraps a *CertificateError of kind k.
func IsKind(err error, k Kind) bool {
	var ce *CertificateError
	return errors.As(err, &ce) && ce.Kind == k
}

// SubjectNotAllowedError is returned by the handshake when the peer's leaf
// certificate is valid but its subject is not on the allow-list given with
// WithAllowedSubjects.
type SubjectNotAllowedError struct {
	// Subject is the refused certificate's subject DN as pkix.Name.String
	// writes it (RFC 2253 order, e.g. "CN=gw.example,O=Example,C=NL"):
	// the exact string an allow-list entry must be to match it.
	Subject string
	// CommonName is the refused certificate's subject CN.
	CommonName string
}

func (e *SubjectNotAllowedError) Error() string {
	return fmt.Sprintf("mtls: peer certificate subject %q is not on the allow-list", e.Subject)
}

// errNoPeerCertificate is returned by the allow-list check when the peer
// presented no certificate at all (only possible when client authentication
// is relaxed by a caller-modified config).
var errNoPeerCertificate = errors.New("mtls: peer presented no certificate")

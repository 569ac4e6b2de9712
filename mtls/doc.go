// Package mtls builds the mutual-TLS configurations esimgw needs: the client
// side that calls a gateway's ES2/ES4 endpoints and the server side that
// receives its callbacks and notifications: KPN requires mTLS both ways and one client certificate rotated
// without a restart (docs/kpn.md R2, R3, R4).
//
// # Certificates
//
// A *Source supplies the local certificate chain and key. NewFileSource
// reads PEM files and follows rotation: every handshake stats the files and
// reloads them when they changed, so writing a renewed certificate and key
// to disk takes effect on the next handshake, with no restart. A rotation
// that does not load (a half-written file, a key that does not match the
// certificate, an expired certificate) is logged once and the previous
// certificate stays in service. NewStaticSource takes PEM bytes.
//
// Loading refuses, with a *CertificateError whose Kind says why: an
// unreadable file, no certificate, no private key, a malformed block, a key
// that does not match the leaf, and a leaf that has expired or is not yet
// valid (AllowExpired relaxes the last two). Sources report expiry
// (NotAfter, ExpiresWithin) and log a warning once the certificate is within
// DefaultExpiryWarning (30 days, WithExpiryWarning) of expiring. That
// check runs at load and on handshakes; a process that may sit idle for
// weeks should also poll ExpiresWithin (from a health check, say).
//
// # Configs
//
// ClientConfig presents the Source's certificate and verifies the server
// against the system roots, or a pinned bundle with WithRootCAs (LoadCAPool,
// CAPoolFromPEM). ServerConfig requires and verifies a client certificate
// against a client-CA pool (tls.RequireAndVerifyClientCert) unless
// WithoutClientAuth is given. WithAllowedSubjects pins the peer's subject CN
// or DN on either side; a refused peer fails the handshake with a
// *SubjectNotAllowedError. Both sides require TLS 1.2 or later and never skip
// verification.
//
// Package mtls/mtlstest makes throw-away CAs and certificates for tests.
package mtls

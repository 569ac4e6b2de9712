package mtls

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultExpiryWarning is how long before NotAfter a Source starts warning
// that its certificate expires, unless WithExpiryWarning says otherwise.
const DefaultExpiryWarning = 30 * 24 * time.Hour

// SourceOption configures NewFileSource and NewStaticSource.
type SourceOption func(*sourceOptions)

type sourceOptions struct {
	logger       *slog.Logger
	warnWithin   time.Duration
	allowExpired bool
	now          func() time.Time
}

// WithLogger sets the logger for reloads, refused rotations and expiry
// warnings. Without it slog.Default() is used at the time of logging.
func WithLogger(l *slog.Logger) SourceOption {
	return func(o *sourceOptions) { o.logger = l }
}

// WithExpiryWarning sets how long before NotAfter the Source logs a warning
// (once per loaded certificate; another, once, when it has expired). Zero
// or a negative window turns the warnings off. Default DefaultExpiryWarning.
func WithExpiryWarning(window time.Duration) SourceOption {
	return func(o *sourceOptions) { o.warnWithin = window }
}

// AllowExpired accepts a leaf certificate outside its validity window
// (expired or not yet valid) instead of refusing it with KindExpired or
// KindNotYetValid. Peers will still refuse it; this is for tests.
func AllowExpired() SourceOption {
	return func(o *sourceOptions) { o.allowExpired = true }
}

// Source supplies the local certificate to TLS handshakes. A file-backed
// Source (NewFileSource) stats its files on every handshake and reloads them
// when their modification time, size or identity changed, so a rotated
// certificate is served from the next handshake on without a restart. If the
// new files do not load (half-written, key and certificate not matching,
// expired), the previous certificate keeps being served and the failure is
// logged once per version of the files.
//
// A Source is safe for concurrent use. Use it with ClientConfig or
// ServerConfig, or plug GetCertificate / GetClientCertificate into a
// tls.Config of your own.
type Source struct {
	certFile, keyFile string // empty for a static source
	opts              sourceOptions

	cur atomic.Pointer[loaded]

	mu  sync.Mutex // serialises reloads and guards rej
	rej rejection

	statFailing atomic.Bool // a stat failed and was logged; reset by a good stat
}

// loaded is one certificate and the file versions it was read from.
type loaded struct {
	cert          *tls.Certificate
	certFI, keyFI os.FileInfo
	// expiryLogged: 0 nothing yet, 1 "expires soon" logged, 2 "expired" logged.
	expiryLogged atomic.Int32
}

// rejection remembers the file versions that failed to load, so the failure
// is logged once and not retried on every handshake.
type rejection struct {
	certFI, keyFI os.FileInfo
	retryAt       time.Time // for not-yet-valid certificates: try again then
}

// NewFileSource loads a PEM certificate chain (leaf first) and a PEM private
// key (PKCS#8, PKCS#1 or SEC 1; certFile and keyFile may be the same file)
// and watches them for rotation. Errors are *CertificateError.
func NewFileSource(certFile, keyFile string, opts ...SourceOption) (*Source, error) {
	if certFile == "" || keyFile == "" {
		return nil, &CertificateError{Kind: KindUnreadable, Err: errors.New("certificate and key file names are required")}
	}
	s := &Source{certFile: certFile, keyFile: keyFile, opts: collectSourceOptions(opts)}
	l, err := s.load()
	if err != nil {
		return nil, err
	}
	s.cur.Store(l)
	s.checkExpiry(l)
	return s, nil
}

// NewStaticSource uses a PEM certificate chain and private key held in
// memory; it never reloads. Errors are *CertificateError with an empty Path.
func NewStaticSource(certPEM, keyPEM []byte, opts ...SourceOption) (*Source, error) {
	s := &Source{opts: collectSourceOptions(opts)}
	cert, err := keyPair(certPEM, keyPEM, "", "", s.opts.now(), s.opts.allowExpired)
	if err != nil {
		return nil, err
	}
	l := &loaded{cert: cert}
	s.cur.Store(l)
	s.checkExpiry(l)
	return s, nil
}

func collectSourceOptions(opts []SourceOption) sourceOptions {
	o := sourceOptions{warnWithin: DefaultExpiryWarning, now: time.Now}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}

var errNilSource = errors.New("mtls: nil Source")

// Certificate returns the current certificate, first reloading the files if
// they changed since the last load. The returned value must not be modified.
// Once a Source is constructed this does not fail: a file that vanished or
// a rotation that does not load leaves the previous certificate in place.
func (s *Source) Certificate() (*tls.Certificate, error) {
	if s == nil || s.cur.Load() == nil {
		return nil, errNilSource
	}
	l := s.current()
	s.checkExpiry(l)
	return l.cert, nil
}

// GetCertificate has the signature of tls.Config.GetCertificate.
func (s *Source) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return s.Certificate()
}

// GetClientCertificate has the signature of tls.Config.GetClientCertificate.
// The certificate is sent whatever CAs the server says it accepts.
func (s *Source) GetClientCertificate(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return s.Certificate()
}

// Leaf returns the parsed leaf of the current certificate (after a reload
// check, like Certificate), or nil for a nil Source.
func (s *Source) Leaf() *x509.Certificate {
	c, err := s.Certificate()
	if err != nil {
		return nil
	}
	return c.Leaf
}

// NotAfter returns the expiry of the current certificate (after a reload
// check, like Certificate); zero for a nil Source.
func (s *Source) NotAfter() time.Time {
	if leaf := s.Leaf(); leaf != nil {
		return leaf.NotAfter
	}
	return time.Time{}
}

// ExpiresWithin reports whether the current certificate's NotAfter is less
// than d from now (true too when it has already expired).
func (s *Source) ExpiresWithin(d time.Duration) bool {
	na := s.NotAfter()
	if na.IsZero() {
		return false
	}
	return !s.opts.now().Add(d).Before(na)
}

// Reload loads the files now, whether or not they changed, and reports why
// they cannot be used if so (the current certificate is then kept). For a
// static Source it does nothing.
func (s *Source) Reload() error {
	if s == nil || s.cur.Load() == nil {
		return errNilSource
	}
	if s.certFile == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.load()
	if err != nil {
		s.reject(l, err)
		return err
	}
	s.accept(l)
	return nil
}

// current returns the loaded certificate, reloading first if the files
// changed. Hot path: two stats and a few comparisons.
func (s *Source) current() *loaded {
	l := s.cur.Load()
	if s.certFile == "" {
		return l
	}
	cfi, kfi, err := s.stat()
	if err != nil {
		if s.statFailing.CompareAndSwap(false, true) {
			s.logger().Warn("mtls: cannot stat certificate files; keeping the current certificate",
				s.fileAttrs(), slog.Any("error", err), certAttrs(l.cert))
		}
		return l
	}
	if s.statFailing.Load() {
		s.statFailing.Store(false)
	}
	if sameFile(l.certFI, cfi) && sameFile(l.keyFI, kfi) {
		return l
	}
	return s.reloadSlow(cfi, kfi)
}

func (s *Source) stat() (cfi, kfi os.FileInfo, err error) {
	cfi, err = os.Stat(s.certFile)
	if err != nil {
		return nil, nil, err
	}
	if s.keyFile == s.certFile {
		return cfi, cfi, nil
	}
	kfi, err = os.Stat(s.keyFile)
	if err != nil {
		return nil, nil, err
	}
	return cfi, kfi, nil
}

func (s *Source) reloadSlow(cfi, kfi os.FileInfo) *loaded {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.cur.Load()
	if sameFile(l.certFI, cfi) && sameFile(l.keyFI, kfi) {
		return l // another handshake reloaded meanwhile
	}
	if sameFile(s.rej.certFI, cfi) && sameFile(s.rej.keyFI, kfi) &&
		(s.rej.retryAt.IsZero() || s.opts.now().Before(s.rej.retryAt)) {
		return l // already refused this version and logged it
	}
	nl, err := s.load()
	if err != nil {
		s.reject(nl, err)
		s.logger().Warn("mtls: new certificate files do not load; keeping the current certificate",
			s.fileAttrs(), slog.Any("error", err), certAttrs(l.cert))
		return l
	}
	s.accept(nl)
	s.logger().Info("mtls: certificate reloaded", s.fileAttrs(), certAttrs(nl.cert))
	s.checkExpiry(nl)
	return nl
}

// load stats then reads both files. On error the returned *loaded carries
// the file versions (for the rejection), with a nil cert.
func (s *Source) load() (*loaded, error) {
	cfi, kfi, err := s.stat()
	if err != nil {
		path := s.certFile
		var pe *os.PathError
		if errors.As(err, &pe) {
			path = pe.Path
		}
		return &loaded{}, &CertificateError{Kind: KindUnreadable, Path: path, Err: err}
	}
	l := &loaded{certFI: cfi, keyFI: kfi}
	certPEM, err := os.ReadFile(s.certFile)
	if err != nil {
		return l, &CertificateError{Kind: KindUnreadable, Path: s.certFile, Err: err}
	}
	keyPEM := certPEM
	if s.keyFile != s.certFile {
		if keyPEM, err = os.ReadFile(s.keyFile); err != nil {
			return l, &CertificateError{Kind: KindUnreadable, Path: s.keyFile, Err: err}
		}
	}
	if l.cert, err = keyPair(certPEM, keyPEM, s.certFile, s.keyFile, s.opts.now(), s.opts.allowExpired); err != nil {
		return l, err
	}
	return l, nil
}

// accept installs l; s.mu held.
func (s *Source) accept(l *loaded) {
	s.cur.Store(l)
	s.rej = rejection{}
}

// reject remembers the versions of the files that failed; s.mu held.
func (s *Source) reject(l *loaded, err error) {
	s.rej = rejection{certFI: l.certFI, keyFI: l.keyFI}
	var ce *CertificateError
	if errors.As(err, &ce) && ce.Kind == KindNotYetValid {
		s.rej.retryAt = ce.NotBefore
	}
}

// checkExpiry logs, once per loaded certificate, that it expires soon, and
// once more when it has expired.
func (s *Source) checkExpiry(l *loaded) {
	if s.opts.warnWithin <= 0 || l.expiryLogged.Load() >= 2 {
		return
	}
	now := s.opts.now()
	na := l.cert.Leaf.NotAfter
	switch {
	case now.After(na):
		if l.expiryLogged.Swap(2) < 2 {
			s.logger().Error("mtls: certificate has expired; peers will refuse it", s.fileAttrs(), certAttrs(l.cert))
		}
	case !now.Add(s.opts.warnWithin).Before(na):
		if l.expiryLogged.CompareAndSwap(0, 1) {
			s.logger().Warn("mtls: certificate expires soon", s.fileAttrs(), certAttrs(l.cert),
				slog.Duration("remaining", na.Sub(now).Round(time.Second)))
		}
	}
}

func (s *Source) logger() *slog.Logger {
	if s.opts.logger != nil {
		return s.opts.logger
	}
	return slog.Default()
}

func (s *Source) fileAttrs() slog.Attr {
	if s.certFile == "" {
		return slog.Group("files", slog.Bool("static", true))
	}
	return slog.Group("files", slog.String("cert", s.certFile), slog.String("key", s.keyFile))
}

func certAttrs(c *tls.Certificate) slog.Attr {
	if c == nil || c.Leaf == nil {
		return slog.Group("certificate")
	}
	return slog.Group("certificate",
		slog.String("subject", c.Leaf.Subject.String()),
		slog.String("serial", c.Leaf.SerialNumber.Text(16)),
		slog.Time("not_after", c.Leaf.NotAfter))
}

// sameFile reports whether b is the version of the file a was: same file
// (device and inode, so a rename over it counts as a change), same size,
// same modification time.
func sameFile(a, b os.FileInfo) bool {
	return a != nil && b != nil && os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

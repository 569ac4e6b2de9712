package soap

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/xml"
	"errors"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Outcome says what a failed call may have done at the peer. It is the one question a caller must answer
// before trying again: calling again with a new FunctionCallIdentifier after an OutcomeUnknown may run
// the function twice. The rule (docs/delivery.md): retry a NotSent or a Refused call freely; retry an
// OutcomeUnknown only with the same FunctionCallIdentifier (so that the gateway can recognise it), or
// audit the eUICC first.
type Outcome uint8

const (
	// OutcomeUnknown: the request may have been read and executed: the connection failed, or an attempt
	// or the caller's deadline ended, after the request was written; or a proxy answered 502/504 for a
	// gateway that may have run it; or a 2xx answer could not be read. It is the zero value, so an error
	// that says nothing else is never taken for a safe one.
	OutcomeUnknown Outcome = iota
	// NotSent: the request was never completely written (nothing left this process, or the connection,
	// TLS handshake or write failed before its last byte), so no peer can have executed it.
	NotSent
	// Refused: the peer answered and did not accept the request (a 3xx, 4xx, 500, 501 or 503 status, or a
	// SOAP fault): it was not executed.
	Refused
)

func (o Outcome) String() string {
	switch o {
	case OutcomeUnknown:
		return "outcome unknown"
	case NotSent:
		return "not sent"
	case Refused:
		return "refused"
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// Sentinels for errors.Is on a *CallError, one per Outcome.
var (
	// ErrNotSent: the request never reached the peer; calling again is safe.
	ErrNotSent = errors.New("soap: request not sent")
	// ErrRefused: the peer answered and refused the request; it was not executed.
	ErrRefused = errors.New("soap: request refused by the peer")
	// ErrOutcomeUnknown: the request may have been executed; call again only with the same
	// FunctionCallIdentifier, or audit first.
	ErrOutcomeUnknown = errors.New("soap: request outcome unknown")
)

// Sentinel returns the sentinel error of o.
func (o Outcome) Sentinel() error {
	switch o {
	case NotSent:
		return ErrNotSent
	case Refused:
		return ErrRefused
	}
	return ErrOutcomeUnknown
}

// sendError is a Transport failure that knows whether the request was written completely. Its Unwrap
// keeps the cause (a context error, a TimeoutError, a net.OpError) inspectable.
type sendError struct {
	written bool
	err     error
}

func (e *sendError) Error() string { return e.err.Error() }
func (e *sendError) Unwrap() error { return e.err }

// Timeout keeps the cause's Timeout visible to url.Error, which asks the error it wraps directly.
func (e *sendError) Timeout() bool {
	var t interface{ Timeout() bool }
	return errors.As(e.err, &t) && t.Timeout()
}

// notWritten marks a Transport error that happened before the request was written.
func notWritten(err error) error { return &sendError{written: false, err: err} }

// attemptTrace records, for round trippers this package did not write (net/http's Transport behind
// WithHTTPClient), how far an attempt got, through net/http/httptrace.
type attemptTrace struct {
	mu       sync.Mutex
	gotConn  bool
	wrote    bool  // WroteRequest was called
	writeErr error // its error
	headers  bool  // WroteHeaders was called
}

func (a *attemptTrace) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GotConn: func(httptrace.GotConnInfo) { a.mu.Lock(); a.gotConn = true; a.mu.Unlock() },
		WroteHeaders: func() {
			a.mu.Lock()
			a.headers = true
			a.mu.Unlock()
		},
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			a.mu.Lock()
			a.wrote, a.writeErr = true, i.Err
			a.mu.Unlock()
		},
	}
}

// transportOutcome classifies an attempt that ended without an answer (no status line read).
func transportOutcome(err error, tr *attemptTrace) Outcome {
	var se *sendError
	if errors.As(err, &se) {
		if se.written {
			return OutcomeUnknown
		}
		return NotSent
	}
	if tr != nil {
		tr.mu.Lock()
		gotConn, headers, wrote, werr := tr.gotConn, tr.headers, tr.wrote, tr.writeErr
		tr.mu.Unlock()
		switch {
		case wrote && werr != nil:
			return NotSent // the write failed before its end: no peer has the whole request
		case wrote || headers:
			return OutcomeUnknown
		case gotConn:
			// net/http reports WroteHeaders before a body write can fail; with neither, nothing was
			// written on the connection.
			return NotSent
		}
	}
	if neverConnected(err) {
		return NotSent
	}
	// A round tripper that reports nothing: the request may have left.
	return OutcomeUnknown
}

// neverConnected reports errors that only happen before a request is written: dialling, name lookup,
// the TLS handshake (and a peer's refusal of our certificate, which TLS 1.3 reports on the first read
// after the handshake, before the peer reads any request).
func neverConnected(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	return certificateFailure(err) != ""
}

// certificateFailure names what is wrong when err is a TLS certificate failure, which no retry can cure:
// "" for any other error.
func certificateFailure(err error) string {
	var (
		ua  x509.UnknownAuthorityError
		ci  x509.CertificateInvalidError
		hn  x509.HostnameError
		cve *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &ua):
		return "the gateway's certificate is not signed by a CA this client trusts: give the gateway's CA with mtls.WithRootCAs (the CLI's -ca flag)"
	case errors.As(err, &ci) && ci.Reason == x509.Expired:
		return "the gateway's certificate is expired or not yet valid (check this host's clock): the gateway must renew it"
	case errors.As(err, &ci):
		return "the gateway's certificate is not valid for a TLS server: check the CA given with mtls.WithRootCAs (the CLI's -ca flag)"
	case errors.As(err, &hn):
		return "the gateway's certificate does not name the host called: use the name it was issued for in the endpoint, or mtls.WithServerName"
	case errors.As(err, &cve):
		return "the gateway's certificate could not be verified: give its CA with mtls.WithRootCAs (the CLI's -ca flag)"
	}
	// The peer's alert: crypto/tls reports it as a net.OpError "remote error" around an unexported alert
	// value whose text names it ("tls: bad certificate", "tls: unknown certificate authority", "tls:
	// certificate required"...). A handshake the peer failed means it read no request.
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "remote error" && op.Err != nil && strings.Contains(op.Err.Error(), "certificate") {
		return "the gateway refused this client's certificate (" + op.Err.Error() + "): give the certificate registered with the gateway (mtls.ClientConfig with its Source; the CLI's -cert and -key flags), and check that it has not expired"
	}
	return ""
}

// statusOutcome classifies an answer with an error status.
func statusOutcome(status int) Outcome {
	switch status {
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		// A proxy or load balancer answered for a gateway that may have received the request, and even
		// executed it before the proxy gave up waiting.
		return OutcomeUnknown
	}
	return Refused
}

// retryAfter parses a Retry-After header: delay-seconds or an HTTP date. ok is false when it is absent or
// malformed.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseUint(v, 10, 31); err == nil {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// statusCodes finds the SGP.02 Subject and Reason codes a gateway may put in a fault's Detail (as a
// StatusCodeData element, in any namespace). Errors only: a malformed detail gives "", "".
func statusCodes(detail []byte) (subject, reason string) {
	if len(detail) == 0 || !bytes.Contains(detail, []byte("Subject")) {
		return "", ""
	}
	d := xml.NewDecoder(bytes.NewReader(detail))
	d.Strict = false
	var in string
	for {
		tok, err := d.Token()
		if err != nil {
			return subject, reason
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			in = tok.Name.Local
		case xml.CharData:
			switch in {
			case "Subject":
				if subject == "" {
					subject = strings.TrimSpace(string(tok))
				}
			case "Reason":
				if reason == "" {
					reason = strings.TrimSpace(string(tok))
				}
			}
		case xml.EndElement:
			in = ""
		}
		if subject != "" && reason != "" {
			return subject, reason
		}
	}
}

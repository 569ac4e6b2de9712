package soap

import (
	"bytes"
	"crypto/rand"
	"crypto/sha1" // PasswordDigest is defined over SHA-1 by the UsernameToken Profile 1.0; not our choice.
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/esimgw/esimgw/internal/xmltext"
)

// URIs of the WS-Security UsernameToken Profile 1.0.
const (
	PasswordTextType   = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"
	PasswordDigestType = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
	Base64BinaryType   = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)

// redacted replaces the password wherever a UsernameToken is printed.
const redacted = "[REDACTED]"

// UsernameToken is a WS-Security UsernameToken for outgoing calls (docs/kpn.md R5: optional, advised on
// function calls only). With Digest, the password travels as Base64(SHA-1(nonce ‖ created ‖ password));
// otherwise as PasswordText, which only the TLS tunnel protects.
//
// The password never leaves through fmt (every verb, %#v included), slog or encoding/json: the type
// redacts itself. fmt cannot call methods on unexported struct fields, though: a UsernameToken, or even a
// *UsernameToken (fmt's bad-verb path, e.g. %s, reflects through pointers), held in an unexported field
// prints in clear. Such holders should keep the method value t.AppendHeader instead, which fmt prints as
// an address.
type UsernameToken struct {
	Username string
	Password string
	Digest   bool
}

func (t UsernameToken) passwordShown() string {
	if t.Password == "" {
		return `""` // telling "no password configured" apart helps, and reveals nothing
	}
	return redacted
}

// String returns the token with the password redacted.
func (t UsernameToken) String() string {
	return "{" + t.Username + " " + t.passwordShown() + " " + strconv.FormatBool(t.Digest) + "}"
}

// GoString returns the token with the password redacted, for %#v.
func (t UsernameToken) GoString() string {
	return "soap.UsernameToken{Username:" + strconv.Quote(t.Username) + ", Password:" + strconv.Quote(t.passwordShown()) +
		", Digest:" + strconv.FormatBool(t.Digest) + "}"
}

// Format implements fmt.Formatter, so that no verb or flag (%v %+v %#v %s %q %x %d ...) reaches the
// fields through reflection.
func (t UsernameToken) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		_, _ = fmt.Fprint(f, t.GoString())
	case verb == 'v' && f.Flag('+'):
		_, _ = fmt.Fprint(f, "{Username:"+t.Username+" Password:"+t.passwordShown()+" Digest:"+strconv.FormatBool(t.Digest)+"}")
	case verb == 'v':
		_, _ = fmt.Fprint(f, t.String())
	default:
		_, _ = fmt.Fprintf(f, fmt.FormatString(f, verb), t.String())
	}
}

// LogValue implements slog.LogValuer.
func (t UsernameToken) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("username", t.Username),
		slog.String("password", t.passwordShown()),
		slog.Bool("digest", t.Digest),
	)
}

// MarshalJSON redacts the password too: slog's JSON handler and config dumps marshal structs that may
// contain a token. (Unmarshalling is the default and reads a real password.)
func (t UsernameToken) MarshalJSON() ([]byte, error) {
	b := append([]byte(nil), `{"Username":`...)
	b = strconv.AppendQuote(b, t.Username)
	b = append(b, `,"Password":`...)
	b = strconv.AppendQuote(b, t.passwordShown())
	b = append(b, `,"Digest":`...)
	b = strconv.AppendBool(b, t.Digest)
	return append(b, '}'), nil
}

// NonceSize is the nonce length AppendHeader draws when given none.
const NonceSize = 16

// createdLayout is wsu:Created: UTC with milliseconds, the form WSS4J and .NET peers write.
const createdLayout = "2006-01-02T15:04:05.000Z"

// AppendHeader appends the complete wsse:Security header block, marked env:mustUnderstand, declaring the
// wsse and wsu prefixes on itself (envelopes declare only env, wsa and rps). nonce should be fresh random
// bytes per message; when it is empty, AppendHeader draws NonceSize bytes from crypto/rand. With
// PasswordText the Nonce is written only when one is given; wsu:Created is always written.
func (t UsernameToken) AppendHeader(b []byte, now time.Time, nonce []byte) []byte {
	var own [NonceSize]byte
	if len(nonce) == 0 && t.Digest {
		_, _ = rand.Read(own[:]) // never fails since Go 1.24
		nonce = own[:]
	}
	var cbuf [len(createdLayout)]byte
	created := now.UTC().AppendFormat(cbuf[:0], createdLayout)

	b = append(b, `<wsse:Security env:mustUnderstand="true" xmlns:wsse="`...)
	b = append(b, NSWSSecurity...)
	b = append(b, `" xmlns:wsu="`...)
	b = append(b, NSWSSecurityUtility...)
	b = append(b, `"><wsse:UsernameToken><wsse:Username>`...)
	b = xmltext.AppendText(b, t.Username)
	b = append(b, `</wsse:Username><wsse:Password Type="`...)
	if t.Digest {
		b = append(b, PasswordDigestType...)
		b = append(b, `">`...)
		sum := passwordDigest(nonce, created, t.Password)
		b = base64.StdEncoding.AppendEncode(b, sum[:])
	} else {
		b = append(b, PasswordTextType...)
		b = append(b, `">`...)
		b = xmltext.AppendText(b, t.Password)
	}
	b = append(b, `</wsse:Password>`...)
	if len(nonce) > 0 {
		b = append(b, `<wsse:Nonce EncodingType="`...)
		b = append(b, Base64BinaryType...)
		b = append(b, `">`...)
		b = base64.StdEncoding.AppendEncode(b, nonce)
		b = append(b, `</wsse:Nonce>`...)
	}
	b = append(b, `<wsu:Created>`...)
	b = append(b, created...)
	return append(b, `</wsu:Created></wsse:UsernameToken></wsse:Security>`...)
}

// passwordDigest is SHA-1(nonce ‖ created ‖ password), over the exact Created text sent.
func passwordDigest(nonce, created []byte, password string) [sha1.Size]byte {
	h := sha1.New()
	h.Write(nonce)
	h.Write(created)
	h.Write([]byte(password))
	var sum [sha1.Size]byte
	h.Sum(sum[:0])
	return sum
}

// SecurityErrorKind says why a wsse:Security header was refused.
type SecurityErrorKind uint8

const (
	// SecurityMissing: no UsernameToken in the header.
	SecurityMissing SecurityErrorKind = iota + 1
	// SecurityMalformed: the token is not well formed (bad base64, bad Created, unknown password type,
	// several tokens).
	SecurityMalformed
	// SecurityBadCredentials: wrong username or password. Deliberately says no more.
	SecurityBadCredentials
	// SecurityDigestRequired: PasswordText sent where the verifier requires PasswordDigest.
	SecurityDigestRequired
	// SecurityExpired: Created is older than the verifier's MaxAge.
	SecurityExpired
	// SecurityFuture: Created is further in the future than the verifier's MaxSkew.
	SecurityFuture
)

func (k SecurityErrorKind) String() string {
	switch k {
	case SecurityMissing:
		return "no UsernameToken"
	case SecurityMalformed:
		return "malformed UsernameToken"
	case SecurityBadCredentials:
		return "invalid username or password"
	case SecurityDigestRequired:
		return "PasswordDigest required"
	case SecurityExpired:
		return "token expired"
	case SecurityFuture:
		return "token created in the future"
	}
	return "SecurityErrorKind(" + strconv.Itoa(int(k)) + ")"
}

// SecurityError is a refused wsse:Security header. Detail never holds credential material: it names a
// malformed field at most. A receiver answers it with a Sender fault (see Fault).
type SecurityError struct {
	Kind   SecurityErrorKind
	Detail string
}

func (e *SecurityError) Error() string {
	s := "soap: wsse: " + e.Kind.String()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Fault is the SOAP fault to answer e with: env:Sender. The WS-Security fault QNames (wsse:FailedAuthentication
// ...) are not used as subcodes because the envelope does not declare wsse; the reason names the kind.
func (e *SecurityError) Fault() *Fault {
	return &Fault{Code: FaultSender, Reason: "WS-Security: " + e.Kind.String()}
}

// Defaults of UsernameTokenVerifier.
const (
	// DefaultMaxAge is how old a Created may be: 5 minutes, WSS4J's default (Njiwa allows 6 h).
	DefaultMaxAge = 5 * time.Minute
	// DefaultMaxSkew is how far in the future a Created may be, for clock skew.
	DefaultMaxSkew = time.Minute
)

// UsernameTokenVerifier checks the wsse:Security header of an inbound request (the mock gateway's side of
// docs/kpn.md R5). It holds no state, so it does not detect a replayed nonce within MaxAge.
type UsernameTokenVerifier struct {
	// Expect holds the credentials; Expect.Digest refuses PasswordText. Expect prints redacted.
	Expect UsernameToken
	// MaxAge bounds the age of wsu:Created; zero means DefaultMaxAge.
	MaxAge time.Duration
	// MaxSkew bounds how far wsu:Created may be ahead of now; zero means DefaultMaxSkew.
	MaxSkew time.Duration
}

// receivedToken is what Verify reads from the header.
type receivedToken struct {
	username, password []byte // password: the text or the base64 digest as sent
	digest             bool
	nonce              []byte // decoded
	created            []byte // as sent: the digest covers the exact text
	hasCreated         bool
}

// Verify reads the wsse:Security element d is positioned on (consuming it) and checks its
// UsernameToken against v at time now. A Created is required. Errors are *SecurityError or, for broken
// XML, the decoder's error.
func (v *UsernameTokenVerifier) Verify(d *xmltext.Decoder, now time.Time) error {
	var (
		tok   receivedToken
		found bool
	)
	for {
		ok, err := d.NextChild()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if !d.LocalIs("UsernameToken") {
			if err := d.Skip(); err != nil {
				return err
			}
			continue
		}
		if found {
			return &SecurityError{Kind: SecurityMalformed, Detail: "more than one UsernameToken"}
		}
		found = true
		if err := readUsernameToken(d, &tok); err != nil {
			return err
		}
	}
	if !found {
		return &SecurityError{Kind: SecurityMissing}
	}
	return v.check(&tok, now)
}

func readUsernameToken(d *xmltext.Decoder, tok *receivedToken) error {
	for {
		ok, err := d.NextChild()
		if err != nil || !ok {
			return err
		}
		switch {
		case d.LocalIs("Username"):
			t, err := d.Text()
			if err != nil {
				return err
			}
			tok.username = bytes.Clone(bytes.TrimSpace(t))
		case d.LocalIs("Password"):
			typ, _ := d.Attr("", "Type")
			switch string(bytes.TrimSpace(typ)) {
			case "", PasswordTextType: // Type defaults to PasswordText
			case PasswordDigestType:
				tok.digest = true
			default:
				return &SecurityError{Kind: SecurityMalformed, Detail: "unsupported password type " + strconv.Quote(errValue(string(typ)))}
			}
			t, err := d.Text()
			if err != nil {
				return err
			}
			tok.password = bytes.Clone(t) // a text password's spaces are significant
		case d.LocalIs("Nonce"):
			enc, _ := d.Attr("", "EncodingType")
			if e := string(bytes.TrimSpace(enc)); e != "" && e != Base64BinaryType {
				return &SecurityError{Kind: SecurityMalformed, Detail: "unsupported nonce encoding " + strconv.Quote(errValue(e))}
			}
			t, err := d.Text()
			if err != nil {
				return err
			}
			if tok.nonce, err = base64.StdEncoding.AppendDecode(nil, bytes.TrimSpace(t)); err != nil {
				return &SecurityError{Kind: SecurityMalformed, Detail: "nonce is not base64"}
			}
		case d.LocalIs("Created"):
			t, err := d.Text()
			if err != nil {
				return err
			}
			tok.created, tok.hasCreated = bytes.Clone(t), true // the digest covers the text as sent
		default:
			if err := d.Skip(); err != nil {
				return err
			}
		}
	}
}

func (v *UsernameTokenVerifier) check(tok *receivedToken, now time.Time) error {
	if !tok.hasCreated {
		return &SecurityError{Kind: SecurityMalformed, Detail: "wsu:Created missing"}
	}
	created, err := parseXSDateTime(string(bytes.TrimSpace(tok.created)))
	if err != nil {
		return &SecurityError{Kind: SecurityMalformed, Detail: "wsu:Created is not an xs:dateTime"}
	}
	maxAge, maxSkew := v.MaxAge, v.MaxSkew
	if maxAge <= 0 {
		maxAge = DefaultMaxAge
	}
	if maxSkew <= 0 {
		maxSkew = DefaultMaxSkew
	}
	if now.Sub(created) > maxAge {
		return &SecurityError{Kind: SecurityExpired}
	}
	if created.Sub(now) > maxSkew {
		return &SecurityError{Kind: SecurityFuture}
	}
	if v.Expect.Digest && !tok.digest {
		return &SecurityError{Kind: SecurityDigestRequired}
	}
	// Compare everything, in constant time, before deciding: the error must not tell a wrong username
	// from a wrong password, nor how much of either matched.
	userOK := subtle.ConstantTimeCompare(tok.username, []byte(v.Expect.Username))
	var passOK int
	if tok.digest {
		sent := make([]byte, 0, sha1.Size)
		sent, err := base64.StdEncoding.AppendDecode(sent, bytes.TrimSpace(tok.password))
		if err != nil {
			return &SecurityError{Kind: SecurityMalformed, Detail: "password digest is not base64"}
		}
		want := passwordDigest(tok.nonce, tok.created, v.Expect.Password)
		passOK = subtle.ConstantTimeCompare(sent, want[:])
	} else {
		passOK = subtle.ConstantTimeCompare(tok.password, []byte(v.Expect.Password))
	}
	if userOK&passOK != 1 || v.Expect.Username == "" {
		return &SecurityError{Kind: SecurityBadCredentials}
	}
	return nil
}

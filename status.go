package esimgw

import (
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Status is a FunctionExecutionStatus/Status value. The four wire values are
// the constants below; the local values of outcome.go never come off the wire.
type Status string

// The StatusType enumeration (docs/wire.md section 6.1).
const (
	StatusExecutedSuccess     Status = "EXECUTED_SUCCESS"
	StatusExecutedWithWarning Status = "EXECUTED_WITHWARNING"
	StatusFailed              Status = "FAILED"
	StatusExpired             Status = "EXPIRED"
)

// Sentinels for errors.Is on a *FunctionError.
var (
	// ErrFailed matches a *FunctionError whose status is FAILED.
	ErrFailed = errors.New("esimgw: function execution failed")
	// ErrExpired matches a *FunctionError whose status is EXPIRED (the
	// provider's validity period ran out). A FAILED status with reason 5.3
	// is not ErrExpired; test the Reason for that.
	ErrExpired = errors.New("esimgw: function execution expired")
	// ErrUnknownStatus matches a *FunctionError whose status is none of the
	// four wire values (it is treated as a failure).
	ErrUnknownStatus = errors.New("esimgw: unknown function execution status")
)

// ParseStatus returns the wire value for s. Besides the exact wire spelling it
// tolerates case, surrounding spaces and the hyphenated prose / SGP.22
// spellings ("Executed-Success", "Executed-WithWarning", "Failed", "Expired").
// For anything else it returns Status(s) unchanged and false.
func ParseStatus(s string) (Status, bool) {
	switch Status(s) {
	case StatusExecutedSuccess, StatusExecutedWithWarning, StatusFailed, StatusExpired:
		return Status(s), true
	}
	var buf [24]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-' || c == '_' || c == ' ' || c == '\t' || c == '\r' || c == '\n':
			continue
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		}
		if n == len(buf) {
			return Status(s), false
		}
		buf[n] = c
		n++
	}
	switch string(buf[:n]) {
	case "EXECUTEDSUCCESS":
		return StatusExecutedSuccess, true
	case "EXECUTEDWITHWARNING":
		return StatusExecutedWithWarning, true
	case "FAILED":
		return StatusFailed, true
	case "EXPIRED":
		return StatusExpired, true
	}
	return Status(s), false
}

// Canonical returns the wire spelling of s (see ParseStatus), or s unchanged
// when it is not a wire value.
func (s Status) Canonical() Status {
	c, _ := ParseStatus(string(s))
	return c
}

// IsWire reports whether s is (a tolerated spelling of) one of the four wire values.
func (s Status) IsWire() bool {
	_, ok := ParseStatus(string(s))
	return ok
}

// Succeeded reports whether s is EXECUTED_SUCCESS or EXECUTED_WITHWARNING.
func (s Status) Succeeded() bool {
	c := s.Canonical()
	return c == StatusExecutedSuccess || c == StatusExecutedWithWarning
}

// String returns the status as given.
func (s Status) String() string { return string(s) }

// ExecutionStatus is the wire's FunctionExecutionStatus flattened: Status plus
// the optional StatusCodeData. Subject, Reason, SubjectIdentifier and Message
// are kept exactly as received: real peers put names, or each other's values,
// in these fields, so nothing here insists that Subject or Reason is an OID.
type ExecutionStatus struct {
	Status            Status
	Subject           string
	Reason            string
	SubjectIdentifier string
	Message           string
}

// Err returns nil when the status is EXECUTED_SUCCESS or EXECUTED_WITHWARNING
// (see Warning), and a *FunctionError for iface ("ES2", "ES4") and function
// ("EnableProfile") otherwise: FAILED, EXPIRED, and any unknown or empty status.
func (s ExecutionStatus) Err(iface, function string) error {
	if s.Status.Succeeded() {
		return nil
	}
	return &FunctionError{Interface: iface, Function: function, ExecutionStatus: s}
}

// Warning returns the warning a result should carry: non-nil only for
// EXECUTED_WITHWARNING.
func (s ExecutionStatus) Warning() *Warning {
	if s.Status.Canonical() != StatusExecutedWithWarning {
		return nil
	}
	w := Warning(s)
	return &w
}

// Description returns DescribeCode(s.Subject, s.Reason).
func (s ExecutionStatus) Description() string { return DescribeCode(s.Subject, s.Reason) }

// Code returns "Subject,Reason" (e.g. "8.2.1,3.9", the euiccStatusCode form
// REST platforms show), or "" when both are empty.
func (s ExecutionStatus) Code() string {
	if s.Subject == "" && s.Reason == "" {
		return ""
	}
	return s.Subject + "," + s.Reason
}

// String formats the status like FunctionError.Error without the function prefix.
func (s ExecutionStatus) String() string {
	var b strings.Builder
	s.appendText(&b)
	return b.String()
}

// appendText writes `FAILED: 8.2.1/3.9 Profile ICCID: unknown (subject 8931...): message`.
func (s ExecutionStatus) appendText(b *strings.Builder) {
	st := string(s.Status)
	if st == "" {
		st = "(no status)"
	}
	b.WriteString(clean(st, 64))
	if s.Subject != "" || s.Reason != "" {
		b.WriteString(": ")
		b.WriteString(clean(s.Subject, 64))
		b.WriteByte('/')
		b.WriteString(clean(s.Reason, 64))
		if knownCode(s.Subject, s.Reason) {
			b.WriteByte(' ')
			b.WriteString(clean(s.Description(), 128))
		}
	}
	if s.SubjectIdentifier != "" {
		b.WriteString(" (subject ")
		b.WriteString(clean(s.SubjectIdentifier, 64))
		b.WriteByte(')')
	}
	if s.Message != "" {
		b.WriteString(": ")
		b.WriteString(clean(s.Message, 512))
	}
}

// clean makes a peer-supplied value safe for a one-line message: control
// characters become spaces, invalid UTF-8 is replaced, and the result is cut
// to about max bytes.
func clean(s string, max int) string {
	ok := len(s) <= max && utf8.ValidString(s)
	if ok {
		for i := 0; i < len(s); i++ {
			if s[i] < 0x20 || s[i] == 0x7f {
				ok = false
				break
			}
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= max {
			b.WriteString("...")
			break
		}
		if unicode.IsControl(r) {
			r = ' '
		}
		b.WriteRune(r) // utf8.RuneError for invalid bytes
	}
	return b.String()
}

// Warning is an EXECUTED_WITHWARNING status: the function succeeded, and
// results carry the warning's codes and message (nil when there was none).
type Warning ExecutionStatus

// String formats the warning like ExecutionStatus.String.
func (w *Warning) String() string { return ExecutionStatus(*w).String() }

// Description returns DescribeCode(w.Subject, w.Reason).
func (w *Warning) Description() string { return DescribeCode(w.Subject, w.Reason) }

// FunctionError is a function's FAILED or EXPIRED answer (or an unknown
// status), whether it came in a callback or in a synchronous response. Use
// errors.Is with ErrFailed / ErrExpired, errors.As to read the fields.
type FunctionError struct {
	Interface string // "ES2" or "ES4"
	Function  string // "EnableProfile"
	ExecutionStatus

	// FunctionCallIdentifier of the failed call, when the caller knows it.
	FunctionCallIdentifier string
	// AcceptableValidityPeriod is what the provider would accept when it
	// refused the requested ValidityPeriod (BaseResponseType); zero if absent.
	AcceptableValidityPeriod time.Duration
	// EuiccResponseData is the eUICC's detailed error data (ES4 Enable,
	// Disable, Delete responses), raw; nil if absent.
	EuiccResponseData []byte
}

// Error reads like
// `ES4 EnableProfile: FAILED: 8.2.1/3.9 Profile ICCID: unknown (subject 8931...): message`.
// Peer-supplied text is shown raw except that control characters are
// replaced and very long values cut.
func (e *FunctionError) Error() string {
	var b strings.Builder
	switch {
	case e.Interface != "" && e.Function != "":
		b.WriteString(clean(e.Interface, 16))
		b.WriteByte(' ')
		b.WriteString(clean(e.Function, 64))
		b.WriteString(": ")
	case e.Interface != "" || e.Function != "":
		b.WriteString(clean(e.Interface+e.Function, 64))
		b.WriteString(": ")
	default:
		b.WriteString("esimgw: ")
	}
	e.ExecutionStatus.appendText(&b)
	return b.String()
}

// Is makes errors.Is(err, ErrFailed), errors.Is(err, ErrExpired) and
// errors.Is(err, ErrUnknownStatus) work by status.
func (e *FunctionError) Is(target error) bool {
	switch target {
	case ErrFailed:
		return e.Status.Canonical() == StatusFailed
	case ErrExpired:
		return e.Status.Canonical() == StatusExpired
	case ErrUnknownStatus:
		return !e.Status.IsWire()
	}
	return false
}

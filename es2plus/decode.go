package es2plus

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Header is the ES2+ request header.
type Header struct {
	FunctionRequesterIdentifier string `json:"functionRequesterIdentifier"`
	FunctionCallIdentifier      string `json:"functionCallIdentifier"`
}

// StatusCodeData details a status (subject and reason codes are SGP.22's
// "8.1"-style strings, kept raw).
type StatusCodeData struct {
	SubjectCode       string `json:"subjectCode"`
	ReasonCode        string `json:"reasonCode"`
	SubjectIdentifier string `json:"subjectIdentifier,omitempty"`
	Message           string `json:"message,omitempty"`
}

// NotificationPointStatus is the outcome of the reported step.
type NotificationPointStatus struct {
	Status         Status          `json:"status"`
	StatusCodeData *StatusCodeData `json:"statusCodeData,omitempty"`
}

// DownloadProgressInfo is one HandleDownloadProgressInfo notification.
type DownloadProgressInfo struct {
	Header                  Header
	EID                     string // "" when absent
	ICCID                   string // as received (may carry 'F' padding); see NormalizedICCID
	ProfileType             string
	Timestamp               time.Time
	NotificationPointID     NotificationPoint
	NotificationPointStatus NotificationPointStatus

	// ResultData holds the decoded base64 of resultData (the DER of
	// ProfileInstallationResultData or ProfileInstallationResult), nil when
	// absent. It is always kept, whether or not it parses.
	ResultData []byte
	// Result is ResultData parsed; nil when absent or unparsable.
	Result *ProfileInstallationResult
	// ResultErr is why ResultData did not parse (a *ResultDataError). A
	// notification with unparsable resultData is still valid.
	ResultErr error

	// Extra holds every top-level field this package does not know (imei,
	// tac, vendor fields), raw.
	Extra map[string]json.RawMessage
	// Quirks lists the non-standard forms accepted while decoding (for
	// logs): "timeStamp", "timestamp-epoch", "notificationPointId-string",
	// "iccid-padded".
	Quirks []string
}

// NormalizedICCID returns the ICCID without 'F' padding, upper-cased.
func (n *DownloadProgressInfo) NormalizedICCID() string { return normalizeICCID(n.ICCID) }

func normalizeICCID(s string) string { return strings.ToUpper(strings.TrimRight(s, "fF")) }

// Errors wrapped by *FieldError, for errors.Is.
var (
	ErrMissing = errors.New("required field missing")
	ErrInvalid = errors.New("invalid value")
)

// FieldError reports a field that breaks a rule. Field is the JSON path
// ("iccid", "header.functionCallIdentifier", "notificationPointStatus.status").
type FieldError struct {
	Field  string
	Reason string // human-readable
	Err    error  // ErrMissing or ErrInvalid
}

func (e *FieldError) Error() string {
	if e.Reason == "" {
		return "es2plus: " + e.Field + ": " + e.Err.Error()
	}
	return "es2plus: " + e.Field + ": " + e.Err.Error() + ": " + e.Reason
}

func (e *FieldError) Unwrap() error { return e.Err }

// SyntaxError reports a body that is not a JSON object.
type SyntaxError struct{ Err error }

func (e *SyntaxError) Error() string { return "es2plus: malformed JSON: " + e.Err.Error() }
func (e *SyntaxError) Unwrap() error { return e.Err }

func missing(field string) error { return &FieldError{Field: field, Err: ErrMissing} }
func invalid(field, format string, a ...any) error {
	return &FieldError{Field: field, Err: ErrInvalid, Reason: fmt.Sprintf(format, a...)}
}

// Decode parses and validates a HandleDownloadProgressInfo body. Field rules
// break with a *FieldError, malformed JSON with a *SyntaxError. It accepts
// the variants seen in the wild (docs/es2plus.md section 5): "timeStamp" and other
// case variants of field names, epoch seconds as timestamp, a string
// notificationPointId, an ICCID padded with 'F'. Unknown top-level fields
// are kept in Extra. An unparsable resultData does not fail Decode (see
// DownloadProgressInfo.ResultErr); bad base64 does.
func Decode(data []byte) (*DownloadProgressInfo, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, &SyntaxError{Err: err}
	}
	if top == nil {
		return nil, &SyntaxError{Err: errors.New("body is null, want an object")}
	}
	n := &DownloadProgressInfo{}
	// take removes a field (exact name first, then any case) and returns it;
	// JSON null counts as absent.
	take := func(name string) (json.RawMessage, string, bool) {
		key := name
		v, ok := top[name]
		if !ok {
			for k, kv := range top {
				if strings.EqualFold(k, name) {
					key, v, ok = k, kv, true
					break
				}
			}
		}
		if !ok {
			return nil, "", false
		}
		delete(top, key)
		if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			return nil, key, false
		}
		return v, key, true
	}

	// header
	raw, _, ok := take("header")
	if !ok {
		return nil, missing("header")
	}
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(raw, &hdr); err != nil {
		return nil, invalid("header", "not an object")
	}
	var err error
	if n.Header.FunctionRequesterIdentifier, err = requiredString(hdr, "header.", "functionRequesterIdentifier"); err != nil {
		return nil, err
	}
	if n.Header.FunctionCallIdentifier, err = requiredString(hdr, "header.", "functionCallIdentifier"); err != nil {
		return nil, err
	}

	// eid (optional)
	if raw, _, ok = take("eid"); ok {
		s, err := stringValue(raw, "eid")
		if err != nil {
			return nil, err
		}
		if s != "" && !isDigits(s, 32, 32) {
			return nil, invalid("eid", "want 32 decimal digits, got %q", clip(s))
		}
		n.EID = s
	}

	// iccid
	raw, _, ok = take("iccid")
	if !ok {
		return nil, missing("iccid")
	}
	if n.ICCID, err = stringValue(raw, "iccid"); err != nil {
		return nil, err
	}
	if n.ICCID == "" {
		return nil, missing("iccid")
	}
	switch digits := strings.TrimRight(n.ICCID, "fF"); {
	case !isDigits(digits, 18, 20) || len(n.ICCID) > 20 || len(n.ICCID)-len(digits) > 1:
		return nil, invalid("iccid", "want 18-20 digits with an optional trailing F, got %q", clip(n.ICCID))
	case len(digits) != len(n.ICCID):
		n.Quirks = append(n.Quirks, "iccid-padded")
	}

	// profileType
	raw, _, ok = take("profileType")
	if !ok {
		return nil, missing("profileType")
	}
	if n.ProfileType, err = stringValue(raw, "profileType"); err != nil {
		return nil, err
	}
	if n.ProfileType == "" {
		return nil, missing("profileType")
	}

	// timestamp
	raw, key, ok := take("timestamp")
	if !ok {
		return nil, missing("timestamp")
	}
	if key != "timestamp" {
		n.Quirks = append(n.Quirks, key)
	}
	var epoch bool
	if n.Timestamp, epoch, err = parseTimestamp(raw); err != nil {
		return nil, err
	}
	if epoch {
		n.Quirks = append(n.Quirks, "timestamp-epoch")
	}

	// notificationPointId
	raw, _, ok = take("notificationPointId")
	if !ok {
		return nil, missing("notificationPointId")
	}
	var asString bool
	if n.NotificationPointID, asString, err = parsePoint(raw); err != nil {
		return nil, err
	}
	if asString {
		n.Quirks = append(n.Quirks, "notificationPointId-string")
	}

	// notificationPointStatus
	raw, _, ok = take("notificationPointStatus")
	if !ok {
		return nil, missing("notificationPointStatus")
	}
	if n.NotificationPointStatus, err = parsePointStatus(raw); err != nil {
		return nil, err
	}

	// resultData (optional)
	if raw, _, ok = take("resultData"); ok {
		s, err := stringValue(raw, "resultData")
		if err != nil {
			return nil, err
		}
		if s != "" {
			der, err := decodeBase64(s)
			if err != nil {
				return nil, invalid("resultData", "not base64: %v", err)
			}
			n.ResultData = der
			n.Result, n.ResultErr = ParseResultData(der)
			if n.ResultErr != nil {
				n.Result = nil
			}
		}
	}

	if len(top) > 0 {
		n.Extra = top
	}
	return n, nil
}

func requiredString(obj map[string]json.RawMessage, prefix, name string) (string, error) {
	v, ok := obj[name]
	if !ok {
		for k, kv := range obj {
			if strings.EqualFold(k, name) {
				v, ok = kv, true
				break
			}
		}
	}
	if !ok || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
		return "", missing(prefix + name)
	}
	s, err := stringValue(v, prefix+name)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", missing(prefix + name)
	}
	return s, nil
}

func stringValue(raw json.RawMessage, field string) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", invalid(field, "not a string")
	}
	return strings.TrimSpace(s), nil
}

func parseTimestamp(raw json.RawMessage) (t time.Time, epoch bool, err error) {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		// A JSON number: epoch seconds.
		var num json.Number
		if json.Unmarshal(raw, &num) != nil {
			return time.Time{}, false, invalid("timestamp", "not a string")
		}
		s = num.String()
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false, missing("timestamp")
	}
	if isDigits(s, 1, 12) {
		sec, _ := strconv.ParseInt(s, 10, 64)
		return time.Unix(sec, 0).UTC(), true, nil
	}
	// W3C date-time: YYYY-MM-DDThh:mm:ss[.s]TZD; also without seconds.
	for _, layout := range [...]string{time.RFC3339Nano, "2006-01-02T15:04Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, false, nil
		}
	}
	return time.Time{}, false, invalid("timestamp", "want W3C date-time like 2001-12-17T09:30:47Z, got %q", clip(s))
}

func parsePoint(raw json.RawMessage) (p NotificationPoint, asString bool, err error) {
	var num json.Number
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return 0, false, invalid("notificationPointId", "not a number")
	}
	switch x := v.(type) {
	case json.Number:
		num = x
	case string:
		num, asString = json.Number(strings.TrimSpace(x)), true
	default:
		return 0, false, invalid("notificationPointId", "not a number")
	}
	i, err := strconv.ParseInt(num.String(), 10, 32)
	if err != nil || i < 0 {
		return 0, false, invalid("notificationPointId", "want a non-negative integer, got %q", clip(num.String()))
	}
	return NotificationPoint(i), asString, nil
}

func parsePointStatus(raw json.RawMessage) (NotificationPointStatus, error) {
	const f = "notificationPointStatus"
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return NotificationPointStatus{}, invalid(f, "not an object")
	}
	s, err := requiredString(obj, f+".", "status")
	if err != nil {
		return NotificationPointStatus{}, err
	}
	st, ok := canonicalStatus(s)
	if !ok {
		return NotificationPointStatus{}, invalid(f+".status", "want Executed-Success, Executed-WithWarning, Failed or Expired, got %q", clip(s))
	}
	out := NotificationPointStatus{Status: st}
	scd, ok := obj["statusCodeData"]
	if !ok || bytes.Equal(bytes.TrimSpace(scd), []byte("null")) {
		return out, nil
	}
	var sobj map[string]json.RawMessage
	if err := json.Unmarshal(scd, &sobj); err != nil || sobj == nil {
		return out, invalid(f+".statusCodeData", "not an object")
	}
	const p = f + ".statusCodeData."
	d := &StatusCodeData{}
	if d.SubjectCode, err = requiredString(sobj, p, "subjectCode"); err != nil {
		return out, err
	}
	if d.ReasonCode, err = requiredString(sobj, p, "reasonCode"); err != nil {
		return out, err
	}
	for name, dst := range map[string]*string{"subjectIdentifier": &d.SubjectIdentifier, "message": &d.Message} {
		if v, ok := sobj[name]; ok && !bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			if *dst, err = stringValue(v, p+name); err != nil {
				return out, err
			}
		}
	}
	out.StatusCodeData = d
	return out, nil
}

// decodeBase64 accepts standard base64 with or without padding, with line
// breaks (MIME encoders) removed.
func decodeBase64(s string) ([]byte, error) {
	if strings.ContainsAny(s, "\r\n\t ") {
		s = strings.Map(func(r rune) rune {
			if r == '\r' || r == '\n' || r == '\t' || r == ' ' {
				return -1
			}
			return r
		}, s)
	}
	if strings.HasSuffix(s, "=") || len(s)%4 == 0 {
		return base64.StdEncoding.Strict().DecodeString(s)
	}
	return base64.RawStdEncoding.Strict().DecodeString(s)
}

func isDigits(s string, minLen, maxLen int) bool {
	if len(s) < minLen || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// clip shortens a value quoted in an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

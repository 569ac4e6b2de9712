package rest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// ErrThrottled matches an *APIError with status 429.
var ErrThrottled = errors.New("throttled (HTTP 429)")

// ErrUnauthorized matches an *APIError with status 401 or 403.
var ErrUnauthorized = errors.New("credentials refused (HTTP 401/403)")

// APIError is a platform's error answer: the HTTP status and, when the body names them, the platform's
// error code and message (ThingSpace errorCode/errorMessage, Digi error_status/error_message).
type APIError struct {
	Platform   string // "thingspace", "digirm"
	Method     string
	Path       string // the request path below the base URL
	StatusCode int
	Code       string        // the platform's error code, e.g. "INVALID_PARAMETER"; "" when none was sent
	Message    string        // the platform's message, as sent
	RetryAfter time.Duration // from a Retry-After header; 0 when absent
	Body       []byte        // at most 512 bytes of the body, raw

	renewed bool // a 401 after which the credentials were renewed
}

// Error reads like `thingspace: POST /devices/profile/actions/enable: HTTP 400 INVALID_PARAMETER: ...`.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s %s: HTTP %d", e.Platform, e.Method, e.Path, e.StatusCode)
	if e.Code != "" {
		b.WriteByte(' ')
		b.WriteString(oneLine(e.Code, 64))
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(oneLine(e.Message, 256))
	}
	return b.String()
}

// Is makes errors.Is(err, ErrThrottled) and errors.Is(err, ErrUnauthorized) work by status.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrThrottled:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden
	}
	return false
}

// DecodeErrorFields reads the error code and message of a JSON error body under the names the platforms
// use: errorCode/errorMessage (ThingSpace), error_code/error_message and error_status (Digi), and the
// OAuth2 error/error_description. A body that is not JSON gives its first line as the message.
func DecodeErrorFields(status int, body []byte) (code, message string) {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		line, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
		return "", oneLine(line, 256)
	}
	str := func(names ...string) string {
		for _, n := range names {
			raw, ok := m[n]
			if !ok {
				continue
			}
			var s string
			if json.Unmarshal(raw, &s) == nil && s != "" {
				return s
			}
			var f json.Number
			if json.Unmarshal(raw, &f) == nil {
				return f.String()
			}
		}
		return ""
	}
	code = str("errorCode", "error_code", "code", "error")
	message = str("errorMessage", "error_message", "message", "error_description")
	if code == "" {
		if s := str("error_status"); s != "" && s != strconv.Itoa(status) {
			code = s
		}
	}
	return code, message
}

// oneLine makes peer text safe for a one-line message: control characters become spaces, the text is cut.
func oneLine(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= max {
			b.WriteString("...")
			break
		}
		if unicode.IsControl(r) {
			r = ' '
		}
		b.WriteRune(r)
	}
	return b.String()
}

package rest

import (
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzDecodeErrorFields: any error body, however broken, gives a code and message without panicking,
// and the APIError built from them prints as one valid UTF-8 line.
func FuzzDecodeErrorFields(f *testing.F) {
	for _, s := range []string{`{"errorCode":"X","errorMessage":"y"}`, `{"error_status":400}`, `{"code":1e999}`, "\xff\x00", `[]`, `{"error":{"a":1}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		code, msg := DecodeErrorFields(400, []byte(body))
		e := (&APIError{Platform: "p", Method: "GET", Path: "/", StatusCode: 400, Code: code, Message: msg}).Error()
		if !utf8.ValidString(e) {
			t.Fatalf("invalid UTF-8 in %q", e)
		}
		for _, r := range e {
			if r == '\n' || r == '\r' {
				t.Fatalf("line break in %q", e)
			}
		}
	})
}

// FuzzParseRetryAfter: any header value gives a wait between 0 and an hour.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"1", "0.5", "Thu, 03 Dec 2026 12:00:30 GMT", "-1", "1e308", "NaN"} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		if d := ParseRetryAfter(v, now); d < 0 || d > time.Hour {
			t.Fatalf("ParseRetryAfter(%q) = %v", v, d)
		}
	})
}

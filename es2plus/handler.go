package es2plus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Handler is what the application implements. HandleDownloadProgressInfo
// is called with the request's context once per notification (see
// [HTTPHandler] for de-duplication). Returning nil acknowledges the
// notification; a *RejectError refuses it for good (4xx, the SM-DP+ does
// not retry); any other error answers 500 so the SM-DP+ retries.
type Handler interface {
	HandleDownloadProgressInfo(ctx context.Context, n *DownloadProgressInfo) error
}

// HandlerFunc adapts a function to [Handler].
type HandlerFunc func(ctx context.Context, n *DownloadProgressInfo) error

// HandleDownloadProgressInfo calls f.
func (f HandlerFunc) HandleDownloadProgressInfo(ctx context.Context, n *DownloadProgressInfo) error {
	return f(ctx, n)
}

// RejectError is returned by a [Handler] to refuse a notification for good.
type RejectError struct {
	StatusCode int    // HTTP status, 4xx; 0 means 422 Unprocessable Entity
	Reason     string // sent in the error body
	Err        error  // optional cause
}

func (e *RejectError) Error() string {
	s := "es2plus: notification rejected"
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *RejectError) Unwrap() error { return e.Err }

// Reject returns a *RejectError with the default status.
func Reject(reason string) error { return &RejectError{Reason: reason} }

// HandlerOption configures an [HTTPHandler].
type HandlerOption func(*HTTPHandler)

// WithStatusOK answers 200 OK with an ES2+ response body
// ({"header":{"functionExecutionStatus":{"status":"Executed-Success"}}})
// instead of the default 204 No Content. SGP.22 receivers answer 204 for
// this function and pySim's sender expects exactly 204; use 200 only for a
// sender that wants a body (AWS SNS accepts any 2xx).
func WithStatusOK() HandlerOption { return func(h *HTTPHandler) { h.statusOK = true } }

// WithMaxBodyBytes bounds the request body (default 256 KiB, the largest SNS
// message). Larger bodies get 413.
func WithMaxBodyBytes(n int64) HandlerOption {
	return func(h *HTTPHandler) {
		if n > 0 {
			h.maxBody = n
		}
	}
}

// WithDedup sets how many accepted notifications are remembered and for how
// long (default 10000 and 24h). size 0 turns de-duplication off.
func WithDedup(size int, ttl time.Duration) HandlerOption {
	return func(h *HTTPHandler) { h.dedupSize, h.dedupTTL = size, ttl }
}

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) HandlerOption {
	return func(h *HTTPHandler) {
		if l != nil {
			h.log = l
		}
	}
}

// WithClock replaces time.Now for de-duplication ages (tests).
func WithClock(now func() time.Time) HandlerOption {
	return func(h *HTTPHandler) {
		if now != nil {
			h.now = now
		}
	}
}

// HTTPHandler is the http.Handler receiving HandleDownloadProgressInfo. It
// checks the method and headers (leniently: Content-Type prefix
// application/json, X-Admin-Protocol prefix gsma/rsp/v2. when present),
// bounds the body, decodes and validates it, de-duplicates, hands the
// notification to the application and only then answers 2xx. Invalid input
// answers 4xx with a JSON error body; an application error answers 500 so
// the SM-DP+ retries.
//
// De-duplication key: header.functionCallIdentifier + notificationPointId +
// the normalised ICCID (the ICCID guards against senders that reuse one
// functionCallIdentifier for every call), plus the SNS MessageId for SNS
// deliveries. A duplicate of an accepted notification is acknowledged
// without calling the application; a concurrent duplicate waits for the
// first delivery's outcome; a failed delivery is forgotten so its retry is
// handed over again.
//
// Client authentication (mTLS) is the server's job.
type HTTPHandler struct {
	app       Handler
	statusOK  bool
	maxBody   int64
	dedupSize int
	dedupTTL  time.Duration
	now       func() time.Time
	log       *slog.Logger
	sns       *SNSConfig
	dedup     *dedup
}

// NewHTTPHandler returns the webhook handler delivering to app. Mount it on
// [Path].
func NewHTTPHandler(app Handler, opts ...HandlerOption) *HTTPHandler {
	h := &HTTPHandler{
		app:       app,
		maxBody:   256 << 10,
		dedupSize: 10000,
		dedupTTL:  24 * time.Hour,
		now:       time.Now,
		log:       slog.Default(),
	}
	for _, o := range opts {
		o(h)
	}
	if h.dedupSize > 0 {
		h.dedup = newDedup(h.dedupSize, h.dedupTTL, h.now)
	}
	if h.sns != nil && h.sns.CertFetcher == nil && !h.sns.InsecureSkipVerify {
		h.sns.CertFetcher = NewSNSCertFetcher(nil)
	}
	return h
}

// errorBody is the JSON error answer: an ES2+ response header plus details.
type errorBody struct {
	Header struct {
		FunctionExecutionStatus struct {
			Status Status `json:"status"`
		} `json:"functionExecutionStatus"`
	} `json:"header"`
	Error struct {
		Code    string `json:"code"`
		Field   string `json:"field,omitempty"`
		Message string `json:"message"`
	} `json:"error"`
}

var successBody = []byte(`{"header":{"functionExecutionStatus":{"status":"Executed-Success"}}}`)

func (h *HTTPHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Admin-Protocol", AdminProtocol)
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.fail(w, r, http.StatusMethodNotAllowed, "method_not_allowed", "", "use POST")
		return
	}
	snsType := r.Header.Get("X-Amz-Sns-Message-Type")
	if snsType == "" {
		if ct := r.Header.Get("Content-Type"); ct != "" {
			mt, _, _ := mime.ParseMediaType(ct)
			if !strings.HasPrefix(strings.ToLower(mt), "application/json") {
				h.fail(w, r, http.StatusUnsupportedMediaType, "unsupported_media_type", "", "want Content-Type application/json")
				return
			}
		}
		if ap := r.Header.Get("X-Admin-Protocol"); ap != "" && !strings.HasPrefix(ap, "gsma/rsp/v2.") {
			h.fail(w, r, http.StatusBadRequest, "unsupported_protocol", "", "X-Admin-Protocol must start with gsma/rsp/v2.")
			return
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			h.fail(w, r, http.StatusRequestEntityTooLarge, "body_too_large", "", fmt.Sprintf("body exceeds %d bytes", h.maxBody))
			return
		}
		h.fail(w, r, http.StatusBadRequest, "read_error", "", "cannot read body")
		return
	}

	var snsID string
	if snsType != "" || looksLikeSNS(body) {
		if h.sns == nil {
			h.fail(w, r, http.StatusBadRequest, "sns_disabled", "", "AWS SNS envelopes are not accepted on this endpoint")
			return
		}
		msg, done := h.serveSNS(w, r, body)
		if done {
			return
		}
		body, snsID = []byte(msg.Message), msg.MessageId
	}

	n, err := Decode(body)
	if err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			h.fail(w, r, http.StatusBadRequest, "invalid_field", fe.Field, err.Error())
		} else {
			h.fail(w, r, http.StatusBadRequest, "malformed_json", "", err.Error())
		}
		return
	}
	h.deliver(w, r, n, snsID)
}

func (h *HTTPHandler) deliver(w http.ResponseWriter, r *http.Request, n *DownloadProgressInfo, snsID string) {
	ctx := r.Context()
	log := h.log.With("functionCallIdentifier", n.Header.FunctionCallIdentifier,
		"notificationPointId", int(n.NotificationPointID), "iccid", n.ICCID)
	if len(n.Quirks) > 0 {
		log.Debug("es2plus: non-standard forms accepted", "quirks", n.Quirks)
	}
	if n.ResultErr != nil {
		log.Warn("es2plus: resultData kept raw, not parsed", "err", n.ResultErr)
	}
	keys := make([]string, 0, 2)
	keys = append(keys, "n\x00"+n.Header.FunctionCallIdentifier+"\x00"+strconv.Itoa(int(n.NotificationPointID))+"\x00"+n.NormalizedICCID())
	if snsID != "" {
		keys = append(keys, "s\x00"+snsID)
	}
	res, s, err := h.dedup.claim(ctx, keys)
	if err != nil {
		h.fail(w, r, http.StatusServiceUnavailable, "unavailable", "", "gave up waiting for a concurrent delivery")
		return
	}
	if res == claimDuplicate {
		log.Info("es2plus: duplicate notification acknowledged")
		h.ok(w)
		return
	}
	err = h.app.HandleDownloadProgressInfo(ctx, n)
	h.dedup.release(s, err == nil)
	var rej *RejectError
	switch {
	case err == nil:
		h.ok(w)
	case errors.As(err, &rej):
		code := rej.StatusCode
		if code < 400 || code > 499 {
			code = http.StatusUnprocessableEntity
		}
		log.Warn("es2plus: notification rejected by the application", "err", err)
		h.fail(w, r, code, "rejected", "", rej.Reason)
	default:
		log.Error("es2plus: application failed; the sender will retry", "err", err)
		h.fail(w, r, http.StatusInternalServerError, "application_error", "", "notification not accepted, retry later")
	}
}

func (h *HTTPHandler) ok(w http.ResponseWriter) {
	if h.statusOK {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(successBody)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *HTTPHandler) fail(w http.ResponseWriter, r *http.Request, code int, errCode, field, msg string) {
	if code < 500 {
		h.log.Debug("es2plus: request refused", "status", code, "code", errCode, "field", field, "msg", msg, "remote", r.RemoteAddr)
	}
	var b errorBody
	b.Header.FunctionExecutionStatus.Status = StatusFailed
	b.Error.Code, b.Error.Field, b.Error.Message = errCode, field, msg
	out, _ := json.Marshal(&b)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(out)
}

package es2plus

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// SNSMessage is an AWS SNS HTTP(S) delivery: a Notification (the ES2+ JSON
// in Message), a SubscriptionConfirmation or an UnsubscribeConfirmation.
type SNSMessage struct {
	Type             string `json:"Type"`
	MessageId        string `json:"MessageId"` //nolint:revive // SNS's spelling
	Token            string `json:"Token,omitempty"`
	TopicArn         string `json:"TopicArn"`
	Subject          string `json:"Subject,omitempty"`
	Message          string `json:"Message"`
	Timestamp        string `json:"Timestamp"`
	SignatureVersion string `json:"SignatureVersion"`
	Signature        string `json:"Signature"`
	SigningCertURL   string `json:"SigningCertURL"`
	SubscribeURL     string `json:"SubscribeURL,omitempty"`
	UnsubscribeURL   string `json:"UnsubscribeURL,omitempty"`
}

// SNS message types.
const (
	SNSNotification             = "Notification"
	SNSSubscriptionConfirmation = "SubscriptionConfirmation"
	SNSUnsubscribeConfirmation  = "UnsubscribeConfirmation"
)

// CertFetcher returns the certificate at an SNS SigningCertURL.
type CertFetcher interface {
	FetchCertificate(ctx context.Context, certURL string) (*x509.Certificate, error)
}

// CertFetcherFunc adapts a function to [CertFetcher].
type CertFetcherFunc func(ctx context.Context, certURL string) (*x509.Certificate, error)

// FetchCertificate calls f.
func (f CertFetcherFunc) FetchCertificate(ctx context.Context, certURL string) (*x509.Certificate, error) {
	return f(ctx, certURL)
}

// SNSConfig enables AWS SNS envelopes on an [HTTPHandler] (Telna delivers
// its webhooks through SNS).
//
// Safe defaults: SNS envelopes are refused (400) unless [WithSNS] is given;
// with it, every envelope's signature is verified (SignatureVersion 1 =
// SHA1withRSA, 2 = SHA256withRSA) with CertFetcher, by default
// [NewSNSCertFetcher], which fetches only https://sns.<region>.amazonaws.com/
// URLs ending in .pem. Verification is off only with InsecureSkipVerify.
// The handler never visits SubscribeURL itself.
type SNSConfig struct {
	// CertFetcher gets signing certificates; nil: NewSNSCertFetcher(nil).
	CertFetcher CertFetcher
	// TopicARNs, when not empty, lists the only topics accepted (403 otherwise).
	TopicARNs []string
	// OnSubscriptionConfirmation is called for a verified
	// SubscriptionConfirmation; the application confirms by visiting
	// m.SubscribeURL (or ConfirmSubscription with m.Token). An error
	// answers 500 (SNS retries). nil: the confirmation is logged at warn
	// level and acknowledged.
	OnSubscriptionConfirmation func(ctx context.Context, m *SNSMessage) error
	// OnUnsubscribeConfirmation is like OnSubscriptionConfirmation for
	// UnsubscribeConfirmation messages.
	OnUnsubscribeConfirmation func(ctx context.Context, m *SNSMessage) error
	// InsecureSkipVerify accepts envelopes without checking signatures
	// (tests, or a trusted network path only).
	InsecureSkipVerify bool
}

// WithSNS accepts AWS SNS envelopes (see [SNSConfig]).
func WithSNS(cfg SNSConfig) HandlerOption {
	return func(h *HTTPHandler) {
		c := cfg
		c.TopicARNs = slices.Clone(cfg.TopicARNs)
		h.sns = &c
	}
}

// SNSError is a refused SNS envelope.
type SNSError struct {
	Reason string
	Err    error
}

func (e *SNSError) Error() string {
	if e.Err != nil {
		return "es2plus: sns: " + e.Reason + ": " + e.Err.Error()
	}
	return "es2plus: sns: " + e.Reason
}

func (e *SNSError) Unwrap() error { return e.Err }

// looksLikeSNS recognises an SNS envelope without the SNS headers.
func looksLikeSNS(body []byte) bool {
	if !bytes.Contains(body, []byte(`"TopicArn"`)) || !bytes.Contains(body, []byte(`"Type"`)) {
		return false
	}
	var probe struct {
		Type     string          `json:"Type"`
		TopicArn string          `json:"TopicArn"`
		Header   json.RawMessage `json:"header"`
	}
	return json.Unmarshal(body, &probe) == nil && probe.Type != "" && probe.TopicArn != "" && probe.Header == nil
}

// serveSNS handles an SNS envelope. It returns the Notification to decode,
// or done when it already answered.
func (h *HTTPHandler) serveSNS(w http.ResponseWriter, r *http.Request, body []byte) (*SNSMessage, bool) {
	var m SNSMessage
	if err := json.Unmarshal(body, &m); err != nil {
		h.fail(w, r, http.StatusBadRequest, "malformed_json", "", "SNS envelope: "+err.Error())
		return nil, true
	}
	if ht := r.Header.Get("X-Amz-Sns-Message-Type"); ht != "" && ht != m.Type {
		h.fail(w, r, http.StatusBadRequest, "sns_invalid", "Type", "x-amz-sns-message-type does not match Type")
		return nil, true
	}
	if len(h.sns.TopicARNs) > 0 && !slices.Contains(h.sns.TopicARNs, m.TopicArn) {
		h.log.Warn("es2plus: SNS message from an unexpected topic", "topicArn", m.TopicArn)
		h.fail(w, r, http.StatusForbidden, "sns_topic", "TopicArn", "topic not accepted")
		return nil, true
	}
	if !h.sns.InsecureSkipVerify {
		if err := VerifySNS(r.Context(), &m, h.sns.CertFetcher); err != nil {
			h.log.Warn("es2plus: SNS signature refused", "err", err, "messageId", m.MessageId)
			h.fail(w, r, http.StatusForbidden, "sns_signature", "Signature", err.Error())
			return nil, true
		}
	}
	var hook func(context.Context, *SNSMessage) error
	switch m.Type {
	case SNSNotification:
		if m.MessageId == "" {
			h.fail(w, r, http.StatusBadRequest, "sns_invalid", "MessageId", "missing")
			return nil, true
		}
		return &m, false
	case SNSSubscriptionConfirmation:
		hook = h.sns.OnSubscriptionConfirmation
	case SNSUnsubscribeConfirmation:
		hook = h.sns.OnUnsubscribeConfirmation
	default:
		h.fail(w, r, http.StatusBadRequest, "sns_invalid", "Type", "unknown SNS message type")
		return nil, true
	}
	if hook == nil {
		h.log.Warn("es2plus: SNS "+m.Type+" received and not acted on (set SNSConfig.On"+m.Type+")",
			"topicArn", m.TopicArn, "subscribeURL", m.SubscribeURL)
		h.ok(w)
		return nil, true
	}
	if err := hook(r.Context(), &m); err != nil {
		h.log.Error("es2plus: SNS "+m.Type+" hook failed", "err", err)
		h.fail(w, r, http.StatusInternalServerError, "application_error", "", "not confirmed, retry later")
		return nil, true
	}
	h.ok(w)
	return nil, true
}

// SNSStringToSign returns the canonical string SNS signs: "Name\nvalue\n"
// for each present field in this order. Notification: Message, MessageId,
// Subject (if present), Timestamp, TopicArn, Type. Subscription and
// unsubscribe confirmations: Message, MessageId, SubscribeURL, Timestamp,
// Token, TopicArn, Type. Order as in AWS's guide
// (awsdocs/amazon-sns-developer-guide doc_source/sns-verify-signature-of-message.md).
func SNSStringToSign(m *SNSMessage) string {
	var b strings.Builder
	add := func(k, v string) { b.WriteString(k); b.WriteByte('\n'); b.WriteString(v); b.WriteByte('\n') }
	add("Message", m.Message)
	add("MessageId", m.MessageId)
	if m.Type == SNSNotification {
		if m.Subject != "" {
			add("Subject", m.Subject)
		}
	} else {
		add("SubscribeURL", m.SubscribeURL)
	}
	add("Timestamp", m.Timestamp)
	if m.Type != SNSNotification {
		add("Token", m.Token)
	}
	add("TopicArn", m.TopicArn)
	add("Type", m.Type)
	return b.String()
}

// VerifySNS checks an SNS message's signature with the certificate f
// returns for its SigningCertURL. Errors are *SNSError.
func VerifySNS(ctx context.Context, m *SNSMessage, f CertFetcher) error {
	var h crypto.Hash
	switch m.SignatureVersion {
	case "1":
		h = crypto.SHA1
	case "2":
		h = crypto.SHA256
	default:
		return &SNSError{Reason: fmt.Sprintf("unsupported SignatureVersion %q", m.SignatureVersion)}
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil || len(sig) == 0 {
		return &SNSError{Reason: "Signature is not base64", Err: err}
	}
	if f == nil {
		return &SNSError{Reason: "no certificate fetcher"}
	}
	cert, err := f.FetchCertificate(ctx, m.SigningCertURL)
	if err != nil {
		return &SNSError{Reason: "signing certificate unavailable", Err: err}
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return &SNSError{Reason: "signing certificate has no RSA key"}
	}
	msg := []byte(SNSStringToSign(m))
	var digest []byte
	if h == crypto.SHA1 {
		d := sha1.Sum(msg)
		digest = d[:]
	} else {
		d := sha256.Sum256(msg)
		digest = d[:]
	}
	if err := rsa.VerifyPKCS1v15(pub, h, digest, sig); err != nil {
		return &SNSError{Reason: "bad signature", Err: err}
	}
	return nil
}

// CheckSNSCertURL accepts only https://sns.<region>.amazonaws.com/....pem
// (no user info, no port other than 443).
func CheckSNSCertURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return &SNSError{Reason: "SigningCertURL unparsable", Err: err}
	}
	host := u.Hostname()
	region, ok := strings.CutPrefix(host, "sns.")
	if ok {
		region, ok = strings.CutSuffix(region, ".amazonaws.com")
	}
	switch {
	case u.Scheme != "https":
		return &SNSError{Reason: "SigningCertURL is not https"}
	case u.User != nil || (u.Port() != "" && u.Port() != "443"):
		return &SNSError{Reason: "SigningCertURL has user info or a port"}
	case !ok || !validRegion(region):
		return &SNSError{Reason: fmt.Sprintf("SigningCertURL host %q is not sns.<region>.amazonaws.com", host)}
	case !strings.HasSuffix(u.Path, ".pem"):
		return &SNSError{Reason: "SigningCertURL is not a .pem"}
	}
	return nil
}

func validRegion(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// snsCertFetcher is the default CertFetcher.
type snsCertFetcher struct {
	client *http.Client
	mu     sync.Mutex
	cache  map[string]*x509.Certificate
}

// NewSNSCertFetcher returns a CertFetcher that downloads PEM certificates
// with client (nil: http.DefaultClient) from URLs passing
// [CheckSNSCertURL] only, and caches up to 32 of them.
func NewSNSCertFetcher(client *http.Client) CertFetcher {
	if client == nil {
		client = http.DefaultClient
	}
	return &snsCertFetcher{client: client, cache: make(map[string]*x509.Certificate)}
}

func (f *snsCertFetcher) FetchCertificate(ctx context.Context, certURL string) (*x509.Certificate, error) {
	if err := CheckSNSCertURL(certURL); err != nil {
		return nil, err
	}
	f.mu.Lock()
	c, ok := f.cache[certURL]
	f.mu.Unlock()
	if ok {
		return c, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, certURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("es2plus: sns: GET %s: %s", certURL, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("es2plus: sns: signing certificate is not PEM")
	}
	c, err = x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	if len(f.cache) >= 32 {
		clear(f.cache)
	}
	f.cache[certURL] = c
	f.mu.Unlock()
	return c, nil
}

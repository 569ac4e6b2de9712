package es2plus_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/es2plus"
)

const (
	certURL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-test.pem"
	topic   = "arn:aws:sns:eu-west-1:123456789012:telna-hdpi"
)

type snsSigner struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
	pem  []byte
}

func newSigner(t testing.TB) *snsSigner {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sns.amazonaws.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &snsSigner{key: key, cert: cert, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func (s *snsSigner) sign(t testing.TB, m *es2plus.SNSMessage) {
	t.Helper()
	msg := []byte(es2plus.SNSStringToSign(m))
	var sig []byte
	var err error
	if m.SignatureVersion == "1" {
		d := sha1.Sum(msg)
		sig, err = rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA1, d[:])
	} else {
		d := sha256.Sum256(msg)
		sig, err = rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, d[:])
	}
	require.NoError(t, err)
	m.Signature = base64.StdEncoding.EncodeToString(sig)
}

func (s *snsSigner) fetcher() es2plus.CertFetcher {
	return es2plus.CertFetcherFunc(func(_ context.Context, u string) (*x509.Certificate, error) {
		if err := es2plus.CheckSNSCertURL(u); err != nil {
			return nil, err
		}
		return s.cert, nil
	})
}

func snsNotification(t testing.TB, s *snsSigner, id, version string, payload []byte) []byte {
	m := &es2plus.SNSMessage{Type: "Notification", MessageId: id, TopicArn: topic, Subject: "HandleDownloadProgressInfo",
		Message: string(payload), Timestamp: "2026-11-23T10:15:01.000Z", SignatureVersion: version, SigningCertURL: certURL}
	s.sign(t, m)
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return b
}

func snsHeaders(typ, id string) map[string]string {
	return map[string]string{"Content-Type": "text/plain; charset=UTF-8", "X-Amz-Sns-Message-Type": typ,
		"X-Amz-Sns-Message-Id": id, "X-Amz-Sns-Topic-Arn": topic, "X-Admin-Protocol": ""}
}

func TestSNSNotification(t *testing.T) {
	s := newSigner(t)
	app := &recorder{}
	h := es2plus.NewHTTPHandler(app, es2plus.WithLogger(quiet),
		es2plus.WithSNS(es2plus.SNSConfig{CertFetcher: s.fetcher(), TopicARNs: []string{topic}}))

	for _, v := range []string{"1", "2"} {
		w := post(h, snsNotification(t, s, "msg-"+v, v, body(t, map[string]any{"notificationPointId": v})), snsHeaders("Notification", "msg-"+v))
		assert.Equal(t, 204, w.Code, "SignatureVersion %s: %s", v, w.Body.String())
	}
	assert.Equal(t, 2, app.calls())

	// SNS retry: same MessageId, even without the SNS headers: acknowledged, not handed over.
	w := post(h, snsNotification(t, s, "msg-1", "2", body(t, map[string]any{"notificationPointId": 1})), nil)
	assert.Equal(t, 204, w.Code)
	assert.Equal(t, 2, app.calls())
	// Same MessageId, different payload: SNS reuses ids only on retry, so a duplicate.
	w = post(h, snsNotification(t, s, "msg-1", "2", body(t, map[string]any{"notificationPointId": 4})), snsHeaders("Notification", "msg-1"))
	assert.Equal(t, 204, w.Code)
	assert.Equal(t, 2, app.calls())
	// Same ES2+ notification under a new MessageId (re-published): a duplicate too.
	w = post(h, snsNotification(t, s, "msg-9", "2", body(t, map[string]any{"notificationPointId": 1})), snsHeaders("Notification", "msg-9"))
	assert.Equal(t, 204, w.Code)
	assert.Equal(t, 2, app.calls())
}

func TestSNSRefused(t *testing.T) {
	s := newSigner(t)
	other := newSigner(t)
	good := snsNotification(t, s, "m1", "2", body(t, nil))
	tamper := func(f func(m map[string]any)) []byte {
		var m map[string]any
		require.NoError(t, json.Unmarshal(good, &m))
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	tests := []struct {
		name   string
		body   []byte
		hdr    map[string]string
		status int
		code   string
	}{
		{"wrong key", snsNotification(t, other, "m1", "2", body(t, nil)), snsHeaders("Notification", "m1"), 403, "sns_signature"},
		{"tampered message", tamper(func(m map[string]any) { m["Message"] = string(body(t, map[string]any{"iccid": "8931041010654378931"})) }), nil, 403, "sns_signature"},
		{"no subject in signature", tamper(func(m map[string]any) { delete(m, "Subject") }), nil, 403, "sns_signature"},
		{"version 3", tamper(func(m map[string]any) { m["SignatureVersion"] = "3" }), nil, 403, "sns_signature"},
		{"signature not base64", tamper(func(m map[string]any) { m["Signature"] = "%%%" }), nil, 403, "sns_signature"},
		{"cert url not AWS", tamper(func(m map[string]any) { m["SigningCertURL"] = "https://evil.example.com/x.pem" }), nil, 403, "sns_signature"},
		{"other topic", tamper(func(m map[string]any) { m["TopicArn"] = "arn:aws:sns:eu-west-1:1:other" }), nil, 403, "sns_topic"},
		{"header type mismatch", good, snsHeaders("SubscriptionConfirmation", "m1"), 400, "sns_invalid"},
		{"not json", []byte("Type TopicArn"), snsHeaders("Notification", "m1"), 400, "malformed_json"},
		{"payload invalid", snsNotification(t, s, "m2", "2", body(t, map[string]any{"iccid": nil})), nil, 400, "invalid_field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := &recorder{}
			h := es2plus.NewHTTPHandler(app, es2plus.WithLogger(quiet),
				es2plus.WithSNS(es2plus.SNSConfig{CertFetcher: s.fetcher(), TopicARNs: []string{topic}}))
			w := post(h, tt.body, tt.hdr)
			assert.Equal(t, tt.status, w.Code, w.Body.String())
			assert.Equal(t, tt.code, decodeErr(t, w).Error.Code)
			assert.Zero(t, app.calls())
		})
	}
}

func TestSNSInsecureSkipVerify(t *testing.T) {
	app := &recorder{}
	h := es2plus.NewHTTPHandler(app, es2plus.WithLogger(quiet), es2plus.WithSNS(es2plus.SNSConfig{InsecureSkipVerify: true}))
	b, _ := json.Marshal(es2plus.SNSMessage{Type: "Notification", MessageId: "m", TopicArn: topic, Message: string(body(t, nil))})
	assert.Equal(t, 204, post(h, b, nil).Code)
	assert.Equal(t, 1, app.calls())
	b, _ = json.Marshal(es2plus.SNSMessage{Type: "Notification", TopicArn: topic, Message: string(body(t, nil))})
	assert.Equal(t, 400, post(h, b, snsHeaders("Notification", "")).Code, "MessageId required")
	b, _ = json.Marshal(es2plus.SNSMessage{Type: "Other", MessageId: "x", TopicArn: topic})
	assert.Equal(t, 400, post(h, b, nil).Code)
}

func TestSNSSubscriptionConfirmation(t *testing.T) {
	s := newSigner(t)
	conf := &es2plus.SNSMessage{Type: "SubscriptionConfirmation", MessageId: "c1", Token: "tok", TopicArn: topic,
		Message: "You have chosen to subscribe", SubscribeURL: "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=tok",
		Timestamp: "2026-11-23T10:00:00.000Z", SignatureVersion: "1", SigningCertURL: certURL}
	s.sign(t, conf)
	b, _ := json.Marshal(conf)

	var got atomic.Pointer[es2plus.SNSMessage]
	var fail atomic.Bool
	fail.Store(true)
	h := es2plus.NewHTTPHandler(&recorder{}, es2plus.WithLogger(quiet), es2plus.WithSNS(es2plus.SNSConfig{
		CertFetcher: s.fetcher(),
		OnSubscriptionConfirmation: func(_ context.Context, m *es2plus.SNSMessage) error {
			if fail.Swap(false) {
				return errors.New("not now")
			}
			got.Store(m)
			return nil
		},
	}))
	assert.Equal(t, 500, post(h, b, snsHeaders("SubscriptionConfirmation", "c1")).Code)
	assert.Equal(t, 204, post(h, b, snsHeaders("SubscriptionConfirmation", "c1")).Code)
	require.NotNil(t, got.Load())
	assert.Equal(t, conf.SubscribeURL, got.Load().SubscribeURL)

	// Without a hook: acknowledged and logged; unsubscribe likewise.
	h = es2plus.NewHTTPHandler(&recorder{}, es2plus.WithLogger(quiet), es2plus.WithSNS(es2plus.SNSConfig{CertFetcher: s.fetcher()}))
	assert.Equal(t, 204, post(h, b, nil).Code)
	unsub := *conf
	unsub.Type = "UnsubscribeConfirmation"
	s.sign(t, &unsub)
	ub, _ := json.Marshal(&unsub)
	assert.Equal(t, 204, post(h, ub, nil).Code)
	// A forged confirmation is refused.
	conf.Token = "other"
	fb, _ := json.Marshal(conf)
	assert.Equal(t, 403, post(h, fb, nil).Code)
}

func TestCheckSNSCertURL(t *testing.T) {
	for u, ok := range map[string]bool{
		certURL: true,
		"https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-abc.pem": true,
		"https://sns.eu-west-1.amazonaws.com:443/a.pem":                             true,
		"http://sns.eu-west-1.amazonaws.com/a.pem":                                  false,
		"https://sns.eu-west-1.amazonaws.com.evil.com/a.pem":                        false,
		"https://evil.com/sns.eu-west-1.amazonaws.com/a.pem":                        false,
		"https://sns..amazonaws.com/a.pem":                                          false,
		"https://sns.eu_west.amazonaws.com/a.pem":                                   false,
		"https://user@sns.eu-west-1.amazonaws.com/a.pem":                            false,
		"https://sns.eu-west-1.amazonaws.com:8443/a.pem":                            false,
		"https://sns.eu-west-1.amazonaws.com/a.txt":                                 false,
		"https://s3.eu-west-1.amazonaws.com/a.pem":                                  false,
		"://bad": false,
	} {
		err := es2plus.CheckSNSCertURL(u)
		if ok {
			assert.NoError(t, err, u)
		} else {
			var se *es2plus.SNSError
			assert.ErrorAs(t, err, &se, u)
		}
	}
}

type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestDefaultCertFetcher(t *testing.T) {
	s := newSigner(t)
	var gets atomic.Int32
	client := &http.Client{Transport: rtFunc(func(r *http.Request) (*http.Response, error) {
		gets.Add(1)
		switch r.URL.Path {
		case "/SimpleNotificationService-test.pem":
			return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(string(s.pem))), Header: http.Header{}}, nil
		case "/notpem.pem":
			return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("hello")), Header: http.Header{}}, nil
		default:
			return &http.Response{StatusCode: 404, Status: "404 Not Found", Body: io.NopCloser(strings.NewReader("")), Header: http.Header{}}, nil
		}
	})}
	f := es2plus.NewSNSCertFetcher(client)
	ctx := context.Background()
	c, err := f.FetchCertificate(ctx, certURL)
	require.NoError(t, err)
	assert.True(t, c.Equal(s.cert))
	_, err = f.FetchCertificate(ctx, certURL)
	require.NoError(t, err)
	assert.Equal(t, int32(1), gets.Load(), "cached")

	_, err = f.FetchCertificate(ctx, "https://evil.example.com/x.pem")
	assert.Error(t, err)
	assert.Equal(t, int32(1), gets.Load(), "never fetched")
	_, err = f.FetchCertificate(ctx, "https://sns.eu-west-1.amazonaws.com/missing.pem")
	assert.Error(t, err)
	_, err = f.FetchCertificate(ctx, "https://sns.eu-west-1.amazonaws.com/notpem.pem")
	assert.Error(t, err)

	// End to end through the handler with the default fetcher.
	app := &recorder{}
	h := es2plus.NewHTTPHandler(app, es2plus.WithLogger(quiet), es2plus.WithSNS(es2plus.SNSConfig{CertFetcher: f}))
	assert.Equal(t, 204, post(h, snsNotification(t, s, "e2e", "1", body(t, nil)), snsHeaders("Notification", "e2e")).Code)
	assert.Equal(t, 1, app.calls())
}

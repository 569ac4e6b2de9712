package reliability_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/callback"
	"github.com/esimgw/esimgw/es4"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/mtls/mtlstest"
	"github.com/esimgw/esimgw/soap"
)

const envOpen = `<?xml version="1.0" encoding="UTF-8"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://www.w3.org/2005/08/addressing" xmlns:rps="http://namespaces.gsma.org/esim-messaging/3"><env:Header><wsa:MessageID>//1.3.6.1.4.1.99999.20/urn:uuid:1?TransactionId=urn:uuid:2&amp;MessageDate=2024-05-01T10:00:00Z</wsa:MessageID><wsa:Action>http://gsma.com/ES4/eUICCManagement/ES4-HandleSMSRChangeNotification</wsa:Action></env:Header><env:Body>`
const envClose = `</env:Body></env:Envelope>`

// smsrChange is an ES4 SMSRChange notification whose EIS lists profiles profiles.
func smsrChange(profiles int) []byte {
	var b bytes.Buffer
	b.WriteString(envOpen)
	b.WriteString(`<rps:ES4-HandleSMSRChangeNotification><rps:Eis><rps:EumSignedInfo><rps:Eid>89049032000001000000000000000171</rps:Eid><rps:EumId>1.3.6.1.4.1.99999.1</rps:EumId><rps:ProductionDate>2020-01-01T00:00:00Z</rps:ProductionDate><rps:PlatformType>T</rps:PlatformType><rps:PlatformVersion>1.0.0</rps:PlatformVersion><rps:RemainingMemory>1</rps:RemainingMemory><rps:AvailableMemoryForProfiles>1</rps:AvailableMemoryForProfiles><rps:EcasdCertificate/></rps:EumSignedInfo><rps:SmsrId>1.3.6.1.4.1.99999.20</rps:SmsrId>`)
	for i := range profiles {
		fmt.Fprintf(&b, `<rps:ProfileInfo><rps:Iccid>8931041%013d</rps:Iccid><rps:Isd-p-aid>A0000005591010FFFFFFFF8900001100</rps:Isd-p-aid><rps:MnoId>1.3.6.1.4.1.99999.10</rps:MnoId><rps:State>Disabled</rps:State><rps:FallbackAttribute>false</rps:FallbackAttribute></rps:ProfileInfo>`, i)
	}
	b.WriteString(`</rps:Eis><rps:CompletionTimestamp>2024-05-01T10:00:41Z</rps:CompletionTimestamp></rps:ES4-HandleSMSRChangeNotification>`)
	b.WriteString(envClose)
	return b.Bytes()
}

// TestInboundLimits posts hostile and oversized messages to the CallbackServer over mTLS, through the
// real HTTP path: each ends in a clear refusal or a bounded result, never a panic or unbounded memory.
func TestInboundLimits(t *testing.T) {
	gw := gatewaytest.Start(t, gatewaytest.WithLogger(quiet()))
	var profiles, notified atomic.Int64
	var unreadable atomic.Value // the error of the last notification handed over unread
	d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(quiet()),
		esimgw.WithUnmatchedHandler(func(_ context.Context, in *esimgw.Inbound) error {
			if in.Kind == esimgw.InboundNotification && in.Err != nil {
				unreadable.Store(in.Err)
			}
			return nil
		}),
		esimgw.WithNotificationHandler(esimgw.Notifications{SMSRChange: func(_ context.Context, n *esimgw.Notification) error {
			notified.Add(1)
			profiles.Store(int64(len(n.EIS.ProfileInfo)))
			return nil
		}}))
	srv, err := callback.NewServer(d, callback.WithTLS(gw.CallbackServerTLSConfig()), callback.WithLogger(quiet()))
	require.NoError(t, err)
	require.NoError(t, srv.Listen("127.0.0.1:0"))
	t.Cleanup(func() { _ = srv.Close() })
	pair, err := gw.CA().Client("gateway")
	require.NoError(t, err)
	tr := &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair.TLSCertificate()}, RootCAs: gw.CAPool()}}
	t.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr, Timeout: eventually}
	post := func(t *testing.T, body []byte) (int, string) {
		resp, err := hc.Post(srv.URL()+"/", "application/soap+xml; charset=utf-8", bytes.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		out, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return resp.StatusCode, string(out)
	}
	wrap := func(inner string) []byte { return []byte(envOpen + inner + envClose) }
	deep := strings.Repeat("<a>", 200) + strings.Repeat("</a>", 200)

	cases := []struct {
		name     string
		body     []byte
		status   int
		contains string
	}{
		{"EIS with 10k profiles: accepted and decoded whole", smsrChange(10000), http.StatusAccepted, ""},
		{"EIS over the 8 MiB cap (40k profiles): 413", smsrChange(40000), http.StatusRequestEntityTooLarge, "too large"},
		{"huge attribute value over the cap: 413", wrap(`<rps:X a="` + strings.Repeat("x", 9<<20) + `"/>`), http.StatusRequestEntityTooLarge, "too large"},
		{"1 MiB attribute value within the cap: bounded, handed over as unknown", wrap(`<rps:ES4-Future a="` + strings.Repeat("x", 1<<20) + `"/>`), http.StatusAccepted, ""},
		{"200 levels deep: refused", wrap(`<rps:ES4-Future>` + deep + `</rps:ES4-Future>`), http.StatusBadRequest, "deep"},
		{"too many attributes: refused", wrap(`<rps:ES4-Future ` + manyAttrs(100) + `/>`), http.StatusBadRequest, "attribute"},
		{"DOCTYPE with an entity (billion laughs): refused", []byte(`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>` + string(wrap(`<rps:X>&lol2;</rps:X>`))), http.StatusBadRequest, "DOCTYPE"},
		// A notification is the only copy of a state change: one whose body cannot be read is handed over
		// (to the unmatched handler, with the error: checked below), the entity never expanded.
		{"undeclared entity in a known element: handed over unread", bytes.Replace(bytes.Replace(smsrChange(1), []byte("<rps:PlatformType>T<"), []byte("<rps:PlatformType>&xxe;<"), 1),
			[]byte("urn:uuid:1?"), []byte("urn:uuid:entity?"), 1), http.StatusAccepted, ""},
		{"invalid UTF-8: refused", wrap("<rps:X>\xff\xfe</rps:X>"), http.StatusBadRequest, "UTF-8"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := post(t, tc.body)
			assert.Equal(t, tc.status, status, body)
			if tc.contains != "" {
				assert.Contains(t, strings.ToLower(body), strings.ToLower(tc.contains))
			}
		})
	}
	assert.Equal(t, int64(1), notified.Load(), "only the 10k-profile notification reached the handler")
	assert.Equal(t, int64(10000), profiles.Load())
	err, _ = unreadable.Load().(error)
	require.Error(t, err, "the notification with an undeclared entity was handed over with its error")
	assert.Contains(t, strings.ToLower(err.Error()), "entity")
}

func manyAttrs(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `a%d="v" `, i)
	}
	return b.String()
}

// TestClientTransportSecurity: the client side refuses a gateway offering TLS below 1.2, and a
// WS-Security password appears neither in the error nor in the log lines of a failing, retried call.
func TestClientTransportSecurity(t *testing.T) {
	gw := gatewaytest.Start(t, gatewaytest.WithLogger(quiet()))
	op := gatewaytest.NewOperator(t, gw, esimgw.WithDispatcherLogger(quiet()))

	t.Run("gateway offering only TLS 1.1 is refused", func(t *testing.T) {
		var reached atomic.Int64
		old := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			reached.Add(1)
			w.WriteHeader(http.StatusAccepted)
		}))
		pair, err := gw.CA().Server(mtlsCN("localhost")...)
		require.NoError(t, err)
		old.TLS = &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11, Certificates: []tls.Certificate{pair.TLSCertificate()}}
		old.StartTLS()
		t.Cleanup(old.Close)
		c, err := es4.NewClient(strings.Replace(old.URL, "127.0.0.1", "localhost", 1)+"/ES4", append(op.Options,
			esimgw.WithSOAPOptions(soap.WithRetryPolicy(soap.RetryPolicy{MaxAttempts: 1}), soap.WithLogger(quiet())))...)
		require.NoError(t, err)
		_, err = c.EnableProfile(t.Context(), eid, disabled)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "protocol version")
		assert.Zero(t, reached.Load())
	})

	t.Run("WS-Security password never in errors or logs", func(t *testing.T) {
		const password = "s3cr3t-Pa55w0rd-do-not-log"
		logs, logger := newLogBuffer()
		gw.Inject(gatewaytest.ServiceUnavailable{Times: 3})
		c, err := es4.NewClient(gw.ES4URL, append(op.Options, esimgw.WithLogger(logger),
			esimgw.WithSOAPOptions(soap.WithLogger(logger), soap.WithRetryPolicy(soap.RetryPolicy{MaxAttempts: 3, InitialInterval: time.Millisecond}),
				soap.WithUsernameToken(soap.UsernameToken{Username: "operator", Password: password})))...)
		require.NoError(t, err)
		_, err = c.EnableProfile(t.Context(), eid, disabled)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "503")
		assert.NotContains(t, err.Error(), password)
		assert.Contains(t, logs.String(), "retrying call", "the retries were logged")
		assert.NotContains(t, logs.String(), password)
		assert.NotContains(t, fmt.Sprintf("%v %+v %#v", c, c.Engine(), soap.UsernameToken{Password: password}), password)
	})
}

// TestClientTimeouts: a gateway that accepts the connection and never answers. The caller's deadline ends
// the call with an error naming it; without one, the transport's documented ResponseHeaderTimeout does.
func TestClientTimeouts(t *testing.T) {
	gw := gatewaytest.Start(t, gatewaytest.WithLogger(quiet()))
	op := gatewaytest.NewOperator(t, gw, esimgw.WithDispatcherLogger(quiet()))
	release := make(chan struct{})
	pair, err := gw.CA().Server(mtlsCN("localhost")...)
	require.NoError(t, err)
	silent := httptest.NewUnstartedServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	silent.TLS = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair.TLSCertificate()}}
	silent.StartTLS()
	t.Cleanup(func() { close(release); silent.Close() })
	url := strings.Replace(silent.URL, "127.0.0.1", "localhost", 1) + "/ES4"

	t.Run("the caller's deadline", func(t *testing.T) {
		c, err := es4.NewClient(url, append(op.Options, esimgw.WithSOAPOptions(soap.WithLogger(quiet())))...)
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		o, err := c.EnableProfile(ctx, eid, disabled)
		require.NoError(t, err, "the request was written: its outcome is unknown and its operation stays pending")
		assert.Less(t, time.Since(start), eventually, "the deadline ended the call")
		assert.Equal(t, 1, op.Dispatcher.Tracker().Pending())
		_, err = o.Wait(ctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.ErrorIs(t, err, esimgw.ErrOutcomeUnknown)
		assert.Contains(t, err.Error(), "context deadline exceeded")
		assert.Zero(t, op.Dispatcher.Tracker().Pending(), "Wait withdrew it when its context ended")
	})
	t.Run("no deadline: the transport's response-header timeout", func(t *testing.T) {
		assert.Equal(t, 60*time.Second, soap.DefaultTransportSettings().ResponseHeaderTimeout, "the documented default")
		// The default, shortened for the test.
		tr := soap.NewTransportWith(gw.ClientTLSConfig(), soap.TransportSettings{ResponseHeaderTimeout: 200 * time.Millisecond})
		t.Cleanup(tr.CloseIdleConnections)
		c, err := es4.NewClient(url, append(op.Options, esimgw.WithHTTPClient(&http.Client{Transport: tr}),
			esimgw.WithSOAPOptions(soap.WithLogger(quiet()), soap.WithRetryPolicy(soap.RetryPolicy{MaxAttempts: 2, InitialInterval: time.Millisecond})))...)
		require.NoError(t, err)
		o, err := c.EnableProfile(context.Background(), eid, disabled)
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		_, err = o.Wait(ctx)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "timeout awaiting response headers")
		var ce *soap.CallError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, 1, ce.Attempts, "a request that timed out after it was written is not resent")
		assert.Equal(t, soap.OutcomeUnknown, ce.Outcome)
	})
}

func mtlsCN(cn string) []mtlstest.Option { return []mtlstest.Option{mtlstest.WithCommonName(cn)} }

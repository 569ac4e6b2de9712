package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/es4"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/internal/pgtest"
	"github.com/esimgw/esimgw/mtls"
)

// freePort returns a loopback port nobody listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}

// startMock runs esimgw mock in the background and returns what it printed.
func startMock(t *testing.T, args ...string) (proc, mockJSON) {
	t.Helper()
	p := startCLI(t, nil, append([]string{"mock", "-o", "json", "--certs", t.TempDir()}, args...)...)
	p.waitFor(t, `"callbackArgs"[^\]]*\]\s*}`)
	var info mockJSON
	require.NoError(t, json.Unmarshal([]byte(p.Stdout()), &info), p.Stdout())
	return p, info
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(b)
}

// scrape reads the Prometheus exposition at url with the Prometheus text parser.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	code, body := get(t, url)
	require.Equal(t, http.StatusOK, code)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	require.NoError(t, err, body)
	return fams
}

// value adds the values of the family's series whose labels include want (counter, gauge, or a
// histogram's sample count).
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f, ok := fams[name]
	if !ok {
		return -1
	}
	var sum float64
next:
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		case m.Histogram != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum
}

// TestListenMetricsScrape runs esimgw mock and esimgw listen --metrics as an operator would, has the mock
// send callbacks nobody in listen waits for and notifications, refuses a connection without a client
// certificate, and reads the exposition with the Prometheus text parser.
func TestListenMetricsScrape(t *testing.T) {
	port := freePort(t)
	replyTo := "https://localhost:" + strconv.Itoa(port) + "/"
	_, info := startMock(t, "--notify", replyTo)

	listen := startCLI(t, nil, append(append([]string{"listen"}, info.CallbackArgs...),
		"--listen", "127.0.0.1:"+strconv.Itoa(port), "--metrics", "127.0.0.1:0", "--health", "127.0.0.1:0")...)
	metrics := listen.waitFor(t, `metrics +http://(\S+)`)
	health := listen.waitFor(t, `health +http://(\S+)`)
	listen.waitFor(t, "listening; stop")

	code, body := get(t, "http://"+health+"/readyz")
	assert.Equal(t, http.StatusOK, code, body)
	assert.JSONEq(t, `{"status":"ok","checks":{"callback-server":"ok"}}`, body)

	// Two asynchronous requests whose callbacks go to listen: it waits for neither, so they are unmatched.
	src, err := mtls.NewFileSource(info.Files.ClientCert, info.Files.ClientKey)
	require.NoError(t, err)
	pool, err := mtls.LoadCAPool(info.Files.CA)
	require.NoError(t, err)
	tlsCfg, err := mtls.ClientConfig(src, mtls.WithRootCAs(pool))
	require.NoError(t, err)
	c, err := es4.NewClient(info.ES4URL, esimgw.WithEntity(info.OperatorID, ""), esimgw.WithTLSConfig(tlsCfg),
		esimgw.WithReplyTo(replyTo), esimgw.WithDispatcher(esimgw.NewDispatcher()))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = c.EnableProfile(ctx, gatewaytest.DefaultEID, gatewaytest.DefaultDisabledICCID)
	require.NoError(t, err)
	_, err = c.AuditEIS(ctx, gatewaytest.DefaultEID, nil)
	require.NoError(t, err)
	listen.waitFor(t, `callback ES4 EnableProfile EXECUTED_SUCCESS`)
	listen.waitFor(t, `callback ES4 AuditEIS EXECUTED_SUCCESS`)

	// A device-side event: ProfileEnabled and ProfileDisabled on ES4 and ES2.
	r := runCLI(t, nil, "mock", "event", "switch", "--control", info.Control, "--eid", gatewaytest.DefaultEID, "--iccid", gatewaytest.DefaultEnabledICCID)
	require.Equal(t, exitOK, r.code, r.stderr)
	deadline := time.Now().Add(30 * time.Second)
	for strings.Count(listen.Stdout(), "notification ES") < 4 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	require.Equal(t, 4, strings.Count(listen.Stdout(), "notification ES"), listen.Stdout())

	// A connection without a client certificate is refused in the handshake.
	conn, err := tls.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port), &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12, ServerName: "localhost"})
	if err == nil {
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		_, err = conn.Read(make([]byte, 1))
		_ = conn.Close()
	}
	require.Error(t, err)

	var fams map[string]*dto.MetricFamily
	for time.Now().Before(deadline) {
		fams = scrape(t, "http://"+metrics+"/metrics")
		if value(fams, "esimgw_inbound_refused_total", map[string]string{"esimgw_refusal_cause": "tls"}) == 1 &&
			value(fams, "esimgw_inbound_messages_total", nil) == 6 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	callback := map[string]string{"esimgw_inbound_kind": "callback", "esimgw_inbound_match": "unmatched", "rpc_service": "ES4", "rpc_system": "soap"}
	for method, n := range map[string]float64{"EnableProfile": 1, "AuditEIS": 1} {
		callback["rpc_method"] = method
		assert.Equal(t, n, value(fams, "esimgw_inbound_messages_total", callback), method)
	}
	assert.Equal(t, 4.0, value(fams, "esimgw_inbound_messages_total", map[string]string{"esimgw_inbound_kind": "notification", "esimgw_inbound_match": "handled"}))
	assert.Equal(t, 6.0, value(fams, "rpc_server_call_duration_seconds", nil), "one hand-over duration a message")
	assert.Equal(t, 2.0, value(fams, "esimgw_notifications_total", map[string]string{"esimgw_notification_kind": "ProfileEnabled"}))
	assert.Equal(t, 1.0, value(fams, "esimgw_notifications_total", map[string]string{"esimgw_notification_kind": "ProfileDisabled", "rpc_service": "ES4"}))
	assert.Equal(t, 1.0, value(fams, "esimgw_inbound_refused_total", map[string]string{"esimgw_refusal_cause": "tls"}))
	assert.Equal(t, 0.0, value(fams, "esimgw_operations_pending", nil))
	for _, name := range []string{"esimgw_inbound_messages_total", "esimgw_notifications_total", "esimgw_inbound_refused_total"} {
		assert.Equal(t, dto.MetricType_COUNTER, fams[name].GetType(), name)
	}
	assert.Equal(t, dto.MetricType_GAUGE, fams["esimgw_operations_pending"].GetType())
	assert.Equal(t, dto.MetricType_HISTOGRAM, fams["rpc_server_call_duration_seconds"].GetType())

	assert.Equal(t, exitInterrupted, listen.interrupt(t))
	assert.Contains(t, listen.Stderr(), "interrupted after 6 messages")
}

// TestMockClientFlagsAndEvents runs a client with the exact flags esimgw mock prints, drives a device
// event through the control API and checks the state the control API reports.
func TestMockClientFlagsAndEvents(t *testing.T) {
	_, info := startMock(t)
	require.NotEmpty(t, info.EUICCs)
	args := append(append([]string{"enable", "-o", "json", "--eid", gatewaytest.DefaultEID, "--iccid", gatewaytest.DefaultDisabledICCID},
		info.ClientArgs...), info.CallbackArgs...)
	r := runCLI(t, nil, append(args, "--listen", "127.0.0.1:0")...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "EXECUTED_SUCCESS", decodeObject(t, r.stdout)["status"])

	r = runCLI(t, map[string]string{"ESIMGW_MOCK_CONTROL": info.Control}, "mock", "event", "switch", "-o", "json",
		"--eid", gatewaytest.DefaultEID, "--iccid", gatewaytest.DefaultEnabledICCID)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.JSONEq(t, `{"event":"switch","eid":"`+gatewaytest.DefaultEID+`","iccid":"`+gatewaytest.DefaultEnabledICCID+`"}`, r.stdout)

	code, body := get(t, info.Control+"/v1/euiccs")
	require.Equal(t, http.StatusOK, code)
	var euiccs []gatewaytest.EUICC
	require.NoError(t, json.Unmarshal([]byte(body), &euiccs))
	for _, e := range euiccs {
		if e.EID == gatewaytest.DefaultEID {
			en, ok := e.Enabled()
			require.True(t, ok)
			assert.Equal(t, gatewaytest.DefaultEnabledICCID, en.ICCID, "the local switch happened")
		}
	}

	r = runCLI(t, nil, "mock", "event", "switch", "--control", info.Control, "--eid", gatewaytest.DefaultEID, "--iccid", gatewaytest.CatalogICCID)
	assert.Equal(t, exitFailed, r.code, "the mock refuses a profile the device does not have")
	assert.Contains(t, r.stderr, "the mock refused the event")
}

// TestMockRestartKeepsCertificates restarts esimgw mock on the same --certs folder: the CA and the files a
// peer took from the first run still work against the second.
func TestMockRestartKeepsCertificates(t *testing.T) {
	dir := t.TempDir()
	first := startCLI(t, nil, "mock", "-o", "json", "--certs", dir)
	first.waitFor(t, `"callbackArgs"[^\]]*\]\s*}`)
	var info1 mockJSON
	require.NoError(t, json.Unmarshal([]byte(first.Stdout()), &info1), first.Stdout())
	ca, err := os.ReadFile(info1.Files.CA)
	require.NoError(t, err)
	assert.Equal(t, exitOK, first.interrupt(t), "the mock ends cleanly when interrupted")

	second := startCLI(t, nil, "mock", "-o", "json", "--certs", dir)
	second.waitFor(t, `"callbackArgs"[^\]]*\]\s*}`)
	var info2 mockJSON
	require.NoError(t, json.Unmarshal([]byte(second.Stdout()), &info2), second.Stdout())
	again, err := os.ReadFile(info2.Files.CA)
	require.NoError(t, err)
	assert.Equal(t, ca, again, "the same CA")
	assert.Equal(t, info1.Files, info2.Files)

	// The first run's client flags (its files), with the second run's URLs.
	args := []string{"audit", "-o", "json", "--eid", gatewaytest.DefaultEID, "--listen", "127.0.0.1:0"}
	for i := 0; i+1 < len(info1.ClientArgs); i += 2 {
		v := info1.ClientArgs[i+1]
		switch info1.ClientArgs[i] {
		case "--es2-url":
			v = info2.ES2URL
		case "--es4-url":
			v = info2.ES4URL
		}
		args = append(args, info1.ClientArgs[i], v)
	}
	r := runCLI(t, nil, append(args, info1.CallbackArgs...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
}

// TestInterruptNamesTheAwaitedCall interrupts a command waiting for a callback that does not come.
func TestInterruptNamesTheAwaitedCall(t *testing.T) {
	_, info := startMock(t)
	r := runCLI(t, nil, "mock", "event", "unreachable", "--control", info.Control, "--eid", gatewaytest.DefaultEID)
	require.Equal(t, exitOK, r.code, r.stderr)

	args := append(append([]string{"enable", "--eid", gatewaytest.DefaultEID, "--iccid", gatewaytest.DefaultDisabledICCID, "--listen", "127.0.0.1:0"},
		info.ClientArgs...), info.CallbackArgs...)
	p := startCLI(t, nil, args...)
	fcID := p.waitFor(t, `sent \(FunctionCallIdentifier (\S+)\), waiting`)
	assert.Equal(t, exitInterrupted, p.interrupt(t))
	assert.Equal(t, 1, strings.Count(p.Stderr(), "\n"), p.Stderr())
	assert.Contains(t, p.Stderr(), "interrupted while waiting for the callback of ES4 EnableProfile (FunctionCallIdentifier "+fcID+")")
}

// TestListenReadinessWithStore checks that /readyz includes the store when --store is given.
func TestListenReadinessWithStore(t *testing.T) {
	listen := startCLI(t, nil, "listen", "--store", pgtest.URL(t), "--health", "127.0.0.1:0")
	health := listen.waitFor(t, `health +http://(\S+)`)
	listen.waitFor(t, "listening; stop")
	code, body := get(t, "http://"+health+"/readyz")
	assert.Equal(t, http.StatusOK, code, body)
	assert.JSONEq(t, `{"status":"ok","checks":{"callback-server":"ok","store":"ok"}}`, body)
	code, _ = get(t, "http://"+health+"/healthz")
	assert.Equal(t, http.StatusOK, code)
}

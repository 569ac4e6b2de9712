package main

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/gatewaytest"
)

// stdoutSpan is the part of the stdouttrace exporter's JSON a test reads.
type stdoutSpan struct {
	Name        string
	SpanContext struct{ TraceID, SpanID string }
	Parent      struct{ TraceID, SpanID string }
	Attributes  []struct {
		Key   string
		Value struct{ Value any }
	}
}

func (s stdoutSpan) attr(key string) any {
	for _, a := range s.Attributes {
		if a.Key == key {
			return a.Value.Value
		}
	}
	return nil
}

// TestTraceStderr: --trace stderr writes one JSON span a line, and one asynchronous call is one trace (the
// request, its callback and the Wait), while stdout stays one JSON document.
func TestTraceStderr(t *testing.T) {
	r := runCLI(t, nil, "enable", "-o", "json", "--trace", "stderr", "--eid", gatewaytest.DefaultEID, "--iccid", gatewaytest.DefaultDisabledICCID)
	require.Equal(t, exitOK, r.code, r.stderr)
	result := decodeObject(t, r.stdout)
	spans := map[string]stdoutSpan{}
	sc := bufio.NewScanner(strings.NewReader(r.stderr))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var s stdoutSpan
		require.NoError(t, json.Unmarshal(sc.Bytes(), &s), "stderr line is not a span: %s", sc.Text())
		spans[s.Name] = s
	}
	call, cb, wait := spans["ES4/EnableProfile"], spans["callback ES4/EnableProfile"], spans["wait ES4/EnableProfile"]
	require.NotEmpty(t, call.SpanContext.TraceID, r.stderr)
	assert.Equal(t, call.SpanContext.TraceID, cb.SpanContext.TraceID, "the callback continues the call's trace")
	assert.Equal(t, call.SpanContext.SpanID, cb.Parent.SpanID)
	assert.Equal(t, call.SpanContext.SpanID, wait.Parent.SpanID, "the Wait is a child of the call")
	assert.Equal(t, result["functionCallIdentifier"], call.attr("esimgw.function_call_identifier"))
	assert.Equal(t, "resolved", wait.attr("esimgw.wait.result"))
	assert.Equal(t, "EXECUTED_SUCCESS", wait.attr("esimgw.status"))
}

func TestTelemetryFlagsRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"unknown exporter", nil, []string{"--trace", "jaeger"}, `--trace "jaeger": want stderr, stdout or none`},
		{"stdout under JSON", nil, []string{"-o", "json", "--trace", "stdout"}, "--trace stdout: stdout carries only JSON"},
		{"from the environment", map[string]string{"ESIMGW_TRACE": "zipkin"}, nil, `--trace "zipkin"`},
		{"metrics address", nil, []string{"--metrics", "256.0.0.1:1"}, "--metrics 256.0.0.1:1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := runCLI(t, c.env, append([]string{"audit", "--eid", gatewaytest.DefaultEID}, c.args...)...)
			assert.Equal(t, exitUsage, r.code)
			assert.Equal(t, 1, strings.Count(r.stderr, "\n"), r.stderr)
			assert.Contains(t, r.stderr, c.want)
			assert.Empty(t, r.stdout)
		})
	}
}

// TestMetricsOfAOneShotCommand scrapes --metrics of enable while it waits for a callback the mock holds
// back (the device is unreachable): the call and the pending operation are there while the command runs.
func TestMetricsOfAOneShotCommand(t *testing.T) {
	_, info := startMock(t)
	r := runCLI(t, nil, "mock", "event", "unreachable", "--control", info.Control, "--eid", gatewaytest.DefaultEID)
	require.Equal(t, exitOK, r.code, r.stderr)

	args := append(append([]string{"enable", "--metrics", "127.0.0.1:0", "--eid", gatewaytest.DefaultEID, "--iccid", gatewaytest.DefaultDisabledICCID,
		"--listen", "127.0.0.1:0"}, info.ClientArgs...), info.CallbackArgs...)
	p := startCLI(t, nil, args...)
	metrics := p.waitFor(t, `metrics +http://(\S+)`)
	p.waitFor(t, `sent \(FunctionCallIdentifier (\S+)\), waiting`)
	fams := scrape(t, "http://"+metrics+"/metrics")
	assert.Equal(t, 1.0, value(fams, "esimgw_calls_total", map[string]string{"rpc_method": "EnableProfile", "esimgw_status": "ACCEPTED", "rpc_service": "ES4"}))
	assert.Equal(t, 1.0, value(fams, "rpc_client_call_duration_seconds", map[string]string{"rpc_method": "EnableProfile"}))
	assert.Equal(t, 1.0, value(fams, "esimgw_operations_pending", nil), "the operation waits for its callback")
	assert.Equal(t, exitInterrupted, p.interrupt(t))
}

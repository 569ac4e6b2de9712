package main

import (
	"context"
	"crypto/tls"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/es4"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/internal/clitest"
)

func TestListenEmbedded(t *testing.T) {
	r := clitest.Exec(t, run, nil, "-count", "8")
	require.Equal(t, 0, r.Code, r.Stderr)
	assert.Equal(t, 8, strings.Count(r.Stdout, "notification "), r.Stdout)
	assert.Contains(t, r.Stdout, "notification ES4 ProfileEnabled eid="+gatewaytest.DefaultEID+" iccid="+gatewaytest.DefaultDisabledICCID)
	assert.Contains(t, r.Stdout, "notification ES4 ProfileEnabled eid="+gatewaytest.DefaultEID+" iccid="+gatewaytest.FallbackICCID)
	assert.Contains(t, r.Stdout, "8 messages received")
}

// Against a gateway of its own (KPN behaviour): notifications and a callback of a call another client sent
// with the listener as its replyTo.
func TestListenKPNAgainstMock(t *testing.T) {
	gw := gatewaytest.Start(t, gatewaytest.WithProfile(gatewaytest.ProfileKPN))
	env := clitest.With(clitest.GatewayEnv(t, gw), "ESIMGW_KPN", "1")
	p := clitest.Start(t, run, env, "-count", "3")
	base := p.WaitFor(t, clitest.CallbacksURL)
	p.WaitFor(t, "listening")
	gw.SetNotificationURL(gatewaytest.ES4, base+"/")

	require.NoError(t, gw.SimulateLocalEnable(gatewaytest.DefaultEID, gatewaytest.DefaultDisabledICCID))

	// Another process's client: its Dispatcher never sees the callback, the listener does.
	c, err := es4.NewClient(gw.ES4URL, esimgw.WithKPN(), esimgw.WithEntity(gw.OperatorID, "sender"),
		esimgw.WithTLSConfig(gw.ClientTLSConfig()), esimgw.WithReplyTo(base+"/"), esimgw.WithDispatcher(esimgw.NewDispatcher()))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	op, err := c.AuditEIS(ctx, gatewaytest.DefaultEID, nil, esimgw.WithFunctionCallIdentifier("audit-from-elsewhere"))
	require.NoError(t, err)
	op.Abandon()

	r := p.Wait(t)
	require.Equal(t, 0, r.Code, r.Stderr)
	assert.Contains(t, r.Stdout, "notification ES4 ProfileEnabled eid="+gatewaytest.DefaultEID+" iccid="+gatewaytest.DefaultDisabledICCID)
	assert.Contains(t, r.Stdout, "notification ES4 ProfileDisabled eid="+gatewaytest.DefaultEID+" iccid="+gatewaytest.DefaultEnabledICCID)
	assert.Contains(t, r.Stdout, "callback ES4 AuditEIS EXECUTED_SUCCESS FunctionCallIdentifier=audit-from-elsewhere")
	assert.Contains(t, r.Stdout, "3 messages received")
}

func TestListenUsage(t *testing.T) {
	r := clitest.Exec(t, run, map[string]string{"ESIMGW_KPN": "1"})
	assert.Equal(t, 2, r.Code)
	clitest.OneLine(t, r.Stderr)
	assert.Contains(t, r.Stderr, "-callback-cert, -callback-key, -callback-ca")
	assert.NotContains(t, r.Stderr, "required: -cert", "listen makes no calls")
}

// Issue 17, defect 8: a connection refused at the TLS handshake (no client certificate) is reported in
// one line without -v.
func TestListenReportsRefusedTLS(t *testing.T) {
	p := clitest.Start(t, run, nil, "-count", "100")
	base := p.WaitFor(t, clitest.CallbacksURL)
	p.WaitFor(t, "listening")
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, Timeout: 5 * time.Second}
	if res, err := hc.Post(base+"/", "application/soap+xml", strings.NewReader("<x/>")); err == nil {
		_ = res.Body.Close()
		t.Fatal("a client without a certificate got an answer")
	}
	r := p.Stop()
	var refused []string
	for _, l := range strings.Split(r.Stderr, "\n") {
		if strings.Contains(l, "connection refused") {
			refused = append(refused, l)
		}
	}
	require.Len(t, refused, 1, r.Stderr)
	assert.Contains(t, refused[0], "level=WARN")
	assert.Contains(t, refused[0], "TLS handshake error")
}

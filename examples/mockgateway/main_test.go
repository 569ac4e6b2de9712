package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/mtls"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

func TestRunServesUntilCancelled(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-certs", dir, "-profile", "kpn"}, pw); pw.Close() }()

	lines := map[string]string{}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if sc.Text() == "ready" {
			break
		}
		k, v, _ := strings.Cut(sc.Text(), " ")
		lines[k] = strings.TrimSpace(v)
	}
	go io.Copy(io.Discard, pr)
	require.Contains(t, lines, "ES4")
	assert.Equal(t, "kpn", lines["profile"])

	// Call it with the written certificates.
	src, err := mtls.NewFileSource(filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.key"))
	require.NoError(t, err)
	pool, err := mtls.LoadCAPool(filepath.Join(dir, "ca.pem"))
	require.NoError(t, err)
	cfg, err := mtls.ClientConfig(src, mtls.WithRootCAs(pool))
	require.NoError(t, err)
	client := soap.NewClient(soap.WithTLSConfig(cfg))
	eid, _ := rps.ParseHexBinary(gatewaytest.DefaultEID)
	f, _ := rps.FunctionByName(rps.ES4, "AuditEIS")
	resp, err := client.Call(ctx, lines["ES4"], &soap.Header{
		From: "https://op.example?EntityId=" + gatewaytest.DefaultOperatorID, To: lines["ES4"],
		MessageID: soap.NewMessageID(gatewaytest.DefaultOperatorID, time.Now()).String(), Action: f.RequestAction,
	}, &rps.ES4AuditEISRequest{BaseRequestType: rps.BaseRequestType{FunctionCallIdentifier: "m1"}, Eid: eid})
	require.NoError(t, err)
	assert.Equal(t, 202, resp.StatusCode)

	cancel()
	require.NoError(t, <-done)
}

func TestRunFlags(t *testing.T) {
	var out strings.Builder
	err := run(context.Background(), []string{"-h"}, &out)
	assert.True(t, errors.Is(err, flag.ErrHelp))
	assert.Contains(t, out.String(), "-profile")
	assert.Error(t, run(context.Background(), []string{"-profile", "nope"}, io.Discard))
	assert.Error(t, run(context.Background(), []string{"-seed", filepath.Join(t.TempDir(), "missing.json")}, io.Discard))
}

package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"io"
	"os"
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

// startRun runs the mock on dir until the returned stop is called, and returns what it printed.
func startRun(t *testing.T, dir string) (map[string]string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-certs", dir}, pw); pw.Close() }()
	lines := map[string]string{}
	sc := bufio.NewScanner(pr)
	for sc.Scan() && sc.Text() != "ready" {
		k, v, _ := strings.Cut(sc.Text(), " ")
		lines[k] = strings.TrimSpace(v)
	}
	go io.Copy(io.Discard, pr)
	return lines, func() { cancel(); require.NoError(t, <-done) }
}

// Issue 17, defect 8: a restart on the same -certs folder reuses its CA and files, so a peer holding the
// files of the first run still gets through.
func TestRunReusesCertificates(t *testing.T) {
	dir := t.TempDir()
	_, stop := startRun(t, dir)
	stop()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		return b
	}
	ca, clientCert, clientKey := read("ca.pem"), read("client.crt"), read("client.key")
	st, err := os.Stat(filepath.Join(dir, "ca.key"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "the CA key is private")

	lines, stop := startRun(t, dir)
	defer stop()
	assert.Equal(t, ca, read("ca.pem"), "same CA")
	assert.Equal(t, clientCert, read("client.crt"), "the peer's files are kept")
	assert.Equal(t, clientKey, read("client.key"))

	src, err := mtls.NewFileSource(filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.key"))
	require.NoError(t, err)
	pool, err := mtls.LoadCAPool(filepath.Join(dir, "ca.pem"))
	require.NoError(t, err)
	cfg, err := mtls.ClientConfig(src, mtls.WithRootCAs(pool))
	require.NoError(t, err)
	client := soap.NewClient(soap.WithTLSConfig(cfg), soap.WithRetryPolicy(soap.RetryPolicy{MaxAttempts: 1}))
	eid, _ := rps.ParseHexBinary(gatewaytest.DefaultEID)
	f, _ := rps.FunctionByName(rps.ES4, "GetEIS")
	_, err = client.Call(context.Background(), lines["ES4"], &soap.Header{
		From: "https://op.example?EntityId=" + gatewaytest.DefaultOperatorID, To: lines["ES4"],
		MessageID: soap.NewMessageID(gatewaytest.DefaultOperatorID, time.Now()).String(), Action: f.RequestAction,
	}, &rps.ES4GetEISRequest{BaseRequestType: rps.BaseRequestType{FunctionCallIdentifier: "r1"}, Eid: eid})
	require.NoError(t, err, "the second run trusts the first run's client certificate and is trusted by its CA file")

	// A CA certificate without its key cannot be reused: said so, not silently replaced.
	other := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(other, "ca.pem"), ca, 0o644))
	err = run(context.Background(), []string{"-certs", other}, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no ca.key")
}

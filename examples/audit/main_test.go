package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/internal/cli"
	"github.com/esimgw/esimgw/internal/clitest"
)

func TestAuditEmbedded(t *testing.T) {
	r := clitest.Exec(t, run, nil)
	require.Equal(t, 0, r.Code, r.Stderr)
	assert.Contains(t, r.Stdout, "embedded mock")
	assert.Contains(t, r.Stdout, "-> ES4 AuditEIS sent")
	assert.Contains(t, r.Stdout, "<- callback ES4 AuditEIS: EXECUTED_SUCCESS")
	assert.Regexp(t, `ICCID\s+STATE\s+FALL-BACK`, r.Stdout)
	assert.Regexp(t, gatewaytest.DefaultEnabledICCID+`\s+Enabled`, r.Stdout)
	assert.Regexp(t, gatewaytest.FallbackICCID+`\s+Disabled\s+yes`, r.Stdout)
	assert.NotContains(t, r.Stdout, gatewaytest.OtherMNOICCID, "another MNO's profile is not listed")
}

func TestAuditSeveralEIDs(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "eids.txt")
	require.NoError(t, os.WriteFile(file, []byte("# fleet\n"+gatewaytest.SecondEID+"\n\n"+gatewaytest.FullEID+"\n"), 0o600))
	r := clitest.Exec(t, run, nil, "-eid", gatewaytest.DefaultEID, "-eids", file, "-concurrency", "2")
	require.Equal(t, 0, r.Code, r.Stderr)
	assert.Contains(t, r.Stdout, gatewaytest.DefaultEID+"  EXECUTED_SUCCESS  profiles=3 enabled="+gatewaytest.DefaultEnabledICCID)
	assert.Contains(t, r.Stdout, gatewaytest.SecondEID+"  EXECUTED_SUCCESS  profiles=1 enabled="+gatewaytest.SecondEnabledICCID)
	assert.Contains(t, r.Stdout, gatewaytest.FullEID+"  EXECUTED_SUCCESS")
	assert.Contains(t, r.Stderr, "3/3", "the progress bar")
}

func TestAuditKPNAgainstMock(t *testing.T) {
	gw := gatewaytest.Start(t, gatewaytest.WithProfile(gatewaytest.ProfileKPN))
	env := clitest.With(clitest.GatewayEnv(t, gw), "ESIMGW_KPN", "1", "ESIMGW_PROVIDER_ENTITY_ID", "1.3.6.1.4.1.54008")
	r := clitest.Exec(t, run, env, "-eid", gatewaytest.DefaultEID)
	require.Equal(t, 0, r.Code, r.Stderr)
	assert.Contains(t, r.Stdout, "ES4       "+gw.ES4URL+" (KPN)")
	assert.Regexp(t, gatewaytest.DefaultEnabledICCID+`\s+Enabled`, r.Stdout)

	reqs := gw.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, gatewaytest.FnAuditEIS, reqs[0].Function)
	assert.Equal(t, byte('?'), byte(reqs[0].From.Separator), "KPN's '?' separators: %s", reqs[0].Header.From)
	assert.Equal(t, gw.OperatorID, reqs[0].From.EntityID)
	pid, ok := reqs[0].From.ProviderEntityID()
	assert.True(t, ok)
	assert.Equal(t, "1.3.6.1.4.1.54008", pid)
	assert.Contains(t, reqs[0].Header.From, "?EntityId="+gw.OperatorID+"?EntityName=esimgw-test?X-KPN-ProviderEntityId=1.3.6.1.4.1.54008")
}

func TestAuditFlagsWinOverEnv(t *testing.T) {
	gw := gatewaytest.Start(t)
	env := clitest.With(clitest.GatewayEnv(t, gw), "ESIMGW_ENTITY_ID", "1.2.3", "ESIMGW_EID", gatewaytest.SecondEID)
	r := clitest.Exec(t, run, env, "-entity-id", gw.OperatorID)
	require.Equal(t, 0, r.Code, r.Stderr)
	assert.Contains(t, r.Stdout, "eUICC "+gatewaytest.SecondEID, "-eid from ESIMGW_EID")
	require.Len(t, gw.Requests(), 1)
	assert.Equal(t, gw.OperatorID, gw.Requests()[0].From.EntityID, "the flag, not ESIMGW_ENTITY_ID")
	assert.Equal(t, byte('&'), byte(gw.Requests()[0].From.Separator), "no -kpn: '&' separators")
}

func TestAuditHelp(t *testing.T) {
	r := clitest.Exec(t, run, nil, "-h")
	assert.Equal(t, 0, r.Code)
	for _, s := range []string{"Usage: audit", "-kpn", "-es4-url", "ESIMGW_CERT", "-callback-ca", "-provider-entity-id", "-eids", "ESIMGW_EID"} {
		assert.Contains(t, r.Stdout, s)
	}
	assert.NotContains(t, r.Stdout, "-es2-url", "an ES4 program")
}

func TestAuditErrors(t *testing.T) {
	gw := gatewaytest.Start(t)
	env := clitest.GatewayEnv(t, gw)
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pem")
	require.NoError(t, os.WriteFile(garbage, []byte("not a certificate\n"), 0o600))
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
		code int
		msg  string
	}{
		{"bad EID", nil, []string{"-eid", "89049032000001000000000000000172"}, cli.ExitError, `invalid Eid "89049032000001000000000000000172"`},
		{"bad ICCID", nil, []string{"-iccid", "8931041000000000001"}, cli.ExitError, `invalid Iccid "8931041000000000001"`},
		{"missing cert file", clitest.With(env, "ESIMGW_CERT", filepath.Join(dir, "missing.crt")), []string{"-eid", gatewaytest.DefaultEID},
			cli.ExitError, "client certificate (-cert, -key): " + filepath.Join(dir, "missing.crt")},
		{"unreadable cert file", clitest.With(env, "ESIMGW_CERT", dir), []string{"-eid", gatewaytest.DefaultEID},
			cli.ExitError, "client certificate (-cert, -key): " + dir + ": unreadable"},
		{"not a certificate", clitest.With(env, "ESIMGW_CALLBACK_CERT", garbage), []string{"-eid", gatewaytest.DefaultEID},
			cli.ExitError, "callback server certificate"},
		{"missing CA bundle", clitest.With(env, "ESIMGW_CA", filepath.Join(dir, "ca.pem")), []string{"-eid", gatewaytest.DefaultEID},
			cli.ExitError, "gateway CA bundle (-ca)"},
		{"unreachable gateway", clitest.With(env, "ESIMGW_ES4_URL", "https://127.0.0.1:1"+gatewaytest.ES4Path), []string{"-eid", gatewaytest.DefaultEID, "-timeout", "2s"},
			cli.ExitError, "127.0.0.1:1"},
		{"missing flags", map[string]string{"ESIMGW_KPN": "true"}, []string{"-eid", gatewaytest.DefaultEID}, cli.ExitUsage, "-cert, -key, -entity-id, -callback-cert, -callback-key, -callback-ca, -replyto"},
		{"no EID against a gateway", env, nil, cli.ExitUsage, "give -eid or -eids"},
		{"bad entity id", env, []string{"-eid", gatewaytest.DefaultEID, "-entity-id", "1..2"}, cli.ExitError, "-entity-id"},
		{"unknown flag", nil, []string{"-nope"}, cli.ExitUsage, "flag provided but not defined: -nope"},
		{"bad timeout env", map[string]string{"ESIMGW_TIMEOUT": "soon"}, nil, cli.ExitUsage, "ESIMGW_TIMEOUT"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := clitest.Exec(t, run, c.env, c.args...)
			assert.Equal(t, c.code, r.Code, r.Stderr)
			clitest.OneLine(t, r.Stderr)
			assert.Contains(t, r.Stderr, c.msg)
			assert.True(t, strings.HasPrefix(r.Stderr, "esimgw-test: "))
		})
	}
}

package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/internal/cli"
	"github.com/esimgw/esimgw/internal/clitest"
	"github.com/esimgw/esimgw/internal/pgtest"
)

func TestEnableEmbedded(t *testing.T) {
	r := clitest.Exec(t, run, nil)
	require.Equal(t, 0, r.Code, r.Stderr)
	assert.Contains(t, r.Stdout, "-> ES4 EnableProfile sent")
	assert.Contains(t, r.Stdout, "<- callback ES4 EnableProfile: EXECUTED_SUCCESS")
	assert.Contains(t, r.Stdout, "profile "+gatewaytest.DefaultDisabledICCID+" is enabled on "+gatewaytest.DefaultEID)
}

func TestEnableKPNAgainstMock(t *testing.T) {
	gw := gatewaytest.Start(t, gatewaytest.WithProfile(gatewaytest.ProfileKPN))
	env := clitest.With(clitest.GatewayEnv(t, gw), "ESIMGW_KPN", "1")
	r := clitest.Exec(t, run, env, "-eid", gatewaytest.DefaultEID, "-iccid", gatewaytest.DefaultDisabledICCID,
		"-provider-entity-id", "1.3.6.1.4.1.54008")
	require.Equal(t, 0, r.Code, r.Stderr)
	assert.Contains(t, r.Stdout, "EXECUTED_SUCCESS")
	p, _ := gw.EUICC(gatewaytest.DefaultEID)
	enabled, _ := p.Enabled()
	assert.Equal(t, gatewaytest.DefaultDisabledICCID, enabled.ICCID)

	reqs := gw.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, gatewaytest.FnEnableProfile, reqs[0].Function)
	assert.Equal(t, byte('?'), byte(reqs[0].From.Separator), reqs[0].Header.From)
	pid, _ := reqs[0].From.ProviderEntityID()
	assert.Equal(t, "1.3.6.1.4.1.54008", pid)
	assert.Empty(t, gw.Notifications(), "KPN sends no notification for a requested enable")
}

func TestEnableRefused(t *testing.T) {
	r := clitest.Exec(t, run, nil, "-iccid", gatewaytest.DefaultEnabledICCID)
	assert.Equal(t, cli.ExitError, r.Code)
	clitest.OneLine(t, r.Stderr)
	assert.Contains(t, r.Stderr, "ES4 EnableProfile: FAILED: 8.2.1/3.8")
}

func TestEnableUsage(t *testing.T) {
	gw := gatewaytest.Start(t)
	r := clitest.Exec(t, run, clitest.GatewayEnv(t, gw), "-eid", gatewaytest.DefaultEID)
	assert.Equal(t, cli.ExitUsage, r.Code)
	clitest.OneLine(t, r.Stderr)
	assert.Contains(t, r.Stderr, "-iccid is required")
	r = clitest.Exec(t, run, nil, "-iccid", "89310410000000000018")
	assert.Equal(t, cli.ExitError, r.Code)
	assert.Contains(t, r.Stderr, `invalid Iccid "89310410000000000018"`)
}

// With -store the operation is kept in PostgreSQL: after the run its row is there, resolved.
func TestEnableWithStore(t *testing.T) {
	dbURL := pgtest.URL(t)
	r := clitest.Exec(t, run, clitest.With(nil, "ESIMGW_STORE", dbURL))
	require.Equal(t, 0, r.Code, r.Stderr)
	assert.Contains(t, r.Stdout, "<- callback ES4 EnableProfile: EXECUTED_SUCCESS")
	pool := pgtest.PoolFor(t, dbURL)
	var resolved int
	require.NoError(t, pool.QueryRow(context.Background(),
		`SELECT count(*) FROM esimgw_operation WHERE function = 'EnableProfile' AND state = 1`).Scan(&resolved))
	assert.Equal(t, 1, resolved)

	r = clitest.Exec(t, run, nil, "-store", "postgres://nobody@127.0.0.1:1/none")
	assert.Equal(t, cli.ExitError, r.Code)
	clitest.OneLine(t, r.Stderr)
	assert.Contains(t, r.Stderr, "-store")
}

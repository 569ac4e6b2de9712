package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/internal/cli"
	"github.com/esimgw/esimgw/internal/clitest"
)

func TestDisableProfileEmbedded(t *testing.T) {
	r := clitest.Exec(t, run, nil)
	require.Equal(t, 0, r.Code, r.Stderr)
	assert.Contains(t, r.Stdout, "-> ES2 DisableProfile sent")
	assert.Contains(t, r.Stdout, "<- callback ES2 DisableProfile: EXECUTED_SUCCESS")
	assert.Contains(t, r.Stdout, "profile "+gatewaytest.DefaultEnabledICCID+" is disabled on "+gatewaytest.DefaultEID)
}

func TestDisableProfileKPNAgainstMock(t *testing.T) {
	gw := gatewaytest.Start(t, gatewaytest.WithProfile(gatewaytest.ProfileKPN))
	env := clitest.With(clitest.GatewayEnv(t, gw), "ESIMGW_KPN", "1", "ESIMGW_PROVIDER_ENTITY_ID", "1.3.6.1.4.1.54008")
	r := clitest.Exec(t, run, env, "-eid", gatewaytest.DefaultEID, "-iccid", gatewaytest.DefaultEnabledICCID)
	require.Equal(t, 0, r.Code, r.Stderr)
	e, _ := gw.EUICC(gatewaytest.DefaultEID)
	p, _ := e.Profile(gatewaytest.DefaultEnabledICCID)
	assert.Equal(t, gatewaytest.StateDisabled, p.State)
	reqs := gw.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, gatewaytest.FnDisableProfile, reqs[0].Function)
	assert.Equal(t, gatewaytest.ES2, reqs[0].Interface)
	assert.Equal(t, byte('?'), byte(reqs[0].From.Separator))
	pid, _ := reqs[0].From.ProviderEntityID()
	assert.Equal(t, "1.3.6.1.4.1.54008", pid)
}

func TestDisableProfileRefused(t *testing.T) {
	r := clitest.Exec(t, run, nil, "-iccid", gatewaytest.FallbackICCID)
	assert.Equal(t, cli.ExitError, r.Code)
	clitest.OneLine(t, r.Stderr)
	assert.Contains(t, r.Stderr, "ES2 DisableProfile: FAILED: 8.2.1/3.8")
}

package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/internal/clitest"
)

func TestFallbackEmbedded(t *testing.T) {
	r := clitest.Exec(t, run, nil)
	require.Equal(t, 0, r.Code, r.Stderr)
	assert.Contains(t, r.Stdout, "<- callback ES4 SetFallBackAttribute: EXECUTED_SUCCESS")
	assert.Contains(t, r.Stdout, "profile "+gatewaytest.DefaultDisabledICCID+" is the fall-back profile of "+gatewaytest.DefaultEID)
}

func TestFallbackKPNAgainstMock(t *testing.T) {
	gw := gatewaytest.Start(t, gatewaytest.WithProfile(gatewaytest.ProfileKPN))
	env := clitest.With(clitest.GatewayEnv(t, gw), "ESIMGW_KPN", "1", "ESIMGW_PROVIDER_ENTITY_ID", "1.3.6.1.4.1.54008")
	r := clitest.Exec(t, run, env, "-eid", gatewaytest.DefaultEID, "-iccid", gatewaytest.DefaultDisabledICCID)
	require.Equal(t, 0, r.Code, r.Stderr)
	e, _ := gw.EUICC(gatewaytest.DefaultEID)
	p, _ := e.Profile(gatewaytest.DefaultDisabledICCID)
	assert.True(t, p.Fallback)
	reqs := gw.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, gatewaytest.KPNSetFallBackValidity, reqs[0].Validity)
	assert.Equal(t, byte('?'), byte(reqs[0].From.Separator))
	pid, _ := reqs[0].From.ProviderEntityID()
	assert.Equal(t, "1.3.6.1.4.1.54008", pid)
}

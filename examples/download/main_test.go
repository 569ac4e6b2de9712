package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/internal/cli"
	"github.com/esimgw/esimgw/internal/clitest"
	"github.com/esimgw/esimgw/wsdl/rps"
)

func TestDownloadByICCID(t *testing.T) {
	r := clitest.Exec(t, run, nil)
	require.Equal(t, 0, r.Code, r.Stderr)
	assert.Contains(t, r.Stdout, "-> ES2 DownloadProfile sent")
	assert.Contains(t, r.Stdout, "<- callback ES2 DownloadProfile: EXECUTED_SUCCESS")
	assert.Contains(t, r.Stdout, "profile "+gatewaytest.CatalogICCID+" is installed (disabled) on "+gatewaytest.DefaultEID)
}

func TestDownloadByProfileTypeAndEnable(t *testing.T) {
	r := clitest.Exec(t, run, nil, "-profile-type", gatewaytest.CatalogProfileType, "-enable")
	require.Equal(t, 0, r.Code, r.Stderr)
	assert.Contains(t, r.Stdout, "profile "+gatewaytest.CatalogICCID+" is installed and enabled on "+gatewaytest.DefaultEID)
}

func TestDownloadKPNAgainstMock(t *testing.T) {
	gw := gatewaytest.Start(t, gatewaytest.WithProfile(gatewaytest.ProfileKPN))
	env := clitest.With(clitest.GatewayEnv(t, gw), "ESIMGW_KPN", "1", "ESIMGW_PROVIDER_ENTITY_ID", "1.3.6.1.4.1.54008")
	r := clitest.Exec(t, run, env, "-eid", gatewaytest.DefaultEID, "-iccid", gatewaytest.CatalogICCID, "-enable")
	require.Equal(t, 0, r.Code, r.Stderr)
	e, _ := gw.EUICC(gatewaytest.DefaultEID)
	p, ok := e.Profile(gatewaytest.CatalogICCID)
	require.True(t, ok)
	assert.Equal(t, gatewaytest.StateEnabled, p.State)
	reqs := gw.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, gatewaytest.ES2, reqs[0].Interface)
	assert.Equal(t, byte('?'), byte(reqs[0].From.Separator))
	pid, _ := reqs[0].From.ProviderEntityID()
	assert.Equal(t, "1.3.6.1.4.1.54008", pid)
	body, ok := reqs[0].Body.(*rps.ES2DownloadProfileRequest)
	require.True(t, ok)
	assert.Equal(t, gw.SMSRID, body.SmsrID)
}

func TestDownloadUsage(t *testing.T) {
	r := clitest.Exec(t, run, nil, "-iccid", gatewaytest.CatalogICCID, "-profile-type", "x")
	assert.Equal(t, cli.ExitUsage, r.Code)
	clitest.OneLine(t, r.Stderr)
	assert.Contains(t, r.Stderr, "not both")

	gw := gatewaytest.Start(t)
	r = clitest.Exec(t, run, clitest.With(clitest.GatewayEnv(t, gw), "ESIMGW_SMSR_ID", ""), "-eid", gatewaytest.DefaultEID, "-iccid", gatewaytest.CatalogICCID)
	assert.Equal(t, cli.ExitUsage, r.Code)
	assert.Contains(t, r.Stderr, "-smsr-id")

	r = clitest.Exec(t, run, nil, "-profile-type", gatewaytest.OtherProfileType)
	assert.Equal(t, cli.ExitError, r.Code)
	clitest.OneLine(t, r.Stderr)
	assert.Contains(t, r.Stderr, "ES2 DownloadProfile: FAILED: 8.2.5/1.2")
}

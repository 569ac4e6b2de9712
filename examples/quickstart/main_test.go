package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/internal/clitest"
)

func TestQuickstart(t *testing.T) {
	r := clitest.Exec(t, run, nil)
	require.Equal(t, 0, r.Code, r.Stderr)
	assert.Empty(t, r.Stderr)
	for _, s := range []string{
		"1. Started a mock SM-SR (ES4) and SM-DP (ES2)",
		"2. Audit eUICC " + gatewaytest.DefaultEID,
		"<- callback ES4 AuditEIS: EXECUTED_SUCCESS",
		"3. Download profile " + gatewaytest.CatalogICCID,
		"step download_verify",
		"step successful",
		"=> EXECUTED_SUCCESS enabled=true verified by notification",
		"4. The device switches back",
		"notification ES4 ProfileEnabled eid=" + gatewaytest.DefaultEID + " iccid=" + gatewaytest.DefaultEnabledICCID,
		"notification ES4 ProfileDisabled eid=" + gatewaytest.DefaultEID + " iccid=" + gatewaytest.CatalogICCID,
		"5. Audit again",
		"6. What went over the wire",
		"request      ES2 DownloadProfile",
		"Done in",
	} {
		assert.Contains(t, r.Stdout, s)
	}
	assert.Regexp(t, gatewaytest.CatalogICCID+`\s+Disabled`, r.Stdout, "the final audit")
}

func TestQuickstartHelp(t *testing.T) {
	r := clitest.Exec(t, run, nil, "-h")
	assert.Equal(t, 0, r.Code)
	assert.Contains(t, r.Stdout, "Usage: quickstart")
	assert.NotContains(t, r.Stdout, "-kpn", "the quickstart always runs on the embedded mock")
}

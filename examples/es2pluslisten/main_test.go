package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/es2plus"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/internal/clitest"
)

func TestES2PlusListenEmbedded(t *testing.T) {
	r := clitest.Exec(t, run, nil, "-count", "3")
	require.Equal(t, 0, r.Code, r.Stderr)
	assert.Contains(t, r.Stdout, "ES2+ webhooks at https://localhost:")
	assert.Contains(t, r.Stdout, "es2+ 3 (bpp-download) Executed-Success eid="+gatewaytest.DefaultEID+" iccid="+gatewaytest.CatalogICCID+" stage=Downloaded")
	assert.Contains(t, r.Stdout, "stage=Installed")
	assert.Contains(t, r.Stdout, "stage=Enabled")
	assert.Equal(t, 3, strings.Count(r.Stdout, "es2+ "), "the duplicate is printed once:\n%s", r.Stdout)
	assert.Contains(t, r.Stdout, "board: "+gatewaytest.CatalogICCID+" eid="+gatewaytest.DefaultEID+" stage=Enabled outcome=Succeeded")
}

// The integration test of issue 9: over mTLS, the mock's SM-DP+ mode posts a full download sequence,
// duplicates one message and sends one invalid message; the handler sees each valid step exactly once and
// the invalid one is refused.
func TestES2PlusListenDownloadSequenceOverMTLS(t *testing.T) {
	gw := gatewaytest.Start(t)
	p := clitest.Start(t, run, clitest.GatewayEnv(t, gw), "-count", "3")
	base := p.WaitFor(t, clitest.CallbacksURL)
	p.WaitFor(t, "listening")

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	posts, err := gw.SendDownloadProgress(ctx, base, gatewaytest.DownloadSequence{
		EID: gatewaytest.SecondEID, ICCID: gatewaytest.CatalogICCID2, ProfileType: gatewaytest.CatalogProfileType,
		FunctionCallIdentifier: "telna-1", Duplicate: es2plus.PointBPPInstalled, Invalid: true,
	})
	require.NoError(t, err)
	var invalid, dup, valid int
	for _, post := range posts {
		switch {
		case post.Invalid:
			invalid++
			assert.Equal(t, http.StatusBadRequest, post.HTTPStatus, "the invalid message is refused")
		case post.Duplicate:
			dup++
			assert.Less(t, post.HTTPStatus, 300, "a duplicate is acknowledged")
		default:
			valid++
			assert.Equal(t, http.StatusNoContent, post.HTTPStatus)
		}
	}
	assert.Equal(t, 1, invalid)
	assert.Equal(t, 1, dup)
	assert.Equal(t, 3, valid)

	r := p.Wait(t)
	require.Equal(t, 0, r.Code, r.Stderr)
	for _, point := range []string{"3 (bpp-download)", "4 (bpp-installation)", "6 (local-enable)"} {
		assert.Equal(t, 1, strings.Count(r.Stdout, "es2+ "+point+" "), "%s exactly once:\n%s", point, r.Stdout)
	}
	assert.Equal(t, 3, strings.Count(r.Stdout, "es2+ "), r.Stdout)
	assert.Contains(t, r.Stdout, "iccid="+gatewaytest.CatalogICCID2)
	assert.Contains(t, r.Stdout, "board: "+gatewaytest.CatalogICCID2+" eid="+gatewaytest.SecondEID+" stage=Enabled outcome=Succeeded (3 events)")
}

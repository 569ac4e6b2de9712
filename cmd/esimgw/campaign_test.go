package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/internal/cli"
	"github.com/esimgw/esimgw/internal/pgtest"
)

// TestCampaignCreateRunStatusExport queues a campaign, runs a worker against the embedded mock until it is
// done, and reads its status and export, in table and JSON output.
func TestCampaignCreateRunStatusExport(t *testing.T) {
	db := pgtest.URL(t)
	env := map[string]string{"ESIMGW_STORE": db}
	eids := gatewaytest.DefaultEID + ",89049032000001000000000000000268"

	r := runCLI(t, env, "campaign", "create", "--key", "audit-1", "--function", "ES4.AuditEIS", "--eid", eids, "-o", "json")
	require.Equal(t, exitOK, r.code, r.stderr)
	obj := decodeObject(t, r.stdout)
	docs := docFields(t)
	checkDocumented(t, docs, "Campaign", obj)
	assert.EqualValues(t, 2, obj["queued"])
	assert.EqualValues(t, 2, obj["total"])
	assert.Equal(t, "running", obj["state"])

	r = runCLI(t, env, "campaign", "create", "--key", "audit-1", "--function", "ES4.AuditEIS", "--eid", eids)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "queued 0 EIDs (2 already in the campaign, 0 bad lines)")

	r = runCLI(t, env, "campaign", "run", "--until-done", "audit-1", "-o", "json")
	require.Equal(t, exitOK, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	obj = decodeObject(t, r.stdout)
	checkDocumented(t, docs, "Campaign", obj)
	assert.EqualValues(t, 2, obj["succeeded"])
	assert.EqualValues(t, 0, obj["pending"])

	r = runCLI(t, env, "campaign", "status", "--key", "audit-1")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "succeeded 2")
	assert.Contains(t, r.stdout, "EXECUTED_SUCCESS")

	r = runCLI(t, env, "campaign", "list", "-o", "json")
	require.Equal(t, exitOK, r.code, r.stderr)
	list := decodeArray(t, r.stdout)
	require.Len(t, list, 1)
	assert.Equal(t, "audit-1", list[0]["key"])

	r = runCLI(t, env, "campaign", "export", "--key", "audit-1", "--format", "jsonl")
	require.Equal(t, exitOK, r.code, r.stderr)
	rows := decodeLines(t, r.stdout)
	require.Len(t, rows, 2)
	for _, row := range rows {
		assert.Equal(t, "EXECUTED_SUCCESS", row["status"])
		assert.True(t, strings.HasPrefix(row["functionCallIdentifier"].(string), "cmp-audit-1-1-"))
	}

	// ES2.Activate of a ProfileType on the embedded mock's SM-DP.
	r = runCLI(t, env, "campaign", "create", "--key", "act-1", "--function", "ES2.Activate", "--eid", gatewaytest.DefaultEID,
		"--arg", "type:"+gatewaytest.CatalogProfileType)
	require.Equal(t, exitOK, r.code, r.stderr)
	r = runCLI(t, env, "campaign", "run", "--until-done", "act-1", "-o", "json")
	require.Equal(t, exitOK, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	assert.EqualValues(t, 1, decodeObject(t, r.stdout)["succeeded"])

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"campaign", "status", "--key", "nope"}, "no such campaign"},
		{[]string{"campaign", "status"}, "--key is required"},
		{[]string{"campaign", "create", "--key", "x", "--eid", gatewaytest.DefaultEID}, "--function is required"},
		{[]string{"campaign", "create", "--key", "x", "--function", "ES4.Frobnicate", "--eid", gatewaytest.DefaultEID}, "Frobnicate"},
		{[]string{"campaign", "create", "--key", "x", "--function", "ES2.DownloadProfile", "--eid", gatewaytest.DefaultEID, "--refuse-bad-input"},
			"needs the profile to download"},
	} {
		r = runCLI(t, env, c.args...)
		assert.Equal(t, exitUsage, r.code, "%v: %s", c.args, r.stderr)
		assert.Equal(t, 1, strings.Count(r.stderr, "\n"), r.stderr)
		assert.Contains(t, r.stderr, c.want)
	}
	r = runCLI(t, nil, "campaign", "list")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "--store is required")
}

// TestCampaignWeb serves the web view of a campaign the CLI created, reads its pages, presses pause as a
// browser on the page would, and stops on the interrupt.
func TestCampaignWeb(t *testing.T) {
	db := pgtest.URL(t)
	env := map[string]string{"ESIMGW_STORE": db}
	r := runCLI(t, env, "campaign", "create", "--key", "web-1", "--function", "ES4.AuditEIS", "--eid", gatewaytest.DefaultEID)
	require.Equal(t, exitOK, r.code, r.stderr)

	p := startCLI(t, env, "campaign", "web", "--listen", "127.0.0.1:0", "--controls", "--prefix", "/ops", "-o", "json")
	obj := decodeObject(t, p.waitFor(t, `(?s)(\{.*\})`))
	checkDocumented(t, docFields(t), "Campaign web", obj)
	assert.Equal(t, true, obj["controls"])
	assert.Equal(t, true, obj["riverUI"])
	base := obj["url"].(string)
	require.True(t, strings.HasSuffix(base, "/ops/"), base)

	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	code, body := get("")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `href="/ops/campaigns/web-1"`)
	code, body = get("campaigns/web-1")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `action="/ops/campaigns/web-1/pause"`)
	code, _ = get("riverui/")
	assert.Equal(t, http.StatusOK, code)
	code, _ = get("campaigns/nope")
	assert.Equal(t, http.StatusNotFound, code)

	req, err := http.NewRequestWithContext(t.Context(), "POST", base+"campaigns/web-1/pause", nil)
	require.NoError(t, err)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	r = runCLI(t, env, "campaign", "status", "--key", "web-1", "-o", "json")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "paused", decodeObject(t, r.stdout)["state"])

	assert.Equal(t, exitInterrupted, p.interrupt(t))

	// Read-only, and without River's UI.
	p = startCLI(t, env, "campaign", "web", "--listen", "127.0.0.1:0", "--no-riverui")
	base = p.waitFor(t, `serving the campaigns \(read-only\) on (http://\S+/);`)
	code, body = get("campaigns/web-1")
	assert.Equal(t, http.StatusOK, code)
	assert.NotContains(t, body, "<form")
	code, _ = get("riverui/")
	assert.Equal(t, http.StatusNotFound, code)
	r = runCLI(t, env, "campaign", "web", "--listen", "127.0.0.1:0", "--prefix", "no slash")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "Prefix")
}

// TestCampaignOnCarriers runs a ThingSpace and a Digi Remote Manager campaign with the CLI: created from
// campaign.Functions' names, run by a worker with --platform against the platform's embedded mock.
func TestCampaignOnCarriers(t *testing.T) {
	for _, tt := range []struct{ platform, function string }{
		{platformThingSpace, "ThingSpace.Enable"},
		{platformDigiRM, "DigiRM.Enable"},
	} {
		t.Run(tt.platform, func(t *testing.T) {
			env := map[string]string{"ESIMGW_STORE": pgtest.URL(t)}
			r := runCLI(t, env, "campaign", "create", "--key", "c-1", "--function", tt.function, "--eid", cli.CarrierMockEID, "--arg", cli.CarrierMockDisabled)
			require.Equal(t, exitOK, r.code, r.stderr)
			r = runCLI(t, env, "campaign", "run", "--platform", tt.platform, "--until-done", "c-1", "-o", "json")
			require.Equal(t, exitOK, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
			obj := decodeObject(t, r.stdout)
			assert.Equal(t, tt.function, obj["function"])
			assert.EqualValues(t, 1, obj["succeeded"])
			r = runCLI(t, env, "campaign", "export", "--key", "c-1", "--format", "jsonl")
			require.Equal(t, exitOK, r.code, r.stderr)
			rows := decodeLines(t, r.stdout)
			require.Len(t, rows, 1)
			assert.Equal(t, "EXECUTED_SUCCESS", rows[0]["status"])
			assert.NotEmpty(t, rows[0]["platformRef"], "ThingSpace's requestId or Digi's transaction")
		})
	}
	r := runCLI(t, map[string]string{"ESIMGW_STORE": pgtest.URL(t)}, "campaign", "run", "--platform", "es2")
	assert.Equal(t, exitUsage, r.code, r.stderr)
	assert.Contains(t, r.stderr, "--platform")
}

package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/gatewaytest"
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

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"campaign", "status", "--key", "nope"}, "no such campaign"},
		{[]string{"campaign", "status"}, "--key is required"},
		{[]string{"campaign", "create", "--key", "x", "--eid", gatewaytest.DefaultEID}, "--function is required"},
		{[]string{"campaign", "create", "--key", "x", "--function", "ES4.Frobnicate", "--eid", gatewaytest.DefaultEID}, "Frobnicate"},
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

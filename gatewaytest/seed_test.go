package gatewaytest_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/mtls"
)

const seedJSON = `{
  "euiccs": [{"eid": "89049032000001000000000000000559", "latencyMillis": 5,
    "profiles": [
      {"iccid": "89310410000000009994", "state": "Enabled", "fallback": true, "pol2": [{"action": "DELETE", "qualification": "Not-Allowed"}]},
      {"iccid": "89310410000000000019", "mnoId": "1.2.3.4"}
    ]}],
  "catalog": [{"iccid": "89310410000000001009", "profileType": "t1", "size": 1000}]
}`

func TestSeedJSON(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "seed.json")
	require.NoError(t, os.WriteFile(path, []byte(seedJSON), 0o600))
	g := gatewaytest.Start(t, gatewaytest.WithSeedFile(path))
	require.Len(t, g.EUICCs(), 1, "a seed file replaces the default seed")
	e, ok := g.EUICC("89049032000001000000000000000559")
	require.True(t, ok)
	require.Len(t, e.Profiles, 2)
	assert.Equal(t, g.OperatorID, e.Profiles[0].MNOID)
	assert.Equal(t, "1.2.3.4", e.Profiles[1].MNOID)
	assert.Equal(t, gatewaytest.StateDisabled, e.Profiles[1].State)
	assert.NotEmpty(t, e.Profiles[0].ISDPAID)
	assert.Equal(t, g.SMSRID, e.SMSRID)
	assert.Len(t, g.Catalog(), 1)

	for name, bad := range map[string]string{
		"two enabled":   `{"euiccs":[{"eid":"89049032000001000000000000000171","profiles":[{"iccid":"89310410000000000019","state":"Enabled"},{"iccid":"89310410000000000027","state":"Enabled"}]}]}`,
		"bad EID":       `{"euiccs":[{"eid":"89049032000001000000000000000172"}]}`,
		"duplicate":     `{"euiccs":[{"eid":"89049032000001000000000000000559"}]}`,
		"unknown field": `{"euiccs":[],"nope":1}`,
	} {
		err := g.LoadSeedJSON(strings.NewReader(bad))
		require.Error(t, err, name)
		if name != "unknown field" {
			var se *gatewaytest.SeedError
			assert.True(t, errors.As(err, &se), name)
		}
	}
	assert.Len(t, g.EUICCs(), 1, "refused seeds add nothing")
	assert.ErrorIs(t, g.SetLatency("89049032000001000000000000000268", 0), gatewaytest.ErrUnknownEID)
}

func TestWriteFiles(t *testing.T) {
	g := gatewaytest.Start(t)
	f, err := g.WriteFiles(t.TempDir())
	require.NoError(t, err)
	pool, err := mtls.LoadCAPool(f.CA)
	require.NoError(t, err)
	assert.NotNil(t, pool)
	for _, p := range []string{f.ClientCert, f.ClientKey, f.CallbackServerCert, f.CallbackServerKey} {
		_, err := os.Stat(p)
		assert.NoError(t, err)
	}
	src, err := mtls.NewFileSource(f.ClientCert, f.ClientKey)
	require.NoError(t, err)
	cfg, err := mtls.ClientConfig(src, mtls.WithRootCAs(pool))
	require.NoError(t, err)
	assert.NotNil(t, cfg)
}

package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/internal/cli"
	"github.com/esimgw/esimgw/internal/clitest"
)

func TestPlatformsEmbedded(t *testing.T) {
	r := clitest.Exec(t, run, nil)
	require.Equal(t, 0, r.Code, r.Stderr)
	for _, want := range []string{
		"gateway   embedded mock at",
		"-> ES4 EnableProfile sent",
		"<- ES4 EnableProfile: EXECUTED_SUCCESS",
		"platform  ThingSpace embedded mock at",
		"<- ThingSpace enable: EXECUTED_SUCCESS",
		"platform  Digi Remote Manager embedded mock at",
		"<- DigiRM enable: EXECUTED_SUCCESS",
	} {
		assert.Contains(t, r.Stdout, want)
	}
	for _, p := range []string{"ES4", "ThingSpace", "DigiRM"} {
		assert.Contains(t, r.Stdout, "profile "+gatewaytest.DefaultDisabledICCID+" is enabled on "+gatewaytest.DefaultEID+" ("+p+")")
	}
}

func TestPlatformsChosen(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		want    []string
		notWant string
	}{
		{"flag", nil, []string{"-platforms", "digirm,thingspace"}, []string{"<- DigiRM enable", "<- ThingSpace enable"}, "ES4"},
		{"environment", clitest.With(nil, "ESIMGW_PLATFORMS", "es4"), nil, []string{"<- ES4 EnableProfile"}, "ThingSpace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := clitest.Exec(t, run, tt.env, tt.args...)
			require.Equal(t, 0, r.Code, r.Stderr)
			for _, w := range tt.want {
				assert.Contains(t, r.Stdout, w)
			}
			assert.NotContains(t, r.Stdout, tt.notWant)
		})
	}
}

// The platform's refusal is one line naming the platform, exit 1; a bad command line exits 2.
func TestPlatformsFailures(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"refused", []string{"-platforms", "thingspace", "-iccid", gatewaytest.DefaultEnabledICCID}, cli.ExitError, "ThingSpace: "},
		{"invalid ICCID", []string{"-iccid", "89310410000000000018"}, cli.ExitError, "invalid Iccid"},
		{"unknown platform", []string{"-platforms", "es9"}, cli.ExitUsage, `unknown platform "es9"`},
		{"real platform without EID", []string{"-platforms", "digirm", "-digirm-url", "https://127.0.0.1:1/ws/v1/esim_profiles"}, cli.ExitUsage,
			"-eid and -iccid are required"},
		{"Digi without credentials", []string{"-platforms", "digirm", "-digirm-url", "https://127.0.0.1:1/ws/v1/esim_profiles",
			"-eid", gatewaytest.DefaultEID, "-iccid", gatewaytest.DefaultDisabledICCID}, cli.ExitUsage,
			"required: -digirm-user and -digirm-password, or -digirm-api-key-id and -digirm-api-key-secret"},
		{"ThingSpace without credentials", []string{"-platforms", "thingspace", "-thingspace-url", "https://127.0.0.1:1/api/m2m/v1",
			"-eid", gatewaytest.DefaultEID, "-iccid", gatewaytest.DefaultDisabledICCID}, cli.ExitUsage,
			"required: -thingspace-app-key, -thingspace-app-secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := clitest.Exec(t, run, nil, tt.args...)
			assert.Equal(t, tt.code, r.Code, r.Stderr)
			clitest.OneLine(t, r.Stderr)
			assert.Contains(t, r.Stderr, tt.want)
		})
	}
}

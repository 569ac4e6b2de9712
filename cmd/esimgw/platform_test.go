package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/digirm/digirmtest"
	"github.com/esimgw/esimgw/thingspace/thingspacetest"
)

// The profile commands on ThingSpace and Digi Remote Manager, against their embedded mocks, in table, json
// and jsonl output, with the JSON fields docs/cli.md documents.
func TestCommandsOnCarrierPlatforms(t *testing.T) {
	docs := docFields(t)
	tests := []struct {
		args      []string
		table     string
		iface     string
		function  string
		iccid     string
		profiles  int // audit: profiles listed
		auditJSON bool
	}{
		{args: []string{"enable", "--platform", "thingspace"}, table: "profile " + thingspacetest.DisabledICCID + " is enabled on " + thingspacetest.DefaultEID,
			iface: "ThingSpace", function: "enable", iccid: thingspacetest.DisabledICCID},
		{args: []string{"disable", "--platform", "thingspace"}, table: "is disabled on", iface: "ThingSpace", function: "disable", iccid: thingspacetest.EnabledICCID},
		{args: []string{"delete", "--platform", "thingspace"}, table: "is deleted from", iface: "ThingSpace", function: "delete", iccid: thingspacetest.DisabledICCID},
		{args: []string{"download", "--platform", "thingspace", "--enable"}, table: "is installed and enabled on", iface: "ThingSpace",
			function: "download_enable", iccid: thingspacetest.CatalogICCID},
		{args: []string{"enable", "--platform", "digirm"}, table: "profile " + digirmtest.DisabledICCID + " is enabled on " + digirmtest.DefaultEID,
			iface: "DigiRM", function: "enable", iccid: digirmtest.DisabledICCID},
		{args: []string{"disable", "--platform", "digirm", "--device-id", digirmtest.DefaultDeviceID}, table: "is disabled on", iface: "DigiRM",
			function: "disable", iccid: digirmtest.EnabledICCID},
		{args: []string{"delete", "--platform", "digirm"}, table: "is deleted from", iface: "DigiRM", function: "delete", iccid: digirmtest.DisabledICCID},
		{args: []string{"download", "--platform", "digirm", "--activation-code", digirmtest.ActivationCode}, table: "installed (disabled) on",
			iface: "DigiRM", function: "download", iccid: digirmtest.CatalogICCID2},
		{args: []string{"download", "--platform", "digirm", "--enable"}, table: "installed and enabled on", iface: "DigiRM",
			function: "download+enable", iccid: digirmtest.CatalogICCID},
		{args: []string{"audit", "--platform", "digirm"}, table: digirmtest.EnabledICCID + "  Enabled", iface: "DigiRM", function: "inventory",
			profiles: 2, auditJSON: true},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runCLI(t, nil, tt.args...)
			require.Equal(t, exitOK, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
			assert.Contains(t, r.stdout, tt.table)
			assert.Contains(t, r.stdout, "embedded mock")
			assert.Empty(t, r.stderr)

			for _, format := range []string{"json", "jsonl"} {
				r = runCLI(t, map[string]string{"ESIMGW_OUTPUT": format}, tt.args...)
				require.Equal(t, exitOK, r.code, "%s: stderr: %s", format, r.stderr)
				var obj map[string]any
				switch {
				case tt.auditJSON && format == "json":
					a := decodeArray(t, r.stdout)
					require.Len(t, a, 1)
					obj = a[0]
				case format == "jsonl":
					lines := decodeLines(t, r.stdout)
					require.Len(t, lines, 1)
					obj = lines[0]
				default:
					obj = decodeObject(t, r.stdout)
				}
				checkDocumented(t, docs, "Call result", obj)
				assert.Equal(t, "EXECUTED_SUCCESS", obj["status"])
				assert.Equal(t, tt.args[2], obj["platform"])
				assert.Equal(t, tt.iface, obj["interface"])
				assert.Equal(t, tt.function, obj["function"])
				assert.Equal(t, tt.args[0], obj["command"])
				assert.Equal(t, thingspacetest.DefaultEID, obj["eid"])
				if tt.iccid != "" {
					assert.Equal(t, tt.iccid, obj["iccid"])
				}
				if tt.profiles > 0 {
					eis := obj["eis"].(map[string]any)
					assert.Len(t, eis["profiles"], tt.profiles)
				} else {
					assert.NotEmpty(t, obj["functionCallIdentifier"], "ThingSpace's requestId or Digi's transaction")
				}
			}
		})
	}
}

// A refusal by the platform exits 1 with the SGP.02 status code ThingSpace reported.
func TestCarrierRefusalExits1(t *testing.T) {
	r := runCLI(t, nil, "enable", "--platform", "thingspace", "--iccid", thingspacetest.EnabledICCID, "-o", "json")
	require.Equal(t, exitFailed, r.code, r.stderr)
	obj := decodeObject(t, r.stdout)
	assert.Equal(t, "FAILED", obj["status"])
	assert.Equal(t, "8.2.1,3.8", obj["statusCode"])
	assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)

	r = runCLI(t, nil, "disable", "--platform", "digirm", "--iccid", digirmtest.DisabledICCID)
	require.Equal(t, exitFailed, r.code, r.stderr)
	assert.Contains(t, r.stderr, "not_active")
}

func TestCarrierBadInputExits2WithOneLine(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{name: "unknown platform", args: []string{"enable", "--platform", "kpn"}, want: `--platform "kpn": enable runs on es4, thingspace, digirm`},
		{name: "unknown platform from env", env: map[string]string{"ESIMGW_PLATFORM": "verizon"}, args: []string{"disable"}, want: `--platform "verizon"`},
		{name: "other SGP.02 interface", args: []string{"enable", "--platform", "es2"}, want: "enable runs on es4"},
		{name: "no audit on ThingSpace", args: []string{"audit", "--platform", "thingspace"}, want: "audit runs on es4, digirm"},
		{name: "bad EID", args: []string{"enable", "--platform", "thingspace", "--eid", "123"}, want: `invalid Eid "123"`},
		{name: "bad ICCID", args: []string{"delete", "--platform", "digirm", "--iccid", "12x"}, want: "Iccid"},
		{name: "bad device id", args: []string{"enable", "--platform", "digirm", "--device-id", "zz"}, want: "DeviceID"},
		{name: "profile type on Digi", args: []string{"download", "--platform", "digirm", "--profile-type", "x", "--iccid="}, want: "not by profile type"},
		{name: "bad activation code", args: []string{"download", "--platform", "digirm", "--activation-code", "2$x$y"}, want: "ActivationCode"},
		{name: "activation code on ES2", args: []string{"download", "--activation-code", digirmtest.ActivationCode}, want: "--activation-code is for --platform digirm"},
		{name: "ThingSpace needs credentials", args: []string{"enable", "--platform", "thingspace", "--thingspace-url", "https://thingspace.example/api/m2m/v1",
			"--eid", thingspacetest.DefaultEID, "--iccid", thingspacetest.DisabledICCID}, want: "against ThingSpace these are required: --thingspace-app-key"},
		{name: "Digi needs credentials", env: map[string]string{"ESIMGW_DIGIRM_URL": "https://digi.example/ws/v1/esim_profiles"},
			args: []string{"enable", "--platform", "digirm", "--eid", digirmtest.DefaultEID, "--iccid", digirmtest.DisabledICCID}, want: "--digirm-user"},
		{name: "Digi without an EID", env: map[string]string{"ESIMGW_DIGIRM_URL": "https://digi.example/ws/v1/esim_profiles"},
			args: []string{"audit", "--platform", "digirm"}, want: "give --eid or --eids"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, tt.env, tt.args...)
			assert.Equal(t, exitUsage, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
			assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "exactly one line: %q", r.stderr)
			assert.Contains(t, r.stderr, tt.want)
			assert.True(t, strings.HasPrefix(r.stderr, "esimgw"), r.stderr)
		})
	}
}

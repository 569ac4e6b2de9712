package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/internal/cli"
	"github.com/esimgw/esimgw/internal/clitest"
	"github.com/esimgw/esimgw/internal/version"
)

// result is how a command line ended (clitest.Result under the names these tests use).
type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs one command line to completion with env as its whole environment.
func runCLI(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	r := clitest.ExecProgram(t, execute, env, args...)
	return result{r.Code, r.Stdout, r.Stderr}
}

// proc is a command running in the background.
type proc struct{ *clitest.Proc }

func startCLI(t *testing.T, env map[string]string, args ...string) proc {
	t.Helper()
	return proc{clitest.StartProgram(t, execute, env, args...)}
}

// waitFor waits until stdout matches re and returns its last submatch.
func (p proc) waitFor(t *testing.T, re string) string {
	t.Helper()
	return p.WaitFor(t, re)
}

// interrupt stops the command as SIGINT does and returns its exit code.
func (p proc) interrupt(t *testing.T) int {
	t.Helper()
	return p.Interrupt(t, errInterrupted)
}

// docFields reads the field tables of docs/cli.md: section title -> field -> presence column.
func docFields(t *testing.T) map[string]map[string]string {
	t.Helper()
	f, err := os.Open("../../docs/cli.md")
	require.NoError(t, err)
	defer f.Close()
	out := map[string]map[string]string{}
	section := ""
	row := regexp.MustCompile("^\\| `([A-Za-z]+)` \\| [^|]+ \\| ([^|]+) \\|")
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if title, ok := strings.CutPrefix(line, "### "); ok {
			section = title
			out[section] = map[string]string{}
			continue
		}
		if m := row.FindStringSubmatch(line); m != nil && section != "" {
			out[section][m[1]] = strings.TrimSpace(m[2])
		}
	}
	require.NoError(t, sc.Err())
	return out
}

// nested names the documented type of an object- or array-valued field.
var nested = map[string]map[string]string{
	"Call result": {"eis": "EIS", "steps": "Step"},
	"EIS":         {"profiles": "Profile"},
}

// checkDocumented fails when obj has a field docs/cli.md does not list under section, or lacks one it
// lists as always present; it descends into the nested documented types.
func checkDocumented(t *testing.T, docs map[string]map[string]string, section string, obj map[string]any) {
	t.Helper()
	fields, ok := docs[section]
	require.True(t, ok, "docs/cli.md has no section %q", section)
	for k, v := range obj {
		_, documented := fields[k]
		assert.True(t, documented, "field %q of %s is not in docs/cli.md", k, section)
		sub, ok := nested[section][k]
		if !ok {
			continue
		}
		switch v := v.(type) {
		case map[string]any:
			checkDocumented(t, docs, sub, v)
		case []any:
			for _, e := range v {
				checkDocumented(t, docs, sub, e.(map[string]any))
			}
		}
	}
	for k, presence := range fields {
		if presence == "always" {
			assert.Contains(t, obj, k, "%s lacks %q, documented as always present", section, k)
		}
	}
}

func decodeObject(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(s), &m), "not one JSON object:\n%s", s)
	return m
}

func decodeArray(t *testing.T, s string) []map[string]any {
	t.Helper()
	var a []map[string]any
	require.NoError(t, json.Unmarshal([]byte(s), &a), "not one JSON array:\n%s", s)
	return a
}

func decodeLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(s) {
		out = append(out, decodeObject(t, line))
	}
	return out
}

// TestEveryCommandAgainstTheMock runs each function command against the embedded mock in table, json and
// jsonl output and checks the JSON against docs/cli.md.
func TestEveryCommandAgainstTheMock(t *testing.T) {
	docs := docFields(t)
	tests := []struct {
		name     string
		args     []string
		table    string // a line table output must have
		function string
		check    func(t *testing.T, obj map[string]any)
	}{
		{name: "enable", args: []string{"enable"}, table: "profile " + gatewaytest.DefaultDisabledICCID + " is enabled on " + gatewaytest.DefaultEID,
			function: "EnableProfile"},
		{name: "fallback", args: []string{"fallback", "--iccid", gatewaytest.DefaultDisabledICCID},
			table: "is the fall-back profile of " + gatewaytest.DefaultEID, function: "SetFallBackAttribute"},
		{name: "disable", args: []string{"disable"}, table: "profile " + gatewaytest.DefaultEnabledICCID + " is disabled on", function: "DisableProfile"},
		{name: "delete", args: []string{"delete", "-eid", gatewaytest.DefaultEID, "-iccid", gatewaytest.DefaultDisabledICCID},
			table: "is deleted from", function: "DeleteProfile"},
		{name: "download", args: []string{"download", "--enable"}, table: "profile " + gatewaytest.CatalogICCID + " is installed and enabled on",
			function: "DownloadProfile"},
		{name: "download by profile type", args: []string{"download", "--profile-type", gatewaytest.CatalogProfileType},
			table: "is installed (disabled) on", function: "DownloadProfile", check: func(t *testing.T, obj map[string]any) {
				assert.NotEmpty(t, obj["iccid"], "the SM-DP's choice is reported")
				assert.Equal(t, gatewaytest.CatalogProfileType, obj["profileType"])
			}},
		{name: "activate", args: []string{"activate"}, table: "enabled=true verified by notification", function: "DownloadProfile",
			check: func(t *testing.T, obj map[string]any) {
				assert.Equal(t, true, obj["enabled"])
				assert.Equal(t, "notification", obj["verifiedBy"])
				steps := obj["steps"].([]any)
				assert.Equal(t, "successful", steps[len(steps)-1].(map[string]any)["name"])
			}},
		{name: "audit", args: []string{"audit"}, table: "ICCID", function: "AuditEIS", check: func(t *testing.T, obj map[string]any) {
			eis := obj["eis"].(map[string]any)
			assert.Equal(t, gatewaytest.DefaultEID, eis["eid"])
			assert.NotEmpty(t, eis["profiles"])
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, append(tt.args, "--output", "table")...)
			require.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)
			assert.Contains(t, r.stdout, tt.table)
			assert.Regexp(t, "waiting for (the|its) callback", r.stdout)
			assert.Empty(t, r.stderr)

			for _, format := range []string{"json", "jsonl"} {
				r = runCLI(t, nil, append(tt.args, "-o", format)...)
				require.Equal(t, exitOK, r.code, "%s: stderr: %s", format, r.stderr)
				var obj map[string]any
				switch {
				case tt.name == "audit" && format == "json":
					a := decodeArray(t, r.stdout)
					require.Len(t, a, 1, "audit prints an array in json")
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
				assert.Equal(t, tt.function, obj["function"])
				assert.Equal(t, strings.Fields(tt.args[0])[0], obj["command"])
				assert.Equal(t, gatewaytest.DefaultEID, obj["eid"])
				assert.Regexp(t, `^urn:uuid:`, obj["functionCallIdentifier"])
				if tt.check != nil {
					tt.check(t, obj)
				}
			}
		})
	}
}

func TestAuditSeveralEIDs(t *testing.T) {
	docs := docFields(t)
	eids := []string{"--eid", gatewaytest.DefaultEID, "--eid", "89049032000001000000000000000268"}
	r := runCLI(t, nil, append([]string{"audit", "-o", "json"}, eids...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	a := decodeArray(t, r.stdout)
	require.Len(t, a, 2)
	for _, obj := range a {
		checkDocumented(t, docs, "Call result", obj)
	}
	r = runCLI(t, nil, append([]string{"audit"}, eids...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Regexp(t, gatewaytest.DefaultEID+`  EXECUTED_SUCCESS  profiles=\d+ enabled=`+gatewaytest.DefaultEnabledICCID, r.stdout)
	assert.NotContains(t, r.stderr, "audit ", "no progress bar when stderr is not a terminal")
}

func TestListenPrintsNotifications(t *testing.T) {
	docs := docFields(t)
	r := runCLI(t, nil, "listen", "--count", "4")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, 4, strings.Count(r.stdout, "notification ES"), r.stdout)
	assert.Contains(t, r.stdout, "4 messages received")

	r = runCLI(t, nil, "listen", "--count", "4", "-o", "json")
	require.Equal(t, exitOK, r.code, r.stderr)
	msgs := decodeArray(t, r.stdout)
	require.Len(t, msgs, 4)
	for _, m := range msgs {
		checkDocumented(t, docs, "Message", m)
		assert.Equal(t, "notification", m["kind"])
		assert.Equal(t, gatewaytest.DefaultEID, m["eid"])
	}
	r = runCLI(t, nil, "listen", "--count", "4", "-o", "jsonl")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Len(t, decodeLines(t, r.stdout), 4)
}

func TestFailedFunctionExits1(t *testing.T) {
	// The catalogue profile is not on the eUICC until downloaded: enabling it FAILS at the gateway.
	r := runCLI(t, nil, "enable", "--iccid", gatewaytest.CatalogICCID, "-o", "json")
	require.Equal(t, exitFailed, r.code)
	obj := decodeObject(t, r.stdout)
	assert.Equal(t, "FAILED", obj["status"])
	assert.NotEmpty(t, obj["statusCode"])
	assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
	assert.Contains(t, r.stderr, "esimgw enable: ")
}

func TestBadInputExits2WithOneLine(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{name: "unknown flag", args: []string{"enable", "--bogus"}, want: "unknown flag: --bogus"},
		{name: "unknown command", args: []string{"frobnicate"}, want: `unknown command "frobnicate"`},
		{name: "positional argument", args: []string{"enable", "8904"}, want: `unexpected argument "8904"`},
		{name: "bad EID", args: []string{"enable", "--eid", "123"}, want: `invalid Eid "123"`},
		{name: "bad ICCID", args: []string{"disable", "--iccid", "12x"}, want: "Iccid"},
		{name: "bad output", args: []string{"audit", "-o", "yaml"}, want: `--output "yaml": want table, json or jsonl`},
		{name: "bad output from env", env: map[string]string{"ESIMGW_OUTPUT": "xml"}, args: []string{"audit"}, want: `--output "xml"`},
		{name: "bad timeout", args: []string{"enable", "--timeout", "0s"}, want: "-timeout must be positive"},
		{name: "bad duration from env", env: map[string]string{"ESIMGW_TIMEOUT": "soon"}, args: []string{"enable"}, want: `ESIMGW_TIMEOUT="soon"`},
		{name: "real gateway needs credentials", args: []string{"enable", "--kpn", "--eid", gatewaytest.DefaultEID, "--iccid", gatewaytest.DefaultDisabledICCID},
			want: "against a real gateway these are required: --cert"},
		{name: "download needs one of", args: []string{"download", "--iccid", gatewaytest.CatalogICCID, "--profile-type", "x"}, want: "not both"},
		{name: "negative count", args: []string{"listen", "--count", "-1"}, want: "--count must not be negative"},
		{name: "concurrency", args: []string{"audit", "--concurrency", "0"}, want: "--concurrency must be at least 1"},
		{name: "missing eids file", args: []string{"audit", "--eids", "/nonexistent/eids.txt"}, want: "--eids"},
		{name: "mock profile", args: []string{"mock", "--profile", "acme"}, want: "acme"},
		{name: "mock event without control", args: []string{"mock", "event", "switch", "--eid", gatewaytest.DefaultEID, "--iccid", gatewaytest.DefaultDisabledICCID},
			want: "--control is required"},
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

func TestVersionAndHelp(t *testing.T) {
	for _, arg := range []string{"--version", "-version"} {
		r := runCLI(t, nil, arg)
		assert.Equal(t, exitOK, r.code)
		assert.Equal(t, version.Line("esimgw", version.Read())+"\n", r.stdout)
	}
	r := runCLI(t, nil, "--help")
	require.Equal(t, exitOK, r.code)
	root, _ := newRoot(cli.NoEnv, io.Discard, io.Discard)
	for _, c := range root.Commands() {
		if c.Hidden {
			continue
		}
		assert.Contains(t, r.stdout, "  "+c.Name()+" ", "esimgw --help lists %s", c.Name())
		if c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		h := runCLI(t, nil, c.Name(), "--help")
		require.Equal(t, exitOK, h.code, c.Name())
		assert.Contains(t, h.stdout, c.Long[:40], "%s --help shows the long description", c.Name())
		assert.Contains(t, h.stdout, "Usage:\n  esimgw "+c.Name(), c.Name())
		assert.Contains(t, h.stdout, "(env ESIMGW_", "%s --help names the environment variables", c.Name())
		if c.Name() != "mock" && c.Name() != "campaign" {
			assert.Contains(t, h.stdout, "(env ESIMGW_TIMEOUT)", "%s --help names the environment variables", c.Name())
		}
		for _, sub := range c.Commands() {
			h := runCLI(t, nil, c.Name(), sub.Name(), "--help")
			require.Equal(t, exitOK, h.code, c.Name()+" "+sub.Name())
			assert.Contains(t, h.stdout, "Usage:\n  esimgw "+c.Name()+" "+sub.Name())
			assert.NotEmpty(t, sub.Short)
		}
		assert.Contains(t, h.stdout, "--output", "%s --help shows the global flags", c.Name())
	}
	r = runCLI(t, nil, "completion", "bash")
	assert.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, "bash completion")
}

package version_test

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/internal/version"
)

func TestFromBuildInfo(t *testing.T) {
	tests := []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"tagged", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/esimgw/esimgw", Version: "v0.2.0"}},
			"v0.2.0 (go1.26.8)"},
		{"checkout", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.1.1-0.20261207024512-647fa2d3c0de+dirty"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "647fa2d3c0de5fd0e6a1b0b6c1a2e3f4a5b6c7d8"}, {Key: "vcs.modified", Value: "true"}}},
			"v0.1.1-0.20261207024512-647fa2d3c0de+dirty (commit 647fa2d3c0de+dirty, go1.26.8)"},
		{"clean commit", debug.BuildInfo{Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "false"}}},
			"(devel) (commit abc)"},
		{"nothing", debug.BuildInfo{}, version.Devel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, version.FromBuildInfo(&tt.bi).String())
		})
	}
}

func TestFlag(t *testing.T) {
	for _, args := range [][]string{{"-version"}, {}} {
		fs := flag.NewFlagSet("p", flag.ContinueOnError)
		printVersion := version.Flag(fs, "p")
		require.NoError(t, fs.Parse(args))
		var out bytes.Buffer
		shown := printVersion(&out)
		assert.Equal(t, len(args) > 0, shown, "%v", args)
		if shown {
			assert.Equal(t, version.Line("p", version.Read())+"\n", out.String())
		} else {
			assert.Empty(t, out.String())
		}
	}
}

// TestEveryProgramPrintsItsVersion builds every program of the module (each main package outside an
// internal directory: the examples, bench/cmd and cmd/esimgw) and runs it with -version: it must exit 0
// and print one line, its name and the module version the toolchain stamped into it (as `go version -m`
// reads it from the binary).
func TestEveryProgramPrintsItsVersion(t *testing.T) {
	root := filepath.Join("..", "..")
	list, err := exec.Command("go", "list", "-C", root, "-f", `{{if eq .Name "main"}}{{.ImportPath}}{{end}}`, "./...").Output()
	require.NoError(t, err)
	var programs []string
	for _, p := range strings.Fields(string(list)) {
		if !strings.Contains(p, "/internal/") {
			programs = append(programs, p)
		}
	}
	require.GreaterOrEqual(t, len(programs), 3, "main packages: %s", list)
	dir := t.TempDir()
	build := exec.Command("go", append([]string{"build", "-C", root, "-ldflags=-s -w", "-o", dir}, programs...)...)
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, p := range programs {
		bin := filepath.Join(dir, filepath.Base(p))
		t.Run(filepath.Base(p), func(t *testing.T) {
			info, err := exec.Command("go", "version", "-m", bin).Output()
			require.NoError(t, err)
			m := regexp.MustCompile(`(?m)^\s+mod\s+github\.com/esimgw/esimgw\s+(\S+)`).FindSubmatch(info)
			require.NotNil(t, m, "go version -m %s:\n%s", bin, info)
			cmd := exec.Command(bin, "-version")
			cmd.Env = append(os.Environ(), "ESIMGW_OUTPUT=") // nothing from the developer's environment
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			require.NoError(t, cmd.Run(), "%s -version: %s", p, stderr.String())
			assert.Regexp(t, `^\S+ `+regexp.QuoteMeta(string(m[1]))+` \(.*go1\.[^)]*\)\n$`, stdout.String(), "%s -version", p)
			assert.Empty(t, stderr.String())
		})
	}
}

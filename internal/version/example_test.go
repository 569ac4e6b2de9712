package version_test

import (
	"fmt"
	"runtime/debug"

	"github.com/esimgw/esimgw/internal/version"
)

// The -version line of a binary built from a checkout with uncommitted changes, from the build
// information the toolchain embedded (what Read gets from runtime/debug.ReadBuildInfo).
func ExampleFromBuildInfo() {
	bi := &debug.BuildInfo{GoVersion: "go1.26.0",
		Main:     debug.Module{Path: "github.com/esimgw/esimgw", Version: "v0.2.1-0.20261207142833-9299343a1b2c+dirty"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "9299343a1b2c3d4e5f60718293a4b5c6d7e8f901"}, {Key: "vcs.modified", Value: "true"}}}
	fmt.Println(version.Line("esimgw", version.FromBuildInfo(bi)))
	// Output: esimgw v0.2.1-0.20261207142833-9299343a1b2c+dirty (commit 9299343a1b2c+dirty, go1.26.0)
}

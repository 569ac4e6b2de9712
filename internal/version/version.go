package version

import (
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// Devel is the version of a binary the toolchain could not stamp (go run, go test, a build outside a
// module or VCS checkout).
const Devel = "(devel)"

// Info is what a program reports about its build.
type Info struct {
	Module    string // the main module's path, e.g. "github.com/esimgw/esimgw"
	Version   string // the main module's version, e.g. "v0.2.0", or Devel
	Revision  string // the VCS commit, "" when unknown
	Modified  bool   // the work tree had uncommitted changes
	GoVersion string // the toolchain that built the binary, e.g. "go1.26.8"
}

// Read returns the running binary's build information; without any (a binary built without module
// support) it returns Info{Version: Devel}.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Version: Devel}
	}
	return FromBuildInfo(bi)
}

// FromBuildInfo extracts Info from bi.
func FromBuildInfo(bi *debug.BuildInfo) Info {
	i := Info{Module: bi.Main.Path, Version: bi.Main.Version, GoVersion: bi.GoVersion}
	if i.Version == "" {
		i.Version = Devel
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			i.Revision = s.Value
		case "vcs.modified":
			i.Modified = s.Value == "true"
		}
	}
	return i
}

// String is the version, then in parentheses the commit (12 digits, "+dirty" when modified) unless the
// version already names it, and the toolchain: "v0.2.0 (go1.26.8)",
// "v0.1.1-0.20261207024512-647fa2d3c0de+dirty (commit 647fa2d3c0de+dirty, go1.26.8)".
func (i Info) String() string {
	var extra []string
	if rev := i.Revision; rev != "" {
		rev = rev[:min(len(rev), 12)]
		if i.Modified {
			rev += "+dirty"
		}
		extra = append(extra, "commit "+rev)
	}
	if i.GoVersion != "" {
		extra = append(extra, i.GoVersion)
	}
	if len(extra) == 0 {
		return i.Version
	}
	return i.Version + " (" + strings.Join(extra, ", ") + ")"
}

// Line is what -version prints: the program's name and String, e.g. "audit v0.2.0 (go1.26.8)".
func Line(program string, i Info) string { return program + " " + i.String() }

// Flag registers -version on fs. After fs.Parse, call the returned function: when -version was given it
// prints Line(program, Read()) to w and reports true, and the program should exit 0.
func Flag(fs *flag.FlagSet, program string) func(w io.Writer) bool {
	show := fs.Bool("version", false, "print the program's module version and exit")
	return func(w io.Writer) bool {
		if *show {
			fmt.Fprintln(w, Line(program, Read()))
		}
		return *show
	}
}

package readme_test

import (
	"cmp"
	"go/build"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const modulePath = "github.com/esimgw/esimgw"

// architectureRows reads the package table of docs/ARCHITECTURE.md: each package named in a row's first
// column ("esimgw" for the root, "wsdl" for `wsdl/`, "examples" for `examples/`) and its row, from 0.
func architectureRows(t *testing.T) map[string]int {
	t.Helper()
	data, err := os.ReadFile("../../../docs/ARCHITECTURE.md")
	require.NoError(t, err)
	_, table, ok := strings.Cut(string(data), "\n| package | job |")
	require.True(t, ok, "docs/ARCHITECTURE.md: no package table")
	name := regexp.MustCompile("`([^`]+)`")
	rows := map[string]int{}
	for i, line := range strings.Split(table, "\n")[2:] {
		if !strings.HasPrefix(line, "|") {
			break
		}
		first := strings.Split(line, "|")[1]
		for _, m := range name.FindAllStringSubmatch(first, -1) {
			rows[strings.TrimSuffix(m[1], "/")] = i
		}
	}
	require.Contains(t, rows, "esimgw")
	return rows
}

// rowOf is the row of a module package: its own, else its nearest listed parent's (mtls/mtlstest is
// mtls's); the root's row does not count for the packages below it. ok is false for a package the table
// does not place (internal/rest, ...).
func rowOf(rows map[string]int, rel string) (int, bool) {
	if rel == "" {
		return rows["esimgw"], true
	}
	for p := rel; p != "." && p != ""; p = filepath.Dir(p) {
		if r, ok := rows[filepath.ToSlash(p)]; ok {
			return r, true
		}
	}
	return 0, false
}

// closedImports lists the packages whose table row names everything they may import, as rows cannot: a
// row allows every row above it. Each entry is a module package (relative to the module) or a prefix of
// other import paths, matched at a path boundary; the standard library is always allowed.
var closedImports = map[string][]string{
	// Correlation needs nothing of the client, so that a Store implementation need not import it.
	"correlate": {},
	// The engine's machinery, below the root: the wire, the function tables, correlation and the
	// OpenTelemetry API (never the SDK, never the root, mtls or callback).
	"internal/engine": {"soap", "wsdl/rps", "correlate",
		"go.opentelemetry.io/otel/attribute", "go.opentelemetry.io/otel/codes", "go.opentelemetry.io/otel/metric",
		"go.opentelemetry.io/otel/trace"},
}

// importAllowed reports whether imp is on allowed (closedImports' form).
func importAllowed(allowed []string, imp string) bool {
	if first, _, _ := strings.Cut(imp, "/"); !strings.Contains(first, ".") {
		return true // the standard library
	}
	for _, a := range allowed {
		if !strings.Contains(a, ".") {
			a = modulePath + "/" + a
		}
		if imp == a || strings.HasPrefix(imp, a+"/") {
			return true
		}
	}
	return false
}

// TestArchitectureLayers holds docs/ARCHITECTURE.md to its rule: a package imports only packages of its own
// row of the package table and the rows above it (test files are not counted: they use the mocks further
// down), and a package of closedImports only what it lists.
func TestArchitectureLayers(t *testing.T) {
	rows := architectureRows(t)
	root, err := filepath.Abs("../../..")
	require.NoError(t, err)
	checked := 0
	unseen := map[string]bool{}
	for p := range closedImports {
		require.Contains(t, rows, p, "closedImports names %s, which docs/ARCHITECTURE.md's package table does not list", p)
		unseen[p] = true
	}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if n := d.Name(); path != root && (strings.HasPrefix(n, ".") || n == "testdata" || n == "bench" || n == "interop") {
			return filepath.SkipDir
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = strings.TrimPrefix(filepath.ToSlash(rel), ".")
		from, ok := rowOf(rows, rel)
		if !ok {
			return nil
		}
		pkg, err := build.ImportDir(path, 0)
		if err != nil {
			return nil // no Go files, or test files only
		}
		checked++
		if allowed, closed := closedImports[rel]; closed {
			delete(unseen, rel)
			for _, imp := range pkg.Imports {
				assert.True(t, importAllowed(allowed, imp), "%s imports %s, which is not on its list (closedImports; docs/ARCHITECTURE.md says why)", rel, imp)
			}
		}
		for _, imp := range pkg.Imports {
			if imp != modulePath && !strings.HasPrefix(imp, modulePath+"/") {
				continue
			}
			to, ok := rowOf(rows, strings.TrimPrefix(strings.TrimPrefix(imp, modulePath), "/"))
			if ok {
				assert.LessOrEqual(t, to, from, "%s (row %d) imports %s (row %d): docs/ARCHITECTURE.md's package table puts the imported package below its importer",
					cmp.Or(rel, "esimgw"), from+1, imp, to+1)
			}
		}
		return nil
	})
	require.NoError(t, err)
	assert.Greater(t, checked, 20, "the walk found the module's packages")
	assert.Empty(t, unseen, "packages of closedImports the walk did not find")
}

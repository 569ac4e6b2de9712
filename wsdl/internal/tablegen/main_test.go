package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// copyWSDLs copies the repository's four service WSDLs into a new directory, applying edit to the file
// named by file (if any), and returns the directory.
func copyWSDLs(t *testing.T, file string, edit func(string) string) string {
	t.Helper()
	dir := t.TempDir()
	for _, svc := range services {
		for _, name := range []string{svc.provider, svc.operator} {
			b, err := os.ReadFile(filepath.Join("..", "..", name))
			require.NoError(t, err)
			s := string(b)
			if name == file {
				edited := edit(s)
				require.NotEqual(t, s, edited, "the edit of %s changed nothing", name)
				s = edited
			}
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644))
		}
	}
	return dir
}

func generate(t *testing.T, dir string) (string, error) {
	t.Helper()
	out := t.TempDir()
	err := run(dir, filepath.Join("..", "..", "rps", "rps.go"), out, out)
	return out, err
}

func TestGeneratesTheCommittedFiles(t *testing.T) {
	out, err := generate(t, copyWSDLs(t, "", nil))
	require.NoError(t, err)
	for _, f := range []struct{ got, committed string }{
		{"functions_gen.go", "../../rps/functions_gen.go"},
		{"access_gen.go", "../../rps/access_gen.go"},
		{"dispatch_gen.go", "../../../gatewaytest/dispatch_gen.go"},
	} {
		got, err := os.ReadFile(filepath.Join(out, f.got))
		require.NoError(t, err)
		want, err := os.ReadFile(f.committed)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got), "%s is stale: go generate ./wsdl/...", f.committed)
	}
}

func TestRefusesIncompleteWSDLs(t *testing.T) {
	tests := []struct {
		name, file, old, new, want string
	}{
		{"no annotation", "ES4_SmSr.wsdl", `<esimgw:function kpn="true" section="5.5.4" note="all profiles, or the ICCIDs given"/>`, "",
			`operation ES4-AuditEIS needs <esimgw:function/>`},
		{"unknown attribute", "ES4_SmSr.wsdl", `section="5.5.4"`, `sektion="5.5.4"`,
			`esimgw:function sektion="5.5.4": unknown attribute`},
		{"bad boolean", "ES2_SmDp.wsdl", `<esimgw:function kpn="true" section="5.3.1"/>`, `<esimgw:function kpn="yes" section="5.3.1"/>`,
			`operation ES2-GetEIS: esimgw:function kpn="yes"`},
		{"notification annotation on a function", "ES4_SmSr.wsdl", `<esimgw:function kpn="true" section="5.5.4"`, `<esimgw:notification kpn="true" section="5.5.4"`,
			`operation ES4-AuditEIS needs <esimgw:function/>`},
		{"no callback", "ES4_Mno.wsdl", `<wsdl:operation name="ES4-AuditEISCallback">`, `<wsdl:operation name="ES4-AuditEISResult">`,
			`operation ES4-AuditEISResult is neither a ...Callback nor`},
		{"callback of nothing", "ES4_Mno.wsdl", `rps:ES4-AuditEISResponse" wsam:Action`, `rps:ES4-SMSRChangeResponse" wsam:Action`,
			`one-way operation ES4-AuditEIS has no callback`},
		{"no prefix", "ES2_SmDp.wsdl", `<wsdl:operation name="ES2-GetEIS">`, `<wsdl:operation name="GetEIS">`,
			`operation "GetEIS": want ES2-<Function>`},
		{"no Action", "ES2_SmDp.wsdl", `wsam:Action="http://gsma.com/ES2/DataPreparation/ES2-GetEISRequest"`, ``,
			`operation ES2-GetEIS: an element or wsam:Action is missing`},
		{"element not in the XSD", "ES2_SmDp.wsdl", `element="rps:ES2-GetEISRequest"`, `element="rps:ES2-GetEISRequestX"`,
			`ES2 GetEIS: ES2-GetEISRequestX: no such element`},
		{"notification without annotation", "ES2_Mno.wsdl", "      <esimgw:notification/>\n", "",
			`operation ES2-HandleProfileDisabledNotification needs <esimgw:notification/>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyWSDLs(t, tt.file, func(s string) string { return strings.Replace(s, tt.old, tt.new, 1) })
			_, err := generate(t, dir)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

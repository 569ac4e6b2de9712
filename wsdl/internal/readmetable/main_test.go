package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/wsdl/rps"
)

// TestREADMEIsGenerated fails when the README's supported-functions table differs from what the function
// table generates (someone edited it by hand, or changed rps without running go generate ./wsdl/...).
func TestREADMEIsGenerated(t *testing.T) {
	readme, err := os.ReadFile("../../../README.md")
	require.NoError(t, err)
	updated, err := Splice(readme)
	require.NoError(t, err)
	assert.Equal(t, string(readme), string(updated), "README.md is out of date: run go generate ./wsdl/...")
}

func TestTableHasARowPerFunction(t *testing.T) {
	table := Table()
	for _, f := range rps.Functions() {
		assert.Contains(t, table, "| "+string(f.Interface)+" | "+f.Name+" | "+f.Mode.String()+" |")
	}
	for _, n := range rps.Notifications() {
		assert.Contains(t, table, "| "+string(n.Interface)+" | "+n.Name+" | inbound |")
	}
	assert.Equal(t, 2+len(rps.Functions())+len(rps.Notifications()), strings.Count(table, "\n")-2, "header, rule, one row each")
}

func TestSpliceNeedsMarkers(t *testing.T) {
	_, err := Splice([]byte("# no table here\n"))
	assert.ErrorContains(t, err, "markers")
	out, err := Splice([]byte("a\n" + BeginMarker + "\nstale\n" + EndMarker + "\nb\n"))
	require.NoError(t, err)
	assert.Equal(t, "a\n"+Table()+"b\n", string(out))
}

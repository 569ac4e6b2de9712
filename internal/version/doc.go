// Package version reports the module version of the running program from the build information the Go
// toolchain embeds in every binary (runtime/debug.ReadBuildInfo), so that every esimgw program answers
// -version the same way without a build step setting it.
//
// A binary installed with `go install github.com/esimgw/esimgw/cmd/esimgw@v0.2.0` reports v0.2.0; one built
// from a git checkout reports the pseudo-version the toolchain derives from the commit (with "+dirty" when
// the tree had changes), and adds the commit; `go run` and test binaries report "(devel)".
package version

package gatewaytest_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/mtls/mtlstest"
)

func TestCertsDirKeepsThePKI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki") // NewInDir makes it
	read := func(name string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		return b
	}
	start := func() (*gatewaytest.Gateway, gatewaytest.Files) {
		t.Helper()
		g, files, err := gatewaytest.NewInDir(dir, gatewaytest.WithLogger(slog.New(slog.DiscardHandler)))
		require.NoError(t, err)
		t.Cleanup(g.Close)
		return g, files
	}
	_, files := start()
	assert.Equal(t, filepath.Join(dir, "client.crt"), files.ClientCert)
	st, err := os.Stat(filepath.Join(dir, "ca.key"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "the CA key is private")
	first := map[string][]byte{}
	for _, n := range []string{"ca.pem", "client.crt", "client.key", "callback-server.crt", "callback-server.key"} {
		first[n] = read(n)
	}

	// A restart keeps every file.
	start()
	for n, b := range first {
		assert.Equal(t, b, read(n), n)
	}

	// A client certificate of another CA (or a key that is not its own) is replaced, the rest kept.
	other, err := mtlstest.NewCA()
	require.NoError(t, err)
	stranger, err := other.Client("operator")
	require.NoError(t, err)
	_, _, err = stranger.WriteFiles(dir, "client")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "callback-server.key"), read("client.key"), 0o600))
	start()
	assert.NotEqual(t, stranger.CertPEM, read("client.crt"), "another CA's certificate is replaced")
	assert.NotEqual(t, first["callback-server.crt"], read("callback-server.crt"), "a pair whose key does not match is replaced")
	assert.Equal(t, first["ca.pem"], read("ca.pem"))

	// A CA certificate without its key is an error, not silently replaced.
	require.NoError(t, os.Remove(filepath.Join(dir, "ca.key")))
	_, err = gatewaytest.LoadOrNewCA(dir)
	require.ErrorContains(t, err, "no ca.key")
}

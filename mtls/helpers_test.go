package mtls

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/mtls/mtlstest"
)

// logRecorder is a slog.Handler that keeps records, for asserting what was
// logged and how often.
type logRecorder struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r.Clone())
	return nil
}
func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logRecorder) WithGroup(string) slog.Handler      { return h }

// count returns how many records at level carry msg.
func (h *logRecorder) count(level slog.Level, msg string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range h.recs {
		if r.Level == level && r.Message == msg {
			n++
		}
	}
	return n
}

func (h *logRecorder) total() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.recs)
}

func newRecorder() (*logRecorder, *slog.Logger) {
	h := &logRecorder{}
	return h, slog.New(h)
}

const (
	msgReloaded  = "mtls: certificate reloaded"
	msgRejected  = "mtls: new certificate files do not load; keeping the current certificate"
	msgStat      = "mtls: cannot stat certificate files; keeping the current certificate"
	msgExpiring  = "mtls: certificate expires soon"
	msgHasExpird = "mtls: certificate has expired; peers will refuse it"
)

// files hands out distinct, increasing modification times so in-place
// rewrites are always seen as changes, whatever the file system's timestamp
// granularity.
type files struct {
	t    *testing.T
	dir  string
	tick time.Time
}

func newFiles(t *testing.T) *files {
	return &files{t: t, dir: t.TempDir(), tick: time.Now().Add(-time.Hour).Truncate(time.Second)}
}

// write writes data to dir/name in place and gives it a fresh mtime.
func (f *files) write(name string, data []byte) string {
	f.t.Helper()
	p := filepath.Join(f.dir, name)
	require.NoError(f.t, os.WriteFile(p, data, 0o600))
	f.tick = f.tick.Add(time.Second)
	require.NoError(f.t, os.Chtimes(p, f.tick, f.tick))
	return p
}

// pair writes p as name.crt and name.key.
func (f *files) pair(name string, p *mtlstest.Pair) (certFile, keyFile string) {
	return f.write(name+".crt", p.CertPEM), f.write(name+".key", p.KeyPEM)
}

func mustCA(t testing.TB, opts ...mtlstest.Option) *mtlstest.CA {
	t.Helper()
	ca, err := mtlstest.NewCA(opts...)
	require.NoError(t, err)
	return ca
}

func mustServer(t testing.TB, ca *mtlstest.CA, opts ...mtlstest.Option) *mtlstest.Pair {
	t.Helper()
	p, err := ca.Server(opts...)
	require.NoError(t, err)
	return p
}

func mustClient(t testing.TB, ca *mtlstest.CA, cn string, opts ...mtlstest.Option) *mtlstest.Pair {
	t.Helper()
	p, err := ca.Client(cn, opts...)
	require.NoError(t, err)
	return p
}

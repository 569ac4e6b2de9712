package mtls

import (
	"crypto/tls"
	"log/slog"
	"math/big"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/mtls/mtlstest"
)

func serialOf(t *testing.T, s *Source) *big.Int {
	t.Helper()
	c, err := s.Certificate()
	require.NoError(t, err)
	return c.Leaf.SerialNumber
}

func TestFileSourceRotation(t *testing.T) {
	ca := mustCA(t)
	a, b, c := mustServer(t, ca), mustServer(t, ca), mustServer(t, ca)
	f := newFiles(t)
	certFile, keyFile := f.pair("server", a)
	rec, log := newRecorder()

	src, err := NewFileSource(certFile, keyFile, WithLogger(log))
	require.NoError(t, err)
	assert.Equal(t, a.Cert.SerialNumber, serialOf(t, src))
	assert.Equal(t, 0, rec.total(), "nothing to say about a fresh, long-lived certificate")

	// Unchanged files: same pointer, no reload.
	c1, _ := src.Certificate()
	c2, _ := src.Certificate()
	assert.Same(t, c1, c2)

	// Proper rotation, written in place.
	f.pair("server", b)
	assert.Equal(t, b.Cert.SerialNumber, serialOf(t, src))
	assert.Equal(t, 1, rec.count(slog.LevelInfo, msgReloaded))

	// Half-written certificate: keep b, log once however many handshakes.
	f.write("server.crt", c.CertPEM[:len(c.CertPEM)/3])
	for range 5 {
		assert.Equal(t, b.Cert.SerialNumber, serialOf(t, src))
	}
	assert.Equal(t, 1, rec.count(slog.LevelWarn, msgRejected))

	// Certificate complete but the key is still the old one: mismatch, keep b,
	// log once more (a new version of the files).
	f.write("server.crt", c.CertPEM)
	for range 3 {
		assert.Equal(t, b.Cert.SerialNumber, serialOf(t, src))
	}
	assert.Equal(t, 2, rec.count(slog.LevelWarn, msgRejected))
	assert.True(t, IsKind(src.Reload(), KindKeyMismatch))
	assert.Equal(t, b.Cert.SerialNumber, serialOf(t, src))

	// The key arrives: c is served.
	f.write("server.key", c.KeyPEM)
	assert.Equal(t, c.Cert.SerialNumber, serialOf(t, src))
	assert.Equal(t, 2, rec.count(slog.LevelInfo, msgReloaded))
	assert.Equal(t, 2, rec.count(slog.LevelWarn, msgRejected))
}

func TestFileSourceRenameRotation(t *testing.T) {
	// Rotation by writing new files and renaming them over the old ones (the
	// safe way, and what Kubernetes secret volumes do via symlinks) is seen
	// even with identical size and mtime, because the inode changes.
	ca := mustCA(t)
	a, b := mustServer(t, ca, mtlstest.WithSerial(1)), mustServer(t, ca, mtlstest.WithSerial(2))
	dir := t.TempDir()
	certFile, keyFile, err := a.WriteFiles(dir, "tls")
	require.NoError(t, err)
	src, err := NewFileSource(certFile, keyFile, WithExpiryWarning(0), WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	fi, err := os.Stat(certFile)
	require.NoError(t, err)

	newCert, newKey, err := b.WriteFiles(dir, "tls.new")
	require.NoError(t, err)
	for _, p := range []string{newCert, newKey} {
		require.NoError(t, os.Chtimes(p, fi.ModTime(), fi.ModTime()))
	}
	require.NoError(t, os.Rename(newCert, certFile))
	require.NoError(t, os.Rename(newKey, keyFile))
	assert.Equal(t, int64(2), serialOf(t, src).Int64())
}

func TestFileSourceRefusesExpiredRotation(t *testing.T) {
	ca := mustCA(t)
	a, old := mustServer(t, ca), mustServer(t, ca, mtlstest.WithExpired())
	f := newFiles(t)
	certFile, keyFile := f.pair("s", a)
	rec, log := newRecorder()
	src, err := NewFileSource(certFile, keyFile, WithLogger(log))
	require.NoError(t, err)

	f.pair("s", old)
	assert.Equal(t, a.Cert.SerialNumber, serialOf(t, src))
	assert.Equal(t, 1, rec.count(slog.LevelWarn, msgRejected))
	assert.True(t, IsKind(src.Reload(), KindExpired))
}

func TestFileSourceNotYetValidRotationRetried(t *testing.T) {
	// A renewed certificate put in place before its NotBefore is refused,
	// then picked up once it becomes valid, without the files changing again.
	ca := mustCA(t)
	now := time.Now()
	a := mustServer(t, ca, mtlstest.WithValidity(now.Add(-time.Hour), now.Add(90*24*time.Hour)))
	next := mustServer(t, ca, mtlstest.WithValidity(now.Add(24*time.Hour), now.Add(400*24*time.Hour)))
	f := newFiles(t)
	certFile, keyFile := f.pair("s", a)
	rec, log := newRecorder()
	src, err := NewFileSource(certFile, keyFile, WithLogger(log))
	require.NoError(t, err)
	clock := now
	src.opts.now = func() time.Time { return clock }

	f.pair("s", next)
	assert.Equal(t, a.Cert.SerialNumber, serialOf(t, src))
	assert.Equal(t, a.Cert.SerialNumber, serialOf(t, src))
	assert.Equal(t, 1, rec.count(slog.LevelWarn, msgRejected))

	clock = now.Add(25 * time.Hour)
	assert.Equal(t, next.Cert.SerialNumber, serialOf(t, src))
	assert.Equal(t, 1, rec.count(slog.LevelInfo, msgReloaded))
}

func TestFileSourceVanishingFiles(t *testing.T) {
	ca := mustCA(t)
	a := mustServer(t, ca)
	f := newFiles(t)
	certFile, keyFile := f.pair("s", a)
	rec, log := newRecorder()
	src, err := NewFileSource(certFile, keyFile, WithLogger(log))
	require.NoError(t, err)

	require.NoError(t, os.Remove(keyFile))
	for range 3 {
		assert.Equal(t, a.Cert.SerialNumber, serialOf(t, src))
	}
	assert.Equal(t, 1, rec.count(slog.LevelWarn, msgStat))
	err = src.Reload()
	assert.True(t, IsKind(err, KindUnreadable), "%v", err)
	var ce *CertificateError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, keyFile, ce.Path)

	// The same key comes back (new inode): reload works, nothing is rejected.
	f.write("s.key", a.KeyPEM)
	assert.Equal(t, a.Cert.SerialNumber, serialOf(t, src))
	assert.Equal(t, 0, rec.count(slog.LevelWarn, msgRejected))

	// Vanishing again is news again.
	require.NoError(t, os.Remove(certFile))
	assert.Equal(t, a.Cert.SerialNumber, serialOf(t, src))
	assert.Equal(t, a.Cert.SerialNumber, serialOf(t, src))
	assert.Equal(t, 2, rec.count(slog.LevelWarn, msgStat))
}

func TestExpiryReporting(t *testing.T) {
	ca := mustCA(t)
	soon := mustServer(t, ca, mtlstest.WithExpiresIn(10*24*time.Hour))
	later := mustServer(t, ca, mtlstest.WithExpiresIn(100*24*time.Hour))

	tests := []struct {
		name     string
		pair     *mtlstest.Pair
		opts     []SourceOption
		warnings int
	}{
		{"10 days left, default 30-day window", soon, nil, 1},
		{"10 days left, 5-day window", soon, []SourceOption{WithExpiryWarning(5 * 24 * time.Hour)}, 0},
		{"10 days left, warnings off", soon, []SourceOption{WithExpiryWarning(0)}, 0},
		{"100 days left, default window", later, nil, 0},
		{"100 days left, 120-day window", later, []SourceOption{WithExpiryWarning(120 * 24 * time.Hour)}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, log := newRecorder()
			src, err := NewStaticSource(tt.pair.CertPEM, tt.pair.KeyPEM, append(tt.opts, WithLogger(log))...)
			require.NoError(t, err)
			for range 3 {
				_, err := src.Certificate()
				require.NoError(t, err)
			}
			assert.Equal(t, tt.warnings, rec.count(slog.LevelWarn, msgExpiring))
			assert.True(t, src.NotAfter().Equal(tt.pair.Cert.NotAfter))
		})
	}

	t.Run("ExpiresWithin", func(t *testing.T) {
		src, err := NewStaticSource(soon.CertPEM, soon.KeyPEM, WithExpiryWarning(0))
		require.NoError(t, err)
		assert.True(t, src.ExpiresWithin(11*24*time.Hour))
		assert.False(t, src.ExpiresWithin(9*24*time.Hour))
	})

	t.Run("window entered and certificate expiring while loaded", func(t *testing.T) {
		rec, log := newRecorder()
		src, err := NewStaticSource(later.CertPEM, later.KeyPEM, WithLogger(log))
		require.NoError(t, err)
		clock := time.Now()
		src.opts.now = func() time.Time { return clock }
		_, _ = src.Certificate()
		assert.Equal(t, 0, rec.total())

		clock = clock.Add(80 * 24 * time.Hour)
		for range 3 {
			_, _ = src.Certificate()
		}
		assert.Equal(t, 1, rec.count(slog.LevelWarn, msgExpiring))
		assert.True(t, src.ExpiresWithin(30*24*time.Hour))

		clock = clock.Add(30 * 24 * time.Hour)
		for range 3 {
			c, err := src.Certificate()
			require.NoError(t, err, "an expired certificate keeps being served; the peer decides")
			require.NotNil(t, c)
		}
		assert.Equal(t, 1, rec.count(slog.LevelError, msgHasExpird))
		assert.True(t, src.ExpiresWithin(0))
	})
}

func TestStaticSource(t *testing.T) {
	ca := mustCA(t)
	p := mustClient(t, ca, "static")
	src, err := NewStaticSource(p.CertPEM, p.KeyPEM)
	require.NoError(t, err)
	assert.NoError(t, src.Reload())
	c, err := src.GetClientCertificate(&tls.CertificateRequestInfo{})
	require.NoError(t, err)
	assert.Equal(t, p.Cert.Raw, c.Certificate[0])
	c2, err := src.GetCertificate(&tls.ClientHelloInfo{})
	require.NoError(t, err)
	assert.Same(t, c, c2)
	assert.Equal(t, "static", src.Leaf().Subject.CommonName)
}

func TestNilSource(t *testing.T) {
	var s *Source
	_, err := s.Certificate()
	assert.Error(t, err)
	assert.Nil(t, s.Leaf())
	assert.True(t, s.NotAfter().IsZero())
	assert.False(t, s.ExpiresWithin(time.Hour))
	assert.Error(t, s.Reload())
	_, err = (&Source{}).Certificate()
	assert.Error(t, err, "zero Source")
}

func TestConcurrentHandshakesDuringRotation(t *testing.T) {
	ca := mustCA(t)
	pairs := []*mtlstest.Pair{mustServer(t, ca), mustServer(t, ca), mustServer(t, ca)}
	valid := map[string]bool{}
	for _, p := range pairs {
		valid[p.Cert.SerialNumber.String()] = true
	}
	f := newFiles(t)
	certFile, keyFile := f.pair("s", pairs[0])
	src, err := NewFileSource(certFile, keyFile, WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)

	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				c, err := src.Certificate()
				if err != nil {
					errs <- err
					return
				}
				if !valid[c.Leaf.SerialNumber.String()] {
					errs <- assert.AnError
					return
				}
			}
		}()
	}
	for i := 1; i < 20; i++ {
		p := pairs[i%len(pairs)]
		f.write("s.crt", p.CertPEM[:len(p.CertPEM)/2])
		f.pair("s", p)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Settled on the last pair written.
	assert.Equal(t, pairs[19%len(pairs)].Cert.SerialNumber, serialOf(t, src))
}

func BenchmarkSourceCertificate(b *testing.B) {
	ca := mustCA(b)
	p := mustServer(b, ca)
	dir := b.TempDir()
	certFile, keyFile, err := p.WriteFiles(dir, "s")
	require.NoError(b, err)
	file, err := NewFileSource(certFile, keyFile)
	require.NoError(b, err)
	static, err := NewStaticSource(p.CertPEM, p.KeyPEM)
	require.NoError(b, err)
	for _, bc := range []struct {
		name string
		src  *Source
	}{{"file", file}, {"static", static}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.src.Certificate(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

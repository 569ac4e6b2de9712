package pgstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/internal/pgtest"
)

// dbProxy is a loopback TCP proxy between a pgxpool and the PostgreSQL server, so that a test can make
// the database misbehave for its own connections only: the shared server is never stopped or restarted
// (other tests use it). It can cut every connection (what clients see when the server restarts), refuse
// new ones for a while (the server still down), and delay every chunk it forwards (a slow database or
// network).
type dbProxy struct {
	ln       net.Listener
	upstream string

	mu          sync.Mutex
	conns       map[net.Conn]struct{} // both ends of every proxied connection
	refuseUntil time.Time
	latency     time.Duration

	accepted, refused, cuts atomic.Int64
	wg                      sync.WaitGroup
}

// startDBProxy listens on 127.0.0.1 and forwards to upstream (host:port); it stops when the test ends.
func startDBProxy(t testing.TB, upstream string) *dbProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &dbProxy{ln: ln, upstream: upstream, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *dbProxy) port() uint16 { return uint16(p.ln.Addr().(*net.TCPAddr).Port) }

func (p *dbProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		refuse := time.Now().Before(p.refuseUntil)
		p.mu.Unlock()
		if refuse {
			// Accepted and closed at once: the client reads EOF during its start-up, as from a server that
			// is not accepting connections yet.
			p.refused.Add(1)
			_ = c.Close()
			continue
		}
		p.accepted.Add(1)
		p.wg.Add(1)
		go p.serve(c)
	}
}

func (p *dbProxy) serve(c net.Conn) {
	defer p.wg.Done()
	up, err := net.DialTimeout("tcp", p.upstream, 5*time.Second)
	if err != nil {
		_ = c.Close()
		return
	}
	if !p.track(c, up) {
		return
	}
	var both sync.WaitGroup
	both.Add(2)
	go func() { defer both.Done(); p.pipe(up, c) }()
	go func() { defer both.Done(); p.pipe(c, up) }()
	both.Wait()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// track registers a new pair, unless the proxy was closed meanwhile.
func (p *dbProxy) track(c, up net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns == nil {
		_ = c.Close()
		_ = up.Close()
		return false
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	return true
}

// pipe copies src to dst, each chunk after the current latency, and closes both when either side ends.
func (p *dbProxy) pipe(dst, src net.Conn) {
	defer func() { _ = dst.Close(); _ = src.Close() }()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			d := p.latency
			p.mu.Unlock()
			if d > 0 {
				time.Sleep(d)
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// cut closes every proxied connection and returns how many client connections there were.
func (p *dbProxy) cut() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		_ = c.Close()
	}
	n := len(p.conns) / 2
	clear(p.conns)
	p.cuts.Add(int64(n))
	return n
}

// refuseFor refuses new connections for d from now.
func (p *dbProxy) refuseFor(d time.Duration) {
	p.mu.Lock()
	p.refuseUntil = time.Now().Add(d)
	p.mu.Unlock()
}

// restart is what a database restart looks like from the pool: every connection drops, and for d none
// can be made.
func (p *dbProxy) restart(d time.Duration) int {
	p.refuseFor(d)
	return p.cut()
}

// setLatency delays every chunk forwarded, both ways, by d (0: none).
func (p *dbProxy) setLatency(d time.Duration) {
	p.mu.Lock()
	p.latency = d
	p.mu.Unlock()
}

func (p *dbProxy) close() {
	_ = p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
}

// appName returns an application_name unique to this test, by which the test finds its own sessions in
// pg_stat_activity (and only them).
func appName() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "esimgw_faults_" + hex.EncodeToString(b[:])
}

// poolConfig parses a fresh schema's URL (pgtest), names the sessions appName and, when p is not nil,
// points the pool at the proxy instead of the server.
func poolConfig(t testing.TB, url, app string, maxConns int32) *pgxpool.Config {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	require.NoError(t, err)
	cfg.ConnConfig.RuntimeParams["application_name"] = app
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	return cfg
}

// proxiedPool returns a pool on a fresh, migrated schema whose every connection goes through a dbProxy,
// and that proxy.
func proxiedPool(t testing.TB, maxConns int32) (*pgxpool.Pool, *dbProxy, string) {
	t.Helper()
	app := appName()
	cfg := poolConfig(t, pgtest.URL(t), app, maxConns)
	upstream := net.JoinHostPort(cfg.ConnConfig.Host, strconv.Itoa(int(cfg.ConnConfig.Port)))
	proxy := startDBProxy(t, upstream)
	cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Fallbacks = "127.0.0.1", proxy.port(), nil
	cfg.ConnConfig.ConnectTimeout = 2 * time.Second
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool, proxy, app
}

// TestDBProxy checks the test's own tool: it forwards, cuts, refuses and delays.
func TestDBProxy(t *testing.T) {
	ctx := context.Background()
	pool, proxy, _ := proxiedPool(t, 2)
	var one int
	require.NoError(t, pool.QueryRow(ctx, "SELECT 1").Scan(&one))
	require.Equal(t, 1, one)

	require.Equal(t, 1, proxy.restart(300*time.Millisecond), "one pooled connection to cut")
	err := pool.QueryRow(ctx, "SELECT 1").Scan(&one)
	require.Error(t, err, "the cut connection, or a refused new one")
	err = pool.QueryRow(ctx, "SELECT 1").Scan(&one)
	require.Error(t, err, "new connections are refused")
	require.Positive(t, proxy.refused.Load())

	require.Eventually(t, func() bool { return pool.QueryRow(ctx, "SELECT 1").Scan(&one) == nil }, 5*time.Second, 20*time.Millisecond,
		"connections are accepted again after the refusal")

	proxy.setLatency(50 * time.Millisecond)
	start := time.Now()
	require.NoError(t, pool.QueryRow(ctx, "SELECT 1").Scan(&one))
	require.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond, "a query and its answer are each delayed")
	proxy.setLatency(0)
}

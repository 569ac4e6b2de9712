package campaign_test

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/campaign"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/internal/pgtest"
)

// balancer is the load balancer in front of the workers' callback servers: it terminates the mock's
// mutual TLS and posts each callback to the next live worker, trying the others when one does not answer
// (a killed worker), as a real one does with health checks.
type balancer struct {
	mu       sync.Mutex
	backends []string
	next     int
	client   http.Client
}

func (b *balancer) add(url string) {
	b.mu.Lock()
	b.backends = append(b.backends, url)
	b.mu.Unlock()
}

func (b *balancer) remove(url string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, u := range b.backends {
		if u == url {
			b.backends = append(b.backends[:i], b.backends[i+1:]...)
			return
		}
	}
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	backends := append([]string(nil), b.backends...)
	start := b.next
	b.next++
	b.mu.Unlock()
	for i := range backends {
		req, err := http.NewRequestWithContext(r.Context(), r.Method, backends[(start+i)%len(backends)]+r.URL.Path, bytes.NewReader(body))
		if err != nil {
			continue
		}
		req.Header = r.Header.Clone()
		resp, err := b.client.Do(req)
		if err != nil {
			continue // that worker is gone: the next one
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
		resp.Body.Close()
		return
	}
	http.Error(w, "no worker answers", http.StatusServiceUnavailable)
}

// workerProc is a worker process: the test binary run again with workerMain.
type workerProc struct {
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	callback string
	stderr   *bytes.Buffer
}

func startProc(t *testing.T, id string, env []string, lb *balancer) *workerProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append(env, envWorker+"="+id)...)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	p := &workerProc{cmd: cmd, stdin: stdin, stderr: &bytes.Buffer{}}
	cmd.Stderr = p.stderr
	require.NoError(t, cmd.Start())
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "CALLBACK "); ok {
				line <- u
			}
		}
		close(line)
	}()
	select {
	case u, ok := <-line:
		require.True(t, ok, "worker %s ended before serving: %s", id, p.stderr)
		p.callback = u
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("worker %s did not start: %s", id, p.stderr)
	}
	lb.add(p.callback)
	t.Cleanup(func() { p.stop(t) })
	return p
}

// stop ends the process gracefully (its standard input closes), or kills it after 20 s.
func (p *workerProc) stop(t *testing.T) {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("worker exited with %v: %s", err, p.stderr)
		}
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
		t.Errorf("worker did not stop: %s", p.stderr)
	}
}

// kill ends the process with SIGKILL: no clean-up of any kind, as a crash or an OOM kill.
func (p *workerProc) kill(t *testing.T, lb *balancer) {
	require.NoError(t, p.cmd.Process.Kill())
	_ = p.cmd.Wait()
	lb.remove(p.callback) // the balancer's health check notices; until then it fails over per request
}

// TestKillWorker runs a campaign on two worker processes, kills one with SIGKILL while it is in the middle
// of its EIDs and starts it again: every EID is executed exactly once at the mock (its per-identifier
// execution records prove it), none is lost, and the campaign's counts are the mock's state.
func TestKillWorker(t *testing.T) {
	n := killTestN
	gw := gatewaytest.Start(t, gatewaytest.WithSeed(gatewaytest.Seed{}), gatewaytest.WithFleet(n))
	files, err := gw.WriteFiles(t.TempDir())
	require.NoError(t, err)
	dbURL := pgtest.URL(t)
	cfg, err := pgxpool.ParseConfig(dbURL)
	require.NoError(t, err)
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	require.NoError(t, campaign.Migrate(t.Context(), pool))
	m := manager(t, pool)
	_, err = m.Create(t.Context(), campaign.Spec{Key: "kill", Function: "ES4.SetFallBackAttribute"}, campaign.CSV(strings.NewReader(fleetLines(0, n))))
	require.NoError(t, err)

	lb := &balancer{}
	front := httptest.NewUnstartedServer(lb)
	front.TLS = gw.CallbackServerTLSConfig()
	front.StartTLS()
	t.Cleanup(front.Close)
	env := []string{envDB + "=" + dbURL, envES4 + "=" + gw.ES4URL, envCerts + "=" + strings.TrimSuffix(files.CA, "/ca.pem"),
		envReplyTo + "=" + front.URL + "/", envOperator + "=" + gw.OperatorID}

	start := time.Now()
	a := startProc(t, "worker-a", env, lb)
	startProc(t, "worker-b", env, lb)
	p := waitDone(t, m, "kill", int64(n)*3/10, 3*time.Minute)
	a.kill(t, lb)
	t.Logf("killed worker-a at %d of %d EIDs done, %d in flight", p.Done(), n, p.InFlight)
	var running int64
	require.NoError(t, pool.QueryRow(t.Context(), `SELECT count(*) FROM river_job WHERE state = 'running' AND attempted_by[array_length(attempted_by, 1)] = 'worker-a'`).Scan(&running))
	t.Logf("jobs left running by the dead worker: %d", running)
	time.Sleep(time.Second) // worker-b goes on alone for a while
	startProc(t, "worker-a", env, lb)

	p = waitFinished(t, m, "kill", 5*time.Minute)
	elapsed := time.Since(start)
	require.NoError(t, gw.WaitIdle(t.Context()))
	st := gw.Stats()
	t.Logf("%d EIDs in %s (%.0f EIDs/s) on two processes, one killed and restarted; mock: %d requests, %d executed, %d duplicates answered without executing",
		n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), st.Requests, st.Executed, st.Duplicates)

	assert.Equal(t, int64(n), p.Total)
	assert.Equal(t, int64(n), p.Succeeded, "none lost: %+v", p)
	assert.Equal(t, n, st.Executed, "the mock executed every EID once")
	once, moved := 0, 0
	for i := range n {
		if gw.Executions(campaign.FunctionCallIdentifier("kill", 1, gatewaytest.FleetEID(i))) == 1 {
			once++
		}
		if fallbackMoved(t, gw, i) {
			moved++
		}
	}
	assert.Equal(t, n, once, "every EID executed exactly once, by its FunctionCallIdentifier")
	assert.Equal(t, int64(moved), p.Succeeded, "the campaign's count is the mock's state")
	// Jobs complete a little after their EID's result is stored (a snoozed one at its next look, River's
	// completer in batches): wait for the last.
	require.Eventually(t, func() bool {
		return count(t, pool, `SELECT count(*) FROM river_job WHERE state <> 'completed'`) == 0
	}, time.Minute, 100*time.Millisecond, "every job completes")
}

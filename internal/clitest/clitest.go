// Package clitest runs the example programs in tests: synchronously (Exec) or in the background for the
// listeners (Start), against the embedded mock or against a test's own gatewaytest.Gateway whose
// certificates are written to files and passed through ESIMGW_* variables, as an operator would.
package clitest

import (
	"context"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/internal/cli"
)

// Result is how a program ended.
type Result struct {
	Code           int
	Stdout, Stderr string
}

// Program runs one command line to its exit code: an example program's run function through cli.Exec
// (Example), or cmd/esimgw's cobra root.
type Program func(ctx context.Context, args []string, env cli.Env, stdout, stderr io.Writer) int

// Example is the Program of an example program's run function.
func Example(run cli.RunFunc) Program {
	return func(ctx context.Context, args []string, env cli.Env, stdout, stderr io.Writer) int {
		return cli.Exec(ctx, "esimgw-test", run, args, env, stdout, stderr)
	}
}

// Exec runs an example program to completion (bounded by a minute) with env as its whole environment.
func Exec(t testing.TB, run cli.RunFunc, env map[string]string, args ...string) Result {
	t.Helper()
	return ExecProgram(t, Example(run), env, args...)
}

// ExecProgram is Exec for any Program.
func ExecProgram(t testing.TB, p Program, env map[string]string, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errOut buffer
	code := p(ctx, args, cli.MapEnv(env), &out, &errOut)
	return Result{Code: code, Stdout: out.String(), Stderr: errOut.String()}
}

// Proc is a program running in the background.
type Proc struct {
	cancel      context.CancelCauseFunc
	out, errOut buffer
	done        chan int
}

// Start runs an example program in the background; Stop or Wait ends it.
func Start(t testing.TB, run cli.RunFunc, env map[string]string, args ...string) *Proc {
	t.Helper()
	return StartProgram(t, Example(run), env, args...)
}

// StartProgram is Start for any Program.
func StartProgram(t testing.TB, p Program, env map[string]string, args ...string) *Proc {
	t.Helper()
	ctx, cancel := context.WithCancelCause(context.Background())
	pr := &Proc{cancel: cancel, done: make(chan int, 1)}
	go func() { pr.done <- p(ctx, args, cli.MapEnv(env), &pr.out, &pr.errOut) }()
	t.Cleanup(func() { pr.Stop() })
	return pr
}

// Stdout is what the program wrote to its standard output so far.
func (p *Proc) Stdout() string { return p.out.String() }

// Stderr is what the program wrote to its standard error so far.
func (p *Proc) Stderr() string { return p.errOut.String() }

// WaitFor waits until stdout matches re, and returns the first submatch (or the match).
func (p *Proc) WaitFor(t testing.TB, re string) string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := rx.FindStringSubmatch(p.out.String()); m != nil {
			return m[len(m)-1]
		}
		select {
		case code := <-p.done:
			p.done <- code
			t.Fatalf("program exited (%d) before printing %q\nstdout:\n%s\nstderr:\n%s", code, re, p.out.String(), p.errOut.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("no %q in stdout within 30s:\n%s\nstderr:\n%s", re, p.out.String(), p.errOut.String())
	return ""
}

// Wait waits (up to 30 s) for the program to end by itself.
func (p *Proc) Wait(t testing.TB) Result {
	t.Helper()
	select {
	case code := <-p.done:
		p.done <- code
		return Result{Code: code, Stdout: p.out.String(), Stderr: p.errOut.String()}
	case <-time.After(30 * time.Second):
		t.Fatalf("program still running after 30s:\n%s", p.out.String())
		return Result{}
	}
}

// Stop cancels the program and waits for it.
func (p *Proc) Stop() Result {
	p.cancel(nil)
	code := <-p.done
	p.done <- code
	return Result{Code: code, Stdout: p.out.String(), Stderr: p.errOut.String()}
}

// Interrupt cancels the program's context with cause (what a signal handler would, e.g. cmd/esimgw's
// errInterrupted) and returns its exit code; a program that already ended keeps its code.
func (p *Proc) Interrupt(t testing.TB, cause error) int {
	t.Helper()
	p.cancel(cause)
	select {
	case code := <-p.done:
		p.done <- code
		return code
	case <-time.After(30 * time.Second):
		t.Fatal("the program did not stop after the interrupt")
		return 0
	}
}

// GatewayEnv is the environment of an operator pointed at gw: its endpoints, the certificate files
// WriteFiles wrote, the mock's operator and SM-SR OIDs, and a loopback callback server.
func GatewayEnv(t testing.TB, gw *gatewaytest.Gateway) map[string]string {
	t.Helper()
	files, err := gw.WriteFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"ESIMGW_ES2_URL":       gw.ES2URL,
		"ESIMGW_ES4_URL":       gw.ES4URL,
		"ESIMGW_CERT":          files.ClientCert,
		"ESIMGW_KEY":           files.ClientKey,
		"ESIMGW_CA":            files.CA,
		"ESIMGW_ENTITY_ID":     gw.OperatorID,
		"ESIMGW_ENTITY_NAME":   "esimgw-test",
		"ESIMGW_SMSR_ID":       gw.SMSRID,
		"ESIMGW_LISTEN":        "127.0.0.1:0",
		"ESIMGW_CALLBACK_CERT": files.CallbackServerCert,
		"ESIMGW_CALLBACK_KEY":  files.CallbackServerKey,
		"ESIMGW_CALLBACK_CA":   files.CA,
	}
}

// With returns a copy of env with kv (key, value, key, value...) set.
func With(env map[string]string, kv ...string) map[string]string {
	m := make(map[string]string, len(env)+len(kv)/2)
	for k, v := range env {
		m[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// OneLine fails t unless s is exactly one line starting with "esimgw-test: ".
func OneLine(t testing.TB, s string) {
	t.Helper()
	if !strings.HasPrefix(s, "esimgw-test: ") || strings.Count(s, "\n") != 1 || !strings.HasSuffix(s, "\n") {
		t.Errorf("stderr is not one \"esimgw-test: ...\" line: %q", s)
	}
	if strings.Contains(s, "goroutine ") || strings.Contains(s, "panic") {
		t.Errorf("stderr holds a stack trace: %q", s)
	}
}

// CallbacksURL extracts the callback server's base URL from a program's "callbacks ..." line.
const CallbacksURL = `callbacks (https://localhost:\d+)/`

type buffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

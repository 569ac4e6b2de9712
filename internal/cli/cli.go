// Package cli is what the esimgw example programs share: their common flags with ESIMGW_* environment
// fall-backs, the set-up of the ES2 and ES4 clients and of the callback server (against the embedded mock
// gateway by default, against KPN's RSP Gateway with -kpn or any real gateway with its URLs), printing, and
// one-line error reporting with exit codes.
//
// A program is a tiny main around a run function that tests call directly:
//
//	func main() { os.Exit(cli.Main(name, run)) }
//
//	func run(ctx context.Context, env cli.Env, args []string, stdout, stderr io.Writer) error {
//		app := cli.New(name, doc, cli.NeedES4, env, stdout, stderr)
//		eid := app.Flags.String("eid", "", "the eUICC's EID")
//		if err := app.Parse(args); err != nil {
//			return err
//		}
//		s, err := app.Start(ctx, cli.StartOptions{})
//		...
//	}
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/esimgw/esimgw/soap"
)

// Exit codes.
const (
	ExitOK    = 0
	ExitError = 1 // the program ran and failed: a bad value, a certificate, the gateway
	ExitUsage = 2 // the command line is wrong: unknown or missing flags
)

// Env looks up an environment variable, as os.LookupEnv does. Programs get it as an argument so that tests
// choose the environment instead of inheriting the developer's.
type Env func(key string) (string, bool)

// NoEnv is an empty environment.
func NoEnv(string) (string, bool) { return "", false }

// MapEnv is an environment holding m.
func MapEnv(m map[string]string) Env {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// RunFunc is an example program's body.
type RunFunc func(ctx context.Context, env Env, args []string, stdout, stderr io.Writer) error

// Main runs a program with the process's arguments, environment and standard streams, cancelling its
// context on SIGINT or SIGTERM, and returns the exit code for os.Exit.
func Main(name string, run RunFunc) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Exec(ctx, name, run, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr)
}

// Exec runs a program and reports its error on stderr as one line, "name: message", returning the exit
// code: ExitOK (also for -h), ExitUsage for a *UsageError, ExitError otherwise. A panic is reported the
// same way rather than as a stack trace.
func Exec(ctx context.Context, name string, run RunFunc, args []string, env Env, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "%s: internal error: %s\n", name, oneLine(fmt.Sprint(r)))
			code = ExitError
		}
	}()
	err := run(ctx, env, args, stdout, stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return ExitOK
	case isUsage(err):
		fmt.Fprintf(stderr, "%s: %s (run %s -h for help)\n", name, Message(err), name)
		return ExitUsage
	default:
		fmt.Fprintf(stderr, "%s: %s\n", name, Message(err))
		return ExitError
	}
}

// UsageError is a wrong command line: exit code ExitUsage.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Usagef returns a *UsageError.
func Usagef(format string, args ...any) error { return &UsageError{Msg: fmt.Sprintf(format, args...)} }

func isUsage(err error) bool {
	var u *UsageError
	return errors.As(err, &u)
}

// Message renders err for people, on one line: transport failures name the gateway that could not be
// reached, and package prefixes ("esimgw: ", "mtls: ") are dropped.
func Message(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	var (
		ue *url.Error
		ce *soap.CallError
		oe *net.OpError
	)
	// Only a call that was not sent could not reach the gateway; one whose outcome is unknown did.
	sent := errors.As(err, &ce) && ce.Outcome != soap.NotSent
	if !sent && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		switch {
		case errors.As(err, &ue): // through an http.Client
			cause := ue.Err
			if errors.As(cause, &oe) && oe.Err != nil {
				cause = oe.Err
			}
			msg = "cannot reach the gateway at " + ue.URL + ": " + cause.Error()
		case errors.As(err, &ce) && errors.As(err, &oe) && oe.Err != nil: // soap.Transport's own errors
			msg = "cannot reach the gateway at " + ce.Endpoint + ": " + oe.Err.Error()
		}
		if ce != nil && ce.Fix != "" && !strings.Contains(msg, ce.Fix) {
			msg += "; " + ce.Fix
		}
	}
	for _, p := range []string{"esimgw: ", "mtls: ", "soap: ", "es2: ", "es4: "} {
		msg = strings.TrimPrefix(msg, p)
		msg = strings.ReplaceAll(msg, ": "+p, ": ")
	}
	return oneLine(msg)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// syncWriter serialises writes: callbacks and notifications are printed from the callback server's
// goroutines while the program prints from its own.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// Sync wraps w so that concurrent writes do not interleave within one call (nor race).
func Sync(w io.Writer) io.Writer {
	if s, ok := w.(*syncWriter); ok {
		return s
	}
	return &syncWriter{w: w}
}

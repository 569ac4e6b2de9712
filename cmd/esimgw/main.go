package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/esimgw/esimgw/internal/cli"
)

// Exit codes (docs/cli.md).
const (
	exitOK          = cli.ExitOK    // done; for a function: EXECUTED_SUCCESS or EXECUTED_WITHWARNING
	exitFailed      = cli.ExitError // the function FAILED or EXPIRED, or the command could not do its job
	exitUsage       = cli.ExitUsage // bad flag, argument or value
	exitInterrupted = 130           // SIGINT or SIGTERM (128 + SIGINT, as shells report it)
)

// errInterrupted is the cause of the context of a command stopped by a signal.
var errInterrupted = errors.New("interrupted")

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		cancel(errInterrupted)
		signal.Stop(sig) // a second Ctrl-C kills at once
	}()
	code := execute(ctx, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr)
	cancel(nil)
	os.Exit(code)
}

// execute runs one command line and returns its exit code, reporting an error on stderr as one line.
func execute(ctx context.Context, args []string, env cli.Env, stdout, stderr io.Writer) (code int) {
	root, g := newRoot(env, stdout, stderr)
	defer g.tel.shutdown()
	stderr = root.ErrOrStderr()
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "esimgw: internal error: %s\n", cli.Message(fmt.Errorf("%v", r)))
			code = exitFailed
		}
	}()
	root.SetArgs(normalizeArgs(root, args))
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	name := "esimgw"
	if cmd != nil {
		name = cmd.CommandPath()
	}
	var ie *interruptedError
	switch {
	case errors.As(err, &ie) || errors.Is(context.Cause(ctx), errInterrupted):
		fmt.Fprintf(stderr, "%s: %s\n", name, cli.Message(err))
		return exitInterrupted
	case isUsage(err):
		fmt.Fprintf(stderr, "%s: %s (see %s --help)\n", name, cli.Message(err), name)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "%s: %s\n", name, cli.Message(err))
		return exitFailed
	}
}

// isUsage reports whether err is a bad command line: ours (cli.UsageError) or cobra's and pflag's, which
// have no type of their own.
func isUsage(err error) bool {
	var u *cli.UsageError
	if errors.As(err, &u) {
		return true
	}
	var fe flagError
	return errors.As(err, &fe)
}

// flagError marks the errors cobra returns for bad flags and arguments (see newRoot's SetFlagErrorFunc
// and Args validators).
type flagError struct{ err error }

func (e flagError) Error() string { return e.err.Error() }
func (e flagError) Unwrap() error { return e.err }

// interruptedError is a command stopped by a signal (exit 130); msg says what it was doing, with the
// FunctionCallIdentifier of the callback it waited for.
type interruptedError struct {
	msg string
	err error
}

func (e *interruptedError) Error() string { return e.msg }
func (e *interruptedError) Unwrap() error { return e.err }

// waitInterrupted is the error of a wait for fn's callback that a signal ended.
func waitInterrupted(what string, err error) error {
	return &interruptedError{msg: "interrupted while waiting for the callback of " + what + "; it may still arrive at the replyTo address", err: err}
}

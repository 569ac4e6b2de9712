// Command mockgateway runs the esimgw mock SGP.02 gateway (package gatewaytest) as a process: an SM-SR
// (ES4) and SM-DP (ES2) over mutual TLS on loopback, for use from other languages or by hand. It prints its
// endpoints, writes the CA and the operator's certificates to a directory and runs until SIGINT/SIGTERM.
// Started again with the same -certs directory, it reuses what is there (the CA with its key ca.key, and
// the client and callback-server files), so peers holding those files keep working across restarts.
//
//	go run ./examples/mockgateway -certs /tmp/mock -profile kpn
//	curl --cacert /tmp/mock/ca.pem --cert /tmp/mock/client.crt --key /tmp/mock/client.key ...
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/internal/version"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "mockgateway:", err)
		os.Exit(1)
	}
}

// run starts the mock with the given arguments, prints where it is and blocks until ctx is done.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("mockgateway", flag.ContinueOnError)
	fs.SetOutput(stdout)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	certs := fs.String("certs", "", "directory for ca.pem/ca.key, client.crt/key and callback-server.crt/key: reused when present, written when not (default: a new temporary directory)")
	profile := fs.String("profile", "gsma", "behaviour profile: gsma or kpn")
	seed := fs.String("seed", "", "JSON seed file replacing the default eUICCs and catalogue")
	notifyES2 := fs.String("notify-es2", "", "URL to post ES2 notifications to")
	notifyES4 := fs.String("notify-es4", "", "URL to post ES4 notifications to")
	verbose := fs.Bool("v", false, "log to stderr")
	printVersion := version.Flag(fs, "mockgateway")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: mockgateway [flags]\n\nRuns the esimgw mock SGP.02 gateway (ES2 SM-DP, ES4 SM-SR) over mTLS until interrupted.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if printVersion(stdout) {
		return flag.ErrHelp
	}
	b, err := gatewaytest.ParseBehavior(*profile)
	if err != nil {
		return err
	}
	opts := []gatewaytest.Option{gatewaytest.WithAddr(*addr), gatewaytest.WithProfile(b)}
	if *seed != "" {
		opts = append(opts, gatewaytest.WithSeedFile(*seed))
	}
	if *notifyES2 != "" {
		opts = append(opts, gatewaytest.WithNotificationURL(gatewaytest.ES2, *notifyES2))
	}
	if *notifyES4 != "" {
		opts = append(opts, gatewaytest.WithNotificationURL(gatewaytest.ES4, *notifyES4))
	}
	if *verbose {
		opts = append(opts, gatewaytest.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, nil))))
	}
	g, files, err := gatewaytest.NewInDir(*certs, opts...)
	if err != nil {
		return err
	}
	defer g.Close()
	fmt.Fprintf(stdout, "profile     %s\n", b)
	fmt.Fprintf(stdout, "ES2         %s\n", g.ES2URL)
	fmt.Fprintf(stdout, "ES4         %s\n", g.ES4URL)
	fmt.Fprintf(stdout, "SM-SR id    %s\nSM-DP id    %s\noperator id %s\n", g.SMSRID, g.SMDPID, g.OperatorID)
	fmt.Fprintf(stdout, "CA          %s\nclient      %s %s\ncallback    %s %s\n",
		files.CA, files.ClientCert, files.ClientKey, files.CallbackServerCert, files.CallbackServerKey)
	for _, e := range g.EUICCs() {
		fmt.Fprintf(stdout, "eUICC       %s", e.EID)
		for _, p := range e.Profiles {
			fmt.Fprintf(stdout, " %s(%s)", p.ICCID, p.State)
		}
		fmt.Fprintln(stdout)
	}
	fmt.Fprintln(stdout, "ready")
	<-ctx.Done()
	return nil
}

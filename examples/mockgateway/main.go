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
	"path/filepath"
	"syscall"

	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/internal/version"
	"github.com/esimgw/esimgw/mtls/mtlstest"
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
	dir := *certs
	if dir == "" {
		if dir, err = os.MkdirTemp("", "mockgateway-"); err != nil {
			return err
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	ca, err := loadOrMakeCA(dir)
	if err != nil {
		return err
	}
	g, err := gatewaytest.New(append(opts, gatewaytest.WithCA(ca))...)
	if err != nil {
		return err
	}
	defer g.Close()
	files, err := writeMissing(g, dir)
	if err != nil {
		return err
	}
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

// loadOrMakeCA reuses dir/ca.pem and dir/ca.key when both are there, and otherwise makes a CA and writes
// both: a mock restarted on the same folder must not invalidate the files its peers hold (issue 17).
func loadOrMakeCA(dir string) (*mtlstest.CA, error) {
	certFile, keyFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca.key")
	_, certErr := os.Stat(certFile)
	_, keyErr := os.Stat(keyFile)
	if certErr == nil && keyErr == nil {
		ca, err := mtlstest.LoadCA(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("reusing the CA in %s: %w (remove ca.pem and ca.key for a new one)", dir, err)
		}
		return ca, nil
	}
	if certErr == nil {
		return nil, fmt.Errorf("%s has ca.pem but no ca.key: the CA cannot be reused (remove ca.pem for a new one)", dir)
	}
	ca, err := mtlstest.NewCA(mtlstest.WithCommonName("esimgw mock gateway CA"))
	if err != nil {
		return nil, err
	}
	if _, err := ca.WriteFile(dir, "ca"); err != nil {
		return nil, err
	}
	if _, err := ca.WriteKeyFile(dir, "ca"); err != nil {
		return nil, err
	}
	return ca, nil
}

// writeMissing writes the operator's files into dir, keeping those already there (issued by the same CA,
// so still valid).
func writeMissing(g *gatewaytest.Gateway, dir string) (gatewaytest.Files, error) {
	tmp, err := os.MkdirTemp("", "mockgateway-pki-")
	if err != nil {
		return gatewaytest.Files{}, err
	}
	defer os.RemoveAll(tmp)
	fresh, err := g.WriteFiles(tmp)
	if err != nil {
		return gatewaytest.Files{}, err
	}
	out := gatewaytest.Files{CA: filepath.Join(dir, "ca.pem")}
	for _, f := range []struct {
		src string
		dst *string
	}{{fresh.ClientCert, &out.ClientCert}, {fresh.ClientKey, &out.ClientKey},
		{fresh.CallbackServerCert, &out.CallbackServerCert}, {fresh.CallbackServerKey, &out.CallbackServerKey}} {
		*f.dst = filepath.Join(dir, filepath.Base(f.src))
		if _, err := os.Stat(*f.dst); err == nil {
			continue
		}
		b, err := os.ReadFile(f.src)
		if err != nil {
			return gatewaytest.Files{}, err
		}
		if err := os.WriteFile(*f.dst, b, 0o600); err != nil {
			return gatewaytest.Files{}, err
		}
	}
	return out, nil
}

package campaign_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/callback"
	"github.com/esimgw/esimgw/campaign"
	"github.com/esimgw/esimgw/es4"
)

// The environment of a worker process: the test binary re-executed by TestKillWorker.
const (
	envWorker   = "ESIMGW_CAMPAIGN_TEST_WORKER" // the worker's ID
	envDB       = "ESIMGW_CAMPAIGN_TEST_DB"
	envES4      = "ESIMGW_CAMPAIGN_TEST_ES4"
	envCerts    = "ESIMGW_CAMPAIGN_TEST_CERTS"
	envReplyTo  = "ESIMGW_CAMPAIGN_TEST_REPLY_TO"
	envOperator = "ESIMGW_CAMPAIGN_TEST_OPERATOR"
)

func TestMain(m *testing.M) {
	if id := os.Getenv(envWorker); id != "" {
		if err := workerMain(id); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// workerMain is a campaign worker process as an operator would run it behind a load balancer: a plain
// HTTP callback server (the balancer terminates mutual TLS) with the Recorder in front of the Dispatcher,
// an es4 client whose replyTo is the balancer, and a Worker. It prints "CALLBACK <url>" once it serves,
// and stops when its standard input closes (the test ended) or on SIGTERM.
func workerMain(id string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg, err := pgxpool.ParseConfig(os.Getenv(envDB))
	if err != nil {
		return err
	}
	cfg.MaxConns = 40
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	dir := os.Getenv(envCerts)
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.key"))
	if err != nil {
		return err
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)

	rec := campaign.NewRecorder(pool, logger)
	d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(logger), esimgw.WithUnmatchedHandler(rec.CallbackHandler(nil)))
	srv, err := callback.NewServer(rec.Intercept(d), callback.WithPlainHTTP(), callback.WithLogger(logger))
	if err != nil {
		return err
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		return err
	}
	defer srv.Close()
	client, err := es4.NewClient(os.Getenv(envES4), esimgw.WithEntity(os.Getenv(envOperator), "campaign-worker-"+id),
		esimgw.WithTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}, RootCAs: roots}),
		esimgw.WithReplyTo(os.Getenv(envReplyTo)), esimgw.WithDispatcher(d), esimgw.WithLogger(logger))
	if err != nil {
		return err
	}
	w, err := campaign.NewWorker(pool, campaign.Clients{ES4: client}, campaign.WithWorkerID(id), campaign.WithWorkerLogger(logger),
		campaign.WithFetchPollInterval(200*time.Millisecond), campaign.WithInlineWait(2*time.Second), campaign.WithSnooze(2*time.Second),
		campaign.WithRiverConfig(func(c *river.Config) {
			// A dead worker's jobs are taken back by its restart (WithWorkerID); should it not come back,
			// River's rescuer takes them after this.
			c.JobTimeout, c.RescueStuckJobsAfter = 10*time.Second, 15*time.Second
		}))
	if err != nil {
		return err
	}
	if err := w.Start(ctx); err != nil {
		return err
	}
	fmt.Println("CALLBACK " + srv.URL())
	stdinClosed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, bufio.NewReader(os.Stdin))
		close(stdinClosed)
	}()
	select {
	case <-ctx.Done():
	case <-stdinClosed:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return w.Stop(sctx)
}

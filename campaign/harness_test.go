package campaign_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/callback"
	"github.com/esimgw/esimgw/campaign"
	"github.com/esimgw/esimgw/es2"
	"github.com/esimgw/esimgw/es4"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/soap"
)

// startWorker runs a campaign Worker in this process against gw: its own callback server (the Recorder
// in front of a Dispatcher, mutual TLS as the mock wants) and es4 and es2 clients.
func startWorker(t testing.TB, gw *gatewaytest.Gateway, pool *pgxpool.Pool, opts ...campaign.WorkerOption) *campaign.Worker {
	t.Helper()
	return startWorkerWith(t, gw, pool, true, opts...)
}

// startWorkerWith is startWorker with the Recorder in front of the Dispatcher (intercept) or only as its
// unmatched handler.
func startWorkerWith(t testing.TB, gw *gatewaytest.Gateway, pool *pgxpool.Pool, intercept bool, opts ...campaign.WorkerOption) *campaign.Worker {
	t.Helper()
	rec := campaign.NewRecorder(pool, quiet())
	d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(quiet()), esimgw.WithUnmatchedHandler(rec.CallbackHandler(nil)))
	var h soap.MessageHandler = d
	if intercept {
		h = rec.Intercept(d)
	}
	srv, err := callback.NewServer(h, callback.WithTLS(gw.CallbackServerTLSConfig()), callback.WithLogger(quiet()))
	require.NoError(t, err)
	require.NoError(t, srv.Listen("127.0.0.1:0"))
	t.Cleanup(func() { _ = srv.Close() })
	c, err := es4.NewClient(gw.ES4URL, esimgw.WithEntity(gw.OperatorID, "campaign-test"), esimgw.WithTLSConfig(gw.ClientTLSConfig()),
		esimgw.WithReplyTo(srv.URL()+"/"), esimgw.WithDispatcher(d), esimgw.WithLogger(quiet()))
	require.NoError(t, err)
	c2, err := es2.NewClient(gw.ES2URL, gw.SMSRID, esimgw.WithEntity(gw.OperatorID, "campaign-test"), esimgw.WithTLSConfig(gw.ClientTLSConfig()),
		esimgw.WithReplyTo(srv.URL()+"/"), esimgw.WithDispatcher(d), esimgw.WithLogger(quiet()))
	require.NoError(t, err)
	w, err := campaign.NewWorker(pool, campaign.Clients{ES4: c, ES2: c2}, append([]campaign.WorkerOption{
		campaign.WithWorkerLogger(quiet()), campaign.WithFetchPollInterval(200 * time.Millisecond)}, opts...)...)
	require.NoError(t, err)
	require.NoError(t, w.Start(t.Context()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = w.Stop(ctx)
	})
	return w
}

// waitFinished polls the campaign's progress until nothing is pending or in flight.
func waitFinished(t testing.TB, m *campaign.Manager, key string, timeout time.Duration) campaign.Progress {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		p, err := m.Progress(t.Context(), key)
		require.NoError(t, err)
		if p.Finished() {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("campaign %s not finished after %s: %+v", key, timeout, p)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitDone polls until at least n EIDs of the campaign have an outcome.
func waitDone(t testing.TB, m *campaign.Manager, key string, n int64, timeout time.Duration) campaign.Progress {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		p, err := m.Progress(t.Context(), key)
		require.NoError(t, err)
		if p.Done() >= n {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("campaign %s: fewer than %d done after %s: %+v", key, n, timeout, p)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

package callback_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/callback"
	"github.com/esimgw/esimgw/mtls/mtlstest"
)

func probe(t *testing.T, h http.Handler, path string) (int, callback.HealthStatus) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	var st callback.HealthStatus
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &st), rec.Body.String())
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	return rec.Code, st
}

type pingFunc func(ctx context.Context) error

func (f pingFunc) Ping(ctx context.Context) error { return f(ctx) }

func TestHealthAndReadiness(t *testing.T) {
	pki := newServerPKI(t)
	srv, err := callback.NewServer(esimgw.NewDispatcher(esimgw.WithDispatcherLogger(quietLogger())),
		callback.WithCertificate(pki.src, pki.CA.Pool()), callback.WithLogger(quietLogger()))
	require.NoError(t, err)
	var storeErr error
	store := pingFunc(func(context.Context) error { return storeErr })
	h := callback.NewHealthHandler(callback.WithReadinessCheck(srv.ReadinessCheck()), callback.WithReadinessCheck(callback.PingCheck("store", store)))

	code, st := probe(t, h, "/healthz")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ok", st.Status)

	code, st = probe(t, h, "/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code, "not listening yet")
	assert.Equal(t, "esimgw: callback server not listening", st.Checks["callback-server"])
	assert.Equal(t, "ok", st.Checks["store"])

	require.NoError(t, srv.Listen("127.0.0.1:0"))
	code, st = probe(t, h, "/readyz")
	assert.Equal(t, http.StatusOK, code, "%+v", st)
	assert.Equal(t, callback.HealthStatus{Status: "ok", Checks: map[string]string{"callback-server": "ok", "store": "ok"}}, st)

	storeErr = errors.New("dial tcp 127.0.0.1:5432: connection refused")
	code, st = probe(t, h, "/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "unavailable", st.Status)
	assert.Equal(t, storeErr.Error(), st.Checks["store"])
	storeErr = nil

	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.NoError(t, srv.Shutdown(ctx))
	code, st = probe(t, h, "/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code, "a server shutting down leaves the load balancer")
	assert.Contains(t, st.Checks["callback-server"], "shut down")

	code, _ = probe(t, h, "/healthz")
	assert.Equal(t, http.StatusOK, code, "liveness does not depend on readiness")
}

func TestReadinessExpiredCertificate(t *testing.T) {
	ca, err := mtlstest.NewCA()
	require.NoError(t, err)
	for _, tt := range []struct {
		name string
		opt  mtlstest.Option
		want string
	}{
		{"expired", mtlstest.WithExpired(), "expired at"},
		{"not yet valid", mtlstest.WithNotYetValid(), "not valid before"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pair, err := ca.Server(tt.opt)
			require.NoError(t, err)
			cfg := &tls.Config{Certificates: []tls.Certificate{pair.TLSCertificate()}, ClientAuth: tls.RequireAndVerifyClientCert,
				ClientCAs: ca.Pool(), MinVersion: tls.VersionTLS12}
			srv, base := startServer(t, esimgw.NewDispatcher(), callback.WithTLS(cfg), callback.WithLogger(quietLogger()))
			require.NotEmpty(t, base)
			code, st := probe(t, callback.NewHealthHandler(callback.WithReadinessCheck(srv.ReadinessCheck())), "/readyz")
			assert.Equal(t, http.StatusServiceUnavailable, code)
			assert.Contains(t, st.Checks["callback-server"], tt.want)
		})
	}
}

func TestReadinessCheckTimeoutAndPanic(t *testing.T) {
	hang := callback.ReadinessCheck{Name: "hang", Check: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }}
	boom := callback.ReadinessCheck{Name: "boom", Check: func(context.Context) error { panic("boom") }}
	h := callback.NewHealthHandler(callback.WithReadinessCheck(hang), callback.WithReadinessCheck(boom), callback.WithHealthTimeout(20*time.Millisecond))
	code, st := probe(t, h, "/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, st.Checks["hang"], "context deadline exceeded")
	assert.Equal(t, "check panicked: boom", st.Checks["boom"])
}

func ExampleNewHealthHandler() {
	d := esimgw.NewDispatcher()
	srv, err := callback.NewServer(d, callback.WithPlainHTTP()) // production: WithServerCertificate
	if err != nil {
		panic(err)
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		panic(err)
	}
	defer srv.Close()
	// Probes get a listener of their own, without client certificates.
	health := httptest.NewServer(callback.NewHealthHandler(callback.WithReadinessCheck(srv.ReadinessCheck())))
	defer health.Close()
	res, err := http.Get(health.URL + "/readyz")
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	var st callback.HealthStatus
	_ = json.NewDecoder(res.Body).Decode(&st)
	fmt.Println(res.StatusCode, st.Status, st.Checks["callback-server"])
	// Output: 200 ok ok
}

package callback

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// ReadinessCheck is one condition /readyz requires: Check returns nil when it holds. Checks run
// concurrently on every request, each bounded by the handler's timeout.
type ReadinessCheck struct {
	Name  string
	Check func(ctx context.Context) error
}

// Pinger is anything that can say whether it is reachable: an esimgw store, a *pgxpool.Pool, a *sql.DB.
type Pinger interface {
	Ping(ctx context.Context) error
}

// PingCheck is ready while p answers Ping: for a store, its database reachable.
func PingCheck(name string, p Pinger) ReadinessCheck {
	return ReadinessCheck{Name: name, Check: p.Ping}
}

// ErrNotListening is the readiness failure of a callback server that is not serving: never started,
// shut down, or its serving loop ended.
var ErrNotListening = errors.New("esimgw: callback server not listening")

// ReadinessCheck is ready while the server is listening and, with TLS, its certificate is loaded and
// within its validity period (a rotated certificate is checked as it is now, see mtls.Source).
func (s *Server) ReadinessCheck() ReadinessCheck {
	return ReadinessCheck{Name: "callback-server", Check: s.ready}
}

func (s *Server) ready(context.Context) error {
	s.mu.Lock()
	ln, done, err := s.ln, s.done, s.serveErr
	s.mu.Unlock()
	if ln == nil || done == nil {
		return ErrNotListening
	}
	select {
	case <-done:
		if err != nil {
			return fmt.Errorf("%w: %w", ErrNotListening, err)
		}
		return fmt.Errorf("%w: shut down", ErrNotListening)
	default:
	}
	if cfg := s.tlsConfig; cfg != nil {
		return certificateReady(cfg, time.Now())
	}
	return nil
}

// certificateReady checks the certificate cfg would present now.
func certificateReady(cfg *tls.Config, now time.Time) error {
	var cert *tls.Certificate
	switch {
	case cfg.GetCertificate != nil:
		c, err := cfg.GetCertificate(&tls.ClientHelloInfo{})
		if err != nil {
			return fmt.Errorf("esimgw: server certificate: %w", err)
		}
		cert = c
	case len(cfg.Certificates) > 0:
		cert = &cfg.Certificates[0]
	}
	if cert == nil || len(cert.Certificate) == 0 {
		return errors.New("esimgw: no server certificate loaded")
	}
	leaf := cert.Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return fmt.Errorf("esimgw: server certificate: %w", err)
		}
	}
	switch {
	case now.After(leaf.NotAfter):
		return fmt.Errorf("esimgw: server certificate %q expired at %s", leaf.Subject.CommonName, leaf.NotAfter.UTC().Format(time.RFC3339))
	case now.Before(leaf.NotBefore):
		return fmt.Errorf("esimgw: server certificate %q not valid before %s", leaf.Subject.CommonName, leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	return nil
}

// HealthOption configures a health handler.
type HealthOption func(*health)

// WithReadinessCheck adds a check to /readyz.
func WithReadinessCheck(c ReadinessCheck) HealthOption {
	return func(h *health) { h.checks = append(h.checks, c) }
}

// WithHealthTimeout bounds each check (default 2 s): a probe must answer before the orchestrator's own
// timeout, and a database that hangs is not ready.
func WithHealthTimeout(d time.Duration) HealthOption {
	return func(h *health) { h.timeout = d }
}

type health struct {
	checks  []ReadinessCheck
	timeout time.Duration
}

// HealthStatus is the JSON body of /healthz and /readyz: "ok" or "unavailable", and the result of each
// readiness check by name ("ok" or its error).
type HealthStatus struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks,omitempty"`
}

// NewHealthHandler serves GET /healthz (200 while the process serves HTTP at all: liveness) and GET
// /readyz (200 when every check passes, else 503: take this replica out of the load balancer). Mount it on
// a listener of its own without client certificates, so that probes need none: the callback server's
// mutual TLS would refuse them.
//
//	h := callback.NewHealthHandler(callback.WithReadinessCheck(srv.ReadinessCheck()),
//		callback.WithReadinessCheck(callback.PingCheck("store", store)))
//	go http.ListenAndServe(":8081", h)
func NewHealthHandler(opts ...HealthOption) http.Handler {
	h := &health{timeout: 2 * time.Second}
	for _, o := range opts {
		o(h)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeHealth(w, http.StatusOK, HealthStatus{Status: "ok"})
	})
	mux.HandleFunc("GET /readyz", h.readyz)
	return mux
}

func (h *health) readyz(w http.ResponseWriter, r *http.Request) {
	results := make([]error, len(h.checks))
	var wg sync.WaitGroup
	for i, c := range h.checks {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
			defer cancel()
			results[i] = runCheck(ctx, c)
		})
	}
	wg.Wait()
	st := HealthStatus{Status: "ok", Checks: make(map[string]string, len(h.checks))}
	code := http.StatusOK
	for i, c := range h.checks {
		if err := results[i]; err != nil {
			st.Status, code = "unavailable", http.StatusServiceUnavailable
			st.Checks[c.Name] = err.Error()
			continue
		}
		st.Checks[c.Name] = "ok"
	}
	writeHealth(w, code, st)
}

// runCheck runs c, turning a panic into a failure (a probe must not take the process down) and a check
// that outlives its timeout into the timeout.
func runCheck(ctx context.Context, c ReadinessCheck) (err error) {
	if c.Check == nil {
		return errors.New("no check function")
	}
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("check panicked: %v", r)
			}
		}()
		done <- c.Check(ctx)
	}()
	select {
	case err = <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("no answer in time: %w", ctx.Err())
	}
}

func writeHealth(w http.ResponseWriter, code int, st HealthStatus) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(st)
}

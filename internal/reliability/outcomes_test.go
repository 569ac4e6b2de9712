package reliability_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/mtls/mtlstest"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// deliveryRow is one failure kind: a loopback gateway misbehaving in one way, and what the caller must
// be told about it.
type deliveryRow struct {
	name    string
	timeout time.Duration // the caller's deadline; 0: none
	// ok: the call succeeds (after retries that prove the request was not executed); otherwise outcome
	// is the CallError's.
	ok       bool
	outcome  soap.Outcome
	arrivals int      // requests the gateway read completely
	attempts int      // HTTP attempts the CallError reports (or, for ok, the 503s plus one)
	says     []string // in the message
	minTime  time.Duration
	// setup starts the gateway and returns it with the client's TLS configuration.
	setup func(t *testing.T, p *loopbackPKI) (*loopbackGateway, *tls.Config)
}

func deliveryRows() []deliveryRow {
	accepted := func(t *testing.T, p *loopbackPKI, do exchange) (*loopbackGateway, *tls.Config) {
		return startLoopback(t, serverTLS(p, p.server), do), p.clientTLS(p.ca.Pool())
	}
	otherCA := func(t *testing.T) *mtlstest.CA {
		ca, err := mtlstest.NewCA()
		require.NoError(t, err)
		return ca
	}
	return []deliveryRow{
		{name: "connection refused", outcome: soap.NotSent, arrivals: 0, attempts: 4, says: []string{"not sent after 4 attempts", "connection reset by peer"}, setup: func(t *testing.T, p *loopbackPKI) (*loopbackGateway, *tls.Config) {
			return startRawLoopback(t, nil, nil, func(_ *loopbackGateway, c net.Conn) { reset(c) }), p.clientTLS(p.ca.Pool())
		}},
		{name: "TLS: unknown server CA", outcome: soap.NotSent, attempts: 1, says: []string{"not sent after 1 attempt", "mtls.WithRootCAs", "-ca flag"}, setup: func(t *testing.T, p *loopbackPKI) (*loopbackGateway, *tls.Config) {
			srv, err := otherCA(t).Server()
			require.NoError(t, err)
			return startLoopback(t, serverTLS(p, srv.TLSCertificate()), nil), p.clientTLS(p.ca.Pool())
		}},
		{name: "TLS: expired server certificate", outcome: soap.NotSent, attempts: 1, says: []string{"not sent after 1 attempt", "expired", "no retry can succeed"}, setup: func(t *testing.T, p *loopbackPKI) (*loopbackGateway, *tls.Config) {
			srv, err := p.ca.Server(mtlstest.WithExpired())
			require.NoError(t, err)
			return startLoopback(t, serverTLS(p, srv.TLSCertificate()), nil), p.clientTLS(p.ca.Pool())
		}},
		{name: "TLS: client certificate refused", outcome: soap.NotSent, attempts: 1, says: []string{"not sent after 1 attempt", "refused this client's certificate", "-cert and -key"}, setup: func(t *testing.T, p *loopbackPKI) (*loopbackGateway, *tls.Config) {
			cfg := serverTLS(p, p.server)
			cfg.ClientCAs = otherCA(t).Pool()
			return startLoopback(t, cfg, nil), p.clientTLS(p.ca.Pool())
		}},
		{name: "TLS handshake hangs past the deadline", outcome: soap.NotSent, attempts: 1, says: []string{"not sent", "context deadline exceeded"}, timeout: 500 * time.Millisecond, setup: func(t *testing.T, p *loopbackPKI) (*loopbackGateway, *tls.Config) {
			return startRawLoopback(t, nil, nil, func(g *loopbackGateway, _ net.Conn) { g.hang() }), p.clientTLS(p.ca.Pool())
		}},
		{name: "reset after the request was read", outcome: soap.OutcomeUnknown, arrivals: 1, attempts: 1, says: []string{"outcome unknown", "only with the same FunctionCallIdentifier"}, setup: func(t *testing.T, p *loopbackPKI) (*loopbackGateway, *tls.Config) {
			return accepted(t, p, func(_ *loopbackGateway, _ int, c net.Conn, _ *bufio.Writer, _ *http.Request) bool {
				reset(c)
				return false
			})
		}},
		{name: "reset mid-response", outcome: soap.OutcomeUnknown, arrivals: 1, attempts: 1, says: []string{"outcome unknown"}, setup: func(t *testing.T, p *loopbackPKI) (*loopbackGateway, *tls.Config) {
			return accepted(t, p, func(_ *loopbackGateway, _ int, c net.Conn, w *bufio.Writer, _ *http.Request) bool {
				w.WriteString("HTTP/1.1 202 Accepted\r\nContent-Type: application/soap+xml\r\nContent-Le")
				_ = w.Flush()
				reset(c)
				return false
			})
		}},
		{name: "truncated 202 body", outcome: soap.OutcomeUnknown, arrivals: 1, attempts: 1, says: []string{"outcome unknown", "unexpected EOF"}, setup: func(t *testing.T, p *loopbackPKI) (*loopbackGateway, *tls.Config) {
			return accepted(t, p, func(_ *loopbackGateway, _ int, c net.Conn, w *bufio.Writer, _ *http.Request) bool {
				w.WriteString("HTTP/1.1 202 Accepted\r\nContent-Type: " + soapXML + "\r\nContent-Length: 400\r\n\r\n<env:Envelope xmlns:env=")
				_ = w.Flush()
				_ = c.Close()
				return false
			})
		}},
		{name: "502 Bad Gateway", outcome: soap.OutcomeUnknown, arrivals: 1, attempts: 1, says: []string{"outcome unknown", "502"}, setup: func(t *testing.T, p *loopbackPKI) (*loopbackGateway, *tls.Config) {
			return accepted(t, p, func(_ *loopbackGateway, _ int, _ net.Conn, w *bufio.Writer, _ *http.Request) bool {
				return answer(w, http.StatusBadGateway, map[string]string{"Content-Type": "text/plain"}, "upstream failed")
			})
		}},
		{name: "504 Gateway Timeout", outcome: soap.OutcomeUnknown, arrivals: 1, attempts: 1, says: []string{"outcome unknown", "504"}, setup: func(t *testing.T, p *loopbackPKI) (*loopbackGateway, *tls.Config) {
			return accepted(t, p, func(_ *loopbackGateway, _ int, _ net.Conn, w *bufio.Writer, _ *http.Request) bool {
				return answer(w, http.StatusGatewayTimeout, nil, "")
			})
		}},
		{name: "503 twice, then 202", ok: true, arrivals: 3, attempts: 3, setup: func(t *testing.T, p *loopbackPKI) (*loopbackGateway, *tls.Config) {
			return accepted(t, p, func(_ *loopbackGateway, n int, _ net.Conn, w *bufio.Writer, _ *http.Request) bool {
				if n <= 2 {
					return answer(w, http.StatusServiceUnavailable, nil, "")
				}
				return answer(w, http.StatusAccepted, nil, "")
			})
		}},
		{name: "503 with a SOAP fault and Retry-After: 1, then 202", ok: true, arrivals: 2, attempts: 2, minTime: time.Second, setup: func(t *testing.T, p *loopbackPKI) (*loopbackGateway, *tls.Config) {
			return accepted(t, p, func(_ *loopbackGateway, n int, _ net.Conn, w *bufio.Writer, _ *http.Request) bool {
				if n == 1 {
					return answer(w, http.StatusServiceUnavailable, map[string]string{"Content-Type": soapXML, "Retry-After": "1"}, soapFault("overloaded"))
				}
				return answer(w, http.StatusAccepted, nil, "")
			})
		}},
		{name: "503 every time", outcome: soap.Refused, arrivals: 4, attempts: 4, says: []string{"refused by the peer (HTTP 503)", "not executed", "after 4 attempts"}, setup: func(t *testing.T, p *loopbackPKI) (*loopbackGateway, *tls.Config) {
			return accepted(t, p, func(_ *loopbackGateway, _ int, _ net.Conn, w *bufio.Writer, _ *http.Request) bool {
				return answer(w, http.StatusServiceUnavailable, nil, "")
			})
		}},
		{name: "500 SOAP fault", outcome: soap.Refused, arrivals: 1, attempts: 1, says: []string{"refused by the peer (HTTP 500, Subject 1.1 Reason 5.1)", "cannot process"}, setup: func(t *testing.T, p *loopbackPKI) (*loopbackGateway, *tls.Config) {
			return accepted(t, p, func(_ *loopbackGateway, _ int, _ net.Conn, w *bufio.Writer, _ *http.Request) bool {
				return answer(w, http.StatusInternalServerError, map[string]string{"Content-Type": soapXML}, soapFault("cannot process"))
			})
		}},
		{name: "400 Bad Request", outcome: soap.Refused, arrivals: 1, attempts: 1, says: []string{"refused by the peer (HTTP 400)"}, setup: func(t *testing.T, p *loopbackPKI) (*loopbackGateway, *tls.Config) {
			return accepted(t, p, func(_ *loopbackGateway, _ int, _ net.Conn, w *bufio.Writer, _ *http.Request) bool {
				return answer(w, http.StatusBadRequest, map[string]string{"Content-Type": "text/plain"}, "bad request")
			})
		}},
		{name: "no answer (ResponseHeaderTimeout 1s)", outcome: soap.OutcomeUnknown, arrivals: 1, attempts: 1, says: []string{"outcome unknown", "timeout awaiting response headers"}, setup: func(t *testing.T, p *loopbackPKI) (*loopbackGateway, *tls.Config) {
			return accepted(t, p, func(g *loopbackGateway, _ int, _ net.Conn, _ *bufio.Writer, _ *http.Request) bool {
				g.hang()
				return false
			})
		}},
		{name: "202 held past the caller's deadline", outcome: soap.OutcomeUnknown, arrivals: 1, attempts: 1, says: []string{"outcome unknown", "context deadline exceeded"}, timeout: 500 * time.Millisecond, setup: func(t *testing.T, p *loopbackPKI) (*loopbackGateway, *tls.Config) {
			return accepted(t, p, func(g *loopbackGateway, _ int, _ net.Conn, _ *bufio.Writer, _ *http.Request) bool {
				g.hang()
				return false
			})
		}},
	}
}

func serverTLS(p *loopbackPKI, cert tls.Certificate) *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: p.ca.Pool()}
}

// TestDeliveryOutcomes is the fault matrix of docs/delivery.md: for each failure kind, a loopback gateway
// that counts the requests it read, an asynchronous call through the engine with the default retry
// policy, and what the caller is told: the outcome, how often the request arrived (never more than once
// where it could have been executed), the message, and whether the operation stays pending for its
// callback (only when the outcome is unknown). The table is logged with the time each row took to fail.
func TestDeliveryOutcomes(t *testing.T) {
	p := newLoopbackPKI(t)
	rows := deliveryRows()
	lines := make([]string, len(rows))
	for i, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			t.Parallel()
			g, cfg := row.setup(t, p)
			// ResponseHeaderTimeout shortened from its 60 s default for the "no answer" row.
			tr := soap.NewTransportWith(cfg, soap.TransportSettings{ResponseHeaderTimeout: time.Second})
			t.Cleanup(tr.CloseIdleConnections)
			d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(quiet()))
			c, err := esimgw.NewClient("ES4", g.URL(), esimgw.WithEntity("1.3.6.1.4.1.99999.1", ""), esimgw.WithReplyTo("https://mno.example/cb"),
				esimgw.WithDispatcher(d), esimgw.WithLogger(quiet()), esimgw.WithHTTPClient(&http.Client{Transport: tr}),
				esimgw.WithSOAPOptions(soap.WithLogger(quiet())))
			require.NoError(t, err)
			fn, _ := rps.FunctionByName(rps.ES4, "EnableProfile")
			ctx := context.Background()
			if row.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, row.timeout)
				defer cancel()
			}
			fc := fmt.Sprintf("urn:uuid:0b6f1e9c-6a51-4c55-9d5e-%012d", i)
			start := time.Now()
			pend, x, err := c.Start(ctx, fn, &rps.ES4EnableProfileRequest{Eid: rps.HexBinary{0x89, 1, 2}, Iccid: "8931"}, &rps.ES4EnableProfileResponse{},
				esimgw.WithFunctionCallIdentifier(fc))
			elapsed := time.Since(start)
			assert.Equal(t, row.arrivals, int(g.arrivals.Load()), "requests the gateway read")
			assert.GreaterOrEqual(t, elapsed, row.minTime)
			outcome, msg := "ok", ""
			switch {
			case row.ok:
				require.NoError(t, err)
				require.NotNil(t, pend)
				assert.Nil(t, x.Unconfirmed)
				assert.Equal(t, row.attempts, x.Attempts)
				assert.Equal(t, 1, d.Tracker().Pending(), "accepted: pending for its callback")
			case row.outcome == soap.OutcomeUnknown:
				// Not a failure of Start: the operation stays pending for the callback that may come.
				require.NoError(t, err)
				require.NotNil(t, pend)
				require.NotNil(t, x.Unconfirmed)
				ce := x.Unconfirmed
				assert.Equal(t, soap.OutcomeUnknown, ce.Outcome)
				assert.Equal(t, row.attempts, ce.Attempts)
				assert.Equal(t, fc, ce.FunctionCallIdentifier)
				assert.Equal(t, 1, d.Tracker().Pending(), "kept for its callback")
				// Wait with nothing arriving: the error says the outcome is unknown.
				op := esimgw.NewOperation[any](d.Tracker(), pend, nil)
				wctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
				defer cancel()
				_, err = op.Wait(wctx)
				require.ErrorIs(t, err, esimgw.ErrOutcomeUnknown)
				outcome, msg = ce.Outcome.String(), err.Error()
			default:
				require.Error(t, err)
				assert.Nil(t, pend)
				var ce *esimgw.CallError
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, row.outcome, ce.Outcome)
				assert.ErrorIs(t, err, row.outcome.Sentinel())
				assert.Equal(t, row.attempts, ce.Attempts)
				assert.Equal(t, fc, ce.FunctionCallIdentifier)
				assert.Zero(t, d.Tracker().Pending(), "withdrawn: no callback can come")
				outcome, msg = ce.Outcome.String(), err.Error()
			}
			for _, want := range row.says {
				assert.Contains(t, msg, want)
			}
			if len(msg) > 140 {
				msg = msg[:140] + "..."
			}
			lines[i] = fmt.Sprintf("| %s | %s | %d | %d | %s | %s |", row.name, outcome, g.arrivals.Load(), row.attempts,
				elapsed.Round(10*time.Millisecond), strings.ReplaceAll(msg, "|", "/"))
		})
	}
	t.Cleanup(func() {
		t.Log("| failure kind | outcome | arrivals | attempts | time to fail | message |")
		for _, l := range lines {
			t.Log(l)
		}
	})
}

package reliability_test

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/mtls/mtlstest"
)

// loopbackPKI is the CA both sides of a loopback gateway trust, a server certificate for "localhost" and
// the client certificate the gateway requires.
type loopbackPKI struct {
	ca     *mtlstest.CA
	server tls.Certificate
	client tls.Certificate
}

func newLoopbackPKI(t *testing.T) *loopbackPKI {
	t.Helper()
	ca, err := mtlstest.NewCA()
	require.NoError(t, err)
	srv, err := ca.Server()
	require.NoError(t, err)
	cli, err := ca.Client("operator")
	require.NoError(t, err)
	return &loopbackPKI{ca: ca, server: srv.TLSCertificate(), client: cli.TLSCertificate()}
}

// clientTLS is the operator's configuration: the client certificate, and roots as given (the CA's pool
// unless a test wants another).
func (p *loopbackPKI) clientTLS(roots *x509.CertPool) *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots, Certificates: []tls.Certificate{p.client}, ServerName: "localhost"}
}

// exchange is what a loopback gateway does with one request it read completely: answer it, reset the
// connection, hang. It returns false to close the connection.
type exchange func(g *loopbackGateway, n int, c net.Conn, w *bufio.Writer, req *http.Request) bool

// loopbackGateway is a TLS server that reads HTTP/1.1 requests and counts each that arrived completely
// (headers and the whole body): the number of times a gateway could have executed it.
type loopbackGateway struct {
	ln       net.Listener
	arrivals atomic.Int32
	conns    atomic.Int32
	do       exchange
	// raw, when set, takes every accepted TCP connection before TLS (a refusal, a hang in the handshake).
	raw func(g *loopbackGateway, c net.Conn)

	mu   sync.Mutex
	open []net.Conn
	stop chan struct{}
}

func startLoopback(t *testing.T, cfg *tls.Config, do exchange) *loopbackGateway {
	return startRawLoopback(t, cfg, do, nil)
}

// startRawLoopback is startLoopback with raw taking the TCP connections.
func startRawLoopback(t *testing.T, cfg *tls.Config, do exchange, raw func(g *loopbackGateway, c net.Conn)) *loopbackGateway {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	g := &loopbackGateway{ln: ln, do: do, raw: raw, stop: make(chan struct{})}
	go g.serve(cfg)
	t.Cleanup(g.close)
	return g
}

func (g *loopbackGateway) URL() string {
	_, port, _ := net.SplitHostPort(g.ln.Addr().String())
	return "https://localhost:" + port + "/ES4"
}

func (g *loopbackGateway) close() {
	close(g.stop)
	_ = g.ln.Close()
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range g.open {
		_ = c.Close()
	}
}

func (g *loopbackGateway) serve(cfg *tls.Config) {
	for {
		c, err := g.ln.Accept()
		if err != nil {
			return
		}
		g.conns.Add(1)
		g.mu.Lock()
		g.open = append(g.open, c)
		g.mu.Unlock()
		if g.raw != nil {
			go g.raw(g, c)
			continue
		}
		go g.conn(tls.Server(c, cfg))
	}
}

func (g *loopbackGateway) conn(c *tls.Conn) {
	defer c.Close()
	if err := c.Handshake(); err != nil {
		return
	}
	br := bufio.NewReader(c)
	bw := bufio.NewWriter(c)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		if _, err := io.Copy(io.Discard, req.Body); err != nil {
			return
		}
		n := int(g.arrivals.Add(1))
		if !g.do(g, n, c, bw, req) {
			return
		}
	}
}

// hang waits until the gateway closes.
func (g *loopbackGateway) hang() { <-g.stop }

// reset closes c with an RST instead of a FIN (SO_LINGER 0).
func reset(c net.Conn) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if tcp, ok := c.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = c.Close()
}

// answer writes a whole response.
func answer(w *bufio.Writer, status int, header map[string]string, body string) bool {
	w.WriteString("HTTP/1.1 " + strconv.Itoa(status) + " " + http.StatusText(status) + "\r\n")
	for k, v := range header {
		w.WriteString(k + ": " + v + "\r\n")
	}
	w.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
	return w.Flush() == nil
}

// soapFault is a SOAP 1.2 Receiver fault envelope with an SGP.02 status code in its detail.
func soapFault(reason string) string {
	return `<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><env:Fault>` +
		`<env:Code><env:Value>env:Receiver</env:Value></env:Code><env:Reason><env:Text xml:lang="en">` + reason +
		`</env:Text></env:Reason><env:Detail><StatusCodeData xmlns=""><Subject>1.1</Subject><Reason>5.1</Reason></StatusCodeData></env:Detail></env:Fault></env:Body></env:Envelope>`
}

const soapXML = "application/soap+xml; charset=utf-8"

var _ = strings.Contains

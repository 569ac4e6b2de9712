package soap_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/mtls/mtlstest"
	"github.com/esimgw/esimgw/soap"
)

// waitLimit bounds every wait on an event from the other side; the tests never sleep to synchronise.
const waitLimit = 10 * time.Second

const clientCN = "mno.example"

// --- servers ---------------------------------------------------------------------------------------

type serverMode int

const (
	plainHTTP serverMode = iota
	serverTLS            // httptest's own certificate, no client certificate
	mutualTLS            // mtlstest PKI, client certificate required
)

func (m serverMode) String() string { return [...]string{"http", "https", "mtls"}[m] }

var allModes = []serverMode{plainHTTP, serverTLS, mutualTLS}

func newPKI(t testing.TB) *mtlstest.PKI {
	t.Helper()
	ca, err := mtlstest.NewCA()
	require.NoError(t, err)
	srv, err := ca.Server()
	require.NoError(t, err)
	cli, err := ca.Client(clientCN)
	require.NoError(t, err)
	return &mtlstest.PKI{CA: ca, Server: srv, Client: cli}
}

// server is an httptest server that reports its connections' life: every new connection is counted,
// and connections going idle or closed are sent on channels.
type server struct {
	*httptest.Server
	pki       *mtlstest.PKI // mutualTLS only
	clientTLS *tls.Config   // what a client needs to reach it; nil over plain HTTP
	newConns  atomic.Int32
	idle      chan net.Conn // StateIdle
	closed    chan net.Conn // StateClosed and StateHijacked
}

func startServer(t *testing.T, m serverMode, h http.HandlerFunc, tweak ...func(*httptest.Server)) *server {
	t.Helper()
	s := &server{idle: make(chan net.Conn, 1024), closed: make(chan net.Conn, 1024)}
	s.Server = httptest.NewUnstartedServer(h)
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.Config.ConnState = func(c net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			s.newConns.Add(1)
		case http.StateIdle:
			send(s.idle, c)
		case http.StateClosed, http.StateHijacked:
			send(s.closed, c)
		}
	}
	if m == mutualTLS {
		s.pki = newPKI(t)
		s.TLS = s.pki.ServerTLSConfig()
	}
	for _, f := range tweak {
		f(s.Server)
	}
	switch m {
	case plainHTTP:
		s.Start()
	case serverTLS:
		s.StartTLS()
		pool := x509.NewCertPool()
		pool.AddCert(s.Certificate())
		s.clientTLS = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
	case mutualTLS:
		s.StartTLS()
		s.clientTLS = s.pki.ClientTLSConfig()
	}
	t.Cleanup(s.Close)
	return s
}

func send(ch chan net.Conn, c net.Conn) {
	select {
	case ch <- c:
	default:
		panic("connection event channel full")
	}
}

// waitConns takes n events from ch, failing the test if they do not come.
func waitConns(t *testing.T, ch chan net.Conn, n int, what string) []net.Conn {
	t.Helper()
	var got []net.Conn
	for len(got) < n {
		select {
		case c := <-ch:
			got = append(got, c)
		case <-time.After(waitLimit):
			require.FailNowf(t, "timed out", "waiting for %d %s connection(s), saw %d", n, what, len(got))
		}
	}
	return got
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(waitLimit):
		require.FailNow(t, "timed out waiting for "+what)
	}
}

// release returns a channel closed when the test ends, before its servers close, so that handlers
// blocked on it return.
func release(t *testing.T) <-chan struct{} {
	ch := make(chan struct{})
	t.Cleanup(func() { close(ch) })
	return ch
}

// rawServer accepts TCP (or TLS, with cfg) connections and hands each to serve, for answers net/http's
// server does not give.
type rawServer struct {
	URL      string
	accepted atomic.Int32
	ln       net.Listener
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    []net.Conn
}

func startRaw(t testing.TB, cfg *tls.Config, serve func(c net.Conn, br *bufio.Reader)) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &rawServer{ln: ln, URL: "http://" + ln.Addr().String()}
	if cfg != nil {
		s.ln = tls.NewListener(ln, cfg)
		s.URL = "https://" + ln.Addr().String()
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := s.ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				serve(c, bufio.NewReader(c))
			}()
		}
	}()
	t.Cleanup(func() {
		_ = s.ln.Close()
		s.mu.Lock()
		for _, c := range s.conns {
			_ = c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

// --- clients ---------------------------------------------------------------------------------------

func noProxy(*http.Request) (*url.URL, error) { return nil, nil }

func newTransport(t *testing.T, cfg *tls.Config, tweak ...func(*soap.TransportSettings)) *soap.Transport {
	t.Helper()
	s := soap.TransportSettings{Proxy: noProxy}
	for _, f := range tweak {
		f(&s)
	}
	tr := soap.NewTransportWith(cfg, s)
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

func newRequest(t *testing.T, ctx context.Context, method, url, body string) *http.Request {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	require.NoError(t, err)
	return req
}

// roundTrip sends one request and reads the whole answer.
func roundTrip(t *testing.T, rt http.RoundTripper, req *http.Request) (*http.Response, string) {
	t.Helper()
	res, err := rt.RoundTrip(req)
	require.NoError(t, err)
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())
	return res, string(b)
}

func get(t *testing.T, rt http.RoundTripper, url string) (*http.Response, string) {
	t.Helper()
	return roundTrip(t, rt, newRequest(t, context.Background(), http.MethodGet, url, ""))
}

// echo answers with the request body, and the connection it came on in a header.
func echo(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	w.Header().Set("X-Remote", r.RemoteAddr)
	w.Header().Set("Content-Type", "application/soap+xml")
	_, _ = w.Write(b)
}

// closeTracker is a request body that records being closed.
type closeTracker struct {
	io.Reader
	closed atomic.Bool
}

func (c *closeTracker) Close() error { c.closed.Store(true); return nil }

// --- keep-alive ------------------------------------------------------------------------------------

func TestTransportSequentialRequestsShareOneConnection(t *testing.T) {
	for _, m := range allModes {
		t.Run(m.String(), func(t *testing.T) {
			srv := startServer(t, m, echo)
			tr := newTransport(t, srv.clientTLS)
			remotes := map[string]bool{}
			for i := range 50 {
				body := fmt.Sprintf("<env n=%q/>", strconv.Itoa(i))
				res, got := roundTrip(t, tr, newRequest(t, context.Background(), http.MethodPost, srv.URL+"/es4", body))
				require.Equal(t, http.StatusOK, res.StatusCode)
				require.Equal(t, body, got)
				remotes[res.Header.Get("X-Remote")] = true
			}
			assert.Equal(t, int32(1), srv.newConns.Load(), "server-side connections")
			assert.Len(t, remotes, 1, "client addresses seen by the server")
		})
	}
}

// barrier holds requests in the handler until n of them are there at once, so n connections must be
// open together.
type barrier struct {
	mu      sync.Mutex
	want    int
	arrived int
	open    chan struct{}
}

func (b *barrier) reset(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.want, b.arrived, b.open = n, 0, make(chan struct{})
}

func (b *barrier) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	b.arrived++
	open := b.open
	if b.arrived == b.want {
		close(open)
	}
	b.mu.Unlock()
	select {
	case <-open:
		_, _ = io.WriteString(w, "ok")
	case <-time.After(waitLimit):
		w.WriteHeader(http.StatusGatewayTimeout)
	}
}

// concurrently sends n requests at once and waits for all their answers.
func concurrently(t *testing.T, tr http.RoundTripper, b *barrier, url string, n int) {
	t.Helper()
	b.reset(n)
	errs := make(chan error, n)
	for range n {
		go func() {
			res, err := tr.RoundTrip(newRequest(t, context.Background(), http.MethodPost, url, "<x/>"))
			if err == nil {
				var body []byte
				body, err = io.ReadAll(res.Body)
				_ = res.Body.Close()
				if err == nil && (res.StatusCode != http.StatusOK || string(body) != "ok") {
					err = fmt.Errorf("answer %d %q", res.StatusCode, body)
				}
			}
			errs <- err
		}()
	}
	for range n {
		require.NoError(t, <-errs)
	}
}

func TestTransportConcurrentRequestsOpenConnectionsThenReuseThem(t *testing.T) {
	b := new(barrier)
	srv := startServer(t, mutualTLS, b.ServeHTTP)
	tr := newTransport(t, srv.clientTLS)

	concurrently(t, tr, b, srv.URL, 4)
	require.Equal(t, int32(4), srv.newConns.Load(), "four requests held at once need four connections")
	concurrently(t, tr, b, srv.URL, 4)
	assert.Equal(t, int32(4), srv.newConns.Load(), "the second round reuses them")
	for range 10 {
		get(t, tr, srv.URL)
	}
	assert.Equal(t, int32(4), srv.newConns.Load(), "sequential requests reuse them too")
	assert.Empty(t, srv.closed, "no connection was closed")
}

func TestTransportMaxIdleConnsPerHost(t *testing.T) {
	b := new(barrier)
	srv := startServer(t, mutualTLS, b.ServeHTTP)
	tr := newTransport(t, srv.clientTLS, func(s *soap.TransportSettings) { s.MaxIdleConnsPerHost = 2 })

	concurrently(t, tr, b, srv.URL, 5)
	require.Equal(t, int32(5), srv.newConns.Load())
	waitConns(t, srv.closed, 3, "excess idle")

	concurrently(t, tr, b, srv.URL, 2)
	assert.Equal(t, int32(5), srv.newConns.Load(), "the two kept idle are reused")
	concurrently(t, tr, b, srv.URL, 3)
	assert.Equal(t, int32(6), srv.newConns.Load(), "only two were kept, a third is dialled")
	waitConns(t, srv.closed, 1, "excess idle")
}

func TestTransportIdleConnTimeout(t *testing.T) {
	srv := startServer(t, mutualTLS, echo)
	tr := newTransport(t, srv.clientTLS, func(s *soap.TransportSettings) { s.IdleConnTimeout = time.Nanosecond })
	get(t, tr, srv.URL)
	get(t, tr, srv.URL)
	assert.Equal(t, int32(2), srv.newConns.Load(), "an idle connection older than IdleConnTimeout is not reused")
	waitConns(t, srv.closed, 1, "expired idle")
}

func TestTransportCloseIdleConnections(t *testing.T) {
	b := new(barrier)
	srv := startServer(t, mutualTLS, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Chunked") != "" {
			echo(w, r)
			return
		}
		b.ServeHTTP(w, r)
	})
	tr := newTransport(t, srv.clientTLS)
	concurrently(t, tr, b, srv.URL, 3)

	// A body of unknown length goes through the net/http fallback, which keeps its own idle connection.
	req := newRequest(t, context.Background(), http.MethodPost, srv.URL, "")
	req.Body, req.ContentLength = io.NopCloser(strings.NewReader("<unknown-length/>")), -1
	req.Header.Set("X-Chunked", "1")
	_, got := roundTrip(t, tr, req)
	require.Equal(t, "<unknown-length/>", got)
	require.Equal(t, int32(4), srv.newConns.Load())
	require.Empty(t, srv.closed)

	tr.CloseIdleConnections()
	waitConns(t, srv.closed, 4, "idle, after CloseIdleConnections")

	b.reset(1)
	get(t, tr, srv.URL)
	assert.Equal(t, int32(5), srv.newConns.Load(), "the next request dials")
}

// --- response bodies and reuse ---------------------------------------------------------------------

func TestTransportResponseBodiesAndReuse(t *testing.T) {
	const text = "<Envelope>0123456789abcdef</Envelope>"
	contentLength := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(text)))
		_, _ = io.WriteString(w, text)
	}
	chunked := func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, text[:10])
		w.(http.Flusher).Flush()
		_, _ = io.WriteString(w, text[10:])
	}
	tests := []struct {
		name        string
		method      string
		reqClose    bool
		handler     http.HandlerFunc
		read        int // bytes read before Close; -1 reads to EOF
		wantStatus  int
		wantBody    string
		wantLength  int64
		wantChunked bool
		wantReuse   bool
	}{
		{name: "content-length read to EOF", handler: contentLength, read: -1,
			wantStatus: 200, wantBody: text, wantLength: int64(len(text)), wantReuse: true},
		{name: "chunked read to EOF", handler: chunked, read: -1,
			wantStatus: 200, wantBody: text, wantLength: -1, wantChunked: true, wantReuse: true},
		{name: "empty 202 read to EOF", handler: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) },
			read: -1, wantStatus: 202, wantReuse: true},
		{name: "204 read to EOF", handler: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) },
			read: -1, wantStatus: 204, wantReuse: true},
		// Closing an empty body without reading it leaves nothing unread on the connection.
		{name: "empty 202 closed unread", handler: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) },
			read: 0, wantStatus: 202, wantReuse: true},
		{name: "204 closed unread", handler: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) },
			read: 0, wantStatus: 204, wantReuse: true},
		{name: "HEAD closed unread", method: http.MethodHead, handler: contentLength,
			read: 0, wantStatus: 200, wantLength: int64(len(text)), wantReuse: true},
		{name: "content-length closed before EOF", handler: contentLength, read: 5,
			wantStatus: 200, wantBody: text[:5], wantLength: int64(len(text)), wantReuse: false},
		{name: "content-length closed unread", handler: contentLength, read: 0,
			wantStatus: 200, wantLength: int64(len(text)), wantReuse: false},
		{name: "chunked closed before EOF", handler: chunked, read: 5,
			wantStatus: 200, wantBody: text[:5], wantLength: -1, wantChunked: true, wantReuse: false},
		{name: "server says Connection: close", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Connection", "close")
			contentLength(w, r)
		}, read: -1, wantStatus: 200, wantBody: text, wantLength: int64(len(text)), wantReuse: false},
		{name: "request says Connection: close", reqClose: true, handler: contentLength, read: -1,
			wantStatus: 200, wantBody: text, wantLength: int64(len(text)), wantReuse: false},
		{name: "500 with body read to EOF", handler: func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "boom", http.StatusInternalServerError)
		}, read: -1, wantStatus: 500, wantBody: "boom\n", wantLength: 5, wantReuse: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, mutualTLS, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/probe" {
					_, _ = io.WriteString(w, "probe")
					return
				}
				tt.handler(w, r)
			})
			tr := newTransport(t, srv.clientTLS)
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			req := newRequest(t, context.Background(), method, srv.URL+"/es2", "<req/>")
			req.Close = tt.reqClose
			res, err := tr.RoundTrip(req)
			require.NoError(t, err)
			assert.Equal(t, tt.wantStatus, res.StatusCode)
			assert.Equal(t, tt.wantLength, res.ContentLength)
			if tt.wantChunked {
				assert.Equal(t, []string{"chunked"}, res.TransferEncoding)
			} else {
				assert.Empty(t, res.TransferEncoding)
			}
			var got []byte
			if tt.read < 0 {
				got, err = io.ReadAll(res.Body)
			} else {
				got = make([]byte, tt.read)
				_, err = io.ReadFull(res.Body, got)
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantBody, string(got))
			require.NoError(t, res.Body.Close())
			require.NoError(t, res.Body.Close(), "a second Close is harmless")
			n, err := res.Body.Read(make([]byte, 1))
			assert.Zero(t, n, "no bytes after Close")
			assert.Error(t, err, "Read after Close")

			if !tt.wantReuse {
				waitConns(t, srv.closed, 1, "first")
			}
			_, probe := get(t, tr, srv.URL+"/probe")
			require.Equal(t, "probe", probe)
			if tt.wantReuse {
				assert.Equal(t, int32(1), srv.newConns.Load(), "the connection is reused")
				assert.Empty(t, srv.closed, "and stays open")
			} else {
				assert.Equal(t, int32(2), srv.newConns.Load(), "the connection is not reused")
			}
		})
	}
}

// A caller that closes an unread body must not find the next answer poisoned by its leftovers.
func TestTransportBodyLeftoversNeverLeakIntoTheNextAnswer(t *testing.T) {
	srv := startServer(t, plainHTTP, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, strings.Repeat(r.URL.Path, 1000))
	})
	tr := newTransport(t, nil)
	for _, p := range []string{"/a", "/b", "/c"} {
		res, err := tr.RoundTrip(newRequest(t, context.Background(), http.MethodGet, srv.URL+p, ""))
		require.NoError(t, err)
		buf := make([]byte, 2)
		_, err = io.ReadFull(res.Body, buf)
		require.NoError(t, err)
		require.Equal(t, p, string(buf))
		require.NoError(t, res.Body.Close())
	}
	assert.Equal(t, int32(3), srv.newConns.Load())
}

// The answer's own word decides reuse, even when the server leaves the socket open: a client that
// reused it would find the next request answered on the same connection.
func TestTransportHonoursConnectionCloseFromTheAnswer(t *testing.T) {
	tests := []struct {
		name         string
		answer       string
		wantAccepted int32
	}{
		{"HTTP/1.1 keep-alive by default", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 1},
		{"HTTP/1.1 Connection: close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", 3},
		{"HTTP/1.0 without keep-alive", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 3},
		{"HTTP/1.0 with keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var requests atomic.Int32
			srv := startRaw(t, nil, serveScript(tt.answer, &requests))
			tr := newTransport(t, nil)
			for range 3 {
				_, body := get(t, tr, srv.URL)
				require.Equal(t, "ok", body)
			}
			assert.Equal(t, int32(3), requests.Load())
			assert.Equal(t, tt.wantAccepted, srv.accepted.Load(), "connections")
		})
	}
}

// --- 1xx answers -----------------------------------------------------------------------------------

// serveScript answers every request on a connection with the same raw bytes.
func serveScript(answer string, requests *atomic.Int32) func(net.Conn, *bufio.Reader) {
	return func(c net.Conn, br *bufio.Reader) {
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, req.Body)
			requests.Add(1)
			if _, err := io.WriteString(c, answer); err != nil {
				return
			}
		}
	}
}

func TestTransportInformationalAnswers(t *testing.T) {
	const ok = "HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nContent-Length: 6\r\n\r\n<ok/>\n"
	tests := []struct {
		name       string
		answer     string
		wantStatus int
		wantBody   string
		wantErr    string
	}{
		{name: "100 Continue", answer: "HTTP/1.1 100 Continue\r\n\r\n" + ok, wantStatus: 200, wantBody: "<ok/>\n"},
		{name: "103 Early Hints", answer: "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" + ok,
			wantStatus: 200, wantBody: "<ok/>\n"},
		{name: "100, 102 and 103 before 202", answer: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n" +
			"HTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n", wantStatus: 202},
		{name: "101 Switching Protocols", answer: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n",
			wantErr: "101 Switching Protocols"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pki := newPKI(t)
			var requests atomic.Int32
			srv := startRaw(t, pki.ServerTLSConfig(), serveScript(tt.answer, &requests))
			tr := newTransport(t, pki.ClientTLSConfig())
			for i := range 3 {
				res, err := tr.RoundTrip(newRequest(t, context.Background(), http.MethodPost, srv.URL, "<req/>"))
				if tt.wantErr != "" {
					require.ErrorContains(t, err, tt.wantErr)
					require.Nil(t, res)
					assert.Equal(t, int32(i+1), srv.accepted.Load(), "a connection that switched protocols is not reused")
					continue
				}
				require.NoError(t, err)
				body, err := io.ReadAll(res.Body)
				require.NoError(t, err)
				require.NoError(t, res.Body.Close())
				assert.Equal(t, tt.wantStatus, res.StatusCode)
				assert.Equal(t, tt.wantBody, string(body))
				assert.Empty(t, res.Header.Get("Link"), "headers of the informational answer are not the final answer's")
			}
			assert.Equal(t, int32(3), requests.Load())
			if tt.wantErr == "" {
				assert.Equal(t, int32(1), srv.accepted.Load(), "informational answers do not spoil the connection")
			}
		})
	}
}

// --- stale connections and retries -----------------------------------------------------------------

// An idle connection the server closed is seen as closed before the request goes out: the request takes
// a new connection and the server sees it once.
func TestTransportStaleIdleConnectionIsNotUsed(t *testing.T) {
	tests := []struct {
		name   string
		method string
		body   func() io.Reader // nil: no body
	}{
		{name: "GET without body", method: http.MethodGet},
		{name: "POST bytes.Reader", method: http.MethodPost, body: func() io.Reader { return bytes.NewReader([]byte("<second/>")) }},
		{name: "POST strings.Reader", method: http.MethodPost, body: func() io.Reader { return strings.NewReader("<second/>") }},
		{name: "POST http.NoBody", method: http.MethodPost, body: func() io.Reader { return http.NoBody }},
	}
	for _, m := range []serverMode{plainHTTP, mutualTLS} {
		for _, tt := range tests {
			t.Run(m.String()+"/"+tt.name, func(t *testing.T) {
				var mu sync.Mutex
				var seen []string
				srv := startServer(t, m, func(w http.ResponseWriter, r *http.Request) {
					b, _ := io.ReadAll(r.Body)
					mu.Lock()
					seen = append(seen, r.Method+" "+r.URL.Path+" "+string(b))
					mu.Unlock()
					w.WriteHeader(http.StatusAccepted)
				})
				tr := newTransport(t, srv.clientTLS)
				get(t, tr, srv.URL+"/first")
				first := waitConns(t, srv.idle, 1, "idle")[0]
				require.NoError(t, first.Close(), "the server drops the idle connection")
				waitConns(t, srv.closed, 1, "first")

				var body io.Reader
				want := ""
				if tt.body != nil {
					body = tt.body()
					if tt.method == http.MethodPost && body != http.NoBody {
						want = "<second/>"
					}
				}
				req, err := http.NewRequest(tt.method, srv.URL+"/second", body)
				require.NoError(t, err)
				origBody := req.Body
				res, got := roundTrip(t, tr, req)
				assert.Equal(t, http.StatusAccepted, res.StatusCode)
				assert.Empty(t, got)
				assert.Equal(t, int32(2), srv.newConns.Load(), "the request went on a new connection")
				mu.Lock()
				assert.Equal(t, []string{"GET /first ", tt.method + " /second " + want}, seen, "the server sees the request once")
				mu.Unlock()
				assert.True(t, req.Body == origBody, "RoundTrip must not replace the caller's Request.Body")
			})
		}
	}
}

// When the server drops every idle connection (a restart, a load balancer's idle timeout), each is seen as
// closed and the request goes on a new connection.
func TestTransportAllIdleConnectionsStale(t *testing.T) {
	b := new(barrier)
	var after atomic.Int32
	srv := startServer(t, mutualTLS, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/burst" {
			b.ServeHTTP(w, r)
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		after.Add(1)
		w.WriteHeader(http.StatusAccepted)
	})
	tr := newTransport(t, srv.clientTLS)
	concurrently(t, tr, b, srv.URL+"/burst", 3)
	for _, c := range waitConns(t, srv.idle, 3, "idle") {
		require.NoError(t, c.Close())
	}
	waitConns(t, srv.closed, 3, "dropped")

	res, _ := roundTrip(t, tr, newRequest(t, context.Background(), http.MethodPost, srv.URL+"/after", "<req/>"))
	assert.Equal(t, http.StatusAccepted, res.StatusCode)
	assert.Equal(t, int32(1), after.Load(), "the server sees the request once")
	assert.Equal(t, int32(4), srv.newConns.Load())
}

// A connection that fails the moment it is made is the server's answer, not staleness: no retry.
func TestTransportFreshConnectionFailureIsNotRetried(t *testing.T) {
	for _, m := range []serverMode{plainHTTP, mutualTLS} {
		t.Run(m.String(), func(t *testing.T) {
			var requests atomic.Int32
			srv := startServer(t, m, func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				c, _, err := http.NewResponseController(w).Hijack()
				if err == nil {
					_ = c.Close()
				}
			})
			tr := newTransport(t, srv.clientTLS)
			res, err := tr.RoundTrip(newRequest(t, context.Background(), http.MethodPost, srv.URL, "<req/>"))
			require.Error(t, err)
			assert.Nil(t, res)
			assert.True(t, errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF), "got %v", err)
			assert.Equal(t, int32(1), requests.Load(), "not retried")
			assert.Equal(t, int32(1), srv.newConns.Load())
		})
	}
}

// A request written on a connection that looked alive is never resent by the Transport when the
// connection then fails: the server may have acted on it (soap.Client's RetryPolicy decides, with the
// same bytes).
func TestTransportNeverResendsAWrittenRequest(t *testing.T) {
	var requests atomic.Int32
	srv := startServer(t, mutualTLS, func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) == 1 {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		c, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = c.Close()
		}
	})
	tr := newTransport(t, srv.clientTLS)
	get(t, tr, srv.URL)
	_, err := tr.RoundTrip(newRequest(t, context.Background(), http.MethodPost, srv.URL, "<req/>"))
	require.Error(t, err)
	assert.Equal(t, int32(2), requests.Load(), "the failing request reached the server once")
	assert.Equal(t, int32(1), srv.newConns.Load())
}

// A server that sends more than one answer (or more than an answer's length) on a connection: the bytes
// left over must never be taken for the next request's answer.
func TestTransportUnsolicitedBytesRetireTheConnection(t *testing.T) {
	answer := func(body string) string {
		return "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	}
	pki := newPKI(t)
	for _, cfg := range []*tls.Config{nil, pki.ServerTLSConfig()} {
		name := "plain"
		if cfg != nil {
			name = "TLS"
		}
		t.Run(name, func(t *testing.T) {
			var n atomic.Int32
			lateSent := make(chan struct{})
			srv := startRaw(t, cfg, func(c net.Conn, br *bufio.Reader) {
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					i := n.Add(1)
					out := answer("answer-to-" + req.URL.Path)
					if i == 1 {
						out += answer("a second answer to " + req.URL.Path) // in the same write
					}
					if _, err := io.WriteString(c, out); err != nil {
						return
					}
					if i == 2 {
						// and, on the next connection, one more after a pause: in the socket, not the buffer
						time.Sleep(20 * time.Millisecond)
						_, _ = io.WriteString(c, answer("late"))
						close(lateSent)
					}
				}
			})
			var clientCfg *tls.Config
			if cfg != nil {
				clientCfg = pki.ClientTLSConfig()
			}
			tr := newTransport(t, clientCfg)
			for i, path := range []string{"/1", "/2", "/3"} {
				if i == 2 {
					// The late answer has arrived on the idle connection: written, then given time to cross
					// loopback (a fixed sleep alone lost the race on a loaded machine).
					waitSent(t, lateSent)
				}
				_, got := roundTrip(t, tr, newRequest(t, context.Background(), http.MethodPost, srv.URL+path, "<req/>"))
				assert.Equal(t, "answer-to-"+path, got)
			}
			assert.Equal(t, int32(3), srv.accepted.Load(), "each connection with stray bytes was retired")
		})
	}
}

// Over TLS, what a server sends after an answer may sit below the HTTP reader: a record of its own that
// came in the same read of the socket, a close_notify alert with the socket still open, a record that
// arrives while the connection is idle, an answer cut in two records with a third after it. None of them
// may be read as the next request's answer, and none may be taken for a closed connection's silence.
func TestTransportUnsolicitedTLSRecordsRetireTheConnection(t *testing.T) {
	answer := func(body string) string {
		return "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	}
	pki := newPKI(t)
	tests := []struct {
		name  string
		after func(c *tls.Conn, path string) // once the first answer is written
	}{
		{"a record in the same flight", func(c *tls.Conn, path string) { _, _ = io.WriteString(c, answer("stray after "+path)) }},
		{"close_notify", func(c *tls.Conn, _ string) { _ = c.CloseWrite() }},
		{"a record while idle", func(c *tls.Conn, path string) {
			time.Sleep(20 * time.Millisecond)
			_, _ = io.WriteString(c, answer("late after "+path))
		}},
		{"one byte while idle", func(c *tls.Conn, _ string) {
			time.Sleep(20 * time.Millisecond)
			_, _ = io.WriteString(c, "x")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			afterSent := make(chan struct{})
			srv := startRaw(t, pki.ServerTLSConfig(), func(c net.Conn, br *bufio.Reader) {
				tc := c.(*tls.Conn)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					out := answer("answer-to-" + req.URL.Path)
					if n.Add(1) == 1 {
						// The answer in two records, the stray bytes after it.
						_, _ = io.WriteString(tc, out[:len(out)/2])
						_, _ = io.WriteString(tc, out[len(out)/2:])
						tt.after(tc, req.URL.Path)
						close(afterSent)
						continue
					}
					if _, err := io.WriteString(tc, out); err != nil {
						return
					}
				}
			})
			tr := newTransport(t, pki.ClientTLSConfig())
			for i, path := range []string{"/1", "/2", "/3"} {
				if i == 1 {
					waitSent(t, afterSent) // what comes late has arrived on the idle connection
				}
				_, got := roundTrip(t, tr, newRequest(t, context.Background(), http.MethodPost, srv.URL+path, "<req/>"))
				assert.Equal(t, "answer-to-"+path, got)
			}
			assert.Equal(t, int32(2), srv.accepted.Load(), "the connection with stray bytes was retired, the next one reused")
		})
	}
}

// Bytes after an answer in the record that ends it stay in the TLS layer when the body's last read takes
// exactly what is left of the body, straight into the reader's buffer (a large one, as soap.Client's):
// neither the HTTP reader's buffer nor the socket holds them.
func TestTransportUnsolicitedBytesInTheAnswersLastRecord(t *testing.T) {
	pki := newPKI(t)
	first, second := strings.Repeat("a", 4<<10), strings.Repeat("b", 10<<10)
	var n atomic.Int32
	cfg := pki.ServerTLSConfig()
	cfg.DynamicRecordSizingDisabled = true // one record per Write, not small ones first
	srv := startRaw(t, cfg, func(c net.Conn, br *bufio.Reader) {
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, req.Body)
			head := "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(first)+len(second)) + "\r\n\r\n"
			_, _ = io.WriteString(c, head+first)
			tail := second
			if n.Add(1) == 1 {
				tail += "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray" // in the same record
			}
			if _, err := io.WriteString(c, tail); err != nil {
				return
			}
		}
	})
	tr := newTransport(t, pki.ClientTLSConfig(), boundedAttempt)
	for i := range 3 {
		// The third goes on the second connection, whose last answer left nothing behind: the check that
		// reads through the TLS layer must find that at once.
		start := time.Now()
		res, err := tr.RoundTrip(newRequest(t, context.Background(), http.MethodPost, srv.URL, "<req/>"))
		require.NoError(t, err)
		buf := make([]byte, 0, 64<<10)
		for {
			k, err := res.Body.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+k]
			if err == io.EOF {
				break
			}
			require.NoError(t, err)
		}
		require.NoError(t, res.Body.Close())
		require.Equal(t, first+second, string(buf))
		require.Less(t, time.Since(start), waitLimit/4, "call %d", i)
	}
	assert.Equal(t, int32(2), srv.accepted.Load(), "the connection with stray bytes was retired")
}

// An answer that fills the HTTP reader's buffer to its last byte in one read leaves the TLS layer's state
// unknown: the reuse check then reads through it, and must return at once (the body, read from the
// buffer, never set its own read deadline on the connection).
func TestTransportAnswerFillingTheReadBufferExactly(t *testing.T) {
	pki := newPKI(t)
	cfg := pki.ServerTLSConfig()
	cfg.DynamicRecordSizingDisabled = true // the answer in one record
	const bufSize = 8 << 10                // the Transport's reader
	head := func(n int) string { return "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(n) + "\r\n\r\n" }
	n := bufSize - len(head(bufSize))
	answer := head(n) + strings.Repeat("z", n)
	require.Len(t, answer, bufSize)
	srv := startRaw(t, cfg, serveScript(answer, new(atomic.Int32)))
	tr := newTransport(t, pki.ClientTLSConfig(), boundedAttempt)
	for i := range 3 {
		start := time.Now()
		_, got := roundTrip(t, tr, newRequest(t, context.Background(), http.MethodPost, srv.URL, "<req/>"))
		require.Len(t, got, n)
		require.Less(t, time.Since(start), waitLimit/4, "call %d", i)
	}
	assert.Equal(t, int32(1), srv.accepted.Load())
}

// A connection that answered quietly is reused however its answers came: in one record with the head,
// or split over several records and reads.
func TestTransportReusesQuietTLSConnections(t *testing.T) {
	pki := newPKI(t)
	for _, size := range []int{0, 10, 4 << 10, 9 << 10, 40 << 10} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			body := strings.Repeat("b", size)
			srv := startRaw(t, pki.ServerTLSConfig(), func(c net.Conn, br *bufio.Reader) {
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					_, err = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(size)+"\r\n\r\n"+body)
					if err != nil {
						return
					}
				}
			})
			tr := newTransport(t, pki.ClientTLSConfig())
			for range 5 {
				_, got := roundTrip(t, tr, newRequest(t, context.Background(), http.MethodPost, srv.URL, "<req/>"))
				require.Equal(t, body, got)
			}
			assert.Equal(t, int32(1), srv.accepted.Load())
		})
	}
}

func TestTransportResponseHeadersAreBounded(t *testing.T) {
	srv := startRaw(t, nil, func(c net.Conn, br *bufio.Reader) {
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nX-Huge: "+strings.Repeat("a", 64<<10)+"\r\nContent-Length: 0\r\n\r\n")
	})
	tr := newTransport(t, nil, func(s *soap.TransportSettings) { s.MaxResponseHeaderBytes = 16 << 10 })
	_, err := tr.RoundTrip(newRequest(t, context.Background(), http.MethodPost, srv.URL, "<req/>"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "MaxResponseHeaderBytes")
	assert.Equal(t, int64(1<<20), soap.DefaultTransportSettings().MaxResponseHeaderBytes)
}

// Close may end a Read that is blocked on the body, from another goroutine (-race checks the hand-over).
func TestTransportCloseWhileReading(t *testing.T) {
	release := make(chan struct{})
	srv := startServer(t, mutualTLS, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/next" {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "part")
		w.(http.Flusher).Flush()
		<-release
	})
	t.Cleanup(func() { close(release) })
	tr := newTransport(t, srv.clientTLS)
	res, err := tr.RoundTrip(newRequest(t, context.Background(), http.MethodPost, srv.URL, "<req/>"))
	require.NoError(t, err)
	read := make(chan error, 1)
	go func() { _, err := io.ReadAll(res.Body); read <- err }()
	time.Sleep(20 * time.Millisecond) // let the reader block
	require.NoError(t, res.Body.Close())
	select {
	case err := <-read:
		require.Error(t, err, "the blocked Read ends")
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end the blocked Read")
	}
	_, _ = roundTrip(t, tr, newRequest(t, context.Background(), http.MethodPost, srv.URL+"/next", "<req/>"))
	assert.Equal(t, int32(2), srv.newConns.Load(), "the closed connection was not reused")
}

func TestTransportMutualTLSRefusedWithoutClientCertificate(t *testing.T) {
	var requests atomic.Int32
	srv := startServer(t, mutualTLS, func(w http.ResponseWriter, r *http.Request) { requests.Add(1) })
	cfg := srv.clientTLS.Clone()
	cfg.Certificates = nil
	tr := newTransport(t, cfg)
	_, err := tr.RoundTrip(newRequest(t, context.Background(), http.MethodPost, srv.URL, "<req/>"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "certificate")
	assert.Zero(t, requests.Load())
	assert.Equal(t, int32(1), srv.newConns.Load(), "a refused handshake is not retried")
}

// --- context ---------------------------------------------------------------------------------------

// prompt is how soon a cancelled or expired context must end an attempt: far more than it takes, far
// less than boundedAttempt.
const prompt = 2 * time.Second

// boundedAttempt keeps a test whose cancellation does not work from hanging: the attempt ends on the
// transport's own limit, too late to pass for prompt.
func boundedAttempt(s *soap.TransportSettings) { s.AttemptTimeout = waitLimit / 2 }

// blockingHandler signals entered when a request arrives and gone when its connection goes away
// (net/http's server cancels the request context then).
func blockingHandler(t *testing.T, entered, gone chan struct{}) http.HandlerFunc {
	rel := release(t)
	var once sync.Once
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fast" {
			return
		}
		_, _ = io.Copy(io.Discard, r.Body) // the server watches the connection once the body is read
		once.Do(func() { close(entered) })
		select {
		case <-r.Context().Done():
			close(gone)
		case <-rel:
		}
	}
}

func TestTransportContextCancelWhileAwaitingHeaders(t *testing.T) {
	for _, reused := range []bool{false, true} {
		t.Run("reused="+strconv.FormatBool(reused), func(t *testing.T) {
			entered, gone := make(chan struct{}), make(chan struct{})
			srv := startServer(t, mutualTLS, blockingHandler(t, entered, gone))
			tr := newTransport(t, srv.clientTLS, boundedAttempt)
			if reused {
				get(t, tr, srv.URL+"/fast")
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				<-entered
				cancel()
			}()
			start := time.Now()
			res, err := tr.RoundTrip(newRequest(t, ctx, http.MethodPost, srv.URL, "<req/>"))
			assert.Less(t, time.Since(start), prompt)
			require.Nil(t, res)
			require.ErrorIs(t, err, context.Canceled)
			var te *soap.TimeoutError
			assert.False(t, errors.As(err, &te), "a cancelled context is not a transport timeout")
			waitFor(t, gone, "the server to see the connection closed")

			get(t, tr, srv.URL+"/fast")
			assert.Equal(t, int32(2), srv.newConns.Load(), "the cancelled connection is not reused")
		})
	}
}

func TestTransportContextDeadline(t *testing.T) {
	for _, reused := range []bool{false, true} {
		t.Run("reused="+strconv.FormatBool(reused), func(t *testing.T) {
			entered, gone := make(chan struct{}), make(chan struct{})
			srv := startServer(t, mutualTLS, blockingHandler(t, entered, gone))
			tr := newTransport(t, srv.clientTLS, boundedAttempt)
			if reused {
				get(t, tr, srv.URL+"/fast")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			start := time.Now()
			res, err := tr.RoundTrip(newRequest(t, ctx, http.MethodPost, srv.URL, "<req/>"))
			assert.Less(t, time.Since(start), prompt)
			require.Nil(t, res)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			var te *soap.TimeoutError
			assert.False(t, errors.As(err, &te), "the caller's deadline is reported as the context's error, got %v", err)
			waitFor(t, gone, "the server to see the connection closed")
		})
	}
}

func TestTransportContextEndsWhileReadingBody(t *testing.T) {
	for _, deadline := range []bool{false, true} {
		t.Run("deadline="+strconv.FormatBool(deadline), func(t *testing.T) {
			rel := release(t)
			gone := make(chan struct{})
			srv := startServer(t, mutualTLS, func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Length", "100")
				_, _ = io.WriteString(w, "<Envelope>")
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					close(gone)
				case <-rel:
				}
			})
			tr := newTransport(t, srv.clientTLS, boundedAttempt)
			ctx, cancel := context.WithCancel(context.Background())
			want := context.Canceled
			if deadline {
				ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
				want = context.DeadlineExceeded
			}
			defer cancel()
			res, err := tr.RoundTrip(newRequest(t, ctx, http.MethodPost, srv.URL, "<req/>"))
			require.NoError(t, err)
			buf := make([]byte, 10)
			_, err = io.ReadFull(res.Body, buf)
			require.NoError(t, err)
			start := time.Now()
			if !deadline {
				cancel()
			}
			_, err = io.ReadAll(res.Body)
			assert.Less(t, time.Since(start), prompt)
			require.ErrorIs(t, err, want)
			var te *soap.TimeoutError
			assert.False(t, errors.As(err, &te), "the caller's context ending is reported as the context's error, got %v", err)
			require.NoError(t, res.Body.Close())
			waitFor(t, gone, "the server to see the connection closed")
		})
	}
}

// A request whose context has already ended must not reach the server, even on an idle connection.
func TestTransportContextAlreadyDone(t *testing.T) {
	var requests atomic.Int32
	srv := startServer(t, mutualTLS, func(w http.ResponseWriter, r *http.Request) { requests.Add(1) })
	tr := newTransport(t, srv.clientTLS)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 10 { // whether a write beats the AfterFunc is a race; ten tries make losing it certain
		get(t, tr, srv.URL)
		body := &closeTracker{Reader: strings.NewReader("<req/>")}
		req := newRequest(t, ctx, http.MethodPost, srv.URL, "")
		req.Body, req.ContentLength = body, 6
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("<req/>")), nil }
		_, err := tr.RoundTrip(req)
		require.ErrorIs(t, err, context.Canceled)
		require.True(t, body.closed.Load(), "the body is closed")
	}
	get(t, tr, srv.URL)
	assert.Equal(t, int32(11), requests.Load(), "the cancelled requests never reached the server")
}

// --- transport timeouts ----------------------------------------------------------------------------

func TestTransportTimeouts(t *testing.T) {
	const short = 150 * time.Millisecond
	tests := []struct {
		name         string
		settings     soap.TransportSettings
		partialBody  bool // the server sends the headers and part of the body, then stalls
		wantAwaiting string
		wantLimit    time.Duration
	}{
		{name: "ResponseHeaderTimeout", settings: soap.TransportSettings{ResponseHeaderTimeout: short},
			wantAwaiting: "response headers", wantLimit: short},
		{name: "AttemptTimeout before headers", settings: soap.TransportSettings{AttemptTimeout: short},
			wantAwaiting: "response headers", wantLimit: short},
		{name: "AttemptTimeout shorter than ResponseHeaderTimeout",
			settings:     soap.TransportSettings{AttemptTimeout: short, ResponseHeaderTimeout: time.Hour},
			wantAwaiting: "response headers", wantLimit: short},
		{name: "AttemptTimeout in the body", settings: soap.TransportSettings{AttemptTimeout: short}, partialBody: true,
			wantAwaiting: "the rest of the response", wantLimit: short},
		{name: "AttemptTimeout in the body, short ResponseHeaderTimeout does not apply to the body",
			settings:    soap.TransportSettings{AttemptTimeout: 3 * short, ResponseHeaderTimeout: short / 3},
			partialBody: true, wantAwaiting: "the rest of the response", wantLimit: 3 * short},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rel := release(t)
			gone := make(chan struct{})
			srv := startServer(t, mutualTLS, func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				if tt.partialBody {
					w.Header().Set("Content-Length", "100")
					_, _ = io.WriteString(w, "<Envelope>")
					w.(http.Flusher).Flush()
				}
				select {
				case <-r.Context().Done():
					close(gone)
				case <-rel:
				}
			})
			s := tt.settings
			s.Proxy = noProxy
			tr := soap.NewTransportWith(srv.clientTLS, s)
			defer tr.CloseIdleConnections()

			start := time.Now()
			res, err := tr.RoundTrip(newRequest(t, context.Background(), http.MethodPost, srv.URL, "<req/>"))
			if tt.partialBody {
				require.NoError(t, err)
				_, err = io.ReadAll(res.Body)
				_ = res.Body.Close()
			} else {
				require.Nil(t, res)
			}
			elapsed := time.Since(start)
			require.Error(t, err)
			var te *soap.TimeoutError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, tt.wantAwaiting, te.Awaiting)
			assert.Equal(t, tt.wantLimit, te.Limit)
			assert.True(t, te.Timeout())
			assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
			assert.NotErrorIs(t, err, context.DeadlineExceeded, "not the caller's deadline")
			assert.Contains(t, err.Error(), "timeout awaiting "+tt.wantAwaiting)
			assert.GreaterOrEqual(t, elapsed, tt.wantLimit)
			assert.Less(t, elapsed, waitLimit/2)
			var timeout interface{ Timeout() bool }
			require.ErrorAs(t, err, &timeout)
			assert.True(t, timeout.Timeout())
			waitFor(t, gone, "the server to see the connection closed")
		})
	}
}

// Through http.Client the TimeoutError is wrapped in *url.Error, which still says Timeout.
func TestTransportTimeoutThroughHTTPClient(t *testing.T) {
	rel := release(t)
	srv := startServer(t, plainHTTP, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-rel:
		}
	})
	tr := newTransport(t, nil, func(s *soap.TransportSettings) { s.ResponseHeaderTimeout = 50 * time.Millisecond })
	_, err := (&http.Client{Transport: tr}).Post(srv.URL, "application/soap+xml", strings.NewReader("<req/>"))
	var ue *url.Error
	require.ErrorAs(t, err, &ue)
	assert.True(t, ue.Timeout())
	var te *soap.TimeoutError
	assert.ErrorAs(t, err, &te)
}

func TestTransportTLSHandshakeTimeout(t *testing.T) {
	// A TCP server that never answers the ClientHello.
	srv := startRaw(t, nil, func(c net.Conn, br *bufio.Reader) { _, _ = io.Copy(io.Discard, br) })
	const limit = 100 * time.Millisecond
	tr := newTransport(t, &tls.Config{MinVersion: tls.VersionTLS12}, func(s *soap.TransportSettings) { s.TLSHandshakeTimeout = limit })
	start := time.Now()
	_, err := tr.RoundTrip(newRequest(t, context.Background(), http.MethodPost, "https"+strings.TrimPrefix(srv.URL, "http"), "<req/>"))
	require.Error(t, err)
	assert.Less(t, time.Since(start), waitLimit/2)
	assert.NotErrorIs(t, err, context.DeadlineExceeded, "the caller's context did not end, got %v", err)
	var te *soap.TimeoutError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, limit, te.Limit)
	assert.True(t, te.Timeout())
	assert.Contains(t, te.Awaiting, "TLS handshake")
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
}

// --- TLS and ALPN ----------------------------------------------------------------------------------

func TestTransportResponseCarriesTLSState(t *testing.T) {
	var peerCN []string
	var mu sync.Mutex
	srv := startServer(t, mutualTLS, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			peerCN = append(peerCN, r.TLS.PeerCertificates[0].Subject.CommonName)
		}
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	})
	tr := newTransport(t, srv.clientTLS)
	for i := range 2 { // a new connection, then the same one reused
		res, _ := get(t, tr, srv.URL)
		require.NotNil(t, res.TLS, "request %d", i)
		assert.True(t, res.TLS.HandshakeComplete)
		assert.GreaterOrEqual(t, res.TLS.Version, uint16(tls.VersionTLS12))
		require.NotEmpty(t, res.TLS.PeerCertificates)
		assert.True(t, res.TLS.PeerCertificates[0].Equal(srv.pki.Server.Cert), "the gateway's certificate")
		assert.NotEmpty(t, res.TLS.VerifiedChains)
	}
	assert.Equal(t, int32(1), srv.newConns.Load())
	mu.Lock()
	assert.Equal(t, []string{clientCN, clientCN}, peerCN, "the server saw the client certificate")
	mu.Unlock()

	plain := startServer(t, plainHTTP, echo)
	res, _ := get(t, newTransport(t, nil), plain.URL)
	assert.Nil(t, res.TLS, "no TLS state over plain HTTP")
}

func TestTransportALPN(t *testing.T) {
	tests := []struct {
		name          string
		clientProtos  []string // the caller's tls.Config.NextProtos
		serverProtos  []string
		wantNegotiate string
		wantErr       string
	}{
		{name: "h2-only server falls back to no ALPN", serverProtos: []string{"h2"}, wantNegotiate: ""},
		{name: "caller asking for h2 still offers only http/1.1", clientProtos: []string{"h2", "http/1.1"},
			serverProtos: []string{"h2", "http/1.1"}, wantNegotiate: "http/1.1"},
		{name: "caller asking for h2 against an h2-only server", clientProtos: []string{"h2"},
			serverProtos: []string{"h2"}, wantNegotiate: ""},
		{name: "server without a common protocol refuses", serverProtos: []string{"spdy/3.1"},
			wantErr: "no application protocol"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			offered := make(chan []string, 8)
			var mu sync.Mutex
			var protos []string
			srv := startServer(t, mutualTLS, func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				protos = append(protos, r.Proto)
				mu.Unlock()
				w.WriteHeader(http.StatusAccepted)
			}, func(s *httptest.Server) {
				s.EnableHTTP2 = true
				s.TLS.NextProtos = tt.serverProtos
				s.TLS.GetConfigForClient = func(hi *tls.ClientHelloInfo) (*tls.Config, error) {
					offered <- hi.SupportedProtos
					return nil, nil
				}
			})
			cfg := srv.clientTLS.Clone()
			cfg.NextProtos = tt.clientProtos
			tr := newTransport(t, cfg)
			res, err := tr.RoundTrip(newRequest(t, context.Background(), http.MethodPost, srv.URL, "<req/>"))
			select {
			case got := <-offered:
				assert.Equal(t, []string{"http/1.1"}, got, "the transport offers http/1.1 and nothing else")
			case <-time.After(waitLimit):
				require.FailNow(t, "no ClientHello")
			}
			mu.Lock()
			defer mu.Unlock()
			assert.Equal(t, tt.clientProtos, cfg.NextProtos, "the caller's configuration is not changed")
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Nil(t, res)
				assert.Empty(t, protos, "nothing was spoken")
				return
			}
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, res.Body)
			require.NoError(t, res.Body.Close())
			assert.Equal(t, tt.wantNegotiate, res.TLS.NegotiatedProtocol)
			assert.Equal(t, 1, res.ProtoMajor)
			assert.Equal(t, []string{"HTTP/1.1"}, protos)
		})
	}
}

// --- the net/http fallback -------------------------------------------------------------------------

func TestTransportUnknownLengthBodyUsesFallback(t *testing.T) {
	for _, m := range allModes {
		t.Run(m.String(), func(t *testing.T) {
			var mu sync.Mutex
			var chunked []bool
			srv := startServer(t, m, func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				chunked = append(chunked, len(r.TransferEncoding) > 0 && r.TransferEncoding[0] == "chunked")
				mu.Unlock()
				echo(w, r)
			})
			tr := newTransport(t, srv.clientTLS)
			res1, _ := roundTrip(t, tr, newRequest(t, context.Background(), http.MethodPost, srv.URL, "<known/>"))

			body := &closeTracker{Reader: strings.NewReader("<unknown-length/>")}
			req := newRequest(t, context.Background(), http.MethodPost, srv.URL, "")
			req.Body, req.ContentLength = body, -1
			require.Nil(t, req.GetBody)
			res2, got := roundTrip(t, tr, req)
			assert.Equal(t, "<unknown-length/>", got)
			assert.True(t, body.closed.Load())
			if m != plainHTTP {
				require.NotNil(t, res2.TLS, "the fallback uses the same TLS configuration")
				assert.Equal(t, "http/1.1", res2.TLS.NegotiatedProtocol)
			}

			res3, _ := roundTrip(t, tr, newRequest(t, context.Background(), http.MethodPost, srv.URL, "<known/>"))
			assert.Equal(t, res1.Header.Get("X-Remote"), res3.Header.Get("X-Remote"), "known lengths share a connection")
			assert.NotEqual(t, res1.Header.Get("X-Remote"), res2.Header.Get("X-Remote"), "the unknown length went its own way")
			assert.Equal(t, int32(2), srv.newConns.Load())
			mu.Lock()
			assert.Equal(t, []bool{false, true, false}, chunked)
			mu.Unlock()
		})
	}
}

// proxy is an HTTP proxy: absolute-form requests are forwarded, CONNECT is tunnelled.
type proxy struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string // method and target
	wg   sync.WaitGroup
}

func startProxy(t *testing.T) *proxy {
	p := &proxy{}
	fwd := &http.Transport{Proxy: nil}
	var tunnels sync.Map
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		if r.Method == http.MethodConnect {
			p.seen = append(p.seen, "CONNECT "+r.Host)
		} else {
			p.seen = append(p.seen, r.Method+" "+r.URL.String())
		}
		p.mu.Unlock()
		if r.Method != http.MethodConnect {
			out := r.Clone(r.Context())
			out.RequestURI = ""
			res, err := fwd.RoundTrip(out)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer res.Body.Close()
			for k, v := range res.Header {
				w.Header()[k] = v
			}
			w.WriteHeader(res.StatusCode)
			_, _ = io.Copy(w, res.Body)
			return
		}
		dst, err := net.Dial("tcp", r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			_ = dst.Close()
			return
		}
		tunnels.Store(c, dst)
		_, _ = io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
		p.wg.Add(2)
		go func() {
			defer p.wg.Done()
			_, _ = io.Copy(dst, brw.Reader)
			_ = dst.Close()
		}()
		go func() {
			defer p.wg.Done()
			_, _ = io.Copy(c, dst)
			_ = c.Close()
		}()
	}))
	t.Cleanup(func() {
		p.Close()
		fwd.CloseIdleConnections()
		tunnels.Range(func(c, dst any) bool {
			_ = c.(net.Conn).Close()
			_ = dst.(net.Conn).Close()
			return true
		})
		p.wg.Wait()
	})
	return p
}

func TestTransportThroughProxy(t *testing.T) {
	for _, m := range allModes {
		t.Run(m.String(), func(t *testing.T) {
			srv := startServer(t, m, echo)
			px := startProxy(t)
			pu, err := url.Parse(px.URL)
			require.NoError(t, err)
			var asked atomic.Int32
			tr := newTransport(t, srv.clientTLS, func(s *soap.TransportSettings) {
				s.Proxy = func(r *http.Request) (*url.URL, error) {
					asked.Add(1)
					return pu, nil
				}
			})
			for i := range 3 {
				body := "<via-proxy n='" + strconv.Itoa(i) + "'/>"
				res, got := roundTrip(t, tr, newRequest(t, context.Background(), http.MethodPost, srv.URL+"/es4", body))
				assert.Equal(t, http.StatusOK, res.StatusCode)
				assert.Equal(t, body, got)
				if m != plainHTTP {
					require.NotNil(t, res.TLS)
					assert.NotEmpty(t, res.TLS.PeerCertificates)
				}
			}
			assert.Positive(t, asked.Load())
			host := strings.TrimPrefix(strings.TrimPrefix(srv.URL, "https://"), "http://")
			px.mu.Lock()
			defer px.mu.Unlock()
			if m == plainHTTP {
				assert.Equal(t, []string{"POST " + srv.URL + "/es4", "POST " + srv.URL + "/es4", "POST " + srv.URL + "/es4"}, px.seen)
			} else {
				assert.Equal(t, []string{"CONNECT " + host}, px.seen, "one tunnel, kept alive")
			}
		})
	}
}

func TestTransportProxyError(t *testing.T) {
	srv := startServer(t, plainHTTP, echo)
	boom := errors.New("no proxy for you")
	tr := newTransport(t, nil, func(s *soap.TransportSettings) {
		s.Proxy = func(*http.Request) (*url.URL, error) { return nil, boom }
	})
	body := &closeTracker{Reader: strings.NewReader("<req/>")}
	req := newRequest(t, context.Background(), http.MethodPost, srv.URL, "")
	req.Body = body
	_, err := tr.RoundTrip(req)
	require.ErrorIs(t, err, boom)
	assert.True(t, body.closed.Load())
	assert.Zero(t, srv.newConns.Load())
}

func TestTransportProxyErrorIsNotRemembered(t *testing.T) {
	srv := startServer(t, plainHTTP, echo)
	var calls atomic.Int32
	tr := newTransport(t, nil, func(s *soap.TransportSettings) {
		s.Proxy = func(*http.Request) (*url.URL, error) {
			if calls.Add(1) == 1 {
				return nil, errors.New("proxy configuration not ready")
			}
			return nil, nil
		}
	})
	_, err := tr.RoundTrip(newRequest(t, context.Background(), http.MethodPost, srv.URL, "<req/>"))
	require.Error(t, err)
	res, got := roundTrip(t, tr, newRequest(t, context.Background(), http.MethodPost, srv.URL, "<req/>"))
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "<req/>", got)
	_, _ = roundTrip(t, tr, newRequest(t, context.Background(), http.MethodPost, srv.URL, "<req/>"))
	assert.Equal(t, int32(2), calls.Load(), "asked again after the failure, then remembered")
}

func TestTransportFallbackHonoursAttemptTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := startServer(t, plainHTTP, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-release // headers sent, the body never comes
	})
	t.Cleanup(func() { close(release) })
	tr := newTransport(t, nil, func(s *soap.TransportSettings) { s.AttemptTimeout = 100 * time.Millisecond })
	req := newRequest(t, context.Background(), http.MethodPost, srv.URL, "")
	req.Body, req.ContentLength = io.NopCloser(strings.NewReader("<unknown-length/>")), -1 // the net/http path
	res, err := tr.RoundTrip(req)
	require.NoError(t, err)
	defer res.Body.Close()
	_, err = io.ReadAll(res.Body)
	require.Error(t, err, "the attempt's deadline ends the body read")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

// --- misuse ----------------------------------------------------------------------------------------

func TestTransportUnsupportedURL(t *testing.T) {
	tests := []struct {
		name string
		url  *url.URL
	}{
		{"ftp", &url.URL{Scheme: "ftp", Host: "gw.example", Path: "/x"}},
		{"file", &url.URL{Scheme: "file", Path: "/etc/passwd"}},
		{"ws", &url.URL{Scheme: "ws", Host: "gw.example"}},
		{"no scheme", &url.URL{Host: "gw.example", Path: "/es2"}},
		{"http without host", &url.URL{Scheme: "http", Path: "/es2"}},
		{"https without host", &url.URL{Scheme: "https"}},
		{"nil URL", nil},
	}
	tr := newTransport(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := &closeTracker{Reader: strings.NewReader("<req/>")}
			req := &http.Request{Method: http.MethodPost, URL: tt.url, Header: http.Header{}, Body: body, ContentLength: 6}
			req = req.WithContext(context.Background())
			res, err := tr.RoundTrip(req)
			assert.Nil(t, res)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "unsupported URL")
			if tt.url != nil {
				assert.Contains(t, err.Error(), tt.url.String())
			}
			assert.True(t, body.closed.Load(), "the body is closed on every error")
		})
	}
}

func TestTransportDialFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now
	tr := newTransport(t, nil)
	body := &closeTracker{Reader: strings.NewReader("<req/>")}
	req := newRequest(t, context.Background(), http.MethodPost, "http://"+addr, "")
	req.Body, req.ContentLength = body, 6
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("<req/>")), nil }
	_, err = tr.RoundTrip(req)
	var op *net.OpError
	require.ErrorAs(t, err, &op)
	assert.Equal(t, "dial", op.Op)
	assert.True(t, body.closed.Load())
}

// --- through soap.Client ---------------------------------------------------------------------------

func TestClientKeepsConnectionAlive(t *testing.T) {
	srv := startServer(t, mutualTLS, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	})
	c := soap.NewClient(soap.WithTLSConfig(srv.clientTLS))
	for range 20 {
		resp, err := c.Post(context.Background(), srv.URL+"/es4", "urn:action", []byte("<Envelope/>"))
		require.NoError(t, err)
		assert.Equal(t, http.StatusAccepted, resp.StatusCode)
		assert.Equal(t, 1, resp.Attempts)
	}
	assert.Equal(t, int32(1), srv.newConns.Load())
}

// waitSent waits until a test server has written what it sends unasked (sent is closed), then a little
// longer for those bytes to cross loopback into the client's socket, where the idle check looks.
func waitSent(t *testing.T, sent <-chan struct{}) {
	t.Helper()
	select {
	case <-sent:
	case <-time.After(10 * time.Second):
		t.Fatal("the server never wrote its unasked bytes")
	}
	time.Sleep(20 * time.Millisecond)
}

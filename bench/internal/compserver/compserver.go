// Package compserver is the loopback SM-SR every client of the peer comparison talks to: TLS 1.3, ECDSA
// P-256 mutual TLS (certificates from mtlstest), HTTP/1.1 keep-alive, and answers taken from the esimgw
// mock (gatewaytest) so that every peer decodes the very bytes esimgw's mock would send. Each answer goes
// out in one write (one TLS record), so that the shared machine spends as little as it can on the server.
//
//   - ES4-GetEISRequest: 200 with the mock's ES4-GetEISResponse (an EIS with two profiles), its RelatesTo
//     set to the request's MessageID, in the SOAP version the request used (gowsdl speaks only 1.1).
//   - ES4-EnableProfileRequest: 202 empty, then the callback ES4-EnableProfileResponse (EXECUTED_SUCCESS,
//     RelatesTo the request's MessageID) posted to its ReplyTo over keep-alive mutual TLS. ReplyTo must be
//     a loopback address: the server posts nowhere else. The callback is posted by the goroutine serving
//     the request's connection once the 202 is written, over a connection of that goroutine's own: the
//     envelope is built once and only its To, MessageID and RelatesTo filled in, the request written in
//     one Write, and of the answer only status, headers and the body its length announces read. The
//     server's share of an async call is thus as small as its share of a sync one, for every peer alike.
//
// It keeps no state per request, so every peer sees the same server at every moment of the run.
package compserver

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/es4"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/internal/xmltext"
	"github.com/esimgw/esimgw/mtls/mtlstest"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// Namespaces of the two SOAP versions.
const (
	NS12 = "http://www.w3.org/2003/05/soap-envelope"
	NS11 = "http://schemas.xmlsoap.org/soap/envelope/"
)

// EID is the eUICC every peer asks about (the mock's seeded default).
const EID = gatewaytest.DefaultEID

// Server is the comparison server.
type Server struct {
	PKI    *mtlstest.PKI
	URL    string // https://localhost:port/esim-messaging/3/ES4/ES4SmSrService
	ln     net.Listener
	logger *slog.Logger

	getEIS12, getEIS11 [2][]byte // response split around the escaped RelatesTo value
	callbackAction     string
	cbTLS              *tls.Config
	cbTemplate         [4][]byte // the callback envelope split around To, MessageID and RelatesTo

	wg      sync.WaitGroup // connections
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	ctx     context.Context
	cancel  context.CancelFunc
	cbFails sync.Map // error text -> count, for the report
}

// New makes a PKI in dir, captures the mock's GetEIS response and listens on 127.0.0.1:0.
func New(dir string, logger *slog.Logger) (*Server, error) {
	pki, err := mtlstest.NewPKI(dir, "operator")
	if err != nil {
		return nil, err
	}
	s := &Server{PKI: pki, logger: logger}
	if err := s.capture(); err != nil {
		return nil, fmt.Errorf("compserver: capturing the mock's GetEIS response: %w", err)
	}
	fn, ok := rps.FunctionByName(rps.ES4, "EnableProfile")
	if !ok {
		return nil, errors.New("compserver: no ES4 EnableProfile in the function table")
	}
	s.callbackAction = fn.ResponseAction
	cfg := pki.ServerTLSConfig()
	cfg.MinVersion = tls.VersionTLS13
	s.ln, err = tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		return nil, err
	}
	ccfg := pki.ClientTLSConfig()
	ccfg.MinVersion = tls.VersionTLS13
	ccfg.NextProtos = []string{"http/1.1"}
	s.cbTLS = ccfg
	if err := s.callbackTemplate(); err != nil {
		return nil, err
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	_, port, _ := net.SplitHostPort(s.ln.Addr().String())
	s.URL = "https://localhost:" + port + "/esim-messaging/3/ES4/ES4SmSrService"
	s.conns = map[net.Conn]struct{}{}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Close stops the server and waits for its connections and the callbacks in flight.
func (s *Server) Close() {
	_ = s.ln.Close()
	s.cancel()
	s.mu.Lock()
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// CallbackFailures reports failed callback posts by error text.
func (s *Server) CallbackFailures() map[string]int {
	out := map[string]int{}
	s.cbFails.Range(func(k, v any) bool { out[k.(string)] = int(v.(*atomic.Int64).Load()); return true })
	return out
}

// capture calls GetEIS on a throw-away mock through the es4 client and keeps the raw response.
func (s *Server) capture() error {
	gw, err := gatewaytest.New()
	if err != nil {
		return err
	}
	defer gw.Close()
	rec := &recorder{next: soap.NewTransport(gw.ClientTLSConfig())}
	c, err := es4.NewClient(gw.ES4URL, esimgw.WithEntity(gw.OperatorID, "bench"), esimgw.WithPeerEntityID(gw.SMSRID),
		esimgw.WithHTTPClient(&http.Client{Transport: rec}), esimgw.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return err
	}
	if _, err := c.GetEIS(context.Background(), EID); err != nil {
		return err
	}
	mid, _, _, _, err := scan(rec.req)
	if err != nil {
		return err
	}
	esc := string(xmltext.AppendText(nil, mid))
	i := bytes.Index(rec.resp, []byte(">"+esc+"<"))
	if i < 0 {
		return errors.New("the response does not repeat the request's MessageID")
	}
	pre, post := rec.resp[:i+1], rec.resp[i+1+len(esc):]
	s.getEIS12 = [2][]byte{pre, post}
	s.getEIS11 = [2][]byte{bytes.ReplaceAll(pre, []byte(NS12), []byte(NS11)), post}
	return nil
}

type recorder struct {
	next      http.RoundTripper
	req, resp []byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	r.req = body
	req.Body = io.NopCloser(bytes.NewReader(body))
	res, err := r.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	r.resp, err = io.ReadAll(res.Body)
	res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(r.resp))
	return res, err
}

// scan reads what the server needs from a request of either SOAP version: MessageID, ReplyTo address,
// body element name and envelope namespace.
func scan(data []byte) (mid, replyTo, body, ns string, err error) {
	d := xmltext.NewDecoder(data, xmltext.Limits{})
	if err = d.Root(); err != nil {
		return
	}
	ns = string(d.Space())
	for {
		var ok bool
		if ok, err = d.NextChild(); err != nil || !ok {
			return
		}
		switch {
		case d.LocalIs("Header"):
			for {
				if ok, err = d.NextChild(); err != nil {
					return
				}
				if !ok {
					break
				}
				switch {
				case d.LocalIs("MessageID"):
					var t []byte
					if t, err = d.Text(); err != nil {
						return
					}
					mid = string(bytes.TrimSpace(t))
				case d.LocalIs("ReplyTo"):
					for {
						if ok, err = d.NextChild(); err != nil {
							return
						}
						if !ok {
							break
						}
						if !d.LocalIs("Address") {
							if err = d.Skip(); err != nil {
								return
							}
							continue
						}
						var t []byte
						if t, err = d.Text(); err != nil {
							return
						}
						replyTo = string(bytes.TrimSpace(t))
					}
				default:
					if err = d.Skip(); err != nil {
						return
					}
				}
			}
		case d.LocalIs("Body"):
			if ok, err = d.NextChild(); err != nil || !ok {
				return
			}
			body = string(d.Local())
			return
		default:
			if err = d.Skip(); err != nil {
				return
			}
		}
	}
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.ctx.Err() != nil {
			s.mu.Unlock()
			_ = c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serve(c)
	}
}

// serve is a minimal HTTP/1.1 server loop: net/http's parser for requests, and each answer written with
// one Write, so one TLS record. net/http's server writes an answer of this size (4.3 KB) in two records
// and two system calls, which both sides of every exchange pay for; the comparison is about clients, so
// the server is kept as cheap as it can be, for every peer alike.
func (s *Server) serve(c net.Conn) {
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		_ = c.Close()
		s.wg.Done()
	}()
	if tc, ok := c.(*tls.Conn); ok {
		hctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			s.logger.Warn("compserver: TLS handshake", "remote", c.RemoteAddr().String(), "error", err)
			return
		}
	}
	br := bufio.NewReaderSize(c, 16<<10)
	var in, out []byte
	cb := callbackConn{s: s}
	defer cb.close()
	for {
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Minute)) // idle keep-alive limit
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		in, err = readAll(in[:0], req.Body)
		if err != nil {
			return
		}
		keep := !req.Close && req.ProtoAtLeast(1, 1)
		var post *callbackPost
		out, post = s.answer(out[:0], req, in, keep)
		if _, err := c.Write(out); err != nil || !keep {
			if post != nil {
				s.postCallback(&cb, post)
			}
			return
		}
		if post != nil {
			// After the 202, on this goroutine: an asynchronous request's callback follows its
			// acceptance, as an SM-SR's does, and this connection's next request waits for it (its
			// caller waits for the callback anyway).
			s.postCallback(&cb, post)
		}
	}
}

func readAll(dst []byte, r io.Reader) ([]byte, error) {
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if len(dst) > 1<<20 {
			return dst, errors.New("request over 1 MiB")
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

// callbackPost is a callback to post once the 202 is written.
type callbackPost struct {
	u                  *url.URL
	replyTo, relatesTo string
}

// parseReplyTo makes the callback post of a ReplyTo address, which must be a loopback https URL.
func parseReplyTo(replyTo string) (*callbackPost, error) {
	u, err := url.Parse(replyTo)
	if err != nil || u.Scheme != "https" || !loopback(u.Hostname()) {
		return nil, errors.New("ReplyTo must be a loopback https URL, got " + replyTo)
	}
	return &callbackPost{u: u, replyTo: replyTo}, nil
}

// answer appends the whole HTTP answer to req (body in) to out, and returns the callback to post after it.
func (s *Server) answer(out []byte, req *http.Request, in []byte, keep bool) ([]byte, *callbackPost) {
	mid, replyTo, body, ns, err := scan(in)
	if err != nil || mid == "" {
		return response(out, http.StatusBadRequest, "text/plain", fmt.Sprintf("bad request: %v (MessageID %q)", err, mid), keep), nil
	}
	switch body {
	case "ES4-GetEISRequest":
		tpl, ct := s.getEIS12, `application/soap+xml; charset=utf-8; action="http://gsma.com/ES4/ProfileManagement/ES4-GetEISResponse"`
		if ns == NS11 {
			tpl, ct = s.getEIS11, `text/xml; charset=utf-8`
		}
		escMID := xmltext.AppendText(nil, mid)
		out = head(out, http.StatusOK, ct, len(tpl[0])+len(escMID)+len(tpl[1]), keep)
		return append(append(append(out, tpl[0]...), escMID...), tpl[1]...), nil
	case "ES4-EnableProfileRequest":
		p, err := parseReplyTo(replyTo)
		if err != nil {
			return response(out, http.StatusBadRequest, "text/plain", err.Error(), keep), nil
		}
		p.relatesTo = mid
		return head(out, http.StatusAccepted, "", 0, keep), p
	default:
		return response(out, http.StatusBadRequest, "text/plain", "unsupported body "+body, keep), nil
	}
}

func head(out []byte, status int, contentType string, length int, keep bool) []byte {
	out = fmt.Appendf(out, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	if contentType != "" {
		out = append(append(append(out, "Content-Type: "...), contentType...), "\r\n"...)
	}
	out = append(strconv.AppendInt(append(out, "Content-Length: "...), int64(length), 10), "\r\n"...)
	if !keep {
		out = append(out, "Connection: close\r\n"...)
	}
	return append(out, "\r\n"...)
}

func response(out []byte, status int, contentType, body string, keep bool) []byte {
	return append(head(out, status, contentType, len(body), keep), body...)
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Markers the callback template is built with, replaced by each callback's values (escaped).
const (
	markTo  = "@@compserver-to@@"
	markMID = "@@compserver-messageid@@"
	markRel = "@@compserver-relatesto@@"
)

// callbackTemplate builds the ES4-EnableProfileResponse callback envelope once (EXECUTED_SUCCESS), split
// around its To, MessageID and RelatesTo values.
func (s *Server) callbackTemplate() error {
	resp := &rps.ES4EnableProfileResponse{}
	resp.FunctionExecutionStatus.Status = rps.StatusTypeEXECUTED_SUCCESS
	h := &soap.Header{
		From:      "https://localhost?EntityId=" + gatewaytest.DefaultSMSRID,
		To:        markTo,
		MessageID: markMID,
		Action:    s.callbackAction,
		RelatesTo: markRel,
	}
	env := soap.AppendEnvelope(nil, h, resp)
	var parts [4][]byte
	rest := env
	for i, mark := range []string{markTo, markMID, markRel} {
		k := bytes.Index(rest, []byte(mark))
		if k < 0 {
			return fmt.Errorf("compserver: callback template lacks %s", mark)
		}
		parts[i], rest = rest[:k], rest[k+len(mark):]
	}
	parts[3] = rest
	s.cbTemplate = parts
	return nil
}

// callbackConn is a serving goroutine's keep-alive connection to the ReplyTo it posts callbacks to: one
// TLS connection per client connection, reused while the address stays the same.
type callbackConn struct {
	s    *Server // Close closes conn too (it is in s.conns)
	addr string
	conn net.Conn // a *tls.Conn
	br   *bufio.Reader
	buf  []byte // the request
	body []byte // its envelope
}

func (cc *callbackConn) close() {
	if cc.conn != nil {
		if cc.s != nil {
			cc.s.mu.Lock()
			delete(cc.s.conns, cc.conn)
			cc.s.mu.Unlock()
		}
		_ = cc.conn.Close()
		cc.conn, cc.br, cc.addr = nil, nil, ""
	}
}

// postCallback posts the callback of p over cc: the whole request in one write (one TLS record), and of
// the answer the status line, the headers and the body its Content-Length (or chunks) announce. A failure
// on a reused connection (the peer closed it while idle) is tried once more on a new one.
func (s *Server) postCallback(cc *callbackConn, p *callbackPost) {
	addr := p.u.Host
	if p.u.Port() == "" {
		addr = net.JoinHostPort(p.u.Hostname(), "443")
	}
	cc.buf = s.callbackRequest(cc.buf[:0], &cc.body, p)
	for attempt := 0; ; attempt++ {
		reused := cc.conn != nil && cc.addr == addr
		if !reused {
			cc.close()
			if err := cc.dial(s.ctx, addr, p.u.Hostname(), s.cbTLS); err != nil {
				s.fail(err)
				return
			}
		}
		status, err := cc.exchange(cc.buf)
		if err == nil {
			if status >= 300 {
				s.fail(fmt.Errorf("HTTP %d", status))
			}
			return
		}
		cc.close()
		if !reused || attempt > 0 || s.ctx.Err() != nil {
			s.fail(err)
			return
		}
	}
}

// callbackRequest appends the HTTP request of p's callback to b, building its envelope in body first.
func (s *Server) callbackRequest(b []byte, body *[]byte, p *callbackPost) []byte {
	t := &s.cbTemplate
	var mid [256]byte
	midText := soap.NewMessageID(gatewaytest.DefaultSMSRID, time.Now()).AppendTo(mid[:0])
	env := append((*body)[:0], t[0]...)
	env = append(xmltext.AppendText(env, p.replyTo), t[1]...)
	env = append(appendTextBytes(env, midText), t[2]...)
	env = append(xmltext.AppendText(env, p.relatesTo), t[3]...)
	*body = env
	b = append(b, "POST "...)
	b = append(b, p.u.RequestURI()...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, p.u.Host...)
	b = append(b, "\r\nContent-Type: application/soap+xml; charset=utf-8; action=\""...)
	b = append(b, s.callbackAction...)
	b = append(b, "\"\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(env)), 10)
	b = append(b, "\r\n\r\n"...)
	return append(b, env...)
}

// appendTextBytes is xmltext.AppendText of a MessageID built on the stack: only '&' needs escaping there
// (MessageIDs are URIs: no '<', and '>' needs none).
func appendTextBytes(b, v []byte) []byte {
	for {
		i := bytes.IndexByte(v, '&')
		if i < 0 {
			return append(b, v...)
		}
		b = append(append(b, v[:i]...), "&amp;"...)
		v = v[i+1:]
	}
}

func (cc *callbackConn) dial(ctx context.Context, addr, host string, cfg *tls.Config) error {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	d := tls.Dialer{Config: cfg.Clone()}
	d.Config.ServerName = host
	c, err := d.DialContext(dctx, "tcp", addr)
	if err != nil {
		return err
	}
	cc.s.mu.Lock()
	if cc.s.ctx.Err() != nil {
		cc.s.mu.Unlock()
		_ = c.Close()
		return cc.s.ctx.Err()
	}
	cc.s.conns[c] = struct{}{}
	cc.s.mu.Unlock()
	cc.addr, cc.conn, cc.br = addr, c, bufio.NewReaderSize(c, 4<<10)
	return nil
}

// exchange writes req and reads the answer: its status, and the body discarded.
func (cc *callbackConn) exchange(req []byte) (int, error) {
	_ = cc.conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := cc.conn.Write(req); err != nil {
		return 0, err
	}
	line, err := cc.br.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, fmt.Errorf("compserver: callback answer %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, fmt.Errorf("compserver: callback answer %q", line)
	}
	length, chunked, closing := int64(0), false, false
	for {
		line, err := cc.br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		h := bytes.TrimRight(line, "\r\n")
		if len(h) == 0 {
			break
		}
		k, v, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			continue
		}
		v = bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(k, []byte("Content-Length")):
			if length, err = strconv.ParseInt(string(v), 10, 64); err != nil || length < 0 {
				return 0, fmt.Errorf("compserver: callback answer Content-Length %q", v)
			}
		case bytes.EqualFold(k, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(v, []byte("chunked"))
		case bytes.EqualFold(k, []byte("Connection")):
			closing = bytes.EqualFold(v, []byte("close"))
		}
	}
	if chunked {
		for {
			line, err := cc.br.ReadSlice('\n')
			if err != nil {
				return 0, err
			}
			size, _, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(";"))
			n, err := strconv.ParseInt(string(size), 16, 64)
			if err != nil || n < 0 {
				return 0, fmt.Errorf("compserver: callback answer chunk %q", line)
			}
			if _, err := cc.br.Discard(int(n) + 2); err != nil { // the chunk and its CRLF
				return 0, err
			}
			if n == 0 {
				break // no trailers from the servers the peers run
			}
		}
	} else if _, err := cc.br.Discard(int(length)); err != nil {
		return 0, err
	}
	if closing || status >= 300 {
		cc.close()
	}
	return status, nil
}

func (s *Server) fail(err error) {
	msg := err.Error()
	if len(msg) > 120 {
		msg = msg[:120]
	}
	v, _ := s.cbFails.LoadOrStore(msg, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

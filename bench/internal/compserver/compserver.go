// Package compserver is the loopback SM-SR every client of the peer comparison talks to: TLS 1.3, ECDSA
// P-256 mutual TLS (certificates from mtlstest), HTTP/1.1 keep-alive, and answers taken from the esimgw
// mock (gatewaytest) so that every peer decodes the very bytes esimgw's mock would send. Each answer goes
// out in one write (one TLS record), so that the shared machine spends as little as it can on the server.
//
//   - ES4-GetEISRequest: 200 with the mock's ES4-GetEISResponse (an EIS with two profiles), its RelatesTo
//     set to the request's MessageID, in the SOAP version the request used (gowsdl speaks only 1.1).
//   - ES4-EnableProfileRequest: 202 empty, then the callback ES4-EnableProfileResponse (EXECUTED_SUCCESS,
//     RelatesTo the request's MessageID) posted to its ReplyTo over keep-alive mutual TLS. ReplyTo must be
//     a loopback address: the server posts nowhere else.
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
	cb     http.RoundTripper
	logger *slog.Logger

	getEIS12, getEIS11 [2][]byte // response split around the escaped RelatesTo value
	callbackAction     string

	wg      sync.WaitGroup // connections and callbacks
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
	s.cb = soap.NewTransportWith(ccfg, soap.TransportSettings{AttemptTimeout: 30 * time.Second})
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
		out = s.answer(out[:0], req, in, keep)
		if _, err := c.Write(out); err != nil || !keep {
			return
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

// answer appends the whole HTTP answer to req (body in) to out.
func (s *Server) answer(out []byte, req *http.Request, in []byte, keep bool) []byte {
	mid, replyTo, body, ns, err := scan(in)
	if err != nil || mid == "" {
		return response(out, http.StatusBadRequest, "text/plain", fmt.Sprintf("bad request: %v (MessageID %q)", err, mid), keep)
	}
	switch body {
	case "ES4-GetEISRequest":
		tpl, ct := s.getEIS12, `application/soap+xml; charset=utf-8; action="http://gsma.com/ES4/ProfileManagement/ES4-GetEISResponse"`
		if ns == NS11 {
			tpl, ct = s.getEIS11, `text/xml; charset=utf-8`
		}
		escMID := xmltext.AppendText(nil, mid)
		out = head(out, http.StatusOK, ct, len(tpl[0])+len(escMID)+len(tpl[1]), keep)
		return append(append(append(out, tpl[0]...), escMID...), tpl[1]...)
	case "ES4-EnableProfileRequest":
		u, err := url.Parse(replyTo)
		if err != nil || !loopback(u.Hostname()) {
			return response(out, http.StatusBadRequest, "text/plain", "ReplyTo must be a loopback https URL, got "+replyTo, keep)
		}
		s.wg.Add(1)
		go s.callback(replyTo, mid)
		return head(out, http.StatusAccepted, "", 0, keep)
	default:
		return response(out, http.StatusBadRequest, "text/plain", "unsupported body "+body, keep)
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

func (s *Server) callback(replyTo, relatesTo string) {
	defer s.wg.Done()
	resp := &rps.ES4EnableProfileResponse{}
	resp.FunctionExecutionStatus.Status = rps.StatusTypeEXECUTED_SUCCESS
	h := &soap.Header{
		From:      "https://localhost?EntityId=" + gatewaytest.DefaultSMSRID,
		To:        replyTo,
		MessageID: soap.NewMessageID(gatewaytest.DefaultSMSRID, time.Now()).String(),
		Action:    s.callbackAction,
		RelatesTo: relatesTo,
	}
	payload := soap.AppendEnvelope(nil, h, resp)
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, replyTo, bytes.NewReader(payload))
	if err != nil {
		s.fail(err)
		return
	}
	req.Header.Set("Content-Type", `application/soap+xml; charset=utf-8; action="`+s.callbackAction+`"`)
	res, err := s.cb.RoundTrip(req)
	if err != nil {
		s.fail(err)
		return
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode >= 300 {
		s.fail(fmt.Errorf("HTTP %s", res.Status))
	}
}

func (s *Server) fail(err error) {
	msg := err.Error()
	if len(msg) > 120 {
		msg = msg[:120]
	}
	v, _ := s.cbFails.LoadOrStore(msg, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

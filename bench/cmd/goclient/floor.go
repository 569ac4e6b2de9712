package main

// The transport floor of bench/peers.sh: keep-alive mutual-TLS POSTs of the very bytes esimgw puts on the
// wire (HTTP request line, headers and envelope, captured from one es4 call at start-up), with no XML and
// no correlation on the client side. Whatever esimgw spends beyond these peers is its own cost; what
// these peers spend is the server's, the TLS records' and the kernel's, which no client can avoid.
//
//   - rawtls: one TLS connection per caller, the prebuilt request written with one Write, and of the
//     answer only the status line, the headers and Content-Length bytes of body read (the body unparsed).
//     Async: the same request with a ReplyTo naming a raw TLS listener of this process, which reads each
//     callback the same minimal way and answers a prebuilt 202; a caller's operation is done when the
//     server's 202 has arrived and the listener has acknowledged one callback (any one: no correlation).
//   - rawhttp: net/http's client and, for async, its server, with the same prebuilt bytes and headers and
//     bodies discarded: what a Go program gets from the standard library alone.

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
	neturl "net/url"
	"strconv"
	"sync"
	"time"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/bench/internal/compserver"
	"github.com/esimgw/esimgw/es4"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/soap"
)

// captured is one request as esimgw's client wrote it: the whole HTTP/1.1 message and, apart, its body
// and Content-Type (for the net/http peer, which writes its own request line and headers).
type captured struct {
	wire        []byte
	body        []byte
	contentType string
}

// wireRecorder passes requests to next and keeps the last one as written on the wire.
type wireRecorder struct {
	next http.RoundTripper
	last captured
}

func (r *wireRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	_ = req.Body.Close()
	reset := func() {
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	reset()
	var wire bytes.Buffer
	if err := req.Write(&wire); err != nil {
		return nil, err
	}
	reset()
	r.last = captured{wire: wire.Bytes(), body: body, contentType: req.Header.Get("Content-Type")}
	return r.next.RoundTrip(req)
}

// capture makes one call through an es4 client (GetEIS for sync, EnableProfile with replyTo for async)
// and returns the request it wrote.
func capture(ctx context.Context, url string, cfg *tls.Config, scenario, replyTo string) (captured, error) {
	rec := &wireRecorder{next: soap.NewTransport(cfg)}
	quiet := slog.New(slog.DiscardHandler)
	opts := []esimgw.Option{esimgw.WithEntity(gatewaytest.DefaultOperatorID, "bench"),
		esimgw.WithHTTPClient(&http.Client{Transport: rec}), esimgw.WithLogger(quiet)}
	if scenario == "async" {
		opts = append(opts, esimgw.WithReplyTo(replyTo), esimgw.WithDispatcher(esimgw.NewDispatcher(esimgw.WithDispatcherLogger(quiet))))
	}
	c, err := es4.NewClient(url, opts...)
	if err != nil {
		return captured{}, err
	}
	switch scenario {
	case "sync":
		_, err = c.GetEIS(ctx, compserver.EID)
	case "async":
		var op *esimgw.Operation[*esimgw.Result]
		if op, err = c.EnableProfile(ctx, compserver.EID, gatewaytest.DefaultDisabledICCID); err == nil {
			op.Abandon() // its callback goes to the raw listener, which acknowledges it like any other
		}
	default:
		err = fmt.Errorf("no scenario %s", scenario)
	}
	if err != nil {
		return captured{}, fmt.Errorf("capturing the %s request: %w", scenario, err)
	}
	return rec.last, nil
}

// acks counts callbacks acknowledged by a floor listener; an async caller takes one per operation.
type acks chan struct{}

func (a acks) wait(ctx context.Context) error {
	t := time.NewTimer(30 * time.Second)
	defer t.Stop()
	select {
	case <-a:
		return nil
	case <-t.C:
		return errors.New("no callback within 30 s")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// floorPeer returns the call function of peer rawtls or rawhttp, and a function that stops what it started.
func floorPeer(ctx context.Context, peer, scenario, url string, ccfg, scfg *tls.Config) (func(context.Context) error, func(), error) {
	ackc := make(acks, 1<<16)
	stop := func() {}
	replyTo := ""
	if scenario == "async" {
		ln, err := tls.Listen("tcp", "127.0.0.1:0", scfg)
		if err != nil {
			return nil, nil, err
		}
		if peer == "rawtls" {
			go rawListen(ln, ackc)
			stop = func() { _ = ln.Close() }
		} else {
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.WriteHeader(http.StatusAccepted)
				ackc <- struct{}{}
			}), ErrorLog: nil, IdleTimeout: 2 * time.Minute}
			go func() { _ = srv.Serve(ln) }()
			stop = func() { _ = srv.Close() }
		}
		replyTo = "https://" + ln.Addr().String() + "/callbacks"
	}
	req, err := capture(ctx, url, ccfg, scenario, replyTo)
	if err != nil {
		stop()
		return nil, nil, err
	}
	if scenario == "async" {
		// The capture's own callback: take it now so that it does not complete a measured operation.
		if err := ackc.wait(ctx); err != nil {
			stop()
			return nil, nil, fmt.Errorf("capture callback: %w", err)
		}
	}
	want := http.StatusOK
	if scenario == "async" {
		want = http.StatusAccepted
	}
	switch peer {
	case "rawtls":
		u, err := neturl.Parse(url)
		if err != nil {
			stop()
			return nil, nil, err
		}
		cfg := ccfg.Clone()
		cfg.ServerName = u.Hostname()
		cfg.NextProtos = []string{"http/1.1"}
		pool := &rawPool{addr: u.Host, cfg: cfg}
		call := func(ctx context.Context) error {
			c, err := pool.get(ctx)
			if err != nil {
				return err
			}
			status, err := c.exchange(req.wire)
			if err != nil {
				_ = c.conn.Close()
				return err
			}
			pool.put(c)
			if status != want {
				return fmt.Errorf("HTTP %d", status)
			}
			if scenario == "async" {
				return ackc.wait(ctx)
			}
			return nil
		}
		return call, stop, nil
	case "rawhttp":
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: ccfg, MaxIdleConnsPerHost: 1024, IdleConnTimeout: 90 * time.Second}}
		call := func(ctx context.Context) error {
			hr, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(req.body))
			if err != nil {
				return err
			}
			hr.Header.Set("Content-Type", req.contentType)
			res, err := hc.Do(hr)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
			if res.StatusCode != want {
				return fmt.Errorf("HTTP %s", res.Status)
			}
			if scenario == "async" {
				return ackc.wait(ctx)
			}
			return nil
		}
		return call, stop, nil
	}
	stop()
	return nil, nil, fmt.Errorf("no floor peer %s", peer)
}

// rawConn is a keep-alive TLS connection with a reader for the minimal HTTP/1.1 answer parsing.
type rawConn struct {
	conn net.Conn
	br   *bufio.Reader
}

// rawPool holds idle connections; with one caller per goroutine it settles at one connection per caller.
type rawPool struct {
	addr string
	cfg  *tls.Config
	mu   sync.Mutex
	idle []*rawConn
}

func (p *rawPool) get(ctx context.Context) (*rawConn, error) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return c, nil
	}
	p.mu.Unlock()
	d := tls.Dialer{Config: p.cfg}
	conn, err := d.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return nil, err
	}
	return &rawConn{conn: conn, br: bufio.NewReaderSize(conn, 16<<10)}, nil
}

func (p *rawPool) put(c *rawConn) {
	p.mu.Lock()
	p.idle = append(p.idle, c)
	p.mu.Unlock()
}

// exchange writes wire in one Write and reads one answer: its status, then Content-Length body bytes,
// discarded.
func (c *rawConn) exchange(wire []byte) (int, error) {
	if _, err := c.conn.Write(wire); err != nil {
		return 0, err
	}
	status, length, err := readHead(c.br, true)
	if err != nil {
		return 0, err
	}
	if _, err := c.br.Discard(length); err != nil {
		return 0, err
	}
	return status, nil
}

// readHead reads a status line (response true) or request line and the headers up to the empty line,
// and returns the status code (0 for a request) and Content-Length (0 when absent: the floor's peers
// always send one). Nothing else of the message is looked at.
func readHead(br *bufio.Reader, response bool) (status, length int, err error) {
	first := true
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return 0, 0, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if first {
			first = false
			if response {
				// "HTTP/1.1 200 OK"
				if len(line) < 12 {
					return 0, 0, fmt.Errorf("short status line %q", line)
				}
				if status, err = strconv.Atoi(string(line[9:12])); err != nil {
					return 0, 0, fmt.Errorf("status line %q", line)
				}
			}
			continue
		}
		if len(line) == 0 {
			return status, length, nil
		}
		const cl = "content-length:"
		if len(line) > len(cl) && bytes.EqualFold(line[:len(cl)], []byte(cl)) {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(line[len(cl):]))); err != nil {
				return 0, 0, fmt.Errorf("Content-Length %q", line)
			}
		}
	}
}

// rawListen serves callbacks on ln the minimal way: request line and headers, Content-Length body bytes
// discarded, a prebuilt 202, one ack per callback.
func rawListen(ln net.Listener, ackc acks) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			br := bufio.NewReaderSize(conn, 16<<10)
			const accepted = "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"
			for {
				_, length, err := readHead(br, false)
				if err != nil {
					return
				}
				if _, err := br.Discard(length); err != nil {
					return
				}
				if _, err := io.WriteString(conn, accepted); err != nil {
					return
				}
				ackc <- struct{}{}
			}
		}()
	}
}

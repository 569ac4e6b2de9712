package soap

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newReq builds a request the way soap.Client does, then lets edit change it.
func newReq(t testing.TB, method, url, body string, edit func(*http.Request)) *http.Request {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	require.NoError(t, err)
	SOAP12.SetActionHeaders(req.Header, "http://gsma.com/ES4/ProfileManagement/ES4-GetEISRequest")
	if edit != nil {
		edit(req)
	}
	return req
}

// writeBoth writes the same request with writeRequest and with net/http's Request.Write.
func writeBoth(t testing.TB, mk func() *http.Request) (ours, theirs []byte, oursErr, theirsErr error) {
	var a, b bytes.Buffer
	wa := bufio.NewWriter(&a)
	oursErr = writeRequest(wa, mk())
	require.NoError(t, wa.Flush())
	wb := bufio.NewWriter(&b)
	theirsErr = mk().Write(wb)
	require.NoError(t, wb.Flush())
	return a.Bytes(), b.Bytes(), oursErr, theirsErr
}

func TestWriteRequestAsNetHTTP(t *testing.T) {
	const url = "https://smsr.example:8443/esim-messaging/3/ES4/ES4SmSrService"
	const env = `<?xml version="1.0"?><env:Envelope/>`
	tests := []struct {
		name  string
		mk    func(t testing.TB) *http.Request
		plain bool // written by our own path
	}{
		{"SOAP 1.2 POST", func(t testing.TB) *http.Request { return newReq(t, "POST", url, env, nil) }, true},
		{"SOAP 1.1 with SOAPAction", func(t testing.TB) *http.Request {
			return newReq(t, "POST", url, env, func(r *http.Request) { SOAP11.SetActionHeaders(r.Header, `urn:a"b`) })
		}, true},
		{"own User-Agent", func(t testing.TB) *http.Request {
			return newReq(t, "POST", url, env, func(r *http.Request) { r.Header.Set("User-Agent", "esimgw-test/1") })
		}, true},
		{"no User-Agent", func(t testing.TB) *http.Request {
			return newReq(t, "POST", url, env, func(r *http.Request) { r.Header["User-Agent"] = nil })
		}, true},
		{"query and escaped path", func(t testing.TB) *http.Request {
			return newReq(t, "POST", "https://h.example/a%20b/c?x=1&y=%2F", env, nil)
		}, true},
		{"Host override", func(t testing.TB) *http.Request {
			return newReq(t, "POST", url, env, func(r *http.Request) { r.Host = "other.example:443" })
		}, true},
		{"several values and headers", func(t testing.TB) *http.Request {
			return newReq(t, "POST", url, env, func(r *http.Request) {
				r.Header.Add("X-B", "2")
				r.Header.Add("X-B", "3")
				r.Header.Set("Accept", "application/soap+xml")
				r.Header["X-Empty"] = nil
			})
		}, true},
		{"empty POST", func(t testing.TB) *http.Request { return newReq(t, "POST", url, "", nil) }, true},
		{"body shorter than announced", func(t testing.TB) *http.Request {
			return newReq(t, "POST", url, env, func(r *http.Request) { r.ContentLength++ })
		}, true},
		{"body longer than announced", func(t testing.TB) *http.Request {
			return newReq(t, "POST", url, env, func(r *http.Request) { r.ContentLength -= 3 })
		}, true},
		{"newline in a value", func(t testing.TB) *http.Request {
			return newReq(t, "POST", url, env, func(r *http.Request) { r.Header.Set("X-A", "a\r\nX-Evil: 1") })
		}, false},
		{"space around a value", func(t testing.TB) *http.Request {
			return newReq(t, "POST", url, env, func(r *http.Request) { r.Header.Set("X-A", " a ") })
		}, false},
		{"bad header name", func(t testing.TB) *http.Request {
			return newReq(t, "POST", url, env, func(r *http.Request) { r.Header["X A"] = []string{"1"} })
		}, false},
		{"Connection close", func(t testing.TB) *http.Request {
			return newReq(t, "POST", url, env, func(r *http.Request) { r.Close = true })
		}, false},
		{"unknown length", func(t testing.TB) *http.Request {
			return newReq(t, "POST", url, env, func(r *http.Request) { r.ContentLength = -1 })
		}, false},
		{"GET", func(t testing.TB) *http.Request { return newReq(t, "GET", url, "", nil) }, false},
		{"non-ASCII host", func(t testing.TB) *http.Request {
			return newReq(t, "POST", url, env, func(r *http.Request) { r.Host = "bücher.example" })
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.plain, plainRequest(tt.mk(t)))
			ours, theirs, oursErr, theirsErr := writeBoth(t, func() *http.Request { return tt.mk(t) })
			if theirsErr != nil {
				require.Error(t, oursErr)
				assert.Equal(t, theirsErr.Error(), oursErr.Error())
				return
			}
			require.NoError(t, oursErr)
			assert.Equal(t, string(theirs), string(ours))
		})
	}
}

// closeTracker records whether the body was closed.
type closeTracker struct {
	io.Reader
	closed bool
}

func (c *closeTracker) Close() error { c.closed = true; return nil }

func TestWriteRequestClosesBody(t *testing.T) {
	body := &closeTracker{Reader: strings.NewReader("abc")}
	req := newReq(t, "POST", "https://h.example/", "", func(r *http.Request) { r.Body, r.ContentLength = body, 3 })
	w := bufio.NewWriter(io.Discard)
	require.NoError(t, writeRequest(w, req))
	assert.True(t, body.closed)
}

// readBoth parses raw with readResponse (through r, which may hand it out in pieces) and with
// http.ReadResponse, reading each body to its end.
type parsed struct {
	res  *http.Response
	body []byte
	err  error
	rest []byte // what stays in the reader after the body
}

func parse(t testing.TB, raw string, wrap func(io.Reader) io.Reader, read func(*bufio.Reader, *http.Request) (*http.Response, error)) parsed {
	req, _ := http.NewRequest("POST", "https://h.example/", nil)
	br := bufio.NewReaderSize(wrap(strings.NewReader(raw)), 4096)
	res, err := read(br, req)
	if err != nil {
		return parsed{err: err}
	}
	body, err := io.ReadAll(res.Body)
	rest, _ := io.ReadAll(br)
	return parsed{res: res, body: body, err: err, rest: rest}
}

func sameResponse(t testing.TB, want, got parsed) {
	t.Helper()
	if want.err != nil {
		require.Error(t, got.err)
		return
	}
	require.NoError(t, got.err)
	require.NotNil(t, got.res)
	assert.Equal(t, want.res.Status, got.res.Status)
	assert.Equal(t, want.res.StatusCode, got.res.StatusCode)
	assert.Equal(t, want.res.Proto, got.res.Proto)
	assert.Equal(t, want.res.ProtoMajor, got.res.ProtoMajor)
	assert.Equal(t, want.res.ProtoMinor, got.res.ProtoMinor)
	assert.Equal(t, want.res.Header, got.res.Header)
	assert.Equal(t, want.res.ContentLength, got.res.ContentLength)
	assert.Equal(t, want.res.Close, got.res.Close)
	assert.Equal(t, want.res.TransferEncoding, got.res.TransferEncoding)
	assert.Equal(t, want.res.Body == http.NoBody, got.res.Body == http.NoBody)
	assert.Equal(t, string(want.body), string(got.body))
	assert.Equal(t, string(want.rest), string(got.rest))
}

func TestReadResponseAsNetHTTP(t *testing.T) {
	const next = "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"
	tests := []struct {
		name  string
		raw   string
		plain bool
	}{
		{"200 with envelope", "HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml; charset=utf-8\r\nContent-Length: 5\r\n\r\n<a/>\n" + next, true},
		{"202 empty", next + next, true},
		{"no reason phrase", "HTTP/1.1 500\r\nContent-Length: 2\r\n\r\nab", true},
		{"lower-case names, spaces", "HTTP/1.1 200 OK\r\ncontent-length:   3 \r\nx-a:\t v\r\n\r\nabc", true},
		{"empty value", "HTTP/1.1 200 OK\r\nX-A:\r\nContent-Length: 1\r\n\r\nx", true},
		{"Connection close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx", false},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + next, false},
		{"no length", "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n\r\nuntil the end", false},
		{"two lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", false},
		{"conflicting lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxy", false},
		{"signed length", "HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\nx", false},
		{"204", "HTTP/1.1 204 No Content\r\n\r\n" + next, false},
		{"100 first", "HTTP/1.1 100 Continue\r\n\r\n" + next, false},
		{"HTTP/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", false},
		{"bare LF", "HTTP/1.1 200 OK\nContent-Length: 1\n\nx", false},
		{"folded header", "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 1\r\n\r\nx", false},
		{"space before colon", "HTTP/1.1 200 OK\r\nX-A : a\r\nContent-Length: 1\r\n\r\nx", false},
		{"Pragma", "HTTP/1.1 200 OK\r\nPragma: no-cache\r\nContent-Length: 1\r\n\r\nx", false},
		{"many headers", "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nContent-Length: 1\r\n\r\nx", false},
		{"body cut short", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true},
		{"bad status", "HTTP/1.1 2x0 OK\r\nContent-Length: 1\r\n\r\nx", false},
		{"garbage", "hello\r\n\r\n", false},
		{"utf-8 value", "HTTP/1.1 200 OK\r\nX-A: \xc3\xa9\r\nContent-Length: 1\r\n\r\nx", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			end := strings.Index(tt.raw, "\r\n\r\n")
			gotPlain := end >= 0 && parseHead([]byte(tt.raw[:end+2])) != nil
			assert.Equal(t, tt.plain, gotPlain, "parsed on the fast path")
			id := func(r io.Reader) io.Reader { return r }
			want := parse(t, tt.raw, id, http.ReadResponse)
			sameResponse(t, want, parse(t, tt.raw, id, readResponse))
			// Handed out a byte at a time the head is never complete in the buffer: net/http parses it.
			sameResponse(t, want, parse(t, tt.raw, iotest.OneByteReader, readResponse))
			sameResponse(t, want, parse(t, tt.raw, id, readRemembered(primerHead)))
			sameResponse(t, want, parse(t, tt.raw, id, readRemembered("")))
		})
	}
}

// primerHead is a gateway's usual head, remembered before a head under test is read.
const primerHead = "HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml; charset=utf-8\r\nContent-Length: 5\r\n\r\n"

// readRemembered reads with a connection's remembered head lines: those of primer, or ("") of the very
// head it reads, parsed once before (without consuming it) so that each of its lines is found remembered.
func readRemembered(primer string) func(*bufio.Reader, *http.Request) (*http.Response, error) {
	return func(br *bufio.Reader, req *http.Request) (*http.Response, error) {
		var lines headLines
		var pr plainResponse
		if primer != "" {
			parseHeadInto([]byte(primer), &pr, &lines)
		} else if _, err := br.Peek(1); err == nil {
			buf, _ := br.Peek(br.Buffered())
			parseHeadInto(buf, &pr, &lines)
		}
		return readResponseInto(br, req, nil, &lines)
	}
}

// FuzzReadResponse checks that readResponse reads whatever it is given as http.ReadResponse does.
func FuzzReadResponse(f *testing.F) {
	f.Add("HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nContent-Length: 5\r\n\r\n<a/>\nHTTP/1.1 202 Accepted\r\n")
	f.Add("HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
	f.Add("HTTP/1.1 500\r\ncontent-length:  3\r\nX-A:\r\n\r\nabc")
	f.Add("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
	f.Fuzz(func(t *testing.T, raw string) {
		id := func(r io.Reader) io.Reader { return r }
		want := parse(t, raw, id, http.ReadResponse)
		sameResponse(t, want, parse(t, raw, id, readResponse))
		sameResponse(t, want, parse(t, raw, id, readRemembered(primerHead)))
		sameResponse(t, want, parse(t, raw, id, readRemembered("")))
	})
}

// FuzzWriteRequest checks that writeRequest writes any request as net/http's Request.Write does.
func FuzzWriteRequest(f *testing.F) {
	f.Add("/esim-messaging/3/ES4/ES4SmSrService", "h.example:8443", "Content-Type", `application/soap+xml; action="a"`, "<e/>", int64(0))
	f.Add("/a?b=c", "", "User-Agent", "", "", int64(1))
	f.Add("/", "x", "X-A", "a\r\nb", "body", int64(-2))
	f.Fuzz(func(t *testing.T, path, host, key, value, body string, skew int64) {
		mk := func() *http.Request {
			req, err := http.NewRequest("POST", "https://smsr.example"+path, strings.NewReader(body))
			if err != nil {
				return nil
			}
			req.Host = host
			req.Header[key] = []string{value}
			if skew >= -int64(len(body)) && skew <= 4 {
				req.ContentLength += skew
			}
			return req
		}
		if mk() == nil {
			return
		}
		ours, theirs, oursErr, theirsErr := writeBoth(t, mk)
		if theirsErr != nil {
			if oursErr == nil {
				t.Fatalf("net/http: %v; writeRequest: no error", theirsErr)
			}
			return
		}
		if oursErr != nil {
			t.Fatalf("writeRequest: %v; net/http: no error", oursErr)
		}
		if !bytes.Equal(ours, theirs) {
			t.Fatalf("writeRequest wrote\n%q\nnet/http\n%q", ours, theirs)
		}
		// A Client's cached head (requestHead) writes the same bytes for a request of the plain shape.
		req := mk()
		tmpl := *req
		tmpl.Body, tmpl.GetBody, tmpl.ContentLength = nil, nil, 0
		if head := newRequestHead(&tmpl); head != nil && plainRequest(req) {
			var c bytes.Buffer
			w := bufio.NewWriter(&c)
			err := head.write(w, req.Body, req.ContentLength)
			require.NoError(t, w.Flush())
			if err != nil || !bytes.Equal(c.Bytes(), ours) {
				t.Fatalf("requestHead wrote\n%q (%v)\nwriteRequest\n%q", c.Bytes(), err, ours)
			}
		}
	})
}

// A connection's remembered head lines are used only for lines that are the same, and each answer's
// header is its own.
func TestParseHeadIntoReusesOnlyTheSameLines(t *testing.T) {
	heads := []string{
		"HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nContent-Length: 10\r\n",
		"HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nContent-Length: 10\r\n",
		"HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nContent-Length: 12\r\n",
		"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/xml\r\nContent-Length: 7\r\n",
		"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 7\r\nX-A: b\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nContent-Type: application/soap+xml\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nContent-Type: application/soap+xml\r\n",
	}
	var lines headLines
	var prev *plainResponse
	for i, h := range heads {
		var pr plainResponse
		n := parseHeadInto([]byte(h+"\r\nrest"), &pr, &lines)
		require.Equal(t, len(h)+2, n, "head %d", i)
		want, err := http.ReadResponse(bufio.NewReader(strings.NewReader(h+"\r\n")), nil)
		require.NoError(t, err)
		assert.Equal(t, want.Status, pr.res.Status, "head %d", i)
		assert.Equal(t, want.StatusCode, pr.res.StatusCode, "head %d", i)
		assert.Equal(t, want.Header, pr.res.Header, "head %d", i)
		assert.Equal(t, want.ContentLength, pr.res.ContentLength, "head %d", i)
		pr.res.Header.Set("X-Changed", h) // an answer's header is its own
		if prev != nil {
			assert.Equal(t, heads[i-1], prev.res.Header.Get("X-Changed"))
		}
		prev = &pr
	}
	var pr plainResponse
	for _, bad := range []string{
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nContent-Length: 10\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n", // not complete
		"HTTP/1.1 200 OK\r\nContent-Length: 10\n\r\n",
	} {
		assert.Equal(t, -1, parseHeadInto([]byte(bad), &pr, &lines), bad)
	}
	// A refused head leaves the remembered lines as they were.
	assert.Equal(t, "Content-Type: application/soap+xml", lines.line[2])
}

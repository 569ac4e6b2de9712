package soap

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
)

// The Transport's request writer and response reader for the shape every SOAP exchange has: a request
// with a known Content-Length and a few plain headers, and an HTTP/1.1 answer whose head arrives in one
// piece with a Content-Length. They produce what http.Request.Write and http.ReadResponse would, with a
// fraction of the work and allocations (bench/README.md, issue 21); anything outside that shape (chunked
// bodies, trailers, a header net/http would rewrite, a head split over reads, Connection headers, HEAD
// requests, 1xx answers...) goes to net/http's own functions, so syntax and edge cases stay net/http's.

// writeRequest writes req to w as http.Request.Write would, or calls it when req is not of the plain shape.
// Like Request.Write, it closes the body and leaves flushing to the caller.
func writeRequest(w *bufio.Writer, req *http.Request) error {
	if !plainRequest(req) {
		return req.Write(w)
	}
	u := req.URL
	host := req.Host
	if host == "" {
		host = u.Host
	}
	w.WriteString(req.Method)
	w.WriteByte(' ')
	w.WriteString(u.RequestURI()) // no allocation for a path without query or escapes
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(host)
	ua := "Go-http-client/1.1"
	if v, ok := req.Header["User-Agent"]; ok {
		ua = ""
		if len(v) > 0 {
			ua = v[0]
		}
	}
	if ua != "" {
		w.WriteString("\r\nUser-Agent: ")
		w.WriteString(ua)
	}
	// Always: plainRequest leaves only methods net/http sends a length for even when it is 0.
	w.WriteString("\r\nContent-Length: ")
	w.Write(strconv.AppendInt(w.AvailableBuffer(), req.ContentLength, 10))
	w.WriteString("\r\n")
	// Sorted by name, as net/http writes them, without sorting a slice of them: a SOAP request has two
	// or three headers.
	for last := ""; ; {
		next, found := "", false
		for k := range req.Header {
			if k > last && (!found || k < next) && k != "User-Agent" {
				next, found = k, true
			}
		}
		if !found {
			break
		}
		for _, v := range req.Header[next] {
			w.WriteString(next)
			w.WriteString(": ")
			w.WriteString(v)
			w.WriteString("\r\n")
		}
		last = next
	}
	_, err := w.WriteString("\r\n")
	if err == nil && req.ContentLength > 0 {
		err = copyBody(w, req.Body, req.ContentLength)
	}
	if req.Body != nil {
		if cerr := req.Body.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// requestHead is the head writeRequest writes for a request of the plain shape, cut around its
// Content-Length value: requests that differ only in their body's bytes and length (soap.Client's to one
// endpoint with one action) are written from it, without checking and writing each header again.
type requestHead struct {
	prefix, suffix []byte // up to "Content-Length: ", and from the CRLF after its value to the empty line
}

// newRequestHead is the head of the requests like req (which must have no body) as writeRequest writes
// them, or nil when they are not of the plain shape.
func newRequestHead(req *http.Request) *requestHead {
	if req.ContentLength != 0 || (req.Body != nil && req.Body != http.NoBody) || !plainRequest(req) {
		return nil
	}
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	if writeRequest(w, req) != nil || w.Flush() != nil {
		return nil
	}
	// The first line that starts so is writeRequest's own: Host and User-Agent, before it, hold no CRLF.
	const mark = "\r\nContent-Length: 0\r\n"
	i := bytes.Index(b.Bytes(), []byte(mark))
	if i < 0 {
		return nil
	}
	head := b.Bytes()
	return &requestHead{prefix: head[:i+len(mark)-3], suffix: head[i+len(mark)-2:]}
}

// write writes a request with this head and n bytes of body to w, as writeRequest would write it, and
// closes body.
func (h *requestHead) write(w *bufio.Writer, body io.ReadCloser, n int64) error {
	_, _ = w.Write(h.prefix)
	_, _ = w.Write(strconv.AppendInt(w.AvailableBuffer(), n, 10))
	_, err := w.Write(h.suffix)
	if err == nil && n > 0 {
		err = copyBody(w, body, n)
	}
	if body != nil {
		if cerr := body.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// copyBody copies exactly n bytes of body to w, reading straight into w's buffer, and fails as net/http
// does when body holds fewer or more.
func copyBody(w *bufio.Writer, body io.Reader, n int64) error {
	copied := int64(0)
	for {
		if w.Available() == 0 {
			if err := w.Flush(); err != nil {
				return err
			}
		}
		room := w.AvailableBuffer()[:w.Available()]
		want := n - copied
		if want == 0 {
			want = 1 // one more byte is the proof of a body longer than announced; it is not written
		}
		room = room[:min(int64(len(room)), want)]
		k, err := body.Read(room)
		if copied == n {
			if k > 0 {
				copied += int64(k)
				for err == nil { // count the rest, for the same message as net/http's
					k, err = body.Read(room)
					copied += int64(k)
				}
			}
			if err != nil && err != io.EOF {
				return err
			}
			if copied != n {
				return fmt.Errorf("http: ContentLength=%d with Body length %d", n, copied)
			}
			return nil
		}
		if k > 0 {
			_, _ = w.Write(room[:k]) // room is w's own free buffer: this only advances it
			copied += int64(k)
		}
		if err == io.EOF && copied < n {
			return fmt.Errorf("http: ContentLength=%d with Body length %d", n, copied)
		}
		if err != nil && err != io.EOF {
			return err
		}
	}
}

// plainRequest reports whether req is one writeRequest writes itself: a known, non-negative length (a
// body for a positive one), no transfer coding, trailer or Connection handling, and names and values
// net/http would write unchanged.
func plainRequest(req *http.Request) bool {
	if req.Method == "" || req.Method == http.MethodGet || req.Method == http.MethodHead || !token(req.Method) ||
		req.ContentLength < 0 || (req.ContentLength > 0) != (req.Body != nil && req.Body != http.NoBody) ||
		len(req.TransferEncoding) != 0 || req.Trailer != nil || req.Close || req.ProtoMajor > 1 ||
		req.URL == nil || req.URL.Opaque != "" || req.URL.Scheme == "" {
		return false
	}
	if req.ContentLength == 0 && req.Body != nil && req.Body != http.NoBody {
		return false // net/http probes such a body to decide between no body and a chunked one
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	if host == "" || !plainHost(host) {
		return false
	}
	if len(req.Header) > 8 {
		return false
	}
	for k, vs := range req.Header {
		if !token(k) {
			return false
		}
		if k == "Connection" || k == "Transfer-Encoding" || k == "Trailer" || k == "Host" || k == "Content-Length" {
			return false
		}
		for _, v := range vs {
			if !plainValue(v) {
				return false
			}
		}
	}
	return true
}

// token reports whether s is a non-empty RFC 9110 token (header names, methods).
func token(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tokenByte[s[i]] {
			return false
		}
	}
	return true
}

var tokenByte = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// plainValue reports whether net/http writes v as is: visible ASCII, spaces and tabs inside, no leading or
// trailing white space (it trims that), nothing it would replace or refuse.
func plainValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f || c >= 0x80 {
			return false
		}
	}
	return v == "" || (v[0] != ' ' && v[0] != '\t' && v[len(v)-1] != ' ' && v[len(v)-1] != '\t')
}

// plainHost reports whether h is an ASCII host[:port] net/http would write unchanged (no zone, no IDNA).
func plainHost(h string) bool {
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_') {
			return false
		}
	}
	return true
}

// plainResponse is what readResponse allocates for an answer, in one piece.
type plainResponse struct {
	res  http.Response
	body lengthBody
	// room holds the header values the Header map's slices point into: a lent one (the Message's own,
	// see Client.once, so that a Message keeps its header values whatever the exchange serves next), or
	// vals.
	room *[maxPlainHeaders]string
	vals [maxPlainHeaders]string
}

// readResponse reads an answer to req from br as http.ReadResponse would. When br already holds the
// complete head of an HTTP/1.1 answer of the plain shape (a final status, a single Content-Length, no
// Transfer-Encoding, Connection or Trailer, at most six headers, no obsolete line folding), it parses it
// itself; otherwise, with nothing consumed, it calls http.ReadResponse.
func readResponse(br *bufio.Reader, req *http.Request) (*http.Response, error) {
	return readResponseInto(br, req, nil, nil)
}

// readResponseInto is readResponse with the parsed answer's memory in pr and the connection's memory of
// its last head in lines, when they are not nil: pr is the caller's to lend (soap.Client's, for one
// exchange), and a head line that is the same bytes as the last answer's is taken from lines without
// being parsed or copied again (a gateway's answers on a connection differ in a line or two, if at all).
func readResponseInto(br *bufio.Reader, req *http.Request, pr *plainResponse, lines *headLines) (*http.Response, error) {
	if req.Method == http.MethodHead {
		return http.ReadResponse(br, req)
	}
	if _, err := br.Peek(1); err != nil {
		return http.ReadResponse(br, req)
	}
	buf, _ := br.Peek(br.Buffered())
	if pr == nil {
		pr = &plainResponse{}
	}
	n := parseHeadInto(buf, pr, lines)
	if n < 0 {
		return http.ReadResponse(br, req)
	}
	_, _ = br.Discard(n)
	pr.res.Request = req
	if pr.res.ContentLength == 0 {
		pr.res.Body = http.NoBody
	} else {
		pr.body = lengthBody{r: br, left: pr.res.ContentLength}
		pr.res.Body = &pr.body
	}
	return &pr.res, nil
}

// parseHead parses a response head (status line and header lines, each ending in CRLF, without the empty
// line) of the plain shape, or returns nil.
func parseHead(head []byte) *plainResponse {
	pr := &plainResponse{}
	if parseHeadInto(append(head[:len(head):len(head)], "\r\n"...), pr, nil) < 0 {
		return nil
	}
	return pr
}

// headLines is what a connection keeps of its last answer's head of the plain shape: each line as it came
// (without its CRLF, line 0 the status line) and what it was parsed into.
type headLines struct {
	n      int
	line   [1 + maxPlainHeaders]string
	key    [1 + maxPlainHeaders]string // canonical header names; the status text for line 0
	val    [1 + maxPlainHeaders]string
	length int64 // a Content-Length line's value
}

// maxPlainHeaders is how many header lines an answer of the plain shape has at most.
const maxPlainHeaders = 6

// parseHeadInto parses the head at the start of buf (status line and header lines, each ending in CRLF,
// then an empty line) into pr, which it overwrites (the header into the map pr.res.Header holds, if
// any, emptied first), and returns its length with the empty line; or -1
// when buf does not start with a complete head of the plain shape. lines, when not nil, are the lines of a
// head parsed before: a line that is the same is taken from there, and lines then hold this head's.
func parseHeadInto(buf []byte, pr *plainResponse, lines *headLines) int {
	const proto = "HTTP/1.1 "
	header := pr.res.Header // a map lent for the answer's header (soap.Client's), or nil
	room := pr.room         // and the room for its values, or nil
	*pr = plainResponse{}
	if room == nil {
		room = &pr.vals
	}
	if len(buf) < len(proto)+5 || string(buf[:len(proto)]) != proto {
		return -1
	}
	nl := bytes.IndexByte(buf, '\n')
	if nl < 0 || buf[nl-1] != '\r' {
		return -1
	}
	status := buf[len(proto) : nl-1]
	if len(status) < 3 || (len(status) > 3 && status[3] != ' ') {
		return -1
	}
	code := 0
	for _, c := range status[:3] {
		if c < '0' || c > '9' {
			return -1
		}
		code = code*10 + int(c-'0')
	}
	if code < 200 || code == http.StatusNoContent || code == http.StatusNotModified {
		return -1 // no body by definition, or an interim answer: net/http's rules
	}
	var next headLines // this head's lines, kept in lines once all is read
	if lines != nil && lines.n > 0 && string(buf[:nl-1]) == lines.line[0] {
		next.line[0], next.key[0] = lines.line[0], lines.key[0]
	} else {
		next.line[0] = string(buf[:nl-1])
		next.key[0] = next.line[0][len(proto):]
	}
	pr.res.Status = next.key[0]
	pr.res.StatusCode, pr.res.Proto, pr.res.ProtoMajor, pr.res.ProtoMinor = code, "HTTP/1.1", 1, 1
	if header != nil {
		clear(header)
		pr.res.Header = header
	} else {
		pr.res.Header = make(http.Header, 4)
	}
	n, length := 0, int64(-1)
	rest := nl + 1
	for {
		eol := bytes.IndexByte(buf[rest:], '\n')
		if eol < 1 || buf[rest+eol-1] != '\r' {
			return -1 // incomplete in buf, or a bare LF
		}
		raw := buf[rest : rest+eol-1]
		rest += eol + 1
		if len(raw) == 0 {
			break // the empty line
		}
		if n == maxPlainHeaders {
			return -1
		}
		i := n + 1
		var k, v string
		if lines != nil && i < lines.n && string(raw) == lines.line[i] {
			k, v = lines.key[i], lines.val[i]
			next.line[i] = lines.line[i]
			if k == "Content-Length" {
				next.length = lines.length
			}
		} else {
			line := string(raw)
			colon := strings.IndexByte(line, ':')
			if colon < 1 {
				return -1
			}
			k, v = line[:colon], trimOWS(line[colon+1:])
			canonical, ok := canonicalToken(k)
			if !ok || !plainValue(v) {
				return -1 // obsolete folding, a space before the colon, control bytes: net/http decides
			}
			if !canonical {
				k = textproto.CanonicalMIMEHeaderKey(k)
			}
			if k == "Content-Length" {
				l, err := strconv.ParseUint(v, 10, 63)
				if err != nil {
					return -1
				}
				next.length = int64(l)
			}
			next.line[i] = line
		}
		switch k {
		case "Transfer-Encoding", "Connection", "Trailer", "Pragma":
			return -1 // transfer and connection rules, and the Pragma fix-up ReadResponse makes
		case "Content-Length":
			if length >= 0 {
				return -1
			}
			length = next.length
		}
		if _, dup := pr.res.Header[k]; dup {
			return -1
		}
		next.key[i], next.val[i] = k, v
		room[n] = v
		pr.res.Header[k] = room[n : n+1 : n+1]
		n++
	}
	if length < 0 {
		return -1
	}
	pr.res.ContentLength = length
	if lines != nil {
		next.n = n + 1
		*lines = next
	}
	return rest
}

// trimOWS removes the spaces and tabs around a header value, as net/http does.
func trimOWS(v string) string {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	return v
}

// canonicalToken reports whether k is a token (ok) and whether it is already in the canonical form
// textproto.CanonicalMIMEHeaderKey gives a token: upper case first and after each hyphen, lower case
// elsewhere.
func canonicalToken(k string) (canonical, ok bool) {
	if k == "" {
		return false, false
	}
	canonical, upper := true, true
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !tokenByte[c] {
			return false, false
		}
		if upper && 'a' <= c && c <= 'z' || !upper && 'A' <= c && c <= 'Z' {
			canonical = false
		}
		upper = c == '-'
	}
	return canonical, true
}

// lengthBody is an answer's body of known length, read from the connection's reader.
type lengthBody struct {
	r    *bufio.Reader
	left int64
}

func (b *lengthBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if b.left == 0 {
		return n, io.EOF
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// Close does nothing: connBody decides what becomes of the connection.
func (b *lengthBody) Close() error { return nil }

package soap

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNewRequestIsNetHTTPs: the request a Client builds on its own Transport is the one
// http.NewRequestWithContext and SetActionHeaders make, for every endpoint shape and both versions, and
// calls sharing the parsed endpoint and header values do not see each other's changes.
func TestNewRequestIsNetHTTPs(t *testing.T) {
	tests := []struct {
		name, endpoint, action string
		version                Version
		payload                string
	}{
		{name: "plain", endpoint: "https://smsr.example/es4", action: "http://gsma.com/ES4/ProfileManagement/ES4-GetEISRequest", payload: "<env:Envelope/>"},
		{name: "port and query", endpoint: "https://smsr.example:8443/es4?x=1&y=%20", action: `quote"d`, payload: "<a/>"},
		{name: "empty port", endpoint: "https://smsr.example:/es4", action: "a", payload: "<a/>"},
		{name: "IPv6", endpoint: "https://[::1]:8443/es4", action: "a", payload: "<a/>"},
		{name: "SOAP 1.1", endpoint: "http://njiwa.example/ws", action: "urn:x", version: SOAP11, payload: "<a/>"},
		{name: "empty payload", endpoint: "https://smsr.example/es4", action: "a", payload: ""},
	}
	ctx := context.WithValue(context.Background(), requestTestKey{}, "v")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewClient(WithSOAPVersion(tt.version))
			want, err := http.NewRequestWithContext(ctx, http.MethodPost, tt.endpoint, bytesReader(tt.payload))
			require.NoError(t, err)
			tt.version.SetActionHeaders(want.Header, tt.action)
			for range 2 { // the second from the cached endpoint and headers
				got, err := c.newRequest(ctx, tt.endpoint, tt.action, []byte(tt.payload))
				require.NoError(t, err)
				assert.Equal(t, want.Method, got.Method)
				assert.Equal(t, want.URL.String(), got.URL.String())
				assert.Equal(t, *want.URL, *got.URL)
				assert.Equal(t, want.Host, got.Host)
				assert.Equal(t, want.Proto, got.Proto)
				assert.Equal(t, want.Header, got.Header)
				assert.Equal(t, want.ContentLength, got.ContentLength)
				assert.Equal(t, want.Context(), got.Context())
				assert.Equal(t, want.Body == http.NoBody, got.Body == http.NoBody)
				assert.Equal(t, tt.payload, readAll(t, got.Body))
				require.NotNil(t, got.GetBody)
				again, err := got.GetBody()
				require.NoError(t, err)
				assert.Equal(t, tt.payload, readAll(t, again))
				// A caller's change to one request's header stays in it.
				got.Header["Content-Type"] = append(got.Header["Content-Type"], "changed")
				got.Header.Set("X-Extra", "1")
			}
		})
	}
	t.Run("bad endpoint", func(t *testing.T) {
		_, err := NewClient().newRequest(ctx, "://nope", "a", []byte("<a/>"))
		require.Error(t, err)
	})
}

func bytesReader(s string) io.Reader { return bytes.NewReader([]byte(s)) }

func readAll(t *testing.T, r io.Reader) string {
	t.Helper()
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	return string(b)
}

// requestTestKey is a context key of its own type, so the request test can see that the request carries its context.
type requestTestKey struct{}

// An exchange used again (from the Client's pool) carries only its new request's headers, whatever the
// previous one had: another action, another SOAP version, an empty payload.
func TestPrepareReusedExchange(t *testing.T) {
	ex := newExchange()
	calls := []struct {
		version          Version
		action, endpoint string
		payload          string
	}{
		{SOAP11, "urn:first", "http://njiwa.example/ws", "<a/>"},
		{SOAP12, "urn:second", "https://smsr.example/es4", "<b/>"},
		{SOAP12, "urn:third", "https://smsr.example/es4", ""},
		{SOAP11, "urn:fourth", "http://njiwa.example/ws", "<d/>"},
	}
	for _, call := range calls {
		c := NewClient(WithSOAPVersion(call.version))
		require.NoError(t, c.prepare(ex, context.Background(), call.endpoint, call.action, []byte(call.payload)))
		want, err := http.NewRequest(http.MethodPost, call.endpoint, bytesReader(call.payload))
		require.NoError(t, err)
		call.version.SetActionHeaders(want.Header, call.action)
		assert.Equal(t, want.Header, ex.req.Header, call.action)
		assert.Equal(t, want.URL.String(), ex.req.URL.String())
		assert.Equal(t, int64(len(call.payload)), ex.req.ContentLength)
		assert.Equal(t, call.payload, readAll(t, ex.req.Body))
		again, err := ex.req.GetBody()
		require.NoError(t, err)
		assert.Equal(t, call.payload, readAll(t, again))
	}
}

// An exchange's request written from the Client's cached head is byte for byte what writeRequest writes
// for it, for every endpoint shape, both versions, any payload length.
func TestPreparedHeadIsWriteRequests(t *testing.T) {
	tests := []struct {
		endpoint, action string
		version          Version
	}{
		{"https://smsr.example/es4", "http://gsma.com/ES4/ProfileManagement/ES4-GetEISRequest", SOAP12},
		{"https://smsr.example:8443/es4?x=1&y=%20", `quote"d`, SOAP12},
		{"https://smsr.example:/es4", "a", SOAP12},
		{"https://[::1]:8443/es4", "a", SOAP12},
		{"http://njiwa.example/ws", "urn:x", SOAP11},
		{"https://smsr.example/es4", "urn:\u00e9", SOAP11}, // not of the plain shape: no cached head
	}
	for _, tt := range tests {
		c := NewClient(WithSOAPVersion(tt.version))
		for _, payload := range []string{"<env:Envelope/>", "", strings.Repeat("x", 20000)} {
			ex := newExchange()
			require.NoError(t, c.prepare(ex, context.Background(), tt.endpoint, tt.action, []byte(payload)))
			var want, got bytes.Buffer
			ww := bufio.NewWriter(&want)
			require.NoError(t, writeRequest(ww, &ex.req))
			require.NoError(t, ww.Flush())
			require.NoError(t, c.prepare(ex, context.Background(), tt.endpoint, tt.action, []byte(payload)))
			if ex.space.head == nil {
				assert.False(t, plainRequest(&ex.req), tt.action)
				continue
			}
			gw := bufio.NewWriter(&got)
			require.NoError(t, ex.space.head.write(gw, ex.req.Body, ex.req.ContentLength))
			require.NoError(t, gw.Flush())
			assert.Equal(t, want.String(), got.String(), "%s %s %d", tt.endpoint, tt.action, len(payload))
		}
	}
}

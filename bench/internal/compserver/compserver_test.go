package compserver

import (
	"bufio"
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/soap"
)

// TestCallbackExchange reads the answers a callback receiver may give: with a length, chunked (net/http's
// server after an early flush), with Connection: close, and cut short.
func TestCallbackExchange(t *testing.T) {
	tests := []struct {
		name     string
		answer   string
		status   int
		reusable bool
		wantErr  bool
	}{
		{"202 with length", "HTTP/1.1 202 Accepted\r\nDate: x\r\nContent-Length: 0\r\n\r\n", 202, true, false},
		{"202 with a body", "HTTP/1.1 202 Accepted\r\ncontent-length: 3\r\n\r\nabc", 202, true, false},
		{"chunked", "HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 202, true, false},
		{"connection close", "HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", 202, false, false},
		{"fault", "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\n\r\nno", 500, false, false},
		{"cut short", "HTTP/1.1 202 Accepted\r\nContent-Le", 0, false, true},
		{"not HTTP", "SSH-2.0-OpenSSH\r\n\r\n", 0, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, server := net.Pipe()
			defer server.Close()
			go func() {
				req, err := http.ReadRequest(bufio.NewReader(server))
				if err == nil {
					_, _ = io.Copy(io.Discard, req.Body)
					_, _ = server.Write([]byte(tt.answer))
				}
				_ = server.Close()
			}()
			cc := &callbackConn{addr: "pipe", conn: client, br: bufio.NewReader(client)}
			defer cc.close()
			status, err := cc.exchange([]byte("POST /cb HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"))
			if tt.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.status, status)
			assert.Equal(t, tt.reusable, cc.conn != nil)
		})
	}
}

// TestCallbackEnvelope checks that the callback built from the template is the envelope soap writes for
// it: an ES4-EnableProfileResponse whose To, MessageID and RelatesTo are the ones asked for.
func TestCallbackEnvelope(t *testing.T) {
	s, err := New(t.TempDir(), slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	defer s.Close()
	rel := "//1.3.6.1.4.1.99999.10/urn:uuid:0f8c2a3e-1d2b-4c5a-9e7f-112233445566?TransactionId=urn:uuid:7a1b2c3d-4e5f-4a6b-8c9d-aabbccddeeff&MessageDate=2024-05-01T10:00:00Z"
	p, err := parseReplyTo("https://localhost:1234/callbacks?a=b&c=d")
	require.NoError(t, err)
	p.relatesTo = rel
	var body []byte
	req := s.callbackRequest(nil, &body, p)
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(req)))
	require.NoError(t, err)
	assert.Equal(t, "/callbacks?a=b&c=d", r.RequestURI)
	assert.Equal(t, "localhost:1234", r.Host)
	assert.Contains(t, r.Header.Get("Content-Type"), s.callbackAction)
	env, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	assert.Equal(t, body, env)
	m, err := soap.ReadMessage(env, soap.ReadOptions{})
	require.NoError(t, err)
	assert.Equal(t, "ES4-EnableProfileResponse", m.BodyName)
	assert.Equal(t, "https://localhost:1234/callbacks?a=b&c=d", m.Header.To)
	assert.Equal(t, rel, m.Header.RelatesTo)
	assert.Equal(t, s.callbackAction, m.Header.Action)
	id, err := soap.ParseMessageID(m.Header.MessageID)
	require.NoError(t, err)
	assert.NotEmpty(t, id.TransactionID)
}

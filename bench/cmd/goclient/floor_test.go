package main

import (
	"bufio"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/bench/internal/compserver"
)

func TestReadHead(t *testing.T) {
	tests := []struct {
		name           string
		in             string
		response       bool
		status, length int
		wantErr        bool
	}{
		{"response", "HTTP/1.1 200 OK\r\nContent-Type: x\r\nContent-Length: 42\r\n\r\n", true, 200, 42, false},
		{"202 without length", "HTTP/1.1 202 Accepted\r\n\r\n", true, 202, 0, false},
		{"request, lower case", "POST /cb HTTP/1.1\r\nhost: a\r\ncontent-length:  7 \r\n\r\n", false, 0, 7, false},
		{"short status line", "HTTP/1.1\r\n\r\n", true, 0, 0, true},
		{"bad length", "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", true, 0, 0, true},
		{"cut short", "HTTP/1.1 200 OK\r\nContent-Len", true, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, length, err := readHead(bufio.NewReader(strings.NewReader(tt.in)), tt.response)
			if tt.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.status, status)
			assert.Equal(t, tt.length, length)
		})
	}
}

// TestFloorPeers runs every floor peer against the comparison server: each call must see the status it
// expects and, for async, one acknowledged callback.
func TestFloorPeers(t *testing.T) {
	dir := t.TempDir()
	srv, err := compserver.New(dir, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	defer srv.Close()
	ccfg, scfg, err := tlsConfigs(dir)
	require.NoError(t, err)
	for _, peer := range []string{"rawtls", "rawhttp"} {
		for _, scenario := range []string{"sync", "async"} {
			t.Run(peer+"/"+scenario, func(t *testing.T) {
				ctx := context.Background()
				call, stop, err := floorPeer(ctx, peer, scenario, srv.URL, ccfg, scfg)
				require.NoError(t, err)
				defer stop()
				for range 50 {
					require.NoError(t, call(ctx))
				}
			})
		}
	}
	assert.Empty(t, srv.CallbackFailures())
}

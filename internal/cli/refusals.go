package cli

import (
	"context"
	"log/slog"
	"strings"
)

// serverLogger is the callback server's logger: a.Logger, which also writes, whatever -v says, a one-line
// warning for each refused connection (a TLS handshake refused for a missing or untrusted certificate,
// plain HTTP on the TLS port). A peer with the wrong certificate must not be invisible (issue 17).
func serverLogger(a *App) *slog.Logger {
	return slog.New(refusalHandler{inner: a.Logger.Handler(),
		warn: slog.NewTextHandler(a.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})})
}

type refusalHandler struct{ inner, warn slog.Handler }

func (h refusalHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn || h.inner.Enabled(ctx, l)
}

func (h refusalHandler) Handle(ctx context.Context, r slog.Record) error {
	if h.inner.Enabled(ctx, r.Level) {
		return h.inner.Handle(ctx, r)
	}
	if strings.HasPrefix(r.Message, "esimgw: connection refused") {
		return h.warn.Handle(ctx, r)
	}
	return nil
}

func (h refusalHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return refusalHandler{inner: h.inner.WithAttrs(as), warn: h.warn.WithAttrs(as)}
}

func (h refusalHandler) WithGroup(name string) slog.Handler {
	return refusalHandler{inner: h.inner.WithGroup(name), warn: h.warn.WithGroup(name)}
}

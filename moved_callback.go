package esimgw

import (
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/esimgw/esimgw/callback"
	"github.com/esimgw/esimgw/mtls"
	"github.com/esimgw/esimgw/soap"
)

// The callback server and the health endpoints moved to package callback. These names stay for one v0
// release so that code written against them still compiles; each says where it went.

// CallbackServer is callback.Server.
//
// Deprecated: use callback.Server.
type CallbackServer = callback.Server

// ServerOption is callback.Option.
//
// Deprecated: use callback.Option.
type ServerOption = callback.Option

// Timeouts is callback.Timeouts.
//
// Deprecated: use callback.Timeouts.
type Timeouts = callback.Timeouts

// HandOver is callback.HandOver.
//
// Deprecated: use callback.HandOver.
type HandOver = callback.HandOver

// ShutdownError is callback.ShutdownError.
//
// Deprecated: use callback.ShutdownError.
type ShutdownError = callback.ShutdownError

// ReadinessCheck is callback.ReadinessCheck.
//
// Deprecated: use callback.ReadinessCheck.
type ReadinessCheck = callback.ReadinessCheck

// Pinger is callback.Pinger.
//
// Deprecated: use callback.Pinger.
type Pinger = callback.Pinger

// HealthOption is callback.HealthOption.
//
// Deprecated: use callback.HealthOption.
type HealthOption = callback.HealthOption

// HealthStatus is callback.HealthStatus.
//
// Deprecated: use callback.HealthStatus.
type HealthStatus = callback.HealthStatus

// ErrInsecureServer is callback.ErrInsecureServer.
//
// Deprecated: use callback.ErrInsecureServer.
var ErrInsecureServer = callback.ErrInsecureServer

// ErrNotListening is callback.ErrNotListening.
//
// Deprecated: use callback.ErrNotListening.
var ErrNotListening = callback.ErrNotListening

// Refusal causes and the metric they are counted in, now in package callback.
//
// Deprecated: use callback.MetricInboundRefused and callback.RefusedTLS, ...
const (
	MetricInboundRefused = callback.MetricInboundRefused
	RefusedTLS           = callback.RefusedTLS
	RefusedAllowList     = callback.RefusedAllowList
	RefusedSize          = callback.RefusedSize
	RefusedMalformed     = callback.RefusedMalformed
	RefusedContentType   = callback.RefusedContentType
	RefusedMethod        = callback.RefusedMethod
)

// NewCallbackServer is callback.NewServer.
//
// Deprecated: use callback.NewServer.
func NewCallbackServer(h soap.MessageHandler, opts ...ServerOption) (*CallbackServer, error) {
	return callback.NewServer(h, opts...)
}

// WithServerTLS is callback.WithTLS.
//
// Deprecated: use callback.WithTLS.
func WithServerTLS(cfg *tls.Config) ServerOption { return callback.WithTLS(cfg) }

// WithServerCertificate is callback.WithCertificate.
//
// Deprecated: use callback.WithCertificate.
func WithServerCertificate(src *mtls.Source, clientCAs *x509.CertPool, allowedSubjects ...string) ServerOption {
	return callback.WithCertificate(src, clientCAs, allowedSubjects...)
}

// WithPlainHTTP is callback.WithPlainHTTP.
//
// Deprecated: use callback.WithPlainHTTP.
func WithPlainHTTP() ServerOption { return callback.WithPlainHTTP() }

// WithoutClientCertificates is callback.WithoutClientCertificates.
//
// Deprecated: use callback.WithoutClientCertificates.
func WithoutClientCertificates() ServerOption { return callback.WithoutClientCertificates() }

// WithSOAPPath is callback.WithSOAPPath.
//
// Deprecated: use callback.WithSOAPPath.
func WithSOAPPath(path string) ServerOption { return callback.WithSOAPPath(path) }

// WithRoute is callback.WithRoute.
//
// Deprecated: use callback.WithRoute.
func WithRoute(path string, h http.Handler) ServerOption { return callback.WithRoute(path, h) }

// WithMaxBodyBytes is callback.WithMaxBodyBytes.
//
// Deprecated: use callback.WithMaxBodyBytes.
func WithMaxBodyBytes(n int64) ServerOption { return callback.WithMaxBodyBytes(n) }

// WithMaxBodyBytesInFlight is callback.WithMaxBodyBytesInFlight.
//
// Deprecated: use callback.WithMaxBodyBytesInFlight.
func WithMaxBodyBytesInFlight(n int64) ServerOption { return callback.WithMaxBodyBytesInFlight(n) }

// WithTimeouts is callback.WithTimeouts.
//
// Deprecated: use callback.WithTimeouts.
func WithTimeouts(t Timeouts) ServerOption { return callback.WithTimeouts(t) }

// WithServerLogger is callback.WithLogger.
//
// Deprecated: use callback.WithLogger.
func WithServerLogger(l *slog.Logger) ServerOption { return callback.WithLogger(l) }

// WithServerMeterProvider is callback.WithMeterProvider.
//
// Deprecated: use callback.WithMeterProvider.
func WithServerMeterProvider(mp metric.MeterProvider) ServerOption {
	return callback.WithMeterProvider(mp)
}

// NewHealthHandler is callback.NewHealthHandler.
//
// Deprecated: use callback.NewHealthHandler.
func NewHealthHandler(opts ...HealthOption) http.Handler { return callback.NewHealthHandler(opts...) }

// WithReadinessCheck is callback.WithReadinessCheck.
//
// Deprecated: use callback.WithReadinessCheck.
func WithReadinessCheck(c ReadinessCheck) HealthOption { return callback.WithReadinessCheck(c) }

// WithHealthTimeout is callback.WithHealthTimeout.
//
// Deprecated: use callback.WithHealthTimeout.
func WithHealthTimeout(d time.Duration) HealthOption { return callback.WithHealthTimeout(d) }

// PingCheck is callback.PingCheck.
//
// Deprecated: use callback.PingCheck.
func PingCheck(name string, p Pinger) ReadinessCheck { return callback.PingCheck(name, p) }

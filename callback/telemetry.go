package callback

import (
	"context"
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// instrumentationName is the instrumentation scope of the server's meter: esimgw's one scope, so that the
// server's metrics sit next to the client's and the Dispatcher's (esimgw.InstrumentationName).
const instrumentationName = "github.com/esimgw/esimgw"

// MetricInboundRefused is the counter of inbound connections and requests the server refused, by cause
// (attribute esimgw.refusal.cause, one of the Refused* values). docs/telemetry.md lists every metric.
const MetricInboundRefused = "esimgw.inbound.refused"

const attrRefusalCause = "esimgw.refusal.cause"

// Refusal causes of MetricInboundRefused.
const (
	RefusedTLS         = "tls"          // TLS handshake failed: no client certificate, unknown CA, expired, plain HTTP
	RefusedAllowList   = "allow_list"   // client certificate valid but its subject is not on the allow-list
	RefusedSize        = "size"         // body over the size limit (413)
	RefusedMalformed   = "malformed"    // not a readable SOAP envelope (400)
	RefusedContentType = "content_type" // not a SOAP media type (415)
	RefusedMethod      = "method"       // not a POST (405)
)

// WithMeterProvider makes the server count what it refuses (MetricInboundRefused), by cause.
// Spans for the messages it accepts come from the Dispatcher.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *serverConfig) error { c.meter = mp; return nil }
}

// refusalCounter counts what the callback server refuses; nil without WithMeterProvider.
type refusalCounter struct{ c metric.Int64Counter }

func newRefusalCounter(mp metric.MeterProvider) *refusalCounter {
	if mp == nil {
		return nil
	}
	c, _ := mp.Meter(instrumentationName).Int64Counter(MetricInboundRefused, metric.WithUnit("{refusal}"),
		metric.WithDescription("Inbound connections and requests the callback server refused, by cause (tls, allow_list, size, malformed, content_type, method)."))
	return &refusalCounter{c: c}
}

func (r *refusalCounter) add(cause string) {
	r.c.Add(context.Background(), 1, metric.WithAttributes(attribute.String(attrRefusalCause, cause)))
}

// handshake counts a refused TLS handshake from net/http's log line: the only place net/http reports it.
func (r *refusalCounter) handshake(line string) {
	if r == nil {
		return
	}
	cause := RefusedTLS
	if strings.Contains(line, "not on the allow-list") { // mtls.SubjectNotAllowedError
		cause = RefusedAllowList
	}
	r.add(cause)
}

// wrap counts the refusals the SOAP handler answers: 400 for what cannot be read as an envelope, 405, 413,
// 415. A 500 is not a refusal (the handler failed and the gateway retries).
func (r *refusalCounter) wrap(h http.Handler) http.Handler {
	if r == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, req)
		switch sw.status {
		case http.StatusBadRequest:
			r.add(RefusedMalformed)
		case http.StatusMethodNotAllowed:
			r.add(RefusedMethod)
		case http.StatusRequestEntityTooLarge:
			r.add(RefusedSize)
		case http.StatusUnsupportedMediaType:
			r.add(RefusedContentType)
		}
	})
}

// statusWriter remembers the status written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

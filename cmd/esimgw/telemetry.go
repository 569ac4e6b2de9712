package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/otlptranslator"
	"github.com/spf13/cobra"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/callback"
	"github.com/esimgw/esimgw/internal/cli"
)

// telemetry is the OpenTelemetry SDK side of the program (the library speaks only the API): --metrics
// serves every command's metrics through the Prometheus exporter while the command runs, --trace writes
// its spans. Both are persistent flags, so that one-shot commands (audit of a fleet, activate) are
// observable as listen and campaign run are.
type telemetry struct {
	metricsAddr string // --metrics
	trace       string // --trace: "", stderr, stdout

	mp  *sdkmetric.MeterProvider
	tp  *sdktrace.TracerProvider
	mux *http.ServeMux // the --metrics server's: listen adds /healthz and /readyz when --health is the same address
	srv *http.Server
	url string // http://host:port of the --metrics server
}

// Trace exporters of --trace.
const (
	traceNone   = "none"
	traceStderr = "stderr"
	traceStdout = "stdout"
)

func (t *telemetry) flags(cmd *cobra.Command) {
	cmd.PersistentFlags().StringVar(&t.metricsAddr, "metrics", "", "serve Prometheus metrics at http://ADDR/metrics while the command runs (plain HTTP), e.g. :9464 (env ESIMGW_METRICS)")
	cmd.PersistentFlags().StringVar(&t.trace, "trace", "", "write OpenTelemetry spans as JSON, one a line: stderr, or stdout with --output table; none (env ESIMGW_TRACE)")
}

// start builds the providers the flags ask for and starts the --metrics server.
func (g *globals) startTelemetry(cmd *cobra.Command) error {
	t := &g.tel
	for _, f := range []struct {
		name, env string
		v         *string
	}{{"metrics", "ESIMGW_METRICS", &t.metricsAddr}, {"trace", "ESIMGW_TRACE", &t.trace}} {
		if !cmd.Flags().Changed(f.name) {
			if v, ok := g.env(f.env); ok {
				*f.v = v
			}
		}
	}
	var w io.Writer
	switch t.trace {
	case "", traceNone:
	case traceStderr:
		w = g.stderr
	case traceStdout:
		if !g.table() {
			return cli.Usagef("--trace stdout: stdout carries only JSON with --output %s; use --trace stderr", g.output)
		}
		w = g.stdout
	default:
		return cli.Usagef("--trace %q: want stderr, stdout or none", t.trace)
	}
	// service.name is esimgw unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES say otherwise.
	res, err := resource.Merge(resource.NewSchemaless(attribute.String("service.name", "esimgw")), resource.Environment())
	if err != nil {
		return cli.Usagef("OTEL_RESOURCE_ATTRIBUTES: %v", err)
	}
	if w != nil {
		exp, err := stdouttrace.New(stdouttrace.WithWriter(w))
		if err != nil {
			return fmt.Errorf("trace exporter: %w", err)
		}
		// A syncer writes each span as it ends: a command that is interrupted or fails has written its
		// spans already.
		t.tp = sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithResource(res))
	}
	if t.metricsAddr == "" {
		return nil
	}
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes))
	if err != nil {
		return fmt.Errorf("prometheus exporter: %w", err)
	}
	t.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp), sdkmetric.WithResource(res))
	t.mux = http.NewServeMux()
	t.mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	ln, err := net.Listen("tcp", t.metricsAddr)
	if err != nil {
		return cli.Usagef("--metrics %s: %v", t.metricsAddr, err)
	}
	t.url = "http://" + ln.Addr().String()
	t.srv = &http.Server{Handler: t.mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = t.srv.Serve(ln) }()
	// Where it listens (with :0, the only way to know): among the progress lines for people, on stderr
	// when stdout is JSON.
	out := g.stderr
	if g.table() {
		out = g.stdout
	}
	fmt.Fprintf(out, "%-9s %s\n", "metrics", t.url) // /metrics on it
	return nil
}

// options are the telemetry options of every session a command starts.
func (t *telemetry) options() cli.StartOptions {
	var o cli.StartOptions
	if t.mp != nil {
		o.Dispatcher = append(o.Dispatcher, esimgw.WithDispatcherMeterProvider(t.mp))
		o.Server = append(o.Server, callback.WithMeterProvider(t.mp))
		o.Client = append(o.Client, esimgw.WithMeterProvider(t.mp))
	}
	if t.tp != nil {
		o.Dispatcher = append(o.Dispatcher, esimgw.WithDispatcherTracerProvider(t.tp))
		o.Client = append(o.Client, esimgw.WithTracerProvider(t.tp))
	}
	return o
}

// shutdown stops the --metrics server and flushes the providers once the command ended.
func (t *telemetry) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if t.srv != nil {
		_ = t.srv.Shutdown(ctx)
	}
	if t.mp != nil {
		_ = t.mp.Shutdown(ctx)
	}
	if t.tp != nil {
		_ = t.tp.Shutdown(ctx)
	}
}

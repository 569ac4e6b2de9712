package soap

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// traceRetry adds an "esimgw.retry" event to the span in ctx (the caller's, e.g. the esimgw client's span
// of the call) before a retry: the attempt that failed, why, and the wait. Without a recording span it
// costs a context lookup, and only on the retry path.
func traceRetry(ctx context.Context, attempt int, wait time.Duration, err error) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	span.AddEvent("esimgw.retry", trace.WithAttributes(
		attribute.Int("esimgw.attempt", attempt),
		attribute.Float64("esimgw.retry.wait_s", wait.Seconds()),
		attribute.String("exception.message", err.Error()),
	))
}

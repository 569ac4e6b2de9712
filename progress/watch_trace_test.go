package progress_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/es4"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/progress"
)

// Watch reads the settled result with Wait, so a traced ES4 operation shows two Wait spans, as its godoc
// says: the caller's, and the watcher's with esimgw.wait.ready true.
func TestWatchWaitSpanOfItsOwn(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	gw := gatewaytest.Start(t)
	op := gatewaytest.NewOperator(t, gw)
	c, err := es4.NewClient(gw.ES4URL, append(op.Options, esimgw.WithTracerProvider(tp))...)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	ref := esimgw.ProfileRef{EID: gatewaytest.DefaultEID, ICCID: gatewaytest.DefaultDisabledICCID}
	o, err := c.Manager().Enable(ctx, ref)
	require.NoError(t, err)
	watched := progress.Watch(ctx, progress.NewBoard(), o, progress.StageEnabled, ref)
	_, err = o.Wait(ctx)
	require.NoError(t, err)
	<-watched

	var ready []bool
	for _, s := range spans.Ended() {
		if s.Name() != "wait ES4/EnableProfile" {
			continue
		}
		for _, a := range s.Attributes() {
			if a.Key == attribute.Key("esimgw.wait.ready") {
				ready = append(ready, a.Value.AsBool())
			}
		}
	}
	assert.Len(t, ready, 2, "the caller's Wait and the watcher's")
	assert.Contains(t, ready, true, "the watcher's: the result was there")
}

package esimgw_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/es4"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// cannedTransport answers every request with the same 200 envelope, in memory, so that a benchmark
// measures the client's own path (encode, decode, telemetry) and not the network.
type cannedTransport struct{ body []byte }

func (c cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	_, _ = io.Copy(io.Discard, r.Body)
	_ = r.Body.Close()
	return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/soap+xml; charset=utf-8"}},
		Body:          io.NopCloser(bytes.NewReader(c.body)),
		ContentLength: int64(len(c.body)), Request: r}, nil
}

// BenchmarkTelemetryOverhead is a synchronous ES4 GetEIS over an in-memory transport, without telemetry,
// with OpenTelemetry's no-op providers and with the SDK (every span sampled, metrics aggregated). The
// issue's budget: no-op under 5% over none.
func BenchmarkTelemetryOverhead(b *testing.B) {
	eid, err := esimgw.ParseEID(gatewaytest.DefaultEID)
	if err != nil {
		b.Fatal(err)
	}
	resp := &rps.ES4GetEISResponse{
		BaseResponseType: rps.BaseResponseType{FunctionExecutionStatus: rps.ExecutionStatusType{Status: rps.StatusType(esimgw.StatusExecutedSuccess)}},
		Eis: &rps.EISType{EumSignedInfo: rps.EumSignedInfoType{Eid: eid}, SmsrID: "1.3.6.1.4.1.99.2", AvailableMemoryForProfiles: 1000,
			ProfileInfo: []rps.ProfileInfoType{{Iccid: gatewaytest.DefaultEnabledICCID, State: rps.ProfileStateTypeEnabled}}},
	}
	body := soap.AppendEnvelope(nil, &soap.Header{From: "https://smsr.example?EntityId=1.3.6.1.4.1.99.2", To: "http://localhost",
		MessageID: "//1.3.6.1.4.1.99.2/urn:uuid:c0ffee00-0000-4000-8000-000000000001", Action: "http://gsma.com/ES4/ProfileManagement/ES4-GetEISResponse"}, resp)
	sdkTP := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	sdkMP := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() { _ = sdkTP.Shutdown(context.Background()); _ = sdkMP.Shutdown(context.Background()) })
	for _, v := range []struct {
		name string
		opts []esimgw.Option
	}{
		{"none", nil},
		{"noop", []esimgw.Option{esimgw.WithTracerProvider(tracenoop.NewTracerProvider()), esimgw.WithMeterProvider(metricnoop.NewMeterProvider())}},
		{"sdk", []esimgw.Option{esimgw.WithTracerProvider(sdkTP), esimgw.WithMeterProvider(sdkMP)}},
	} {
		b.Run(v.name, func(b *testing.B) {
			c, err := es4.NewClient("https://smsr.example/ES4", append([]esimgw.Option{esimgw.WithEntity("1.3.6.1.4.1.99.1", ""),
				esimgw.WithHTTPClient(&http.Client{Transport: cannedTransport{body: body}}), esimgw.WithLogger(quietLogger())}, v.opts...)...)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.GetEIS(ctx, gatewaytest.DefaultEID); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package readme_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/callback"
	"github.com/esimgw/esimgw/campaign"
	"github.com/esimgw/esimgw/digirm"
	"github.com/esimgw/esimgw/digirm/digirmtest"
	"github.com/esimgw/esimgw/es4"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/mtls"
	"github.com/esimgw/esimgw/pgstore"
	"github.com/esimgw/esimgw/thingspace"
	"github.com/esimgw/esimgw/thingspace/thingspacetest"
)

// The documentation's Go blocks. A block is named by its file and the heading it is under
// ("README.md#Running several replicas", with " (2)" for a second block under the same heading); its copy
// here is the text between "// snippet <name> begin" and "// snippet <name> end", several such regions
// joined in order (a block may hold a function and the statements that call it). The free variables of a
// block are the parameters of the function around its copy. A block that is not a program (an API
// listing) says so on the line before its fence: <!-- not compiled: why -->.

// snippet README.md#One API for SGP.02, Verizon ThingSpace and Digi Remote Manager begin
func switchProfile(ctx context.Context, m esimgw.ProfileManager, eid, iccid string) error {
	op, err := m.Enable(ctx, esimgw.ProfileRef{EID: eid, ICCID: iccid})
	if err != nil {
		return err // *esimgw.ValidationError: nothing was sent
	}
	_, err = op.Wait(ctx) // *esimgw.FunctionError when the platform refused it
	return err
}

// snippet README.md#One API for SGP.02, Verizon ThingSpace and Digi Remote Manager end

func oneAPISample(ctx context.Context, es4Client *es4.Client, thingspaceClient *thingspace.Client, digiClient *digirm.Client,
	eid, iccid string) error {
	// snippet README.md#One API for SGP.02, Verizon ThingSpace and Digi Remote Manager begin
	for _, m := range []esimgw.ProfileManager{
		es4Client.Manager(), // SGP.02 ES4: result by SOAP callback
		thingspaceClient,    // ThingSpace: result by JSON callback
		digiClient,          // Digi Remote Manager: result by polling
	} {
		if err := switchProfile(ctx, m, eid, iccid); err != nil {
			return err
		}
	}
	// snippet README.md#One API for SGP.02, Verizon ThingSpace and Digi Remote Manager end
	return nil
}

// TestOneAPISampleRuns runs the README's ProfileManager sample on the three mocks: the profile is enabled
// on each, and a refusal comes back as an error.
func TestOneAPISampleRuns(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	gw := gatewaytest.Start(t)
	op := gatewaytest.NewOperator(t, gw)
	sgp, err := es4.NewClient(gw.ES4URL, op.Options...)
	require.NoError(t, err)
	ts := thingspacetest.NewServer()
	t.Cleanup(ts.Close)
	vz, err := thingspace.NewClient(ts.ClientOptions()...)
	require.NoError(t, err)
	recv := httptest.NewServer(vz.CallbackHandler())
	t.Cleanup(func() { recv.Close(); _ = vz.Close(context.Background()) })
	require.NoError(t, vz.RegisterCallback(ctx, "", recv.URL))
	drm := digirmtest.NewServer()
	t.Cleanup(drm.Close)
	digi, err := digirm.NewClient(drm.ClientOptions()...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = digi.Close() })

	require.NoError(t, oneAPISample(ctx, sgp, vz, digi, gatewaytest.DefaultEID, gatewaytest.DefaultDisabledICCID))
	e, ok := gw.EUICC(gatewaytest.DefaultEID)
	require.True(t, ok)
	p, _ := e.Enabled()
	assert.Equal(t, gatewaytest.DefaultDisabledICCID, p.ICCID, "ES4: enabled on the mock SM-SR")

	err = oneAPISample(ctx, sgp, vz, digi, gatewaytest.DefaultEID, "89310410000000009994") // no such profile
	var fe *esimgw.FunctionError
	assert.ErrorAs(t, err, &fe)
}

// replicasSample compiles the README's pgstore block (it needs a database at the address it names).
func replicasSample(ctx context.Context, url, myOID string, clientTLS *tls.Config) error {
	// snippet README.md#Running several replicas begin
	pool, err := pgxpool.New(ctx, "postgres://esimgw@db:5432/esimgw")
	if err != nil {
		return err
	}
	if err := pgstore.Migrate(ctx, pool); err != nil { // safe from every replica at once
		return err
	}
	store, err := pgstore.New(ctx, pool)
	if err != nil {
		return err
	}
	defer store.Close()
	dispatcher := esimgw.NewDispatcher(esimgw.WithStore(store) /* , your handlers */)
	client, err := es4.NewClient(url, esimgw.WithDispatcher(dispatcher), esimgw.WithReplyTo("https://lb.example.com/"),
		esimgw.WithEntity(myOID, "MyMNO"), esimgw.WithTLSConfig(clientTLS))
	if err != nil {
		return err
	}

	// After a restart: what is still pending, and a typed handle on any of it.
	pending, err := store.PendingOperations(ctx, 0)
	if err != nil || len(pending) == 0 {
		return err
	}
	op, err := client.Resume(ctx, pending[0].Key.FunctionCallIdentifier)
	if err != nil {
		return err
	}
	result, err := op.Wait(ctx) // at once if the callback came while nothing ran
	if err != nil {
		return err
	}
	log.Println(pending[0].Key.FunctionCallIdentifier, result.Outcome().Status)
	// snippet README.md#Running several replicas end
	return nil
}

// campaignSample compiles the README's campaign block.
func campaignSample(ctx context.Context, pool *pgxpool.Pool, file io.Reader, logger *slog.Logger, dispatcher *esimgw.Dispatcher,
	tlsCfg *tls.Config, es4Client *es4.Client, hostname string) error {
	// snippet README.md#Campaigns that survive restarts begin
	if err := campaign.Migrate(ctx, pool); err != nil { // River's tables and ours; safe from every replica
		return err
	}
	m, err := campaign.NewManager(pool)
	if err != nil {
		return err
	}
	rep, err := m.Create(ctx, campaign.Spec{Key: "fallback-2026-12", Function: "ES4.SetFallBackAttribute",
		Rate: 200, Burst: 20, MaxInFlight: 500}, campaign.CSV(file)) // eid,iccid lines, streamed, one transaction
	if err != nil {
		return err
	}
	log.Println(rep.Queued, "queued;", rep.BadCount, "bad lines:", rep.BadLines) // by number (RefuseBadInput: none queued)

	// in every worker process:
	rec := campaign.NewRecorder(pool, logger)
	srv, err := callback.NewServer(rec.Intercept(dispatcher), callback.WithTLS(tlsCfg))
	if err != nil {
		return err
	}
	if err := srv.Listen(":8443"); err != nil {
		return err
	}
	defer srv.Close()
	w, err := campaign.NewWorker(pool, campaign.Clients{ES4: es4Client}, campaign.WithWorkerID(hostname))
	if err != nil {
		return err
	}
	if err := w.Start(ctx); err != nil {
		return err
	}

	p, err := m.Progress(ctx, "fallback-2026-12") // counts by outcome and SGP.02 code, rate, ETA
	if err != nil {
		return err
	}
	log.Printf("%+v", p)
	// m.Pause, m.Resume, m.Cancel and m.RetryFailed take the key, and so does Export:
	return m.Export(ctx, "fallback-2026-12", os.Stdout, campaign.ExportCSV)
	// snippet README.md#Campaigns that survive restarts end
}

// telemetrySample compiles docs/telemetry.md's block.
func telemetrySample(traceExporter sdktrace.SpanExporter, prometheusExporter sdkmetric.Reader, src *mtls.Source, cas *x509.CertPool,
	url, myOID, replyTo string, clientTLS *tls.Config) error {
	// snippet docs/telemetry.md#Telemetry: spans and metrics begin
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(traceExporter))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(prometheusExporter))
	d := esimgw.NewDispatcher(esimgw.WithDispatcherTracerProvider(tp), esimgw.WithDispatcherMeterProvider(mp))
	srv, err := callback.NewServer(d, callback.WithCertificate(src, cas), callback.WithMeterProvider(mp))
	if err != nil {
		return err
	}
	c, err := es4.NewClient(url, esimgw.WithDispatcher(d), esimgw.WithTracerProvider(tp), esimgw.WithMeterProvider(mp),
		esimgw.WithEntity(myOID, "MyMNO"), esimgw.WithTLSConfig(clientTLS), esimgw.WithReplyTo(replyTo))
	// snippet docs/telemetry.md#Telemetry: spans and metrics end
	_, _ = srv, c
	return err
}

// The samples that need a database or an exporter are compiled, not run.
var _ = []any{replicasSample, campaignSample, telemetrySample}

// docBlock is a ```go block of a Markdown file.
type docBlock struct {
	name, code string
	line       int
	compiled   bool // false when marked <!-- not compiled: ... -->
}

var notCompiled = regexp.MustCompile(`^<!-- not compiled: .+ -->$`)

// readBlocks returns the ```go blocks of a Markdown file.
func readBlocks(t *testing.T, path, display string) []docBlock {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var blocks []docBlock
	heading, prev := "", ""
	perHeading := map[string]int{}
	var cur *docBlock
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur != nil && strings.HasPrefix(line, "```"):
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.code += line + "\n"
		case strings.HasPrefix(line, "```go"):
			perHeading[heading]++
			name := display + "#" + heading
			if k := perHeading[heading]; k > 1 {
				name += fmt.Sprintf(" (%d)", k)
			}
			cur = &docBlock{name: name, line: n, compiled: !notCompiled.MatchString(strings.TrimSpace(prev))}
		case strings.HasPrefix(line, "#"):
			heading = strings.TrimSpace(strings.TrimLeft(line, "#"))
		}
		if strings.TrimSpace(line) != "" {
			prev = line
		}
	}
	require.NoError(t, sc.Err())
	require.Nil(t, cur, "%s: a ```go block opened on line %d is never closed", display, func() int {
		if cur != nil {
			return cur.line
		}
		return 0
	}())
	return blocks
}

// copies returns the snippet regions of this package's test files, joined by name.
func copies(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("*_test.go")
	require.NoError(t, err)
	marker := regexp.MustCompile(`^\s*// snippet (.+) (begin|end)$`)
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		open := ""
		for i, line := range strings.Split(string(b), "\n") {
			if m := marker.FindStringSubmatch(line); m != nil {
				switch {
				case m[2] == "begin" && open == "":
					open = m[1]
				case m[2] == "end" && open == m[1]:
					open = ""
				default:
					t.Fatalf("%s:%d: unbalanced snippet marker %q", f, i+1, line)
				}
				continue
			}
			if open != "" {
				out[open] += line + "\n"
			}
		}
		require.Empty(t, open, "%s: snippet %q is never closed", f, open)
	}
	return out
}

// normalize drops blank lines and indentation and collapses spaces, so that gofmt's layout of the copy and
// the Markdown's may differ.
func normalize(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, strings.Join(strings.Fields(l), " "))
		}
	}
	return strings.Join(out, "\n")
}

// TestEveryDocSnippetIsHere fails when a ```go block of README.md or docs/*.md has no compiled copy in this
// package, when a copy differs from its block, and when a copy's block is gone.
func TestEveryDocSnippetIsHere(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	require.NoError(t, err)
	paths := append([]string{filepath.Join(root, "README.md")}, docs...)
	have := copies(t)
	seen := map[string]bool{}
	compiled := 0
	for _, p := range paths {
		display, err := filepath.Rel(root, p)
		require.NoError(t, err)
		for _, b := range readBlocks(t, p, filepath.ToSlash(display)) {
			if !b.compiled {
				continue
			}
			compiled++
			seen[b.name] = true
			code, ok := have[b.name]
			if !assert.True(t, ok, "%s (line %d): no copy in examples/internal/readme: add one between\n"+
				"\t// snippet %s begin\n\t// snippet %s end\nor mark the block <!-- not compiled: why -->", b.name, b.line, b.name, b.name) {
				continue
			}
			assert.Equal(t, normalize(b.code), normalize(code), "%s (line %d) and its copy differ", b.name, b.line)
		}
	}
	for name := range have {
		assert.True(t, seen[name], "snippet %q: no such ```go block in the documentation", name)
	}
	assert.GreaterOrEqual(t, compiled, 5, "the README's and docs' Go blocks")
}

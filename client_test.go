package esimgw_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

const (
	testEndpoint = "https://smsr.example.net/esim-messaging/3/ES4/ES4SmSrService"
	ourOID       = "1.3.6.1.4.1.99999.10"
	peerOID      = "1.3.6.1.4.1.99999.20"
	vendorOID    = "1.3.6.1.4.1.54008"
	otherVendor  = "1.3.6.1.4.1.54009"
	replyURL     = "https://mno.example.org/rsp/callbacks"
	testEID      = "89049032123451234512345678901235"
	testICCID    = "89310410106543789305"
)

var testNow = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// generous bounds a wait that must end; it is never a performance assertion.
const generous = 20 * time.Second

// logBuffer is a goroutine-safe log sink for asserting on what was logged.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// count returns the number of log lines containing s.
func (b *logBuffer) count(s string) int {
	n := 0
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.Contains(line, s) {
			n++
		}
	}
	return n
}

func newLogBuffer() (*logBuffer, *slog.Logger) {
	b := &logBuffer{}
	return b, slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// fakeGateway is an httpmock transport that records every request envelope and answers with respond.
type fakeGateway struct {
	mt      *httpmock.MockTransport
	mu      sync.Mutex
	msgs    []*soap.Message
	respond func(m *soap.Message) (*http.Response, error)
}

func newFakeGateway(t *testing.T, respond func(m *soap.Message) (*http.Response, error)) *fakeGateway {
	t.Helper()
	g := &fakeGateway{mt: httpmock.NewMockTransport(), respond: respond}
	g.mt.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		data, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		m, err := soap.ReadMessage(data, soap.ReadOptions{})
		if err != nil {
			t.Errorf("the client sent something that is not an envelope: %v\n%s", err, data)
			return nil, err
		}
		m.HTTPHeader = r.Header
		g.mu.Lock()
		g.msgs = append(g.msgs, m)
		g.mu.Unlock()
		if g.respond == nil {
			return accepted(), nil
		}
		return g.respond(m)
	})
	return g
}

func (g *fakeGateway) sent() []*soap.Message {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]*soap.Message(nil), g.msgs...)
}

func (g *fakeGateway) last(t *testing.T) *soap.Message {
	t.Helper()
	msgs := g.sent()
	require.NotEmpty(t, msgs, "nothing was sent")
	return msgs[len(msgs)-1]
}

func accepted() *http.Response { return httpmock.NewBytesResponse(http.StatusAccepted, nil) }

// soapResponse answers status with an envelope carrying body.
func soapResponse(status int, h *soap.Header, body soap.BodyWriter) *http.Response {
	if h == nil {
		h = &soap.Header{}
	}
	r := httpmock.NewBytesResponse(status, soap.AppendEnvelope(nil, h, body))
	r.Header.Set("Content-Type", "application/soap+xml; charset=utf-8")
	return r
}

func respondWith(r func() *http.Response) func(*soap.Message) (*http.Response, error) {
	return func(*soap.Message) (*http.Response, error) { return r(), nil }
}

// baseOptions are the options every engine test starts from.
func baseOptions(g *fakeGateway) []esimgw.Option {
	return []esimgw.Option{
		esimgw.WithHTTPClient(&http.Client{Transport: g.mt}),
		esimgw.WithEntity(ourOID, "ExampleMNO"),
		esimgw.WithLogger(quietLogger()),
		esimgw.WithClock(func() time.Time { return testNow }),
		esimgw.WithSOAPOptions(soap.WithRetryPolicy(soap.RetryPolicy{MaxAttempts: 1})),
	}
}

func newEngine(t *testing.T, iface string, g *fakeGateway, opts ...esimgw.Option) *esimgw.Client {
	t.Helper()
	c, err := esimgw.NewClient(iface, testEndpoint, append(baseOptions(g), opts...)...)
	require.NoError(t, err)
	return c
}

func mustFunction(t testing.TB, iface rps.Interface, name string) rps.Function {
	t.Helper()
	fn, ok := rps.FunctionByName(iface, name)
	require.True(t, ok, "no function %s %s", iface, name)
	return fn
}

// decodeRequest decodes the body of a sent request.
func decodeRequest(t *testing.T, m *soap.Message) rps.Request {
	t.Helper()
	el, ok := rps.NewElement(m.BodyName)
	require.True(t, ok, "unknown body element %s", m.BodyName)
	require.NoError(t, m.DecodeBody(el))
	req, ok := el.(rps.Request)
	require.True(t, ok, "%s is not a request", m.BodyName)
	return req
}

func enableRequest() *rps.ES4EnableProfileRequest {
	eid, _ := rps.ParseHexBinary(testEID)
	return &rps.ES4EnableProfileRequest{Eid: eid, Iccid: testICCID}
}

func statusBase(status rps.StatusType, codes ...string) rps.BaseResponseType {
	b := rps.BaseResponseType{FunctionExecutionStatus: rps.ExecutionStatusType{Status: status}}
	if len(codes) > 0 {
		d := &rps.StatusCodeDataType{Subject: codes[0], Reason: codes[1]}
		if len(codes) > 2 {
			d.SubjectIdentifier = codes[2]
		}
		if len(codes) > 3 {
			d.Message = codes[3]
		}
		b.FunctionExecutionStatus.StatusCodeData = d
	}
	return b
}

func TestNewClientValidation(t *testing.T) {
	g := newFakeGateway(t, nil)
	tests := []struct {
		name      string
		iface     string
		endpoint  string
		opts      []esimgw.Option
		noEntity  bool
		wantField string // "" with wantErr: an error that is not a ValidationError
		wantErr   bool
	}{
		{name: "ok ES4", iface: "ES4", endpoint: testEndpoint},
		{name: "ok ES2", iface: "ES2", endpoint: "https://smdp.example.net/esim-messaging/3/ES2/ES2SmDpService"},
		{name: "ok everything set", iface: "ES4", endpoint: testEndpoint, opts: []esimgw.Option{
			esimgw.WithProviderEntityID(vendorOID), esimgw.WithPeerEntityID(peerOID),
			esimgw.WithValidityPeriod(720 * time.Second), esimgw.WithReplyTo(replyURL), esimgw.WithKPN(),
		}},
		{name: "unknown interface", iface: "ES3", endpoint: testEndpoint, wantErr: true},
		{name: "empty endpoint", iface: "ES4", endpoint: "", wantErr: true, wantField: "endpoint"},
		{name: "relative endpoint", iface: "ES4", endpoint: "/esim-messaging/3/ES4", wantErr: true, wantField: "endpoint"},
		{name: "no host", iface: "ES4", endpoint: "https://", wantErr: true, wantField: "endpoint"},
		{name: "unparsable endpoint", iface: "ES4", endpoint: "https://smsr example/%zz", wantErr: true, wantField: "endpoint"},
		{name: "ftp scheme", iface: "ES4", endpoint: "ftp://smsr.example.net/x", wantErr: true, wantField: "endpoint"},
		{name: "http refused", iface: "ES4", endpoint: "http://smsr.example.net/x", wantErr: true, wantField: "endpoint"},
		{name: "http allowed explicitly", iface: "ES4", endpoint: "http://smsr.example.net/x", opts: []esimgw.Option{esimgw.WithPlainHTTPEndpoint()}},
		{name: "no EntityId", iface: "ES4", endpoint: testEndpoint, noEntity: true, wantErr: true, wantField: "EntityId"},
		{name: "EntityId not an OID", iface: "ES4", endpoint: testEndpoint, opts: []esimgw.Option{esimgw.WithEntity("kpn", "")}, wantErr: true, wantField: "EntityId"},
		{name: "EntityId trailing dot", iface: "ES4", endpoint: testEndpoint, opts: []esimgw.Option{esimgw.WithEntity("1.3.6.", "")}, wantErr: true, wantField: "EntityId"},
		{name: "provider not an OID", iface: "ES4", endpoint: testEndpoint, opts: []esimgw.Option{esimgw.WithProviderEntityID("vendor")}, wantErr: true, wantField: "X-KPN-ProviderEntityId"},
		{name: "peer not an OID", iface: "ES4", endpoint: testEndpoint, opts: []esimgw.Option{esimgw.WithPeerEntityID("1..2")}, wantErr: true, wantField: "peer EntityId"},
		{name: "validity below a second", iface: "ES4", endpoint: testEndpoint, opts: []esimgw.Option{esimgw.WithValidityPeriod(500 * time.Millisecond)}, wantErr: true, wantField: esimgw.FieldValidityPeriod},
		{name: "validity fractional", iface: "ES4", endpoint: testEndpoint, opts: []esimgw.Option{esimgw.WithValidityPeriod(1500 * time.Millisecond)}, wantErr: true, wantField: esimgw.FieldValidityPeriod},
		{name: "validity negative", iface: "ES4", endpoint: testEndpoint, opts: []esimgw.Option{esimgw.WithValidityPeriod(-time.Minute)}, wantErr: true, wantField: esimgw.FieldValidityPeriod},
		{name: "From base with a query", iface: "ES4", endpoint: testEndpoint, opts: []esimgw.Option{esimgw.WithFromAddress("https://mno.example.org/?a=b")}, wantErr: true, wantField: "From"},
		{name: "From base with a fragment", iface: "ES4", endpoint: testEndpoint, opts: []esimgw.Option{esimgw.WithFromAddress("https://mno.example.org/#x")}, wantErr: true, wantField: "From"},
		{name: "endpoint with a query", iface: "ES4", endpoint: testEndpoint + "?tenant=7"},
		{name: "endpoint with a query and a peer EntityId", iface: "ES4", endpoint: testEndpoint + "?tenant=7",
			opts: []esimgw.Option{esimgw.WithPeerEntityID(peerOID)}, wantErr: true, wantField: "endpoint"},
		{name: "replyTo relative", iface: "ES4", endpoint: testEndpoint, opts: []esimgw.Option{esimgw.WithReplyTo("/callbacks")}, wantErr: true, wantField: "replyTo"},
		{name: "replyTo unparsable", iface: "ES4", endpoint: testEndpoint, opts: []esimgw.Option{esimgw.WithReplyTo("https://mno example/%zz")}, wantErr: true, wantField: "replyTo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := baseOptions(g)
			if tt.noEntity {
				opts = append(opts, esimgw.WithEntity("", ""))
			}
			c, err := esimgw.NewClient(tt.iface, tt.endpoint, append(opts, tt.opts...)...)
			if !tt.wantErr {
				require.NoError(t, err)
				assert.Equal(t, tt.iface, c.Interface())
				assert.Equal(t, tt.endpoint, c.Endpoint())
				return
			}
			require.Error(t, err)
			assert.Nil(t, c)
			var ve *esimgw.ValidationError
			if tt.wantField == "" {
				assert.False(t, errors.As(err, &ve), "want a plain error, got %v", err)
				return
			}
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tt.wantField, ve.Field)
		})
	}
}

func TestClientAddresses(t *testing.T) {
	tests := []struct {
		name     string
		opts     []esimgw.Option
		callOpts []esimgw.CallOption
		wantFrom string
		wantTo   string
	}{
		{
			name:     "default separator is &",
			opts:     []esimgw.Option{esimgw.WithFromAddress("https://mno.example.org")},
			wantFrom: "https://mno.example.org?EntityId=" + ourOID + "&EntityName=ExampleMNO",
			wantTo:   testEndpoint,
		},
		{
			name:     "From base defaults to replyTo",
			opts:     []esimgw.Option{esimgw.WithReplyTo(replyURL)},
			wantFrom: replyURL + "?EntityId=" + ourOID + "&EntityName=ExampleMNO",
			wantTo:   testEndpoint,
		},
		{
			name:     "From base is the replyTo without its query and fragment",
			opts:     []esimgw.Option{esimgw.WithKPN(), esimgw.WithReplyTo(replyURL + "?tenant=7#frag")},
			wantFrom: replyURL + "?EntityId=" + ourOID + "?EntityName=ExampleMNO",
			wantTo:   testEndpoint,
		},
		{
			name:     "From base without replyTo",
			wantFrom: "http://localhost?EntityId=" + ourOID + "&EntityName=ExampleMNO",
			wantTo:   testEndpoint,
		},
		{
			name:     "KPN uses ? and the peer EntityId goes into To",
			opts:     []esimgw.Option{esimgw.WithKPN(), esimgw.WithFromAddress("https://mno.example.org"), esimgw.WithPeerEntityID(peerOID)},
			wantFrom: "https://mno.example.org?EntityId=" + ourOID + "?EntityName=ExampleMNO",
			wantTo:   testEndpoint + "?EntityId=" + peerOID,
		},
		{
			name:     "WithAddressSeparator ? without KPN",
			opts:     []esimgw.Option{esimgw.WithAddressSeparator(soap.SeparatorQuestion), esimgw.WithFromAddress("https://mno.example.org")},
			wantFrom: "https://mno.example.org?EntityId=" + ourOID + "?EntityName=ExampleMNO",
			wantTo:   testEndpoint,
		},
		{
			name:     "explicit separator beats KPN",
			opts:     []esimgw.Option{esimgw.WithKPN(), esimgw.WithAddressSeparator(soap.SeparatorAmpersand), esimgw.WithFromAddress("https://mno.example.org")},
			wantFrom: "https://mno.example.org?EntityId=" + ourOID + "&EntityName=ExampleMNO",
			wantTo:   testEndpoint,
		},
		{
			name:     "client-wide provider",
			opts:     []esimgw.Option{esimgw.WithKPN(), esimgw.WithFromAddress("http://rsp.kpnthings.com"), esimgw.WithProviderEntityID(vendorOID)},
			wantFrom: "http://rsp.kpnthings.com?EntityId=" + ourOID + "?EntityName=ExampleMNO?X-KPN-ProviderEntityId=" + vendorOID,
			wantTo:   testEndpoint,
		},
		{
			name:     "per-call provider",
			opts:     []esimgw.Option{esimgw.WithKPN(), esimgw.WithFromAddress("http://rsp.kpnthings.com")},
			callOpts: []esimgw.CallOption{esimgw.WithCallProviderEntityID(otherVendor)},
			wantFrom: "http://rsp.kpnthings.com?EntityId=" + ourOID + "?EntityName=ExampleMNO?X-KPN-ProviderEntityId=" + otherVendor,
			wantTo:   testEndpoint,
		},
		{
			name:     "per-call provider replaces the client-wide one",
			opts:     []esimgw.Option{esimgw.WithKPN(), esimgw.WithFromAddress("http://rsp.kpnthings.com"), esimgw.WithProviderEntityID(vendorOID)},
			callOpts: []esimgw.CallOption{esimgw.WithCallProviderEntityID(otherVendor)},
			wantFrom: "http://rsp.kpnthings.com?EntityId=" + ourOID + "?EntityName=ExampleMNO?X-KPN-ProviderEntityId=" + otherVendor,
			wantTo:   testEndpoint,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newFakeGateway(t, respondWith(func() *http.Response {
				return soapResponse(http.StatusOK, nil, &rps.ES4GetEISResponse{BaseResponseType: statusBase(rps.StatusTypeEXECUTED_SUCCESS)})
			}))
			c := newEngine(t, "ES4", g, tt.opts...)
			_, err := c.Call(context.Background(), mustFunction(t, rps.ES4, "GetEIS"), &rps.ES4GetEISRequest{}, &rps.ES4GetEISResponse{}, tt.callOpts...)
			require.NoError(t, err)
			m := g.last(t)
			assert.Equal(t, tt.wantFrom, m.Header.From)
			assert.Equal(t, tt.wantTo, m.Header.To)
			from, err := soap.ParseEntityAddress(m.Header.From)
			require.NoError(t, err)
			require.NoError(t, from.Validate(), "our own From must pass the strict checks")
			assert.Equal(t, ourOID, from.EntityID)
		})
	}

	t.Run("per-call provider is validated", func(t *testing.T) {
		g := newFakeGateway(t, nil)
		c := newEngine(t, "ES4", g, esimgw.WithKPN())
		_, err := c.Call(context.Background(), mustFunction(t, rps.ES4, "GetEIS"), &rps.ES4GetEISRequest{}, &rps.ES4GetEISResponse{},
			esimgw.WithCallProviderEntityID("not-an-oid"))
		var ve *esimgw.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, "X-KPN-ProviderEntityId", ve.Field)
		assert.Empty(t, g.sent(), "an invalid call must not be sent")
	})
}

func TestClientMessageIDAndFunctionCallIdentifier(t *testing.T) {
	tests := []struct {
		name     string
		fcID     string // "" generates one
		wantTxFC bool   // TransactionId equals the FunctionCallIdentifier
	}{
		{name: "generated", wantTxFC: true},
		{name: "caller-given URL-safe", fcID: "fc-2024.05:01_0001~a", wantTxFC: true},
		{name: "caller-given with & ? = and space", fcID: "fc 1&2?x=y", wantTxFC: false},
		{name: "caller-given with slash and percent", fcID: "fc/1%41", wantTxFC: false},
		{name: "caller-given non-ASCII", fcID: "fc-é", wantTxFC: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newFakeGateway(t, nil)
			d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(quietLogger()))
			c := newEngine(t, "ES4", g, esimgw.WithReplyTo(replyURL), esimgw.WithDispatcher(d))
			var opts []esimgw.CallOption
			if tt.fcID != "" {
				opts = append(opts, esimgw.WithFunctionCallIdentifier(tt.fcID))
			}
			p, x, err := c.Start(context.Background(), mustFunction(t, rps.ES4, "EnableProfile"), enableRequest(), &rps.ES4EnableProfileResponse{}, opts...)
			require.NoError(t, err)
			m := g.last(t)
			req := decodeRequest(t, m)
			fcID := req.RequestBase().FunctionCallIdentifier
			if tt.fcID != "" {
				assert.Equal(t, tt.fcID, fcID)
			}

			mid, err := soap.ParseMessageID(m.Header.MessageID)
			require.NoError(t, err)
			require.NoError(t, mid.Validate())
			assert.Equal(t, ourOID, mid.Sender)
			assert.True(t, strings.HasPrefix(mid.ID, "urn:uuid:"), mid.ID)
			assert.True(t, mid.MessageDate.Equal(testNow), "MessageDate %v", mid.MessageDate)
			if tt.wantTxFC {
				assert.Equal(t, fcID, mid.TransactionID)
			} else {
				assert.NotEqual(t, fcID, mid.TransactionID)
				assert.True(t, strings.HasPrefix(mid.TransactionID, "urn:uuid:"), "a generated TransactionId, got %q", mid.TransactionID)
			}
			assert.Equal(t, mid.TransactionID, correlate.TransactionIDFromMessageID(m.Header.MessageID))

			// The key the operation is tracked under is what went on the wire.
			key := p.Key()
			assert.Equal(t, x.Key, key)
			assert.Equal(t, m.Header.MessageID, key.MessageID)
			assert.Equal(t, mid.TransactionID, key.TransactionID)
			assert.Equal(t, fcID, key.FunctionCallIdentifier)
			assert.Equal(t, "ES4", key.Interface)
			assert.Equal(t, "EnableProfile", key.Function)

			// A gSOAP-style callback (no RelatesTo) carrying that TransactionId resolves it.
			cb := soap.NewMessageIDInTransaction(peerOID, mid.TransactionID, testNow.Add(time.Minute))
			_, err = d.ServeSOAP(context.Background(), readMessage(t, &soap.Header{MessageID: cb.String()},
				&rps.ES4EnableProfileResponse{BaseResponseType: statusBase(rps.StatusTypeEXECUTED_SUCCESS)}))
			require.NoError(t, err)
			assertClosed(t, p.Done())
		})
	}

	t.Run("invalid caller-given identifier is refused before sending", func(t *testing.T) {
		g := newFakeGateway(t, nil)
		c := newEngine(t, "ES4", g)
		for _, id := range []string{"fc\x01", strings.Repeat("x", esimgw.MaxFunctionCallIdentifierLength+1), "\xff"} {
			_, err := c.Call(context.Background(), mustFunction(t, rps.ES4, "GetEIS"), &rps.ES4GetEISRequest{}, &rps.ES4GetEISResponse{},
				esimgw.WithFunctionCallIdentifier(id))
			var ve *esimgw.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, esimgw.FieldFunctionCallIdentifier, ve.Field)
		}
		assert.Empty(t, g.sent())
	})

	t.Run("every call gets fresh identifiers", func(t *testing.T) {
		g := newFakeGateway(t, respondWith(func() *http.Response {
			return soapResponse(http.StatusOK, nil, &rps.ES4GetEISResponse{BaseResponseType: statusBase(rps.StatusTypeEXECUTED_SUCCESS)})
		}))
		c := newEngine(t, "ES4", g)
		seen := map[string]bool{}
		for range 20 {
			x, err := c.Call(context.Background(), mustFunction(t, rps.ES4, "GetEIS"), &rps.ES4GetEISRequest{}, &rps.ES4GetEISResponse{})
			require.NoError(t, err)
			for _, v := range []string{x.Key.MessageID, x.Key.TransactionID} {
				assert.False(t, seen[v], "repeated identifier %s", v)
				seen[v] = true
			}
		}
	})
}

// TestClientActionsFromTable sends every function of the table through the engine and checks the
// Action, the body element and the ReplyTo rule (async only).
func TestClientActionsFromTable(t *testing.T) {
	for _, fn := range rps.Functions() {
		t.Run(string(fn.Interface)+"-"+fn.Name, func(t *testing.T) {
			reqEl, ok := fn.NewRequest()
			require.True(t, ok)
			respEl, ok := fn.NewResponse()
			require.True(t, ok)
			req, resp := reqEl.(rps.Request), respEl.(rps.Response)

			g := newFakeGateway(t, func(m *soap.Message) (*http.Response, error) {
				if fn.Mode == rps.Async {
					return accepted(), nil
				}
				r, _ := fn.NewResponse()
				r.(rps.Response).ResponseBase().FunctionExecutionStatus.Status = rps.StatusTypeEXECUTED_SUCCESS
				return soapResponse(http.StatusOK, &soap.Header{RelatesTo: m.Header.MessageID, Action: fn.ResponseAction}, r), nil
			})
			d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(quietLogger()))
			c := newEngine(t, string(fn.Interface), g, esimgw.WithReplyTo(replyURL), esimgw.WithDispatcher(d))
			if fn.Mode == rps.Async {
				_, x, err := c.Start(context.Background(), fn, req, resp)
				require.NoError(t, err)
				assert.Nil(t, x.Response)
				assert.Equal(t, 1, d.Tracker().Pending())
			} else {
				x, err := c.Call(context.Background(), fn, req, resp)
				require.NoError(t, err)
				require.NotNil(t, x.Response)
				assert.Equal(t, fn.ResponseElement, x.Response.BodyName)
			}
			m := g.last(t)
			assert.Equal(t, fn.RequestAction, m.Header.Action)
			assert.Contains(t, m.HTTPHeader.Get("Content-Type"), `action="`+fn.RequestAction+`"`)
			assert.Equal(t, fn.RequestElement, m.BodyName)
			assert.Equal(t, rps.Namespace, m.BodySpace)
			assert.Empty(t, m.Header.RelatesTo)
			if fn.Mode == rps.Async {
				assert.Equal(t, replyURL, m.Header.ReplyTo)
			} else {
				assert.Empty(t, m.Header.ReplyTo, "a synchronous request carries no ReplyTo")
			}
		})
	}
}

func TestClientReplyTo(t *testing.T) {
	enable := func(t *testing.T) rps.Function { return mustFunction(t, rps.ES4, "EnableProfile") }
	tests := []struct {
		name        string
		opts        []esimgw.Option
		callOpts    []esimgw.CallOption
		noDispatch  bool
		wantErr     error
		wantReplyTo string
	}{
		{name: "client-wide", opts: []esimgw.Option{esimgw.WithReplyTo(replyURL)}, wantReplyTo: replyURL},
		{name: "per call overrides", opts: []esimgw.Option{esimgw.WithReplyTo(replyURL)},
			callOpts: []esimgw.CallOption{esimgw.WithCallReplyTo("https://mno.example.org/other")}, wantReplyTo: "https://mno.example.org/other"},
		{name: "per call only", callOpts: []esimgw.CallOption{esimgw.WithCallReplyTo(replyURL)}, wantReplyTo: replyURL},
		{name: "missing", wantErr: esimgw.ErrNoReplyTo},
		{name: "missing, opted out", opts: []esimgw.Option{esimgw.WithoutReplyTo()}, wantReplyTo: ""},
		{name: "no dispatcher", opts: []esimgw.Option{esimgw.WithReplyTo(replyURL)}, noDispatch: true, wantErr: esimgw.ErrNoDispatcher},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newFakeGateway(t, nil)
			d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(quietLogger()))
			opts := tt.opts
			if !tt.noDispatch {
				opts = append(opts, esimgw.WithDispatcher(d))
			}
			c := newEngine(t, "ES4", g, opts...)
			p, _, err := c.Start(context.Background(), enable(t), enableRequest(), &rps.ES4EnableProfileResponse{}, tt.callOpts...)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Nil(t, p)
				assert.Empty(t, g.sent(), "a refused call must not be sent")
				assert.Zero(t, d.Tracker().Pending())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantReplyTo, g.last(t).Header.ReplyTo)
		})
	}

	t.Run("Call of an async function also refuses without replyTo", func(t *testing.T) {
		g := newFakeGateway(t, nil)
		c := newEngine(t, "ES4", g)
		_, err := c.Call(context.Background(), enable(t), enableRequest(), &rps.ES4EnableProfileResponse{})
		require.ErrorIs(t, err, esimgw.ErrNoReplyTo)
		assert.Empty(t, g.sent())
	})
}

func TestClientValidityPeriod(t *testing.T) {
	tests := []struct {
		name     string
		function string
		opts     []esimgw.Option
		callOpts []esimgw.CallOption
		want     rps.PositiveInteger
		wantWarn bool
		wantErr  string // ValidationError field
	}{
		{name: "none by default", function: "EnableProfile", want: 0},
		{name: "client default", function: "EnableProfile", opts: []esimgw.Option{esimgw.WithValidityPeriod(10 * time.Minute)}, want: 600},
		{name: "per call beats client default", function: "EnableProfile", opts: []esimgw.Option{esimgw.WithValidityPeriod(10 * time.Minute)},
			callOpts: []esimgw.CallOption{esimgw.WithCallValidityPeriod(300 * time.Second)}, want: 300},
		{name: "per call invalid", function: "EnableProfile", callOpts: []esimgw.CallOption{esimgw.WithCallValidityPeriod(1500 * time.Millisecond)},
			wantErr: esimgw.FieldValidityPeriod},
		{name: "KPN SetFallBackAttribute default 720", function: "SetFallBackAttribute", opts: []esimgw.Option{esimgw.WithKPN()}, want: 720},
		{name: "KPN SetFallBackAttribute asked 720", function: "SetFallBackAttribute", opts: []esimgw.Option{esimgw.WithKPN()},
			callOpts: []esimgw.CallOption{esimgw.WithCallValidityPeriod(720 * time.Second)}, want: 720},
		{name: "KPN SetFallBackAttribute asked 300 is forced to 720 with a warning", function: "SetFallBackAttribute", opts: []esimgw.Option{esimgw.WithKPN()},
			callOpts: []esimgw.CallOption{esimgw.WithCallValidityPeriod(300 * time.Second)}, want: 720, wantWarn: true},
		{name: "KPN SetFallBackAttribute client default is forced too", function: "SetFallBackAttribute",
			opts: []esimgw.Option{esimgw.WithKPN(), esimgw.WithValidityPeriod(time.Hour)}, want: 720, wantWarn: true},
		{name: "KPN other functions keep the asked period", function: "EnableProfile", opts: []esimgw.Option{esimgw.WithKPN()},
			callOpts: []esimgw.CallOption{esimgw.WithCallValidityPeriod(300 * time.Second)}, want: 300},
		{name: "non-KPN SetFallBackAttribute keeps the asked period", function: "SetFallBackAttribute",
			callOpts: []esimgw.CallOption{esimgw.WithCallValidityPeriod(300 * time.Second)}, want: 300},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs, logger := newLogBuffer()
			g := newFakeGateway(t, nil)
			d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(quietLogger()))
			opts := append([]esimgw.Option{esimgw.WithReplyTo(replyURL), esimgw.WithDispatcher(d)}, tt.opts...)
			c := newEngine(t, "ES4", g, append(opts, esimgw.WithLogger(logger))...)
			fn := mustFunction(t, rps.ES4, tt.function)
			reqEl, _ := fn.NewRequest()
			respEl, _ := fn.NewResponse()
			_, _, err := c.Start(context.Background(), fn, reqEl.(rps.Request), respEl.(rps.Response), tt.callOpts...)
			if tt.wantErr != "" {
				var ve *esimgw.ValidationError
				require.ErrorAs(t, err, &ve)
				assert.Equal(t, tt.wantErr, ve.Field)
				assert.Empty(t, g.sent())
				return
			}
			require.NoError(t, err)
			m := g.last(t)
			assert.Equal(t, tt.want, decodeRequest(t, m).RequestBase().ValidityPeriod)
			if tt.want == 0 {
				assert.NotContains(t, string(m.Raw()), "ValidityPeriod")
			} else {
				assert.Contains(t, string(m.Raw()), ">"+strings.TrimSpace(itoa(uint64(tt.want)))+"</rps:ValidityPeriod>")
			}
			if tt.wantWarn {
				assert.Equal(t, 1, logs.count("level=WARN"), "one warning: %s", logs)
				assert.Contains(t, logs.String(), "720")
			} else {
				assert.Zero(t, logs.count("level=WARN"), "no warning: %s", logs)
			}
		})
	}
}

func itoa(v uint64) string {
	if v == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for v > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return string(b[i:])
}

func TestClientCall(t *testing.T) {
	euiccData := rps.HexBinary{0xAB, 0xCD, 0x01}
	tests := []struct {
		name     string
		function string
		respond  func() *http.Response
		check    func(t *testing.T, x *esimgw.Exchange, resp rps.Response, err error)
	}{
		{
			name: "success", function: "GetEIS",
			respond: func() *http.Response {
				return soapResponse(http.StatusOK, nil, &rps.ES4GetEISResponse{BaseResponseType: statusBase(rps.StatusTypeEXECUTED_SUCCESS),
					Eis: &rps.EISType{SmsrID: "1.3.6.1.4.1.99999.20"}})
			},
			check: func(t *testing.T, x *esimgw.Exchange, resp rps.Response, err error) {
				require.NoError(t, err)
				assert.Nil(t, x.Warning)
				assert.Equal(t, 1, x.Attempts)
				require.NotNil(t, resp.(*rps.ES4GetEISResponse).Eis)
				assert.Equal(t, "1.3.6.1.4.1.99999.20", resp.(*rps.ES4GetEISResponse).Eis.SmsrID)
			},
		},
		{
			name: "warning", function: "GetEIS",
			respond: func() *http.Response {
				return soapResponse(http.StatusOK, nil, &rps.ES4GetEISResponse{BaseResponseType: statusBase(rps.StatusTypeEXECUTED_WITHWARNING, "8.1", "1.2", "", "partial")})
			},
			check: func(t *testing.T, x *esimgw.Exchange, _ rps.Response, err error) {
				require.NoError(t, err)
				require.NotNil(t, x.Warning)
				assert.Equal(t, esimgw.StatusExecutedWithWarning, x.Warning.Status)
				assert.Equal(t, "8.1", x.Warning.Subject)
				assert.Equal(t, "1.2", x.Warning.Reason)
				assert.Equal(t, "partial", x.Warning.Message)
			},
		},
		{
			name: "FAILED with AcceptableValidityPeriod", function: "GetEIS",
			respond: func() *http.Response {
				b := statusBase(rps.StatusTypeFAILED, "8.1", "3.3", testEID, "validity period not acceptable")
				b.AcceptableValidityPeriod = 3600
				return soapResponse(http.StatusOK, nil, &rps.ES4GetEISResponse{BaseResponseType: b})
			},
			check: func(t *testing.T, x *esimgw.Exchange, _ rps.Response, err error) {
				require.ErrorIs(t, err, esimgw.ErrFailed)
				var fe *esimgw.FunctionError
				require.ErrorAs(t, err, &fe)
				assert.Equal(t, "ES4", fe.Interface)
				assert.Equal(t, "GetEIS", fe.Function)
				assert.Equal(t, time.Hour, fe.AcceptableValidityPeriod)
				assert.Equal(t, testEID, fe.SubjectIdentifier)
				assert.Equal(t, "validity period not acceptable", fe.Message)
				assert.Equal(t, x.Key.FunctionCallIdentifier, fe.FunctionCallIdentifier)
				require.NotNil(t, x, "the exchange is returned with the error")
			},
		},
		{
			name: "FAILED with EuiccResponseData", function: "EnableProfile",
			respond: func() *http.Response {
				return soapResponse(http.StatusOK, nil, &rps.ES4EnableProfileResponse{BaseResponseType: statusBase(rps.StatusTypeFAILED, "8.2.1", "3.9"),
					EuiccResponseData: euiccData})
			},
			check: func(t *testing.T, x *esimgw.Exchange, _ rps.Response, err error) {
				var fe *esimgw.FunctionError
				require.ErrorAs(t, err, &fe)
				assert.Equal(t, []byte(euiccData), fe.EuiccResponseData)
				assert.Equal(t, "8.2.1", fe.Subject)
				assert.Equal(t, "3.9", fe.Reason)
			},
		},
		{
			name: "EXPIRED", function: "GetEIS",
			respond: func() *http.Response {
				return soapResponse(http.StatusOK, nil, &rps.ES4GetEISResponse{BaseResponseType: statusBase(rps.StatusTypeEXPIRED)})
			},
			check: func(t *testing.T, _ *esimgw.Exchange, _ rps.Response, err error) {
				require.ErrorIs(t, err, esimgw.ErrExpired)
				assert.NotErrorIs(t, err, esimgw.ErrFailed)
			},
		},
		{
			name: "unexpected element", function: "GetEIS",
			respond: func() *http.Response {
				return soapResponse(http.StatusOK, nil, &rps.ES4EnableProfileResponse{BaseResponseType: statusBase(rps.StatusTypeEXECUTED_SUCCESS)})
			},
			check: func(t *testing.T, x *esimgw.Exchange, _ rps.Response, err error) {
				require.ErrorIs(t, err, esimgw.ErrUnexpectedResponse)
				assert.Contains(t, err.Error(), "ES4-EnableProfileResponse")
			},
		},
		{
			name: "RelatesTo naming another request", function: "GetEIS",
			respond: func() *http.Response {
				return soapResponse(http.StatusOK, &soap.Header{RelatesTo: "//" + ourOID + "/urn:uuid:someone-else"},
					&rps.ES4GetEISResponse{BaseResponseType: statusBase(rps.StatusTypeEXECUTED_SUCCESS)})
			},
			check: func(t *testing.T, _ *esimgw.Exchange, _ rps.Response, err error) {
				require.ErrorIs(t, err, esimgw.ErrUnexpectedResponse)
				assert.Contains(t, err.Error(), "someone-else")
			},
		},
		{
			name: "empty 200", function: "GetEIS",
			respond: func() *http.Response { return httpmock.NewBytesResponse(http.StatusOK, nil) },
			check: func(t *testing.T, x *esimgw.Exchange, _ rps.Response, err error) {
				require.ErrorIs(t, err, esimgw.ErrUnexpectedResponse)
				assert.Contains(t, err.Error(), "HTTP 200")
				require.NotNil(t, x)
				assert.Nil(t, x.Response)
			},
		},
		{
			name: "SOAP fault", function: "GetEIS",
			respond: func() *http.Response {
				return soapResponse(http.StatusBadRequest, nil, soap.SenderFault("EntityId unknown"))
			},
			check: func(t *testing.T, x *esimgw.Exchange, _ rps.Response, err error) {
				var f *soap.Fault
				require.ErrorAs(t, err, &f)
				assert.Equal(t, soap.FaultSender, f.Code)
				assert.Nil(t, x)
			},
		},
		{
			name: "malformed body value", function: "GetEIS",
			respond: func() *http.Response {
				return soapResponse(http.StatusOK, nil, rawBody{"ES4-GetEISResponse", `<rps:ES4-GetEISResponse><rps:ProcessingStart>yesterday</rps:ProcessingStart>` +
					`<rps:FunctionExecutionStatus><rps:Status>EXECUTED_SUCCESS</rps:Status></rps:FunctionExecutionStatus></rps:ES4-GetEISResponse>`})
			},
			check: func(t *testing.T, _ *esimgw.Exchange, _ rps.Response, err error) {
				require.Error(t, err)
				assert.NotErrorIs(t, err, esimgw.ErrFailed)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newFakeGateway(t, respondWith(tt.respond))
			c := newEngine(t, "ES4", g, esimgw.WithReplyTo(replyURL))
			fn := mustFunction(t, rps.ES4, tt.function)
			reqEl, _ := fn.NewRequest()
			respEl, _ := fn.NewResponse()
			x, err := c.Call(context.Background(), fn, reqEl.(rps.Request), respEl.(rps.Response))
			tt.check(t, x, respEl.(rps.Response), err)
			if x != nil {
				assert.Equal(t, g.last(t).Header.MessageID, x.Key.MessageID)
			}
		})
	}
}

func TestClientStart(t *testing.T) {
	enable := mustFunction(t, rps.ES4, "EnableProfile")

	t.Run("202 registers a pending operation", func(t *testing.T) {
		g := newFakeGateway(t, nil)
		d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(quietLogger()))
		c := newEngine(t, "ES4", g, esimgw.WithReplyTo(replyURL), esimgw.WithDispatcher(d))
		assert.Same(t, d, c.Dispatcher())
		p, x, err := c.Start(context.Background(), enable, enableRequest(), &rps.ES4EnableProfileResponse{})
		require.NoError(t, err)
		assert.Nil(t, x.Response)
		assert.Equal(t, 1, x.Attempts)
		assert.Equal(t, 1, d.Tracker().Pending())
		select {
		case <-p.Done():
			t.Fatal("resolved without a callback")
		default:
		}
	})

	t.Run("the operation is registered before the request leaves", func(t *testing.T) {
		d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(quietLogger()))
		var pendingWhileSending int
		// The gateway delivers the callback before it answers 202.
		g := newFakeGateway(t, func(m *soap.Message) (*http.Response, error) {
			pendingWhileSending = d.Tracker().Pending()
			_, err := d.ServeSOAP(context.Background(), readMessage(t,
				&soap.Header{RelatesTo: m.Header.MessageID, MessageID: soap.NewMessageID(peerOID, testNow).String()},
				&rps.ES4EnableProfileResponse{BaseResponseType: statusBase(rps.StatusTypeEXECUTED_SUCCESS)}))
			require.NoError(t, err)
			return accepted(), nil
		})
		c := newEngine(t, "ES4", g, esimgw.WithReplyTo(replyURL), esimgw.WithDispatcher(d))
		op, err := esimgw.StartOperation(context.Background(), c, enable, enableRequest(), &rps.ES4EnableProfileResponse{}, esimgw.ResultOf)
		require.NoError(t, err)
		assert.Equal(t, 1, pendingWhileSending)
		r, err := op.Wait(waitCtx(t))
		require.NoError(t, err)
		assert.Nil(t, r.Warning)
		assert.Zero(t, d.Tracker().Pending())
	})

	t.Run("transport error before the request left withdraws the operation", func(t *testing.T) {
		g := newFakeGateway(t, func(*soap.Message) (*http.Response, error) {
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
		})
		d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(quietLogger()))
		c := newEngine(t, "ES4", g, esimgw.WithReplyTo(replyURL), esimgw.WithDispatcher(d),
			esimgw.WithSOAPOptions(soap.WithRetryPolicy(soap.RetryPolicy{MaxAttempts: 3, InitialInterval: time.Millisecond, MaxInterval: time.Millisecond})))
		p, x, err := c.Start(context.Background(), enable, enableRequest(), &rps.ES4EnableProfileResponse{})
		require.Error(t, err)
		var ce *soap.CallError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, 3, ce.Attempts)
		assert.Nil(t, p)
		assert.Nil(t, x)
		assert.Zero(t, d.Tracker().Pending())
		msgs := g.sent()
		require.Len(t, msgs, 3)
		for _, m := range msgs[1:] {
			assert.Equal(t, msgs[0].Header.MessageID, m.Header.MessageID, "retries resend the same MessageID")
		}
		// A late callback for the withdrawn request is unmatched, not a crash or a resolution.
		var unmatched int
		d2 := esimgw.NewDispatcher(esimgw.WithTracker(d.Tracker()), esimgw.WithDispatcherLogger(quietLogger()),
			esimgw.WithUnmatchedHandler(func(context.Context, *esimgw.Inbound) error { unmatched++; return nil }))
		_, err = d2.ServeSOAP(context.Background(), readMessage(t, &soap.Header{RelatesTo: msgs[0].Header.MessageID},
			&rps.ES4EnableProfileResponse{BaseResponseType: statusBase(rps.StatusTypeEXECUTED_SUCCESS)}))
		require.NoError(t, err)
		assert.Equal(t, 1, unmatched)
	})

	t.Run("a reset after the request may have left keeps the operation for its callback", func(t *testing.T) {
		g := newFakeGateway(t, func(*soap.Message) (*http.Response, error) { return nil, errors.New("connection reset by peer") })
		d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(quietLogger()))
		c := newEngine(t, "ES4", g, esimgw.WithReplyTo(replyURL), esimgw.WithDispatcher(d),
			esimgw.WithSOAPOptions(soap.WithRetryPolicy(soap.RetryPolicy{MaxAttempts: 3, InitialInterval: time.Millisecond, MaxInterval: time.Millisecond})))
		op, err := esimgw.StartOperation(context.Background(), c, enable, enableRequest(), &rps.ES4EnableProfileResponse{}, esimgw.ResultOf,
			esimgw.WithFunctionCallIdentifier("order-7"))
		require.NoError(t, err, "not a failure: the gateway may have run it, and its callback will say")
		assert.Len(t, g.sent(), 1, "not resent")
		assert.Equal(t, 1, d.Tracker().Pending())

		// With no callback, Wait says the outcome is unknown and names the identifier to reuse.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		_, err = op.Wait(ctx)
		require.ErrorIs(t, err, esimgw.ErrOutcomeUnknown)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		var ce *esimgw.CallError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, "order-7", ce.FunctionCallIdentifier)
		assert.Equal(t, esimgw.OutcomeUnknown, ce.Outcome)
		assert.Contains(t, err.Error(), "only with the same FunctionCallIdentifier order-7")
	})

	t.Run("a reset after the request may have left: the late callback resolves the operation", func(t *testing.T) {
		g := newFakeGateway(t, func(*soap.Message) (*http.Response, error) { return nil, errors.New("connection reset by peer") })
		d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(quietLogger()))
		c := newEngine(t, "ES4", g, esimgw.WithReplyTo(replyURL), esimgw.WithDispatcher(d))
		op, err := esimgw.StartOperation(context.Background(), c, enable, enableRequest(), &rps.ES4EnableProfileResponse{}, esimgw.ResultOf)
		require.NoError(t, err)
		_, err = d.ServeSOAP(context.Background(), readMessage(t,
			&soap.Header{RelatesTo: op.MessageID(), MessageID: soap.NewMessageID(peerOID, testNow).String()},
			&rps.ES4EnableProfileResponse{BaseResponseType: statusBase(rps.StatusTypeEXECUTED_SUCCESS)}))
		require.NoError(t, err)
		_, err = op.Wait(waitCtx(t))
		require.NoError(t, err)
		assert.Zero(t, d.Tracker().Pending())
	})

	t.Run("SOAP fault withdraws the operation", func(t *testing.T) {
		g := newFakeGateway(t, respondWith(func() *http.Response {
			return soapResponse(http.StatusInternalServerError, nil, soap.ReceiverFault("database down"))
		}))
		d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(quietLogger()))
		c := newEngine(t, "ES4", g, esimgw.WithReplyTo(replyURL), esimgw.WithDispatcher(d))
		_, _, err := c.Start(context.Background(), enable, enableRequest(), &rps.ES4EnableProfileResponse{})
		var f *soap.Fault
		require.ErrorAs(t, err, &f)
		assert.Zero(t, d.Tracker().Pending())
	})

	t.Run("200 with an unexpected element withdraws the operation", func(t *testing.T) {
		g := newFakeGateway(t, respondWith(func() *http.Response {
			return soapResponse(http.StatusOK, nil, &rps.ES4DisableProfileResponse{BaseResponseType: statusBase(rps.StatusTypeFAILED)})
		}))
		d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(quietLogger()))
		c := newEngine(t, "ES4", g, esimgw.WithReplyTo(replyURL), esimgw.WithDispatcher(d))
		p, _, err := c.Start(context.Background(), enable, enableRequest(), &rps.ES4EnableProfileResponse{})
		require.ErrorIs(t, err, esimgw.ErrUnexpectedResponse)
		assert.Nil(t, p)
		assert.Zero(t, d.Tracker().Pending())
	})

	t.Run("200 with FAILED resolves at once (Njiwa)", func(t *testing.T) {
		g := newFakeGateway(t, func(m *soap.Message) (*http.Response, error) {
			return soapResponse(http.StatusOK, &soap.Header{RelatesTo: m.Header.MessageID},
				&rps.ES4EnableProfileResponse{BaseResponseType: statusBase(rps.StatusTypeFAILED, "8.1.1", "3.9", testEID, "unknown EID"),
					EuiccResponseData: rps.HexBinary{0x6A, 0x88}}), nil
		})
		d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(quietLogger()))
		c := newEngine(t, "ES4", g, esimgw.WithReplyTo(replyURL), esimgw.WithDispatcher(d))
		op, err := esimgw.StartOperation(context.Background(), c, enable, enableRequest(), &rps.ES4EnableProfileResponse{}, esimgw.ResultOf,
			esimgw.WithFunctionCallIdentifier("fc-njiwa-1"))
		require.NoError(t, err, "the request was answered: the failure is the operation's result")
		assertClosed(t, op.Done())
		assert.Zero(t, d.Tracker().Pending())
		_, err = op.Wait(context.Background())
		require.ErrorIs(t, err, esimgw.ErrFailed)
		var fe *esimgw.FunctionError
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, "fc-njiwa-1", fe.FunctionCallIdentifier)
		assert.Equal(t, "fc-njiwa-1", op.FunctionCallIdentifier())
		assert.Equal(t, "unknown EID", fe.Message)
		assert.Equal(t, []byte{0x6A, 0x88}, fe.EuiccResponseData)

		// A late callback copy of the same result is a duplicate, not a second resolution.
		var dups int
		d2 := esimgw.NewDispatcher(esimgw.WithTracker(d.Tracker()), esimgw.WithDispatcherLogger(quietLogger()),
			esimgw.WithDuplicateHandler(func(context.Context, *esimgw.Inbound) { dups++ }))
		_, err = d2.ServeSOAP(context.Background(), readMessage(t, &soap.Header{RelatesTo: op.MessageID()},
			&rps.ES4EnableProfileResponse{BaseResponseType: statusBase(rps.StatusTypeFAILED)}))
		require.NoError(t, err)
		assert.Equal(t, 1, dups)
	})

	t.Run("200 with success resolves at once", func(t *testing.T) {
		g := newFakeGateway(t, respondWith(func() *http.Response {
			return soapResponse(http.StatusOK, nil, &rps.ES4EnableProfileResponse{BaseResponseType: statusBase(rps.StatusTypeEXECUTED_WITHWARNING, "8.1", "1.1")})
		}))
		d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(quietLogger()))
		c := newEngine(t, "ES4", g, esimgw.WithReplyTo(replyURL), esimgw.WithDispatcher(d))
		op, err := esimgw.StartOperation(context.Background(), c, enable, enableRequest(), &rps.ES4EnableProfileResponse{}, esimgw.ResultOf)
		require.NoError(t, err)
		r, err := op.Wait(context.Background())
		require.NoError(t, err)
		require.NotNil(t, r.Warning)
		assert.Equal(t, "8.1", r.Warning.Subject)
	})

	t.Run("a FunctionCallIdentifier still pending cannot be reused", func(t *testing.T) {
		g := newFakeGateway(t, nil)
		d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(quietLogger()))
		c := newEngine(t, "ES4", g, esimgw.WithReplyTo(replyURL), esimgw.WithDispatcher(d))
		_, _, err := c.Start(context.Background(), enable, enableRequest(), &rps.ES4EnableProfileResponse{}, esimgw.WithFunctionCallIdentifier("fc-1"))
		require.NoError(t, err)
		_, _, err = c.Start(context.Background(), enable, enableRequest(), &rps.ES4EnableProfileResponse{}, esimgw.WithFunctionCallIdentifier("fc-1"))
		require.ErrorIs(t, err, correlate.ErrKeyInUse)
		assert.Len(t, g.sent(), 1, "the second request must not be sent")
		assert.Equal(t, 1, d.Tracker().Pending())
	})
}

func TestStartOperationConversion(t *testing.T) {
	start := time.Date(2024, 5, 1, 10, 0, 1, 0, time.UTC)
	end := time.Date(2024, 5, 1, 10, 0, 40, 0, time.UTC)
	withTimes := func(b rps.BaseResponseType) rps.BaseResponseType {
		s, e := rps.NewDateTime(start), rps.NewDateTime(end)
		b.ProcessingStart, b.ProcessingEnd = &s, &e
		return b
	}

	t.Run("ResultOf", func(t *testing.T) {
		tests := []struct {
			name     string
			callback rps.Response
			check    func(t *testing.T, op *esimgw.Operation[*esimgw.Result], r *esimgw.Result, err error)
		}{
			{
				name: "success",
				callback: &rps.ES4EnableProfileResponse{BaseResponseType: withTimes(statusBase(rps.StatusTypeEXECUTED_SUCCESS)),
					EuiccResponseData: rps.HexBinary{0x90, 0x00}},
				check: func(t *testing.T, _ *esimgw.Operation[*esimgw.Result], r *esimgw.Result, err error) {
					require.NoError(t, err)
					assert.Nil(t, r.Warning)
					assert.True(t, r.ProcessingStart.Equal(start))
					assert.True(t, r.ProcessingEnd.Equal(end))
					assert.Equal(t, []byte{0x90, 0x00}, r.EuiccResponseData)
					assert.Equal(t, esimgw.OutcomeOf(nil, nil), r.Outcome())
				},
			},
			{
				name:     "warning",
				callback: &rps.ES4EnableProfileResponse{BaseResponseType: statusBase(rps.StatusTypeEXECUTED_WITHWARNING, "8.1", "1.1", "", "late")},
				check: func(t *testing.T, _ *esimgw.Operation[*esimgw.Result], r *esimgw.Result, err error) {
					require.NoError(t, err)
					require.NotNil(t, r.Warning)
					assert.Equal(t, "late", r.Warning.Message)
				},
			},
			{
				name: "FAILED",
				callback: &rps.ES4EnableProfileResponse{BaseResponseType: statusBase(rps.StatusTypeFAILED, "8.2.1", "3.9", testICCID, "Profile ICCID unknown"),
					EuiccResponseData: rps.HexBinary{0x6A, 0x88}},
				check: func(t *testing.T, op *esimgw.Operation[*esimgw.Result], _ *esimgw.Result, err error) {
					require.ErrorIs(t, err, esimgw.ErrFailed)
					var fe *esimgw.FunctionError
					require.ErrorAs(t, err, &fe)
					assert.Equal(t, op.FunctionCallIdentifier(), fe.FunctionCallIdentifier)
					assert.NotEmpty(t, fe.FunctionCallIdentifier)
					assert.Equal(t, "ES4", fe.Interface)
					assert.Equal(t, "EnableProfile", fe.Function)
					assert.Equal(t, []byte{0x6A, 0x88}, fe.EuiccResponseData)
				},
			},
			{
				name:     "EXPIRED",
				callback: &rps.ES4EnableProfileResponse{BaseResponseType: statusBase(rps.StatusTypeEXPIRED)},
				check: func(t *testing.T, _ *esimgw.Operation[*esimgw.Result], _ *esimgw.Result, err error) {
					require.ErrorIs(t, err, esimgw.ErrExpired)
				},
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				g := newFakeGateway(t, nil)
				d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(quietLogger()))
				c := newEngine(t, "ES4", g, esimgw.WithReplyTo(replyURL), esimgw.WithDispatcher(d))
				op, err := esimgw.StartOperation(context.Background(), c, mustFunction(t, rps.ES4, "EnableProfile"), enableRequest(),
					&rps.ES4EnableProfileResponse{}, esimgw.ResultOf)
				require.NoError(t, err)
				_, err = d.ServeSOAP(context.Background(), readMessage(t, &soap.Header{RelatesTo: op.MessageID()}, tt.callback))
				require.NoError(t, err)
				r, err := op.Wait(waitCtx(t))
				tt.check(t, op, r, err)
			})
		}
	})

	t.Run("EISResultOf", func(t *testing.T) {
		g := newFakeGateway(t, nil)
		d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(quietLogger()))
		c := newEngine(t, "ES4", g, esimgw.WithReplyTo(replyURL), esimgw.WithDispatcher(d))
		eid, _ := rps.ParseHexBinary(testEID)
		op, err := esimgw.StartOperation(context.Background(), c, mustFunction(t, rps.ES4, "AuditEIS"), &rps.ES4AuditEISRequest{Eid: eid},
			&rps.ES4AuditEISResponse{}, esimgw.EISResultOf)
		require.NoError(t, err)
		cb := &rps.ES4AuditEISResponse{BaseResponseType: withTimes(statusBase(rps.StatusTypeEXECUTED_SUCCESS)),
			Eis: &rps.EISType{SmsrID: peerOID, RemainingMemory: 1024, ProfileInfo: []rps.ProfileInfoType{{Iccid: testICCID}}}}
		// gSOAP style: no RelatesTo, the TransactionId ties it back.
		mid := soap.NewMessageIDInTransaction(peerOID, op.TransactionID(), testNow)
		_, err = d.ServeSOAP(context.Background(), readMessage(t, &soap.Header{MessageID: mid.String()}, cb))
		require.NoError(t, err)
		r, err := op.Wait(waitCtx(t))
		require.NoError(t, err)
		require.NotNil(t, r.EIS)
		assert.Equal(t, peerOID, r.EIS.SmsrID)
		assert.EqualValues(t, 1024, r.EIS.RemainingMemory)
		require.Len(t, r.EIS.ProfileInfo, 1)
		assert.Equal(t, testICCID, r.EIS.ProfileInfo[0].Iccid)
		assert.True(t, r.ProcessingEnd.Equal(end))
	})

	t.Run("abandoned by the context", func(t *testing.T) {
		g := newFakeGateway(t, nil)
		var unmatched []*esimgw.Inbound
		d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(quietLogger()),
			esimgw.WithUnmatchedHandler(func(_ context.Context, in *esimgw.Inbound) error { unmatched = append(unmatched, in); return nil }))
		c := newEngine(t, "ES4", g, esimgw.WithReplyTo(replyURL), esimgw.WithDispatcher(d))
		op, err := esimgw.StartOperation(context.Background(), c, mustFunction(t, rps.ES4, "EnableProfile"), enableRequest(),
			&rps.ES4EnableProfileResponse{}, esimgw.ResultOf, esimgw.WithFunctionCallIdentifier("fc-late"))
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err = op.Wait(ctx)
		require.ErrorIs(t, err, esimgw.ErrAbandoned)
		require.ErrorIs(t, err, context.Canceled)
		assert.Zero(t, d.Tracker().Pending())

		// The callback that arrives afterwards names the call it answers.
		_, err = d.ServeSOAP(context.Background(), readMessage(t, &soap.Header{RelatesTo: op.MessageID(),
			MessageID: soap.NewMessageIDInTransaction(peerOID, op.TransactionID(), testNow).String()},
			&rps.ES4EnableProfileResponse{BaseResponseType: statusBase(rps.StatusTypeEXECUTED_SUCCESS)}))
		require.NoError(t, err)
		require.Len(t, unmatched, 1)
		assert.Equal(t, "fc-late", unmatched[0].FunctionCallIdentifier())
	})
}

// waitCtx bounds a Wait that must succeed: generous, only there so a bug cannot hang the test run.
func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func assertClosed(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	default:
		t.Fatal("not resolved")
	}
}

// A sync answer whose RelatesTo spells our MessageID otherwise (another date format, say) but names our
// transaction is ours; one naming another transaction is not.
func TestClientCallRelatesToByTransaction(t *testing.T) {
	for _, sameTx := range []bool{true, false} {
		t.Run(fmt.Sprint("same transaction ", sameTx), func(t *testing.T) {
			g := newFakeGateway(t, func(m *soap.Message) (*http.Response, error) {
				mid, err := soap.ParseMessageID(m.Header.MessageID)
				require.NoError(t, err)
				tx := mid.TransactionID
				if !sameTx {
					tx = "urn:uuid:00000000-0000-4000-8000-000000000000"
				}
				rel := soap.NewMessageIDInTransaction(ourOID, tx, testNow.Add(time.Hour)).String()
				require.NotEqual(t, m.Header.MessageID, rel)
				return soapResponse(http.StatusOK, &soap.Header{RelatesTo: rel},
					&rps.ES4GetEISResponse{BaseResponseType: statusBase(rps.StatusTypeEXECUTED_SUCCESS)}), nil
			})
			c := newEngine(t, "ES4", g)
			fn := mustFunction(t, rps.ES4, "GetEIS")
			req := &rps.ES4GetEISRequest{Eid: rps.HexBinary{0x89, 0x04}}
			_, err := c.Call(t.Context(), fn, req, &rps.ES4GetEISResponse{})
			if sameTx {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, esimgw.ErrUnexpectedResponse)
			}
		})
	}
}

package gatewaytest_test

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// wait bounds every wait for a condition: generous, never a timed assertion.
const wait = 10 * time.Second

// receiver is the operator's callback server: a soap.Handler behind mTLS that records what arrives.
type receiver struct {
	srv  *httptest.Server
	mu   sync.Mutex
	msgs []*soap.Message
	ch   chan *soap.Message
	fail atomic.Int32 // answer env:Receiver faults to the next n messages
}

func newReceiver(t *testing.T, g *gatewaytest.Gateway) *receiver {
	t.Helper()
	r := &receiver{ch: make(chan *soap.Message, 256)}
	h := soap.NewHandler(soap.MessageHandlerFunc(func(ctx context.Context, m *soap.Message) (*soap.Reply, error) {
		if r.fail.Load() > 0 {
			r.fail.Add(-1)
			return nil, soap.ReceiverFault("receiver busy")
		}
		r.mu.Lock()
		r.msgs = append(r.msgs, m)
		r.mu.Unlock()
		r.ch <- m
		return nil, nil
	}))
	r.srv = httptest.NewUnstartedServer(h)
	r.srv.TLS = g.CallbackServerTLSConfig()
	r.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	r.srv.StartTLS()
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) url(path string) string {
	return "https://localhost:" + strconv.Itoa(r.srv.Listener.Addr().(*net.TCPAddr).Port) + path
}

// next waits for the next message whose body element is name.
func (r *receiver) next(t *testing.T, name string) *soap.Message {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case m := <-r.ch:
			if m.BodyName == name {
				return m
			}
		case <-deadline:
			t.Fatalf("no %s arrived", name)
			return nil
		}
	}
}

// op is the operator side: a soap.Client over mTLS and a callback receiver.
type op struct {
	g      *gatewaytest.Gateway
	client *soap.Client
	cb     *receiver
	oid    string
	sep    soap.Separator
	extra  []soap.Param
}

func newOp(t *testing.T, opts ...gatewaytest.Option) *op {
	t.Helper()
	g := gatewaytest.Start(t, opts...)
	o := &op{g: g, oid: g.OperatorID, sep: soap.SeparatorAmpersand}
	o.client = soap.NewClient(soap.WithTLSConfig(g.ClientTLSConfig()), soap.WithRetryPolicy(soap.RetryPolicy{MaxAttempts: 1}))
	o.cb = newReceiver(t, g)
	return o
}

func (o *op) endpoint(iface gatewaytest.Interface) string {
	if iface == gatewaytest.ES2 {
		return o.g.ES2URL
	}
	return o.g.ES4URL
}

// header builds a request header for body, with ReplyTo the callback receiver (async functions).
func (o *op) header(t *testing.T, body rps.Element) *soap.Header {
	t.Helper()
	f, role, ok := rps.FunctionByElement(body.ElementName())
	require.True(t, ok)
	require.Equal(t, rps.RoleRequest, role)
	from := soap.EntityAddress{Base: "https://operator.example/rsp", EntityID: o.oid, EntityName: "Op", Separator: o.sep, Extra: o.extra}
	h := &soap.Header{
		From:      from.String(),
		To:        o.endpoint(f.Interface) + "?EntityId=" + o.g.SMSRID,
		MessageID: soap.NewMessageID(o.oid, time.Now()).String(),
		Action:    f.RequestAction,
	}
	if f.Mode == rps.Async {
		h.ReplyTo = o.cb.url("/callbacks")
	}
	return h
}

func (o *op) call(t *testing.T, body rps.Element) (*soap.Response, *soap.Header, error) {
	t.Helper()
	f, _, _ := rps.FunctionByElement(body.ElementName())
	h := o.header(t, body)
	resp, err := o.client.Call(context.Background(), o.endpoint(f.Interface), h, body)
	return resp, h, err
}

// async calls an async function, expects 202 and returns the decoded callback.
func (o *op) async(t *testing.T, body rps.Element) (rps.Response, *soap.Message) {
	t.Helper()
	resp, h, err := o.call(t, body)
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	f, _, _ := rps.FunctionByElement(body.ElementName())
	m := o.cb.next(t, f.ResponseElement)
	require.Equal(t, h.MessageID, m.Header.RelatesTo)
	require.Equal(t, f.ResponseAction, m.Header.Action)
	el, _ := rps.NewElement(f.ResponseElement)
	require.NoError(t, m.DecodeBody(el))
	return el.(rps.Response), m
}

// sync calls a sync function and returns the decoded response.
func (o *op) sync(t *testing.T, body rps.Element) (rps.Response, *soap.Message) {
	t.Helper()
	resp, h, err := o.call(t, body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	f, _, _ := rps.FunctionByElement(body.ElementName())
	m := resp.Message
	require.Equal(t, f.ResponseElement, m.BodyName)
	require.Equal(t, h.MessageID, m.Header.RelatesTo)
	require.Equal(t, f.ResponseAction, m.Header.Action)
	el, _ := rps.NewElement(f.ResponseElement)
	require.NoError(t, m.DecodeBody(el))
	return el.(rps.Response), m
}

var fciSeq atomic.Int64

func base(validity ...uint64) rps.BaseRequestType {
	b := rps.BaseRequestType{FunctionCallIdentifier: "fc-" + strconv.FormatInt(fciSeq.Add(1), 10)}
	if len(validity) > 0 {
		b.ValidityPeriod = rps.PositiveInteger(validity[0])
	}
	return b
}

func hexEID(t *testing.T, eid string) rps.HexBinary {
	t.Helper()
	b, err := rps.ParseHexBinary(eid)
	require.NoError(t, err)
	return b
}

func status(r rps.Response) (rps.StatusType, string, string) {
	st := r.ResponseBase().FunctionExecutionStatus
	if st.StatusCodeData == nil {
		return st.Status, "", ""
	}
	return st.Status, st.StatusCodeData.Subject, st.StatusCodeData.Reason
}

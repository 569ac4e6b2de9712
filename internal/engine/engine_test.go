package engine

import (
	"bytes"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

func newEngine(t *testing.T, cfg Config) *Engine {
	t.Helper()
	cfg.Interface = "ES4"
	if cfg.Endpoint == "" {
		cfg.Endpoint = "https://smsr.example/ES4"
	}
	cfg.EntityID = "1.3.6.1.4.1.99.1"
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Now = func() time.Time { return time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC) }
	e, err := New(cfg)
	require.NoError(t, err)
	return e
}

func function(t *testing.T, name string) *rps.Function {
	t.Helper()
	fn, ok := rps.FunctionByName(rps.ES4, name)
	require.True(t, ok, name)
	return &fn
}

// prepare is Engine.Prepare with the header and key returned.
func prepare(e *Engine, fn *rps.Function, req rps.Request, c Call) (soap.Header, correlate.OperationKey, error) {
	var h soap.Header
	var key correlate.OperationKey
	err := e.Prepare(fn, req, c, &h, &key)
	return h, key, err
}

// The header and the request's base: the FunctionCallIdentifier is the TransactionId when it can be one,
// the ValidityPeriod is stated in seconds, and an asynchronous function needs a replyTo.
func TestPrepare(t *testing.T) {
	e := newEngine(t, Config{ReplyTo: "https://mno.example/cb?tenant=1"})
	req := &rps.ES4EnableProfileRequest{}
	h, key, err := prepare(e, function(t, "EnableProfile"), req, Call{FunctionCallIdentifier: "fc-1", Validity: 90 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, "fc-1", key.TransactionID)
	assert.Equal(t, "fc-1", req.FunctionCallIdentifier)
	assert.EqualValues(t, 90, req.ValidityPeriod)
	assert.Equal(t, "https://mno.example/cb?tenant=1", h.ReplyTo)
	assert.Equal(t, "https://mno.example/cb?EntityId=1.3.6.1.4.1.99.1", h.From, "the replyTo without its query, then the entity parameters")
	mid, err := soap.ParseMessageID(h.MessageID)
	require.NoError(t, err)
	assert.Equal(t, "fc-1", mid.TransactionID)
	assert.Equal(t, h.MessageID, key.MessageID)

	// One that cannot travel in a MessageID keeps a fresh TransactionId; the request still carries it.
	h, key, err = prepare(e, function(t, "EnableProfile"), req, Call{FunctionCallIdentifier: "fc 2"})
	require.NoError(t, err)
	assert.NotEqual(t, "fc 2", key.TransactionID)
	assert.Equal(t, "fc 2", key.FunctionCallIdentifier)
	assert.Zero(t, req.ValidityPeriod)
	assert.Contains(t, h.MessageID, key.TransactionID)

	noReply := newEngine(t, Config{})
	_, _, err = prepare(noReply, function(t, "EnableProfile"), &rps.ES4EnableProfileRequest{}, Call{})
	require.ErrorIs(t, err, ErrNoReplyTo)
	_, _, err = prepare(noReply, function(t, "GetEIS"), &rps.ES4GetEISRequest{}, Call{})
	require.NoError(t, err, "a synchronous function needs none")
}

// KPN fixes SetFallBackAttribute's validity and says so when asked for another.
func TestValidityKPN(t *testing.T) {
	var logs bytes.Buffer
	e := newEngine(t, Config{KPN: true, Validity: time.Minute, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	assert.Equal(t, time.Minute, e.Validity(function(t, "EnableProfile"), 0))
	assert.Equal(t, time.Hour, e.Validity(function(t, "EnableProfile"), time.Hour))
	assert.Empty(t, logs.String())
	assert.Equal(t, KPNSetFallBackValidity, e.Validity(function(t, "SetFallBackAttribute"), 0))
	assert.Contains(t, logs.String(), "KPN fixes the ValidityPeriod")
}

// A From base with a query, or a peer EntityId after an endpoint with one, is refused by field.
func TestNewFieldError(t *testing.T) {
	for _, cfg := range []Config{
		{FromBase: "https://mno.example/?a=1"},
		{Endpoint: "https://smsr.example/ES4?x=1", Peer: "1.3.6.1.4.1.99.2"},
	} {
		cfg.Interface, cfg.EntityID = "ES4", "1.3.6.1.4.1.99.1"
		if cfg.Endpoint == "" {
			cfg.Endpoint = "https://smsr.example/ES4"
		}
		_, err := New(cfg)
		var fe *FieldError
		require.True(t, errors.As(err, &fe), "%v", err)
		assert.NotEmpty(t, fe.Rule)
	}
}

// A synchronous answer must exist and name the request, by its MessageID or its transaction.
func TestCheckAnswer(t *testing.T) {
	e := newEngine(t, Config{})
	fn := function(t, "GetEIS")
	h, _, err := prepare(e, fn, &rps.ES4GetEISRequest{}, Call{FunctionCallIdentifier: "tx-1"})
	require.NoError(t, err)
	answer := func(relatesTo string) *soap.Response {
		return &soap.Response{StatusCode: 200, Message: &soap.Message{Header: soap.Header{RelatesTo: relatesTo}}}
	}
	assert.NoError(t, e.CheckAnswer(fn, &h, answer("")))
	assert.NoError(t, e.CheckAnswer(fn, &h, answer(h.MessageID)))
	assert.NoError(t, e.CheckAnswer(fn, &h, answer("//1.3.6.1.4.1.99.1/urn:uuid:other?TransactionId=tx-1")))
	assert.ErrorIs(t, e.CheckAnswer(fn, &h, answer("//1.3.6.1.4.1.99.1/urn:uuid:other?TransactionId=tx-2")), ErrUnexpectedResponse)
	assert.ErrorIs(t, e.CheckAnswer(fn, &h, &soap.Response{StatusCode: 200}), ErrUnexpectedResponse)
}

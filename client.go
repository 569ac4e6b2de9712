package esimgw

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/internal/engine"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// Errors of the client engine, for errors.Is. ErrNoReplyTo and ErrUnexpectedResponse are the engine's
// (internal/engine), the same values.
var (
	// ErrNoReplyTo: an asynchronous function without a replyTo address gets no callback (docs/kpn.md R8), so the
	// client refuses to send it unless WithoutReplyTo was given.
	ErrNoReplyTo = engine.ErrNoReplyTo
	// ErrNoDispatcher: an asynchronous call needs the Dispatcher that will receive its callback.
	ErrNoDispatcher = errors.New("esimgw: asynchronous call without a Dispatcher (WithDispatcher)")
	// ErrUnexpectedResponse: the gateway answered with something other than the function's response.
	ErrUnexpectedResponse = engine.ErrUnexpectedResponse
)

// KPNSetFallBackValidity is the ValidityPeriod KPN applies to SetFallBackAttribute, whatever is asked (docs/kpn.md R10).
const KPNSetFallBackValidity = engine.KPNSetFallBackValidity

// Client is the engine ES2 and ES4 clients share: it builds the WS-Addressing headers (From with the
// entity parameters, To, MessageID with a TransactionId, Action, ReplyTo), validates, sends through a
// soap.Client and turns answers into results, errors and pending operations. es2.Client and es4.Client
// wrap it with one typed method per function; use it directly only for functions they do not cover.
//
// It is the public face of the machinery in internal/engine (addresses, headers, sending, checking and
// decoding answers, telemetry): it validates the arguments, registers asynchronous calls with its
// Dispatcher's Store, and names what comes back in this package's types.
type Client struct {
	eng        *engine.Engine
	dispatcher *Dispatcher
}

type clientConfig struct {
	entityID, entityName, fromBase, provider, peer string
	sep                                            soap.Separator
	sepSet                                         bool
	replyTo                                        string
	noReplyTo                                      bool
	validity                                       time.Duration
	kpn                                            bool
	plainEndpoint                                  bool
	soapClient                                     *soap.Client
	soapOpts                                       []soap.ClientOption
	dispatcher                                     *Dispatcher
	logger                                         *slog.Logger
	now                                            func() time.Time
	telemetry                                      engine.TelemetryConfig
}

// Option configures a Client (and so es2.Client and es4.Client).
type Option func(*clientConfig)

// WithEntity sets the caller's own identity: the EntityId OID (required) and optional EntityName written
// into wsa:From, and the sender OID of every MessageID.
func WithEntity(entityID, entityName string) Option {
	return func(c *clientConfig) { c.entityID, c.entityName = entityID, entityName }
}

// WithFromAddress sets the base URL of wsa:From (default: the replyTo address without its query, else
// "http://localhost"). It must have no query or fragment: the entity parameters follow it.
func WithFromAddress(base string) Option { return func(c *clientConfig) { c.fromBase = base } }

// WithProviderEntityID adds KPN's X-KPN-ProviderEntityId (the profile vendor's OID) to wsa:From on every
// call; WithCallProviderEntityID overrides it per call, since the vendor changes with the profile (docs/kpn.md R7).
func WithProviderEntityID(oid string) Option { return func(c *clientConfig) { c.provider = oid } }

// WithPeerEntityID sets the EntityId written into wsa:To: the gateway's OID.
func WithPeerEntityID(oid string) Option { return func(c *clientConfig) { c.peer = oid } }

// WithAddressSeparator chooses the separator between the entity parameters of wsa:From: '?' (KPN, SGP.02
// v4) or '&' (v3 peers such as gSOAP SM-SRs; the default).
func WithAddressSeparator(sep soap.Separator) Option {
	return func(c *clientConfig) { c.sep, c.sepSet = sep, true }
}

// WithReplyTo sets the address the gateway posts asynchronous results to (your callback.Server's public URL).
func WithReplyTo(url string) Option { return func(c *clientConfig) { c.replyTo = url } }

// WithoutReplyTo lets asynchronous calls go out without a replyTo: the gateway then sends no callback and
// the operation never completes by itself. Only for gateways that deliver results by other means.
func WithoutReplyTo() Option { return func(c *clientConfig) { c.noReplyTo = true } }

// WithValidityPeriod sets the default ValidityPeriod of requests (none by default: the gateway's own).
func WithValidityPeriod(d time.Duration) Option { return func(c *clientConfig) { c.validity = d } }

// WithKPN applies what KPN's RSP Gateway requires: '?' separators in wsa:From and the fixed 720 s
// ValidityPeriod of SetFallBackAttribute (docs/kpn.md R6, R10).
func WithKPN() Option { return func(c *clientConfig) { c.kpn = true } }

// WithDispatcher names the Dispatcher whose callback.Server receives this client's callbacks.
func WithDispatcher(d *Dispatcher) Option { return func(c *clientConfig) { c.dispatcher = d } }

// WithTLSConfig sends over a keep-alive HTTPS transport with cfg (see package mtls for building it).
func WithTLSConfig(cfg *tls.Config) Option {
	return func(c *clientConfig) { c.soapOpts = append(c.soapOpts, soap.WithTLSConfig(cfg)) }
}

// WithHTTPClient sends through h: the seam for tests and custom transports.
func WithHTTPClient(h *http.Client) Option {
	return func(c *clientConfig) { c.soapOpts = append(c.soapOpts, soap.WithHTTPClient(h)) }
}

// WithSOAPOptions passes options to the underlying soap.Client (retry policy, WS-Security, size limits).
func WithSOAPOptions(opts ...soap.ClientOption) Option {
	return func(c *clientConfig) { c.soapOpts = append(c.soapOpts, opts...) }
}

// WithSOAPClient uses an existing soap.Client (sharing its connections); other transport options are then ignored.
func WithSOAPClient(sc *soap.Client) Option { return func(c *clientConfig) { c.soapClient = sc } }

// WithPlainHTTPEndpoint allows an http:// endpoint. Real gateways are HTTPS with mutual TLS only.
func WithPlainHTTPEndpoint() Option { return func(c *clientConfig) { c.plainEndpoint = true } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *clientConfig) { c.logger = l } }

// WithClock sets the clock used for MessageDate (tests).
func WithClock(now func() time.Time) Option { return func(c *clientConfig) { c.now = now } }

// NewClient returns the engine for interface iface ("ES2" or "ES4") talking to endpoint.
func NewClient(iface, endpoint string, opts ...Option) (*Client, error) {
	c := clientConfig{logger: slog.Default(), now: time.Now}
	for _, o := range opts {
		o(&c)
	}
	if iface != "ES2" && iface != "ES4" {
		return nil, fmt.Errorf("esimgw: unknown interface %q (want ES2 or ES4)", iface)
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, &ValidationError{Field: "endpoint", Value: endpoint, Rule: "must be an absolute https URL"}
	}
	if u.Scheme == "http" && !c.plainEndpoint {
		return nil, &ValidationError{Field: "endpoint", Value: endpoint, Rule: "must be https (mutual TLS); WithPlainHTTPEndpoint allows http"}
	}
	if c.entityID == "" {
		return nil, &ValidationError{Field: "EntityId", Rule: "required: give your OID with WithEntity"}
	}
	if err := ValidateOID("EntityId", c.entityID); err != nil {
		return nil, err
	}
	for _, o := range []struct{ field, v string }{{"X-KPN-ProviderEntityId", c.provider}, {"peer EntityId", c.peer}} {
		if o.v != "" {
			if err := ValidateOID(o.field, o.v); err != nil {
				return nil, err
			}
		}
	}
	if c.validity != 0 {
		if err := ValidateValidityPeriod(c.validity); err != nil {
			return nil, err
		}
	}
	if c.replyTo != "" {
		if ru, err := url.Parse(c.replyTo); err != nil || ru.Host == "" {
			return nil, &ValidationError{Field: "replyTo", Value: c.replyTo, Rule: "must be an absolute URL"}
		}
	}
	eng, err := engine.New(engine.Config{
		Interface: iface, Endpoint: endpoint, EntityID: c.entityID, EntityName: c.entityName, FromBase: c.fromBase,
		Provider: c.provider, Peer: c.peer, Separator: c.sep, SeparatorSet: c.sepSet, ReplyTo: c.replyTo,
		NoReplyTo: c.noReplyTo, Validity: c.validity, KPN: c.kpn, SOAP: c.soapClient, SOAPOptions: c.soapOpts,
		Logger: c.logger, Now: c.now, Telemetry: c.telemetry,
	})
	var fe *engine.FieldError
	if errors.As(err, &fe) {
		return nil, &ValidationError{Field: fe.Field, Value: fe.Value, Rule: fe.Rule}
	}
	if err != nil {
		return nil, err
	}
	return &Client{eng: eng, dispatcher: c.dispatcher}, nil
}

// Interface is "ES2" or "ES4".
func (c *Client) Interface() string { return c.eng.Interface() }

// Endpoint is the gateway URL calls are posted to.
func (c *Client) Endpoint() string { return c.eng.Endpoint() }

// Dispatcher is the dispatcher asynchronous results are resolved through, nil if none was given.
func (c *Client) Dispatcher() *Dispatcher { return c.dispatcher }

type callConfig struct {
	fcID     string
	validity time.Duration
	provider string
	replyTo  string
}

// CallOption adjusts one call.
type CallOption func(*callConfig)

// callOptions applies opts. The options see a callConfig of their own on the heap (a func value's
// argument escapes), so that the usual call, which gives none, allocates nothing for them.
func callOptions(opts []CallOption) callConfig {
	if len(opts) == 0 {
		return callConfig{}
	}
	co := new(callConfig)
	for _, o := range opts {
		o(co)
	}
	return *co
}

// WithFunctionCallIdentifier sets the FunctionCallIdentifier (default: a fresh urn:uuid). Reusing the
// identifier of an earlier call asks the gateway to treat this one as its retry.
func WithFunctionCallIdentifier(id string) CallOption { return func(c *callConfig) { c.fcID = id } }

// WithCallValidityPeriod sets this call's ValidityPeriod.
func WithCallValidityPeriod(d time.Duration) CallOption {
	return func(c *callConfig) { c.validity = d }
}

// WithCallProviderEntityID sets X-KPN-ProviderEntityId for this call: the vendor of the profile managed (docs/kpn.md R7).
func WithCallProviderEntityID(oid string) CallOption { return func(c *callConfig) { c.provider = oid } }

// WithCallReplyTo sets this call's replyTo address.
func WithCallReplyTo(url string) CallOption { return func(c *callConfig) { c.replyTo = url } }

// Exchange describes a request that was sent and how it was answered.
type Exchange struct {
	Key      correlate.OperationKey // MessageID, TransactionID, FunctionCallIdentifier, Interface, Function
	Attempts int                    // HTTP attempts, retries included
	Response *soap.Message          // the synchronous answer, nil for an accepted asynchronous request
	Warning  *Warning               // set when the function succeeded with EXECUTED_WITHWARNING
	// EIDWarning is set when the answer's EIS carried its EID as the hex of its ASCII digits: the EIS
	// holds the normalised EID (NormalizeEID), as a callback's and a notification's do.
	EIDWarning *EIDEncodingWarning
	// Unconfirmed is set when Start returned an operation whose request's outcome is unknown (the
	// answer was lost after the request was written): it stays pending for its callback.
	Unconfirmed *CallError
}

// prepare validates the call's options, where the rules are (validate.go), and has the engine fill the
// request's base fields and build its header: engine.Engine.Prepare says how.
// h and key are the caller's, filled in place (on its stack: neither is copied on the way).
func (c *Client) prepare(fn *rps.Function, req rps.Request, opts []CallOption, h *soap.Header, key *correlate.OperationKey) error {
	co := callOptions(opts)
	if co.fcID != "" {
		if err := ValidateFunctionCallIdentifier(co.fcID); err != nil {
			return err
		}
	}
	validity := c.eng.Validity(fn, co.validity)
	if validity != 0 {
		if err := ValidateValidityPeriod(validity); err != nil {
			return err
		}
	}
	if co.provider != "" {
		if err := ValidateOID("X-KPN-ProviderEntityId", co.provider); err != nil {
			return err
		}
	}
	return c.eng.Prepare(fn, req, engine.Call{FunctionCallIdentifier: co.fcID, Validity: validity, Provider: co.provider, ReplyTo: co.replyTo}, h, key)
}

// Call sends a synchronous function's request and decodes its response into resp. A FAILED or EXPIRED
// status is returned as a *FunctionError; EXECUTED_WITHWARNING as Exchange.Warning. A request that failed
// on its way is a *CallError whose Outcome says whether the gateway may have executed it.
func (c *Client) Call(ctx context.Context, fn rps.Function, req rps.Request, resp rps.Response, opts ...CallOption) (*Exchange, error) {
	x := new(Exchange)
	answered, err := c.call(ctx, &fn, req, resp, opts, x)
	if !answered {
		return nil, err
	}
	return x, err
}

// call is Call into an Exchange of the caller's (CallResult's stays on its stack). answered reports
// whether x was filled: false when nothing or no answer came back.
// fn is the caller's, not copied on the way.
func (c *Client) call(ctx context.Context, fn *rps.Function, req rps.Request, resp rps.Response, opts []CallOption, x *Exchange) (answered bool, err error) {
	var h soap.Header
	var key correlate.OperationKey
	if err = c.prepare(fn, req, opts, &h, &key); err != nil {
		return false, err
	}
	ctx, obs := c.eng.Observe(ctx, nil, key, req, false)
	defer func() {
		if answered {
			endCall(obs, x, err)
		} else {
			endCall(obs, nil, err)
		}
	}()
	// r's values go into x: it stays on this stack.
	var r soap.Response
	if err = c.eng.CallInto(ctx, &h, req, resp, &r); err != nil { // the body is decoded as its envelope is read
		engine.FillCallError(err, key)
		return false, err
	}
	*x = Exchange{Key: key, Attempts: r.Attempts, Response: r.Message}
	// A synchronous answer names the request it answers; one naming another request is not ours, whatever
	// its body says.
	if err = c.eng.CheckAnswer(fn, &h, &r); err != nil {
		return true, err
	}
	x.Warning, x.EIDWarning, err = c.decodeResponse(ctx, fn, r.Message, resp)
	if err != nil {
		// Declared here, not above: errors.As makes it escape, and a call that succeeds should not pay
		// an allocation for it.
		var fe *FunctionError
		if errors.As(err, &fe) {
			fe.FunctionCallIdentifier = key.FunctionCallIdentifier
		}
	}
	return true, err
}

// decodeResponse decodes m's body into resp, normalises a hex-of-ASCII EID in its EIS (a sync GetEIS
// answer, or the FAILED answer Njiwa gives an AuditEIS at once) and maps its FunctionExecutionStatus.
func (c *Client) decodeResponse(ctx context.Context, fn *rps.Function, m *soap.Message, resp rps.Response) (*Warning, *EIDEncodingWarning, error) {
	if err := c.eng.DecodeAnswer(fn, m, resp); err != nil {
		return nil, nil, err
	}
	var eidWarn *EIDEncodingWarning
	if e, ok := resp.(rps.EISResponder); ok {
		if eidWarn = normalizeEIS(e.EISData()); eidWarn != nil {
			c.eng.Logger().LogAttrs(ctx, slog.LevelWarn, "esimgw: answer EID normalised", slog.String("function", c.Interface()+" "+fn.Name),
				slog.String("messageID", m.Header.MessageID), slog.Any("warning", eidWarn))
		}
	}
	warn, err := ResponseStatus(c.Interface(), fn.Name, resp)
	return warn, eidWarn, err
}

// ResponseStatus maps a response's FunctionExecutionStatus: a *FunctionError for FAILED and EXPIRED (and
// unknown statuses), a *Warning for EXECUTED_WITHWARNING, neither for EXECUTED_SUCCESS.
func ResponseStatus(iface, function string, resp rps.Response) (*Warning, error) {
	base := resp.ResponseBase()
	st := ExecutionStatus{Status: Status(base.FunctionExecutionStatus.Status)}
	if parsed, ok := ParseStatus(string(st.Status)); ok {
		st.Status = parsed
	}
	if d := base.FunctionExecutionStatus.StatusCodeData; d != nil {
		st.Subject, st.Reason, st.SubjectIdentifier, st.Message = d.Subject, d.Reason, d.SubjectIdentifier, d.Message
	}
	if err := st.Err(iface, function); err != nil {
		var fe *FunctionError
		if errors.As(err, &fe) {
			fe.AcceptableValidityPeriod = time.Duration(base.AcceptableValidityPeriod) * time.Second
			if e, ok := resp.(rps.EuiccResponder); ok {
				fe.EuiccResponseData = e.EuiccResponse()
			}
		}
		return nil, err
	}
	return st.Warning(), nil
}

// Start sends an asynchronous function's request and returns the pending operation its callback will
// resolve. The operation is registered before the request leaves, so a callback that beats the 202 is not
// lost; a gateway answering at once with a FAILED response (as Njiwa does) resolves it immediately.
//
// A request that was not sent or was refused fails (a *CallError with Outcome NotSent or Refused, inside
// a *SendError). One whose outcome is unknown (the answer was lost after the request was written) does
// not: Start returns its operation, still pending so that the callback resolves it, with
// Exchange.Unconfirmed set; its Wait returns that *CallError (ErrOutcomeUnknown) only if the context
// ends before a result arrives.
func (c *Client) Start(ctx context.Context, fn rps.Function, req rps.Request, resp rps.Response, opts ...CallOption) (*correlate.Pending, *Exchange, error) {
	x := new(Exchange)
	p, filled, _, err := c.start(ctx, fn, req, resp, opts, x)
	if !filled {
		x = nil
	}
	return p, x, err
}

// start is Start that also returns the call's span context (invalid when not traced), which the
// operation's Wait spans descend from.
func (c *Client) start(ctx context.Context, fn rps.Function, req rps.Request, resp rps.Response, opts []CallOption, x *Exchange) (*correlate.Pending, bool, trace.SpanContext, error) {
	var sc trace.SpanContext
	if c.dispatcher == nil {
		return nil, false, sc, fmt.Errorf("%w: %s %s", ErrNoDispatcher, c.Interface(), fn.Name)
	}
	var h soap.Header
	var key correlate.OperationKey
	if err := c.prepare(&fn, req, opts, &h, &key); err != nil {
		return nil, false, sc, err
	}
	s := c.dispatcher.Store()
	p, err := s.RegisterOperation(ctx, key, c.eng.Deadline(req))
	if err != nil {
		return nil, false, sc, err
	}
	ctx, obs := c.eng.Observe(ctx, c.dispatcher.tel, key, req, true)
	sc = obs.SpanContext()
	r, err := c.eng.Send(ctx, &h, req)
	endSent(obs, r, err)
	if err != nil {
		ce := engine.FillCallError(err, key)
		logger, name := c.eng.Logger(), c.Interface()+" "+fn.Name
		if ce != nil && ce.Outcome == OutcomeUnknown {
			// The gateway may have executed the request (the answer was lost after it was written): its
			// callback may still come, so the operation stays registered for it. Wait returns the result
			// when it arrives, and this error only if its context ends first.
			logger.LogAttrs(ctx, slog.LevelWarn, "esimgw: the request's outcome is unknown; its operation stays pending for the callback",
				slog.String("function", name), slog.String("messageID", key.MessageID),
				slog.String("functionCallIdentifier", key.FunctionCallIdentifier), slog.Any("error", err))
			p.MarkUnconfirmed(ce)
			*x = Exchange{Key: key, Attempts: ce.Attempts, Unconfirmed: ce}
			return p, true, sc, nil
		}
		if withdrawn, _ := s.WithdrawOperation(context.WithoutCancel(ctx), p, nil); !withdrawn {
			// The callback came while the answer to the request was still awaited: the result is here,
			// so the gateway evidently accepted the request. Failing now would drop a result nobody else
			// will see.
			logger.LogAttrs(ctx, slog.LevelInfo, "esimgw: the request's answer was lost but its callback arrived; returning the result",
				slog.String("function", name), slog.String("messageID", key.MessageID), slog.Any("error", err))
			*x = Exchange{Key: key}
			if ce != nil {
				x.Attempts = ce.Attempts
			}
			return p, true, sc, nil
		}
		return nil, false, sc, &SendError{Key: key, Err: err}
	}
	*x = Exchange{Key: key, Attempts: r.Attempts, Response: r.Message}
	if r.Message != nil {
		warn, eidWarn, ferr := c.decodeResponse(ctx, &fn, r.Message, resp)
		var fe *FunctionError
		if ferr != nil && !errors.As(ferr, &fe) {
			_, _ = s.WithdrawOperation(context.WithoutCancel(ctx), p, nil)
			return nil, false, sc, ferr
		}
		x.Warning, x.EIDWarning = warn, eidWarn
		if fe != nil {
			fe.FunctionCallIdentifier = key.FunctionCallIdentifier
		}
		if _, err := s.ResolveOperation(context.WithoutCancel(ctx), p, resp, ferr); err != nil {
			// The answer is in hand: give it to this caller even though the store could not keep it.
			c.eng.Logger().LogAttrs(ctx, slog.LevelWarn, "esimgw: the store could not record a synchronous answer",
				slog.String("function", c.Interface()+" "+fn.Name), slog.String("messageID", key.MessageID), slog.Any("error", err))
			return correlate.NewResolvedPending(key, resp, ferr), true, sc, nil
		}
	}
	return p, true, sc, nil
}

// StartOperation is Start with a typed result: convert turns the decoded callback (or the synchronous
// FAILED answer) into T. The error given to convert is the *FunctionError of a FAILED or EXPIRED result.
func StartOperation[T any](ctx context.Context, c *Client, fn rps.Function, req rps.Request, resp rps.Response,
	convert func(resp rps.Response, warn *Warning, err error) (T, error), opts ...CallOption) (*Operation[T], error) {
	var x Exchange // not kept: the operation is what StartOperation returns
	p, _, sc, err := c.start(ctx, fn, req, resp, opts, &x)
	if err != nil {
		return nil, err
	}
	op := newTypedOperation(c.dispatcher.Store(), p, convert)
	op.wt = c.waitTrace(sc, p.Key())
	return op, nil
}

// newTypedOperation is NewOperation with a response converter (convertResponse says how it is called).
func newTypedOperation[T any](s correlate.Store, p *correlate.Pending, convert func(resp rps.Response, warn *Warning, err error) (T, error)) *Operation[T] {
	op := NewOperation[T](s, p, nil)
	op.typed = convert
	return op
}

// convertResponse is how an operation's response converter is called on its resolution (value, err): the
// error it gets is the *FunctionError of a FAILED or EXPIRED result (derived from the response when the
// store handed over only the response), with the call's FunctionCallIdentifier.
func convertResponse[T any](key correlate.OperationKey, convert func(resp rps.Response, warn *Warning, err error) (T, error), v any, err error) (T, error) {
	if err != nil {
		var fe *FunctionError // declared here: errors.As makes it escape
		if errors.As(err, &fe) && fe.FunctionCallIdentifier == "" {
			fe.FunctionCallIdentifier = key.FunctionCallIdentifier
		}
	}
	r, _ := v.(rps.Response)
	var warn *Warning
	if r != nil && err == nil {
		warn, err = ResponseStatus(key.Interface, key.Function, r)
	}
	if err != nil && r == nil {
		var zero T
		return zero, err
	}
	return convert(r, warn, err)
}

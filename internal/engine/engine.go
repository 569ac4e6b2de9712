package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// Errors of the engine, re-exported by the root package (esimgw.ErrNoReplyTo, esimgw.ErrUnexpectedResponse),
// which documents them.
var (
	ErrNoReplyTo          = errors.New("esimgw: asynchronous call without a replyTo address")
	ErrUnexpectedResponse = errors.New("esimgw: unexpected response")
)

// KPNSetFallBackValidity is the ValidityPeriod KPN applies to SetFallBackAttribute, whatever is asked
// (docs/kpn.md R10; esimgw.KPNSetFallBackValidity).
const KPNSetFallBackValidity = 720 * time.Second

// Config is what a client's options asked for, after the root package validated each value on its own
// (OIDs, URLs, the validity period); New checks what only the assembled addresses can show.
type Config struct {
	Interface string // "ES2" or "ES4"
	Endpoint  string // the gateway URL calls are posted to
	// EntityID and EntityName are the caller's identity in wsa:From and the sender OID of every MessageID.
	EntityID, EntityName string
	FromBase             string // the base URL of wsa:From; "" for ReplyTo's without query, else http://localhost
	Provider             string // X-KPN-ProviderEntityId in wsa:From, "" for none
	Peer                 string // the gateway's EntityId, appended to wsa:To; "" for none
	Separator            soap.Separator
	SeparatorSet         bool // Separator was chosen; else '?' with KPN, '&' otherwise
	ReplyTo              string
	NoReplyTo            bool          // asynchronous calls may go out without a replyTo
	Validity             time.Duration // the default ValidityPeriod, 0 for the gateway's own
	KPN                  bool          // KPN's rules: '?' separators, SetFallBackAttribute's fixed validity
	SOAP                 *soap.Client  // nil: one of SOAPOptions
	SOAPOptions          []soap.ClientOption
	Logger               *slog.Logger
	Now                  func() time.Time // the clock of MessageDate and of deadlines
	Telemetry            TelemetryConfig
}

// FieldError is a configuration value New refused; the root package reports it as an
// *esimgw.ValidationError with the same fields.
type FieldError struct {
	Field, Value, Rule string
}

func (e *FieldError) Error() string {
	return "esimgw: invalid " + e.Field + " " + strconv.Quote(e.Value) + ": " + e.Rule
}

// Engine is the machinery of one esimgw.Client: its addresses, how each request's header and base
// fields are written, the soap.Client it sends through, how an answer is checked and decoded, and the
// call's telemetry. It is safe for concurrent use.
type Engine struct {
	iface     string
	endpoint  string
	to        string
	from      soap.EntityAddress
	fromText  string // from.String(), built once
	replyTo   string
	noReplyTo bool
	validity  time.Duration
	kpn       bool
	soap      *soap.Client
	logger    *slog.Logger
	now       func() time.Time
	tel       *ClientTelemetry // nil unless a provider was given
}

// New assembles the addresses of cfg (wsa:From with the entity parameters, wsa:To with the peer's) and
// the soap.Client. A base or endpoint the entity parameters cannot follow is a *FieldError.
func New(cfg Config) (*Engine, error) {
	sep := soap.SeparatorAmpersand
	if cfg.KPN {
		sep = soap.SeparatorQuestion
	}
	if cfg.SeparatorSet {
		sep = cfg.Separator
	}
	base := cfg.FromBase
	if base == "" {
		base = "http://localhost"
		if cfg.ReplyTo != "" {
			// The entity parameters follow the base, so the replyTo's own query (a tenant, say) and fragment
			// must not: after a '#' they would not be parameters at all.
			base, _, _ = strings.Cut(cfg.ReplyTo, "#")
			base, _, _ = strings.Cut(base, "?")
		}
	}
	from := soap.EntityAddress{Base: base, EntityID: cfg.EntityID, EntityName: cfg.EntityName, Separator: sep}
	if cfg.Provider != "" {
		from = from.WithProviderEntityID(cfg.Provider)
	}
	if err := from.Validate(); err != nil {
		return nil, &FieldError{Field: "From", Value: base, Rule: "must be a URL without query or fragment (the entity parameters follow it): " + err.Error()}
	}
	to := cfg.Endpoint
	if cfg.Peer != "" {
		if strings.ContainsAny(cfg.Endpoint, "?#") {
			return nil, &FieldError{Field: "endpoint", Value: cfg.Endpoint, Rule: "must have no query or fragment when WithPeerEntityID appends EntityId to it"}
		}
		to = soap.EntityAddress{Base: cfg.Endpoint, EntityID: cfg.Peer, Separator: sep}.String()
	}
	sc := cfg.SOAP
	if sc == nil {
		sc = soap.NewClient(append([]soap.ClientOption{soap.WithLogger(cfg.Logger)}, cfg.SOAPOptions...)...)
	}
	return &Engine{
		iface: cfg.Interface, endpoint: cfg.Endpoint, to: to, from: from, fromText: from.String(), replyTo: cfg.ReplyTo,
		noReplyTo: cfg.NoReplyTo, validity: cfg.Validity, kpn: cfg.KPN, soap: sc, logger: cfg.Logger, now: cfg.Now,
		tel: NewClientTelemetry(cfg.Telemetry, cfg.Endpoint),
	}, nil
}

// Interface is "ES2" or "ES4".
func (e *Engine) Interface() string { return e.iface }

// Endpoint is the gateway URL calls are posted to.
func (e *Engine) Endpoint() string { return e.endpoint }

// Logger is the client's logger.
func (e *Engine) Logger() *slog.Logger { return e.logger }

// Telemetry is the client's instruments, nil when uninstrumented.
func (e *Engine) Telemetry() *ClientTelemetry { return e.tel }

// Call is what one call's options asked for, each value validated by the caller.
type Call struct {
	FunctionCallIdentifier string        // "" for a fresh one
	Validity               time.Duration // the ValidityPeriod to state (Validity's answer), 0 for none
	Provider               string        // this call's X-KPN-ProviderEntityId, "" for the client's
	ReplyTo                string        // this call's replyTo, "" for the client's
}

// Validity is the ValidityPeriod a call of fn states when asked is what its options asked for (0 for
// none): asked, else the client's default; for SetFallBackAttribute with KPN's rules always
// KPNSetFallBackValidity (a different value asked is logged).
func (e *Engine) Validity(fn *rps.Function, asked time.Duration) time.Duration {
	validity := e.validity
	if asked != 0 {
		validity = asked
	}
	if e.kpn && fn.Name == "SetFallBackAttribute" {
		if validity != 0 && validity != KPNSetFallBackValidity {
			e.logger.Warn("esimgw: KPN fixes the ValidityPeriod of SetFallBackAttribute at 720 s; using it",
				slog.Duration("asked", validity))
		}
		validity = KPNSetFallBackValidity
	}
	return validity
}

// Prepare fills the request's base fields and builds its header and key. FunctionCallIdentifier doubles
// as the TransactionId of the MessageID, so that a callback arriving when nobody waits for it any more
// (after a restart) still names the function call it answers. An asynchronous function without a replyTo
// fails with ErrNoReplyTo, unless the client may send without one.
//
// The header and key are written into the caller's h and key, which it may keep on its stack: neither is
// copied on the way.
func (e *Engine) Prepare(fn *rps.Function, req rps.Request, c Call, h *soap.Header, key *correlate.OperationKey) error {
	fcID := c.FunctionCallIdentifier
	tx := "" // a fresh TransactionId, unless the identifier can be one
	if fcID != "" && isURLSafe(fcID) {
		tx = fcID
	}
	// The MessageID and its text are made at once: the header needs only the text.
	mid, midText := soap.NewMessageIDText(e.from.EntityID, tx, e.now())
	if fcID == "" {
		fcID = mid.TransactionID
	}
	base := req.RequestBase()
	base.FunctionCallIdentifier = fcID
	base.ValidityPeriod = rps.PositiveInteger(c.Validity / time.Second)

	from := e.fromText
	if c.Provider != "" {
		from = e.from.WithProviderEntityID(c.Provider).String()
	}
	*h = soap.Header{From: from, To: e.to, MessageID: midText, Action: fn.RequestAction}
	if fn.Mode == rps.Async {
		h.ReplyTo = e.replyTo
		if c.ReplyTo != "" {
			h.ReplyTo = c.ReplyTo
		}
		if h.ReplyTo == "" && !e.noReplyTo {
			*h = soap.Header{}
			return fmt.Errorf("%w: %s %s (give WithReplyTo, or WithoutReplyTo to send anyway)", ErrNoReplyTo, e.iface, fn.Name)
		}
	}
	*key = correlate.OperationKey{MessageID: h.MessageID, TransactionID: mid.TransactionID, FunctionCallIdentifier: fcID, Interface: e.iface, Function: fn.Name}
	return nil
}

func isURLSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~:", c) >= 0) {
			return false
		}
	}
	return true
}

// Observe starts observing a call (ClientTelemetry.Observe); dt is the telemetry of the Dispatcher that
// receives an asynchronous call's callback.
func (e *Engine) Observe(ctx context.Context, dt *DispatcherTelemetry, key correlate.OperationKey, req rps.Request, async bool) (context.Context, *Observation) {
	return e.tel.Observe(ctx, dt, key, req, async)
}

// CallInto posts a synchronous request with header h and fills r with the answer; the answer's body is
// decoded into resp as its envelope is read.
func (e *Engine) CallInto(ctx context.Context, h *soap.Header, req rps.Request, resp rps.Response, r *soap.Response) error {
	return e.soap.CallIntoResponse(ctx, e.endpoint, h, req, resp, r)
}

// Send posts an asynchronous request with header h.
func (e *Engine) Send(ctx context.Context, h *soap.Header, req rps.Request) (*soap.Response, error) {
	return e.soap.Call(ctx, e.endpoint, h, req)
}

// FillCallError fills the *soap.CallError in err with what the engine knows of the call (interface,
// function, FunctionCallIdentifier, the MessageID when the transport did not set it) and returns it, nil
// when err is none: a failure before anything was sent.
func FillCallError(err error, key correlate.OperationKey) *soap.CallError {
	var ce *soap.CallError
	if !errors.As(err, &ce) {
		return nil
	}
	ce.Interface, ce.Function, ce.FunctionCallIdentifier = key.Interface, key.Function, key.FunctionCallIdentifier
	if ce.MessageID == "" {
		ce.MessageID = key.MessageID
	}
	return ce
}

// CheckAnswer refuses a synchronous answer that is not the answer to the request with header h: none at
// all (a 2xx without a body), or one naming another request. An absent RelatesTo is tolerated (the HTTP
// exchange pairs them already), and so is one spelling our MessageID differently but naming our
// transaction, as callbacks are matched too.
func (e *Engine) CheckAnswer(fn *rps.Function, h *soap.Header, r *soap.Response) error {
	if r.Message == nil {
		return fmt.Errorf("%w: HTTP %d without a body to %s %s", ErrUnexpectedResponse, r.StatusCode, e.iface, fn.Name)
	}
	if rel := r.Message.Header.RelatesTo; rel != "" && rel != h.MessageID && !sameTransaction(rel, h.MessageID) {
		return fmt.Errorf("%w: %s %s answered with RelatesTo %q, not the request's MessageID %q",
			ErrUnexpectedResponse, e.iface, fn.Name, rel, h.MessageID)
	}
	return nil
}

// sameTransaction reports whether two MessageIDs carry the same TransactionId.
func sameTransaction(a, b string) bool {
	ma, err := soap.ParseMessageID(a)
	if err != nil || ma.TransactionID == "" {
		return false
	}
	mb, err := soap.ParseMessageID(b)
	return err == nil && ma.TransactionID == mb.TransactionID
}

// DecodeAnswer decodes m's body into resp, the response fn expects: the schema's element in any case, or
// a Njiwa or ES3 spelling of it (CanonicalElement); another element is ErrUnexpectedResponse.
func (e *Engine) DecodeAnswer(fn *rps.Function, m *soap.Message, resp rps.Response) error {
	// The schema's spelling is the usual one: compared as is first, then without regard to case.
	if name := resp.ElementName(); m.BodyName != name && !strings.EqualFold(m.BodyName, name) && !spelledAs(m, e.iface, name) {
		return fmt.Errorf("%w: <%s> where %s %s answers <%s>", ErrUnexpectedResponse, m.BodyName, e.iface, fn.Name, name)
	}
	return m.DecodeBody(resp)
}

// Deadline is when the gateway gives up on req, by the validity period it states: the store may forget
// the operation a while after it. Zero when the request states none.
func (e *Engine) Deadline(req rps.Request) time.Time {
	validity := time.Duration(req.RequestBase().ValidityPeriod) * time.Second
	if validity <= 0 {
		return time.Time{}
	}
	return e.now().Add(validity)
}

package esimgw

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/internal/engine"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// NotificationKind names what a notification reports.
type NotificationKind string

// Notification kinds, the same on ES2 and ES4.
const (
	ProfileEnabled  NotificationKind = "ProfileEnabled"
	ProfileDisabled NotificationKind = "ProfileDisabled"
	ProfileDeleted  NotificationKind = "ProfileDeleted"
	SMSRChange      NotificationKind = "SMSRChange"
)

// Notification is an ES2 or ES4 HandleXxxNotification: a state change the gateway reports unasked (a
// local switch on the device, a fall-back). KPN sends none for an enable you requested (docs/kpn.md R9): take
// completion of your own calls from their Operation, never from a notification.
type Notification struct {
	Interface           string // "ES2" or "ES4"
	Kind                NotificationKind
	Eid                 string       // upper-case hex digits; empty for SMSRChange (see EIS)
	Iccid               string       // as sent; empty for SMSRChange
	CompletionTimestamp time.Time    // whatever casing the sender gave the element
	EIS                 *rps.EISType // SMSRChange only: the part of the EIS relevant to the operator
	Header              soap.Header  // the notification's addressing headers
	Element             rps.Element  // the decoded body
	// Sequence numbers arrivals at this dispatcher (1, 2, ...): for one EID, a notification with a higher
	// Sequence arrived later and is handed over only after the earlier ones (see Dispatcher).
	Sequence uint64
	// Err is set when the body has a value its schema type does not allow (an enumeration, a boolean, a
	// date, hex): the fields hold what was read before it, and Element and Message the rest. Such a
	// notification goes to the unmatched handler, never to the NotificationHandler, so that the
	// application decides what a half-readable notification means; it is acknowledged once handed over.
	Err error
	// Warning is an *EIDEncodingWarning when the EID came as the hex of its ASCII digits: Eid (or the EIS)
	// then holds the normalised EID.
	Warning error
}

// NotificationHandler receives notifications. An error answers a SOAP fault with HTTP 500, so the gateway
// delivers the notification again later.
type NotificationHandler interface {
	HandleNotification(ctx context.Context, n *Notification) error
}

// NotificationHandlerFunc adapts a function to NotificationHandler.
type NotificationHandlerFunc func(ctx context.Context, n *Notification) error

// HandleNotification calls f.
func (f NotificationHandlerFunc) HandleNotification(ctx context.Context, n *Notification) error {
	return f(ctx, n)
}

// ErrMalformedCallback is the error an operation resolves with when its callback's body could not be
// decoded (a value that is not what its schema type allows): the result exists but cannot be read.
var ErrMalformedCallback = errors.New("esimgw: malformed callback")

// ErrNotHandled is returned by a NotificationHandler that does not handle a kind: the dispatcher then
// hands the notification to the unmatched handler instead.
var ErrNotHandled = errors.New("esimgw: notification not handled")

// Notifications is a NotificationHandler with one typed function a kind; kinds left nil go to the
// unmatched handler.
type Notifications struct {
	ProfileEnabled  func(ctx context.Context, n *Notification) error
	ProfileDisabled func(ctx context.Context, n *Notification) error
	ProfileDeleted  func(ctx context.Context, n *Notification) error
	SMSRChange      func(ctx context.Context, n *Notification) error
}

// HandleNotification dispatches on n.Kind.
func (h Notifications) HandleNotification(ctx context.Context, n *Notification) error {
	var f func(context.Context, *Notification) error
	switch n.Kind {
	case ProfileEnabled:
		f = h.ProfileEnabled
	case ProfileDisabled:
		f = h.ProfileDisabled
	case ProfileDeleted:
		f = h.ProfileDeleted
	case SMSRChange:
		f = h.SMSRChange
	}
	if f == nil {
		return ErrNotHandled
	}
	return f(ctx, n)
}

// InboundKind classifies an inbound message.
type InboundKind int

const (
	// InboundCallback is the result of an asynchronous function (a ...Response element).
	InboundCallback InboundKind = iota
	// InboundNotification is a HandleXxxNotification.
	InboundNotification
	// InboundUnknown is a body element this library does not know: acknowledged, never refused, because KPN
	// adds functions over time (docs/kpn.md R14).
	InboundUnknown
)

func (k InboundKind) String() string {
	switch k {
	case InboundCallback:
		return "callback"
	case InboundNotification:
		return "notification"
	}
	return "unknown"
}

// Inbound is everything known about a message that no waiting operation or notification handler took:
// what the unmatched and duplicate handlers receive. For a callback after a restart it carries what is
// needed to resume: the original request's MessageID (RelatesTo), the TransactionID (which esimgw sets to
// the FunctionCallIdentifier), the decoded result and its error.
type Inbound struct {
	Kind      InboundKind
	Interface string // "ES2", "ES4" or "" when unknown
	Function  string // e.g. "EnableProfile"; the notification or element name otherwise
	Message   *soap.Message
	Element   rps.Element // decoded body; nil for InboundUnknown
	// Callbacks only:
	RelatesTo     string
	TransactionID string
	// Err is, for a callback, the *FunctionError of a FAILED or EXPIRED result; for a notification, why
	// its body could not be read (Notification.Err; the raw body is in Message.BodyXML).
	Err          error
	Warning      *Warning                // EXECUTED_WITHWARNING
	Operation    *correlate.OperationKey // the operation it answers, when known (duplicates)
	Notification *Notification           // notifications only
}

// FunctionCallIdentifier is the FunctionCallIdentifier of the call a callback answers: the operation's
// when known, else the TransactionID (esimgw clients send their FunctionCallIdentifier as TransactionId).
func (in *Inbound) FunctionCallIdentifier() string {
	if in.Operation != nil && in.Operation.FunctionCallIdentifier != "" {
		return in.Operation.FunctionCallIdentifier
	}
	if in.TransactionID != "" {
		return in.TransactionID
	}
	// A callback whose own MessageID carries no TransactionId (gSOAP, Njiwa) still names our request in
	// RelatesTo, and the TransactionId of our MessageID is the FunctionCallIdentifier (issue 17).
	return correlate.TransactionIDFromMessageID(in.RelatesTo)
}

// Dispatcher is the soap.MessageHandler behind a callback.Server: it resolves callbacks of ES2 and ES4
// operations through its Tracker, passes notifications to the NotificationHandler, and everything else
// (callbacks nobody waits for, notifications nobody handles or with unreadable values, unknown elements)
// to the unmatched handler. It dispatches on the body element's local name; wsa:Action is only a hint,
// since real systems misspell it.
//
// Notifications of one EID are handed over one at a time, in arrival order; those of different EIDs
// concurrently. Each carries its arrival Sequence. Order across replicas of the callback server is not
// kept: an audit (ES4 AuditEIS) is the truth about an eUICC's state.
type Dispatcher struct {
	store       correlate.Store
	order       arrivalQueue // one notification of an EID at a time, in arrival order
	notify      NotificationHandler
	unmatched   func(ctx context.Context, in *Inbound) error
	duplicate   func(ctx context.Context, in *Inbound)
	resultHook  func(ctx context.Context, in *Inbound) error // WithResultHook
	logger      *slog.Logger
	trackerOpts []correlate.Option
	telemetry   engine.TelemetryConfig      // WithDispatcherTracerProvider, WithDispatcherMeterProvider
	tel         *engine.DispatcherTelemetry // nil when neither was given
}

// DispatcherOption configures a Dispatcher.
type DispatcherOption func(*Dispatcher)

// WithNotificationHandler sets the handler for notifications (a Notifications value for typed functions).
func WithNotificationHandler(h NotificationHandler) DispatcherOption {
	return func(d *Dispatcher) { d.notify = h }
}

// WithUnmatchedHandler receives what no operation or notification handler took. An error answers HTTP 500
// so the gateway retries. Without one, such messages are acknowledged and logged at Warn level with all
// their identifiers; production set-ups should store them.
func WithUnmatchedHandler(f func(ctx context.Context, in *Inbound) error) DispatcherOption {
	return func(d *Dispatcher) { d.unmatched = f }
}

// WithDuplicateHandler is told of each callback that repeats one already resolved (it resolved nothing),
// and of each notification that repeats one already handed over (by its MessageID).
func WithDuplicateHandler(f func(ctx context.Context, in *Inbound)) DispatcherOption {
	return func(d *Dispatcher) { d.duplicate = f }
}

// WithTracker uses t to correlate callbacks (default: a new Tracker). It is WithStore(t).
func WithTracker(t *correlate.Tracker) DispatcherOption {
	return func(d *Dispatcher) {
		if t != nil {
			d.store = t
		}
	}
}

// WithStore keeps pending operations, results and handed-over MessageIDs in s (default: a new Tracker,
// in memory). Replicas that share one durable store (pgstore) can each take any callback, and a restarted
// process resumes its operations from it.
func WithStore(s correlate.Store) DispatcherOption {
	return func(d *Dispatcher) {
		if s != nil {
			d.store = s
		}
	}
}

// WithTrackerOptions configures the Tracker the dispatcher creates. It has nothing to configure when
// WithStore or WithTracker gives the dispatcher its store: NewDispatcher then ignores it and logs a warning
// saying so (configure that store instead: correlate.NewTracker's options, pgstore.New's).
func WithTrackerOptions(opts ...correlate.Option) DispatcherOption {
	return func(d *Dispatcher) { d.trackerOpts = append(d.trackerOpts, opts...) }
}

// WithDispatcherLogger sets the logger (default slog.Default()).
func WithDispatcherLogger(l *slog.Logger) DispatcherOption {
	return func(d *Dispatcher) { d.logger = l }
}

// NewDispatcher returns a Dispatcher. One serves any number of ES2 and ES4 clients.
func NewDispatcher(opts ...DispatcherOption) *Dispatcher {
	d := &Dispatcher{logger: slog.Default()}
	for _, o := range opts {
		o(d)
	}
	switch {
	case d.store == nil:
		d.store = correlate.NewTracker(append([]correlate.Option{correlate.WithLogger(d.logger)}, d.trackerOpts...)...)
	case len(d.trackerOpts) > 0 && d.logger != nil:
		// NewDispatcher cannot fail; a bound the caller believes in (WithMaxPending, say) must not vanish
		// without a word.
		d.logger.LogAttrs(context.Background(), slog.LevelWarn,
			"esimgw: WithTrackerOptions ignored: the Dispatcher was given its store (WithStore or WithTracker); configure that store instead",
			slog.Int("options", len(d.trackerOpts)))
	}
	d.tel = engine.NewDispatcherTelemetry(d.telemetry, d.store)
	return d
}

// Tracker is the dispatcher's in-memory store, or nil when it was given another Store.
func (d *Dispatcher) Tracker() *correlate.Tracker {
	t, _ := d.store.(*correlate.Tracker)
	return t
}

// Store is where the dispatcher keeps its operations.
func (d *Dispatcher) Store() correlate.Store { return d.store }

// ServeSOAP implements soap.MessageHandler. It returns only after the message was handed over (to the
// waiting operation, the notification handler or the unmatched handler), so the 202 that follows is an
// honest acknowledgement.
func (d *Dispatcher) ServeSOAP(ctx context.Context, m *soap.Message) (*soap.Reply, error) {
	if d.tel != nil {
		return d.tel.Serve(ctx, m, d.serveSOAP)
	}
	return d.serveSOAP(ctx, m)
}

// ChooseBody implements soap.BodyChooser: a body element of the schema is decoded while the callback.Server
// reads its envelope, in one pass, into the element ServeSOAP then dispatches. Other names (Njiwa's and
// ES3 spellings, unknown elements) are left to ServeSOAP.
func (d *Dispatcher) ChooseBody(local []byte) soap.BodyReader {
	if el, ok := rps.NewElement(string(local)); ok {
		return el
	}
	return nil
}

func (d *Dispatcher) serveSOAP(ctx context.Context, m *soap.Message) (*soap.Reply, error) {
	el, known := m.Decoded().(rps.Element) // decoded with the envelope (ChooseBody)
	if !known {
		el, known = inboundElement(m) // the schema's names, and Njiwa's and ES3 spellings (dispatcher_lenient.go)
	}
	if !known || (m.BodySpace != rps.Namespace && m.BodySpace != soap.NSRPSv1) {
		iface, name := engine.SplitElementName(m.BodyName)
		return nil, d.handOver(ctx, &Inbound{Kind: InboundUnknown, Interface: iface, Function: name, Message: m})
	}
	iface, name := engine.SplitElementName(el.ElementName())
	if err := m.DecodeBody(el); err != nil {
		// A notification is the only copy of a state change: hand it over with what was read and the
		// problem attached, never drop it (issue 17, defect 1).
		if n := partialNotification(iface, name, el, m, err); n != nil {
			return nil, d.notification(ctx, m, n)
		}
		// Any other body we cannot read will not improve on retry: refuse it as the sender's fault. A
		// callback's operation is resolved with that error all the same, so that its waiter learns the
		// result is unreadable instead of waiting for a retry that will not come.
		if _, isResponse := el.(rps.Response); isResponse {
			function := strings.TrimSuffix(name, "Response")
			res, txID, derr, serr := d.resolveMalformed(ctx, &m.Header, iface, function, fmt.Errorf("%s %s: %w", iface, name, err))
			if serr != nil {
				return nil, serr
			}
			d.noteCallback(ctx, iface, function, res, nil, derr)
			if res.Match == correlate.Unmatched || res.Match == correlate.Mismatched {
				in := &Inbound{Kind: InboundCallback, Interface: iface, Function: function, Message: m,
					RelatesTo: m.Header.RelatesTo, TransactionID: txID, Err: derr}
				if res.Match == correlate.Mismatched {
					in.Operation = &res.Key
					in.Err = &correlate.MismatchedCallbackError{Operation: res.Key, Interface: iface, Function: function, Err: derr}
				}
				if herr := d.handOver(ctx, in); herr != nil {
					return nil, herr
				}
			}
		}
		return nil, soap.SenderFault(err.Error())
	}
	switch v := el.(type) {
	case rps.Response:
		return nil, d.callback(ctx, m, iface, strings.TrimSuffix(name, "Response"), v)
	case rps.ProfileNotification:
		eid, iccid, at := v.ProfileChange()
		n := &Notification{Interface: iface, Kind: notificationKind(name), Eid: eid.String(), Iccid: iccid,
			CompletionTimestamp: at.Time, Header: m.Header, Element: el}
		return nil, d.notification(ctx, m, n)
	case rps.SMSRChangeNotification:
		eis, at := v.SMSRChange()
		n := &Notification{Interface: iface, Kind: SMSRChange, EIS: eis, CompletionTimestamp: at.Time, Header: m.Header, Element: el}
		return nil, d.notification(ctx, m, n)
	}
	return nil, d.handOver(ctx, &Inbound{Kind: InboundUnknown, Interface: iface, Function: name, Message: m, Element: el})
}

// ServeMalformed implements soap.MalformedMessageHandler: a callback whose envelope broke off (not well
// formed) but whose headers were read resolves its operation with ErrMalformedCallback, so that the waiter
// learns its result exists but cannot be read instead of waiting for a retry the 400 will not bring.
func (d *Dispatcher) ServeMalformed(ctx context.Context, h *soap.Header, cause error) error {
	res, txID, _, serr := d.resolveMalformed(ctx, h, "", "", cause)
	if serr != nil {
		return serr
	}
	d.logger.LogAttrs(ctx, slog.LevelWarn, "esimgw: malformed message refused",
		slog.String("match", res.Match.String()), slog.String("messageID", h.MessageID),
		slog.String("relatesTo", h.RelatesTo), slog.String("transactionID", txID), slog.Any("error", cause))
	return nil
}

// resolveMalformed resolves the operation an unreadable callback answers with ErrMalformedCallback.
func (d *Dispatcher) resolveMalformed(ctx context.Context, h *soap.Header, iface, function string, cause error) (correlate.DeliveryResult, string, error, error) {
	txID := correlate.TransactionIDFromMessageID(h.MessageID)
	err := fmt.Errorf("%w: %w", ErrMalformedCallback, cause)
	res, serr := d.store.DeliverCallback(ctx, correlate.Delivery{RelatesTo: h.RelatesTo, TransactionID: txID, MessageID: h.MessageID, Err: err,
		Interface: iface, Function: function})
	if serr != nil {
		return res, txID, err, retryLater(serr)
	}
	return res, txID, err, nil
}

// retryLater is the answer to a message that could not be handed over for a reason that will pass (the
// store is down, a copy is being handed over elsewhere): HTTP 503, so the gateway delivers it again.
func retryLater(err error) error {
	f := soap.ReceiverFault("message not processed, deliver it again later: " + err.Error())
	f.HTTPStatus = http.StatusServiceUnavailable
	return f
}

func (d *Dispatcher) callback(ctx context.Context, m *soap.Message, iface, function string, resp rps.Response) error {
	if e, ok := resp.(rps.EISResponder); ok {
		if w := normalizeEIS(e.EISData()); w != nil {
			d.logger.LogAttrs(ctx, slog.LevelWarn, "esimgw: callback EID normalised", slog.String("function", iface+" "+function),
				slog.String("messageID", m.Header.MessageID), slog.Any("warning", w))
		}
	}
	warn, ferr := ResponseStatus(iface, function, resp)
	txID := correlate.TransactionIDFromMessageID(m.Header.MessageID)
	if err := d.runResultHook(ctx, m, iface, function, resp, txID, warn, ferr); err != nil {
		return err
	}
	res, err := d.store.DeliverCallback(ctx, correlate.Delivery{RelatesTo: m.Header.RelatesTo, TransactionID: txID, MessageID: m.Header.MessageID, Value: resp, Err: ferr,
		Interface: iface, Function: function})
	if err != nil {
		return retryLater(err)
	}
	d.noteCallback(ctx, iface, function, res, warn, ferr)
	if res.Match == correlate.Matched {
		return nil // the common case: the waiter has it, and no Inbound needs to be built
	}
	in := &Inbound{Kind: InboundCallback, Interface: iface, Function: function, Message: m, Element: resp,
		RelatesTo: m.Header.RelatesTo, TransactionID: txID, Err: ferr, Warning: warn}
	switch res.Match {
	case correlate.Duplicate:
		key := res.Key
		in.Operation = &key
		d.logger.LogAttrs(ctx, slog.LevelInfo, "esimgw: duplicate callback acknowledged, resolved nothing",
			slog.String("function", iface+" "+function), slog.String("relatesTo", in.RelatesTo), slog.String("messageID", m.Header.MessageID))
		if d.duplicate != nil {
			d.duplicate(ctx, in)
		}
		return nil
	case correlate.Mismatched:
		// Its IDs name an operation of another function: not that operation's result (it stays pending),
		// and not to be lost either.
		key := res.Key
		in.Operation = &key
		in.Err = &correlate.MismatchedCallbackError{Operation: key, Interface: iface, Function: function, Err: ferr}
		d.logger.LogAttrs(ctx, slog.LevelWarn, "esimgw: callback names an operation of another function; handed to the unmatched handler",
			slog.String("function", iface+" "+function), slog.String("operation", key.Interface+" "+key.Function),
			slog.String("relatesTo", in.RelatesTo), slog.String("messageID", m.Header.MessageID))
	}
	return d.handOverOnce(ctx, in, correlate.ScopeUnmatched, func() error { return d.handOver(ctx, in) })
}

func (d *Dispatcher) notification(ctx context.Context, m *soap.Message, n *Notification) error {
	normalizeNotificationEID(n) // before ordering: the lane is the EID's (eid_encoding.go)
	in := &Inbound{Kind: InboundNotification, Interface: n.Interface, Function: "Handle" + string(n.Kind) + "Notification",
		Message: m, Element: n.Element, Notification: n, Err: n.Err}
	seq, leave, err := d.order.enter(ctx, orderKey(n))
	n.Sequence = seq
	if err != nil {
		return fmt.Errorf("waiting for the earlier notifications of EID %s: %w", orderKey(n), err)
	}
	defer leave()
	return d.handOverOnce(ctx, in, correlate.ScopeNotification, func() error {
		d.tel.NoteNotification(ctx, n.Interface, string(n.Kind), n.Eid, n.Iccid, engine.MatchHandled)
		return d.handNotification(ctx, in, n)
	})
}

// handOverOnce hands a message over at most once by its MessageID: a gateway that lost our 202 posts it
// again, perhaps to another replica. The MessageID is claimed while hand runs, committed once it
// succeeded and released if it failed, so that the gateway's retry gets through. A copy arriving while
// another is being handed over is answered 503: acknowledging it would lose the message if that
// hand-over then failed.
func (d *Dispatcher) handOverOnce(ctx context.Context, in *Inbound, scope correlate.MessageScope, hand func() error) error {
	id := in.Message.Header.MessageID
	if id == "" {
		return hand()
	}
	claim, err := d.store.ClaimMessage(ctx, scope, id)
	if err != nil {
		return retryLater(err)
	}
	switch claim {
	case correlate.HandedOver:
		if in.Notification != nil {
			n := in.Notification
			d.tel.NoteNotification(ctx, n.Interface, string(n.Kind), n.Eid, n.Iccid, correlate.Duplicate.String())
		}
		d.logger.LogAttrs(ctx, slog.LevelInfo, "esimgw: duplicate "+in.Kind.String()+" acknowledged, handed over once",
			slog.String("function", in.Interface+" "+in.Function), slog.String("messageID", id))
		if d.duplicate != nil {
			d.duplicate(ctx, in)
		}
		return nil
	case correlate.InProgress:
		return retryLater(fmt.Errorf("a copy of %s %s (MessageID %s) is being handed over", in.Interface, in.Function, id))
	}
	if err := hand(); err != nil {
		if rerr := d.store.ReleaseMessage(context.WithoutCancel(ctx), scope, id); rerr != nil {
			d.logger.LogAttrs(ctx, slog.LevelError, "esimgw: releasing a message claim failed; the gateway's retry waits for its lease",
				slog.String("messageID", id), slog.Any("error", rerr))
		}
		return err
	}
	if err := d.store.CommitMessage(context.WithoutCancel(ctx), scope, id); err != nil {
		// Handed over but not recorded: answering 5xx makes the gateway retry, and a second hand-over is
		// the lesser harm than a lost one (the handler sees the same MessageID).
		return retryLater(err)
	}
	return nil
}

func (d *Dispatcher) handNotification(ctx context.Context, in *Inbound, n *Notification) error {
	if d.notify == nil || n.Err != nil {
		return d.handOver(ctx, in)
	}
	err := d.notify.HandleNotification(ctx, n)
	if errors.Is(err, ErrNotHandled) {
		return d.handOver(ctx, in)
	}
	if err != nil {
		return fmt.Errorf("notification handler: %w", err)
	}
	return nil
}

// handOver gives in to the unmatched handler, or logs it with every identifier when there is none.
func (d *Dispatcher) handOver(ctx context.Context, in *Inbound) error {
	d.noteUnmatched(ctx, in)
	if d.unmatched != nil {
		if err := d.unmatched(ctx, in); err != nil {
			return fmt.Errorf("unmatched handler: %w", err)
		}
		return nil
	}
	attrs := []slog.Attr{slog.String("kind", in.Kind.String()), slog.String("function", strings.TrimSpace(in.Interface+" "+in.Function)),
		slog.String("messageID", in.Message.Header.MessageID), slog.String("action", in.Message.Header.Action)}
	if in.Kind == InboundCallback {
		attrs = append(attrs, slog.String("relatesTo", in.RelatesTo), slog.String("transactionID", in.TransactionID), slog.Any("result", in.Err))
	}
	d.logger.LogAttrs(ctx, slog.LevelWarn, "esimgw: message acknowledged with no handler to take it (configure WithUnmatchedHandler)", attrs...)
	return nil
}

// noteCallback tells the dispatcher's telemetry, when it records this message, what the store did with a
// callback and its outcome.
func (d *Dispatcher) noteCallback(ctx context.Context, iface, function string, res correlate.DeliveryResult, warn *Warning, err error) {
	if d.tel.Noting(ctx) {
		d.tel.NoteCallback(ctx, iface, function, res, labels(warn, err))
	}
}

// noteUnmatched tells the dispatcher's telemetry that in went to the unmatched handler.
func (d *Dispatcher) noteUnmatched(ctx context.Context, in *Inbound) {
	if !d.tel.Noting(ctx) {
		return
	}
	var fcID string
	if in.Kind == InboundCallback {
		fcID = in.FunctionCallIdentifier()
	}
	d.tel.NoteUnmatched(ctx, in.Kind.String(), in.Interface, in.Function, fcID)
}

func notificationKind(name string) NotificationKind {
	k := strings.TrimSuffix(strings.TrimPrefix(name, "Handle"), "Notification")
	return NotificationKind(k)
}

package soap

import (
	"context"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Reply is what a MessageHandler answers on the same HTTP exchange: a synchronous response envelope. A nil
// Reply answers 202 Accepted with an empty body, the acknowledgement of a one-way message.
type Reply struct {
	Header Header
	Body   BodyWriter
	// Status is the HTTP status; zero means 200.
	Status int
}

// MessageHandler receives decoded inbound messages. Returning an error answers a SOAP fault: the *Fault
// itself when the error is (or wraps) one, else env:Receiver with HTTP 500, so that the sender retries.
// The acknowledgement (202 or the Reply) is written only after ServeSOAP returned: a message is never
// acknowledged before it was handed over.
type MessageHandler interface {
	ServeSOAP(ctx context.Context, m *Message) (*Reply, error)
}

// MalformedMessageHandler is implemented by a MessageHandler that wants to hear of a message refused as
// malformed whose addressing headers could still be read (a callback cut short in its body). The sender
// gets its SOAP fault (400) either way; an error from ServeMalformed makes it a 500, so the sender retries.
type MalformedMessageHandler interface {
	ServeMalformed(ctx context.Context, h *Header, cause error) error
}

// MessageHandlerFunc adapts a function to MessageHandler.
type MessageHandlerFunc func(ctx context.Context, m *Message) (*Reply, error)

// ServeSOAP calls f.
func (f MessageHandlerFunc) ServeSOAP(ctx context.Context, m *Message) (*Reply, error) {
	return f(ctx, m)
}

// DefaultMaxMessageBytes bounds inbound and response envelopes unless configured otherwise: an EIS with a
// few thousand profiles fits, a memory-exhaustion attempt does not.
const DefaultMaxMessageBytes = 8 << 20

// Handler is the http.Handler that decodes SOAP envelopes POSTed to it and hands them to a MessageHandler.
// SOAP 1.2 is SGP.02's binding; SOAP 1.1 envelopes (text/xml with a SOAPAction header, as JAX-WS peers
// such as Njiwa send them) are accepted too, and every answer, fault or reply, is written in the version
// the request came in. It refuses what is not a well-formed envelope with a SOAP fault (400; 500 in SOAP
// 1.1, whose HTTP binding knows no other fault status), and bodies over the size limit with 413.
type Handler struct {
	next     MessageHandler
	maxBytes int64
	limits   ReadOptions
	logger   *slog.Logger
	budget   *BodyBudget // nil: unbounded (each body still grows only as its bytes arrive)
	bufs     sync.Pool
	// lastType is the last Content-Type accepted: a gateway sends the same one with every message, and
	// parsing it (mime.ParseMediaType) allocates on every request.
	lastType atomic.Pointer[string]
}

// HandlerOption configures a Handler.
type HandlerOption func(*Handler)

// WithMaxMessageBytes sets the largest envelope accepted (default DefaultMaxMessageBytes).
func WithMaxMessageBytes(n int64) HandlerOption { return func(h *Handler) { h.maxBytes = n } }

// WithBodyBudget bounds the bytes all bodies being read and handled may hold together (see BodyBudget). A
// CallbackServer always has one; a bare Handler has none unless given.
func WithBodyBudget(b *BodyBudget) HandlerOption { return func(h *Handler) { h.budget = b } }

// WithReadOptions sets the XML limits used to decode inbound envelopes.
func WithReadOptions(o ReadOptions) HandlerOption { return func(h *Handler) { h.limits = o } }

// WithHandlerLogger sets the logger for refused messages (default slog.Default()).
func WithHandlerLogger(l *slog.Logger) HandlerOption { return func(h *Handler) { h.logger = l } }

// NewHandler returns a Handler that passes decoded messages to next.
func NewHandler(next MessageHandler, opts ...HandlerOption) *Handler {
	h := &Handler{next: next, maxBytes: DefaultMaxMessageBytes, logger: slog.Default()}
	for _, o := range opts {
		o(h)
	}
	return h
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "SOAP endpoint: POST only", http.StatusMethodNotAllowed)
		return
	}
	var ct string
	if v := r.Header["Content-Type"]; len(v) > 0 { // Get, without canonicalising a key that is canonical
		ct = v[0]
	}
	if last := h.lastType.Load(); ct != "" && (last == nil || *last != ct) {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/soap+xml" && mt != "text/xml" && mt != "application/xml") {
			h.fault(w, r, versionOfContentType(ct), http.StatusUnsupportedMediaType, SenderFault("unsupported content type "+ct))
			return
		}
		accepted := ct // a copy, so that ct itself does not escape to the heap on every request
		h.lastType.Store(&accepted)
	}
	if r.ContentLength > h.maxBytes {
		// Refused before a byte of it is read.
		h.fault(w, r, versionOfContentType(ct), http.StatusRequestEntityTooLarge,
			SenderFault((&EnvelopeError{Kind: ErrTooLarge, Detail: "over " + itoa(h.maxBytes) + " bytes"}).Error()))
		return
	}
	// The buffer grows as the body arrives, under the budget; the bytes go back once the message was
	// handled (the handler may keep parts of it: then they are the garbage collector's, not the budget's).
	data, held, err := readBudgeted(r.Body, r.ContentLength, h.maxBytes, h.budget)
	if err == nil {
		// Read to its end: closing it tells net/http so, which otherwise drains it once more (io.CopyN
		// through a LimitReader of its own) before it writes the answer.
		_ = r.Body.Close()
	}
	if h.budget != nil {
		defer h.budget.give(held)
	}
	if err != nil {
		if errors.Is(err, ErrBudgetExhausted) {
			// 503 proves the message was not handed over: the sender retries it later.
			w.Header().Set("Retry-After", "1")
			f := ReceiverFault("busy: too many bodies being received; retry later")
			f.HTTPStatus = http.StatusServiceUnavailable
			h.fault(w, r, versionOfContentType(ct), http.StatusServiceUnavailable, f)
			return
		}
		if errors.Is(err, ErrTooLarge) {
			h.fault(w, r, versionOfContentType(ct), http.StatusRequestEntityTooLarge, SenderFault(err.Error()))
			return
		}
		h.logger.LogAttrs(r.Context(), slog.LevelWarn, "soap: reading request body", slog.String("remote", r.RemoteAddr), slog.Any("error", err))
		http.Error(w, "reading request body failed", http.StatusBadRequest)
		return
	}
	m, err := h.read(data)
	if err != nil {
		var ee *EnvelopeError
		f := SenderFault(err.Error())
		v := versionOfContentType(ct)
		if errors.As(err, &ee) {
			f = ee.Fault()
			if ee.Version == SOAP11 || ee.Kind == ErrVersionMismatch {
				// Known from the envelope; an unknown envelope version gets SOAP 1.2's answer, with
				// the Upgrade header naming what is understood.
				v = ee.Version
			} else if ee.Header != nil {
				v = SOAP12
			}
			if mh, ok := h.next.(MalformedMessageHandler); ok && ee.Header != nil {
				if herr := mh.ServeMalformed(r.Context(), ee.Header, err); herr != nil {
					f = ReceiverFault("malformed message not processed: " + herr.Error())
				}
			}
		}
		h.fault(w, r, v, f.StatusCode(), f)
		return
	}
	m.HTTPHeader, m.TLS, m.RemoteAddr = r.Header, r.TLS, r.RemoteAddr
	reply, err := h.next.ServeSOAP(r.Context(), m)
	if err != nil {
		var f *Fault
		if !errors.As(err, &f) {
			f = ReceiverFault("message not processed: " + err.Error())
		}
		h.fault(w, r, m.Version, f.StatusCode(), f)
		return
	}
	if reply == nil {
		// No header of ours: net/http gives an answer without a body, complete when the handler returns,
		// its Content-Length: 0 itself, while touching the header map costs it a copy of that map. A
		// server that flushes the answer before the handler returns adds the length (the CallbackServer
		// does where it flushes early, see callback's lengthedAck), else the answer goes chunked.
		w.WriteHeader(http.StatusAccepted)
		return
	}
	status := reply.Status
	if status == 0 {
		status = http.StatusOK
	}
	h.write(w, m.Version, status, &reply.Header, reply.Body)
}

// read decodes an inbound envelope, its body in the same pass when next is a BodyChooser.
func (h *Handler) read(data []byte) (*Message, error) {
	choose, _ := h.next.(BodyChooser)
	return readNew(data, h.limits, nil, choose)
}

// upgradeHeader is the env:Upgrade header block (SOAP 1.2 part 1, 5.4.7) a VersionMismatch fault carries.
const upgradeHeader = `<env:Upgrade><env:SupportedEnvelope qname="s12:Envelope" xmlns:s12="` + NSEnvelope +
	`"/><env:SupportedEnvelope qname="s11:Envelope" xmlns:s11="` + NSEnvelope11 + `"/></env:Upgrade>`

func (h *Handler) fault(w http.ResponseWriter, r *http.Request, v Version, status int, f *Fault) {
	if v == SOAP11 && status == http.StatusBadRequest {
		// SOAP 1.1's HTTP binding (and WS-I Basic Profile R1126) answers every fault with 500.
		status = http.StatusInternalServerError
	}
	h.logger.LogAttrs(r.Context(), slog.LevelWarn, "soap: answering with a fault",
		slog.String("remote", r.RemoteAddr), slog.String("version", v.String()), slog.Int("status", status), slog.String("reason", f.Reason))
	hdr := &Header{}
	if f.Code == FaultVersionMismatch && v == SOAP12 {
		hdr.Extra = []byte(upgradeHeader)
	}
	h.write(w, v, status, hdr, f)
}

func (h *Handler) write(w http.ResponseWriter, v Version, status int, hdr *Header, body BodyWriter) {
	bp, _ := h.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	buf := AppendEnvelopeVersion((*bp)[:0], v, hdr, body)
	w.Header().Set("Content-Type", v.ContentType(hdr.Action))
	w.Header().Set("Content-Length", strconv.Itoa(len(buf))) // complete in one write, even if flushed early
	w.WriteHeader(status)
	_, _ = w.Write(buf)
	*bp = buf
	h.bufs.Put(bp)
}

// contentType is the SOAP 1.2 media type with the action parameter real SM-SRs send.
func contentType(action string) string {
	if action == "" {
		return "application/soap+xml; charset=utf-8"
	}
	return `application/soap+xml; charset=utf-8; action="` + strings.ReplaceAll(action, `"`, "%22") + `"`
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	if n == 0 {
		return "0"
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

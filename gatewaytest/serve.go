package gatewaytest

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// Request is one request as the mock received it.
type Request struct {
	Seq       int
	Time      time.Time
	Interface Interface // "" for a connection refused before any request was read
	Function  string    // e.g. "EnableProfile"; "" when refused before it was identified
	Header    soap.Header
	// From is the parsed wsa:From: tests assert on its Separator and X-KPN-ProviderEntityId.
	From       soap.EntityAddress
	HTTPHeader http.Header
	// Body is the decoded request element (e.g. *rps.ES4EnableProfileRequest); nil when refused before
	// decoding. Do not modify it.
	Body                   rps.Element
	FunctionCallIdentifier string
	// Validity is the validity period applied (KPN: 720 s for SetFallBackAttribute); zero when none.
	Validity time.Duration
	// Duplicate: a retry of a FunctionCallIdentifier already executed; it was not executed again.
	Duplicate bool
	// Fault is the SOAP fault the mock answered with, if any.
	Fault *soap.Fault
	// Injected names the injected fault that answered instead of the mock ("ServiceUnavailable", ...).
	Injected string
	// Status and StatusCode are the result of the execution once it is known (async: after the eUICC
	// answered); Status is "" before.
	Status     rps.StatusType
	StatusCode *rps.StatusCodeDataType
}

// execution is the de-duplication entry of one FunctionCallIdentifier from one sender.
type execution struct {
	executed int
	reply    *soap.Reply // sync functions: the reply, answered again to a retry
}

// call is one accepted request on its way through execution.
type call struct {
	iface    Interface
	fn       *function
	hdr      soap.Header
	caller   string // EntityId of wsa:From
	body     rps.Element
	validity time.Duration
	received time.Time
	rec      *Request
	after    []notice // notifications to post once the callback went out
}

type endpoint struct {
	g     *Gateway
	iface Interface
}

func (ep *endpoint) ServeSOAP(ctx context.Context, m *soap.Message) (*soap.Reply, error) {
	g := ep.g
	rec := &Request{Time: time.Now(), Interface: ep.iface, Header: m.Header, HTTPHeader: m.HTTPHeader.Clone()}
	refuse := func(f *soap.Fault) (*soap.Reply, error) {
		rec.Fault = f
		g.addRequest(rec)
		return nil, f
	}
	h := m.Header
	var missing []string
	for _, p := range [...]struct{ name, v string }{{"From", h.From}, {"To", h.To}, {"MessageID", h.MessageID}, {"Action", h.Action}} {
		if p.v == "" {
			missing = append(missing, "wsa:"+p.name)
		}
	}
	if len(missing) > 0 {
		return refuse(soap.SenderFault("required addressing header missing: "+strings.Join(missing, ", "), SubcodeHeaderRequired))
	}
	env, err := parseEnvelope(m.Raw())
	if err != nil {
		return refuse(soap.SenderFault("malformed envelope: " + err.Error()))
	}
	if !g.cfg.lenient {
		if f := checkJAXWS(env, m); f != nil {
			return refuse(f)
		}
	}
	if f := checkHeaders(env); f != nil {
		return refuse(f)
	}
	from, err := soap.ParseEntityAddress(h.From)
	if err == nil {
		err = from.Validate()
	}
	if err != nil {
		return refuse(soap.SenderFault("wsa:From: "+err.Error(), SubcodeInvalidHeader))
	}
	rec.From = from
	fn := lookupAction(ep.iface, h.Action)
	if fn == nil {
		return refuse(soap.SenderFault(fmt.Sprintf("action %q is not supported by the %s endpoint", h.Action, ep.iface), SubcodeActionNotSupp))
	}
	rec.Function = fn.name
	if m.BodyName != fn.request {
		return refuse(soap.SenderFault(fmt.Sprintf("action %q does not match body element %s (want %s)", h.Action, m.BodyName, fn.request), SubcodeActionNotSupp))
	}
	if m.BodySpace != soap.NSRPS {
		return refuse(soap.SenderFault(fmt.Sprintf("%sbody element %s in namespace %q, want %s", schemaValidationPrefix, m.BodyName, m.BodySpace, soap.NSRPS)))
	}
	if g.cfg.behavior == ProfileKPN && !fn.kpn {
		return refuse(soap.SenderFault(fmt.Sprintf("%s %s is not offered by this gateway", ep.iface, fn.name), SubcodeActionNotSupp))
	}
	body, _ := rps.NewElement(fn.request)
	if err := m.DecodeBody(body); err != nil {
		return refuse(soap.SenderFault(schemaValidationPrefix + err.Error()))
	}
	rec.Body = body
	if be := bodyElement(env); be == nil {
		return refuse(soap.SenderFault(schemaValidationPrefix + "no body element"))
	} else if err := checkBodyStructure(be, body); err != nil {
		return refuse(soap.SenderFault(schemaValidationPrefix + err.Error()))
	}
	base := baseRequest(body)
	rec.FunctionCallIdentifier = base.FunctionCallIdentifier
	if base.FunctionCallIdentifier == "" {
		return refuse(soap.SenderFault(schemaValidationPrefix + "FunctionCallIdentifier is empty"))
	}
	c := &call{iface: ep.iface, fn: fn, hdr: h, caller: from.EntityID, body: body, received: rec.Time, rec: rec}
	if base.ValidityPeriod > 0 {
		c.validity = time.Duration(base.ValidityPeriod) * time.Second
	}
	if g.cfg.behavior == ProfileKPN && fn.name == FnSetFallBackAttribute {
		c.validity = KPNSetFallBackValidity
	}
	rec.Validity = c.validity

	if f, ok := g.take(is[SOAPFault]); ok {
		sf := f.(SOAPFault).Fault
		if sf == nil {
			sf = soap.ReceiverFault("internal error (injected)")
		}
		rec.Injected = "SOAPFault"
		return refuse(sf)
	}

	key := string(ep.iface) + "|" + from.EntityID + "|" + base.FunctionCallIdentifier
	g.mu.Lock()
	ex, dup := g.calls[key]
	if dup && g.cfg.noDedup {
		ex.executed++ // WithoutDeduplication: a retry is executed again
		dup = false
	} else if !dup {
		ex = &execution{executed: 1}
		g.calls[key] = ex
		if old, evicted := g.callOrder.push(key); evicted {
			delete(g.calls, old)
		}
	} else {
		g.stats.Duplicates++
	}
	g.addRequestLocked(rec)
	rec.Duplicate = dup
	var reply *soap.Reply
	if !fn.async {
		if !dup {
			resp := g.executeLocked(c)
			ex.reply = &soap.Reply{Header: g.responseHeader(c, fn.responseAction, h.From), Body: resp}
		}
		reply = ex.reply
	}
	g.mu.Unlock()
	if !fn.async || dup {
		return reply, nil
	}
	if _, ok := g.take(is[CallbackBefore202]); ok {
		rec.Injected = "CallbackBefore202"
		g.runAsync(c, true)
	} else {
		g.spawn(func() { g.runAsync(c, false) })
	}
	if f, ok := g.take(is[Delay202]); ok {
		t := time.NewTimer(f.(Delay202).Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
	return nil, nil
}

// responseHeader is the header of a sync response or callback: From the mock, RelatesTo the request, a
// MessageID in the request's transaction.
func (g *Gateway) responseHeader(c *call, action, to string) soap.Header {
	oid := g.entityAddress(c.iface).EntityID
	var mid soap.MessageID
	if rq, err := soap.ParseMessageID(c.hdr.MessageID); err == nil && rq.TransactionID != "" {
		mid = soap.NewMessageIDInTransaction(oid, rq.TransactionID, time.Now())
	} else {
		mid = soap.NewMessageID(oid, time.Now())
	}
	return soap.Header{From: g.entityAddress(c.iface).String(), To: to, MessageID: mid.String(), Action: action, RelatesTo: c.hdr.MessageID}
}

// runAsync waits for the simulated eUICC, executes the function and posts the callback.
func (g *Gateway) runAsync(c *call, immediate bool) {
	if !immediate && !g.sleep(g.cfg.callbackDelay) {
		return
	}
	g.mu.Lock()
	var latency time.Duration
	unreachable := false
	if e := g.euiccs[eidOf(c.body)]; e != nil {
		latency, unreachable = time.Duration(e.LatencyMillis)*time.Millisecond, e.Unreachable
	}
	g.mu.Unlock()
	validity := c.validity
	if validity == 0 {
		validity = g.cfg.defaultValidity
	}
	var resp rps.Element
	var batches []*noticeBatch
	if unreachable || latency > validity {
		if !g.sleep(validity) {
			return
		}
		resp = g.expired(c, validity, unreachable)
	} else {
		if !g.sleep(latency) {
			return
		}
		g.mu.Lock()
		resp = g.executeLocked(c)
		// The notices of this change keep their place in their EIDs' lanes from now on, and go out
		// after the callback.
		batches = g.reserveLocked(c.after)
		c.after = nil
		g.mu.Unlock()
	}
	if c.hdr.ReplyTo == "" || c.hdr.ReplyTo == soap.AddressAnonymous {
		g.logger.Debug("gatewaytest: no wsa:ReplyTo, no callback", "function", c.fn.name)
	} else {
		g.sendCallback(c, resp)
	}
	g.release(batches)
}

func (g *Gateway) expired(c *call, validity time.Duration, unreachable bool) rps.Element {
	why := "the eUICC did not answer"
	if !unreachable {
		why = "the eUICC answered too late"
	}
	st := rps.ExecutionStatusType{Status: rps.StatusTypeEXPIRED, StatusCodeData: &rps.StatusCodeDataType{
		Subject: "1.6", Reason: "5.3", SubjectIdentifier: eidOf(c.body),
		Message: fmt.Sprintf("validity period of %d s ran out: %s", int(validity/time.Second), why)}}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stats.Expired++
	return g.respond(c, st, nil)
}

// addRequest records a request.
func (g *Gateway) addRequest(r *Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.addRequestLocked(r)
}

func (g *Gateway) addRequestLocked(r *Request) {
	g.seq++
	r.Seq = g.seq
	g.requests.push(r)
	g.stats.Requests++
	if r.Fault != nil {
		g.stats.Refused++
	}
}

func (g *Gateway) recordInjected(iface Interface, name string) {
	g.addRequest(&Request{Time: time.Now(), Interface: iface, Injected: name})
}

// Requests returns copies of every request received (the last WithRecordLimit ones), in arrival order,
// including those refused.
func (g *Gateway) Requests() []Request {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]Request, 0, g.requests.len())
	for r := range g.requests.all() {
		out = append(out, *r)
	}
	return out
}

// Executions returns how many times a FunctionCallIdentifier was executed (0 or 1, whatever the number of
// retries, unless WithoutDeduplication), summed over senders and interfaces; with WithDuplicateWindow, 0
// once the identifier left the window.
func (g *Gateway) Executions(functionCallIdentifier string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for k, ex := range g.calls {
		if strings.HasSuffix(k, "|"+functionCallIdentifier) {
			n += ex.executed
		}
	}
	return n
}

// Arrivals returns how many of the requests kept (see WithRecordLimit) carried a FunctionCallIdentifier
// (retries included).
func (g *Gateway) Arrivals(functionCallIdentifier string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for r := range g.requests.all() {
		if r.FunctionCallIdentifier == functionCallIdentifier {
			n++
		}
	}
	return n
}

// ClearRecords forgets recorded requests, callbacks and notifications (not the de-duplication memory, nor
// Stats).
func (g *Gateway) ClearRecords() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.requests.clear()
	g.deliveries.clear()
}

func baseRequest(el rps.Element) rps.BaseRequestType {
	if r, ok := el.(rps.Request); ok {
		return *r.RequestBase()
	}
	return rps.BaseRequestType{}
}

// eidOf returns the request's EID as upper-case hex ("" for a body that names none).
func eidOf(el rps.Element) string {
	var b rps.HexBinary
	if r, ok := el.(rps.EIDRequest); ok {
		b = r.EID()
	}
	return strings.ToUpper(hex.EncodeToString(b))
}

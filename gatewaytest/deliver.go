package gatewaytest

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// Outcome is how a callback or notification delivery ended.
type Outcome string

// Delivery outcomes.
const (
	OutcomePending     Outcome = "pending"     // being delivered, or held by ReorderCallbacks
	OutcomeDelivered   Outcome = "delivered"   // the receiver acknowledged it (2xx)
	OutcomeUndelivered Outcome = "undelivered" // refused, or the retries ran out
)

// Callback is one callback or notification the mock posted (one record per copy).
type Callback struct {
	Seq          int
	Time         time.Time
	Notification bool      // a HandleXxxNotification, not the callback of a request
	Interface    Interface // ES2 or ES4
	Function     string    // e.g. "EnableProfile" or "HandleProfileEnabledNotification"
	URL          string
	Header       soap.Header
	// Body is the element posted (e.g. *rps.ES4EnableProfileResponse). Do not modify it.
	Body rps.Element
	// RelatesTo is the MessageID of the request a callback answers ("" for notifications, or when
	// CallbacksWithoutRelatesTo removed it from the header).
	RelatesTo string
	Status    rps.StatusType // FunctionExecutionStatus/Status of a callback
	Injected  []string       // injected faults applied to it
	Copy      int            // 1, or 2... for DuplicateCallbacks copies
	Attempts  int
	Outcome   Outcome
	// HTTPStatus is the receiver's last answer (0 when none came), Err the last failure.
	HTTPStatus int
	Err        error
}

type pendingSend struct {
	rec     *Callback
	payload []byte
}

type noticeKind uint8

const (
	noticeEnabled noticeKind = iota + 1
	noticeDisabled
	noticeDeleted
	noticeSMSRChange
)

func (k noticeKind) function() string {
	switch k {
	case noticeEnabled:
		return FnHandleProfileEnabledNotification
	case noticeDisabled:
		return FnHandleProfileDisabledNotification
	case noticeDeleted:
		return FnHandleProfileDeletedNotification
	}
	return FnHandleSMSRChangeNotification
}

type notice struct {
	iface      Interface
	kind       noticeKind
	eid, iccid string
}

// notices returns the notifications a state change by other means produces: KPN sends ES4 Enabled and
// Disabled only; the GSMA profile sends every kind on ES4 and ES2.
func (g *Gateway) notices(kind noticeKind, eid, iccid string) []notice {
	if g.cfg.behavior == ProfileKPN {
		if kind == noticeEnabled || kind == noticeDisabled {
			return []notice{{iface: ES4, kind: kind, eid: eid, iccid: iccid}}
		}
		return nil
	}
	return []notice{{iface: ES4, kind: kind, eid: eid, iccid: iccid}, {iface: ES2, kind: kind, eid: eid, iccid: iccid}}
}

func (g *Gateway) sendNotification(n notice) {
	g.mu.Lock()
	url := g.notify[n.iface]
	var body rps.Element
	if url != "" {
		body = g.noticeBodyLocked(n)
	}
	g.mu.Unlock()
	if url == "" || body == nil {
		g.logger.Debug("gatewaytest: no notification URL", "interface", n.iface, "notification", n.kind.function())
		return
	}
	addr := g.entityAddress(n.iface)
	hdr := soap.Header{From: addr.String(), To: url, MessageID: soap.NewMessageID(addr.EntityID, time.Now()).String(),
		Action: notificationAction(n.iface, n.kind.function())}
	rec := &Callback{Time: time.Now(), Notification: true, Interface: n.iface, Function: n.kind.function(), URL: url,
		Header: hdr, Body: body, Copy: 1, Outcome: OutcomePending}
	g.addDelivery(rec)
	g.deliver(&pendingSend{rec: rec, payload: soap.AppendEnvelope(nil, &hdr, body)})
}

func (g *Gateway) noticeBodyLocked(n notice) rps.Element {
	eid, _ := rps.ParseHexBinary(n.eid)
	now := rps.NewDateTime(time.Now().UTC().Truncate(time.Second))
	switch {
	case n.iface == ES4 && n.kind == noticeEnabled:
		return &rps.ES4HandleProfileEnabledNotification{Eid: eid, Iccid: n.iccid, CompletionTimestamp: now}
	case n.iface == ES4 && n.kind == noticeDisabled:
		return &rps.ES4HandleProfileDisabledNotification{Eid: eid, Iccid: n.iccid, CompletionTimestamp: now}
	case n.iface == ES4 && n.kind == noticeDeleted:
		return &rps.ES4HandleProfileDeletedNotification{Eid: eid, Iccid: n.iccid, CompletionTimestamp: now}
	case n.iface == ES2 && n.kind == noticeEnabled:
		return &rps.ES2HandleProfileEnabledNotification{Eid: eid, Iccid: n.iccid, CompletionTimestamp: now}
	case n.iface == ES2 && n.kind == noticeDisabled:
		return &rps.ES2HandleProfileDisabledNotification{Eid: eid, Iccid: n.iccid, CompletionTimestamp: now}
	case n.iface == ES2 && n.kind == noticeDeleted:
		return &rps.ES2HandleProfileDeletedNotification{Eid: eid, Iccid: n.iccid, CompletionTimestamp: now}
	}
	e := g.euiccs[n.eid]
	if e == nil {
		return nil
	}
	eis := g.eisLocked(e, "", nil)
	if n.iface == ES2 {
		return &rps.ES2HandleSMSRChangeNotification{Eis: *eis, CompletionTimestamp: now}
	}
	return &rps.ES4HandleSMSRChangeNotification{Eis: *eis, CompletionTimestamp: now}
}

// sendCallback posts the callback of an async request, applying the callback faults.
func (g *Gateway) sendCallback(c *call, resp rps.Element) {
	hdr := g.responseHeader(c, c.fn.responseAction, c.hdr.ReplyTo)
	var injected []string
	if _, ok := g.take(is[CallbacksWithoutRelatesTo]); ok {
		hdr.RelatesTo = ""
		injected = append(injected, "CallbacksWithoutRelatesTo")
	}
	payload := soap.AppendEnvelope(nil, &hdr, resp)
	if _, ok := g.take(is[MalformedCallback]); ok {
		payload = truncateBody(payload)
		injected = append(injected, "MalformedCallback")
	}
	copies := 1
	if f, ok := g.take(is[DuplicateCallbacks]); ok {
		copies = max(f.(DuplicateCallbacks).Copies, 2)
		injected = append(injected, "DuplicateCallbacks")
	}
	var status rps.StatusType
	g.mu.Lock()
	status = c.rec.Status
	g.mu.Unlock()
	var sends []*pendingSend
	for i := 1; i <= copies; i++ {
		rec := &Callback{Time: time.Now(), Interface: c.iface, Function: c.fn.name, URL: c.hdr.ReplyTo, Header: hdr, Body: resp,
			RelatesTo: hdr.RelatesTo, Status: status, Injected: injected, Copy: i, Outcome: OutcomePending}
		g.addDelivery(rec)
		sends = append(sends, &pendingSend{rec: rec, payload: payload})
	}
	for _, p := range sends {
		if batch := g.hold(p); batch != nil {
			for i := len(batch) - 1; i >= 0; i-- {
				g.deliver(batch[i])
			}
		}
	}
}

// hold applies ReorderCallbacks: it returns nil when p is held, the whole batch when p completes one, or
// p alone when no reordering is going on.
func (g *Gateway) hold(p *pendingSend) []*pendingSend {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.reorder) == 0 {
		f, ok := g.takeLocked(is[ReorderCallbacks])
		if !ok {
			return []*pendingSend{p}
		}
		g.reorderSize = max(f.(ReorderCallbacks).Batch, 2)
	}
	p.rec.Injected = append(p.rec.Injected[:len(p.rec.Injected):len(p.rec.Injected)], "ReorderCallbacks")
	g.reorder = append(g.reorder, p)
	if len(g.reorder) < g.reorderSize {
		return nil
	}
	batch := g.reorder
	g.reorder = nil
	return batch
}

// truncateBody cuts the envelope in the middle of its body.
func truncateBody(b []byte) []byte {
	i := bytes.Index(b, []byte("<env:Body>"))
	if i < 0 {
		return b[:len(b)/2]
	}
	i += len("<env:Body>")
	return append([]byte(nil), b[:i+(len(b)-i)/2]...)
}

func (g *Gateway) addDelivery(c *Callback) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.seq++
	c.Seq = g.seq
	g.deliveries.push(c)
	if c.Notification {
		g.stats.Notifications++
	} else {
		g.stats.Callbacks++
	}
}

// dispatch delivers a held callback in the background.
func (g *Gateway) dispatch(p *pendingSend) {
	g.spawn(func() { g.deliver(p) })
}

// deliver posts p, retrying transport failures, 5xx answers and env:Receiver faults with backoff up to
// the retry policy; what could not be delivered is recorded as undelivered.
func (g *Gateway) deliver(p *pendingSend) {
	pol := g.cfg.retry
	wait := pol.InitialInterval
	start := time.Now()
	for attempt := 1; ; attempt++ {
		resp, err := g.cbClient.Post(g.ctx, p.rec.URL, p.rec.Header.Action, p.payload)
		status, retry := classify(resp, err)
		g.mu.Lock()
		p.rec.Attempts, p.rec.HTTPStatus, p.rec.Err = attempt, status, err
		done := err == nil || !retry || attempt >= pol.MaxAttempts || g.ctx.Err() != nil ||
			(pol.MaxElapsed > 0 && time.Since(start)+wait > pol.MaxElapsed)
		switch {
		case err == nil:
			p.rec.Outcome = OutcomeDelivered
			g.stats.Delivered++
		case done:
			p.rec.Outcome = OutcomeUndelivered
			g.stats.Undelivered++
		}
		g.mu.Unlock()
		if done {
			if err != nil {
				g.logger.Warn("gatewaytest: delivery failed", "url", p.rec.URL, "function", p.rec.Function, "attempts", attempt, "error", err)
			}
			return
		}
		if !g.sleep(wait) {
			g.mu.Lock()
			p.rec.Outcome = OutcomeUndelivered
			g.stats.Undelivered++
			g.mu.Unlock()
			return
		}
		if wait *= 2; pol.MaxInterval > 0 && wait > pol.MaxInterval {
			wait = pol.MaxInterval
		}
	}
}

// classify returns the HTTP status of an answer and whether a failure may be retried.
func classify(resp *soap.Response, err error) (int, bool) {
	if err == nil {
		return resp.StatusCode, false
	}
	var f *soap.Fault
	if errors.As(err, &f) {
		return f.HTTPStatus, f.CodeLocal() == "Receiver" || f.HTTPStatus >= 500
	}
	var he *soap.HTTPError
	if errors.As(err, &he) {
		return he.StatusCode, he.StatusCode >= 500 || he.StatusCode == 429
	}
	var ee *soap.EnvelopeError
	if errors.As(err, &ee) {
		return 0, false
	}
	return 0, true // transport: refused, reset, TLS
}

// Callbacks returns copies of every callback posted (not notifications), in order; with WithRecordLimit,
// those among the last deliveries kept.
func (g *Gateway) Callbacks() []Callback { return g.deliveriesOf(false) }

// Notifications returns copies of every notification posted, in order (see Callbacks for the limit).
func (g *Gateway) Notifications() []Callback { return g.deliveriesOf(true) }

func (g *Gateway) deliveriesOf(notification bool) []Callback {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []Callback
	for d := range g.deliveries.all() {
		if d.Notification == notification {
			c := *d
			c.Injected = append([]string(nil), d.Injected...)
			out = append(out, c)
		}
	}
	return out
}

// Simulated events: state changes by other means than the API, which produce notifications.

// SimulateLocalEnable enables a profile as if the device did it locally (or an OTA campaign): the
// enabled profile is disabled, and ProfileEnabled and ProfileDisabled notifications are posted.
func (g *Gateway) SimulateLocalEnable(eid, iccid string) error {
	return g.simulate(eid, iccid, func(e *EUICC, p *Profile) ([]notice, error) {
		if p.State == StateEnabled {
			return nil, refused("8.2.1", "3.8", iccid, "profile already enabled")
		}
		var out []notice
		if cur := e.enabled(); cur != nil {
			cur.State = StateDisabled
			out = append(out, g.notices(noticeDisabled, e.EID, cur.ICCID)...)
		}
		p.State = StateEnabled
		return append(out, g.notices(noticeEnabled, e.EID, iccid)...), nil
	})
}

// SimulateLocalDisable disables the enabled profile locally; the fall-back profile is enabled.
func (g *Gateway) SimulateLocalDisable(eid, iccid string) error {
	return g.simulate(eid, iccid, func(e *EUICC, p *Profile) ([]notice, error) {
		if p.State != StateEnabled {
			return nil, refused("8.2.1", "3.8", iccid, "profile is not enabled")
		}
		p.State = StateDisabled
		out := g.notices(noticeDisabled, e.EID, iccid)
		if fb := e.fallback(); fb != nil && fb.ICCID != iccid {
			fb.State = StateEnabled
			out = append(out, g.notices(noticeEnabled, e.EID, fb.ICCID)...)
		}
		return out, nil
	})
}

// SimulateLocalDelete deletes a disabled profile locally.
func (g *Gateway) SimulateLocalDelete(eid, iccid string) error {
	return g.simulate(eid, iccid, func(e *EUICC, p *Profile) ([]notice, error) {
		if p.State == StateEnabled {
			return nil, refused("8.2.1", "3.8", iccid, "the enabled profile cannot be deleted")
		}
		g.deleteProfileLocked(e, iccid)
		return g.notices(noticeDeleted, e.EID, iccid), nil
	})
}

// SimulateFallback enables the fall-back profile, as the eUICC does when it loses the network: the
// enabled profile is disabled and both notifications are posted.
func (g *Gateway) SimulateFallback(eid string) error {
	g.mu.Lock()
	e := g.euiccs[strings.ToUpper(eid)]
	var iccid string
	if e != nil {
		if fb := e.fallback(); fb != nil {
			iccid = fb.ICCID
		}
	}
	g.mu.Unlock()
	if e == nil {
		return fmt.Errorf("%w %s", ErrUnknownEID, eid)
	}
	if iccid == "" {
		return refused("8.2.1", "3.9", "", "the eUICC has no fall-back profile")
	}
	return g.SimulateLocalEnable(eid, iccid)
}

func (g *Gateway) simulate(eid, iccid string, f func(*EUICC, *Profile) ([]notice, error)) error {
	g.mu.Lock()
	e := g.euiccs[strings.ToUpper(eid)]
	if e == nil {
		g.mu.Unlock()
		return fmt.Errorf("%w %s", ErrUnknownEID, eid)
	}
	p := e.profile(iccid)
	if p == nil {
		g.mu.Unlock()
		return refused("8.2.1", "3.9", iccid, "unknown ICCID on eUICC %s", e.EID)
	}
	notices, err := f(e, p)
	var batches []*noticeBatch
	if err == nil {
		batches = g.reserveLocked(notices)
	}
	g.mu.Unlock()
	if err != nil {
		return err
	}
	g.release(batches)
	return nil
}

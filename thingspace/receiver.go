package thingspace

import (
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/correlate"
)

// CallbackHandler returns the http.Handler that receives the clients' callbacks: mount it on any server
// and register its public URL with RegisterCallback. On an callback.Server it is a JSON route
// beside the SOAP one (callback.WithRoute("/thingspace", c.CallbackHandler())); since ThingSpace presents
// no client certificate, give it a callback.Server of its own with callback.WithoutClientCertificates and
// keep the SOAP callbacks on the mutual-TLS one. Share the Dispatcher's Store (WithStore) so that both
// keep their operations in one place.
//
// For each POST it
//
//   - refuses 403 a source outside WithAllowedSources, 413 a body over MaxCallbackBytes and 400 one that
//     DecodeCallback refuses (logged at Warn with the reason);
//   - refuses 401 a callback whose echoed credentials are not those of the account the request was sent
//     for (of any configured account, for a requestId it does not know): the operation stays pending, so
//     the genuine callback still resolves it;
//   - reports an EXECUTED_WITHWARNING callback to the progress handler and leaves the operation pending;
//   - resolves the operation with any other callback, the outcome;
//   - hands each distinct callback over once: ThingSpace's retries of one already handed over are
//     acknowledged and go to the duplicate handler;
//   - acknowledges (200) only after the callback was handed over; a handler's error answers 500, so that
//     ThingSpace sends it again.
func (c *Client) CallbackHandler() http.Handler { return http.HandlerFunc(c.serveCallback) }

// ScopeCallback is the correlate.MessageScope under which the store records the ThingSpace callbacks handed
// over, so that each distinct one is handed over once (across replicas, with a shared store).
const ScopeCallback correlate.MessageScope = "thingspace-callback"

func (c *Client) serveCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	if !c.sourceAllowed(r.RemoteAddr) {
		c.logger.LogAttrs(ctx, slog.LevelWarn, "thingspace: callback from a source outside the allow-list refused", slog.String("remote", r.RemoteAddr))
		http.Error(w, "source not allowed", http.StatusForbidden)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxCallbackBytes+1))
	if err != nil {
		http.Error(w, "reading the body failed", http.StatusBadRequest)
		return
	}
	if len(body) > MaxCallbackBytes {
		http.Error(w, "callback too large", http.StatusRequestEntityTooLarge)
		return
	}
	cb, err := DecodeCallback(body)
	if err != nil {
		c.logger.LogAttrs(ctx, slog.LevelWarn, "thingspace: malformed callback refused", slog.String("remote", r.RemoteAddr), slog.Any("error", err))
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	status, msg := c.handle(ctx, cb)
	if status != http.StatusOK {
		http.Error(w, msg, status)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (c *Client) sourceAllowed(remote string) bool {
	if len(c.cfg.sources) == 0 {
		return true
	}
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, p := range c.cfg.sources {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// credentialsMatch compares in constant time, so that a caller cannot learn the credentials by timing.
func credentialsMatch(a Account, cb *Callback) bool {
	u := subtle.ConstantTimeCompare([]byte(a.CallbackUsername), []byte(cb.Username))
	p := subtle.ConstantTimeCompare([]byte(a.CallbackPassword), []byte(cb.Password))
	return u&p == 1
}

// authenticate returns the account the callback's credentials belong to: the pending request's account
// when there is one, else any configured account's.
func (c *Client) authenticate(ctx context.Context, cb *Callback) (account string, pr *pendingRequest, ok bool) {
	pr = c.lookupPending(cb.RequestID)
	if pr == nil {
		// Its requestId may be in the answer of a request still in flight: wait for those first.
		c.awaitInflight(ctx)
		pr = c.lookupPending(cb.RequestID)
	}
	if pr != nil {
		return pr.account, pr, credentialsMatch(c.accounts[pr.account], cb)
	}
	for _, a := range c.cfg.accounts {
		if credentialsMatch(a, cb) {
			return a.Name, nil, true
		}
	}
	return "", nil, false
}

// handle hands the callback over and returns the HTTP status to answer.
func (c *Client) handle(ctx context.Context, cb *Callback) (int, string) {
	account, pr, ok := c.authenticate(ctx, cb)
	if !ok {
		// Not the account's credentials: refused, and the operation (if any) left pending, so a forged or
		// misrouted callback can neither resolve it nor make the genuine one a duplicate.
		c.logger.LogAttrs(ctx, slog.LevelWarn, "thingspace: callback with wrong credentials refused",
			slog.String("requestId", cb.RequestID), slog.Bool("pending", pr != nil))
		return http.StatusUnauthorized, "credentials do not match the account"
	}
	cb.Account = account
	st := cb.ExecutionStatus()
	key := cb.dedupKey()
	claim, err := c.store.ClaimMessage(ctx, ScopeCallback, key)
	switch {
	case err != nil:
		c.logger.LogAttrs(ctx, slog.LevelWarn, "thingspace: store unavailable; callback refused for a retry", slog.Any("error", err))
		return http.StatusServiceUnavailable, "store unavailable"
	case claim == correlate.HandedOver:
		c.handDuplicate(ctx, cb)
		return http.StatusOK, ""
	case claim == correlate.InProgress:
		// A copy is being handed over now: if that fails, this one must get through, so it is not
		// acknowledged.
		return http.StatusServiceUnavailable, "a copy of this callback is being handed over"
	}
	handed := func(ok bool) {
		var err error
		if ok {
			err = c.store.CommitMessage(ctx, ScopeCallback, key)
		} else {
			err = c.store.ReleaseMessage(ctx, ScopeCallback, key)
		}
		if err != nil {
			c.logger.LogAttrs(ctx, slog.LevelWarn, "thingspace: recording the hand-over failed", slog.Bool("handedOver", ok), slog.Any("error", err))
		}
	}
	if st.Status.Canonical() == esimgw.StatusExecutedWithWarning {
		if err := c.handProgress(ctx, cb, pr, st); err != nil {
			handed(false)
			return http.StatusInternalServerError, "progress handler failed"
		}
		handed(true)
		return http.StatusOK, ""
	}
	var ferr error
	if !st.Status.Succeeded() {
		ferr = &esimgw.FunctionError{Interface: string(esimgw.PlatformThingSpace), Function: c.functionOf(pr, cb),
			ExecutionStatus: st, FunctionCallIdentifier: cb.RequestID}
	}
	// The outcome is delivered without the callback itself: the outcome is all a result needs (a
	// ThingSpace download's ICCID is the one asked), and any Store keeps an error (pgstore a
	// *esimgw.FunctionError typed), where a value would need one that keeps JSON.
	res, err := c.store.DeliverCallback(ctx, correlate.Delivery{RelatesTo: cb.RequestID, MessageID: cb.RequestID, Err: ferr})
	if err != nil {
		handed(false)
		c.logger.LogAttrs(ctx, slog.LevelWarn, "thingspace: store unavailable; callback refused for a retry", slog.Any("error", err))
		return http.StatusServiceUnavailable, "store unavailable"
	}
	switch res.Match {
	case correlate.Matched:
		c.dropPending(cb.RequestID)
		handed(true)
		return http.StatusOK, ""
	case correlate.Duplicate:
		handed(true)
		c.handDuplicate(ctx, cb)
		return http.StatusOK, ""
	}
	c.dropPending(cb.RequestID)
	if c.cfg.sharedStore && pr == nil && cb.CallbackCount > 0 && cb.CallbackCount < cb.MaxCallbackThreshold {
		// Another replica sharing the store may have sent this request and not yet registered its
		// operation (the requestId is known only once ThingSpace answered): refused while ThingSpace will
		// try again, so that the retry finds it; the last attempt goes to the unmatched handler.
		handed(false)
		c.logger.LogAttrs(ctx, slog.LevelInfo, "thingspace: callback for no known operation refused until ThingSpace's last attempt",
			slog.String("requestId", cb.RequestID), slog.Int("callbackCount", cb.CallbackCount), slog.Int("maxCallbackThreshold", cb.MaxCallbackThreshold))
		return http.StatusServiceUnavailable, "no operation waits for this requestId yet"
	}
	if err := c.handUnmatched(ctx, cb); err != nil {
		handed(false)
		return http.StatusInternalServerError, "unmatched handler failed"
	}
	handed(true)
	return http.StatusOK, ""
}

func (c *Client) functionOf(pr *pendingRequest, cb *Callback) string {
	if pr != nil {
		return pr.p.Key().Function
	}
	if p := cb.profileResponse(); p != nil && p.ProfileStatus != "" {
		// The action in the callback's words (DOWNLOAD_ENABLE): spelt as the client names its functions, so
		// a replica that did not send the request reports the same Function as the one that did.
		return strings.ToLower(p.ProfileStatus)
	}
	return "profile action"
}

func (c *Client) handProgress(ctx context.Context, cb *Callback, pr *pendingRequest, st esimgw.ExecutionStatus) error {
	p := Progress{Account: cb.Account, Warning: st.Warning(), Callback: cb}
	if pr != nil {
		p.Key = pr.p.Key()
	} else {
		p.Key = correlate.OperationKey{MessageID: cb.RequestID, Interface: string(esimgw.PlatformThingSpace), Function: c.functionOf(nil, cb)}
	}
	c.logger.LogAttrs(ctx, slog.LevelInfo, "thingspace: warning callback; the operation waits for the final one",
		slog.String("requestId", cb.RequestID), slog.String("code", st.Code()), slog.String("message", st.Message))
	if c.cfg.progress == nil {
		return nil
	}
	if err := c.cfg.progress(ctx, p); err != nil {
		c.logger.LogAttrs(ctx, slog.LevelWarn, "thingspace: progress handler failed; ThingSpace will retry", slog.Any("error", err))
		return err
	}
	return nil
}

func (c *Client) handDuplicate(ctx context.Context, cb *Callback) {
	c.logger.LogAttrs(ctx, slog.LevelInfo, "thingspace: repeated callback acknowledged, handed over once",
		slog.String("requestId", cb.RequestID), slog.Int("callbackCount", cb.CallbackCount))
	if c.cfg.duplicate != nil {
		c.cfg.duplicate(ctx, cb)
	}
}

func (c *Client) handUnmatched(ctx context.Context, cb *Callback) error {
	if c.cfg.unmatched != nil {
		if err := c.cfg.unmatched(ctx, cb); err != nil {
			c.logger.LogAttrs(ctx, slog.LevelWarn, "thingspace: unmatched handler failed; ThingSpace will retry", slog.Any("error", err))
			return errors.Join(errors.New("unmatched handler"), err)
		}
		return nil
	}
	c.logger.LogAttrs(ctx, slog.LevelWarn, "thingspace: callback acknowledged with no operation waiting for it (configure WithUnmatchedHandler)",
		slog.String("account", cb.Account), slog.String("callback", cb.String()))
	return nil
}

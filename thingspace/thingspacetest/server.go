package thingspacetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/esimgw/esimgw/internal/faultqueue"
	"github.com/esimgw/esimgw/thingspace"
)

// The mock's fixed credentials and identifiers; ClientOptions configures a client with them.
const (
	AppKey    = "test-app-key"
	AppSecret = "test-app-secret"
	Username  = "m2m-user"
	Password  = "m2m-password"
	SMSROID   = "1.3.6.1.4.1.31746.1.500.200.101.5"

	AccountName      = "0000123456-00001"
	CallbackUsername = "cb-user"
	CallbackPassword = "cb-secret"

	OtherAccountName      = "0000654321-00001"
	OtherCallbackUsername = "cb-user-2"
	OtherCallbackPassword = "cb-secret-2"
)

// The default eUICC state (the same identifiers as gatewaytest's default seed, so that examples run the
// same calls on every mock): DefaultEID holds EnabledICCID (enabled) and DisabledICCID (disabled);
// CatalogICCID can be downloaded to it.
const (
	DefaultEID    = "89049032000001000000000000000171"
	EnabledICCID  = "89310410000000000019"
	DisabledICCID = "89310410000000000027"
	CatalogICCID  = "89310410000000001009"
)

// Profile states as the mock keeps them.
const (
	StateEnabled  = "enabled"
	StateDisabled = "disabled"
)

// Server is a mock ThingSpace M2M API on a loopback TLS listener: the OAuth2 token endpoint, session
// login/logout, callback registration, the five profile actions, and callbacks posted to the registered
// URL with the documented shapes. All methods are safe for concurrent use.
type Server struct {
	// URL is the M2M API base (for thingspace.WithBaseURL); TokenURL the OAuth2 token endpoint.
	URL, TokenURL string

	srv *httptest.Server
	cfg config

	mu         sync.Mutex
	tokens     map[string]time.Time // access token -> expiry
	current    string               // the token handed out within its lifetime
	sessions   map[string]bool
	callbacks  map[string]thingspace.CallbackRegistration // by account
	euiccs     map[string]map[string]string               // EID -> ICCID -> state
	catalog    map[string]bool
	faults     faultqueue.Queue[Fault] // its own lock: taken with or without mu
	requests   []Request
	deliveries []Delivery
	stats      Stats
	actions    map[string]int // EID -> profile actions accepted for it

	wg     sync.WaitGroup
	closed chan struct{}
}

type config struct {
	tokenLifetime time.Duration
	callbackDelay time.Duration
	retryInterval time.Duration
	logger        *slog.Logger
	poster        *http.Client
}

// Option configures the mock.
type Option func(*config)

// WithTokenLifetime sets how long an OAuth2 token lives (default one hour, as ThingSpace's).
func WithTokenLifetime(d time.Duration) Option { return func(c *config) { c.tokenLifetime = d } }

// WithCallbackDelay sets how long after the request the (first) callback is posted (default 5 ms).
func WithCallbackDelay(d time.Duration) Option { return func(c *config) { c.callbackDelay = d } }

// WithCallbackRetryInterval sets the wait between callback attempts (default 10 ms).
func WithCallbackRetryInterval(d time.Duration) Option {
	return func(c *config) { c.retryInterval = d }
}

// WithCallbackClient sets the HTTP client callbacks are posted with (default: a plain one), e.g. to trust
// a TLS callback server.
func WithCallbackClient(h *http.Client) Option { return func(c *config) { c.poster = h } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// NewServer starts a mock; Close stops it.
func NewServer(opts ...Option) *Server {
	cfg := config{tokenLifetime: time.Hour, callbackDelay: 5 * time.Millisecond, retryInterval: 10 * time.Millisecond,
		logger: slog.New(slog.DiscardHandler), poster: &http.Client{Timeout: 10 * time.Second}}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	s := &Server{cfg: cfg, tokens: map[string]time.Time{}, sessions: map[string]bool{},
		callbacks: map[string]thingspace.CallbackRegistration{}, euiccs: map[string]map[string]string{},
		catalog: map[string]bool{CatalogICCID: true}, closed: make(chan struct{}), actions: map[string]int{}}
	s.euiccs[DefaultEID] = map[string]string{EnabledICCID: StateEnabled, DisabledICCID: StateDisabled}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/ts/v1/oauth2/token", s.token)
	mux.HandleFunc("POST /api/m2m/v1/session/login", s.login)
	mux.HandleFunc("POST /api/m2m/v1/session/logout", s.logout)
	mux.HandleFunc("POST /api/m2m/v1/callbacks/{account}", s.registerCallback)
	mux.HandleFunc("GET /api/m2m/v1/callbacks/{account}", s.listCallbacks)
	mux.HandleFunc("DELETE /api/m2m/v1/callbacks/{account}/name/{service}", s.deregisterCallback)
	mux.HandleFunc("POST /api/m2m/v1/devices/profile/actions/{action}", s.action)
	s.srv = httptest.NewUnstartedServer(s.record(mux))
	s.srv.Config.ErrorLog = slog.NewLogLogger(cfg.logger.Handler(), slog.LevelDebug) // handshakes cut by Close
	s.srv.StartTLS()
	s.URL = s.srv.URL + "/api/m2m/v1"
	s.TokenURL = s.srv.URL + "/api/ts/v1/oauth2/token"
	return s
}

// Start is NewServer for tests: the mock is closed when tb ends.
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := NewServer(opts...)
	tb.Cleanup(s.Close)
	return s
}

// Close waits for callbacks under way (abandoning retries) and stops the server.
func (s *Server) Close() {
	select {
	case <-s.closed:
		return
	default:
	}
	close(s.closed)
	s.wg.Wait()
	s.srv.Close()
}

// Client returns an HTTP client that trusts the mock's certificate.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// ClientOptions configures a thingspace.Client for the mock: endpoints, credentials, both accounts
// (AccountName first, so it is the default), the SM-SR and the TLS trust. Callback URLs on loopback ports
// are allowed.
func (s *Server) ClientOptions() []thingspace.Option {
	return []thingspace.Option{
		thingspace.WithBaseURL(s.URL), thingspace.WithTokenURL(s.TokenURL), thingspace.WithHTTPClient(s.Client()),
		thingspace.WithAppCredentials(AppKey, AppSecret), thingspace.WithSession(Username, Password),
		thingspace.WithAccount(thingspace.Account{Name: AccountName, CallbackUsername: CallbackUsername, CallbackPassword: CallbackPassword}),
		thingspace.WithAccount(thingspace.Account{Name: OtherAccountName, CallbackUsername: OtherCallbackUsername, CallbackPassword: OtherCallbackPassword}),
		thingspace.WithSMSROID(SMSROID), thingspace.WithoutCallbackPortCheck(),
	}
}

// Request is one request the mock received.
type Request struct {
	Method, Path string
	Status       int // the status it was answered with
}

// Delivery is one callback attempt.
type Delivery struct {
	Callback thingspace.Callback // as posted
	URL      string
	Status   int   // the receiver's answer; 0 when the post failed
	Err      error // transport failure
}

// Stats counts what the mock did.
type Stats struct {
	Requests      int // every request received
	TokensIssued  int // distinct OAuth2 tokens handed out
	Logins        int
	Logouts       int
	Unauthorized  int // requests answered 401 (stale or wrong token or session)
	Actions       int // profile actions accepted
	Callbacks     int // callback attempts
	Acknowledged  int // callback attempts answered 2xx
	Undeliverable int // callbacks given up after maxCallbackThreshold attempts, or with no URL registered
	Expected401   int // attempts posted with wrong credentials on purpose that were refused 401
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Deliveries returns every callback attempt so far.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries...)
}

// EUICC returns the profiles on eid and their states (a copy); nil when the mock has no such eUICC.
func (s *Server) EUICC(eid string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.euiccs[strings.ToUpper(eid)]
	if !ok {
		return nil
	}
	out := make(map[string]string, len(e))
	for k, v := range e {
		out[k] = v
	}
	return out
}

// AddEUICC adds (or replaces) an eUICC with the given profiles and states.
func (s *Server) AddEUICC(eid string, profiles map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := make(map[string]string, len(profiles))
	for k, v := range profiles {
		e[k] = v
	}
	s.euiccs[strings.ToUpper(eid)] = e
}

// WaitIdle waits until every callback, with its retries, has been posted.
func (s *Server) WaitIdle(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (LoseAnswer hijacks it).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (s *Server) record(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		s.mu.Lock()
		s.stats.Requests++
		if sw.status == http.StatusUnauthorized {
			s.stats.Unauthorized++
		}
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Status: sw.status})
		s.mu.Unlock()
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"errorCode": code, "errorMessage": msg})
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// token is the OAuth2 client-credentials endpoint: the app key and secret as HTTP Basic, the same token
// within its lifetime.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	key, secret, ok := r.BasicAuth()
	if !ok || key != AppKey || secret != AppSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": "bad client credentials"})
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	s.mu.Lock()
	now := time.Now()
	exp, live := s.tokens[s.current]
	if !live || !now.Before(exp) {
		s.current = "tok-" + newID()
		exp = now.Add(s.cfg.tokenLifetime)
		s.tokens[s.current] = exp
		s.stats.TokensIssued++
	}
	tok := s.current
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer",
		"expires_in": max(int(time.Until(exp).Seconds()), 1), "scope": "m2m"})
}

// bearerOK checks the Authorization header; the caller holds s.mu.
func (s *Server) bearerOKLocked(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	exp, known := s.tokens[tok]
	return known && time.Now().Before(exp)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ok := s.bearerOKLocked(r)
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusUnauthorized, "UnAuthorized", "invalid or expired access token")
		return
	}
	var in struct{ Username, Password string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Username != Username || in.Password != Password {
		writeError(w, http.StatusBadRequest, "INVALID_ACCESS", "bad username or password")
		return
	}
	tok := "sess-" + newID()
	s.mu.Lock()
	s.sessions[tok] = true
	s.stats.Logins++
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"sessionToken": tok})
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.bearerOKLocked(r) || !s.sessions[r.Header.Get(thingspace.HeaderSession)] {
		writeError(w, http.StatusUnauthorized, "UnAuthorized", "invalid token or session")
		return
	}
	delete(s.sessions, r.Header.Get(thingspace.HeaderSession))
	s.stats.Logouts++
	writeJSON(w, http.StatusOK, map[string]string{"sessionToken": ""})
}

// authorized checks both credentials and answers 401 when one is stale.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	bearer := s.bearerOKLocked(r)
	session := s.sessions[r.Header.Get(thingspace.HeaderSession)]
	s.mu.Unlock()
	switch {
	case !bearer:
		writeError(w, http.StatusUnauthorized, "UnAuthorized", "invalid or expired access token")
		return false
	case !session:
		writeError(w, http.StatusUnauthorized, "REQUEST_FAILED.SessionToken.Expired", "session token expired or invalid")
		return false
	}
	return true
}

func knownAccount(name string) bool { return name == AccountName || name == OtherAccountName }

func (s *Server) registerCallback(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	account := r.PathValue("account")
	var reg thingspace.CallbackRegistration
	if !knownAccount(account) {
		writeError(w, http.StatusBadRequest, "INVALID_PARAMETER", "unknown account "+account)
		return
	}
	if err := json.NewDecoder(r.Body).Decode(&reg); err != nil || reg.Name == "" || reg.URL == "" {
		writeError(w, http.StatusBadRequest, "INVALID_PARAMETER", "name and url are required")
		return
	}
	reg.AccountName = account
	s.mu.Lock()
	s.callbacks[account] = reg
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"accountName": account, "name": reg.Name})
}

func (s *Server) listCallbacks(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	s.mu.Lock()
	out := []thingspace.CallbackRegistration{}
	if reg, ok := s.callbacks[r.PathValue("account")]; ok {
		reg.Password = "" // never listed
		out = append(out, reg)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) deregisterCallback(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	account := r.PathValue("account")
	if reg, ok := s.callbacks[account]; !ok || reg.Name != r.PathValue("service") {
		writeError(w, http.StatusBadRequest, "INVALID_PARAMETER", "no such callback")
		return
	}
	delete(s.callbacks, account)
	writeJSON(w, http.StatusOK, map[string]string{"accountName": account, "name": r.PathValue("service")})
}

// action accepts a profile action, answers its requestId, and schedules one callback per device.
func (s *Server) action(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	action := thingspace.Action(r.PathValue("action"))
	switch action {
	case thingspace.ActionDownloadEnable, thingspace.ActionDownloadDisable, thingspace.ActionEnable, thingspace.ActionDisable, thingspace.ActionDelete:
	default:
		writeError(w, http.StatusNotFound, "INVALID_PARAMETER", "unknown action "+string(action))
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		writeError(w, http.StatusUnsupportedMediaType, "INVALID_PARAMETER", "Content-Type must be application/json")
		return
	}
	if e, ok := faultqueue.Take[ErrorAnswer](&s.faults, nil); ok {
		writeError(w, e.Status, e.Code, "injected error")
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var req struct {
		Devices []struct {
			DeviceIDs []thingspace.DeviceID `json:"deviceIds"`
		} `json:"devices"`
		AccountName string `json:"accountName"`
		SMSROID     string `json:"smsrOid"`
	}
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "INVALID_PARAMETER", "body: "+err.Error())
		return
	}
	switch {
	case !knownAccount(req.AccountName):
		writeError(w, http.StatusBadRequest, "INVALID_PARAMETER", "unknown accountName "+req.AccountName)
		return
	case req.SMSROID != SMSROID:
		writeError(w, http.StatusBadRequest, "INVALID_PARAMETER", "unknown smsrOid "+req.SMSROID)
		return
	case len(req.Devices) == 0:
		writeError(w, http.StatusBadRequest, "INVALID_PARAMETER", "devices is required")
		return
	}
	type device struct{ eid, iccid string }
	var devices []device
	for _, d := range req.Devices {
		var dv device
		for _, id := range d.DeviceIDs {
			switch id.Kind {
			case "eid":
				dv.eid = id.ID
			case "iccid":
				dv.iccid = id.ID
			}
		}
		if dv.eid == "" || dv.iccid == "" {
			writeError(w, http.StatusBadRequest, "INVALID_PARAMETER", "every device needs an eid and an iccid")
			return
		}
		devices = append(devices, dv)
	}
	id := newID()
	s.mu.Lock()
	s.stats.Actions++
	for _, d := range devices {
		s.actions[strings.ToUpper(d.eid)]++
	}
	s.mu.Unlock()
	if _, lose := faultqueue.Take(&s.faults, func(l LoseAnswer) bool {
		return l.EID == "" || slices.ContainsFunc(devices, func(d device) bool { return strings.EqualFold(d.eid, l.EID) })
	}); lose {
		for _, d := range devices {
			s.spawn(func() { s.run(id, req.AccountName, action, d.eid, d.iccid) })
		}
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close() // accepted and executed, never answered
			return
		}
	} else {
		defer func() {
			for _, d := range devices {
				s.spawn(func() { s.run(id, req.AccountName, action, d.eid, d.iccid) })
			}
		}()
	}
	writeJSON(w, http.StatusOK, map[string]string{"requestId": id})
}

// Actions returns how many profile actions naming eid the mock accepted (and so executed, or will):
// the count a client that never sends an action twice keeps at one per intended action.
func (s *Server) Actions(eid string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.actions[strings.ToUpper(eid)]
}

func (s *Server) spawn(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

func (s *Server) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.closed:
		return false
	}
}

// run executes one device's action and posts its callback(s).
func (s *Server) run(requestID, account string, action thingspace.Action, eid, iccid string) {
	if !s.sleep(s.cfg.callbackDelay) {
		return
	}
	if f, ok := faultqueue.Take(&s.faults, func(t DeviceTimeout) bool { return t.EID == "" || strings.EqualFold(t.EID, eid) }); ok {
		warn := baseCallback(requestID, eid, iccid)
		warn.DeviceResponse = &thingspace.DeviceResponse{DeviceProfileResponse: &thingspace.DeviceProfileResponse{
			EuiccStatus: "EXECUTED_WITHWARNING", EuiccStatusCode: "8.2.1,3.9",
			EuiccStatusDesc: "The use case was expired at notification receiving step. The server did not receive eUICC notification."}}
		warn.Status = "Success"
		s.deliver(account, warn)
		if !s.sleep(f.FinalAfter) {
			return
		}
	}
	cb := s.execute(requestID, action, eid, iccid)
	s.deliver(account, cb)
}

func baseCallback(requestID, eid, iccid string) thingspace.Callback {
	return thingspace.Callback{RequestID: requestID, DeviceIDs: []thingspace.DeviceID{{Kind: "Iccid", ID: iccid}, {Kind: "Eid", ID: eid}},
		MaxCallbackThreshold: 4}
}

// execute applies the action to the state and returns the final callback.
func (s *Server) execute(requestID string, action thingspace.Action, eid, iccid string) thingspace.Callback {
	s.mu.Lock()
	defer s.mu.Unlock()
	cb := baseCallback(requestID, eid, iccid)
	fail := func(code, desc string) thingspace.Callback {
		cb.Status = "Failed"
		cb.DeviceResponse = &thingspace.DeviceResponse{DeviceProfileResponse: &thingspace.DeviceProfileResponse{
			SMSROID: SMSROID, ProfileStatus: strings.ToUpper(string(action)), EuiccStatus: "FAILED",
			EuiccErrorCode: code, EuiccErrorDesc: desc}}
		return cb
	}
	e, ok := s.euiccs[strings.ToUpper(eid)]
	if !ok {
		return fail("8.1.1,3.9", "EID unknown")
	}
	state, installed := e[iccid]
	switch action {
	case thingspace.ActionEnable:
		switch {
		case !installed:
			return fail("8.2.1,3.9", "ICCID unknown on this eUICC")
		case state == StateEnabled:
			return fail("8.2.1,3.8", "profile already enabled")
		}
		for k, v := range e {
			if v == StateEnabled {
				e[k] = StateDisabled
			}
		}
		e[iccid] = StateEnabled
	case thingspace.ActionDisable:
		switch {
		case !installed:
			return fail("8.2.1,3.9", "ICCID unknown on this eUICC")
		case state != StateEnabled:
			return fail("8.2.1,3.8", "profile not enabled")
		}
		e[iccid] = StateDisabled
	case thingspace.ActionDelete:
		switch {
		case !installed:
			return fail("8.2.1,3.9", "ICCID unknown on this eUICC")
		case state == StateEnabled:
			return fail("8.2.1,3.8", "the enabled profile cannot be deleted")
		}
		delete(e, iccid)
	case thingspace.ActionDownloadEnable, thingspace.ActionDownloadDisable:
		switch {
		case installed:
			return fail("8.2.1,3.8", "profile already installed")
		case !s.catalog[iccid]:
			return fail("8.2.1,3.9", "ICCID not available for download")
		}
		delete(s.catalog, iccid)
		e[iccid] = StateDisabled
		if action == thingspace.ActionDownloadEnable {
			for k, v := range e {
				if v == StateEnabled {
					e[k] = StateDisabled
				}
			}
			e[iccid] = StateEnabled
		}
	}
	cb.Status = "Success"
	cb.DeviceResponse = &thingspace.DeviceResponse{DeviceProfileResponse: &thingspace.DeviceProfileResponse{
		DeviceIdentifierCollection: []thingspace.DeviceID{{Kind: "iccid", ID: iccid}, {Kind: "eid", ID: eid}},
		SMSROID:                    SMSROID, ProfileStatus: strings.ToUpper(string(action)),
		EuiccStatus: "EXECUTED_SUCCESS", EuiccStatusCode: "1.2.365", EuiccStatusDesc: "EUICC device profile has been updated",
		EuiccSubAddressUpdateStatus: "EXECUTED_SUCCESS", EuiccSubAddressUpdateStatusCode: "1",
		EuiccSubAddressUpdateStatusDesc: "SUCCESS: Address has been updated"}}
	return cb
}

// deliver posts cb to the account's registered URL with its credentials, retrying an unacknowledged one
// up to maxCallbackThreshold attempts, as ThingSpace does.
func (s *Server) deliver(account string, cb thingspace.Callback) {
	s.mu.Lock()
	reg, ok := s.callbacks[account]
	s.mu.Unlock()
	if !ok || reg.Name != thingspace.ServiceDeviceProfile {
		s.mu.Lock()
		s.stats.Undeliverable++
		s.mu.Unlock()
		return
	}
	_, wrong := faultqueue.Take[WrongCredentials](&s.faults, nil)
	_, dup := faultqueue.Take[DuplicateCallbacks](&s.faults, nil)
	acked := false
	for attempt := 1; attempt <= cb.MaxCallbackThreshold; attempt++ {
		if attempt > 1 && !s.sleep(s.cfg.retryInterval) {
			return
		}
		c := cb
		c.CallbackCount = attempt
		c.Username, c.Password = reg.Username, reg.Password
		forged := wrong && attempt == 1
		if forged {
			c.Password = "not-" + reg.Password
		}
		status := s.post(reg.URL, c)
		if forged && status == http.StatusUnauthorized {
			s.mu.Lock()
			s.stats.Expected401++
			s.mu.Unlock()
		}
		if status >= 200 && status < 300 {
			acked = true
			if dup && attempt < cb.MaxCallbackThreshold {
				// ThingSpace did not see the acknowledgement: it posts the callback again.
				dup = false
				continue
			}
			return
		}
	}
	if !acked {
		s.mu.Lock()
		s.stats.Undeliverable++
		s.mu.Unlock()
	}
}

func (s *Server) post(url string, cb thingspace.Callback) int {
	body, _ := json.Marshal(cb)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		s.recordDelivery(Delivery{Callback: cb, URL: url, Err: err})
		return 0
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.cfg.poster.Do(req)
	if err != nil {
		s.recordDelivery(Delivery{Callback: cb, URL: url, Err: err})
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	s.recordDelivery(Delivery{Callback: cb, URL: url, Status: resp.StatusCode})
	return resp.StatusCode
}

func (s *Server) recordDelivery(d Delivery) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Callbacks++
	if d.Status >= 200 && d.Status < 300 {
		s.stats.Acknowledged++
	}
	s.deliveries = append(s.deliveries, d)
	if d.Err != nil {
		s.cfg.logger.Warn("thingspacetest: callback post failed", "url", d.URL, "error", fmt.Sprint(d.Err))
	}
}

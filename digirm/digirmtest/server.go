package digirmtest

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/digirm"
	"github.com/esimgw/esimgw/internal/faultqueue"
)

// The mock's credentials; ClientOptions configures a client with the basic ones.
const (
	User      = "drm-user"
	Password  = "drm-password"
	APIKeyID  = "drm-key-id"
	APIKeySec = "drm-key-secret"
)

// The default state (the same identifiers as gatewaytest's and thingspacetest's default seeds):
// DefaultEID (device DefaultDeviceID) holds EnabledICCID (active) and DisabledICCID (inactive);
// CatalogICCID is registered with the system (download by ICCID), and ActivationCode downloads
// CatalogICCID2. Carrier is the SPN of all of them.
const (
	DefaultEID      = "89049032000001000000000000000171"
	DefaultDeviceID = "00000000-00000000-0040FFFF-FF0F4242"
	EnabledICCID    = "89310410000000000019"
	DisabledICCID   = "89310410000000000027"
	CatalogICCID    = "89310410000000001009"
	CatalogICCID2   = "89310410000000001017"
	ActivationCode  = "1$smdp.example.com$CATALOG-0002"
	Carrier         = "Mobile"
)

// Profile statuses as the inventory reports them.
const (
	StatusActive   = "active"
	StatusInactive = "inactive"
)

// Throttle is the limit the mock enforces: at most Requests arrivals in any Window, at most Concurrent
// requests at once; beyond either it answers 429 with Retry-After.
type Throttle struct {
	Requests   int
	Window     time.Duration
	Concurrent int
}

type config struct {
	throttle       Throttle
	actionDuration time.Duration
	bulkLimit      int
	fleet          int
	logger         *slog.Logger
}

// Option configures the mock.
type Option func(*config)

// WithThrottle sets the enforced limit (default: 40 per 10 s, 4 at once: Premier's 240 a minute).
func WithThrottle(t Throttle) Option { return func(c *config) { c.throttle = t } }

// WithActionDuration sets how long a transaction takes (each one between half and one and a half times d;
// default 50 ms; Digi's take 3 to 10 minutes).
func WithActionDuration(d time.Duration) Option { return func(c *config) { c.actionDuration = d } }

// WithBulkLimit sets how many records GET /bulk returns at most (default 20,000, as Digi).
func WithBulkLimit(n int) Option { return func(c *config) { c.bulkLimit = n } }

// WithFleet adds n devices (FleetEID, FleetDeviceID), each with an active FleetEnabledICCID and an
// inactive FleetDisabledICCID profile.
func WithFleet(n int) Option { return func(c *config) { c.fleet = n } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// FleetEID returns the EID of fleet device i.
func FleetEID(i int) string {
	eid, _ := esimgw.EIDWithCheckDigits(fmt.Sprintf("890490320000020000%012d", i))
	return eid
}

// FleetDeviceID returns the device ID of fleet device i.
func FleetDeviceID(i int) string {
	u := uint64(i) // 0xffffffff does not fit a 32-bit int
	return fmt.Sprintf("00000000-00000000-0041%04X-%08X", u>>32&0xffff, u&0xffffffff)
}

// FleetEnabledICCID and FleetDisabledICCID return the profiles of fleet device i.
func FleetEnabledICCID(i int) string  { return esimgw.ICCIDWithLuhn(fmt.Sprintf("8931041020%08d1", i)) }
func FleetDisabledICCID(i int) string { return esimgw.ICCIDWithLuhn(fmt.Sprintf("8931041020%08d2", i)) }

type profile struct {
	iccid, status, carrier, typ string
}

type device struct {
	id, eid  string
	profiles map[string]*profile
}

type transaction struct {
	digirm.Transaction
	due  time.Time
	fail *FailTransactions
	code string // activation code of a download
}

type multistep struct {
	digirm.MultistepOperation
	start time.Time
}

// Server is a mock Digi Remote Manager v1/esim_profiles API on a loopback TLS listener. All methods are
// safe for concurrent use.
type Server struct {
	// URL is the esim_profiles base (for digirm.WithBaseURL).
	URL string

	srv *httptest.Server
	cfg config

	mu         sync.Mutex
	byEID      map[string]*device
	byDeviceID map[string]*device
	registered map[string]string // ICCID -> carrier: activation codes the system knows
	codes      map[string]string // activation code -> ICCID
	txs        map[string]*transaction
	ops        map[string]*multistep
	next       int
	arrivals   []time.Time // within the window, oldest first
	inflight   int
	retryUntil time.Time               // until when the last 429 asked to wait
	excused    int                     // arrivals during that wait that may have been sent before the 429 was read
	faults     faultqueue.Queue[Fault] // its own lock: taken with or without mu
	stats      Stats
	actions    map[string]int // EID -> action requests accepted for it
}

// Stats counts what the mock saw. A well-behaved client keeps OverThrottle, OverConcurrency and
// IgnoredRetryAfter at zero.
type Stats struct {
	Requests          int // every request, refused ones included
	Actions           int // accepted download, enable, disable, delete and multistep requests
	Polls             int // GET /progress, GET /transactions/inventory and GET /operations/inventory/{id}
	Completed         int // transactions that reached complete, failed or unknown
	Injected429       int // 429s sent by a Throttle fault
	OverThrottle      int // requests beyond Requests in a Window (answered 429)
	OverConcurrency   int // requests beyond Concurrent (answered 429)
	IgnoredRetryAfter int // requests that arrived during a 429's Retry-After, beyond the Concurrent-1 that may have been on the way
	MaxConcurrent     int // the most requests in flight at once
}

// NewServer starts a mock; Close stops it.
func NewServer(opts ...Option) *Server {
	cfg := config{throttle: Throttle{Requests: 40, Window: 10 * time.Second, Concurrent: 4}, actionDuration: 50 * time.Millisecond,
		bulkLimit: 20000, logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	s := &Server{cfg: cfg, byEID: map[string]*device{}, byDeviceID: map[string]*device{},
		registered: map[string]string{CatalogICCID: Carrier, CatalogICCID2: Carrier}, codes: map[string]string{ActivationCode: CatalogICCID2},
		txs: map[string]*transaction{}, ops: map[string]*multistep{}, actions: map[string]int{}}
	s.addDevice(DefaultDeviceID, DefaultEID, map[string]string{EnabledICCID: StatusActive, DisabledICCID: StatusInactive})
	for i := range cfg.fleet {
		s.addDevice(FleetDeviceID(i), FleetEID(i), map[string]string{FleetEnabledICCID(i): StatusActive, FleetDisabledICCID(i): StatusInactive})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /ws/v1/esim_profiles/{action}", s.action)
	mux.HandleFunc("GET /ws/v1/esim_profiles/progress/{tx}", s.progress)
	mux.HandleFunc("GET /ws/v1/esim_profiles/inventory", s.inventory)
	mux.HandleFunc("GET /ws/v1/esim_profiles/inventory/{iccid}", s.inventoryOne)
	mux.HandleFunc("GET /ws/v1/esim_profiles/transactions/inventory", s.transactions)
	mux.HandleFunc("GET /ws/v1/esim_profiles/bulk", s.bulk)
	mux.HandleFunc("POST /ws/v1/esim_profiles/operations/inventory", s.startOperation)
	mux.HandleFunc("GET /ws/v1/esim_profiles/operations/inventory/{id}", s.operation)
	s.srv = httptest.NewUnstartedServer(s.gate(mux))
	s.srv.Config.ErrorLog = slog.NewLogLogger(cfg.logger.Handler(), slog.LevelDebug)
	s.srv.StartTLS()
	s.URL = s.srv.URL + "/ws/v1/esim_profiles"
	return s
}

// Start is NewServer for tests: the mock is closed when tb ends.
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := NewServer(opts...)
	tb.Cleanup(s.Close)
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Client returns an HTTP client that trusts the mock's certificate.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// client is Client keeping as many idle connections as requests may run at once, so that a throttled
// client does not open a TLS connection per request (net/http keeps two by default).
func (s *Server) client(concurrent int) *http.Client {
	h := *s.srv.Client()
	if tr, ok := h.Transport.(*http.Transport); ok {
		tr = tr.Clone()
		tr.MaxIdleConnsPerHost = max(concurrent, 2)
		h.Transport = tr
	}
	return &h
}

// ClientOptions configures a digirm.Client for the mock: base URL, basic credentials, TLS trust, the
// mock's throttle, and polling scaled to its action duration.
func (s *Server) ClientOptions() []digirm.Option {
	t := s.cfg.throttle
	return []digirm.Option{
		digirm.WithBaseURL(s.URL), digirm.WithBasicAuth(User, Password), digirm.WithHTTPClient(s.client(t.Concurrent)),
		digirm.WithThrottle(digirm.Throttle{Requests: t.Requests, Window: t.Window, Concurrent: t.Concurrent, Margin: t.Window / 4}),
		digirm.WithPollInterval(s.cfg.actionDuration, 4*s.cfg.actionDuration),
	}
}

func (s *Server) addDevice(id, eid string, profiles map[string]string) {
	d := &device{id: id, eid: eid, profiles: map[string]*profile{}}
	for iccid, st := range profiles {
		d.profiles[iccid] = &profile{iccid: iccid, status: st, carrier: Carrier, typ: "operational"}
	}
	s.byEID[strings.ToUpper(eid)] = d
	s.byDeviceID[strings.ToUpper(id)] = d
}

// Profiles returns the profiles on eid and their statuses (a copy); nil for an unknown EID.
func (s *Server) Profiles(eid string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.byEID[strings.ToUpper(eid)]
	if !ok {
		return nil
	}
	out := make(map[string]string, len(d.profiles))
	for k, p := range d.profiles {
		out[k] = p.status
	}
	return out
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error_status": status, "error_message": msg})
}

func retryAfter(w http.ResponseWriter, d time.Duration) {
	if d > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
	}
	writeError(w, http.StatusTooManyRequests, "throttled: too many requests")
}

// gate authenticates and throttles every request, and counts.
func (s *Server) gate(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pw, basic := r.BasicAuth()
		keyOK := r.Header.Get("X-API-KEY-ID") == APIKeyID && r.Header.Get("X-API-KEY-SECRET") == APIKeySec
		s.mu.Lock()
		s.stats.Requests++
		s.mu.Unlock()
		if !(basic && user == User && pw == Password) && !keyOK {
			writeError(w, http.StatusUnauthorized, "invalid credentials")
			return
		}
		if wait, throttled := s.admit(); throttled {
			retryAfter(w, wait)
			return
		}
		defer func() {
			s.mu.Lock()
			s.inflight--
			s.mu.Unlock()
		}()
		h.ServeHTTP(w, r)
	})
}

// admit applies the throttle to one arrival; it returns the wait to announce when refusing it.
func (s *Server) admit() (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	t := s.cfg.throttle
	if now.Before(s.retryUntil) {
		// A client that keeps to Concurrent may have had the others of its requests on the way when the
		// 429 was sent; any arrival beyond those ignored the Retry-After.
		if s.excused > 0 {
			s.excused--
		} else {
			s.stats.IgnoredRetryAfter++
		}
	}
	cut := 0
	for cut < len(s.arrivals) && !s.arrivals[cut].After(now.Add(-t.Window)) {
		cut++
	}
	s.arrivals = s.arrivals[cut:]
	refuse := func(wait time.Duration) (time.Duration, bool) {
		s.retryUntil = now.Add(time.Duration(math.Ceil(wait.Seconds())) * time.Second)
		s.excused = max(t.Concurrent-1-s.inflight, 0)
		return wait, true
	}
	if f, ok := faultqueue.Take[ThrottleFault](&s.faults, nil); ok {
		s.stats.Injected429++
		return refuse(f.RetryAfter)
	}
	if len(s.arrivals) >= t.Requests {
		s.stats.OverThrottle++
		return refuse(s.arrivals[0].Add(t.Window).Sub(now))
	}
	if s.inflight >= t.Concurrent {
		s.stats.OverConcurrency++
		return refuse(time.Second)
	}
	s.arrivals = append(s.arrivals, now)
	s.inflight++
	s.stats.MaxConcurrent = max(s.stats.MaxConcurrent, s.inflight)
	return 0, false
}

func (s *Server) newIDLocked(prefix string) string {
	s.next++
	return fmt.Sprintf("%s%08d-%04x", prefix, s.next, rand.IntN(1<<16))
}

type actionBody struct {
	DeviceID       string `json:"device_id"`
	EID            string `json:"eid"`
	ICCID          string `json:"iccid"`
	ActivationCode string `json:"activation_code"`
}

func (s *Server) findDeviceLocked(b actionBody) (*device, string) {
	var d *device
	if b.EID != "" {
		d = s.byEID[strings.ToUpper(b.EID)]
		if d == nil {
			return nil, "no device with eid " + b.EID
		}
	}
	if b.DeviceID != "" {
		byID := s.byDeviceID[strings.ToUpper(b.DeviceID)]
		if byID == nil || (d != nil && byID != d) {
			return nil, "no device " + b.DeviceID + " with that eid"
		}
		d = byID
	}
	if d == nil {
		return nil, "give device_id or eid"
	}
	return d, ""
}

func (s *Server) action(w http.ResponseWriter, r *http.Request) {
	act := r.PathValue("action")
	switch act {
	case "download", "enable", "disable", "delete":
	default:
		writeError(w, http.StatusNotFound, "no such action "+act)
		return
	}
	if f, ok := faultqueue.Take[ErrorAnswer](&s.faults, nil); ok {
		writeError(w, f.Status, "injected error")
		return
	}
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var b actionBody
	if err := dec.Decode(&b); err != nil {
		writeError(w, http.StatusBadRequest, "body: "+err.Error())
		return
	}
	switch {
	case act != "download" && b.ICCID == "":
		writeError(w, http.StatusBadRequest, "iccid is required")
		return
	case act == "download" && (b.ICCID == "") == (b.ActivationCode == ""):
		writeError(w, http.StatusBadRequest, "give iccid (registered activation code) or activation_code")
		return
	}
	s.mu.Lock()
	d, msg := s.findDeviceLocked(b)
	if d == nil {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	now := time.Now()
	tx := &transaction{Transaction: digirm.Transaction{Transaction: digirm.Text(s.newIDLocked("tx-")), Action: act, Status: digirm.StatusInProgress,
		CustomerID: "4242", DeviceID: d.id, EID: d.eid, ICCID: b.ICCID, Created: now.UTC().Format(time.RFC3339), Updated: now.UTC().Format(time.RFC3339)},
		due: now.Add(s.durationLocked()), code: b.ActivationCode}
	if f, ok := faultqueue.Take[FailTransactions](&s.faults, nil); ok {
		tx.fail = &f
	}
	s.txs[string(tx.Transaction.Transaction)] = tx
	s.stats.Actions++
	s.actions[strings.ToUpper(d.eid)]++
	out := tx.Transaction
	_, lose := faultqueue.Take(&s.faults, func(l LoseAnswer) bool { return l.EID == "" || strings.EqualFold(l.EID, d.eid) })
	s.mu.Unlock()
	if lose {
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close() // accepted, never answered
			return
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// Actions returns how many action requests (download, enable, disable, delete) for eid the mock
// accepted: the count a client that never sends an action twice keeps at one per intended action.
func (s *Server) Actions(eid string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.actions[strings.ToUpper(eid)]
}

func (s *Server) durationLocked() time.Duration {
	d := s.cfg.actionDuration
	return d/2 + time.Duration(rand.Int64N(int64(d)+1))
}

// progress is where transactions finish: Digi checks a transaction when its progress is asked for.
func (s *Server) progress(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.Polls++
	tx, ok := s.txs[r.PathValue("tx")]
	if !ok {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "no such transaction")
		return
	}
	if tx.Status == digirm.StatusInProgress && !time.Now().Before(tx.due) {
		s.executeLocked(tx)
	}
	out := tx.Transaction
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) executeLocked(tx *transaction) {
	s.stats.Completed++
	tx.Updated = time.Now().UTC().Format(time.RFC3339)
	fail := func(code, msg string) {
		tx.Status, tx.MessageCode, tx.Message = digirm.StatusFailed, code, msg
	}
	if tx.fail != nil {
		if tx.fail.Unknown {
			tx.Status, tx.Message = digirm.StatusUnknown, "the device did not report"
			return
		}
		fail(cmpOr(tx.fail.MessageCode, "injected"), cmpOr(tx.fail.Message, "injected failure"))
		return
	}
	d := s.byEID[strings.ToUpper(tx.EID)]
	p := d.profiles[tx.ICCID]
	switch tx.Action {
	case "enable":
		switch {
		case p == nil:
			fail("profile_not_found", "no profile "+tx.ICCID+" on the device")
			return
		case p.status == StatusActive:
			fail("already_active", "profile is already active")
			return
		}
		for _, o := range d.profiles {
			o.status = StatusInactive
		}
		p.status = StatusActive
	case "disable":
		switch {
		case p == nil:
			fail("profile_not_found", "no profile "+tx.ICCID+" on the device")
			return
		case p.status != StatusActive:
			fail("not_active", "profile is not active")
			return
		}
		p.status = StatusInactive
	case "delete":
		switch {
		case p == nil:
			fail("profile_not_found", "no profile "+tx.ICCID+" on the device")
			return
		case p.status == StatusActive:
			fail("profile_active", "an active profile cannot be deleted")
			return
		}
		delete(d.profiles, tx.ICCID)
	case "download":
		iccid := tx.ICCID
		if tx.code != "" {
			iccid = s.codes[tx.code]
			if iccid == "" {
				fail("invalid_activation_code", "the SM-DP+ refused the activation code")
				return
			}
			delete(s.codes, tx.code)
		}
		carrier, ok := s.registered[iccid]
		switch {
		case d.profiles[iccid] != nil:
			fail("already_installed", "profile "+iccid+" is already on the device")
			return
		case !ok:
			fail("activation_code_not_found", "no activation code registered for "+iccid)
			return
		}
		delete(s.registered, iccid)
		d.profiles[iccid] = &profile{iccid: iccid, status: StatusInactive, carrier: carrier, typ: "operational"}
		tx.ICCID = iccid
	}
	tx.Status, tx.MessageCode, tx.Message = digirm.StatusComplete, "success", "the device reported the profile change"
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// inventoryRow is one profile with its device.
type inventoryRow struct {
	d *device
	p *profile
}

func (s *Server) rowsLocked(query string) ([]inventoryRow, error) {
	field, value := "", ""
	if query != "" {
		k, v, ok := strings.Cut(query, "=")
		v = strings.TrimSpace(v)
		if !ok || len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
			return nil, fmt.Errorf("unsupported query %q (the mock knows eid=, device_id=, iccid=, carrier=)", query)
		}
		field, value = strings.TrimSpace(k), v[1:len(v)-1]
		switch field {
		case "eid", "device_id", "iccid", "carrier":
		default:
			return nil, fmt.Errorf("unsupported query field %q", field)
		}
	}
	var rows []inventoryRow
	for _, d := range s.byEID {
		for _, p := range d.profiles {
			match := true
			switch field {
			case "eid":
				match = strings.EqualFold(d.eid, value)
			case "device_id":
				match = strings.EqualFold(d.id, value)
			case "iccid":
				match = p.iccid == value
			case "carrier":
				match = p.carrier == value
			}
			if match {
				rows = append(rows, inventoryRow{d, p})
			}
		}
	}
	slices.SortFunc(rows, func(a, b inventoryRow) int { return strings.Compare(a.p.iccid, b.p.iccid) })
	return rows, nil
}

func (r inventoryRow) profile() digirm.Profile {
	return digirm.Profile{ID: "1", ICCID: r.p.iccid, EID: r.d.eid, DeviceID: r.d.id, CustomerID: "4242", Carrier: r.p.carrier,
		NormalizedCarrier: strings.ToLower(r.p.carrier), Status: r.p.status, Type: r.p.typ}
}

func (s *Server) inventory(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	rows, err := s.rowsLocked(r.URL.Query().Get("query"))
	s.mu.Unlock()
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writePage(w, r, rows, inventoryRow.profile)
}

// writePage answers one page of items (a list call's {count, size, cursor, list}); the mock's cursor is
// the offset of the next page.
func writePage[R, T any](w http.ResponseWriter, r *http.Request, rows []R, item func(R) T) {
	q := r.URL.Query()
	size := digirm.MaxPageSize
	if v := q.Get("size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > digirm.MaxPageSize {
			writeError(w, http.StatusBadRequest, "size must be 1 to 1000")
			return
		}
		size = n
	}
	start := 0
	if c := q.Get("cursor"); c != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(c, "c-"))
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "bad cursor")
			return
		}
		start = n
	}
	page := digirm.Page[T]{Size: size, List: []T{}}
	for i := start; i < len(rows) && len(page.List) < size; i++ {
		page.List = append(page.List, item(rows[i]))
	}
	page.Count = len(page.List)
	if start+len(page.List) < len(rows) {
		page.Cursor = "c-" + strconv.Itoa(start+len(page.List))
	}
	writeJSON(w, http.StatusOK, page)
}

// transactionFields are the fields the mock's transactions/inventory filters (query) and sorts (orderby) by.
var transactionFields = map[string]func(*digirm.Transaction) string{
	"transaction": func(t *digirm.Transaction) string { return string(t.Transaction) },
	"action":      func(t *digirm.Transaction) string { return t.Action },
	"status":      func(t *digirm.Transaction) string { return t.Status },
	"eid":         func(t *digirm.Transaction) string { return t.EID },
	"device_id":   func(t *digirm.Transaction) string { return t.DeviceID },
	"iccid":       func(t *digirm.Transaction) string { return t.ICCID },
	"created":     func(t *digirm.Transaction) string { return t.Created },
	"updated":     func(t *digirm.Transaction) string { return t.Updated },
}

// transactions lists the transactions (GET /transactions/inventory). Listing is a progress call: the mock
// settles what is due first, as it does for GET /progress/{tx}. query is one field="value" condition,
// orderby "[asc |desc ]field" (default: creation order).
func (s *Server) transactions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var match func(*digirm.Transaction) bool
	if query := q.Get("query"); query != "" {
		k, v, ok := strings.Cut(query, "=")
		v = strings.TrimSpace(v)
		get := transactionFields[strings.TrimSpace(k)]
		if !ok || get == nil || len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("unsupported query %q (the mock knows field=\"value\" on %s)", query, strings.Join(slices.Sorted(maps.Keys(transactionFields)), ", ")))
			return
		}
		want := v[1 : len(v)-1]
		match = func(t *digirm.Transaction) bool { return strings.EqualFold(get(t), want) }
	}
	order, desc := transactionFields["transaction"], false // the ids count up: creation order
	if ob := strings.TrimSpace(q.Get("orderby")); ob != "" {
		dir, field, ok := strings.Cut(ob, " ")
		if !ok {
			dir, field = "asc", ob
		}
		order = transactionFields[strings.TrimSpace(field)]
		if order == nil || (dir != "asc" && dir != "desc") {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("unsupported orderby %q (want [asc |desc ]field)", ob))
			return
		}
		desc = dir == "desc"
	}
	now := time.Now()
	s.mu.Lock()
	s.stats.Polls++
	var rows []digirm.Transaction
	for _, tx := range s.txs {
		if tx.Status == digirm.StatusInProgress && !now.Before(tx.due) {
			s.executeLocked(tx)
		}
		if match == nil || match(&tx.Transaction) {
			rows = append(rows, tx.Transaction)
		}
	}
	s.mu.Unlock()
	slices.SortStableFunc(rows, func(a, b digirm.Transaction) int {
		c := strings.Compare(order(&a), order(&b))
		if c == 0 {
			c = strings.Compare(string(a.Transaction), string(b.Transaction))
		}
		if desc {
			return -c
		}
		return c
	})
	writePage(w, r, rows, func(t digirm.Transaction) digirm.Transaction { return t })
}

func (s *Server) inventoryOne(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	rows, _ := s.rowsLocked(`iccid="` + r.PathValue("iccid") + `"`)
	s.mu.Unlock()
	if len(rows) == 0 {
		writeError(w, http.StatusNotFound, "no such profile")
		return
	}
	writeJSON(w, http.StatusOK, rows[0].profile())
}

// bulk is the CSV export: at most the bulk limit of records, with the Truncated header when cut.
func (s *Server) bulk(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	rows, err := s.rowsLocked(r.URL.Query().Get("query"))
	s.mu.Unlock()
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	fields := []string{"carrier", "customer_id", "device_id", "eid", "iccid", "id", "normalized_carrier", "status", "type"}
	if f := r.URL.Query().Get("fields"); f != "" {
		fields = strings.Split(f, ",")
	}
	if len(rows) > s.cfg.bulkLimit {
		rows = rows[:s.cfg.bulkLimit]
		w.Header().Set("Truncated", "true")
	}
	w.Header().Set("Content-Type", "text/csv")
	cw := csv.NewWriter(w)
	_ = cw.Write(fields)
	for _, row := range rows {
		p := row.profile()
		rec := make([]string, len(fields))
		for i, f := range fields {
			switch f {
			case "carrier":
				rec[i] = p.Carrier
			case "customer_id":
				rec[i] = string(p.CustomerID)
			case "device_id":
				rec[i] = p.DeviceID
			case "eid":
				rec[i] = p.EID
			case "iccid":
				rec[i] = p.ICCID
			case "id":
				rec[i] = string(p.ID)
			case "normalized_carrier":
				rec[i] = p.NormalizedCarrier
			case "status":
				rec[i] = p.Status
			case "type":
				rec[i] = p.Type
			}
		}
		_ = cw.Write(rec)
	}
	cw.Flush()
}

func (s *Server) startOperation(w http.ResponseWriter, r *http.Request) {
	var req digirm.ActivateRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil || req.Operation != "activate" || req.Carrier == "" {
		writeError(w, http.StatusBadRequest, "the mock runs operation activate with a carrier")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, msg := s.findDeviceLocked(actionBody{DeviceID: req.DeviceID, EID: req.EID})
	if d == nil {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	op := &multistep{MultistepOperation: digirm.MultistepOperation{ID: digirm.Text(s.newIDLocked("op-")), Operation: req.Operation,
		Status: "starting", Carrier: req.Carrier, DeviceID: d.id, EID: d.eid, Cause: "request", Source: "api"}, start: time.Now()}
	s.ops[string(op.ID)] = op
	s.stats.Actions++
	writeJSON(w, http.StatusOK, op.MultistepOperation)
}

func (s *Server) operation(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Polls++
	op, ok := s.ops[r.PathValue("id")]
	if !ok {
		writeError(w, http.StatusNotFound, "no such operation")
		return
	}
	if !op.Done() {
		activateSteps := []string{"starting", "download", "download_verify", "enable", "enable_verify"}
		step := int(time.Since(op.start) / max(s.cfg.actionDuration/4, time.Millisecond))
		if step < len(activateSteps) {
			op.Status = activateSteps[step]
		} else {
			s.finishActivateLocked(op)
		}
	}
	writeJSON(w, http.StatusOK, op.MultistepOperation)
}

// finishActivateLocked downloads and enables a registered profile of the operation's carrier.
func (s *Server) finishActivateLocked(op *multistep) {
	d := s.byEID[strings.ToUpper(op.EID)]
	var iccid string
	for _, cand := range slices.Sorted(maps.Keys(s.registered)) {
		if s.registered[cand] == op.Carrier {
			iccid = cand
			break
		}
	}
	if iccid == "" {
		op.Status, op.MessageCode, op.Message = "failed", "no_activation_code", "no activation code for carrier "+op.Carrier
		return
	}
	delete(s.registered, iccid)
	for _, o := range d.profiles {
		o.status = StatusInactive
	}
	d.profiles[iccid] = &profile{iccid: iccid, status: StatusActive, carrier: op.Carrier, typ: "operational"}
	op.ICCID, op.Status = iccid, "successful"
	op.DownloadTx, op.EnableTx = digirm.Text(s.newIDLocked("tx-")), digirm.Text(s.newIDLocked("tx-"))
}

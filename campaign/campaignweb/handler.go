package campaignweb

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"riverqueue.com/riverui"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/campaign"
)

// Campaigns is what the view reads and, WithControls, changes. *campaign.Manager implements it.
type Campaigns interface {
	List(ctx context.Context) ([]campaign.Campaign, error)
	Progress(ctx context.Context, key string) (campaign.Progress, error)
	Items(ctx context.Context, key string, q campaign.ItemQuery) ([]campaign.ExportRow, bool, error)
	Export(ctx context.Context, key string, w io.Writer, format campaign.ExportFormat) error
	Pause(ctx context.Context, key string) error
	Resume(ctx context.Context, key string) error
	Cancel(ctx context.Context, key string) error
	RetryFailed(ctx context.Context, key string) (int64, error)
}

var _ Campaigns = (*campaign.Manager)(nil)

// Option configures New.
type Option func(*config)

type config struct {
	prefix   string
	controls bool
	river    *river.Client[pgx.Tx]
	logger   *slog.Logger
	refresh  time.Duration
	pageSize int
	listSize int
}

// WithControls adds pause, resume, cancel and retry-failed buttons to each campaign's page. Without it the
// view is read-only (and answers any POST with 405).
func WithControls() Option { return func(c *config) { c.controls = true } }

// WithPrefix sets the path the handler is mounted at, e.g. "/ops" for pages at /ops/ and River's UI at
// /ops/riverui/ (default: the root). Mount the handler at that path without stripping it:
// mux.Handle("/ops/", h).
func WithPrefix(p string) Option { return func(c *config) { c.prefix = p } }

// WithRiverUI mounts River's own UI (riverqueue.com/riverui, the assets it embeds) at <prefix>/riverui/,
// on client (Manager.River() will do: the UI only reads through it here). Its background services run
// until the context given to New ends.
func WithRiverUI(client *river.Client[pgx.Tx]) Option { return func(c *config) { c.river = client } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithRefresh sets how often the pages reload themselves (a meta refresh; default 10 s, 0: never).
func WithRefresh(d time.Duration) Option { return func(c *config) { c.refresh = d } }

// WithPageSize sets how many EIDs a campaign's page shows at a time (default 100, at most
// campaign.MaxItemLimit); ?limit= may ask for up to campaign.MaxItemLimit.
func WithPageSize(n int) Option { return func(c *config) { c.pageSize = n } }

// WithListSize sets how many campaigns the list shows a page (default 25).
func WithListSize(n int) Option { return func(c *config) { c.listSize = n } }

// Handler serves the campaign pages (and River's UI WithRiverUI). It is safe for concurrent use.
type Handler struct {
	cs      Campaigns
	cfg     config
	mux     *http.ServeMux
	riverUI http.Handler
	csrf    *http.CrossOriginProtection
	pages   *template.Template
}

//go:embed templates/*.html
var templateFS embed.FS

var prefixRule = regexp.MustCompile(`^(/[A-Za-z0-9._~-]+)*$`)

// New returns the view of cs. ctx bounds River UI's background services (WithRiverUI); it is not kept
// for requests, which carry their own.
func New(ctx context.Context, cs Campaigns, opts ...Option) (*Handler, error) {
	if cs == nil {
		return nil, errors.New("campaignweb: no Campaigns given")
	}
	cfg := config{logger: slog.Default(), refresh: 10 * time.Second, pageSize: campaign.DefaultItemLimit, listSize: 25}
	for _, o := range opts {
		o(&cfg)
	}
	cfg.prefix = strings.TrimSuffix(cfg.prefix, "/")
	if !prefixRule.MatchString(cfg.prefix) {
		return nil, &esimgw.ValidationError{Field: "Prefix", Value: cfg.prefix, Rule: `must be a path such as "/ops" (letters, digits and . _ ~ - between slashes)`}
	}
	if cfg.pageSize < 1 || cfg.pageSize > campaign.MaxItemLimit {
		return nil, &esimgw.ValidationError{Field: "PageSize", Value: strconv.Itoa(cfg.pageSize), Rule: fmt.Sprintf("must be 1 to %d", campaign.MaxItemLimit)}
	}
	if cfg.listSize < 1 {
		return nil, &esimgw.ValidationError{Field: "ListSize", Value: strconv.Itoa(cfg.listSize), Rule: "must be at least 1"}
	}
	if cfg.refresh < 0 {
		return nil, &esimgw.ValidationError{Field: "Refresh", Value: cfg.refresh.String(), Rule: "must not be negative"}
	}
	pages, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("campaignweb: templates: %w", err)
	}
	h := &Handler{cs: cs, cfg: cfg, mux: http.NewServeMux(), csrf: http.NewCrossOriginProtection(), pages: pages}
	if cfg.river != nil {
		ui, err := riverui.NewHandler(&riverui.HandlerOpts{Endpoints: riverui.NewEndpoints(cfg.river, nil), Logger: cfg.logger,
			Prefix: cfg.prefix + "/riverui"})
		if err != nil {
			return nil, fmt.Errorf("campaignweb: River UI: %w", err)
		}
		if err := ui.Start(ctx); err != nil {
			return nil, fmt.Errorf("campaignweb: River UI: %w", err)
		}
		h.riverUI = readOnly(ui)
	}
	p := cfg.prefix
	h.mux.HandleFunc("GET "+p+"/{$}", h.list)
	h.mux.HandleFunc("GET "+p+"/campaigns/{key}", h.detail)
	h.mux.HandleFunc("GET "+p+"/campaigns/{key}/export", h.export)
	if cfg.controls {
		h.mux.Handle("POST "+p+"/campaigns/{key}/{action}", h.csrf.Handler(http.HandlerFunc(h.control)))
	}
	h.mux.HandleFunc("GET "+p+"/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, &Error{Status: http.StatusNotFound, Message: "no such page: " + r.URL.Path})
	})
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, h.cfg.prefix+"/") && r.URL.Path != h.cfg.prefix {
		h.fail(w, r, &Error{Status: http.StatusNotFound, Message: "no such page: " + r.URL.Path})
		return
	}
	if r.URL.Path == h.cfg.prefix {
		http.Redirect(w, r, h.cfg.prefix+"/", http.StatusMovedPermanently)
		return
	}
	if rest, ok := strings.CutPrefix(r.URL.Path, h.cfg.prefix+"/riverui"); ok && h.riverUI != nil && (rest == "" || rest[0] == '/') {
		h.riverUI.ServeHTTP(w, r) // it strips its prefix itself
		return
	}
	h.mux.ServeHTTP(w, r)
}

// readOnly lets only GET and HEAD through to River's UI: its API also cancels, deletes and retries jobs
// and pauses queues, which would go around the campaigns' own record of their EIDs.
func readOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "River's UI is read-only here: control campaigns from their own page", http.StatusMethodNotAllowed)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Error is a request the view refused or could not serve: the page it answers with, and its status.
type Error struct {
	Status  int    // HTTP status: 400 bad parameter, 404 no such campaign or page, 409 not possible now, 500
	Message string // for the operator
	Err     error  // the cause, when there is one
}

func (e *Error) Error() string {
	if e.Err != nil {
		return "campaignweb: " + e.Message + ": " + e.Err.Error()
	}
	return "campaignweb: " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// classify turns an error of Campaigns into the view's Error.
func classify(err error, what string) *Error {
	var e *Error
	var ve *esimgw.ValidationError
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, campaign.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Message: "no such campaign: " + what, Err: err}
	case errors.Is(err, campaign.ErrCancelled):
		return &Error{Status: http.StatusConflict, Message: "the campaign " + what + " is cancelled", Err: err}
	case errors.As(err, &ve):
		return &Error{Status: http.StatusBadRequest, Message: ve.Error(), Err: err}
	case errors.Is(err, context.Canceled):
		return &Error{Status: 499, Message: "request cancelled", Err: err}
	}
	return &Error{Status: http.StatusInternalServerError, Message: "the campaigns' database could not be read", Err: err}
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, e *Error) {
	level := slog.LevelDebug
	if e.Status >= 500 {
		level = slog.LevelError
	}
	h.cfg.logger.LogAttrs(r.Context(), level, "campaignweb: refused a request", slog.String("method", r.Method),
		slog.String("path", r.URL.Path), slog.Int("status", e.Status), slog.String("error", e.Error()))
	if e.Status == 499 {
		return // nobody is listening
	}
	msg := e.Message
	if e.Status >= 500 {
		msg += " (see the server's log)"
	}
	h.render(w, e.Status, "error", errorPage{page: h.page("Error"), Status: e.Status, StatusText: http.StatusText(e.Status), Message: msg})
}

// page is what every page has.
type page struct {
	Title    string
	Prefix   string
	RiverUI  bool
	Controls bool
	Refresh  int // seconds; 0: none
	Now      time.Time
}

func (h *Handler) page(title string) page {
	return page{Title: title, Prefix: h.cfg.prefix, RiverUI: h.riverUI != nil, Controls: h.cfg.controls,
		Refresh: int(h.cfg.refresh.Round(time.Second) / time.Second), Now: time.Now().UTC()}
}

type errorPage struct {
	page
	Status     int
	StatusText string
	Message    string
}

func (h *Handler) render(w http.ResponseWriter, status int, name string, data any) {
	var buf strings.Builder
	if err := h.pages.ExecuteTemplate(&buf, name, data); err != nil {
		h.cfg.logger.LogAttrs(context.Background(), slog.LevelError, "campaignweb: rendering a page", slog.String("page", name), slog.Any("error", err))
		http.Error(w, "campaignweb: the page could not be rendered", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	// No script at all; inline styles only (the bars' widths); forms post only here; never framed.
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, buf.String())
}

// segment is one part of a progress bar.
type segment struct {
	Class string
	Label string
	Count int64
	Pct   float64
}

// bar splits a campaign's EIDs into the bar's parts, in a fixed order, leaving out empty ones.
func bar(p campaign.Progress) []segment {
	parts := []segment{
		{"ok", "succeeded", p.Succeeded, 0},
		{"warn", "warnings", p.Warnings, 0},
		{"fail", "failed", p.Failed, 0},
		{"flight", "in flight", p.InFlight, 0},
		{"pending", "pending", p.Pending, 0},
		{"cancel", "cancelled", p.Cancelled, 0},
	}
	out := parts[:0]
	for _, s := range parts {
		if s.Count > 0 && p.Total > 0 {
			s.Pct = 100 * float64(s.Count) / float64(p.Total)
			out = append(out, s)
		}
	}
	return out
}

// row is a campaign as the pages show it.
type row struct {
	P    campaign.Progress
	Bar  []segment
	Done float64 // percent of EIDs with an outcome or cancelled
}

func newRow(p campaign.Progress) row {
	r := row{P: p, Bar: bar(p)}
	if p.Total > 0 {
		r.Done = 100 * float64(p.Done()+p.Cancelled) / float64(p.Total)
	}
	return r
}

type listPage struct {
	page
	Rows      []row
	PageNo    int
	Pages     int
	Campaigns int
	PrevPage  int
	NextPage  int
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if e := onlyParams(q, "page"); e != nil {
		h.fail(w, r, e)
		return
	}
	no := 1
	if s := q.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			h.fail(w, r, &Error{Status: http.StatusBadRequest, Message: fmt.Sprintf("page %q: want a number from 1", s)})
			return
		}
		no = n
	}
	cs, err := h.cs.List(r.Context())
	if err != nil {
		h.fail(w, r, classify(err, ""))
		return
	}
	pages := max(1, (len(cs)+h.cfg.listSize-1)/h.cfg.listSize)
	if no > pages {
		h.fail(w, r, &Error{Status: http.StatusNotFound, Message: fmt.Sprintf("page %d: there are %d", no, pages)})
		return
	}
	from := (no - 1) * h.cfg.listSize
	lp := listPage{page: h.page("Campaigns"), PageNo: no, Pages: pages, Campaigns: len(cs)}
	if no > 1 {
		lp.PrevPage = no - 1
	}
	if no < pages {
		lp.NextPage = no + 1
	}
	for _, c := range cs[from:min(from+h.cfg.listSize, len(cs))] {
		p, err := h.cs.Progress(r.Context(), c.Key)
		if errors.Is(err, campaign.ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			h.fail(w, r, classify(err, c.Key))
			return
		}
		lp.Rows = append(lp.Rows, newRow(p))
	}
	h.render(w, http.StatusOK, "list", lp)
}

// outcomeRow is a line of a campaign's outcome table.
type outcomeRow struct {
	campaign.OutcomeCount
	Subject, Reason, Meaning string
	Failure                  bool
	Selected                 bool
}

type detailPage struct {
	page
	row
	Outcomes []outcomeRow
	// The EIDs listed: the failed ones, or those of one outcome (Status, StatusCode).
	Filter      string // in words
	Status      string
	StatusCode  string
	ByOutcome   bool
	Items       []itemRow
	After       string
	Limit       int
	Next        string // the After of the next page, "" when none
	ResultShown string // e.g. "RetryFailed queued 12 EIDs"
}

type itemRow struct {
	campaign.ExportRow
	Meaning string
}

var (
	statusRule = regexp.MustCompile(`^[A-Za-z_]{1,40}$`)
)

// onlyParams refuses a query with parameters the page does not take, or with one given twice.
func onlyParams(q url.Values, allowed ...string) *Error {
	for k, v := range q {
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		if !ok {
			return &Error{Status: http.StatusBadRequest, Message: fmt.Sprintf("unknown parameter %q (this page takes %s)", k, strings.Join(allowed, ", "))}
		}
		if len(v) > 1 {
			return &Error{Status: http.StatusBadRequest, Message: fmt.Sprintf("parameter %q given %d times", k, len(v))}
		}
	}
	return nil
}

// itemQuery reads a campaign page's parameters: after (an EID), limit, and status with code to list
// one outcome's EIDs instead of the failed ones.
func (h *Handler) itemQuery(q url.Values) (campaign.ItemQuery, *Error) {
	if e := onlyParams(q, "after", "limit", "status", "code", "done"); e != nil {
		return campaign.ItemQuery{}, e
	}
	iq := campaign.ItemQuery{Failed: true, Limit: h.cfg.pageSize}
	if s := q.Get("after"); s != "" {
		if err := esimgw.ValidateEID(s); err != nil {
			return iq, &Error{Status: http.StatusBadRequest, Message: fmt.Sprintf("after %q: want the EID (32 digits) a page ends with", clip(s)), Err: err}
		}
		iq.After = s
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > campaign.MaxItemLimit {
			return iq, &Error{Status: http.StatusBadRequest, Message: fmt.Sprintf("limit %q: want a number from 1 to %d", clip(s), campaign.MaxItemLimit)}
		}
		iq.Limit = n
	}
	if _, ok := q["status"]; ok {
		s := q.Get("status")
		if !statusRule.MatchString(s) {
			return iq, &Error{Status: http.StatusBadRequest, Message: fmt.Sprintf("status %q: want an outcome status such as FAILED", clip(s))}
		}
		code := q.Get("code")
		if len(code) > 100 || !utf8.ValidString(code) || strings.ContainsFunc(code, unicode.IsControl) {
			return iq, &Error{Status: http.StatusBadRequest, Message: fmt.Sprintf("code %q: want a Subject,Reason code such as 8.1.1,3.9", clip(code))}
		}
		iq.Failed, iq.Status, iq.StatusCode = false, esimgw.Status(s), code
	} else if _, ok := q["code"]; ok {
		return iq, &Error{Status: http.StatusBadRequest, Message: "code needs status"}
	}
	return iq, nil
}

func clip(s string) string {
	if len(s) > 64 {
		return strings.ToValidUTF8(s[:64], "") + "..."
	}
	return s
}

func splitCode(code string) (subject, reason string) {
	subject, reason, _ = strings.Cut(code, ",")
	return strings.TrimSpace(subject), strings.TrimSpace(reason)
}

func (h *Handler) detail(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	iq, e := h.itemQuery(r.URL.Query())
	if e != nil {
		h.fail(w, r, e)
		return
	}
	p, err := h.cs.Progress(r.Context(), key)
	if err != nil {
		h.fail(w, r, classify(err, key))
		return
	}
	items, more, err := h.cs.Items(r.Context(), key, iq)
	if err != nil {
		h.fail(w, r, classify(err, key))
		return
	}
	dp := detailPage{page: h.page("Campaign " + key), row: newRow(p), After: iq.After, Limit: iq.Limit,
		Status: string(iq.Status), StatusCode: iq.StatusCode, ByOutcome: iq.Status != ""}
	switch d := r.URL.Query().Get("done"); d {
	case "":
	case "pause", "resume", "cancel":
		dp.ResultShown = "Done: " + d + "."
	default:
		if n, ok := strings.CutPrefix(d, "retry-failed:"); ok {
			if _, err := strconv.ParseInt(n, 10, 64); err == nil {
				dp.ResultShown = "Done: " + n + " EIDs queued again (a new round)."
			}
		}
	}
	if dp.ByOutcome {
		dp.Filter = "EIDs with outcome " + dp.Status
		if dp.StatusCode != "" {
			dp.Filter += " " + dp.StatusCode
		}
	} else {
		dp.Filter = "Failed EIDs"
	}
	for _, o := range p.ByOutcome {
		s, rs := splitCode(o.StatusCode)
		st := o.Status.Canonical()
		dp.Outcomes = append(dp.Outcomes, outcomeRow{OutcomeCount: o, Subject: s, Reason: rs, Meaning: esimgw.DescribeCode(s, rs),
			Failure:  st != esimgw.StatusExecutedSuccess && st != esimgw.StatusExecutedWithWarning,
			Selected: dp.ByOutcome && o.Status == iq.Status && o.StatusCode == iq.StatusCode})
	}
	for _, it := range items {
		s, rs := splitCode(it.StatusCode)
		dp.Items = append(dp.Items, itemRow{ExportRow: it, Meaning: esimgw.DescribeCode(s, rs)})
	}
	if more && len(items) > 0 {
		dp.Next = items[len(items)-1].EID
	}
	h.render(w, http.StatusOK, "detail", dp)
}

func (h *Handler) export(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	q := r.URL.Query()
	if e := onlyParams(q, "format"); e != nil {
		h.fail(w, r, e)
		return
	}
	format, ctype, ext := campaign.ExportCSV, "text/csv; charset=utf-8", "csv"
	switch q.Get("format") {
	case "", "csv":
	case "jsonl":
		format, ctype, ext = campaign.ExportJSONLines, "application/jsonl; charset=utf-8", "jsonl"
	default:
		h.fail(w, r, &Error{Status: http.StatusBadRequest, Message: fmt.Sprintf("format %q: want csv or jsonl", clip(q.Get("format")))})
		return
	}
	// The export is streamed: a campaign not found must be told before the first byte.
	if _, err := h.cs.Progress(r.Context(), key); err != nil {
		h.fail(w, r, classify(err, key))
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.%s"`, key, ext))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if err := h.cs.Export(r.Context(), key, w, format); err != nil {
		// Too late for a status: the rows sent so far stand, and the log says why the rest is missing.
		h.cfg.logger.LogAttrs(r.Context(), slog.LevelError, "campaignweb: export interrupted", slog.String("campaign", key), slog.Any("error", err))
	}
}

// control runs a button's action (WithControls; CrossOriginProtection ran first) and sends the browser
// back to the campaign's page.
func (h *Handler) control(w http.ResponseWriter, r *http.Request) {
	key, action := r.PathValue("key"), r.PathValue("action")
	var err error
	done := action
	switch action {
	case "pause":
		err = h.cs.Pause(r.Context(), key)
	case "resume":
		err = h.cs.Resume(r.Context(), key)
	case "cancel":
		err = h.cs.Cancel(r.Context(), key)
	case "retry-failed":
		var n int64
		n, err = h.cs.RetryFailed(r.Context(), key)
		done += ":" + strconv.FormatInt(n, 10)
	default:
		h.fail(w, r, &Error{Status: http.StatusNotFound, Message: fmt.Sprintf("no action %q (pause, resume, cancel, retry-failed)", clip(action))})
		return
	}
	if err != nil {
		h.fail(w, r, classify(err, key))
		return
	}
	h.cfg.logger.LogAttrs(r.Context(), slog.LevelInfo, "campaignweb: "+action, slog.String("campaign", key), slog.String("remote", r.RemoteAddr))
	http.Redirect(w, r, h.cfg.prefix+"/campaigns/"+url.PathEscape(key)+"?done="+url.QueryEscape(done), http.StatusSeeOther)
}

var funcs = template.FuncMap{
	"pct": func(f float64) string { return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64) },
	"width": func(f float64) string {
		return strconv.FormatFloat(f, 'f', 3, 64) // CSS width: exact, so the parts add up to the bar
	},
	"rate": func(f float64) string {
		if f == 0 {
			return "0"
		}
		if f < 10 {
			return strconv.FormatFloat(f, 'f', 2, 64)
		}
		return strconv.FormatFloat(f, 'f', 0, 64)
	},
	"dur": func(d time.Duration) string {
		if d <= 0 {
			return "-"
		}
		if d < time.Minute {
			return d.Round(time.Second).String()
		}
		return d.Round(time.Minute).String()
	},
	"stamp": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05")
	},
	"path": url.PathEscape,
	// href is base with the non-empty of the key-value pairs as its query: a URL html/template keeps as
	// it is (its parts are escaped here).
	"href": func(base string, kv ...string) template.URL {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] != "" {
				v.Set(kv[i], kv[i+1])
			}
		}
		if len(v) == 0 {
			return template.URL(base)
		}
		return template.URL(base + "?" + v.Encode())
	},
	"dash": func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	},
}

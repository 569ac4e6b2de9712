package campaign

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/esimgw/esimgw"
)

// DefaultQueue is the River queue campaign jobs go to unless Spec.Queue says otherwise.
const DefaultQueue = "esimgw_campaign"

// DefaultResultTimeout is how long an EID waits for its asynchronous result after the gateway accepted
// the request, unless Spec.ResultTimeout says otherwise: KPN's longest ValidityPeriod (SetFallBackAttribute,
// 720 s) plus room for the callback's delivery and retries.
const DefaultResultTimeout = 15 * time.Minute

// Spec describes a campaign: a named run of one function over a list of EIDs.
type Spec struct {
	// Key names the campaign, unique in the database: 1 to 40 of a-z 0-9 . _ -, starting with a letter
	// or digit. It is part of every FunctionCallIdentifier (cmp-<key>-<round>-<EID>).
	Key string
	// Function is one of Functions(), e.g. "ES4.SetFallBackAttribute" (any case).
	Function string
	// Arg is the argument for EIDs whose input line has none (an ICCID, an OID), per ArgKind.
	Arg string
	// Rate limits the calls toward the gateway to Rate a second, across every worker process together,
	// with bursts of Burst (at least 1). Zero: no rate limit.
	Rate  float64
	Burst int
	// MaxInFlight bounds the EIDs whose request was sent and whose result has not arrived, across every
	// worker. Zero: no bound.
	MaxInFlight int
	// LimitName shares the rate and in-flight limit between campaigns (a gateway's limit is per gateway,
	// not per campaign); the last campaign created with a name sets its values. Default: the campaign key.
	LimitName string
	// ResultTimeout is how long an accepted request waits for its callback before the EID is recorded
	// NO_RESULT (default DefaultResultTimeout).
	ResultTimeout time.Duration
	// Queue is the River queue of the campaign's jobs (default DefaultQueue); workers must serve it.
	Queue string
	// MaxAttempts bounds how often a job is tried when sending fails (default River's, 25); every attempt
	// reuses the EID's FunctionCallIdentifier.
	MaxAttempts int
}

var keyRule = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,39}$`)

func (s *Spec) normalize() (function, error) {
	if !keyRule.MatchString(s.Key) {
		return function{}, &esimgw.ValidationError{Field: "Key", Value: s.Key, Rule: "must be 1 to 40 of a-z 0-9 . _ - starting with a letter or digit"}
	}
	f, err := lookupFunction(s.Function)
	if err != nil {
		return function{}, err
	}
	s.Function = f.name
	if s.Arg != "" {
		if err := f.checkArg(s.Arg); err != nil {
			return function{}, &esimgw.ValidationError{Field: "Arg", Value: s.Arg, Rule: err.Error()}
		}
	}
	if s.Rate < 0 || s.Burst < 0 || s.MaxInFlight < 0 || s.ResultTimeout < 0 || s.MaxAttempts < 0 {
		return function{}, &esimgw.ValidationError{Field: "Spec", Rule: "Rate, Burst, MaxInFlight, ResultTimeout and MaxAttempts must not be negative"}
	}
	s.Burst = max(s.Burst, 1)
	if s.LimitName == "" {
		s.LimitName = s.Key
	}
	if s.ResultTimeout == 0 {
		s.ResultTimeout = DefaultResultTimeout
	}
	if s.Queue == "" {
		s.Queue = DefaultQueue
	}
	return f, nil
}

// FunctionCallIdentifier is the identifier an EID's request carries in a round of a campaign: fixed when
// the job is created, reused on every retry, so a gateway that de-duplicates runs the function once.
func FunctionCallIdentifier(key string, round int, eid string) string {
	return "cmp-" + key + "-" + strconv.Itoa(round) + "-" + eid
}

// parseFunctionCallIdentifier splits an identifier made by FunctionCallIdentifier.
func parseFunctionCallIdentifier(fci string) (key string, round int, eid string, ok bool) {
	rest, found := strings.CutPrefix(fci, "cmp-")
	if !found || len(rest) < 32+3 {
		return "", 0, "", false
	}
	eid, rest = rest[len(rest)-32:], rest[:len(rest)-32]
	rest, found = strings.CutSuffix(rest, "-")
	if !found {
		return "", 0, "", false
	}
	i := strings.LastIndexByte(rest, '-')
	if i <= 0 {
		return "", 0, "", false
	}
	round, err := strconv.Atoi(rest[i+1:])
	if err != nil || round < 1 {
		return "", 0, "", false
	}
	return rest[:i], round, eid, true
}

// Errors of the Manager, for errors.Is.
var (
	// ErrNotFound: no campaign with that key.
	ErrNotFound = errors.New("campaign: no such campaign")
	// ErrCancelled: the campaign was cancelled; it takes no more EIDs and cannot be resumed.
	ErrCancelled = errors.New("campaign: cancelled")
)

// SpecMismatchError: Create was given the key of an existing campaign with another function or queue.
type SpecMismatchError struct {
	Key, Field, Existing, Given string
}

func (e *SpecMismatchError) Error() string {
	return fmt.Sprintf("campaign: %s exists with %s %q, not %q", e.Key, e.Field, e.Existing, e.Given)
}

// InputError is Create's refusal of a whole source (RefuseBadInput) with bad lines: nothing was created.
type InputError struct {
	BadLines int64        // how many
	Lines    []*LineError // the first ones (WithReportLimit)
}

func (e *InputError) Error() string {
	s := fmt.Sprintf("campaign: input refused: %d bad lines", e.BadLines)
	if len(e.Lines) > 0 {
		s += "; first: " + e.Lines[0].Error()
	}
	return s
}

// Manager creates, controls and reports on campaigns. It only writes to the database; Workers run them.
// It is safe for concurrent use.
type Manager struct {
	pool   *pgxpool.Pool
	river  *river.Client[pgx.Tx] // insert-only
	logger *slog.Logger
}

// ManagerOption configures a Manager.
type ManagerOption func(*Manager)

// WithManagerLogger sets the logger (default slog.Default()).
func WithManagerLogger(l *slog.Logger) ManagerOption { return func(m *Manager) { m.logger = l } }

// NewManager returns a Manager on pool; Migrate must have run.
func NewManager(pool *pgxpool.Pool, opts ...ManagerOption) (*Manager, error) {
	m := &Manager{pool: pool, logger: slog.Default()}
	for _, o := range opts {
		o(m)
	}
	rc, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Logger: m.logger})
	if err != nil {
		return nil, fmt.Errorf("campaign: %w", err)
	}
	m.river = rc
	return m, nil
}

// River is the Manager's River client, insert-only (it works no jobs): for what River offers beyond
// campaigns, such as its UI (riverqueue.com/riverui; package campaignweb mounts it).
func (m *Manager) River() *river.Client[pgx.Tx] { return m.river }

// CreateOption configures Create.
type CreateOption func(*createConfig)

type createConfig struct {
	refuse      bool
	batch       int
	reportLimit int
	onBadLine   func(*LineError)
}

// RefuseBadInput makes Create refuse the whole source when any line is bad (an *InputError, nothing
// created), instead of reporting the bad lines and queueing the rest.
func RefuseBadInput() CreateOption { return func(c *createConfig) { c.refuse = true } }

// WithBatchSize sets how many EIDs go into the database per statement (default 5000).
func WithBatchSize(n int) CreateOption { return func(c *createConfig) { c.batch = max(n, 1) } }

// WithReportLimit sets how many bad lines Report.BadLines (or InputError.Lines) keeps (default 1000);
// all of them are counted, and OnBadLine sees every one.
func WithReportLimit(n int) CreateOption { return func(c *createConfig) { c.reportLimit = max(n, 0) } }

// OnBadLine is called for every bad line as it is read, e.g. to write a reject file.
func OnBadLine(f func(*LineError)) CreateOption { return func(c *createConfig) { c.onBadLine = f } }

// Report is what Create did.
type Report struct {
	Campaign   Campaign
	Queued     int64        // EIDs added to the campaign, each one job
	Duplicates int64        // EIDs already in the campaign (an earlier line, or an earlier Create)
	BadCount   int64        // bad lines, not queued
	BadLines   []*LineError // the first of them (WithReportLimit)
	Elapsed    time.Duration
}

// Rate is the insert rate of the Create, in EIDs a second.
func (r *Report) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Queued) / r.Elapsed.Seconds()
}

// Create adds a campaign and queues one job per EID of src, in ONE transaction: either every good EID is
// queued or, on any error (the source failing, the database, RefuseBadInput with a bad line, ctx), nothing
// is. Calling it again with the same key adds the EIDs not yet in the campaign and skips the others
// (Report.Duplicates), so re-running a Create that failed or was interrupted never queues an EID twice.
//
// src is streamed in batches (WithBatchSize): memory stays flat however large the file.
func (m *Manager) Create(ctx context.Context, spec Spec, src Source, opts ...CreateOption) (*Report, error) {
	start := time.Now()
	cfg := createConfig{batch: 5000, reportLimit: 1000}
	for _, o := range opts {
		o(&cfg)
	}
	fn, err := spec.normalize()
	if err != nil {
		return nil, err
	}
	tx, err := m.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("campaign: create %s: %w", spec.Key, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	c, err := upsertCampaign(ctx, tx, spec)
	if err != nil {
		return nil, err
	}
	rep := &Report{}
	b := newBatch(cfg.batch)
	for {
		e, ok, err := src.Next(ctx)
		var le *LineError
		if errors.As(err, &le) {
			if err := rep.bad(&cfg, le); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("campaign: create %s: %w", spec.Key, err)
		}
		if !ok {
			break
		}
		if le := checkEntry(fn, spec.Arg, &e); le != nil {
			if err := rep.bad(&cfg, le); err != nil {
				return nil, err
			}
			continue
		}
		b.add(e)
		if b.full() {
			if err := m.flush(ctx, tx, c, b, rep); err != nil {
				return nil, err
			}
		}
	}
	if cfg.refuse && rep.BadCount > 0 {
		return nil, &InputError{BadLines: rep.BadCount, Lines: rep.BadLines}
	}
	if err := m.flush(ctx, tx, c, b, rep); err != nil {
		return nil, err
	}
	if err := tx.QueryRow(ctx, `UPDATE esimgw_campaign SET total = total + $2, bad_lines = bad_lines + $3, updated_at = now()
		WHERE id = $1 RETURNING total, bad_lines`, c.ID, rep.Queued, rep.BadCount).Scan(&c.Total, &c.BadLines); err != nil {
		return nil, fmt.Errorf("campaign: create %s: %w", spec.Key, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("campaign: create %s: commit: %w", spec.Key, err)
	}
	rep.Campaign, rep.Elapsed = c, time.Since(start)
	m.logger.LogAttrs(ctx, slog.LevelInfo, "campaign: created", slog.String("campaign", spec.Key), slog.String("function", spec.Function),
		slog.Int64("queued", rep.Queued), slog.Int64("duplicates", rep.Duplicates), slog.Int64("badLines", rep.BadCount),
		slog.Duration("elapsed", rep.Elapsed))
	return rep, nil
}

func (rep *Report) bad(cfg *createConfig, le *LineError) error {
	if errors.Is(le.Err, ErrLineTooLong) {
		return le // the scanner cannot go past it
	}
	rep.BadCount++
	if len(rep.BadLines) < cfg.reportLimit {
		rep.BadLines = append(rep.BadLines, le)
	}
	if cfg.onBadLine != nil {
		cfg.onBadLine(le)
	}
	return nil
}

// checkEntry normalizes e (upper-case EID) and validates it for fn.
func checkEntry(fn function, def string, e *Entry) *LineError {
	text := e.EID
	if e.Arg != "" {
		text += " " + e.Arg
	}
	e.EID = strings.ToUpper(e.EID)
	if err := esimgw.ValidateEID(e.EID); err != nil {
		return &LineError{Line: e.Line, Text: cut(text), Err: err}
	}
	arg := e.Arg
	if arg == "" {
		arg = def
	}
	if err := fn.checkArg(arg); err != nil {
		return &LineError{Line: e.Line, Text: cut(text), Err: err}
	}
	return nil
}

func upsertCampaign(ctx context.Context, tx pgx.Tx, spec Spec) (Campaign, error) {
	// ON CONFLICT DO NOTHING waits for a concurrent Create of the same key to commit, so that the SELECT
	// below sees its row; FOR UPDATE then serializes additions to one campaign.
	if _, err := tx.Exec(ctx, `INSERT INTO esimgw_campaign (key, function, arg, limit_name, queue, result_timeout_ms, max_attempts)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key) DO NOTHING`,
		spec.Key, spec.Function, spec.Arg, spec.LimitName, spec.Queue, spec.ResultTimeout.Milliseconds(), spec.MaxAttempts); err != nil {
		return Campaign{}, fmt.Errorf("campaign: create %s: %w", spec.Key, err)
	}
	c, err := scanCampaign(tx.QueryRow(ctx, `SELECT `+campaignColumns+` FROM esimgw_campaign WHERE key = $1 FOR UPDATE`, spec.Key))
	if err != nil {
		return Campaign{}, fmt.Errorf("campaign: create %s: %w", spec.Key, err)
	}
	switch {
	case c.Function != spec.Function:
		return Campaign{}, &SpecMismatchError{Key: spec.Key, Field: "function", Existing: c.Function, Given: spec.Function}
	case c.Queue != spec.Queue:
		return Campaign{}, &SpecMismatchError{Key: spec.Key, Field: "queue", Existing: c.Queue, Given: spec.Queue}
	case c.State == StateCancelled:
		return Campaign{}, fmt.Errorf("%w: %s", ErrCancelled, spec.Key)
	}
	if spec.Rate > 0 || spec.MaxInFlight > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO esimgw_campaign_limit (name, rate, burst, tokens, max_in_flight)
			VALUES ($1, $2, $3, $3, $4)
			ON CONFLICT (name) DO UPDATE SET rate = excluded.rate, burst = excluded.burst, max_in_flight = excluded.max_in_flight`,
			spec.LimitName, spec.Rate, float64(spec.Burst), spec.MaxInFlight); err != nil {
			return Campaign{}, fmt.Errorf("campaign: create %s: limit: %w", spec.Key, err)
		}
	}
	return c, nil
}

// batch is the EIDs of one insert, in column form for unnest.
type batch struct {
	eids  []string
	lines []int64
	args  []string
	size  int
}

func newBatch(n int) *batch {
	return &batch{eids: make([]string, 0, n), lines: make([]int64, 0, n), args: make([]string, 0, n), size: n}
}

func (b *batch) add(e Entry) {
	b.eids, b.lines, b.args = append(b.eids, e.EID), append(b.lines, e.Line), append(b.args, e.Arg)
}

func (b *batch) full() bool { return len(b.eids) >= b.size }

func (b *batch) reset() { b.eids, b.lines, b.args = b.eids[:0], b.lines[:0], b.args[:0] }

// flush inserts the batch's items (skipping EIDs the campaign has) and one River job per new item.
func (m *Manager) flush(ctx context.Context, tx pgx.Tx, c Campaign, b *batch, rep *Report) error {
	if len(b.eids) == 0 {
		return nil
	}
	defer b.reset()
	rows, err := tx.Query(ctx, `INSERT INTO esimgw_campaign_item (campaign_id, eid, line, arg, round)
		SELECT $1, t.eid, t.line, NULLIF(t.arg, ''), $5 FROM unnest($2::text[], $3::bigint[], $4::text[]) AS t (eid, line, arg)
		ON CONFLICT DO NOTHING RETURNING eid`, c.ID, b.eids, b.lines, b.args, c.Round)
	if err != nil {
		return fmt.Errorf("campaign: create %s: items: %w", c.Key, err)
	}
	params := make([]river.InsertManyParams, 0, len(b.eids))
	for rows.Next() {
		var eid string
		if err := rows.Scan(&eid); err != nil {
			rows.Close()
			return fmt.Errorf("campaign: create %s: items: %w", c.Key, err)
		}
		params = append(params, river.InsertManyParams{Args: jobArgs{Campaign: c.ID, EID: eid, Round: c.Round}, InsertOpts: c.insertOpts()})
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("campaign: create %s: items: %w", c.Key, err)
	}
	rep.Duplicates += int64(len(b.eids) - len(params))
	if len(params) == 0 {
		return nil
	}
	// COPY: the items' primary key already keeps every EID to one job per round, so the unique conflict
	// that would fail a COPY cannot happen; the jobs' unique key guards against it all the same.
	n, err := m.river.InsertManyFastTx(ctx, tx, params)
	if err != nil {
		return fmt.Errorf("campaign: create %s: jobs: %w", c.Key, err)
	}
	rep.Queued += int64(n)
	return nil
}

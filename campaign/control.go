package campaign

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/esimgw/esimgw"
)

// Get returns the campaign named key, or an error wrapping ErrNotFound.
func (m *Manager) Get(ctx context.Context, key string) (Campaign, error) {
	c, err := scanCampaign(m.pool.QueryRow(ctx, `SELECT `+campaignColumns+` FROM esimgw_campaign WHERE key = $1`, key))
	if errors.Is(err, pgx.ErrNoRows) {
		return Campaign{}, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	return c, err
}

// List returns every campaign, newest first.
func (m *Manager) List(ctx context.Context) ([]Campaign, error) {
	rows, err := m.pool.Query(ctx, `SELECT `+campaignColumns+` FROM esimgw_campaign ORDER BY id DESC`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Campaign, error) { return scanCampaign(r) })
}

// OutcomeCount is how many EIDs ended with one status and code.
type OutcomeCount struct {
	Status      esimgw.Status // EXECUTED_SUCCESS, FAILED, ... or a local status (NO_RESULT, ERROR, INVALID_REQUEST)
	StatusCode  string        // "Subject,Reason", e.g. "8.1.1,3.9"; "" when none
	Description string
	Count       int64
}

// Progress is a snapshot of a campaign, for a progress bar, a dashboard or a decision to RetryFailed.
type Progress struct {
	Campaign  Campaign
	Total     int64 // EIDs in the campaign
	Pending   int64 // not sent yet (or to be sent again after a failed attempt)
	InFlight  int64 // sent (or being sent), result awaited
	Succeeded int64 // EXECUTED_SUCCESS
	Warnings  int64 // EXECUTED_WITHWARNING
	Failed    int64 // every other outcome: FAILED, EXPIRED and the local ones
	Cancelled int64 // not sent because the campaign was cancelled
	// ByOutcome breaks Succeeded, Warnings and Failed down by status and code, largest first.
	ByOutcome []OutcomeCount
	// RecentRate is the EIDs completed a second over the last minute.
	RecentRate float64
	// Elapsed runs from the campaign's creation to now, or to its last outcome once nothing is left.
	Elapsed time.Duration
}

// Done is Succeeded + Warnings + Failed.
func (p Progress) Done() int64 { return p.Succeeded + p.Warnings + p.Failed }

// Finished reports whether nothing is left to do or wait for.
func (p Progress) Finished() bool { return p.Pending == 0 && p.InFlight == 0 }

// ETA estimates the time left from the recent rate; zero when nothing is left or the rate is zero.
func (p Progress) ETA() time.Duration {
	left := p.Pending + p.InFlight
	if left == 0 || p.RecentRate <= 0 {
		return 0
	}
	return time.Duration(float64(left) / p.RecentRate * float64(time.Second))
}

// Progress counts the campaign's EIDs by state and outcome.
func (m *Manager) Progress(ctx context.Context, key string) (Progress, error) {
	c, err := m.Get(ctx, key)
	if err != nil {
		return Progress{}, err
	}
	p := Progress{Campaign: c}
	rows, err := m.pool.Query(ctx, `SELECT state, coalesce(outcome, ''), coalesce(status_code, ''), coalesce(description, ''),
			count(*), count(*) FILTER (WHERE done_at > now() - interval '1 minute'), max(done_at)
		FROM esimgw_campaign_item WHERE campaign_id = $1 GROUP BY 1, 2, 3, 4 ORDER BY 5 DESC`, c.ID)
	if err != nil {
		return Progress{}, err
	}
	defer rows.Close()
	var recent int64
	var last time.Time
	for rows.Next() {
		var state, status, code, desc string
		var n, r int64
		var lastDone *time.Time
		if err := rows.Scan(&state, &status, &code, &desc, &n, &r, &lastDone); err != nil {
			return Progress{}, err
		}
		p.Total += n
		recent += r
		if lastDone != nil && lastDone.After(last) {
			last = *lastDone
		}
		switch state {
		case itemPending:
			p.Pending += n
		case itemSending, itemSent:
			p.InFlight += n
		case itemCancelled:
			p.Cancelled += n
		case itemDone:
			st := esimgw.Status(status)
			switch st.Canonical() {
			case esimgw.StatusExecutedSuccess:
				p.Succeeded += n
			case esimgw.StatusExecutedWithWarning:
				p.Warnings += n
			default:
				p.Failed += n
			}
			p.ByOutcome = append(p.ByOutcome, OutcomeCount{Status: st, StatusCode: code, Description: desc, Count: n})
		}
	}
	if err := rows.Err(); err != nil {
		return Progress{}, err
	}
	p.RecentRate = float64(recent) / 60
	end := time.Now()
	if p.Finished() && !last.IsZero() {
		end = last
	}
	p.Elapsed = end.Sub(c.CreatedAt)
	if window := time.Since(c.CreatedAt); window < time.Minute && window > 0 {
		p.RecentRate = float64(recent) / window.Seconds() // a young campaign: its whole life is the window
	}
	return p, nil
}

// jobsOf selects the campaign's River jobs (the GIN index on args serves it).
const jobsOf = `kind = '` + JobKind + `' AND args @> jsonb_build_object('c', $1::bigint)`

// parkedAt is where Pause parks jobs: far enough to never come, and recognisable.
const parkedAt = `'9999-01-01 00:00:00+00'::timestamptz`

// Pause stops a campaign: its queued jobs are parked (River does not fetch them) and jobs already running
// finish their EID or snooze. Results of requests already sent are still stored as they arrive.
func (m *Manager) Pause(ctx context.Context, key string) error {
	return m.control(ctx, key, func(tx pgx.Tx, c Campaign) error {
		if c.State == StateCancelled {
			return fmt.Errorf("%w: %s", ErrCancelled, key)
		}
		if _, err := tx.Exec(ctx, `UPDATE esimgw_campaign SET state = 'paused', updated_at = now() WHERE id = $1`, c.ID); err != nil {
			return err
		}
		// River's own table, written directly: River has no per-job-set pause, and a queue per campaign
		// would need every worker to learn of new queues. Parked jobs stay unique and countable.
		_, err := tx.Exec(ctx, `UPDATE river_job SET state = 'scheduled', scheduled_at = `+parkedAt+`
			WHERE `+jobsOf+` AND state IN ('available', 'scheduled', 'retryable')`, c.ID)
		return err
	})
}

// Resume continues a paused campaign.
func (m *Manager) Resume(ctx context.Context, key string) error {
	return m.control(ctx, key, func(tx pgx.Tx, c Campaign) error {
		if c.State == StateCancelled {
			return fmt.Errorf("%w: %s", ErrCancelled, key)
		}
		if _, err := tx.Exec(ctx, `UPDATE esimgw_campaign SET state = 'running', updated_at = now() WHERE id = $1`, c.ID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE river_job SET state = 'available', scheduled_at = now()
			WHERE `+jobsOf+` AND state = 'scheduled'`, c.ID)
		return err
	})
}

// Cancel ends a campaign for good: EIDs not sent are marked cancelled and their jobs cancelled. Results of
// requests already sent are still stored as they arrive (the gateway may have executed them).
func (m *Manager) Cancel(ctx context.Context, key string) error {
	return m.control(ctx, key, func(tx pgx.Tx, c Campaign) error {
		if _, err := tx.Exec(ctx, `UPDATE esimgw_campaign SET state = 'cancelled', updated_at = now() WHERE id = $1`, c.ID); err != nil {
			return err
		}
		// Only EIDs whose request has not gone: pending ones, and sending ones still waiting for their rate
		// token (no sent_at, see goAheadSQL). An EID whose request went keeps its slot until its result.
		if _, err := tx.Exec(ctx, `WITH old AS (
				SELECT campaign_id, eid, state FROM esimgw_campaign_item
				WHERE campaign_id = $1 AND (state = 'pending' OR (state = 'sending' AND sent_at IS NULL))
				FOR UPDATE
			), upd AS (
				UPDATE esimgw_campaign_item i SET state = 'cancelled', done_at = now()
				FROM old WHERE i.campaign_id = old.campaign_id AND i.eid = old.eid RETURNING old.state AS was
			)
			UPDATE esimgw_campaign_limit SET in_flight = GREATEST(in_flight - (SELECT count(*) FROM upd WHERE was = 'sending'), 0)
			WHERE name = $2 AND max_in_flight > 0`, c.ID, c.LimitName); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE river_job SET state = 'cancelled', finalized_at = now()
			WHERE `+jobsOf+` AND state IN ('available', 'scheduled', 'retryable', 'pending')`, c.ID)
		return err
	})
}

func (m *Manager) control(ctx context.Context, key string, f func(pgx.Tx, Campaign) error) error {
	return pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		c, err := scanCampaign(tx.QueryRow(ctx, `SELECT `+campaignColumns+` FROM esimgw_campaign WHERE key = $1 FOR UPDATE`, key))
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: %s", ErrNotFound, key)
		}
		if err != nil {
			return err
		}
		return f(tx, c)
	})
}

// RetryFailed starts a new round for the EIDs whose outcome is a failure (FAILED, EXPIRED, NO_RESULT,
// ERROR, INVALID_REQUEST): each gets a new job and, with the new round, a new FunctionCallIdentifier,
// since it is a new attempt at the function rather than a retry of the same call. It returns how many
// EIDs were queued again. Succeeded EIDs and EIDs still pending or in flight are left alone.
func (m *Manager) RetryFailed(ctx context.Context, key string) (int64, error) {
	var queued int64
	err := m.control(ctx, key, func(tx pgx.Tx, c Campaign) error {
		if c.State == StateCancelled {
			return fmt.Errorf("%w: %s", ErrCancelled, key)
		}
		var n int64
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM esimgw_campaign_item WHERE campaign_id = $1 AND state = 'done'
			AND outcome NOT IN ('EXECUTED_SUCCESS', 'EXECUTED_WITHWARNING')`, c.ID).Scan(&n); err != nil || n == 0 {
			return err
		}
		round := c.Round + 1
		if _, err := tx.Exec(ctx, `UPDATE esimgw_campaign SET round = $2, updated_at = now() WHERE id = $1`, c.ID, round); err != nil {
			return err
		}
		c.Round = round
		// In chunks, so that a campaign with a million failures is retried in flat memory.
		for {
			rows, err := tx.Query(ctx, `UPDATE esimgw_campaign_item i SET round = $2, state = 'pending', outcome = NULL, status_code = NULL,
					description = NULL, message = NULL, attempts = 0, sent_at = NULL, done_at = NULL, platform_ref = NULL
				WHERE (i.campaign_id, i.eid) IN (
					SELECT campaign_id, eid FROM esimgw_campaign_item WHERE campaign_id = $1 AND round < $2 AND state = 'done'
						AND outcome NOT IN ('EXECUTED_SUCCESS', 'EXECUTED_WITHWARNING') LIMIT 5000)
				RETURNING eid`, c.ID, round)
			if err != nil {
				return err
			}
			eids, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			if len(eids) == 0 {
				return nil
			}
			params := make([]river.InsertManyParams, len(eids))
			for i, eid := range eids {
				params[i] = river.InsertManyParams{Args: jobArgs{Campaign: c.ID, EID: eid, Round: round}, InsertOpts: c.insertOpts()}
			}
			if _, err := m.river.InsertManyFastTx(ctx, tx, params); err != nil {
				return err
			}
			queued += int64(len(eids))
		}
	})
	if err != nil {
		return 0, fmt.Errorf("campaign: retry failed EIDs of %s: %w", key, err)
	}
	return queued, nil
}

// ExportFormat chooses Export's output.
type ExportFormat int

// Export formats.
const (
	ExportCSV       ExportFormat = iota // a header line, then one line per EID
	ExportJSONLines                     // one JSON object per EID
)

// ExportRow is one EID's result, as Export writes it and Items returns it.
type ExportRow struct {
	Line                   int64      `json:"line"`
	EID                    string     `json:"eid"`
	Arg                    string     `json:"arg,omitempty"`
	Round                  int        `json:"round"`
	State                  string     `json:"state"`
	Status                 string     `json:"status,omitempty"`
	StatusCode             string     `json:"statusCode,omitempty"`
	Description            string     `json:"description,omitempty"`
	Message                string     `json:"message,omitempty"`
	Attempts               int        `json:"attempts"`
	FunctionCallIdentifier string     `json:"functionCallIdentifier"`
	SentAt                 *time.Time `json:"sentAt,omitempty"`
	DoneAt                 *time.Time `json:"doneAt,omitempty"`
	// PlatformRef is the carrier platform's ID of the request (ThingSpace's requestId, Digi's transaction),
	// to find it there; "" for SGP.02 functions (the FunctionCallIdentifier names the call).
	PlatformRef string `json:"platformRef,omitempty"`
}

// Export writes every EID's result in input order, streamed from the database: the operator's own
// systems take it from there.
func (m *Manager) Export(ctx context.Context, key string, w io.Writer, format ExportFormat) error {
	c, err := m.Get(ctx, key)
	if err != nil {
		return err
	}
	rows, err := m.pool.Query(ctx, `SELECT `+itemColumns+` FROM esimgw_campaign_item WHERE campaign_id = $1 ORDER BY line`, c.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	var cw *csv.Writer
	var jw *json.Encoder
	switch format {
	case ExportCSV:
		cw = csv.NewWriter(w)
		if err := cw.Write([]string{"line", "eid", "arg", "round", "state", "status", "status_code", "description", "message",
			"attempts", "function_call_identifier", "sent_at", "done_at", "platform_ref"}); err != nil {
			return err
		}
	case ExportJSONLines:
		jw = json.NewEncoder(w)
	default:
		return fmt.Errorf("campaign: unknown export format %d", format)
	}
	stamp := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	for rows.Next() {
		r, err := scanItem(rows, c.Key)
		if err != nil {
			return err
		}
		if jw != nil {
			if err := jw.Encode(&r); err != nil {
				return err
			}
			continue
		}
		if err := cw.Write([]string{strconv.FormatInt(r.Line, 10), r.EID, r.Arg, strconv.Itoa(r.Round), r.State, r.Status, r.StatusCode,
			r.Description, r.Message, strconv.Itoa(r.Attempts), r.FunctionCallIdentifier, stamp(r.SentAt), stamp(r.DoneAt), r.PlatformRef}); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if cw != nil {
		cw.Flush()
		return cw.Error()
	}
	return nil
}

const itemColumns = `line, eid, coalesce(arg, ''), round, state, coalesce(outcome, ''), coalesce(status_code, ''),
	coalesce(description, ''), coalesce(message, ''), attempts, sent_at, done_at, coalesce(platform_ref, '')`

func scanItem(row pgx.Row, key string) (ExportRow, error) {
	var r ExportRow
	err := row.Scan(&r.Line, &r.EID, &r.Arg, &r.Round, &r.State, &r.Status, &r.StatusCode, &r.Description, &r.Message,
		&r.Attempts, &r.SentAt, &r.DoneAt, &r.PlatformRef)
	r.FunctionCallIdentifier = FunctionCallIdentifier(key, r.Round, r.EID)
	return r, err
}

// DefaultItemLimit and MaxItemLimit bound ItemQuery.Limit.
const (
	DefaultItemLimit = 100
	MaxItemLimit     = 1000
)

// ItemQuery selects one page of a campaign's EIDs for Items. EIDs come in EID order, a page at a time
// (keyset paging on the items' primary key): pass the last EID of a page as After to get the next one.
type ItemQuery struct {
	// Failed keeps only EIDs whose outcome is a failure: every stored outcome but EXECUTED_SUCCESS and
	// EXECUTED_WITHWARNING (what RetryFailed would queue again).
	Failed bool
	// Status, when set, keeps only EIDs with this outcome and exactly this StatusCode ("Subject,Reason";
	// "" for outcomes without one): one row of Progress.ByOutcome.
	Status     esimgw.Status
	StatusCode string
	// After starts the page after this EID ("" from the first).
	After string
	// Limit is the page's size (default DefaultItemLimit, at most MaxItemLimit).
	Limit int
}

// Items returns one page of the campaign's EIDs selected by q, and whether more follow. Only the page
// is read into memory, whatever the campaign's size: the database walks the campaign's primary key from
// q.After and stops at the page's end (with sparse matches, that walk may cover much of the campaign).
func (m *Manager) Items(ctx context.Context, key string, q ItemQuery) ([]ExportRow, bool, error) {
	switch {
	case q.Limit < 0 || q.Limit > MaxItemLimit:
		return nil, false, &esimgw.ValidationError{Field: "Limit", Value: strconv.Itoa(q.Limit), Rule: fmt.Sprintf("must be 0 to %d", MaxItemLimit)}
	case q.After != "" && esimgw.ValidateEID(q.After) != nil:
		return nil, false, &esimgw.ValidationError{Field: "After", Value: q.After, Rule: "must be an EID (32 digits)"}
	case q.Limit == 0:
		q.Limit = DefaultItemLimit
	}
	c, err := m.Get(ctx, key)
	if err != nil {
		return nil, false, err
	}
	rows, err := m.pool.Query(ctx, `SELECT `+itemColumns+` FROM esimgw_campaign_item
		WHERE campaign_id = $1 AND eid > $2
			AND (NOT $3 OR (state = 'done' AND outcome NOT IN ('EXECUTED_SUCCESS', 'EXECUTED_WITHWARNING')))
			AND ($4 = '' OR (state = 'done' AND outcome = $4 AND coalesce(status_code, '') = $5))
		ORDER BY eid LIMIT $6`, c.ID, q.After, q.Failed, string(q.Status), q.StatusCode, q.Limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("campaign: items of %s: %w", key, err)
	}
	defer rows.Close()
	out := make([]ExportRow, 0, q.Limit)
	for rows.Next() {
		r, err := scanItem(rows, c.Key)
		if err != nil {
			return nil, false, fmt.Errorf("campaign: items of %s: %w", key, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("campaign: items of %s: %w", key, err)
	}
	if len(out) > q.Limit {
		return out[:q.Limit], true, nil
	}
	return out, false, nil
}

package campaign

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// acquireSQL moves an EID from pending to sending and, when its campaign has a limit, takes a rate token
// and an in-flight slot in the same statement, so that the limit holds across every worker and a worker
// dying at any point leaves no slot taken that no EID holds.
//
// The rate is a token bucket of the shared row: tokens refill at rate a second up to burst, and a caller
// may take one even when none is left, down to maxAhead seconds of debt: it is then told how long to wait
// for its turn (tokens are reservations, so callers queue in order instead of polling). An EID found in
// sending (a re-run after a crash) keeps the slot it holds and takes only a token: its request may go out
// again. Results: whether the item was open, whether a limit exists, the wait when taken (NULL: not taken,
// the limit is full), whether the item moved, and the campaign's state: an EID of a campaign paused or
// cancelled since the job read it is not sent.
//
// sent_at marks an EID whose request goes now: from then on Cancel leaves it alone. One that must wait for
// its token gets it only when its wait is over (goAheadSQL); one that has it already (a re-run of a job
// whose request may have gone) keeps it, since that request may have been executed. $6 lists the states an item may move from: pending and
// sending for SGP.02 functions, pending only for a carrier platform's (which must never send twice).
const acquireSQL = `
WITH it AS (
	SELECT campaign_id, eid, state FROM esimgw_campaign_item
	WHERE campaign_id = $1 AND eid = $2 AND round = $3 AND state = ANY ($6::text[])
		AND EXISTS (SELECT 1 FROM esimgw_campaign WHERE id = $1 AND state = 'running')
	FOR UPDATE
), lim AS (
	SELECT name, rate, max_in_flight, in_flight, clock_timestamp() AS t,
		LEAST(burst, tokens + GREATEST(0, EXTRACT(EPOCH FROM clock_timestamp() - updated_at)) * rate) AS avail
	FROM esimgw_campaign_limit WHERE name = $4
	FOR UPDATE
), take AS (
	UPDATE esimgw_campaign_limit l SET
		tokens = CASE WHEN lim.rate > 0 THEN lim.avail - 1 ELSE l.tokens END,
		updated_at = lim.t,
		in_flight = l.in_flight + CASE WHEN lim.max_in_flight > 0 AND it.state = 'pending' THEN 1 ELSE 0 END
	FROM lim, it
	WHERE l.name = lim.name
		AND (lim.max_in_flight = 0 OR it.state = 'sending' OR lim.in_flight < lim.max_in_flight)
		AND (lim.rate = 0 OR lim.avail - 1 >= -lim.rate * $5)
	RETURNING CASE WHEN lim.rate > 0 AND lim.avail < 1 THEN (1 - lim.avail) / lim.rate ELSE 0 END AS wait
), upd AS (
	UPDATE esimgw_campaign_item i SET state = 'sending', attempts = i.attempts + 1,
		sent_at = CASE WHEN i.sent_at IS NOT NULL THEN i.sent_at
			WHEN coalesce((SELECT wait FROM take), 0) > 0 THEN NULL ELSE clock_timestamp() END
	FROM it WHERE i.campaign_id = it.campaign_id AND i.eid = it.eid
		AND (NOT EXISTS (SELECT 1 FROM lim) OR EXISTS (SELECT 1 FROM take))
	RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM it), EXISTS (SELECT 1 FROM lim), (SELECT wait FROM take), EXISTS (SELECT 1 FROM upd),
	(SELECT state FROM esimgw_campaign WHERE id = $1)`

// maxAhead bounds how far ahead rate tokens are reserved: a caller that would wait longer is told the
// limit is full and tries again later, so that a slow rate does not pile up reservations.
const maxAhead = 2 * time.Second

type acquired struct {
	state State         // the campaign's
	open  bool          // the item was pending or sending, and the campaign running
	full  bool          // the limit has no slot or token for it now: try again later
	moved bool          // it is now sending: go ahead, after wait
	wait  time.Duration // until the reserved token is due
}

func acquire(ctx context.Context, pool *pgxpool.Pool, c *Campaign, a jobArgs, from []string) (acquired, error) {
	var r acquired
	var limited bool
	var wait *float64
	err := pool.QueryRow(ctx, acquireSQL, a.Campaign, a.EID, a.Round, c.LimitName, maxAhead.Seconds(), from).Scan(&r.open, &limited, &wait, &r.moved, &r.state)
	if err != nil {
		return r, fmt.Errorf("campaign: %s: acquire %s: %w", c.Key, a.EID, err)
	}
	r.full = r.open && limited && wait == nil
	if wait != nil {
		r.wait = time.Duration(*wait * float64(time.Second))
	}
	return r, nil
}

// goAheadSQL marks an EID that waited for its rate token as going now, unless its campaign was paused or
// cancelled during the wait (Cancel then marked it cancelled, since no request had gone). The row lock
// orders it with Cancel: whichever commits first decides, and an EID marked here is sent and gets its result.
const goAheadSQL = `UPDATE esimgw_campaign_item SET sent_at = clock_timestamp()
	WHERE campaign_id = $1 AND eid = $2 AND round = $3 AND state = 'sending'
		AND EXISTS (SELECT 1 FROM esimgw_campaign WHERE id = $1 AND state = 'running')`

func goAhead(ctx context.Context, pool *pgxpool.Pool, c *Campaign, a jobArgs) (bool, error) {
	tag, err := pool.Exec(ctx, goAheadSQL, a.Campaign, a.EID, a.Round)
	if err != nil {
		return false, fmt.Errorf("campaign: %s: go ahead %s: %w", c.Key, a.EID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// releaseSQL puts an EID whose request could not be sent back to pending and gives back its slot.
const releaseSQL = `
WITH old AS (
	SELECT campaign_id, eid FROM esimgw_campaign_item
	WHERE campaign_id = $1 AND eid = $2 AND round = $3 AND state = 'sending' FOR UPDATE
), upd AS (
	UPDATE esimgw_campaign_item i SET state = 'pending', message = $5, sent_at = NULL
	FROM old WHERE i.campaign_id = old.campaign_id AND i.eid = old.eid RETURNING 1
)
UPDATE esimgw_campaign_limit l SET in_flight = GREATEST(l.in_flight - 1, 0)
WHERE l.name = $4 AND l.max_in_flight > 0 AND EXISTS (SELECT 1 FROM upd)`

func release(ctx context.Context, pool *pgxpool.Pool, c *Campaign, a jobArgs, cause error) error {
	if _, err := pool.Exec(ctx, releaseSQL, a.Campaign, a.EID, a.Round, c.LimitName, cause.Error()); err != nil {
		return fmt.Errorf("campaign: %s: release %s: %w", c.Key, a.EID, err)
	}
	return nil
}

// backOff empties the shared bucket and puts it d into debt: the gateway said it is overloaded, so every
// worker waits, not only the one that was told.
func backOff(ctx context.Context, pool *pgxpool.Pool, limit string, d time.Duration) error {
	_, err := pool.Exec(ctx, `UPDATE esimgw_campaign_limit SET tokens = LEAST(tokens, 0) - rate * $2, updated_at = clock_timestamp()
		WHERE name = $1 AND rate > 0`, limit, d.Seconds())
	return err
}

// tokenSQL takes one rate token of a limit for a request that is no send (a Digi progress poll), with the
// same bucket and reservation rules as acquireSQL, and no in-flight slot: Digi throttles the account, so
// a campaign's Rate toward it counts every request, from every worker. Results: whether a rate limit
// exists, and the wait when taken (NULL: the limit is full).
const tokenSQL = `
WITH lim AS (
	SELECT name, rate, clock_timestamp() AS t,
		LEAST(burst, tokens + GREATEST(0, EXTRACT(EPOCH FROM clock_timestamp() - updated_at)) * rate) AS avail
	FROM esimgw_campaign_limit WHERE name = $1 AND rate > 0
	FOR UPDATE
), take AS (
	UPDATE esimgw_campaign_limit l SET tokens = lim.avail - 1, updated_at = lim.t
	FROM lim WHERE l.name = lim.name AND lim.avail - 1 >= -lim.rate * $2
	RETURNING CASE WHEN lim.avail < 1 THEN (1 - lim.avail) / lim.rate ELSE 0 END AS wait
)
SELECT EXISTS (SELECT 1 FROM lim), (SELECT wait FROM take)`

// takeToken takes a rate token of limit: it returns the wait until the token is due, or full when the
// limit has none to reserve now.
func takeToken(ctx context.Context, pool *pgxpool.Pool, limit string) (wait time.Duration, full bool, err error) {
	var limited bool
	var w *float64
	if err := pool.QueryRow(ctx, tokenSQL, limit, maxAhead.Seconds()).Scan(&limited, &w); err != nil {
		return 0, false, fmt.Errorf("campaign: rate token of %q: %w", limit, err)
	}
	if w != nil {
		wait = time.Duration(*w * float64(time.Second))
	}
	return wait, limited && w == nil, nil
}

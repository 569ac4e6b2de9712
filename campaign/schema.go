package campaign

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// schemaSQL is the campaign tables. Every statement is idempotent (IF NOT EXISTS), and Migrate runs them
// under an advisory lock, so replicas starting at once neither fail nor race.
//
// esimgw_campaign_item is the per-EID record and the source of truth for progress and results: one row per
// EID (its River job is the other row an EID costs). state moves pending -> sending -> sent -> done, or to
// cancelled; outcome and the code columns are set with done. round counts RetryFailed passes: it is part
// of the FunctionCallIdentifier, so a retry pass is a new function call while a retried job is not.
//
// platform_ref is the request ID a carrier platform answered with (ThingSpace's requestId, Digi's
// transaction), written with the move to sent: those platforms do not de-duplicate, so a retried job
// resumes that request instead of sending another (platform.go). It is indexed (only where set, so that
// SGP.02 items keep their HOT updates) for the ThingSpace callback that names it. esimgw_campaign_orphan
// holds a ThingSpace result whose requestId no item names yet (its callback beat the worker's commit).
const schemaSQL = `
CREATE TABLE IF NOT EXISTS esimgw_campaign (
	id           bigserial PRIMARY KEY,
	key          text NOT NULL UNIQUE,
	function     text NOT NULL,
	arg          text NOT NULL DEFAULT '',
	state        text NOT NULL DEFAULT 'running',
	limit_name   text NOT NULL DEFAULT '',
	queue        text NOT NULL,
	result_timeout_ms bigint NOT NULL,
	max_attempts integer NOT NULL DEFAULT 0,
	total        bigint NOT NULL DEFAULT 0,
	bad_lines    bigint NOT NULL DEFAULT 0,
	round        integer NOT NULL DEFAULT 1,
	created_at   timestamptz NOT NULL DEFAULT now(),
	updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS esimgw_campaign_item (
	campaign_id  bigint NOT NULL REFERENCES esimgw_campaign (id) ON DELETE CASCADE,
	eid          text NOT NULL,
	line         bigint NOT NULL,
	round        integer NOT NULL DEFAULT 1,
	arg          text,
	state        text NOT NULL DEFAULT 'pending',
	outcome      text,
	status_code  text,
	description  text,
	message      text,
	attempts     integer NOT NULL DEFAULT 0,
	sent_at      timestamptz,
	done_at      timestamptz,
	PRIMARY KEY (campaign_id, eid)
);
CREATE TABLE IF NOT EXISTS esimgw_campaign_limit (
	name          text PRIMARY KEY,
	rate          double precision NOT NULL DEFAULT 0,
	burst         double precision NOT NULL DEFAULT 1,
	tokens        double precision NOT NULL DEFAULT 0,
	max_in_flight integer NOT NULL DEFAULT 0,
	in_flight     integer NOT NULL DEFAULT 0,
	updated_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);
ALTER TABLE esimgw_campaign_item ADD COLUMN IF NOT EXISTS platform_ref text;
CREATE INDEX IF NOT EXISTS esimgw_campaign_item_platform_ref ON esimgw_campaign_item (platform_ref) WHERE platform_ref IS NOT NULL;
CREATE TABLE IF NOT EXISTS esimgw_campaign_orphan (
	platform     text NOT NULL,
	ref          text NOT NULL,
	outcome      text NOT NULL,
	status_code  text,
	description  text,
	message      text,
	received_at  timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (platform, ref)
);
`

// Migrate brings the database up to date for campaigns: River's own tables (through rivermigrate) and the
// campaign tables, holding a PostgreSQL advisory lock (one per schema) the whole time, so any number of
// replicas may call it at start-up at the same time; calling it again is a no-op.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	// The lock lives on a connection of its own, outside the pool: rivermigrate runs each of its
	// migrations in a transaction of its own (one adds an enum value a later one uses, which a single
	// transaction cannot do) on pool connections, which replicas waiting for the lock must not hold.
	conn, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("campaign: migrate: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	// The key is per schema so that tests, each in a schema of its own, do not queue behind one another.
	// Closing the connection releases the lock, whatever happens below.
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtext('esimgw_campaign_migrate:' || current_schema()))`); err != nil {
		return fmt.Errorf("campaign: migrate: taking the advisory lock: %w", err)
	}
	m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return fmt.Errorf("campaign: migrate: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("campaign: migrate River: %w", err)
	}
	if _, err := conn.Exec(ctx, schemaSQL); err != nil {
		return fmt.Errorf("campaign: migrate campaign tables: %w", err)
	}
	return nil
}

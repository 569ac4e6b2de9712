package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// migrations are applied in order, each once; a database records the last one it has in
// esimgw_schema_version. Never edit one that has been released: append a new one.
var migrations = []string{
	// 1: operations and message claims.
	`CREATE TABLE esimgw_operation (
		message_id               text PRIMARY KEY,
		transaction_id           text NOT NULL DEFAULT '',
		function_call_identifier text NOT NULL DEFAULT '',
		interface                text NOT NULL DEFAULT '',
		function                 text NOT NULL DEFAULT '',
		state                    smallint NOT NULL DEFAULT 0, -- 0 pending, 1 resolved, 2 withdrawn
		registered_at            timestamptz NOT NULL DEFAULT now(),
		deadline                 timestamptz,
		finished_at              timestamptz,
		result_element           text,
		result_body              bytea,
		result_error_kind        smallint NOT NULL DEFAULT 0, -- see errorKind
		result_error             text NOT NULL DEFAULT '',
		callback_message_id      text NOT NULL DEFAULT ''
	);
	-- One pending operation per TransactionID: a callback without RelatesTo is matched on it.
	CREATE UNIQUE INDEX esimgw_operation_pending_tx ON esimgw_operation (transaction_id) WHERE state = 0 AND transaction_id <> '';
	CREATE INDEX esimgw_operation_tx ON esimgw_operation (transaction_id) WHERE transaction_id <> '';
	CREATE INDEX esimgw_operation_fci ON esimgw_operation (function_call_identifier) WHERE function_call_identifier <> '';
	CREATE INDEX esimgw_operation_pending ON esimgw_operation (registered_at) WHERE state = 0;
	CREATE INDEX esimgw_operation_finished ON esimgw_operation (finished_at) WHERE state <> 0;
	CREATE TABLE esimgw_message (
		scope         text NOT NULL,
		message_id    text NOT NULL,
		committed     boolean NOT NULL DEFAULT false,
		claimed_until timestamptz NOT NULL,
		committed_at  timestamptz,
		PRIMARY KEY (scope, message_id)
	);
	CREATE INDEX esimgw_message_committed ON esimgw_message (committed_at) WHERE committed;`,
}

// migrateLock is the key of the advisory lock Migrate holds, so that replicas starting at once apply each
// migration once: the others wait, then find nothing left to do.
const migrateLock = 0x65_73_69_6d_67_77 // "esimgw"

// Migrate creates or updates the store's tables in the pool's current schema (the first of its
// search_path). It is idempotent and safe to run from several replicas at once: call it at start-up, or from
// a deploy step, before New.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	// Transaction-scoped, so a migrating process that dies releases it with its connection.
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrateLock)); err != nil {
		return fmt.Errorf("pgstore: migrate: lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS esimgw_schema_version (
		version    integer PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	var have int
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM esimgw_schema_version").Scan(&have); err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	if have > len(migrations) {
		return fmt.Errorf("pgstore: migrate: the database is at schema version %d, newer than this build knows (%d): run the newer build", have, len(migrations))
	}
	for v := have + 1; v <= len(migrations); v++ {
		if _, err := tx.Exec(ctx, migrations[v-1]); err != nil {
			return fmt.Errorf("pgstore: migrate: version %d: %w", v, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO esimgw_schema_version (version) VALUES ($1)", v); err != nil {
			return fmt.Errorf("pgstore: migrate: version %d: %w", v, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	return nil
}

// SchemaVersion returns the schema version the database is at (0: never migrated).
func SchemaVersion(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	var v int
	err := pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM esimgw_schema_version`).Scan(&v)
	if err != nil {
		var exists bool
		if qerr := pool.QueryRow(ctx, `SELECT to_regclass('esimgw_schema_version') IS NOT NULL`).Scan(&exists); qerr == nil && !exists {
			return 0, nil
		}
		return 0, fmt.Errorf("pgstore: schema version: %w", err)
	}
	return v, nil
}

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/esimgw/esimgw/internal/pgtest"
	"github.com/esimgw/esimgw/pgstore"
)

// storePoolConns is the pool of the PostgreSQL store: enough that 64 callers' statements queue at the
// database rather than at the pool (pgxpool's default is max(4, CPUs)). pgstore/bench_test.go uses the same.
const storePoolConns = 16

// openStore keeps the async peer's operations in PostgreSQL (-store): a schema of its own on the server at
// dbURL, migrated, and a pgstore.Store on it. closeStore closes the store and the pool and drops the schema.
func openStore(ctx context.Context, dbURL string) (store *pgstore.Store, closeStore func(), err error) {
	var b [4]byte
	_, _ = rand.Read(b[:])
	schema := "esimgw_bench_" + hex.EncodeToString(b[:])
	admin, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, nil, fmt.Errorf("-store: %w", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		return nil, nil, fmt.Errorf("-store: %w", err)
	}
	drop := func() {
		if c, err := pgx.Connect(context.Background(), dbURL); err == nil {
			_, _ = c.Exec(context.Background(), "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
			_ = c.Close(context.Background())
		}
	}
	cfg, err := pgxpool.ParseConfig(pgtest.WithSearchPath(dbURL, schema))
	if err != nil {
		drop()
		return nil, nil, fmt.Errorf("-store: %w", err)
	}
	cfg.MaxConns = storePoolConns
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		drop()
		return nil, nil, fmt.Errorf("-store: %w", err)
	}
	if err := pgstore.Migrate(ctx, pool); err != nil {
		pool.Close()
		drop()
		return nil, nil, err
	}
	s, err := pgstore.New(ctx, pool, pgstore.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		pool.Close()
		drop()
		return nil, nil, err
	}
	return s, func() { s.Close(); pool.Close(); drop() }, nil
}

package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// EnvURL names the environment variable that points the tests at a server.
const EnvURL = "ESIMGW_TEST_DATABASE_URL"

// DefaultURL is the server used when EnvURL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// ServerURL returns the server's URL (EnvURL or DefaultURL), without a schema.
func ServerURL() string {
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	return DefaultURL
}

var unsafeName = regexp.MustCompile(`[^a-z0-9_]+`)

// URL creates a schema for t and returns a connection URL whose search_path is that schema, so
// everything the code under test creates without a schema prefix lands there. The schema is dropped when
// the test ends.
func URL(t testing.TB) string {
	t.Helper()
	schema := schemaName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		t.Fatalf("pgtest: this test needs PostgreSQL and none answers at %s: %v\n"+
			"run the suite with scripts/test.sh (it finds or starts one), or set %s", redact(ServerURL()), err, EnvURL)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, ServerURL())
		if err != nil {
			t.Errorf("pgtest: drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("pgtest: drop schema %s: %v", schema, err)
		}
	})
	return WithSearchPath(ServerURL(), schema)
}

// Pool is URL with a pool on it, closed when the test ends (before the schema is dropped).
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return PoolFor(t, URL(t))
}

// PoolFor is a pool on dbURL (one URL returned), closed when the test ends.
func PoolFor(t testing.TB, dbURL string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatalf("pgtest: pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// WithSearchPath returns dbURL with its search_path runtime parameter set to schema (pgx passes unknown
// URL parameters to the server as run-time settings).
func WithSearchPath(dbURL, schema string) string {
	u, err := url.Parse(dbURL)
	if err != nil || u.Scheme == "" {
		// A key=value connection string.
		return strings.TrimSpace(dbURL) + " search_path=" + schema
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func schemaName(testName string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := unsafeName.ReplaceAllString(strings.ToLower(testName), "_")
	if len(name) > 40 {
		name = name[:40]
	}
	return fmt.Sprintf("t_%s_%s", strings.Trim(name, "_"), hex.EncodeToString(b[:]))
}

func redact(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "the configured server"
	}
	return u.Redacted()
}

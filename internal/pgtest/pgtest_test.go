package pgtest_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/internal/pgtest"
)

func TestEachTestHasItsOwnSchema(t *testing.T) {
	ctx := context.Background()
	var schemas [2]string
	for i := range schemas {
		t.Run("sub", func(t *testing.T) {
			pool := pgtest.Pool(t)
			require.NoError(t, pool.QueryRow(ctx, "SELECT current_schema()").Scan(&schemas[i]))
			_, err := pool.Exec(ctx, "CREATE TABLE probe (id int)")
			require.NoError(t, err, "a fresh schema has no table of that name")
		})
	}
	require.NotEqual(t, schemas[0], schemas[1])
	require.Regexp(t, `^t_testeachtesthasitsownschema_sub`, schemas[0])

	pool := pgtest.Pool(t)
	var n int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM pg_namespace WHERE nspname = ANY($1)", schemas[:]).Scan(&n))
	require.Zero(t, n, "a finished test's schema is dropped")
}

func TestWithSearchPath(t *testing.T) {
	require.Equal(t, "postgres://u@h:5432/db?search_path=s&sslmode=disable",
		pgtest.WithSearchPath("postgres://u@h:5432/db?sslmode=disable", "s"))
	require.Equal(t, "host=h dbname=db search_path=s", pgtest.WithSearchPath("host=h dbname=db", "s"))
}

package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/internal/pgtest"
	"github.com/esimgw/esimgw/pgstore"
	"github.com/esimgw/esimgw/storetest"
)

// newStore migrates a fresh schema and opens a Store on it, closed when the test ends.
func newStore(t *testing.T, opts ...pgstore.Option) (*pgstore.Store, *pgxpool.Pool) {
	t.Helper()
	pool := pgtest.Pool(t)
	require.NoError(t, pgstore.Migrate(context.Background(), pool))
	return openStore(t, pool, opts...), pool
}

func openStore(t *testing.T, pool *pgxpool.Pool, opts ...pgstore.Option) *pgstore.Store {
	t.Helper()
	s, err := pgstore.New(context.Background(), pool, opts...)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) correlate.Store {
		s, _ := newStore(t)
		return s
	})
}

// Replicas starting at once all migrate: each migration is applied once, and a second run does nothing.
func TestMigrateConcurrently(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	v, err := pgstore.SchemaVersion(ctx, pool)
	require.NoError(t, err)
	require.Zero(t, v, "a fresh schema")
	_, err = pgstore.New(ctx, pool)
	require.ErrorContains(t, err, "run pgstore.Migrate first")

	errs := make(chan error, 6)
	for range cap(errs) {
		go func() { errs <- pgstore.Migrate(ctx, pool) }()
	}
	for range cap(errs) {
		require.NoError(t, <-errs)
	}
	v, err = pgstore.SchemaVersion(ctx, pool)
	require.NoError(t, err)
	require.Equal(t, 1, v)
	var rows int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM esimgw_schema_version").Scan(&rows))
	require.Equal(t, 1, rows, "applied once")
	require.NoError(t, pgstore.Migrate(ctx, pool))
}

// Two stores on one database are two replicas: an operation registered at A is resolved by a callback
// delivered at B, and A's waiter wakes (NOTIFY); a claim at A is seen at B.
func TestTwoReplicasShareState(t *testing.T) {
	ctx := context.Background()
	a, pool := newStore(t)
	b := openStore(t, pool)
	key := storetest.Key("EnableProfile")
	p, err := a.RegisterOperation(ctx, key, time.Time{})
	require.NoError(t, err)
	res, err := b.DeliverCallback(ctx, correlate.Delivery{RelatesTo: key.MessageID, Value: storetest.Failed(),
		Err: &esimgw.FunctionError{Interface: "ES4", Function: "EnableProfile"}})
	require.NoError(t, err)
	require.Equal(t, correlate.Matched, res.Match)
	select {
	case <-p.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("A's waiter did not wake")
	}
	value, verr, resolved := p.Result()
	require.True(t, resolved)
	require.Equal(t, storetest.Failed(), value, "decoded again at A from what B stored")
	var fe *esimgw.FunctionError
	require.ErrorAs(t, verr, &fe, "the FAILED status read back as a *FunctionError")
	require.Equal(t, "8.2.1", fe.Subject)

	c, err := a.ClaimMessage(ctx, correlate.ScopeNotification, "m1")
	require.NoError(t, err)
	require.Equal(t, correlate.Claimed, c)
	c, err = b.ClaimMessage(ctx, correlate.ScopeNotification, "m1")
	require.NoError(t, err)
	require.Equal(t, correlate.InProgress, c, "B must not acknowledge what A is handing over")
}

// A claim whose replica died (neither committed nor released) expires after the lease: the gateway's
// retry is handed over then.
func TestClaimLeaseExpires(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, pgstore.WithClaimLease(200*time.Millisecond))
	c, err := s.ClaimMessage(ctx, correlate.ScopeNotification, "m1")
	require.NoError(t, err)
	require.Equal(t, correlate.Claimed, c)
	c, err = s.ClaimMessage(ctx, correlate.ScopeNotification, "m1")
	require.NoError(t, err)
	require.Equal(t, correlate.InProgress, c)
	require.Eventually(t, func() bool {
		c, err := s.ClaimMessage(ctx, correlate.ScopeNotification, "m1")
		return err == nil && c == correlate.Claimed
	}, 10*time.Second, 50*time.Millisecond, "the lease ran out")
	require.NoError(t, s.CommitMessage(ctx, correlate.ScopeNotification, "m1"))
	c, err = s.ClaimMessage(ctx, correlate.ScopeNotification, "m1")
	require.NoError(t, err)
	require.Equal(t, correlate.HandedOver, c, "a committed claim never expires within the retention")
}

// The sweep removes finished rows and handed-over MessageIDs past the retention, and pending rows whose
// deadline is that far gone; nothing else.
func TestSweepKeepsTheTableBounded(t *testing.T) {
	ctx := context.Background()
	s, pool := newStore(t, pgstore.WithRetention(time.Hour))
	var keys []correlate.OperationKey
	for i := range 4 {
		k := storetest.Key("EnableProfile")
		keys = append(keys, k)
		deadline := time.Now().Add(time.Hour)
		if i == 3 {
			deadline = time.Now().Add(-2 * time.Hour) // long expired at the gateway
		}
		_, err := s.RegisterOperation(ctx, k, deadline)
		require.NoError(t, err)
	}
	for _, k := range keys[:2] {
		_, err := s.DeliverCallback(ctx, correlate.Delivery{RelatesTo: k.MessageID, Value: storetest.Success()})
		require.NoError(t, err)
	}
	require.NoError(t, s.CommitMessage(ctx, correlate.ScopeNotification, "never-claimed")) // no row: no-op
	_, err := s.ClaimMessage(ctx, correlate.ScopeNotification, "old")
	require.NoError(t, err)
	require.NoError(t, s.CommitMessage(ctx, correlate.ScopeNotification, "old"))
	// Age what should go: operation 0 finished two hours ago, the "old" MessageID too.
	_, err = pool.Exec(ctx, "UPDATE esimgw_operation SET finished_at = now() - interval '2 hours' WHERE message_id = $1", keys[0].MessageID)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, "UPDATE esimgw_message SET committed_at = now() - interval '2 hours' WHERE message_id = 'old'")
	require.NoError(t, err)

	n, err := s.Sweep(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 3, n, "operation 0, the expired pending operation 3, and the old MessageID")
	var left []string
	rows, err := pool.Query(ctx, "SELECT message_id FROM esimgw_operation ORDER BY registered_at")
	require.NoError(t, err)
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		left = append(left, id)
	}
	require.Equal(t, []string{keys[1].MessageID, keys[2].MessageID}, left)
}

// A database that cannot be reached fails registration with a StoreError: the client sends nothing.
func TestUnreachableDatabaseFailsBeforeSending(t *testing.T) {
	ctx := context.Background()
	s, pool := newStore(t)
	pool.Close()
	_, err := s.RegisterOperation(ctx, storetest.Key("EnableProfile"), time.Time{})
	var se *correlate.StoreError
	require.ErrorAs(t, err, &se)
	require.ErrorIs(t, err, correlate.ErrStoreUnavailable)
	require.Error(t, s.Ping(ctx))
	require.Zero(t, s.Waiting(), "the local waiter was withdrawn with the failed registration")
}

package pgstore_test

import (
	"context"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/es4"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/internal/pgtest"
	"github.com/esimgw/esimgw/pgstore"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/storetest"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// benchPoolConns is the pool size of the benchmarks' stores: enough connections for 64 callers'
// statements to queue at the database rather than at the pool (pgxpool's default is max(4, CPUs)).
const benchPoolConns = 16

// benchPool opens a pool of benchPoolConns on a fresh, migrated schema.
func benchPool(b *testing.B, url string) *pgxpool.Pool {
	b.Helper()
	pool, err := pgxpool.NewWithConfig(context.Background(), poolConfig(b, url, appName(), benchPoolConns))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	if err := pgstore.Migrate(context.Background(), pool); err != nil {
		b.Fatal(err)
	}
	return pool
}

func benchStore(b *testing.B, pool *pgxpool.Pool, opts ...pgstore.Option) *pgstore.Store {
	b.Helper()
	s, err := pgstore.New(context.Background(), pool, append([]pgstore.Option{pgstore.WithLogger(quiet())}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	return s
}

// BenchmarkRoundTrip is the full asynchronous call through the public API, with the in-memory Tracker
// and with a pgstore.Store (PostgreSQL on 127.0.0.1, synchronous_commit as the server has it): es4
// AuditEIS over loopback mTLS with keep-alive, the mock's 202, its callback through the real
// CallbackServer (acknowledged only after the result is committed), Wait. Client, CallbackServer, mock
// and (for pgstore) the database share the machine, so every figure is the whole system's; compare the
// two stores at the same number of callers (benchstat -col /store).
func BenchmarkRoundTrip(b *testing.B) {
	for _, store := range []string{"memory", "pgstore"} {
		b.Run("store="+store, func(b *testing.B) {
			gw := gatewaytest.Start(b, gatewaytest.WithLogger(quiet()), gatewaytest.WithCallbackDelay(0),
				gatewaytest.WithRecordLimit(1024), gatewaytest.WithDuplicateWindow(4096))
			dopts := []esimgw.DispatcherOption{esimgw.WithDispatcherLogger(quiet())}
			if store == "pgstore" {
				dopts = append(dopts, esimgw.WithStore(benchStore(b, benchPool(b, pgtest.URL(b)))))
			}
			op := gatewaytest.NewOperator(b, gw, dopts...)
			c, err := es4.NewClient(gw.ES4URL, append(op.Options, esimgw.WithPeerEntityID(gw.SMSRID), esimgw.WithLogger(quiet()),
				esimgw.WithSOAPOptions(soap.WithLogger(quiet())))...)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			call := func() {
				o, err := c.AuditEIS(ctx, gatewaytest.DefaultEID, nil)
				if err != nil {
					b.Fatal(err)
				}
				res, err := o.Wait(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if res.EIS == nil {
					b.Fatal("no EIS in the result")
				}
			}
			for range 64 { // warm the connections up
				call()
			}
			for _, callers := range []int{8, 64} {
				b.Run("callers="+strconv.Itoa(callers), func(b *testing.B) {
					b.ReportAllocs()
					b.SetParallelism(max(1, callers/runtime.GOMAXPROCS(0)))
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							call()
						}
					})
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
				})
			}
		})
	}
}

// BenchmarkCrossReplicaWake is one operation registered at replica A and its callback delivered at
// replica B (two Stores, two pools, one database): the time from B starting DeliverCallback (its
// statement and commit included) until A's waiter is done, woken by LISTEN/NOTIFY (the periodic re-check
// is an hour here, so it cannot help), and the part of it after B's DeliverCallback returned. Reported as
// p50 and p99 over the run; ns/op is the whole cycle (register at A, deliver at B, wake).
func BenchmarkCrossReplicaWake(b *testing.B) {
	url := pgtest.URL(b)
	a := benchStore(b, benchPool(b, url), pgstore.WithRecheckInterval(time.Hour))
	poolB, err := pgxpool.NewWithConfig(context.Background(), poolConfig(b, url, appName(), benchPoolConns))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(poolB.Close)
	rb := benchStore(b, poolB)
	ctx := context.Background()
	value := storetest.Success()
	var lat, after []time.Duration
	for b.Loop() {
		p, err := a.RegisterOperation(ctx, storetest.Key("EnableProfile"), time.Now().Add(time.Hour))
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		res, err := rb.DeliverCallback(ctx, correlate.Delivery{RelatesTo: p.Key().MessageID, MessageID: "//cb/" + p.Key().MessageID, Value: value})
		committed := time.Now()
		if err != nil || res.Match != correlate.Matched {
			b.Fatalf("deliver at B: %v %v", res.Match, err)
		}
		select {
		case <-p.Done():
		case <-time.After(30 * time.Second):
			b.Fatal("A's waiter was not woken")
		}
		woken := time.Now()
		lat = append(lat, woken.Sub(start))
		after = append(after, woken.Sub(committed))
	}
	slices.Sort(lat)
	slices.Sort(after)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-wake-us")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-wake-us")
	// The part after B's commit returned: the NOTIFY's way to A and A's read of the result (0 when A was
	// woken before B's DeliverCallback even returned).
	b.ReportMetric(float64(after[len(after)/2].Microseconds()), "p50-after-commit-us")
	b.ReportMetric(float64(after[len(after)*99/100].Microseconds()), "p99-after-commit-us")
}

// fillOperations inserts n operations straight into the table in one statement, shaped as the store
// writes them (esimgw MessageIDs, TransactionId and FunctionCallIdentifier urn:uuids, a deadline): every
// other one resolved with body (an EnableProfile callback) when resolvedBody is not nil, else all pending.
func fillOperations(b *testing.B, pool *pgxpool.Pool, n int, resolvedBody []byte) {
	b.Helper()
	ctx := context.Background()
	// The indexes are built after the rows, by sorting: inserting a million random MessageIDs into six
	// B-trees one by one takes ten times longer. They are rebuilt from their own definitions.
	rows, err := pool.Query(ctx, `SELECT indexname, indexdef FROM pg_indexes
		WHERE schemaname = current_schema() AND tablename = 'esimgw_operation' AND indexname <> 'esimgw_operation_pkey'`)
	if err != nil {
		b.Fatal(err)
	}
	var names, defs []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			b.Fatal(err)
		}
		names, defs = append(names, name), append(defs, def)
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	for _, name := range names {
		if _, err := pool.Exec(ctx, "DROP INDEX "+pgx.Identifier{name}.Sanitize()); err != nil {
			b.Fatal(err)
		}
	}
	_, err = pool.Exec(ctx, `INSERT INTO esimgw_operation (message_id, transaction_id, function_call_identifier, interface,
			function, deadline, state, finished_at, result_element, result_body)
		SELECT '//1.3.6.1.4.1.99999.1/urn:uuid:' || u1 || '?TransactionId=urn:uuid:' || u2, 'urn:uuid:' || u2, 'urn:uuid:' || u2,
			'ES4', 'EnableProfile', now() + interval '1 day',
			CASE WHEN $2::bytea IS NOT NULL AND i % 2 = 0 THEN 1 ELSE 0 END,
			CASE WHEN $2::bytea IS NOT NULL AND i % 2 = 0 THEN now() END,
			CASE WHEN $2::bytea IS NOT NULL AND i % 2 = 0 THEN 'ES4-EnableProfileResponse' END,
			CASE WHEN $2::bytea IS NOT NULL AND i % 2 = 0 THEN $2::bytea END
		FROM (SELECT i, gen_random_uuid()::text AS u1, gen_random_uuid()::text AS u2 FROM generate_series(1, $1) AS i) s`,
		n, resolvedBody)
	if err != nil {
		b.Fatal(err)
	}
	for _, def := range defs {
		if _, err := pool.Exec(ctx, def); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE esimgw_operation`); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkStoreOps is the cost of the two statements every asynchronous call makes, one at a time:
// RegisterOperation (before the request is sent) and DeliverCallback (before the callback is
// acknowledged), on an empty table and, with ESIMGW_BENCH_1M=1, with a million operations already in it
// (half pending, half resolved): the indexes must keep both flat.
func BenchmarkStoreOps(b *testing.B) {
	for _, rows := range []int{0, 1_000_000} {
		b.Run("rows="+strconv.Itoa(rows), func(b *testing.B) {
			if rows > 0 && os.Getenv("ESIMGW_BENCH_1M") != "1" {
				b.Skip("opt-in: set ESIMGW_BENCH_1M=1 to fill the table with 1M operations first (about a minute)")
			}
			pool := benchPool(b, pgtest.URL(b))
			if rows > 0 {
				start := time.Now()
				fillOperations(b, pool, rows, rps.MarshalElement(storetest.Success()))
				b.Logf("filled %d rows in %v", rows, time.Since(start).Round(time.Millisecond))
			}
			s := benchStore(b, pool)
			ctx := context.Background()
			value := storetest.Success()
			b.Run("op=register", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					p, err := s.RegisterOperation(ctx, storetest.Key("EnableProfile"), time.Now().Add(time.Hour))
					if err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					s.WithdrawOperation(ctx, p, nil) //nolint:errcheck // keeps this process's waiters from piling up
					b.StartTimer()
				}
			})
			b.Run("op=deliver", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					b.StopTimer()
					p, err := s.RegisterOperation(ctx, storetest.Key("EnableProfile"), time.Now().Add(time.Hour))
					if err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					res, err := s.DeliverCallback(ctx, correlate.Delivery{RelatesTo: p.Key().MessageID, MessageID: "//cb/" + p.Key().MessageID, Value: value})
					if err != nil || res.Match != correlate.Matched {
						b.Fatalf("%v %v", res.Match, err)
					}
				}
			})
		})
	}
}

// BenchmarkRowBytes is the database's size per operation: 5,000 registered through the store (16 at
// a time, esimgw's own MessageIDs), then resolved with an EnableProfile callback. The size is the table's
// with its indexes and TOAST (pg_total_relation_size), divided by the rows, after VACUUM (which makes the
// space of the rows' old versions reusable without returning it).
func BenchmarkRowBytes(b *testing.B) {
	const n = 5_000
	var pendingB, resolvedB float64
	for b.Loop() {
		b.StopTimer()
		pool := benchPool(b, pgtest.URL(b))
		s := benchStore(b, pool)
		b.StartTimer()
		ctx := context.Background()
		keys := make(chan int)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var ps []*correlate.Pending
		for range benchPoolConns {
			wg.Go(func() {
				for range keys {
					mid := soap.NewMessageID(gatewaytest.DefaultOperatorID, time.Now())
					key := correlate.OperationKey{MessageID: mid.String(), TransactionID: mid.TransactionID, FunctionCallIdentifier: mid.TransactionID,
						Interface: "ES4", Function: "EnableProfile"}
					p, err := s.RegisterOperation(ctx, key, time.Now().Add(time.Hour))
					if err != nil {
						b.Error(err)
						return
					}
					mu.Lock()
					ps = append(ps, p)
					mu.Unlock()
				}
			})
		}
		for i := range n {
			keys <- i
		}
		close(keys)
		wg.Wait()
		size := func() float64 {
			if _, err := pool.Exec(ctx, `VACUUM ANALYZE esimgw_operation`); err != nil {
				b.Fatal(err)
			}
			var bytes, rows int64
			if err := pool.QueryRow(ctx, `SELECT pg_total_relation_size('esimgw_operation'), (SELECT count(*) FROM esimgw_operation)`).
				Scan(&bytes, &rows); err != nil {
				b.Fatal(err)
			}
			if rows != n {
				b.Fatalf("%d rows, want %d", rows, n)
			}
			return float64(bytes) / float64(rows)
		}
		pendingB = size()
		work := make(chan *correlate.Pending)
		for range benchPoolConns {
			wg.Go(func() {
				for p := range work {
					if _, err := s.DeliverCallback(ctx, correlate.Delivery{RelatesTo: p.Key().MessageID, MessageID: "//cb/" + p.Key().MessageID,
						Value: storetest.Success()}); err != nil {
						b.Error(err)
					}
				}
			})
		}
		for _, p := range ps {
			work <- p
		}
		close(work)
		wg.Wait()
		resolvedB = size()
	}
	b.ReportMetric(pendingB, "B/pending-row")
	b.ReportMetric(resolvedB, "B/resolved-row")
}

package campaign_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/campaign"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/internal/pgtest"
)

// migrated is a pool on a fresh, migrated schema, with room for two workers' jobs (pgxpool's default of
// four connections would make the jobs queue for connections, not for the gateway).
func migrated(t testing.TB) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(pgtest.URL(t))
	require.NoError(t, err)
	cfg.MaxConns = 40
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	require.NoError(t, campaign.Migrate(t.Context(), pool))
	return pool
}

func manager(t testing.TB, pool *pgxpool.Pool) *campaign.Manager {
	t.Helper()
	m, err := campaign.NewManager(pool, campaign.WithManagerLogger(quiet()))
	require.NoError(t, err)
	return m
}

func count(t testing.TB, pool *pgxpool.Pool, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	require.NoError(t, pool.QueryRow(t.Context(), sql, args...).Scan(&n))
	return n
}

func TestMigrateConcurrentAndIdempotent(t *testing.T) {
	pool := pgtest.Pool(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = campaign.Migrate(t.Context(), pool) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err, "replicas migrating at once")
	}
	require.NoError(t, campaign.Migrate(t.Context(), pool), "again: a no-op")
	for _, table := range []string{"river_job", "esimgw_campaign", "esimgw_campaign_item", "esimgw_campaign_limit"} {
		assert.Equal(t, int64(1), count(t, pool, `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = $1`, table), table)
	}
}

func fleetLines(from, n int, extra ...string) string {
	var b strings.Builder
	b.WriteString("# EIDs and their fall-back ICCIDs\n")
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, "%s,%s\n", gatewaytest.FleetEID(i), gatewaytest.FleetFallbackICCID(i))
	}
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	return b.String()
}

func TestCreateBadLines(t *testing.T) {
	pool := migrated(t)
	m := manager(t, pool)
	good := fleetLines(0, 3)
	input := "eid,iccid\n" + good + "not-an-eid,8931\n" + gatewaytest.FleetEID(3) + "\n" + gatewaytest.FleetEID(4) + ",123\n" + strings.ToLower(gatewaytest.FleetEID(5)) + "," + gatewaytest.FleetFallbackICCID(5) + "\n"
	var seen []int64
	rep, err := m.Create(t.Context(), campaign.Spec{Key: "fb-1", Function: "es4.setfallbackattribute"}, campaign.CSV(strings.NewReader(input)),
		campaign.OnBadLine(func(le *campaign.LineError) { seen = append(seen, le.Line) }))
	require.NoError(t, err)
	assert.Equal(t, int64(4), rep.Queued, "three good lines and one lower-case EID")
	assert.Equal(t, int64(3), rep.BadCount)
	assert.Equal(t, []int64{6, 7, 8}, seen, "line numbers count the header and the comment")
	require.Len(t, rep.BadLines, 3)
	var ve *esimgw.ValidationError
	require.ErrorAs(t, rep.BadLines[0], &ve)
	assert.Equal(t, esimgw.FieldEID, ve.Field)
	assert.Contains(t, rep.BadLines[1].Error(), "needs an ICCID")
	require.ErrorAs(t, rep.BadLines[2], &ve)
	assert.Equal(t, esimgw.FieldICCID, ve.Field)
	assert.Equal(t, "ES4.SetFallBackAttribute", rep.Campaign.Function)
	assert.Equal(t, int64(4), rep.Campaign.Total)
	assert.Equal(t, int64(3), rep.Campaign.BadLines)
	assert.Equal(t, int64(4), count(t, pool, `SELECT count(*) FROM river_job WHERE kind = $1`, campaign.JobKind))
	assert.Equal(t, int64(1), count(t, pool, `SELECT count(*) FROM esimgw_campaign_item WHERE eid = $1`, gatewaytest.FleetEID(5)), "stored upper-case")
}

func TestCreateRefuseBadInput(t *testing.T) {
	pool := migrated(t)
	m := manager(t, pool)
	input := fleetLines(0, 100, "0000,"+gatewaytest.FleetFallbackICCID(0))
	_, err := m.Create(t.Context(), campaign.Spec{Key: "fb-2", Function: "ES4.SetFallBackAttribute"}, campaign.CSV(strings.NewReader(input)),
		campaign.RefuseBadInput(), campaign.WithBatchSize(7))
	var ie *campaign.InputError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, int64(1), ie.BadLines)
	assert.Equal(t, int64(102), ie.Lines[0].Line)
	for _, table := range []string{"river_job", "esimgw_campaign", "esimgw_campaign_item"} {
		assert.Zero(t, count(t, pool, `SELECT count(*) FROM `+table), "nothing half-created: %s", table)
	}
}

func TestCreateSourceFailsNothingCreated(t *testing.T) {
	pool := migrated(t)
	m := manager(t, pool)
	errDisk := errors.New("disk gone")
	n := 0
	src := campaign.SourceFunc(func(context.Context) (campaign.Entry, bool, error) {
		n++
		if n > 20 {
			return campaign.Entry{}, false, errDisk
		}
		return campaign.Entry{Line: int64(n), EID: gatewaytest.FleetEID(n)}, true, nil
	})
	_, err := m.Create(t.Context(), campaign.Spec{Key: "audit", Function: "ES4.GetEIS"}, src, campaign.WithBatchSize(3))
	require.ErrorIs(t, err, errDisk)
	assert.Zero(t, count(t, pool, `SELECT count(*) FROM river_job`))
	assert.Zero(t, count(t, pool, `SELECT count(*) FROM esimgw_campaign`))
}

func TestCreateAgainQueuesNothingTwice(t *testing.T) {
	pool := migrated(t)
	m := manager(t, pool)
	spec := campaign.Spec{Key: "fb-3", Function: "ES4.SetFallBackAttribute"}
	first := fleetLines(0, 50)
	rep, err := m.Create(t.Context(), spec, campaign.CSV(strings.NewReader(first+first)), campaign.WithBatchSize(16))
	require.NoError(t, err)
	assert.Equal(t, int64(50), rep.Queued)
	assert.Equal(t, int64(50), rep.Duplicates, "the repeated half of the file")
	// A re-run of the same file plus 10 more: only the 10 are new.
	rep, err = m.Create(t.Context(), spec, campaign.CSV(strings.NewReader(fleetLines(0, 60))))
	require.NoError(t, err)
	assert.Equal(t, int64(10), rep.Queued)
	assert.Equal(t, int64(50), rep.Duplicates)
	assert.Equal(t, int64(60), rep.Campaign.Total)
	assert.Equal(t, int64(60), count(t, pool, `SELECT count(*) FROM river_job`))
	assert.Equal(t, int64(60), count(t, pool, `SELECT count(DISTINCT args->>'e') FROM river_job`))

	_, err = m.Create(t.Context(), campaign.Spec{Key: "fb-3", Function: "ES4.EnableProfile"}, campaign.Slice())
	var me *campaign.SpecMismatchError
	require.ErrorAs(t, err, &me)
	assert.Equal(t, "function", me.Field)
}

func TestSpecValidation(t *testing.T) {
	pool := migrated(t)
	m := manager(t, pool)
	tests := []struct {
		name  string
		spec  campaign.Spec
		field string
	}{
		{"bad key", campaign.Spec{Key: "Has Space", Function: "ES4.GetEIS"}, "Key"},
		{"unknown function", campaign.Spec{Key: "k", Function: "ES4.Reboot"}, "Function"},
		{"bad default ICCID", campaign.Spec{Key: "k", Function: "ES4.EnableProfile", Arg: "12"}, "Arg"},
		{"negative rate", campaign.Spec{Key: "k", Function: "ES4.GetEIS", Rate: -1}, "Spec"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := m.Create(t.Context(), tt.spec, campaign.Slice(gatewaytest.FleetEID(0)))
			var ve *esimgw.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tt.field, ve.Field)
		})
	}
}

func TestSources(t *testing.T) {
	eid := gatewaytest.FleetEID(1)
	iccid := gatewaytest.FleetFallbackICCID(1)
	tests := []struct {
		name string
		src  campaign.Source
		want []campaign.Entry
		bad  []int64
	}{
		{"lines", campaign.Lines(strings.NewReader("# c\n" + eid + "\n\n " + eid + "  " + iccid + "\na b c\n")),
			[]campaign.Entry{{Line: 2, EID: eid}, {Line: 4, EID: eid, Arg: iccid}}, []int64{5}},
		{"csv", campaign.CSV(strings.NewReader("EID,ICCID\n" + eid + ",\"" + iccid + "\"\n1,2,3\n")),
			[]campaign.Entry{{Line: 2, EID: eid, Arg: iccid}}, []int64{3}},
		{"jsonl", campaign.JSONLines(strings.NewReader(`{"eid":"` + eid + `","iccid":"` + iccid + `"}` + "\n{\"eid\":1}\n{\"eid\":\"" + eid + "\"}\n")),
			[]campaign.Entry{{Line: 1, EID: eid, Arg: iccid}, {Line: 3, EID: eid}}, []int64{2}},
		{"jsonl profile type", campaign.JSONLines(strings.NewReader(`{"eid":"` + eid + `","profileType":"iot fallback"}` + "\n" +
			`{"eid":"` + eid + `","profileType":"x","iccid":"` + iccid + `"}` + "\n")),
			[]campaign.Entry{{Line: 1, EID: eid, Arg: campaign.ProfileTypePrefix + "iot fallback"}}, []int64{2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []campaign.Entry
			var bad []int64
			for {
				e, ok, err := tt.src.Next(t.Context())
				var le *campaign.LineError
				if errors.As(err, &le) {
					bad = append(bad, le.Line)
					continue
				}
				require.NoError(t, err)
				if !ok {
					break
				}
				got = append(got, e)
			}
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.bad, bad)
		})
	}
}

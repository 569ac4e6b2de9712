package campaign_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/campaign"
	"github.com/esimgw/esimgw/gatewaytest"
)

// sampled wraps a Source and samples the live heap every every entries.
type sampled struct {
	campaign.Source
	n, every int
	peak     uint64
}

func (s *sampled) Next(ctx context.Context) (campaign.Entry, bool, error) {
	s.n++
	if s.n%s.every == 0 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		s.peak = max(s.peak, ms.HeapAlloc)
	}
	return s.Source.Next(ctx)
}

// TestCreateMillion creates a campaign of createTestN EIDs (a million without the race detector) from a
// file: the creating process's live heap stays flat, and the insert rate and the database's cost per EID
// are reported.
func TestCreateMillion(t *testing.T) {
	n := createTestN
	path := filepath.Join(t.TempDir(), "fleet.csv")
	f, err := os.Create(path)
	require.NoError(t, err)
	bw := bufio.NewWriter(f)
	fmt.Fprintln(bw, "eid,iccid")
	for i := range n {
		fmt.Fprintf(bw, "%s,%s\n", gatewaytest.FleetEID(i), gatewaytest.FleetFallbackICCID(i))
	}
	require.NoError(t, bw.Flush())
	require.NoError(t, f.Close())

	pool := migrated(t)
	m := manager(t, pool)
	in, err := os.Open(path)
	require.NoError(t, err)
	defer in.Close()
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	src := &sampled{Source: campaign.CSV(in), every: n / 20}
	rep, err := m.Create(t.Context(), campaign.Spec{Key: "million", Function: "ES4.SetFallBackAttribute"}, src)
	require.NoError(t, err)
	require.Equal(t, int64(n), rep.Queued)
	growth := int64(src.peak) - int64(base)

	var itemBytes, jobBytes int64
	require.NoError(t, pool.QueryRow(t.Context(), `SELECT pg_total_relation_size('esimgw_campaign_item'), pg_total_relation_size('river_job')`).Scan(&itemBytes, &jobBytes))
	t.Logf("created %d EIDs in %s: %.0f EIDs/s inserted; live heap growth at peak %d KiB", n, rep.Elapsed, rep.Rate(), growth>>10)
	t.Logf("database per EID: 2 rows (an item, a job), %d bytes (item %d + job %d, indexes included)",
		(itemBytes+jobBytes)/int64(n), itemBytes/int64(n), jobBytes/int64(n))
	assert.Less(t, growth, int64(16<<20), "the creating process's memory must not grow with the file")
	assert.Equal(t, int64(n), count(t, pool, `SELECT count(*) FROM river_job`))
}

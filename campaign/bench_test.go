package campaign_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/esimgw/esimgw/bulk"
	"github.com/esimgw/esimgw/campaign"
	"github.com/esimgw/esimgw/es4"
	"github.com/esimgw/esimgw/gatewaytest"
)

// BenchmarkCampaignVsBulk runs ES4 AuditEIS over the same fleet of 2,000 eUICCs on the mock, alternately
// with bulk.Run (in one process, nothing stored) and as a campaign (one in-process Worker, every EID a
// River job and a stored result), 64 at a time either way, and reports both rates, their ratio and the
// database's cost per EID.
func BenchmarkCampaignVsBulk(b *testing.B) {
	const n, conc = 2000, 64
	gw := gatewaytest.Start(b, gatewaytest.WithSeed(gatewaytest.Seed{}), gatewaytest.WithFleet(n))
	op := gatewaytest.NewOperator(b, gw)
	c, err := es4.NewClient(gw.ES4URL, op.Options...)
	if err != nil {
		b.Fatal(err)
	}
	pool := migrated(b)
	m := manager(b, pool)
	startWorker(b, gw, pool, campaign.WithConcurrency(conc))
	var lines strings.Builder
	for i := range n {
		lines.WriteString(gatewaytest.FleetEID(i) + "\n")
	}
	var bulkTime, cmpTime, runTime time.Duration
	iter := 0
	for b.Loop() {
		t0 := time.Now()
		sum, err := bulk.Run(b.Context(), bulk.Seq(gatewaytest.FleetEIDs(n)), func(ctx context.Context, eid string) (struct{}, error) {
			o, err := c.AuditEIS(ctx, eid, nil)
			if err != nil {
				return struct{}{}, err
			}
			_, err = o.Wait(ctx)
			return struct{}{}, err
		}, nil, bulk.WithConcurrency(conc))
		if err != nil || sum.Succeeded != n {
			b.Fatalf("bulk: %+v %v", sum, err)
		}
		bulkTime += time.Since(t0)

		iter++
		key := fmt.Sprintf("bench-%d", iter)
		t0 = time.Now()
		if _, err := m.Create(b.Context(), campaign.Spec{Key: key, Function: "ES4.AuditEIS"}, campaign.Lines(strings.NewReader(lines.String()))); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		for {
			p, err := m.Progress(b.Context(), key)
			if err != nil {
				b.Fatal(err)
			}
			if p.Finished() {
				if p.Succeeded != n {
					b.Fatalf("campaign: %+v", p)
				}
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		cmpTime += time.Since(t0)
		runTime += time.Since(t1)
	}
	eids := float64(n * iter)
	b.ReportMetric(eids/bulkTime.Seconds(), "bulk-EIDs/s")
	b.ReportMetric(eids/cmpTime.Seconds(), "campaign-EIDs/s")
	b.ReportMetric(eids/runTime.Seconds(), "campaign-run-EIDs/s")
	b.ReportMetric(bulkTime.Seconds()/cmpTime.Seconds(), "campaign/bulk")
	var itemBytes, jobBytes int64
	if err := pool.QueryRow(b.Context(), `SELECT pg_total_relation_size('esimgw_campaign_item'), pg_total_relation_size('river_job')`).Scan(&itemBytes, &jobBytes); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(itemBytes+jobBytes)/eids, "DB-B/EID")
	b.ReportMetric(2, "DB-rows/EID")
}

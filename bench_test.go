package esimgw_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/soap"
)

// BenchmarkOutstanding100k registers 100k pending operations (what a fleet-wide EnableProfile leaves
// waiting for callbacks) and reports the live heap per outstanding operation and in total.
func BenchmarkOutstanding100k(b *testing.B) {
	const n = 100_000
	now := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	for b.Loop() {
		b.StopTimer()
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		base := ms.HeapAlloc
		t := esimgw.NewTracker(esimgw.WithMaxPending(2 * n))
		b.StartTimer()
		for i := range n {
			mid := soap.NewMessageID("1.3.6.1.4.1.99999.10", now)
			if _, err := t.Register(esimgw.OperationKey{MessageID: mid.String(), TransactionID: mid.TransactionID,
				FunctionCallIdentifier: mid.TransactionID, Interface: "ES4", Function: "EnableProfile"}); err != nil {
				b.Fatal(i, err)
			}
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		live := float64(ms.HeapAlloc - base)
		b.ReportMetric(live/n, "B/outstanding")
		b.ReportMetric(live/(1<<20), "MiB/100k")
		runtime.KeepAlive(t)
		b.StartTimer()
	}
}

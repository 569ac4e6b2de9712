package bulk

import (
	"context"
	"runtime"
	"strconv"
	"testing"
)

// BenchmarkRun measures the per-EID overhead of the pool (fn does nothing) and reports the live heap at
// the end of a 100k-EID run relative to its start ("live-B"), which must stay flat in N.
func BenchmarkRun(b *testing.B) {
	for _, conc := range []int{1, 8, 64} {
		b.Run("conc="+strconv.Itoa(conc), func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			src := SourceFunc(func(context.Context) (string, bool, error) {
				if n >= b.N {
					return "", false, nil
				}
				n++
				return "89049032000000000000000000000001", true, nil
			})
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			base := ms.HeapAlloc
			b.ResetTimer()
			_, err := Run(b.Context(), src, func(context.Context, string) (int, error) { return 1, nil }, func(Outcome[int]) {}, WithConcurrency(conc))
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(int64(ms.HeapAlloc)-int64(base)), "live-B")
		})
	}
}

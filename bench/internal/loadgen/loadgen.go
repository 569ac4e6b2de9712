// Package loadgen drives one kind of call from C goroutines for a fixed duration and reports throughput
// and latency percentiles as one JSON line, the format every peer client of bench/peers.sh prints (the
// node and Python clients print the same fields). CPU time and peak RSS are measured from outside, by
// /usr/bin/time, so that all peers are measured alike; the Go peers add the process's own CPU time,
// allocations and allocated bytes per call over the measured window only (warm-up excluded), which are
// steadier than throughput on a machine shared with other work.
package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Result is the JSON line a client prints.
type Result struct {
	Peer        string  `json:"peer"`
	Scenario    string  `json:"scenario"`
	Concurrency int     `json:"concurrency"`
	Calls       int64   `json:"calls"`
	Errors      int64   `json:"errors"`
	Seconds     float64 `json:"seconds"`
	OpsPerSec   float64 `json:"ops"`
	P50ms       float64 `json:"p50_ms"`
	P99ms       float64 `json:"p99_ms"`
	FirstError  string  `json:"first_error,omitempty"`
	// Over the measured window, per call (calls that failed included), from the process itself.
	CPUusPerCall  float64 `json:"cpu_us_per_call,omitempty"`
	AllocsPerCall float64 `json:"allocs_per_call,omitempty"`
	BytesPerCall  float64 `json:"bytes_per_call,omitempty"`
}

// Run calls call from conc goroutines: warm-up first (not measured), then for d (or until maxCalls).
// Latencies are kept in a preallocated per-worker slice, bounded by maxCalls.
func Run(ctx context.Context, peer, scenario string, conc int, warmup, d time.Duration, maxCalls int64, call func(ctx context.Context) error) Result {
	wctx, cancel := context.WithTimeout(ctx, warmup)
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for wctx.Err() == nil {
				_ = call(ctx)
			}
		}()
	}
	wg.Wait()
	cancel()

	var calls, errs atomic.Int64
	var firstErr atomic.Value
	lat := make([][]time.Duration, conc)
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	cpu0 := processCPU()
	deadline := time.Now().Add(d)
	start := time.Now()
	for i := range conc {
		wg.Add(1)
		lat[i] = make([]time.Duration, 0, min(maxCalls/int64(conc)+1, 1<<20))
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && calls.Add(1) <= maxCalls {
				t0 := time.Now()
				err := call(ctx)
				lat[i] = append(lat[i], time.Since(t0))
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	cpu := processCPU() - cpu0
	runtime.ReadMemStats(&ms1)
	all := slices.Concat(lat...)
	slices.Sort(all)
	r := Result{Peer: peer, Scenario: scenario, Concurrency: conc, Calls: int64(len(all)), Errors: errs.Load(), Seconds: el.Seconds()}
	if len(all) > 0 {
		r.OpsPerSec = float64(len(all)-int(r.Errors)) / el.Seconds()
		r.P50ms = ms(all[len(all)/2])
		r.P99ms = ms(all[min(len(all)-1, len(all)*99/100)])
		n := float64(len(all))
		r.CPUusPerCall = float64(cpu.Microseconds()) / n
		r.AllocsPerCall = float64(ms1.Mallocs-ms0.Mallocs) / n
		r.BytesPerCall = float64(ms1.TotalAlloc-ms0.TotalAlloc) / n
	}
	if v, ok := firstErr.Load().(string); ok {
		r.FirstError = v
	}
	return r
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// processCPU is the user and system CPU time the process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// PrintBench writes r as one line of Go benchmark format (BenchmarkPeer/<peer>/<scenario>/callers=<c>),
// so that runs of two builds can be compared with benchstat.
func PrintBench(w io.Writer, r Result) {
	ns := 0.0
	if r.OpsPerSec > 0 {
		ns = 1e9 / r.OpsPerSec
	}
	fmt.Fprintf(w, "BenchmarkPeer/%s/%s/callers=%d\t%d\t%.0f ns/op\t%.1f ops/s\t%.2f client-cpu-us/op\t%.1f allocs/op\t%.0f B/op\t%.3f p50-ms\t%.3f p99-ms\n",
		r.Peer, r.Scenario, r.Concurrency, r.Calls, ns, r.OpsPerSec, r.CPUusPerCall, r.AllocsPerCall, r.BytesPerCall, r.P50ms, r.P99ms)
}

// Print writes r as one JSON line.
func Print(w io.Writer, r Result) {
	b, _ := json.Marshal(r)
	fmt.Fprintln(w, string(b))
}

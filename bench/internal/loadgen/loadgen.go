// Package loadgen drives one kind of call from C goroutines for a fixed duration and reports throughput
// and latency percentiles as one JSON line, the format every peer client of bench/peers.sh prints (the
// node and Python clients print the same fields). CPU time and peak RSS are measured from outside, by
// /usr/bin/time, so that all peers are measured alike.
package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
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
	all := slices.Concat(lat...)
	slices.Sort(all)
	r := Result{Peer: peer, Scenario: scenario, Concurrency: conc, Calls: int64(len(all)), Errors: errs.Load(), Seconds: el.Seconds()}
	if len(all) > 0 {
		r.OpsPerSec = float64(len(all)-int(r.Errors)) / el.Seconds()
		r.P50ms = ms(all[len(all)/2])
		r.P99ms = ms(all[min(len(all)-1, len(all)*99/100)])
	}
	if v, ok := firstErr.Load().(string); ok {
		r.FirstError = v
	}
	return r
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Print writes r as one JSON line.
func Print(w io.Writer, r Result) {
	b, _ := json.Marshal(r)
	fmt.Fprintln(w, string(b))
}

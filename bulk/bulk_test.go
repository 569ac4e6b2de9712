package bulk

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var errOdd = errors.New("odd EID")

func eids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("8904903200000000000000000%07d", i)
	}
	return out
}

// failOdd fails every EID whose last digit is odd.
func failOdd(_ context.Context, eid string) (int, error) {
	if (eid[len(eid)-1]-'0')%2 == 1 {
		return 0, errOdd
	}
	return len(eid), nil
}

func TestRunOutcomes(t *testing.T) {
	tests := []struct {
		name        string
		n           int
		concurrency int
		wantOK      int64
	}{
		{"empty", 0, 4, 0},
		{"one", 1, 4, 1},
		{"sequential", 101, 1, 51},
		{"more workers than EIDs", 3, 64, 2},
		{"pool", 1000, 8, 500},
		{"zero concurrency means one", 10, 0, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := eids(tt.n)
			seen := make(map[int64]string)
			sum, err := Run(t.Context(), Slice(in), failOdd, func(o Outcome[int]) {
				_, dup := seen[o.Index]
				require.False(t, dup, "index %d delivered twice", o.Index)
				seen[o.Index] = o.EID
				if o.Err != nil {
					assert.ErrorIs(t, o.Err, errOdd)
				} else {
					assert.Equal(t, len(o.EID), o.Value)
				}
			}, WithConcurrency(tt.concurrency))
			require.NoError(t, err)
			assert.Equal(t, int64(tt.n), sum.Read)
			assert.Equal(t, tt.wantOK, sum.Succeeded)
			assert.Equal(t, int64(tt.n)-tt.wantOK, sum.Failed)
			require.Len(t, seen, tt.n)
			for i, eid := range in {
				assert.Equal(t, eid, seen[int64(i)])
			}
		})
	}
}

func TestRunConcurrencyBound(t *testing.T) {
	for _, limit := range []int{1, 3, 16} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			var cur, peak atomic.Int64
			full := make(chan struct{})
			var once sync.Once
			fn := func(ctx context.Context, _ string) (struct{}, error) {
				n := cur.Add(1)
				defer cur.Add(-1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				if n == int64(limit) {
					once.Do(func() { close(full) })
				}
				select { // the first calls wait until the pool is full, so the peak must reach the limit
				case <-full:
				case <-ctx.Done():
				}
				return struct{}{}, nil
			}
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // a safety net, not an assertion
			defer cancel()
			sum, err := Run(ctx, Slice(eids(10*limit)), fn, nil, WithConcurrency(limit))
			require.NoError(t, err)
			assert.Equal(t, int64(10*limit), sum.Succeeded)
			assert.Equal(t, int64(limit), peak.Load())
		})
	}
}

func collect(t *testing.T, src Source, opts ...Option) ([]string, Summary, error) {
	t.Helper()
	c := NewCollector[string]()
	sum, err := Run(t.Context(), src, func(_ context.Context, eid string) (string, error) { return eid, nil }, c.Add, opts...)
	var got []string
	for _, o := range c.Outcomes() {
		got = append(got, o.Value)
	}
	return got, sum, err
}

func TestSources(t *testing.T) {
	ch := make(chan string, 3)
	ch <- "a"
	ch <- "b"
	ch <- "c"
	close(ch)
	seq := func(yield func(string) bool) {
		for _, s := range []string{"x", "y", "z"} {
			if !yield(s) {
				return
			}
		}
	}
	tests := []struct {
		name string
		src  Source
		want []string
	}{
		{"slice", Slice([]string{"1", "2"}), []string{"1", "2"}},
		{"chan", Chan(ch), []string{"a", "b", "c"}},
		{"lines", Lines(strings.NewReader("# fleet\n e1 \n\n\te2\r\n#e3\ne4")), []string{"e1", "e2", "e4"}},
		{"seq", Seq(iter.Seq[string](seq)), []string{"x", "y", "z"}},
		{"func", SourceFunc(func(context.Context) (string, bool, error) { return "", false, nil }), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, sum, err := collect(t, tt.src, WithConcurrency(2))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, int64(len(tt.want)), sum.Read)
		})
	}
}

func TestSourceErrors(t *testing.T) {
	errRead := errors.New("disk gone")
	n := 0
	failing := SourceFunc(func(context.Context) (string, bool, error) {
		n++
		if n > 3 {
			return "", false, errRead
		}
		return fmt.Sprint(n), true, nil
	})
	long := Lines(strings.NewReader("e1\n" + strings.Repeat("x", 70<<10) + "\n"))
	tests := []struct {
		name     string
		src      Source
		wantErr  error
		wantRead int64
	}{
		{"read error after three", failing, errRead, 3},
		{"line too long", long, ErrLineTooLong, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, sum, err := collect(t, tt.src)
			require.ErrorIs(t, err, tt.wantErr)
			assert.Equal(t, tt.wantRead, sum.Read)
		})
	}
}

func TestSeqStoppedEarly(t *testing.T) {
	stopped := false
	seq := func(yield func(string) bool) {
		defer func() { stopped = true }()
		for i := 0; ; i++ {
			if !yield(fmt.Sprint(i)) {
				return
			}
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	_, err := Run(ctx, Seq(seq), func(context.Context, string) (int, error) { return 0, nil }, func(o Outcome[int]) {
		if o.Index == 10 {
			cancel()
		}
	}, WithConcurrency(2))
	require.ErrorIs(t, err, context.Canceled)
	assert.True(t, stopped, "the iterator must be stopped when the run ends early")
}

func TestStopOnError(t *testing.T) {
	var calls atomic.Int64
	fn := func(ctx context.Context, eid string) (int, error) {
		calls.Add(1)
		if eid == "boom" {
			return 0, errOdd
		}
		return 0, nil
	}
	in := append([]string{"a", "b", "boom"}, eids(1000)...)
	sum, err := Run(t.Context(), Slice(in), fn, nil, WithConcurrency(1), WithStopOnError())
	require.ErrorIs(t, err, ErrStopped)
	require.ErrorIs(t, err, errOdd)
	assert.Contains(t, err.Error(), "boom")
	assert.GreaterOrEqual(t, sum.Failed, int64(1), "boom, plus EIDs already handed over, reported as canceled")
	assert.Less(t, calls.Load(), int64(len(in)), "no new call may start once the failure was seen")
}

func TestCancelReportsEveryStartedEID(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var outcomes, canceled int64
	sum, err := Run(ctx, Slice(eids(10000)), func(ctx context.Context, _ string) (int, error) { return 0, ctx.Err() },
		func(o Outcome[int]) {
			outcomes++
			if errors.Is(o.Err, context.Canceled) {
				canceled++
			}
			if o.Index == 100 {
				cancel()
			}
		}, WithConcurrency(4))
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, sum.Read, outcomes, "every EID handed to a worker gets an outcome")
	assert.Less(t, sum.Read, int64(10000))
	assert.Equal(t, sum.Failed, canceled)
}

func TestProgress(t *testing.T) {
	var snaps []Progress
	sum, err := Run(t.Context(), Slice(eids(50)), failOdd, nil, WithConcurrency(3),
		WithProgress(func(p Progress) { snaps = append(snaps, p) }), WithProgressInterval(0))
	require.NoError(t, err)
	require.Len(t, snaps, 51, "one per outcome plus the final one")
	for i, p := range snaps[:50] {
		assert.Equal(t, int64(i+1), p.Done)
		assert.Equal(t, p.Done, p.Succeeded+p.Failed)
		assert.GreaterOrEqual(t, p.Started, p.Done)
		assert.LessOrEqual(t, p.InFlight, int64(2*3+1), "bounded by the pool, its result buffer and one handed over")
		assert.Equal(t, int64(50), p.Total)
		assert.False(t, p.Final)
	}
	last := snaps[50]
	assert.True(t, last.Final)
	assert.Equal(t, Progress{Total: 50, Started: 50, Done: 50, Succeeded: 25, Failed: 25, Elapsed: sum.Elapsed, Final: true}, last)
}

func TestProgressTotalOption(t *testing.T) {
	var last Progress
	_, err := Run(t.Context(), Lines(strings.NewReader("a\nb\n")), failOdd, nil,
		WithProgress(func(p Progress) { last = p }), WithTotal(2))
	require.NoError(t, err)
	assert.Equal(t, int64(2), last.Total)
	assert.True(t, last.Final)
}

func TestLimiterReserve(t *testing.T) {
	base := time.Unix(1000, 0)
	tests := []struct {
		name  string
		rate  float64
		burst int
		at    []time.Duration // call times, from base
		want  []time.Duration // waits
	}{
		{"burst then spaced", 10, 3, []time.Duration{0, 0, 0, 0, 0}, []time.Duration{0, 0, 0, 100 * time.Millisecond, 200 * time.Millisecond}},
		{"refills over time", 10, 1, []time.Duration{0, 100 * time.Millisecond, 150 * time.Millisecond}, []time.Duration{0, 0, 50 * time.Millisecond}},
		{"saves at most burst", 100, 2, []time.Duration{0, time.Hour, time.Hour, time.Hour}, []time.Duration{0, 0, 0, 10 * time.Millisecond}},
		{"burst below one is one", 1, 0, []time.Duration{0, 0}, []time.Duration{0, time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var now time.Time
			l := newLimiter(tt.rate, tt.burst, func() time.Time { return now })
			for i, at := range tt.at {
				now = base.Add(at)
				assert.InDelta(t, float64(tt.want[i]), float64(l.reserve()), float64(time.Microsecond), "call %d", i)
			}
		})
	}
}

func TestLimiterWaitCanceled(t *testing.T) {
	l := newLimiter(0.001, 1, time.Now)
	require.NoError(t, l.wait(t.Context()))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, l.wait(ctx), context.Canceled)
}

func TestRunWithRate(t *testing.T) {
	// A generous rate: this checks the plumbing, not the timing (TestLimiterReserve does that).
	sum, err := Run(t.Context(), Slice(eids(20)), failOdd, nil, WithRate(1e6, 5))
	require.NoError(t, err)
	assert.Equal(t, int64(20), sum.Read)
}

// TestFlatMemory runs 100k EIDs from a generating source and checks that neither the live heap nor the
// goroutine count grows with the fleet.
func TestFlatMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("100k EIDs")
	}
	const n, conc = 100_000, 64
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	baseHeap, baseG := ms.HeapAlloc, runtime.NumGoroutine()
	var peakHeap uint64
	peakG := 0
	i := 0
	src := SourceFunc(func(context.Context) (string, bool, error) {
		if i == n {
			return "", false, nil
		}
		i++
		return fmt.Sprintf("89049032%024d", i), true, nil
	})
	type result struct {
		eid    string
		status string
	}
	sum, err := Run(t.Context(), src, func(_ context.Context, eid string) (result, error) {
		return result{eid: eid, status: "Enabled"}, nil
	}, func(o Outcome[result]) {
		if o.Index%10_000 == 0 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peakHeap = max(peakHeap, ms.HeapAlloc)
			peakG = max(peakG, runtime.NumGoroutine())
		}
	}, WithConcurrency(conc))
	require.NoError(t, err)
	require.Equal(t, int64(n), sum.Succeeded)
	growth := int64(peakHeap) - int64(baseHeap)
	t.Logf("live heap growth at peak: %d bytes over %d EIDs; goroutines %d -> %d", growth, n, baseG, peakG)
	assert.Less(t, growth, int64(1<<20), "live heap must not grow with the fleet")
	assert.LessOrEqual(t, peakG, baseG+conc+3, "a fixed pool: workers, feeder, closer")
	runtime.GC()
	assert.LessOrEqual(t, runtime.NumGoroutine(), baseG+1, "no goroutine outlives the run")
}

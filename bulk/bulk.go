package bulk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Outcome is the result of fn for one EID.
type Outcome[T any] struct {
	Index    int64         // position of the EID in the source, from 0
	EID      string        // as the source gave it
	Value    T             // fn's result; meaningful when Err is nil (and whatever fn returned otherwise)
	Err      error         // fn's error, or the context's error if the run ended before fn was called
	Duration time.Duration // how long fn ran
}

// Progress is a snapshot of a run, handed to the WithProgress callback.
type Progress struct {
	Total     int64         // EIDs in the source if known (WithTotal, or a Source with Len), else 0
	Started   int64         // EIDs read from the source and handed to a worker
	Done      int64         // outcomes delivered: Succeeded + Failed
	Succeeded int64         // fn returned nil
	Failed    int64         // fn returned an error
	InFlight  int64         // Started - Done: running, or finished and not yet reported (at most 2*concurrency+1)
	Elapsed   time.Duration // since Run began
	Final     bool          // the last snapshot of the run
}

// Rate is the completion rate so far, in EIDs a second.
func (p Progress) Rate() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Done) / p.Elapsed.Seconds()
}

// ETA estimates the time left from the rate so far; zero when the total is unknown or nothing is done yet.
func (p Progress) ETA() time.Duration {
	r := p.Rate()
	if p.Total <= 0 || r <= 0 || p.Done >= p.Total {
		return 0
	}
	return time.Duration(float64(p.Total-p.Done) / r * float64(time.Second))
}

// Summary is what a run did; Run returns it even when it ends early.
type Summary struct {
	Read      int64 // EIDs read from the source
	Succeeded int64
	Failed    int64
	Elapsed   time.Duration
}

// ErrStopped is returned (wrapping the EID's error) by a run that WithStopOnError ended.
var ErrStopped = errors.New("bulk: stopped after an error")

// Option configures Run.
type Option func(*config)

type config struct {
	concurrency int
	rate        float64
	burst       int
	progress    func(Progress)
	interval    time.Duration
	total       int64
	stopOnError bool
	logger      *slog.Logger
}

// DefaultConcurrency is the number of workers unless WithConcurrency says otherwise.
const DefaultConcurrency = 16

// WithConcurrency sets the number of workers: at most n calls of fn run at once (default
// DefaultConcurrency; values below 1 mean 1).
func WithConcurrency(n int) Option { return func(c *config) { c.concurrency = n } }

// WithRate limits the start of calls to perSecond a second on average, with bursts of up to burst calls
// (a token bucket). Zero or negative perSecond means no limit (the default).
func WithRate(perSecond float64, burst int) Option {
	return func(c *config) { c.rate, c.burst = perSecond, burst }
}

// WithProgress calls fn with a snapshot at most every WithProgressInterval and once more at the end
// (Final set). fn runs on Run's own goroutine, never concurrently with itself or the sink: keep it short.
func WithProgress(fn func(Progress)) Option { return func(c *config) { c.progress = fn } }

// WithProgressInterval sets the minimum time between progress snapshots (default 100 ms; zero: one
// snapshot per outcome).
func WithProgressInterval(d time.Duration) Option { return func(c *config) { c.interval = d } }

// WithTotal tells Run how many EIDs the source holds, for progress and ETA, when the Source cannot say.
func WithTotal(n int64) Option { return func(c *config) { c.total = n } }

// WithStopOnError ends the run at the first failed EID: no new EID is started, calls in flight are
// cancelled through their context, and Run returns an error wrapping ErrStopped and the EID's error.
func WithStopOnError() Option { return func(c *config) { c.stopOnError = true } }

// WithLogger sets the logger for the start and end of a run (default: none).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

type job struct {
	index int64
	eid   string
}

// Run calls fn for every EID of src with at most WithConcurrency calls at once and hands each Outcome to
// sink (which may be nil) as soon as it is known, in completion order. sink and the progress callback run
// on the calling goroutine, one at a time, so they need no locking.
//
// Memory stays flat in the number of EIDs: src is read only as fast as workers take EIDs, outcomes are not
// kept, and the worker pool is fixed, so no goroutine is left behind by a finished EID.
//
// fn's errors are outcomes, not run failures. Run returns an error only if ctx ends (the EIDs then in
// flight still deliver their outcomes; EIDs not yet read are not reported), if src fails, or, with
// WithStopOnError, after the first failure.
func Run[T any](ctx context.Context, src Source, fn func(ctx context.Context, eid string) (T, error), sink func(Outcome[T]), opts ...Option) (Summary, error) {
	cfg := config{concurrency: DefaultConcurrency, interval: 100 * time.Millisecond}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.concurrency < 1 {
		cfg.concurrency = 1
	}
	if cfg.total == 0 {
		if l, ok := src.(interface{ Len() int }); ok {
			cfg.total = int64(l.Len())
		}
	}
	if s, ok := src.(interface{ Stop() }); ok {
		defer s.Stop()
	}
	start := time.Now()
	var lim *limiter
	if cfg.rate > 0 {
		lim = newLimiter(cfg.rate, cfg.burst, time.Now)
	}
	if cfg.logger != nil {
		cfg.logger.LogAttrs(ctx, slog.LevelInfo, "bulk: run started",
			slog.Int("concurrency", cfg.concurrency), slog.Float64("rate", cfg.rate), slog.Int64("total", cfg.total))
	}

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	jobs := make(chan job)
	results := make(chan Outcome[T], cfg.concurrency)
	var srcErr error // written by the feeder before it closes jobs
	var started atomic.Int64

	// The feeder reads the source and waits for the rate limiter; it alone touches src and lim.
	go func() {
		defer close(jobs)
		for i := int64(0); ; i++ {
			eid, ok, err := src.Next(runCtx)
			if err != nil {
				if runCtx.Err() == nil {
					srcErr = err
				}
				return
			}
			if !ok {
				return
			}
			if lim != nil {
				if err := lim.wait(runCtx); err != nil {
					return
				}
			}
			select {
			case jobs <- job{i, eid}:
				started.Add(1)
			case <-runCtx.Done():
				return
			}
		}
	}()

	var wg sync.WaitGroup
	wg.Add(cfg.concurrency)
	for range cfg.concurrency {
		go func() {
			defer wg.Done()
			for j := range jobs {
				o := Outcome[T]{Index: j.index, EID: j.eid}
				if err := runCtx.Err(); err != nil {
					o.Err = err // the run ended while this EID waited for a worker
				} else {
					t0 := time.Now()
					o.Value, o.Err = fn(runCtx, j.eid)
					o.Duration = time.Since(t0)
				}
				results <- o
			}
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()

	var p Progress
	p.Total = cfg.total
	var lastReport time.Time
	var stopErr error
	for o := range results {
		p.Done++
		if o.Err != nil {
			p.Failed++
			if cfg.stopOnError && stopErr == nil {
				stopErr = fmt.Errorf("%w: EID %s: %w", ErrStopped, o.EID, o.Err)
				cancel(stopErr)
			}
		} else {
			p.Succeeded++
		}
		if sink != nil {
			sink(o)
		}
		if cfg.progress != nil {
			now := time.Now()
			if now.Sub(lastReport) >= cfg.interval {
				lastReport = now
				p.Started = max(started.Load(), p.Done)
				p.InFlight, p.Elapsed = p.Started-p.Done, now.Sub(start)
				cfg.progress(p)
			}
		}
	}
	// Every worker has exited, so the feeder has closed jobs and srcErr is settled.
	sum := Summary{Read: p.Done, Succeeded: p.Succeeded, Failed: p.Failed, Elapsed: time.Since(start)}
	if cfg.progress != nil {
		p.Started, p.InFlight, p.Elapsed, p.Final = p.Done, 0, sum.Elapsed, true
		cfg.progress(p)
	}
	var err error
	switch {
	case stopErr != nil:
		err = stopErr
	case ctx.Err() != nil:
		err = ctx.Err()
	case srcErr != nil:
		err = srcErr
	}
	if cfg.logger != nil {
		cfg.logger.LogAttrs(ctx, slog.LevelInfo, "bulk: run finished", slog.Int64("read", sum.Read),
			slog.Int64("succeeded", sum.Succeeded), slog.Int64("failed", sum.Failed),
			slog.Duration("elapsed", sum.Elapsed), slog.Any("error", err))
	}
	return sum, err
}

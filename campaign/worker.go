package campaign

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/internal/timing"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/thingspace"
)

// Worker runs campaign jobs in this process: any number of processes, on one machine or many, may run
// Workers on the same database, and they share the campaigns' work and limits.
//
// For each EID a job (1) stops if the EID's result is stored, the campaign cancelled or paused (it then
// snoozes); (2) takes a rate token and an in-flight slot (acquireSQL); (3) sends the request with the
// EID's fixed FunctionCallIdentifier; (4) waits for the result for up to WithInlineWait, woken by
// PostgreSQL notifications, then snoozes (River re-runs it later) instead of holding a worker for the
// hours an eUICC may take. The result itself is stored by the Recorder on whichever process the callback
// reaches: give the callback server Recorder.Intercept(dispatcher), or Recorder.CallbackHandler as the
// Dispatcher's unmatched handler. A worker abandons its in-memory wait at once, so that every callback
// goes that way and is committed before it is acknowledged.
//
// A ThingSpace.* or DigiRM.* EID differs in (3) and (4): it is sent only from pending, the platform's
// request ID is committed with the move to sent, and a job that finds it resumes that request (waits for
// the callback that Recorder.ThingSpaceHandler stores, or polls the Digi transaction, each poll a token of
// the campaign's rate) instead of sending; an EID whose request may have run unanswered is recorded
// DescriptionOutcomeUnknown.
type Worker struct {
	pool     *pgxpool.Pool
	clients  Clients
	recorder *Recorder
	river    *river.Client[pgx.Tx]
	logger   *slog.Logger
	cfg      workerConfig

	mu      sync.Mutex
	waiters map[string][]chan struct{} // FunctionCallIdentifier -> jobs waiting for its result
	stored  chan struct{}              // closed (and replaced) at every stored result
	cancel  context.CancelFunc
	done    chan struct{}
}

type workerConfig struct {
	queues      []string
	concurrency int
	inlineWait  time.Duration
	snooze      time.Duration
	pauseSnooze time.Duration
	poll        time.Duration
	rescueAfter time.Duration
	backoff     time.Duration
	fetchPoll   time.Duration
	txFirst     time.Duration
	txMost      time.Duration
	afterSend   func(eid string, recorded bool) error // tests: a crash after a platform send
	id          string
	logger      *slog.Logger
	configRiver func(*river.Config)
}

// WorkerOption configures a Worker.
type WorkerOption func(*workerConfig)

// WithConcurrency sets how many EIDs this process works on at once per queue (River's MaxWorkers;
// default 64). Waiting EIDs snooze, so this bounds requests being sent and results being awaited inline,
// not the campaign's in-flight EIDs.
func WithConcurrency(n int) WorkerOption { return func(c *workerConfig) { c.concurrency = max(n, 1) } }

// WithQueues sets the River queues the worker serves (default DefaultQueue).
func WithQueues(names ...string) WorkerOption { return func(c *workerConfig) { c.queues = names } }

// WithInlineWait sets how long a job waits for its result before it snoozes (default 10 s): most results
// come in well under a second, and a snoozed job costs a River round trip.
func WithInlineWait(d time.Duration) WorkerOption { return func(c *workerConfig) { c.inlineWait = d } }

// WithSnooze sets how long a job whose result has not come snoozes before it looks again (default 30 s;
// it never looks later than the EID's result timeout).
func WithSnooze(d time.Duration) WorkerOption { return func(c *workerConfig) { c.snooze = d } }

// WithPauseSnooze sets how long a job of a paused campaign that was already fetched snoozes (default 30 s;
// queued jobs of a paused campaign are parked and not fetched at all).
func WithPauseSnooze(d time.Duration) WorkerOption {
	return func(c *workerConfig) { c.pauseSnooze = d }
}

// WithRescueStuckJobsAfter sets River's RescueStuckJobsAfter: how long a job may run before River takes
// it for one whose worker died and runs it again (default: the job timeout, WithInlineWait plus one
// minute, plus one minute). A rescued job repeats its FunctionCallIdentifier, so a rescue is never a
// second profile operation; a short value only makes a dead worker's EIDs resume sooner.
func WithRescueStuckJobsAfter(d time.Duration) WorkerOption {
	return func(c *workerConfig) { c.rescueAfter = d }
}

// WithOverloadBackoff sets how long every worker holds back when the gateway answers 503, 429 or a fault
// saying "too many" (default 5 s; campaigns without a rate limit retry the EID with River's backoff only).
func WithOverloadBackoff(d time.Duration) WorkerOption {
	return func(c *workerConfig) { c.backoff = d }
}

// WithFetchPollInterval sets how often River looks for jobs when no notification woke it (default 1 s).
func WithFetchPollInterval(d time.Duration) WorkerOption {
	return func(c *workerConfig) { c.fetchPoll = d }
}

// WithTransactionPolling sets how a sent DigiRM EID's transaction is polled: first that long after the
// send, then at twice the time since the send, at most most apart (default 30 s and 2 min, as
// digirm's own: Digi's actions take 3 to 10 minutes). Polls go through the worker's Digi client, and so
// through its throttle.
func WithTransactionPolling(first, most time.Duration) WorkerOption {
	return func(c *workerConfig) {
		if first > 0 {
			c.txFirst = first
		}
		c.txMost = max(most, c.txFirst)
	}
}

// WithWorkerID gives the worker a stable identity, unique among the live workers: the pod's or the
// host's name in a StatefulSet or a systemd unit, what stays the same across restarts of one replica.
// River's client then carries that ID, and on Start the worker takes back at once the jobs its previous
// incarnation was running when it died, instead of leaving them to River's rescuer (which looks every 30
// s for jobs running longer than WithRescueStuckJobsAfter). Two live workers with one ID would take each
// other's jobs: without a stable name, leave the ID to River.
func WithWorkerID(id string) WorkerOption { return func(c *workerConfig) { c.id = id } }

// WithWorkerLogger sets the logger of the worker and of its River client (default slog.Default()).
func WithWorkerLogger(l *slog.Logger) WorkerOption { return func(c *workerConfig) { c.logger = l } }

// WithRiverConfig adjusts the River client's configuration before it is made (JobTimeout, Hooks,
// ErrorHandler, ...); the fields the worker sets are in place when f runs.
func WithRiverConfig(f func(*river.Config)) WorkerOption {
	return func(c *workerConfig) { c.configRiver = f }
}

// NewWorker returns a Worker calling the gateway through clients. Call Start to begin, Stop to end.
func NewWorker(pool *pgxpool.Pool, clients Clients, opts ...WorkerOption) (*Worker, error) {
	cfg := workerConfig{queues: []string{DefaultQueue}, concurrency: 64, inlineWait: 10 * time.Second, snooze: 30 * time.Second,
		pauseSnooze: 30 * time.Second, poll: time.Second, backoff: 5 * time.Second, logger: slog.Default(),
		txFirst: 30 * time.Second, txMost: 2 * time.Minute}
	for _, o := range opts {
		o(&cfg)
	}
	w := &Worker{pool: pool, clients: clients, logger: cfg.logger, cfg: cfg, waiters: map[string][]chan struct{}{}, stored: make(chan struct{}),
		recorder: NewRecorder(pool, cfg.logger)}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, river.Worker[jobArgs](&jobWorker{w: w})); err != nil {
		return nil, fmt.Errorf("campaign: %w", err)
	}
	queues := make(map[string]river.QueueConfig, len(cfg.queues))
	for _, q := range cfg.queues {
		queues[q] = river.QueueConfig{MaxWorkers: cfg.concurrency}
	}
	jobTimeout := cfg.inlineWait + time.Minute
	rc := &river.Config{
		Queues: queues, Workers: workers, Logger: cfg.logger, JobTimeout: jobTimeout,
		RescueStuckJobsAfter: cfg.rescueAfter, FetchPollInterval: cfg.fetchPoll, ID: cfg.id,
	}
	if rc.RescueStuckJobsAfter == 0 {
		rc.RescueStuckJobsAfter = jobTimeout + time.Minute
	}
	if cfg.configRiver != nil {
		cfg.configRiver(rc)
	}
	client, err := river.NewClient(riverpgxv5.New(pool), rc)
	if err != nil {
		return nil, fmt.Errorf("campaign: %w", err)
	}
	w.river = client
	return w, nil
}

// Recorder is the worker's Recorder, for the callback server (Intercept) or the Dispatcher's unmatched
// handler (CallbackHandler).
func (w *Worker) Recorder() *Recorder { return w.recorder }

// River is the worker's River client, for what River offers beyond campaigns (its events, its UI).
func (w *Worker) River() *river.Client[pgx.Tx] { return w.river }

// Start starts fetching and working jobs, and listening for stored results, and returns. Jobs run with
// contexts inheriting from ctx: cancelling it stops the worker abruptly (running jobs are cancelled and
// their EIDs picked up again later), Stop stops it gracefully.
func (w *Worker) Start(ctx context.Context) error {
	if w.cfg.id != "" {
		// River's own table, written directly (as Pause does): River only rescues by age.
		tag, err := w.pool.Exec(ctx, `UPDATE river_job SET state = 'available', scheduled_at = now()
			WHERE state = 'running' AND kind = $1 AND attempted_by[array_length(attempted_by, 1)] = $2`, JobKind, w.cfg.id)
		if err != nil {
			return fmt.Errorf("campaign: taking back the jobs of worker %s: %w", w.cfg.id, err)
		}
		if n := tag.RowsAffected(); n > 0 {
			w.logger.LogAttrs(ctx, slog.LevelInfo, "campaign: took back the jobs a previous run of this worker left running",
				slog.String("worker", w.cfg.id), slog.Int64("jobs", n))
		}
	}
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w.cancel, w.done = cancel, make(chan struct{})
	go func() {
		defer close(w.done)
		w.listen(lctx)
	}()
	if err := w.river.Start(ctx); err != nil {
		cancel()
		<-w.done
		return fmt.Errorf("campaign: starting the worker: %w", err)
	}
	return nil
}

// Stop stops fetching jobs, waits for the running ones until ctx ends (their EIDs are then picked up
// again by any worker), and stops listening.
func (w *Worker) Stop(ctx context.Context) error {
	err := w.river.Stop(ctx)
	if w.cancel != nil {
		w.cancel()
		<-w.done
	}
	return err
}

// listen wakes the jobs waiting for a result when one is stored, on a connection of its own; when the
// connection fails the waiters still poll, and listen connects again.
func (w *Worker) listen(ctx context.Context) {
	for ctx.Err() == nil {
		// A connection of its own, outside the pool: it is held for as long as the worker runs.
		conn, err := pgx.ConnectConfig(ctx, w.pool.Config().ConnConfig.Copy())
		if err == nil {
			_, err = conn.Exec(ctx, "LISTEN "+notifyChannel)
			for err == nil {
				var n *pgconn.Notification
				n, err = conn.WaitForNotification(ctx)
				if err == nil {
					w.wake(n.Payload)
				}
			}
			_ = conn.Close(context.Background())
		}
		if ctx.Err() != nil {
			return
		}
		w.logger.LogAttrs(ctx, slog.LevelWarn, "campaign: result notifications interrupted; waiting jobs poll meanwhile", slog.Any("error", err))
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
		}
	}
}

func (w *Worker) subscribe(fci string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	w.waiters[fci] = append(w.waiters[fci], ch)
	w.mu.Unlock()
	return ch, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		list := w.waiters[fci]
		for i, c := range list {
			if c == ch {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(w.waiters, fci)
		} else {
			w.waiters[fci] = list
		}
	}
}

func (w *Worker) wake(fci string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	close(w.stored)
	w.stored = make(chan struct{})
	for _, ch := range w.waiters[fci] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// jobWorker is the River worker of campaign EIDs.
type jobWorker struct {
	river.WorkerDefaults[jobArgs]
	w *Worker
}

// item is what a job reads of its EID and campaign.
type item struct {
	c        Campaign
	state    string
	round    int
	arg      string
	sentAt   *time.Time
	attempts int
	ref      string // a carrier platform's request ID, once sent
}

func (w *Worker) load(ctx context.Context, a jobArgs) (item, error) {
	var it item
	var arg, ref *string
	var ms int64
	err := w.pool.QueryRow(ctx, `SELECT c.id, c.key, c.function, c.arg, c.state, c.limit_name, c.queue, c.result_timeout_ms, c.round,
			i.state, i.round, i.arg, i.sent_at, i.attempts, i.platform_ref
		FROM esimgw_campaign_item i JOIN esimgw_campaign c ON c.id = i.campaign_id
		WHERE i.campaign_id = $1 AND i.eid = $2`, a.Campaign, a.EID).Scan(
		&it.c.ID, &it.c.Key, &it.c.Function, &it.c.Arg, &it.c.State, &it.c.LimitName, &it.c.Queue, &ms, &it.c.Round,
		&it.state, &it.round, &arg, &it.sentAt, &it.attempts, &ref)
	it.c.ResultTimeout = time.Duration(ms) * time.Millisecond
	it.ref = deref(ref)
	it.arg = it.c.Arg
	if arg != nil {
		it.arg = *arg
	}
	return it, err
}

func (j *jobWorker) Work(ctx context.Context, job *river.Job[jobArgs]) error {
	w, a := j.w, job.Args
	it, err := w.load(ctx, a)
	if errors.Is(err, pgx.ErrNoRows) {
		return river.JobCancel(fmt.Errorf("campaign %d has no EID %s", a.Campaign, a.EID))
	}
	if err != nil {
		return err
	}
	fci := FunctionCallIdentifier(it.c.Key, a.Round, a.EID)
	fn, err := lookupFunction(it.c.Function)
	if err != nil {
		return river.JobCancel(err)
	}
	switch {
	case it.round != a.Round, it.state == itemDone:
		return nil // stored already, or a later round (RetryFailed) owns the EID now
	case it.state == itemCancelled, it.c.State == StateCancelled && (it.state == itemPending || it.state == itemSending && it.sentAt == nil):
		return river.JobCancel(fmt.Errorf("%w: %s", ErrCancelled, it.c.Key))
	case it.c.State == StatePaused && it.state != itemSent:
		return river.JobSnooze(w.cfg.pauseSnooze)
	case it.state == itemSent && fn.platform == esimgw.PlatformDigiRM:
		return w.pollTransaction(ctx, &it, a, fci)
	case it.state == itemSent:
		return w.await(ctx, &it, a, fci)
	case it.state == itemSending && fn.platform != "":
		// An earlier attempt moved it to sending and stopped before it committed the platform's answer:
		// the request may have gone, and the platform would run a second one.
		return w.store(ctx, fci, unknownOutcome(fn.platform, "an earlier attempt of this job stopped after the request may have been sent and before its answer was recorded"))
	case it.c.State == StateCancelled:
		// Sending when the campaign was cancelled, and an earlier run of this job stopped: its request may
		// have gone, so the EID is in flight, not cancelled. Nothing is sent again; its result is awaited
		// (until the campaign's ResultTimeout), as a sent one's is.
		return w.await(ctx, &it, a, fci)
	}
	from := []string{itemPending, itemSending} // SGP.02: a re-run sends again, with the same identifier
	if fn.platform != "" {
		from = from[:1]
	}
	acq, err := w.acquire(ctx, &it.c, a, from)
	if err != nil {
		return err
	}
	switch {
	case acq.state == StateCancelled:
		return river.JobCancel(fmt.Errorf("%w: %s", ErrCancelled, it.c.Key))
	case acq.state == StatePaused:
		return river.JobSnooze(w.cfg.pauseSnooze)
	case !acq.open && fn.platform != "":
		// Moved since it was read: by another run of this job (a rescue of one still alive). Whatever that
		// run does, this one sends nothing; it looks again after a snooze.
		return river.JobSnooze(w.cfg.snooze)
	case !acq.open:
		return nil // stored or sent meanwhile by another run: the next run, if any, sees it
	case acq.full:
		return river.JobSnooze(w.cfg.snooze)
	}
	if acq.wait > 0 {
		if err := timing.Sleep(ctx, acq.wait); err != nil {
			if it.sentAt == nil {
				// Not sent: back to pending. One an earlier run may have sent stays sending, in flight, for
				// the job's next run.
				_ = release(context.WithoutCancel(ctx), w.pool, &it.c, a, err)
			}
			return err
		}
		// The campaign may have been paused or cancelled while this EID waited for its token. An EID whose
		// request may have gone already (sent_at from an earlier run, which Cancel leaves in flight) goes
		// again whatever happened, with the same identifier, so that its result comes.
		if it.sentAt == nil {
			ok, err := goAhead(ctx, w.pool, &it.c, a)
			if err != nil {
				_ = release(context.WithoutCancel(ctx), w.pool, &it.c, a, err)
				return err
			}
			if !ok {
				return w.notSent(ctx, &it.c, a)
			}
		}
	}
	cl, err := fn.start(ctx, w.clients, a.EID, it.arg, []esimgw.CallOption{esimgw.WithFunctionCallIdentifier(fci)})
	switch {
	case err != nil && fn.platform != "":
		return w.platformSendFailed(ctx, job, &it, a, fci, fn, err)
	case err != nil:
		return w.sendFailed(ctx, job, &it, a, fci, err)
	case fn.platform != "":
		return w.platformSent(ctx, &it, a, fci, fn, cl)
	}
	if cl.final {
		return w.store(ctx, fci, cl.outcome)
	}
	// Withdraw the in-memory wait: the callback then reaches the Recorder, which commits it before it is
	// acknowledged. If the operation resolved already (a FAILED answer at once, a callback faster than the
	// 202), its result is here and is stored now. If the request's answer was lost, whether it ran is
	// unknown: it goes again (River's retry), with the same identifier, which a de-duplicating gateway
	// answers without running it twice.
	o, resolved, unknown := cl.op.settle()
	switch {
	case resolved:
		return w.store(ctx, fci, o)
	case unknown != nil:
		return w.sendFailed(ctx, job, &it, a, fci, unknown)
	}
	tag, err := w.pool.Exec(ctx, `UPDATE esimgw_campaign_item SET state = 'sent', sent_at = now(), message = NULL
		WHERE campaign_id = $1 AND eid = $2 AND round = $3 AND state = 'sending'`, a.Campaign, a.EID, a.Round)
	if err != nil {
		return err // the job runs again: the item is still sending, and its request goes out again with the same identifier
	}
	if tag.RowsAffected() == 0 {
		return nil // the result was stored before the acceptance was: nothing to wait for
	}
	now := time.Now()
	it.sentAt = &now
	return w.await(ctx, &it, a, fci)
}

// notSent ends a job whose EID was not sent after all, because its campaign was paused or cancelled while
// it waited for its rate token: a cancelled one's EID was marked cancelled by Cancel, any other goes back
// to pending and the job snoozes.
func (w *Worker) notSent(ctx context.Context, c *Campaign, a jobArgs) error {
	var state State
	if err := w.pool.QueryRow(ctx, `SELECT state FROM esimgw_campaign WHERE id = $1`, a.Campaign).Scan(&state); err != nil {
		return err
	}
	if state == StateCancelled {
		return river.JobCancel(fmt.Errorf("%w: %s", ErrCancelled, c.Key))
	}
	// Paused, or paused and resumed already, or the item moved: whatever is still sending goes back to
	// pending (release takes only that), and the job looks again after its snooze. Returning without a
	// snooze would leave a resumed campaign's EID sending for ever, since Resume wakes only parked jobs.
	if err := release(ctx, w.pool, c, a, errors.New("campaign paused before the request was sent")); err != nil {
		return err
	}
	if state == StatePaused {
		return river.JobSnooze(w.cfg.pauseSnooze)
	}
	return river.JobSnooze(w.cfg.snooze)
}

// acquire takes a rate token and an in-flight slot, waiting inline while the limit is full: a snooze
// would cost seconds (River moves snoozed jobs back on its scheduler's beat), and a slot frees as soon
// as a result is stored, which the result notification announces. Past WithInlineWait it gives up, and
// the job snoozes.
func (w *Worker) acquire(ctx context.Context, c *Campaign, a jobArgs, from []string) (acquired, error) {
	start := time.Now()
	for attempt := 0; ; attempt++ {
		acq, err := acquire(ctx, w.pool, c, a, from)
		if err != nil || !acq.full || time.Since(start) > w.cfg.inlineWait {
			return acq, err
		}
		d := min(5*time.Millisecond<<min(attempt, 6), 250*time.Millisecond)
		d = d/2 + rand.N(d) // jitter, so that the waiters of one freed slot do not all ask at once
		freed := w.freed()
		t := time.NewTimer(d)
		select {
		case <-freed:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return acq, ctx.Err()
		}
		t.Stop()
	}
}

// freed returns a channel closed at the next stored result, which may have freed an in-flight slot.
func (w *Worker) freed() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stored
}

func (w *Worker) store(ctx context.Context, fci string, o esimgw.Outcome) error {
	_, err := w.recorder.Record(ctx, fci, o)
	return err
}

// sendFailed handles a request that was not accepted: an invalid one is the EID's outcome; anything else
// (the network, the gateway's 5xx) is retried by River with the same identifier, until the job's last
// attempt, whose error becomes the EID's outcome. Only an EID whose request cannot have run gives back its
// slot meanwhile.
func (w *Worker) sendFailed(ctx context.Context, job *river.Job[jobArgs], it *item, a jobArgs, fci string, err error) error {
	var ve *esimgw.ValidationError
	if errors.As(err, &ve) {
		return w.store(ctx, fci, esimgw.OutcomeOf(nil, err))
	}
	if job.Attempt >= job.MaxAttempts {
		return w.store(ctx, fci, esimgw.OutcomeOf(nil, err))
	}
	// An attempt that may have run (its answer lost), or an EID an earlier run may have sent, stays
	// sending: in flight, never cancellable, and the job's retry sends it again with the same identifier,
	// which the gateway answers without running it twice. Anything else was not sent: back to pending.
	if !errors.Is(err, esimgw.ErrOutcomeUnknown) && it.sentAt == nil {
		if rerr := release(ctx, w.pool, &it.c, a, err); rerr != nil {
			return errors.Join(err, rerr)
		}
	}
	if overloaded(err) {
		if berr := backOff(ctx, w.pool, it.c.LimitName, w.cfg.backoff); berr != nil {
			w.logger.LogAttrs(ctx, slog.LevelWarn, "campaign: could not back off the shared limit", slog.Any("error", berr))
		}
	}
	return err
}

// overloaded reports whether the gateway (or a carrier platform) said it has too much to do.
func overloaded(err error) bool {
	var he *soap.HTTPError
	if errors.As(err, &he) && (he.StatusCode == 503 || he.StatusCode == 429) {
		return true
	}
	var ae *thingspace.APIError // = digirm.APIError: both are internal/rest's
	if errors.As(err, &ae) && (ae.StatusCode == 503 || ae.StatusCode == 429) {
		return true
	}
	var f *soap.Fault
	return errors.As(err, &f) && strings.Contains(strings.ToLower(f.Reason), "too many")
}

// await waits for the EID's stored result: inline up to WithInlineWait, then by snoozing; past the
// campaign's result timeout (counted from the acceptance) the EID is recorded NO_RESULT.
func (w *Worker) await(ctx context.Context, it *item, a jobArgs, fci string) error {
	ch, unsubscribe := w.subscribe(fci)
	defer unsubscribe()
	deadline := time.Now().Add(it.c.ResultTimeout)
	if it.sentAt != nil {
		deadline = it.sentAt.Add(it.c.ResultTimeout)
	}
	inline := time.NewTimer(min(w.cfg.inlineWait, time.Until(deadline)))
	defer inline.Stop()
	poll := time.NewTicker(w.cfg.poll)
	defer poll.Stop()
	for {
		var state string
		if err := w.pool.QueryRow(ctx, `SELECT state FROM esimgw_campaign_item WHERE campaign_id = $1 AND eid = $2 AND round = $3`,
			a.Campaign, a.EID, a.Round).Scan(&state); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return nil // a later round took the EID
			}
			return err
		}
		if state != itemSent && state != itemSending {
			return nil
		}
		select {
		case <-ch:
		case <-poll.C:
		case <-ctx.Done():
			return ctx.Err()
		case <-inline.C:
			left := time.Until(deadline)
			if left <= 0 {
				return w.store(ctx, fci, esimgw.Outcome{Status: esimgw.StatusNoResult,
					Description: "no result within the campaign's result timeout",
					Message:     fmt.Sprintf("no callback within %s of the request's acceptance", it.c.ResultTimeout)})
			}
			return river.JobSnooze(min(w.cfg.snooze, left))
		}
	}
}

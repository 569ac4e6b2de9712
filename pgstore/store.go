package pgstore

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgxlisten"

	"github.com/esimgw/esimgw/correlate"
)

// Defaults of the options.
const (
	DefaultRetention  = 7 * 24 * time.Hour
	DefaultClaimLease = time.Minute
	DefaultRecheck    = 2 * time.Second
)

// Store is a correlate.Store on PostgreSQL. Create it with New; Close it when done.
type Store struct {
	pool      *pgxpool.Pool
	local     *correlate.Tracker // this process's waiters
	logger    *slog.Logger
	channel   string
	retention time.Duration
	lease     time.Duration
	recheck   time.Duration
	sweep     time.Duration

	wake   chan string
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

var _ correlate.Store = (*Store)(nil)

// Option configures a Store.
type Option func(*Store)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(s *Store) {
		if l != nil {
			s.logger = l
		}
	}
}

// WithRetention sets how long finished operations (resolved or withdrawn) and handed-over MessageIDs are
// kept (default 7 days): within it a copy of their callback is recognised as a duplicate and a resume finds
// their result. Pending operations are kept until their deadline plus the retention.
func WithRetention(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.retention = d
		}
	}
}

// WithClaimLease sets how long a message claim holds when it is neither committed nor released (default
// one minute): a replica that died while handing a notification over blocks its redelivery that long. Make
// it longer than your slowest notification handler.
func WithClaimLease(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.lease = d
		}
	}
}

// WithRecheckInterval sets how often this process asks the database about the operations it waits for
// (default 2 s), in case a wake-up notification was lost (a connection dropped at the wrong moment): a lost
// notification delays a waiter by at most this much, never loses its result.
func WithRecheckInterval(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.recheck = d
		}
	}
}

// New returns a Store on pool, which must have been migrated (Migrate). It starts a listener on one
// connection of its own (LISTEN/NOTIFY wakes this process's waiters when another replica stores their
// result), a periodic re-check, and the retention sweep; Close stops them.
func New(ctx context.Context, pool *pgxpool.Pool, opts ...Option) (*Store, error) {
	s := &Store{pool: pool, logger: slog.New(slog.DiscardHandler), retention: DefaultRetention, lease: DefaultClaimLease,
		recheck: DefaultRecheck, sweep: time.Minute, wake: make(chan string, 4096)}
	for _, o := range opts {
		if o != nil {
			o(s)
		}
	}
	s.local = correlate.NewTracker(correlate.WithDuplicateWindow(0, 0))
	var schema string
	var version int
	err := pool.QueryRow(ctx, `SELECT current_schema(), coalesce((SELECT max(version) FROM esimgw_schema_version), 0)`).Scan(&schema, &version)
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42P01" {
			return nil, errors.New("pgstore: the database has no esimgw tables: run pgstore.Migrate first")
		}
		return nil, &correlate.StoreError{Op: "open", Err: err}
	}
	if version != len(migrations) {
		return nil, fmt.Errorf("pgstore: the database is at schema version %d, this build needs %d: run pgstore.Migrate", version, len(migrations))
	}
	// NOTIFY reaches every session of the database: a channel per schema keeps stores in different schemas
	// (tenants, tests) from waking each other.
	h := fnv.New64a()
	h.Write([]byte(schema))
	s.channel = "esimgw_op_" + strconv.FormatUint(h.Sum64(), 36)

	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	l := &pgxlisten.Listener{
		Connect: func(ctx context.Context) (*pgx.Conn, error) {
			c, err := pool.Acquire(ctx)
			if err != nil {
				return nil, err
			}
			return c.Hijack(), nil
		},
		LogError: func(ctx context.Context, err error) {
			if runCtx.Err() == nil {
				s.logger.LogAttrs(ctx, slog.LevelWarn, "pgstore: listener", slog.Any("error", err))
			}
		},
		ReconnectDelay: time.Second,
	}
	l.Handle(s.channel, listenHandler{s})
	s.wg.Add(3)
	go func() { defer s.wg.Done(); _ = l.Listen(runCtx) }()
	go func() { defer s.wg.Done(); s.wakeLoop(runCtx) }()
	go func() { defer s.wg.Done(); s.maintain(runCtx) }()
	return s, nil
}

// Close stops the listener and the background work. Waiters still pending stay pending in the database;
// a new Store resumes them (AttachOperation).
func (s *Store) Close() {
	s.once.Do(func() {
		s.cancel()
		s.wg.Wait()
	})
}

type listenHandler struct{ s *Store }

func (h listenHandler) HandleNotification(ctx context.Context, n *pgconn.Notification, _ *pgx.Conn) error {
	select {
	case h.s.wake <- n.Payload:
	default:
		// The wake loop is behind; the re-check will find it.
	}
	return nil
}

// HandleBacklog runs each time the listener (re)connects: results stored while it was not listening are
// found at once rather than at the next re-check.
func (h listenHandler) HandleBacklog(ctx context.Context, _ string, _ *pgx.Conn) error {
	// The listener's own goroutine holds a count of wg while it runs this, so Close waits for both.
	h.s.wg.Add(1)
	go func() { defer h.s.wg.Done(); h.s.recheckLocal(ctx) }()
	return nil
}

// errorKind says how a stored error is rebuilt.
const (
	errNone      = 0 // no error, or one the response itself states (its FunctionExecutionStatus)
	errMalformed = 1 // esimgw.ErrMalformedCallback
	errOther     = 2 // any other: kept as text
	errAbandoned = 3 // withdrawn
	errFunction  = 4 // a *esimgw.FunctionError no stored response states (the carriers'): JSON (rows.go)
)

// RegisterOperation inserts the operation before its request is sent. A database that cannot be reached
// fails it with a *correlate.StoreError, so nothing is sent.
func (s *Store) RegisterOperation(ctx context.Context, key correlate.OperationKey, deadline time.Time) (*correlate.Pending, error) {
	p, err := s.local.Register(key)
	if err != nil {
		return nil, err
	}
	var dl *time.Time
	if !deadline.IsZero() {
		dl = &deadline
	}
	// MessageIDs are new for every request: a MessageID taken after an attempt whose session was ended
	// under it (its commit may have happened) is that attempt's own row.
	var ended bool
	err = s.retry(ctx, func() error {
		_, err := s.pool.Exec(ctx, `INSERT INTO esimgw_operation
			(message_id, transaction_id, function_call_identifier, interface, function, deadline)
			VALUES ($1, $2, $3, $4, $5, $6)`,
			key.MessageID, key.TransactionID, key.FunctionCallIdentifier, key.Interface, key.Function, dl)
		var pgErr *pgconn.PgError
		if ended && errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "esimgw_operation_pkey" {
			return nil
		}
		ended = ended || terminated(err)
		return err
	})
	if err != nil {
		s.local.Withdraw(p)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			return nil, correlate.ErrKeyInUse
		}
		return nil, &correlate.StoreError{Op: "register " + key.Interface + " " + key.Function, Err: err}
	}
	return p, nil
}

// DeliverCallback resolves the operation in one statement, so that of copies delivered at once to several
// replicas exactly one wins; the others are Duplicate. The waiter is woken here when it is local, and by
// NOTIFY (sent when the statement commits) when it is at another replica.
func (s *Store) DeliverCallback(ctx context.Context, d correlate.Delivery) (correlate.DeliveryResult, error) {
	tx := d.TransactionID
	if tx == "" {
		tx = correlate.TransactionIDFromMessageID(d.MessageID)
	}
	element, body, kind, text, err := encodeResult(d.Value, d.Err)
	if err != nil {
		return correlate.DeliveryResult{}, &correlate.StoreError{Op: "deliver callback", Err: err}
	}
	var key correlate.OperationKey
	var matched bool
	err = s.retry(ctx, func() error {
		rows, err := s.pool.Query(ctx, `WITH target AS (
				SELECT message_id FROM esimgw_operation
				WHERE state = 0 AND ((message_id = $1 AND $1 <> '') OR (transaction_id = $2 AND $2 <> ''))
					-- only an operation of the function the callback answers (correlate.Delivery.Answers)
					AND ($9 = '' OR function = '' OR lower(function) = lower($9))
					AND ($10 = '' OR interface = '' OR lower(interface) = lower($10))
				ORDER BY (message_id = $1) DESC LIMIT 1),
			hit AS (
				UPDATE esimgw_operation o SET state = 1, finished_at = now(), result_element = $3, result_body = $4,
					result_error_kind = $5, result_error = $6, callback_message_id = $7
				FROM target WHERE o.message_id = target.message_id AND o.state = 0
				RETURNING o.message_id, o.transaction_id, o.function_call_identifier, o.interface, o.function)
			SELECT message_id, transaction_id, function_call_identifier, interface, function, pg_notify($8, message_id) FROM hit`,
			d.RelatesTo, tx, element, body, kind, text, d.MessageID, s.channel, d.Function, d.Interface)
		if err != nil {
			return err
		}
		defer rows.Close()
		matched = false
		for rows.Next() {
			if err := rows.Scan(&key.MessageID, &key.TransactionID, &key.FunctionCallIdentifier, &key.Interface, &key.Function, nil); err != nil {
				return err
			}
			matched = true
		}
		return rows.Err()
	})
	if err != nil {
		return correlate.DeliveryResult{}, &correlate.StoreError{Op: "deliver callback", Err: err}
	}
	if matched {
		// The local waiter, if it is here, gets the value as decoded, without a round trip.
		s.local.Deliver(correlate.Delivery{RelatesTo: key.MessageID, MessageID: d.MessageID, Value: d.Value, Err: d.Err})
		return correlate.DeliveryResult{Match: correlate.Matched, Key: key}, nil
	}
	// Not pending: a copy of a callback that resolved its operation already, one naming an operation of
	// another function (Mismatched), or nobody's.
	var found []correlate.OperationKey
	var states []int16
	err = s.retry(ctx, func() error {
		found, states = found[:0], states[:0]
		rows, err := s.pool.Query(ctx, `SELECT message_id, transaction_id, function_call_identifier, interface, function, state
			FROM esimgw_operation WHERE state IN (0, 1) AND ((message_id = $1 AND $1 <> '') OR (transaction_id = $2 AND $2 <> ''))
			ORDER BY (message_id = $1) DESC, finished_at DESC NULLS LAST LIMIT 2`, d.RelatesTo, tx)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k correlate.OperationKey
			var st int16
			if err := rows.Scan(&k.MessageID, &k.TransactionID, &k.FunctionCallIdentifier, &k.Interface, &k.Function, &st); err != nil {
				return err
			}
			found, states = append(found, k), append(states, st)
		}
		return rows.Err()
	})
	if err != nil {
		return correlate.DeliveryResult{}, &correlate.StoreError{Op: "deliver callback", Err: err}
	}
	for i, k := range found {
		if states[i] == 1 && d.Answers(k) {
			if _, waiting := s.local.Lookup(k.MessageID); waiting {
				// Resolved by a copy at another replica, whose NOTIFY has not come yet: no need to wait for it.
				s.refresh(ctx, k.MessageID)
			}
			return correlate.DeliveryResult{Match: correlate.Duplicate, Key: k}, nil
		}
	}
	for _, k := range found {
		if !d.Answers(k) {
			return correlate.DeliveryResult{Match: correlate.Mismatched, Key: k}, nil
		}
	}
	return correlate.DeliveryResult{Match: correlate.Unmatched}, nil
}

// ResolveOperation stores a direct result (a synchronous FAILED answer).
func (s *Store) ResolveOperation(ctx context.Context, p *correlate.Pending, value any, err error) (bool, error) {
	element, body, kind, text, eerr := encodeResult(value, err)
	if eerr != nil {
		return false, &correlate.StoreError{Op: "resolve", Err: eerr}
	}
	var n int64
	qerr := s.retry(ctx, func() error {
		tag, err := s.pool.Exec(ctx, `UPDATE esimgw_operation SET state = 1, finished_at = now(), result_element = $2,
			result_body = $3, result_error_kind = $4, result_error = $5 WHERE message_id = $1 AND state = 0`,
			p.Key().MessageID, element, body, kind, text)
		n = tag.RowsAffected()
		return err
	})
	if qerr != nil {
		return false, &correlate.StoreError{Op: "resolve", Err: qerr}
	}
	if n == 0 {
		// Resolved or withdrawn elsewhere first: the stored outcome stands, and the waiter gets it.
		s.refresh(ctx, p.Key().MessageID)
		return false, nil
	}
	return s.local.Resolve(p, value, err), nil
}

// WithdrawOperation marks the operation withdrawn unless its result got there first, in which case the
// waiter gets the result and it reports false. When the database cannot be reached the waiter is
// withdrawn here all the same (it must not hang), and the row stays pending: a late callback is kept for a
// resume rather than lost.
func (s *Store) WithdrawOperation(ctx context.Context, p *correlate.Pending, cause error) (bool, error) {
	if cause == nil {
		cause = correlate.ErrAbandoned
	}
	var n int64
	err := s.retry(ctx, func() error {
		tag, err := s.pool.Exec(ctx, `UPDATE esimgw_operation SET state = 2, finished_at = now(), result_error_kind = $2,
			result_error = $3 WHERE message_id = $1 AND state = 0`, p.Key().MessageID, errAbandoned, cause.Error())
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		s.local.WithdrawOperation(ctx, p, cause) //nolint:errcheck // the in-memory store never fails
		return true, &correlate.StoreError{Op: "withdraw", Err: err}
	}
	if n == 0 {
		s.refresh(ctx, p.Key().MessageID)
		if _, _, resolved := p.Result(); resolved {
			return false, nil
		}
	}
	ok, _ := s.local.WithdrawOperation(ctx, p, cause)
	return ok, nil
}

// AttachOperation finds the operation by MessageID, TransactionID or FunctionCallIdentifier, in this
// process first and then in the database (the most recent registration when a FunctionCallIdentifier was
// used more than once).
func (s *Store) AttachOperation(ctx context.Context, id string) (*correlate.Pending, error) {
	if id == "" {
		return nil, fmt.Errorf("%w: attach: the identifier must not be empty", correlate.ErrEmptyID)
	}
	if p, err := s.local.AttachOperation(ctx, id); err == nil {
		return p, nil
	}
	var r row
	err := s.retry(ctx, func() error {
		rows, err := s.pool.Query(ctx, `SELECT `+rowColumns+` FROM esimgw_operation
			WHERE message_id = $1 OR transaction_id = $1 OR function_call_identifier = $1
			ORDER BY (state = 0) DESC, registered_at DESC LIMIT 1`, id)
		if err != nil {
			return err
		}
		r, err = pgx.CollectExactlyOneRow(rows, scanRow)
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, correlate.ErrUnknownOperation
	}
	if err != nil {
		return nil, &correlate.StoreError{Op: "attach", Err: err}
	}
	switch r.state {
	case stateResolved:
		value, rerr := r.result()
		return correlate.NewResolvedPending(r.key, value, rerr), nil
	case stateWithdrawn:
		return correlate.NewWithdrawnPending(r.key, fmt.Errorf("%w: %s", correlate.ErrAbandoned, r.errText)), nil
	}
	p, err := s.local.Register(r.key)
	if errors.Is(err, correlate.ErrKeyInUse) {
		// Attached concurrently: share that handle.
		return s.local.AttachOperation(ctx, r.key.MessageID)
	}
	if err != nil {
		return nil, err
	}
	// The result may have been stored between the query and the registration, its NOTIFY unseen.
	s.refresh(ctx, r.key.MessageID)
	return p, nil
}

// PendingOperations lists pending operations of every replica, oldest first.
func (s *Store) PendingOperations(ctx context.Context, limit int) ([]correlate.OperationRecord, error) {
	var out []correlate.OperationRecord
	err := s.retry(ctx, func() error {
		q := `SELECT ` + rowColumns + ` FROM esimgw_operation WHERE state = 0 ORDER BY registered_at, message_id`
		args := []any{}
		if limit > 0 {
			q += ` LIMIT $1`
			args = append(args, limit)
		}
		rows, err := s.pool.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		rs, err := pgx.CollectRows(rows, scanRow)
		if err != nil {
			return err
		}
		out = out[:0]
		for _, r := range rs {
			out = append(out, r.record())
		}
		return nil
	})
	if err != nil {
		return nil, &correlate.StoreError{Op: "list pending", Err: err}
	}
	return out, nil
}

// CountPendingOperations counts the pending operations of every replica (correlate.PendingCounter: the
// Dispatcher's esimgw.operations.pending gauge, cached). It reads the partial index of pending rows.
func (s *Store) CountPendingOperations(ctx context.Context) (int64, error) {
	var n int64
	err := s.retry(ctx, func() error {
		return s.pool.QueryRow(ctx, `SELECT count(*) FROM esimgw_operation WHERE state = 0`).Scan(&n)
	})
	if err != nil {
		return 0, &correlate.StoreError{Op: "count pending", Err: err}
	}
	return n, nil
}

// ClaimMessage claims the MessageID with a lease, in one statement: a new MessageID, or one whose claim
// expired, is Claimed; a committed one HandedOver; one claimed by a live claim InProgress.
func (s *Store) ClaimMessage(ctx context.Context, scope correlate.MessageScope, messageID string) (correlate.ClaimResult, error) {
	var res correlate.ClaimResult
	err := s.retry(ctx, func() error {
		var claimed, committed bool
		err := s.pool.QueryRow(ctx, `WITH ins AS (
				INSERT INTO esimgw_message AS m (scope, message_id, claimed_until) VALUES ($1, $2, now() + make_interval(secs => $3))
				ON CONFLICT (scope, message_id) DO UPDATE SET claimed_until = excluded.claimed_until
				WHERE NOT m.committed AND m.claimed_until < now()
				RETURNING true AS claimed)
			SELECT coalesce((SELECT claimed FROM ins), false),
				coalesce((SELECT committed FROM esimgw_message WHERE scope = $1 AND message_id = $2), false)`,
			string(scope), messageID, s.lease.Seconds()).Scan(&claimed, &committed)
		switch {
		case err != nil:
			return err
		case claimed:
			res = correlate.Claimed
		case committed:
			res = correlate.HandedOver
		default:
			res = correlate.InProgress
		}
		return nil
	})
	if err != nil {
		return 0, &correlate.StoreError{Op: "claim message", Err: err}
	}
	return res, nil
}

// CommitMessage records the hand-over.
func (s *Store) CommitMessage(ctx context.Context, scope correlate.MessageScope, messageID string) error {
	err := s.retry(ctx, func() error {
		_, err := s.pool.Exec(ctx, `UPDATE esimgw_message SET committed = true, committed_at = now()
			WHERE scope = $1 AND message_id = $2`, string(scope), messageID)
		return err
	})
	if err != nil {
		return &correlate.StoreError{Op: "commit message", Err: err}
	}
	return nil
}

// ReleaseMessage drops a claim that was not committed.
func (s *Store) ReleaseMessage(ctx context.Context, scope correlate.MessageScope, messageID string) error {
	err := s.retry(ctx, func() error {
		_, err := s.pool.Exec(ctx, `DELETE FROM esimgw_message WHERE scope = $1 AND message_id = $2 AND NOT committed`,
			string(scope), messageID)
		return err
	})
	if err != nil {
		return &correlate.StoreError{Op: "release message", Err: err}
	}
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return &correlate.StoreError{Op: "ping", Err: err}
	}
	return nil
}

// Waiting returns the number of operations this process waits for.
func (s *Store) Waiting() int { return s.local.Pending() }

// retry runs f again when it failed in a way that proves the statement did not run (a connection that
// broke before the query was sent: after a short pause, at most three attempts), or on a pooled session the
// server had ended (see terminated: at once, on the next connection, as many times as the pool can hold
// dead ones). Other errors are returned.
func (s *Store) retry(ctx context.Context, f func() error) error {
	var err error
	pauses, dead := 0, 0
	for {
		err = f()
		switch {
		case err == nil:
			return nil
		case terminated(err) && dead <= int(s.pool.Config().MaxConns):
			dead++ // pgx has closed that connection; the pool hands out another
			continue
		case pgconn.SafeToRetry(err) && pauses < 2:
			pauses++
		default:
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(time.Duration(pauses) * 50 * time.Millisecond):
		}
	}
}

// terminated reports an error that says the server ended the session (pg_terminate_backend, a shutdown, a
// crash restart) rather than anything about the statement. A pooled connection whose session was ended
// while idle fails so on its next use; the server never read that statement. A session ended while it ran
// a statement aborted it, so it did not commit either; only one ended between a commit and its reply leaves
// the outcome unknown, and each statement of the store is written so that running it again then does no
// harm (RegisterOperation recognises its own row).
func terminated(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case "57P01", "57P02", "57P03": // admin_shutdown, crash_shutdown, cannot_connect_now
		return true
	}
	return false
}

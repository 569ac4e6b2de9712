package campaign

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/digirm"
	"github.com/esimgw/esimgw/internal/timing"
	"github.com/esimgw/esimgw/thingspace"
)

// Campaign functions on the carrier platforms: ThingSpace.* (Verizon ThingSpace) and DigiRM.* (Digi
// Remote Manager), each a profile action of esimgw.ProfileManager or esimgw.ProfileDownloader with the
// EID and the line's ICCID.
//
// Neither platform de-duplicates a request (there is no FunctionCallIdentifier to send), so the SGP.02
// path (send again with the same identifier whenever the outcome is unknown) would run the action twice.
// Instead a platform EID is sent at most once per round:
//
//   - the move to sending is committed before the request leaves (acquireSQL), and only from pending;
//   - the platform's answer (ThingSpace's requestId, Digi's transaction) is committed in the item with
//     the move to sent (markSent); a job that runs again finds it there and resumes that request: it waits
//     for the ThingSpace callback, or polls the Digi transaction, and never sends;
//   - a job that finds its item in sending (an earlier attempt died between the send and that commit), or
//     whose request got no answer after it was written (an UncertainError, a 5xx, a cancelled context),
//     records the EID as ERROR "outcome unknown ... audit first": whether the action ran is for an audit to
//     say. RetryFailed sends it again, in a new round, when the operator chooses to;
//   - only a request the platform refused unread (429, 503, 408), or that could not connect, is released
//     to pending and retried by River.

// platformStarted is the call of a carrier platform's action: its operation and request ID.
func platformStarted[T any](op *esimgw.Operation[T], err error, warning func(T) *esimgw.Warning) (call, error) {
	if err != nil {
		return call{}, err
	}
	return call{op: resultOp[T]{op, warning}, ref: op.FunctionCallIdentifier()}, nil
}

// downloader is the worker's client of carrier platform p, or nil when it has none.
func (c Clients) downloader(p esimgw.Platform) esimgw.ProfileDownloader {
	switch {
	case p == esimgw.PlatformThingSpace && c.ThingSpace != nil:
		return c.ThingSpace
	case p == esimgw.PlatformDigiRM && c.DigiRM != nil:
		return c.DigiRM
	}
	return nil
}

// platformFn is the campaign function p.name, started on the worker's client of p.
func platformFn(p esimgw.Platform, name string, arg ArgKind, start func(ctx context.Context, d esimgw.ProfileDownloader, eid, arg string) (call, error)) function {
	return function{name: string(p) + "." + name, platform: p, arg: arg,
		start: func(ctx context.Context, c Clients, eid, arg string, _ []esimgw.CallOption) (call, error) {
			d := c.downloader(p)
			if d == nil {
				return call{}, ErrNoClient
			}
			return start(ctx, d, eid, arg)
		}}
}

// platformAction is a profile action of esimgw.ProfileManager (enable, disable, delete) on the line's ICCID.
func platformAction(p esimgw.Platform, name string, m func(esimgw.ProfileManager, context.Context, esimgw.ProfileRef) (*esimgw.Operation[*esimgw.Result], error)) function {
	return platformFn(p, name, ArgICCID, func(ctx context.Context, d esimgw.ProfileDownloader, eid, iccid string) (call, error) {
		op, err := m(d, ctx, esimgw.ProfileRef{EID: eid, ICCID: iccid})
		return platformStarted(op, err, resultWarning)
	})
}

// platformDownload is a download of esimgw.ProfileDownloader, its DownloadSpec made from the line.
func platformDownload(p esimgw.Platform, name string, arg ArgKind, spec func(eid, arg string) esimgw.DownloadSpec) function {
	return platformFn(p, name, arg, func(ctx context.Context, d esimgw.ProfileDownloader, eid, a string) (call, error) {
		op, err := d.Download(ctx, spec(eid, a))
		return platformStarted(op, err, downloadWarning)
	})
}

// thingSpaceDownload downloads the line's ICCID, enabling it once installed when enable is set.
func thingSpaceDownload(name string, enable bool) function {
	return platformDownload(esimgw.PlatformThingSpace, name, ArgICCID, func(eid, iccid string) esimgw.DownloadSpec {
		return esimgw.DownloadSpec{EID: eid, ICCID: iccid, Enable: enable}
	})
}

// digiDownload is DigiRM.Download: one download transaction, by the ICCID of an activation code
// registered with Digi or by an activation code (ActivationCodePrefix). Download-and-enable is two
// transactions (the second sent once the first completed), which one sent-once item cannot hold: run a
// DigiRM.Enable campaign afterwards.
func digiDownload() function {
	return platformDownload(esimgw.PlatformDigiRM, "Download", ArgDigiProfile, func(eid, arg string) esimgw.DownloadSpec {
		if code, ok := strings.CutPrefix(arg, ActivationCodePrefix); ok {
			return esimgw.DownloadSpec{EID: eid, ActivationCode: code}
		}
		return esimgw.DownloadSpec{EID: eid, ICCID: arg}
	})
}

// DescriptionOutcomeUnknown is the Description of a platform EID whose request may have run but whose
// answer was lost: it is not sent again (the platform would run it twice). Audit the device, then
// RetryFailed if it did not run.
const DescriptionOutcomeUnknown = "outcome unknown: the request may have run and is not sent again; audit first"

func unknownOutcome(p esimgw.Platform, why string) esimgw.Outcome {
	return esimgw.Outcome{Status: esimgw.StatusError, Description: DescriptionOutcomeUnknown,
		Message: fmt.Sprintf("%s; %s does not de-duplicate requests, so the campaign does not send it again: audit the device (RetryFailed sends it in a new round)", why, p)}
}

// sendVerdict is what a failed platform send means.
type sendVerdict int

const (
	notSent     sendVerdict = iota // nothing ran: retry (River), same round
	refused                        // the platform answered with a refusal: the EID's outcome
	unknownSent                    // it may have run: never resend
)

// classifySend tells a platform request that surely did not run from one that may have.
func classifySend(err error) sendVerdict {
	var ve *esimgw.ValidationError
	var ae *thingspace.APIError // = digirm.APIError
	var oe *net.OpError
	var dns *net.DNSError
	var cve *tls.CertificateVerificationError
	switch {
	case errors.Is(err, ErrNoClient), errors.As(err, &dns), errors.As(err, &cve):
		return notSent
	case errors.As(err, &ve):
		return refused
	case errors.As(err, &ae):
		switch {
		case ae.StatusCode == http.StatusTooManyRequests, ae.StatusCode == http.StatusServiceUnavailable, ae.StatusCode == http.StatusRequestTimeout:
			return notSent // refused unread
		case ae.StatusCode >= 500:
			return unknownSent // 500, 502, 504: it may have run behind the error
		}
		return refused
	case errors.As(err, &oe) && oe.Op == "dial":
		return notSent
	}
	// An UncertainError (written, no answer), an answer that could not be read, a context that ended
	// while the request was out: it may have run.
	return unknownSent
}

// refusedOutcome is the outcome of a request the platform refused (HTTP 4xx) or that was invalid.
func refusedOutcome(p esimgw.Platform, err error) esimgw.Outcome {
	var ae *thingspace.APIError
	if !errors.As(err, &ae) {
		return esimgw.OutcomeOf(nil, err)
	}
	code := fmt.Sprintf("HTTP %d", ae.StatusCode)
	if ae.Code != "" {
		code += " " + ae.Code
	}
	return esimgw.Outcome{Status: esimgw.StatusFailed, StatusCode: code, Description: "request refused by " + string(p), Message: err.Error()}
}

// platformSendFailed handles a platform request that returned an error, by what the error says about
// whether it ran.
func (w *Worker) platformSendFailed(ctx context.Context, job *river.Job[jobArgs], it *item, a jobArgs, fci string, fn function, err error) error {
	switch classifySend(err) {
	case refused:
		return w.store(ctx, fci, refusedOutcome(fn.platform, err))
	case unknownSent:
		return w.store(ctx, fci, unknownOutcome(fn.platform, "the request got no usable answer after it was sent ("+err.Error()+")"))
	}
	return w.sendFailed(ctx, job, it, a, fci, err) // not sent: River retries it, or records the last error
}

// platformSent records the platform's request ID with the move to sent, then waits for its result: by
// callback for ThingSpace (the Recorder's ThingSpaceHandler stores it), by polling for Digi.
func (w *Worker) platformSent(ctx context.Context, it *item, a jobArgs, fci string, fn function, cl call) error {
	// The in-memory wait is withdrawn at once: a later ThingSpace callback goes to the unmatched handler
	// (the Recorder), and Digi's own poller stops (the worker polls, durably, instead).
	o, resolved, _ := cl.op.settle()
	if h := w.cfg.afterSend; h != nil {
		if err := h(a.EID, false); err != nil {
			return err // a test's crash before the request ID is committed
		}
	}
	var moved bool
	var err error
	for attempt := range 3 {
		// Not the job's context: the request is out, and its ID must be kept if at all possible.
		if moved, err = w.markSent(context.WithoutCancel(ctx), a, fn.platform, cl.ref); err == nil {
			break
		}
		w.logger.LogAttrs(ctx, slog.LevelWarn, "campaign: recording the platform's request ID failed",
			slog.String("functionCallIdentifier", fci), slog.String("ref", cl.ref), slog.Any("error", err))
		time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
	}
	if err != nil {
		return err // the job runs again, finds the item sending without an ID, and records the outcome unknown
	}
	if resolved {
		return w.store(ctx, fci, o) // the result came with the answer (or beat it): stored now
	}
	if !moved {
		return nil // stored meanwhile, or another run took the EID
	}
	if h := w.cfg.afterSend; h != nil {
		if err := h(a.EID, true); err != nil {
			return err // a test's crash after the request ID is committed
		}
	}
	now := time.Now()
	it.sentAt, it.ref = &now, cl.ref
	if fn.platform == esimgw.PlatformDigiRM {
		return w.pollTransaction(ctx, it, a, fci)
	}
	return w.await(ctx, it, a, fci)
}

// refLockSQL serializes the worker's commit of a request ID and the Recorder's look-up of a result by
// that ID, so that a result that arrives before the ID is committed is kept (orphan) and found.
const refLockSQL = `SELECT pg_advisory_xact_lock(hashtextextended('esimgw_campaign_ref:' || $1 || ':' || $2, 0))`

// markSent moves a sending item to sent with the platform's request ID and stores a result that came
// before it (an orphan), in one transaction. It reports whether the item moved.
func (w *Worker) markSent(ctx context.Context, a jobArgs, p esimgw.Platform, ref string) (bool, error) {
	tx, err := w.pool.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, refLockSQL, string(p), ref); err != nil {
		return false, err
	}
	tag, err := tx.Exec(ctx, `UPDATE esimgw_campaign_item SET state = 'sent', sent_at = now(), message = NULL, platform_ref = $4
		WHERE campaign_id = $1 AND eid = $2 AND round = $3 AND state = 'sending'`, a.Campaign, a.EID, a.Round, ref)
	if err != nil {
		return false, err
	}
	if tag.RowsAffected() == 0 {
		return false, tx.Commit(ctx)
	}
	var o esimgw.Outcome
	var code, desc, msg *string
	err = tx.QueryRow(ctx, `DELETE FROM esimgw_campaign_orphan WHERE platform = $1 AND ref = $2
		RETURNING outcome, status_code, description, message`, string(p), ref).Scan(&o.Status, &code, &desc, &msg)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return false, err
	default:
		o.StatusCode, o.Description, o.Message = deref(code), deref(desc), deref(msg)
		var key string
		if err := tx.QueryRow(ctx, `SELECT key FROM esimgw_campaign WHERE id = $1`, a.Campaign).Scan(&key); err != nil {
			return false, err
		}
		if _, err := recordOn(ctx, tx, FunctionCallIdentifier(key, a.Round, a.EID), o); err != nil {
			return false, err
		}
	}
	return true, tx.Commit(ctx)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// RecordPlatform stores the outcome of the campaign request a carrier platform names by ref (its
// requestId or transaction), whichever process receives it. When no item names ref yet (the result beat
// the worker's commit of the request ID, or it is no campaign's), it is kept in esimgw_campaign_orphan,
// where the worker's commit finds it; orphans older than a week are dropped. It reports whether a
// campaign item named ref (and was not done yet).
func (r *Recorder) RecordPlatform(ctx context.Context, p esimgw.Platform, ref string, o esimgw.Outcome) (bool, error) {
	if ref == "" {
		return false, nil
	}
	tx, err := r.pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("campaign: recording %s request %s: %w", p, ref, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, refLockSQL, string(p), ref); err != nil {
		return false, fmt.Errorf("campaign: recording %s request %s: %w", p, ref, err)
	}
	var key, eid string
	var round int
	err = tx.QueryRow(ctx, `SELECT c.key, i.eid, i.round FROM esimgw_campaign_item i JOIN esimgw_campaign c ON c.id = i.campaign_id
		WHERE i.platform_ref = $1 AND c.function LIKE $2 || '.%'`, ref, string(p)).Scan(&key, &eid, &round)
	stored := false
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		if _, err := tx.Exec(ctx, `INSERT INTO esimgw_campaign_orphan (platform, ref, outcome, status_code, description, message)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (platform, ref) DO NOTHING`, string(p), ref, string(o.Status),
			nullIfEmpty(o.StatusCode), nullIfEmpty(o.Description), nullIfEmpty(o.Message)); err != nil {
			return false, fmt.Errorf("campaign: keeping %s request %s: %w", p, ref, err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM esimgw_campaign_orphan WHERE received_at < now() - interval '7 days'`); err != nil {
			return false, fmt.Errorf("campaign: dropping old orphans: %w", err)
		}
	case err != nil:
		return false, fmt.Errorf("campaign: recording %s request %s: %w", p, ref, err)
	default:
		if stored, err = recordOn(ctx, tx, FunctionCallIdentifier(key, round, eid), o); err != nil {
			return false, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("campaign: recording %s request %s: %w", p, ref, err)
	}
	return stored, nil
}

// ThingSpaceHandler returns the handler for thingspace.WithUnmatchedHandler on the ThingSpace client of
// every replica that receives ThingSpace callbacks: it stores a campaign request's final callback through
// RecordPlatform (committed before the callback is acknowledged; an error answers 500, so ThingSpace
// delivers it again) and passes callbacks of no campaign item to next (nil: nothing more). Campaign
// workers withdraw their in-memory waits at once, so their callbacks arrive here, on whichever replica.
// Warning callbacks (EXECUTED_WITHWARNING) are progress and never come here; the final one does.
func (r *Recorder) ThingSpaceHandler(next func(ctx context.Context, cb *thingspace.Callback) error) func(ctx context.Context, cb *thingspace.Callback) error {
	return func(ctx context.Context, cb *thingspace.Callback) error {
		st := cb.ExecutionStatus()
		o := esimgw.OutcomeOf(nil, nil)
		if st.Status.Canonical() != esimgw.StatusExecutedSuccess {
			o = esimgw.OutcomeOf(nil, &esimgw.FunctionError{Interface: string(esimgw.PlatformThingSpace), ExecutionStatus: st,
				FunctionCallIdentifier: cb.RequestID})
		}
		stored, err := r.RecordPlatform(ctx, esimgw.PlatformThingSpace, cb.RequestID, o)
		if err != nil {
			return err
		}
		if !stored && next != nil {
			return next(ctx, cb)
		}
		return nil
	}
}

// digiOutcome is the outcome of a final Digi transaction: complete, or failed with Digi's message_code as
// the code (Digi reports no SGP.02 codes), or unknown (the device did not confirm: audit first).
func digiOutcome(t *digirm.Transaction) esimgw.Outcome {
	switch t.Status {
	case digirm.StatusComplete:
		return esimgw.Outcome{Status: esimgw.StatusExecutedSuccess}
	case digirm.StatusFailed:
		return esimgw.Outcome{Status: esimgw.StatusFailed, StatusCode: t.MessageCode, Description: "transaction failed at Digi Remote Manager",
			Message: t.Message}
	}
	return esimgw.Outcome{Status: esimgw.StatusNoResult, StatusCode: t.Status,
		Description: "Digi Remote Manager could not confirm the change (transaction " + t.Status + "); audit first", Message: t.Message}
}

// pollTransaction follows a sent DigiRM EID's transaction (GET /progress/{tx}) from this job: inline
// while the next poll is due within WithInlineWait, else by snoozing until it is, so that no River worker
// is held for the minutes a transaction takes. Polls back off as Digi's client does: the first
// WithTransactionPolling's first after the send, then at twice the time since the send, at most its most
// apart. Any worker may poll: the transaction ID is in the item. Each poll takes a token of the campaign's
// rate limit (takeToken), so that Spec.Rate bounds every request toward Digi's account, from all workers.
func (w *Worker) pollTransaction(ctx context.Context, it *item, a jobArgs, fci string) error {
	c := w.clients.DigiRM
	if c == nil {
		w.logger.LogAttrs(ctx, slog.LevelWarn, "campaign: a DigiRM EID is sent but this worker has no Digi client; snoozing for one that has",
			slog.String("functionCallIdentifier", fci))
		return river.JobSnooze(w.cfg.snooze)
	}
	sent := time.Now()
	if it.sentAt != nil {
		sent = *it.sentAt
	}
	deadline := sent.Add(it.c.ResultTimeout)
	inlineEnd := time.Now().Add(w.cfg.inlineWait)
	first, most := w.cfg.txFirst, w.cfg.txMost
	for {
		elapsed := time.Since(sent)
		next := first - elapsed
		if elapsed >= first {
			// Digi throttles the account: a poll takes a token of the campaign's rate like a send does.
			wait, full, err := takeToken(ctx, w.pool, it.c.LimitName)
			switch {
			case err != nil:
				return err
			case full:
				if time.Now().Add(maxAhead).After(inlineEnd) {
					return river.JobSnooze(maxAhead)
				}
				if err := timing.Sleep(ctx, maxAhead/4+rand.N(maxAhead/2)); err != nil {
					return err
				}
				continue
			}
			if err := timing.Sleep(ctx, wait); err != nil { // a reserved token: its turn comes within maxAhead
				return err
			}
			t, err := c.Progress(ctx, it.ref)
			var ae *digirm.APIError
			switch {
			case err == nil && t.Done():
				return w.store(ctx, fci, digiOutcome(t))
			case errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound:
				return w.store(ctx, fci, unknownOutcome(esimgw.PlatformDigiRM, "Digi Remote Manager does not know transaction "+it.ref))
			case ctx.Err() != nil:
				return ctx.Err()
			case err != nil:
				w.logger.LogAttrs(ctx, slog.LevelWarn, "campaign: polling a Digi transaction failed; polling again later",
					slog.String("functionCallIdentifier", fci), slog.String("transaction", it.ref), slog.Any("error", err))
			}
			if time.Now().After(deadline) {
				return w.store(ctx, fci, esimgw.Outcome{Status: esimgw.StatusNoResult, Description: "no result within the campaign's result timeout",
					Message: fmt.Sprintf("transaction %s not final within %s of the request; audit first", it.ref, it.c.ResultTimeout)})
			}
			next = min(max(elapsed, first), most)
		}
		if time.Now().Add(next).After(inlineEnd) {
			return river.JobSnooze(next)
		}
		if err := timing.Sleep(ctx, next); err != nil {
			return err
		}
	}
}

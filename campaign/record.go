package campaign

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// notifyChannel is the PostgreSQL channel a recorded result is announced on (payload: the
// FunctionCallIdentifier), so that a job waiting for it in any process wakes at once.
const notifyChannel = "esimgw_campaign_result"

// recordSQL stores an EID's outcome unless one is stored already (a duplicate callback changes nothing),
// gives back its in-flight slot, and announces it, in one statement. A late result for an EID of a
// cancelled campaign is stored too: the gateway's word is what happened.
const recordSQL = `
WITH old AS (
	SELECT i.campaign_id, i.eid, i.state, c.limit_name
	FROM esimgw_campaign_item i JOIN esimgw_campaign c ON c.id = i.campaign_id
	WHERE c.key = $1 AND i.eid = $2 AND i.round = $3 AND i.state IN ('pending', 'sending', 'sent', 'cancelled')
	FOR UPDATE OF i
), upd AS (
	UPDATE esimgw_campaign_item i SET state = 'done', outcome = $4, status_code = $5, description = $6, message = $7, done_at = now()
	FROM old WHERE i.campaign_id = old.campaign_id AND i.eid = old.eid
	RETURNING old.state AS was, old.limit_name
), rel AS (
	UPDATE esimgw_campaign_limit l SET in_flight = GREATEST(l.in_flight - 1, 0)
	FROM upd WHERE l.name = upd.limit_name AND upd.was IN ('sending', 'sent') AND l.max_in_flight > 0
)
SELECT upd.was, pg_notify('` + notifyChannel + `', $8) FROM upd`

// Recorder stores the results of campaign EIDs: from callbacks, whichever process receives them (a worker
// that sent the request may be dead by then), and from the workers themselves. A callback is
// acknowledged only once its result is committed; a failure to store it answers 500, so the gateway
// delivers it again. It is safe for concurrent use.
type Recorder struct {
	pool   *pgxpool.Pool
	logger *slog.Logger
}

// NewRecorder returns a Recorder on pool (Migrate must have run). A nil logger is slog.Default().
func NewRecorder(pool *pgxpool.Pool, logger *slog.Logger) *Recorder {
	if logger == nil {
		logger = slog.Default()
	}
	return &Recorder{pool: pool, logger: logger}
}

// Record stores the outcome of the call with FunctionCallIdentifier fci. It reports whether it stored
// anything: false when fci is not a campaign's, names no EID of the current round, or the EID's outcome
// was stored already.
func (r *Recorder) Record(ctx context.Context, fci string, o esimgw.Outcome) (bool, error) {
	key, round, eid, ok := parseFunctionCallIdentifier(fci)
	if !ok {
		return false, nil
	}
	var was string
	err := r.pool.QueryRow(ctx, recordSQL, key, eid, round, string(o.Status), nullIfEmpty(o.StatusCode),
		nullIfEmpty(o.Description), nullIfEmpty(o.Message), fci).Scan(&was, new(any))
	if err == pgx.ErrNoRows {
		r.logger.LogAttrs(ctx, slog.LevelDebug, "campaign: result for no open EID (a duplicate, or an older round)",
			slog.String("functionCallIdentifier", fci), slog.String("status", string(o.Status)))
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("campaign: recording %s: %w", fci, err)
	}
	return true, nil
}

// recordOn is Record inside tx (its notification is sent when tx commits).
func recordOn(ctx context.Context, tx pgx.Tx, fci string, o esimgw.Outcome) (bool, error) {
	key, round, eid, ok := parseFunctionCallIdentifier(fci)
	if !ok {
		return false, nil
	}
	err := tx.QueryRow(ctx, recordSQL, key, eid, round, string(o.Status), nullIfEmpty(o.StatusCode),
		nullIfEmpty(o.Description), nullIfEmpty(o.Message), fci).Scan(new(string), new(any))
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("campaign: recording %s: %w", fci, err)
	}
	return true, nil
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// IsCampaignCall reports whether fci is a campaign's FunctionCallIdentifier.
func IsCampaignCall(fci string) bool {
	_, _, _, ok := parseFunctionCallIdentifier(fci)
	return ok
}

// CallbackHandler returns a handler for esimgw.WithUnmatchedHandler: it stores callbacks of campaign calls
// nobody waits for in memory (their worker died, or abandoned the wait, as workers do) and passes
// everything else to next (nil: acknowledge and log it).
//
// Prefer Intercept where you build the callback server: it stores campaign callbacks before the
// Dispatcher sees them, which closes the one gap this handler leaves (a callback that beats the 202 is
// matched in memory, and its worker records it just after it was acknowledged).
func (r *Recorder) CallbackHandler(next func(ctx context.Context, in *esimgw.Inbound) error) func(ctx context.Context, in *esimgw.Inbound) error {
	return func(ctx context.Context, in *esimgw.Inbound) error {
		if in.Kind == esimgw.InboundCallback {
			if fci := in.FunctionCallIdentifier(); IsCampaignCall(fci) {
				_, err := r.Record(ctx, fci, esimgw.OutcomeOf(in.Warning, in.Err))
				return err
			}
		}
		if next != nil {
			return next(ctx, in)
		}
		r.logger.LogAttrs(ctx, slog.LevelWarn, "campaign: acknowledged a message that is no campaign's",
			slog.String("kind", in.Kind.String()), slog.String("function", in.Interface+" "+in.Function),
			slog.String("messageID", in.Message.Header.MessageID))
		return nil
	}
}

// Intercept wraps the callback server's handler (usually the Dispatcher): a callback of a campaign call is
// decoded and its result stored before it is acknowledged, and never reaches next; everything else
// (other callbacks, notifications) goes to next unchanged.
//
//	srv, _ := callback.NewServer(recorder.Intercept(dispatcher), callback.WithTLS(cfg))
func (r *Recorder) Intercept(next soap.MessageHandler) soap.MessageHandler {
	return &interceptor{r: r, next: next}
}

type interceptor struct {
	r    *Recorder
	next soap.MessageHandler
}

func campaignFCI(h *soap.Header) string {
	if fci := correlate.TransactionIDFromMessageID(h.MessageID); IsCampaignCall(fci) {
		return fci
	}
	// A peer that makes its own callback MessageIDs still names our request, whose MessageID carries the
	// FunctionCallIdentifier as its TransactionId.
	if fci := correlate.TransactionIDFromMessageID(h.RelatesTo); IsCampaignCall(fci) {
		return fci
	}
	return ""
}

func (x *interceptor) ServeSOAP(ctx context.Context, m *soap.Message) (*soap.Reply, error) {
	fci := campaignFCI(&m.Header)
	if fci == "" {
		return x.next.ServeSOAP(ctx, m)
	}
	el, known := rps.NewElement(m.BodyName)
	resp, isResponse := el.(rps.Response)
	if !known || !isResponse {
		return x.next.ServeSOAP(ctx, m)
	}
	iface, function := splitName(el.ElementName())
	if err := m.DecodeBody(el); err != nil {
		// The result exists but cannot be read: record that (the EID would otherwise wait for a retry the
		// sender's 400 will not bring), and refuse the message as the sender's fault, as the Dispatcher does.
		o := esimgw.OutcomeOf(nil, fmt.Errorf("%w: %s %s: %w", esimgw.ErrMalformedCallback, iface, function, err))
		if _, rerr := x.r.Record(ctx, fci, o); rerr != nil {
			return nil, rerr
		}
		return nil, soap.SenderFault(err.Error())
	}
	warn, ferr := esimgw.ResponseStatus(iface, function, resp)
	if _, err := x.r.Record(ctx, fci, esimgw.OutcomeOf(warn, ferr)); err != nil {
		return nil, err
	}
	return nil, nil
}

// ServeMalformed records a campaign callback broken off in its body, and passes others on.
func (x *interceptor) ServeMalformed(ctx context.Context, h *soap.Header, cause error) error {
	if fci := campaignFCI(h); fci != "" {
		_, err := x.r.Record(ctx, fci, esimgw.OutcomeOf(nil, fmt.Errorf("%w: %w", esimgw.ErrMalformedCallback, cause)))
		return err
	}
	if mh, ok := x.next.(soap.MalformedMessageHandler); ok {
		return mh.ServeMalformed(ctx, h, cause)
	}
	return nil
}

// splitName splits "ES4-EnableProfileResponse" into "ES4" and "EnableProfile".
func splitName(element string) (iface, function string) {
	iface, rest, ok := strings.Cut(element, "-")
	if !ok {
		return "", strings.TrimSuffix(element, "Response")
	}
	return strings.ToUpper(iface), strings.TrimSuffix(rest, "Response")
}

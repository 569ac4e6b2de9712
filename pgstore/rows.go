package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/wsdl/rps"
)

const (
	statePending   = 0
	stateResolved  = 1
	stateWithdrawn = 2
)

const rowColumns = `message_id, transaction_id, function_call_identifier, interface, function, state, registered_at,
	deadline, result_element, result_body, result_error_kind, result_error`

// row is one esimgw_operation row.
type row struct {
	key        correlate.OperationKey
	state      int16
	registered time.Time
	deadline   *time.Time
	element    *string
	body       []byte
	errKind    int16
	errText    string
}

func scanRow(r pgx.CollectableRow) (row, error) {
	var x row
	err := r.Scan(&x.key.MessageID, &x.key.TransactionID, &x.key.FunctionCallIdentifier, &x.key.Interface, &x.key.Function,
		&x.state, &x.registered, &x.deadline, &x.element, &x.body, &x.errKind, &x.errText)
	return x, err
}

func (x row) record() correlate.OperationRecord {
	rec := correlate.OperationRecord{Key: x.key, RegisteredAt: x.registered}
	if x.deadline != nil {
		rec.Deadline = *x.deadline
	}
	switch x.state {
	case stateResolved:
		rec.State = correlate.OperationResolved
	case stateWithdrawn:
		rec.State = correlate.OperationWithdrawn
	}
	return rec
}

// jsonElement is the result_element of a json.RawMessage result (what the ThingSpace and Digi Remote
// Manager clients store): no SGP.02 element has this name.
const jsonElement = "json"

// maxJSONResult bounds a json.RawMessage result (the carriers store a few hundred bytes).
const maxJSONResult = 64 << 10

// result rebuilds what the callback delivered: the decoded response, and the error its waiter gets. A
// FAILED or EXPIRED status is read from the response again (it is not stored twice).
func (x row) result() (any, error) {
	var value any
	switch {
	case x.element != nil && *x.element == jsonElement:
		value = json.RawMessage(x.body)
	case x.element != nil && len(x.body) > 0:
		el, err := rps.UnmarshalElement(x.body)
		if err != nil {
			return nil, fmt.Errorf("%w: the stored %s cannot be read back: %w", esimgw.ErrMalformedCallback, *x.element, err)
		}
		value = el
		if resp, ok := el.(rps.Response); ok && x.errKind == errNone {
			_, ferr := esimgw.ResponseStatus(x.key.Interface, x.key.Function, resp)
			return value, ferr
		}
	}
	switch x.errKind {
	case errMalformed:
		return value, fmt.Errorf("%w: %s", esimgw.ErrMalformedCallback, x.errText)
	case errOther:
		return value, errors.New(x.errText)
	case errAbandoned:
		return value, fmt.Errorf("%w: %s", esimgw.ErrAbandoned, x.errText)
	case errFunction:
		return value, decodeFunctionError(x.errText)
	}
	return value, nil
}

// encodeResult turns a delivered value and error into columns. Values are body elements (what the
// Dispatcher delivers) or json.RawMessage (what the carrier clients deliver); an error the response itself
// states is not stored, it is read from the response; any other *esimgw.FunctionError is stored as JSON,
// so that a waiter on another replica gets it typed.
func encodeResult(value any, err error) (element *string, body []byte, kind int16, text string, _ error) {
	response := false
	switch v := value.(type) {
	case nil:
	case json.RawMessage:
		if len(v) > maxJSONResult || !json.Valid(v) {
			return nil, nil, 0, "", fmt.Errorf("pgstore: a JSON result must be valid JSON of at most %d bytes (got %d bytes)", maxJSONResult, len(v))
		}
		name := jsonElement
		element, body = &name, v
	case rps.Element:
		name := v.ElementName()
		element, body = &name, rps.MarshalElement(v)
		_, response = v.(rps.Response)
	default:
		return nil, nil, 0, "", fmt.Errorf("pgstore: a result of type %T cannot be stored (want an rps.Element or a json.RawMessage)", value)
	}
	var fe *esimgw.FunctionError
	switch {
	case err == nil:
	case errors.As(err, &fe) && response:
		// Restated by the response's FunctionExecutionStatus.
	case errors.As(err, &fe):
		kind, text = errFunction, encodeFunctionError(err, fe)
	case errors.Is(err, esimgw.ErrMalformedCallback):
		kind, text = errMalformed, err.Error()
	default:
		kind, text = errOther, err.Error()
	}
	return element, body, kind, text, nil
}

// storedFunctionError is a *esimgw.FunctionError as result_error keeps it (errFunction): its fields, and
// the text of the error that wrapped it when that said more.
type storedFunctionError struct {
	Interface                string        `json:"interface,omitempty"`
	Function                 string        `json:"function,omitempty"`
	FunctionCallIdentifier   string        `json:"functionCallIdentifier,omitempty"`
	Status                   esimgw.Status `json:"status"`
	Subject                  string        `json:"subject,omitempty"`
	Reason                   string        `json:"reason,omitempty"`
	SubjectIdentifier        string        `json:"subjectIdentifier,omitempty"`
	Message                  string        `json:"message,omitempty"`
	AcceptableValidityPeriod time.Duration `json:"acceptableValidityPeriodNs,omitempty"`
	EuiccResponseData        []byte        `json:"euiccResponseData,omitempty"`
	Text                     string        `json:"text,omitempty"`
}

func encodeFunctionError(err error, fe *esimgw.FunctionError) string {
	s := storedFunctionError{Interface: fe.Interface, Function: fe.Function, FunctionCallIdentifier: fe.FunctionCallIdentifier,
		Status: fe.Status, Subject: fe.Subject, Reason: fe.Reason, SubjectIdentifier: fe.SubjectIdentifier, Message: fe.Message,
		AcceptableValidityPeriod: fe.AcceptableValidityPeriod, EuiccResponseData: fe.EuiccResponseData}
	if text := err.Error(); text != fe.Error() {
		s.Text = text
	}
	b, _ := json.Marshal(s) // strings, a duration and bytes: always encodes
	return string(b)
}

// decodeFunctionError rebuilds the stored *esimgw.FunctionError; wrapped in an error with the wrapper's
// text when it had one. A row that cannot be read is reported as its text.
func decodeFunctionError(text string) error {
	var s storedFunctionError
	if err := json.Unmarshal([]byte(text), &s); err != nil {
		return fmt.Errorf("%w: the stored function error cannot be read back (%v): %s", esimgw.ErrMalformedCallback, err, text)
	}
	fe := &esimgw.FunctionError{Interface: s.Interface, Function: s.Function, FunctionCallIdentifier: s.FunctionCallIdentifier,
		ExecutionStatus: esimgw.ExecutionStatus{Status: s.Status, Subject: s.Subject, Reason: s.Reason,
			SubjectIdentifier: s.SubjectIdentifier, Message: s.Message},
		AcceptableValidityPeriod: s.AcceptableValidityPeriod, EuiccResponseData: s.EuiccResponseData}
	if s.Text != "" {
		return &wrappedFunctionError{text: s.Text, fe: fe}
	}
	return fe
}

// wrappedFunctionError is a stored *esimgw.FunctionError whose error said more than it (a
// digirm.TransactionError, an error with context): the same text, and errors.As finds the FunctionError.
type wrappedFunctionError struct {
	text string
	fe   *esimgw.FunctionError
}

func (e *wrappedFunctionError) Error() string { return e.text }
func (e *wrappedFunctionError) Unwrap() error { return e.fe }

// refresh reads one operation's row and, when it is finished, finishes its local waiter the same way.
func (s *Store) refresh(ctx context.Context, messageID string) {
	s.refreshMany(ctx, []string{messageID})
}

// refreshMany finishes the local waiters of those of ids whose rows are finished.
func (s *Store) refreshMany(ctx context.Context, ids []string) {
	if len(ids) == 0 {
		return
	}
	var rs []row
	err := s.retry(ctx, func() error {
		rows, err := s.pool.Query(ctx, `SELECT `+rowColumns+` FROM esimgw_operation WHERE message_id = ANY($1) AND state <> 0`, ids)
		if err != nil {
			return err
		}
		rs, err = pgx.CollectRows(rows, scanRow)
		return err
	})
	if err != nil {
		if ctx.Err() == nil {
			s.logger.LogAttrs(ctx, slog.LevelWarn, "pgstore: reading results for local waiters failed; the re-check will try again",
				slog.Int("operations", len(ids)), slog.Any("error", err))
		}
		return
	}
	for _, r := range rs {
		p, ok := s.local.Lookup(r.key.MessageID)
		if !ok {
			continue // not waited for here (any more)
		}
		if r.state == stateWithdrawn {
			_, _ = s.local.WithdrawOperation(ctx, p, fmt.Errorf("%w: %s", esimgw.ErrAbandoned, r.errText))
			continue
		}
		value, rerr := r.result()
		s.local.Resolve(p, value, rerr)
	}
}

// wakeLoop turns NOTIFY payloads (MessageIDs whose results were stored) into local resolutions, a batch
// at a time, ignoring those this process does not wait for.
func (s *Store) wakeLoop(ctx context.Context) {
	batch := make([]string, 0, 256)
	for {
		batch = batch[:0]
		select {
		case <-ctx.Done():
			return
		case id := <-s.wake:
			batch = s.appendWaited(ctx, batch, id)
		}
	drain:
		for len(batch) < cap(batch) {
			select {
			case id := <-s.wake:
				batch = s.appendWaited(ctx, batch, id)
			default:
				break drain
			}
		}
		s.refreshMany(ctx, batch)
	}
}

func (s *Store) appendWaited(ctx context.Context, batch []string, id string) []string {
	// Most notifications are for other replicas' operations: a map lookup tells.
	if _, ok := s.local.Lookup(id); ok {
		return append(batch, id)
	}
	return batch
}

// recheckLocal asks the database about every operation this process waits for.
func (s *Store) recheckLocal(ctx context.Context) {
	pending, _ := s.local.PendingOperations(ctx, 0)
	ids := make([]string, 0, 512)
	for _, rec := range pending {
		ids = append(ids, rec.Key.MessageID)
		if len(ids) == cap(ids) {
			s.refreshMany(ctx, ids)
			ids = ids[:0]
		}
	}
	s.refreshMany(ctx, ids)
}

// maintain re-checks the local waiters and sweeps rows past their retention.
func (s *Store) maintain(ctx context.Context) {
	recheck := time.NewTicker(s.recheck)
	defer recheck.Stop()
	sweep := time.NewTicker(s.sweep)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-recheck.C:
			s.recheckLocal(ctx)
		case <-sweep.C:
			if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
				s.logger.LogAttrs(ctx, slog.LevelWarn, "pgstore: retention sweep failed", slog.Any("error", err))
			}
		}
	}
}

// Sweep deletes what is past its retention: finished operations, pending ones whose deadline passed
// longer ago than the retention, and handed-over MessageIDs. It deletes in batches so as not to hold long
// locks, and returns how many rows went. It runs every minute on its own; call it to sweep now.
func (s *Store) Sweep(ctx context.Context) (int64, error) {
	var total int64
	interval := s.retention.Seconds()
	for _, q := range []string{
		`DELETE FROM esimgw_operation WHERE message_id IN (SELECT message_id FROM esimgw_operation
			WHERE state <> 0 AND finished_at < now() - make_interval(secs => $1) LIMIT 5000)`,
		`DELETE FROM esimgw_operation WHERE message_id IN (SELECT message_id FROM esimgw_operation
			WHERE state = 0 AND deadline < now() - make_interval(secs => $1) LIMIT 5000)`,
		`DELETE FROM esimgw_message WHERE (scope, message_id) IN (SELECT scope, message_id FROM esimgw_message
			WHERE committed AND committed_at < now() - make_interval(secs => $1) LIMIT 5000)`,
	} {
		for {
			tag, err := s.pool.Exec(ctx, q, interval)
			if err != nil {
				return total, &correlate.StoreError{Op: "sweep", Err: err}
			}
			total += tag.RowsAffected()
			if tag.RowsAffected() < 5000 {
				break
			}
		}
	}
	return total, nil
}

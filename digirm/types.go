package digirm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/esimgw/esimgw"
)

// Text is a JSON value Digi may send as a string or as a number (customer_id, id); it keeps the text.
type Text string

// UnmarshalJSON accepts a string, a number, or null.
func (t *Text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*t = ""
		return nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = Text(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("digirm: want a string or a number, got %.20s", b)
	}
	*t = Text(n.String())
	return nil
}

// Transaction statuses.
const (
	StatusInProgress = "in_progress"
	StatusComplete   = "complete"
	StatusFailed     = "failed"
	StatusUnknown    = "unknown"
)

// Transaction is one eSIM profile action as Digi Remote Manager tracks it (docs/carriers.md).
type Transaction struct {
	Transaction Text   `json:"transaction"`
	Action      string `json:"action,omitempty"` // download, enable, disable, delete
	Status      string `json:"status,omitempty"` // in_progress, complete, failed, unknown
	CustomerID  Text   `json:"customer_id,omitempty"`
	DeviceID    string `json:"device_id,omitempty"`
	EID         string `json:"eid,omitempty"`
	ICCID       string `json:"iccid,omitempty"`
	MessageCode string `json:"message_code,omitempty"`
	Message     string `json:"message,omitempty"`
	Created     string `json:"created,omitempty"`
	Updated     string `json:"updated,omitempty"`
}

// Done reports whether the transaction reached a final status.
func (t *Transaction) Done() bool { return t.Status != StatusInProgress && t.Status != "" }

// ErrMalformed is wrapped by the decoders' errors.
var ErrMalformed = errors.New("digirm: malformed answer")

const maxValue = 4096

// DecodeTransaction reads a transaction answer (of an action or of /progress/{tx}). It refuses what is not
// one JSON object with a transaction id, and absurdly long or invalid text.
func DecodeTransaction(body []byte) (*Transaction, error) {
	var t Transaction
	if err := decodeOne(body, &t); err != nil {
		return nil, err
	}
	if err := t.check(); err != nil {
		return nil, err
	}
	return &t, nil
}

// check refuses a transaction without id, or with absurdly long or invalid text.
func (t *Transaction) check() error {
	if t.Transaction == "" {
		return fmt.Errorf("%w: no transaction id", ErrMalformed)
	}
	for _, s := range []string{string(t.Transaction), t.Action, t.Status, string(t.CustomerID), t.DeviceID, t.EID, t.ICCID, t.MessageCode, t.Message, t.Created, t.Updated} {
		if err := checkText(s); err != nil {
			return err
		}
	}
	return nil
}

// DecodeTransactionPage reads a page of GET /transactions/inventory: at most MaxPageSize transactions,
// each with an id.
func DecodeTransactionPage(body []byte) (*Page[Transaction], error) {
	return decodePage(body, (*Transaction).check)
}

func decodeOne(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: data after the JSON value", ErrMalformed)
	}
	return nil
}

func checkText(s string) error {
	if len(s) > maxValue {
		return fmt.Errorf("%w: a value of %d bytes", ErrMalformed, len(s))
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: invalid UTF-8", ErrMalformed)
	}
	return nil
}

// TransactionError is a transaction that ended failed or unknown. It unwraps to the *esimgw.FunctionError
// every platform reports (Interface "DigiRM", Status FAILED, or "unknown", which errors.Is matches with
// esimgw.ErrUnknownStatus), so esimgw.OutcomeOf and errors.As work as for ES2/ES4.
type TransactionError struct {
	Transaction *Transaction
	Func        *esimgw.FunctionError
}

func (e *TransactionError) Error() string { return e.Func.Error() }

// Unwrap returns the *esimgw.FunctionError.
func (e *TransactionError) Unwrap() error { return e.Func }

func transactionError(function string, t *Transaction) *TransactionError {
	st := esimgw.StatusFailed
	if t.Status != StatusFailed {
		st = esimgw.Status(t.Status) // "unknown", or anything new: not a wire value, so ErrUnknownStatus
	}
	msg := t.Message
	if t.MessageCode != "" {
		msg = t.MessageCode + ": " + msg
	}
	return &TransactionError{Transaction: t, Func: &esimgw.FunctionError{Interface: string(esimgw.PlatformDigiRM), Function: function,
		ExecutionStatus:        esimgw.ExecutionStatus{Status: st, SubjectIdentifier: t.ICCID, Message: msg},
		FunctionCallIdentifier: string(t.Transaction)}}
}

// Profile is one eSIM profile as the inventory reports it.
type Profile struct {
	ID                Text   `json:"id,omitempty"`
	ICCID             string `json:"iccid"`
	EID               string `json:"eid,omitempty"`
	DeviceID          string `json:"device_id,omitempty"`
	CustomerID        Text   `json:"customer_id,omitempty"`
	Carrier           string `json:"carrier,omitempty"`
	NormalizedCarrier string `json:"normalized_carrier,omitempty"`
	Status            string `json:"status,omitempty"` // active, inactive
	Type              string `json:"type,omitempty"`   // operational, bootstrap, test
}

// State maps the inventory status to the platform-neutral state.
func (p Profile) State() esimgw.ProfileState {
	switch p.Status {
	case "active":
		return esimgw.ProfileStateEnabled
	case "inactive":
		return esimgw.ProfileStateDisabled
	}
	return esimgw.ProfileStateUnknown
}

// Page is one page of a list answer: the items and the cursor of the next page ("" on the last).
type Page[T any] struct {
	Count  int    `json:"count"`
	Size   int    `json:"size"`
	Cursor string `json:"cursor,omitempty"`
	List   []T    `json:"list"`
}

// DecodeProfilePage reads a page of GET /inventory.
func DecodeProfilePage(body []byte) (*Page[Profile], error) {
	return decodePage(body, func(pr *Profile) error {
		for _, s := range []string{pr.ICCID, pr.EID, pr.DeviceID, pr.Carrier, pr.Status, pr.Type, string(pr.ID)} {
			if err := checkText(s); err != nil {
				return err
			}
		}
		return nil
	})
}

// decodePage reads one page of a list answer, checking its cursor, its length and each item.
func decodePage[T any](body []byte, check func(*T) error) (*Page[T], error) {
	var p Page[T]
	if err := decodeOne(body, &p); err != nil {
		return nil, err
	}
	if err := checkText(p.Cursor); err != nil {
		return nil, err
	}
	if len(p.List) > MaxPageSize {
		return nil, fmt.Errorf("%w: %d items in a page, more than %d", ErrMalformed, len(p.List), MaxPageSize)
	}
	for i := range p.List {
		if err := check(&p.List[i]); err != nil {
			return nil, err
		}
	}
	return &p, nil
}

// MaxPageSize is the largest page Digi serves.
const MaxPageSize = 1000

// MultistepOperation is a multistep operation (operations/inventory).
type MultistepOperation struct {
	ID          Text   `json:"id"`
	Operation   string `json:"operation,omitempty"` // activate, download, enable
	Status      string `json:"status,omitempty"`    // starting, download, download_verify, enable, enable_verify, successful, failed
	Carrier     string `json:"carrier,omitempty"`
	DeviceID    string `json:"device_id,omitempty"`
	EID         string `json:"eid,omitempty"`
	ICCID       string `json:"iccid,omitempty"`
	DownloadTx  Text   `json:"download_tx,omitempty"`
	EnableTx    Text   `json:"enable_tx,omitempty"`
	MessageCode string `json:"message_code,omitempty"`
	Message     string `json:"message,omitempty"`
	Cause       string `json:"cause,omitempty"`
	CauseID     Text   `json:"cause_id,omitempty"`
	CreatedBy   string `json:"created_by,omitempty"`
	Source      string `json:"source,omitempty"`
	JobID       Text   `json:"job_id,omitempty"`
	CustomerID  Text   `json:"customer_id,omitempty"`
	Created     string `json:"created,omitempty"`
	Updated     string `json:"updated,omitempty"`
}

// Done reports whether the operation reached successful or failed.
func (o *MultistepOperation) Done() bool { return o.Status == "successful" || o.Status == "failed" }

// DecodeMultistepOperation reads an operations/inventory answer.
func DecodeMultistepOperation(body []byte) (*MultistepOperation, error) {
	var o MultistepOperation
	if err := decodeOne(body, &o); err != nil {
		return nil, err
	}
	if o.ID == "" {
		return nil, fmt.Errorf("%w: no operation id", ErrMalformed)
	}
	for _, s := range []string{string(o.ID), o.Operation, o.Status, o.Carrier, o.DeviceID, o.EID, o.ICCID, o.Message, o.MessageCode} {
		if err := checkText(s); err != nil {
			return nil, err
		}
	}
	return &o, nil
}

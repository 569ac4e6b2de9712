package soap

import (
	"crypto/rand"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Query parameter names of a GSMA MessageID (docs/wire.md section 2).
const (
	ParamTransactionID = "TransactionId"
	ParamMessageDate   = "MessageDate"
	ParamContextID     = "ContextId"
)

// MessageID is a wsa:MessageID in the GSMA form
//
//	//<sender OID>/<unique id>?TransactionId=<id>&MessageDate=<xs:dateTime>[&ContextId=<id>]
//
// which carries the RPSHeader fields: the sender's domain, a unique id, the transaction the message belongs
// to (a response repeats the request's) and the message date. The TransactionId is what correlates a
// callback that arrives without wsa:RelatesTo (as a captured gSOAP SM-SR callback did).
//
// When a MessageID is echoed (wsa:RelatesTo), echo the string received, never String() of the parsed
// value: parsing normalises the date and the separators.
type MessageID struct {
	// Sender is the domain before the id, the sender's OID in practice; never contains '/'.
	Sender string
	// ID is the unique id, e.g. "urn:uuid:78c2…"; written verbatim.
	ID string
	// TransactionID groups the messages of one transaction; empty when absent.
	TransactionID string
	// MessageDate is the message timestamp; zero when absent. It is written in UTC with second precision.
	MessageDate time.Time
	// ContextID is the optional end-to-end logging id.
	ContextID string
	// Extra holds unknown parameters in the order seen.
	Extra []Param
}

// MessageIDErrorKind says what is wrong with a MessageID.
type MessageIDErrorKind uint8

const (
	// MessageIDEmpty: the value is empty or blank.
	MessageIDEmpty MessageIDErrorKind = iota + 1
	// MessageIDNotGSMA: the value does not start with "//"; a JAX-WS "uuid:…" or a bare "urn:uuid:…"
	// is a valid wsa:MessageID, just not a GSMA one, and callers keep the raw string.
	MessageIDNotGSMA
	// MessageIDMalformed: it starts with "//" but the sender or the id is missing.
	MessageIDMalformed
	// MessageIDBadEscape: a parameter holds a malformed %-escape.
	MessageIDBadEscape
	// MessageIDDuplicateParam: TransactionId, MessageDate or ContextId appears twice.
	MessageIDDuplicateParam
	// MessageIDBadDate: MessageDate is not an xs:dateTime (or falls outside years 0000-9999 in UTC).
	MessageIDBadDate
	// MessageIDMissingDate: Validate found no MessageDate (required by RPSHeader).
	MessageIDMissingDate
)

func (k MessageIDErrorKind) String() string {
	switch k {
	case MessageIDEmpty:
		return "empty"
	case MessageIDNotGSMA:
		return "not in the GSMA //sender/id form"
	case MessageIDMalformed:
		return "sender or id missing"
	case MessageIDBadEscape:
		return "malformed %-escape"
	case MessageIDDuplicateParam:
		return "duplicate parameter"
	case MessageIDBadDate:
		return "malformed MessageDate"
	case MessageIDMissingDate:
		return "MessageDate missing"
	}
	return "MessageIDErrorKind(" + strconv.Itoa(int(k)) + ")"
}

// MessageIDError reports a MessageID that is not a well-formed GSMA MessageID. Use errors.As.
type MessageIDError struct {
	Kind  MessageIDErrorKind
	Param string // the parameter concerned, if any
	Value string // the offending value or input, truncated for display
}

func (e *MessageIDError) Error() string {
	return paramError("soap: message id: ", e.Kind.String(), e.Param, e.Value)
}

// NewMessageID returns a MessageID from senderOID with a fresh urn:uuid ID and a fresh urn:uuid
// TransactionID (random version 4 UUIDs) dated now, truncated to what the wire carries so that the value
// equals its own re-parse.
func NewMessageID(senderOID string, now time.Time) MessageID {
	m, _ := newMessageID(senderOID, "", now, false)
	return m
}

// NewMessageIDInTransaction is NewMessageID for a message that continues transactionID: a response or
// callback must repeat the request's TransactionId.
func NewMessageIDInTransaction(senderOID, transactionID string, now time.Time) MessageID {
	m, _ := newMessageID(senderOID, transactionID, now, false)
	return m
}

// NewMessageIDText is NewMessageID, or NewMessageIDInTransaction when transactionID is not empty, that
// also returns the MessageID's String, which a sender needs for wsa:MessageID: made with the value, it
// costs no second formatting, and the text, ID and a fresh TransactionID share one allocation.
func NewMessageIDText(senderOID, transactionID string, now time.Time) (MessageID, string) {
	return newMessageID(senderOID, transactionID, now, true)
}

// newMessageID makes the MessageID of NewMessageID (transactionID "") or NewMessageIDInTransaction and,
// when withText, its String. Its ID and a fresh TransactionID are substrings of one string: the text, or
// without it the two URNs alone.
func newMessageID(senderOID, transactionID string, now time.Time, withText bool) (MessageID, string) {
	fresh := transactionID == ""
	var r [32]byte
	random := r[:16]
	if fresh {
		random = r[:]
	}
	readRandom(random)
	m := MessageID{Sender: senderOID, TransactionID: transactionID}
	// Room for the usual text on the stack: the string made of it is the only allocation.
	var buf [256]byte
	b := buf[:0]
	if withText {
		b = append(b, "//"...)
		b = append(b, senderOID...)
		b = append(b, '/')
	}
	id := len(b)
	b = appendUUIDURN(b, r[:16])
	if withText {
		b = append(b, '?')
		b = append(b, ParamTransactionID...)
		b = append(b, '=')
	}
	tx := len(b)
	if fresh {
		b = appendUUIDURN(b, r[16:])
	} else if withText {
		b = appendParamEscaped(b, transactionID)
	}
	txEnd := len(b)
	m.MessageDate, b = wireNow(now, b, withText)
	s := string(b)
	m.ID = s[id : id+uuidURNLen]
	if fresh {
		m.TransactionID = s[tx:txEnd]
	}
	if !withText {
		s = ""
	}
	return m, s
}

// wireNow returns wireTime(now) and, when withText, appends to b the MessageDate parameter String writes
// for it (none for the zero time). The last second written is kept with its text, so that messages made
// within the same second do not format it again.
func wireNow(now time.Time, b []byte, withText bool) (time.Time, []byte) {
	if now.IsZero() {
		return time.Time{}, b
	}
	sec := now.Unix()
	w := lastWireSecond.Load()
	if w == nil || w.unix != sec {
		t := wireTime(now)
		if y := t.Year(); y < 0 || y > 9999 {
			// Not the text of the cache (appendWireTime leaves such years to AppendFormat).
			if withText {
				b = append(b, '&')
				b = append(b, ParamMessageDate...)
				b = append(b, '=')
				b = appendWireTime(b, t)
			}
			return t, b
		}
		w = &wireSecond{unix: sec, date: t}
		appendWireTime(w.text[:0], t)
		lastWireSecond.Store(w)
	}
	if withText {
		b = append(b, '&')
		b = append(b, ParamMessageDate...)
		b = append(b, '=')
		b = append(b, w.text[:]...)
	}
	return w.date, b
}

// wireSecond is a MessageDate of a new MessageID (UTC, whole seconds) with its text.
type wireSecond struct {
	unix int64
	date time.Time
	text [len("2006-01-02T15:04:05Z")]byte
}

// lastWireSecond is the second of the last MessageID made: the next one is nearly always in it.
var lastWireSecond atomic.Pointer[wireSecond]

// randomBatch is crypto/rand output read ahead for the UUIDs of new MessageIDs: a read from crypto/rand
// costs per call as well as per byte, and a MessageID takes 32 bytes. A batch belongs to one goroutine
// between the pool's Get and Put, and hands out each byte once.
type randomBatch struct {
	b    [512]byte
	used int // b's first used bytes were handed out
}

var randomBatches = sync.Pool{New: func() any { return &randomBatch{used: len(randomBatch{}.b)} }}

// readRandom fills p from crypto/rand, through a batch when p is small.
func readRandom(p []byte) {
	r := randomBatches.Get().(*randomBatch)
	if len(r.b)-r.used < len(p) {
		if len(p) > len(r.b) {
			randomBatches.Put(r)
			_, _ = rand.Read(p) // never fails since Go 1.24 (it crashes the program instead)
			return
		}
		_, _ = rand.Read(r.b[:])
		r.used = 0
	}
	r.used += copy(p, r.b[r.used:])
	randomBatches.Put(r)
}

// wireTime is t as MessageDate carries it: UTC, whole seconds, no monotonic reading.
func wireTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Second)
}

const uuidURNLen = len("urn:uuid:") + 36

// appendUUIDURN appends 16 random bytes as a version 4, variant 10 UUID URN. Each byte's two digits are
// copied from hexPairs at a constant place: no loop, no bounds check past the first.
func appendUUIDURN(b []byte, u []byte) []byte {
	_ = u[15]
	b = append(b, "urn:uuid:xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"...)
	d := (*[36]byte)(b[len(b)-36:])
	*(*[2]byte)(d[0:]) = hexPairs[u[0]]
	*(*[2]byte)(d[2:]) = hexPairs[u[1]]
	*(*[2]byte)(d[4:]) = hexPairs[u[2]]
	*(*[2]byte)(d[6:]) = hexPairs[u[3]]
	*(*[2]byte)(d[9:]) = hexPairs[u[4]]
	*(*[2]byte)(d[11:]) = hexPairs[u[5]]
	*(*[2]byte)(d[14:]) = hexPairs[u[6]&0x0f|0x40] // version 4
	*(*[2]byte)(d[16:]) = hexPairs[u[7]]
	*(*[2]byte)(d[19:]) = hexPairs[u[8]&0x3f|0x80] // variant 10
	*(*[2]byte)(d[21:]) = hexPairs[u[9]]
	*(*[2]byte)(d[24:]) = hexPairs[u[10]]
	*(*[2]byte)(d[26:]) = hexPairs[u[11]]
	*(*[2]byte)(d[28:]) = hexPairs[u[12]]
	*(*[2]byte)(d[30:]) = hexPairs[u[13]]
	*(*[2]byte)(d[32:]) = hexPairs[u[14]]
	*(*[2]byte)(d[34:]) = hexPairs[u[15]]
	return b
}

// hexPairs holds each byte's two lower-case hexadecimal digits.
var hexPairs = func() (t [256][2]byte) {
	const hex = "0123456789abcdef"
	for i := range t {
		t[i] = [2]byte{hex[i>>4], hex[i&15]}
	}
	return t
}()

// ParseMessageID parses a wsa:MessageID (or wsa:RelatesTo) value, already XML-unescaped. Surrounding
// white space is ignored; parameters may be separated by '&' or '?'; names are matched without regard to
// ASCII case and values %-decoded; unknown parameters are kept in Extra; MessageDate accepts any
// xs:dateTime (offsets, fractions; no zone means UTC). TransactionId and MessageDate are optional here
// (see Validate).
//
// A value that is not in the GSMA form at all fails with kind MessageIDNotGSMA. When only MessageDate is
// malformed (kind MessageIDBadDate), the returned MessageID still holds everything else, so a callback
// can still be correlated by its TransactionId.
func ParseMessageID(s string) (MessageID, error) {
	s = trimXMLSpace(s)
	if s == "" {
		return MessageID{}, &MessageIDError{Kind: MessageIDEmpty}
	}
	if !strings.HasPrefix(s, "//") {
		return MessageID{}, &MessageIDError{Kind: MessageIDNotGSMA, Value: errValue(s)}
	}
	var m MessageID
	rest := s[2:]
	slash := strings.IndexByte(rest, '/')
	q := strings.IndexByte(rest, '?')
	if slash <= 0 || (q >= 0 && q < slash) {
		return MessageID{}, &MessageIDError{Kind: MessageIDMalformed, Value: errValue(s)}
	}
	m.Sender, rest = rest[:slash], rest[slash+1:]
	params := ""
	if q = strings.IndexByte(rest, '?'); q >= 0 {
		m.ID, params = rest[:q], rest[q+1:]
	} else {
		m.ID = rest
	}
	m.ID = trimXMLSpace(m.ID) // "//s/id ?" must not keep a space String could not restore
	if m.ID == "" {
		return MessageID{}, &MessageIDError{Kind: MessageIDMalformed, Value: errValue(s)}
	}
	var (
		sawTx, sawDate, sawCtx bool
		dateErr                *MessageIDError
	)
	for params != "" {
		i := strings.IndexAny(params, "&?")
		seg := params
		if i >= 0 {
			seg, params = params[:i], params[i+1:]
		} else {
			params = ""
		}
		if seg == "" {
			continue
		}
		rawName, rawValue, _ := strings.Cut(seg, "=")
		name, ok := unescapeParam(rawName)
		if !ok {
			return MessageID{}, &MessageIDError{Kind: MessageIDBadEscape, Value: errValue(rawName)}
		}
		value, ok := unescapeParam(rawValue)
		if !ok {
			return MessageID{}, &MessageIDError{Kind: MessageIDBadEscape, Param: errValue(name), Value: errValue(rawValue)}
		}
		dup := func(param string) error {
			return &MessageIDError{Kind: MessageIDDuplicateParam, Param: param, Value: errValue(value)}
		}
		switch {
		case strings.EqualFold(name, ParamTransactionID):
			if sawTx {
				return MessageID{}, dup(ParamTransactionID)
			}
			sawTx, m.TransactionID = true, value
		case strings.EqualFold(name, ParamMessageDate):
			if sawDate {
				return MessageID{}, dup(ParamMessageDate)
			}
			sawDate = true
			if value == "" {
				continue // an empty date is an absent date
			}
			t, err := parseXSDateTime(value)
			if err != nil {
				dateErr = &MessageIDError{Kind: MessageIDBadDate, Param: ParamMessageDate, Value: errValue(value)}
				continue
			}
			m.MessageDate = t
		case strings.EqualFold(name, ParamContextID):
			if sawCtx {
				return MessageID{}, dup(ParamContextID)
			}
			sawCtx, m.ContextID = true, value
		default:
			m.Extra = append(m.Extra, Param{Name: name, Value: value})
		}
	}
	if dateErr != nil {
		return m, dateErr
	}
	return m, nil
}

// parseXSDateTime parses an xs:dateTime. Go's parser accepts a fraction after the seconds even when the
// layout has none. The result must be writable back as a four-digit UTC year.
func parseXSDateTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		// xs:dateTime allows no zone at all; SGP.02 peers mean UTC.
		var err2 error
		if t, err2 = time.Parse("2006-01-02T15:04:05", s); err2 != nil {
			return time.Time{}, err
		}
	}
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return time.Time{}, &time.ParseError{Layout: time.RFC3339, Value: s, Message: ": year out of range"}
	}
	return t, nil
}

// Validate applies the rules for a MessageID we send: sender and id present and free of the characters
// the grammar splits on, and a MessageDate (RPSHeader requires it). TransactionId stays optional.
func (m MessageID) Validate() error {
	if m.Sender == "" || m.ID == "" || strings.ContainsAny(m.Sender, "/?") || strings.ContainsAny(m.ID, "?") {
		return &MessageIDError{Kind: MessageIDMalformed, Value: errValue("//" + m.Sender + "/" + m.ID)}
	}
	if m.MessageDate.IsZero() {
		return &MessageIDError{Kind: MessageIDMissingDate}
	}
	if y := m.MessageDate.UTC().Year(); y < 0 || y > 9999 {
		return &MessageIDError{Kind: MessageIDBadDate, Param: ParamMessageDate}
	}
	return nil
}

// Equal reports whether m and o carry the same values on the wire: MessageDate is compared as written (UTC,
// whole seconds).
func (m MessageID) Equal(o MessageID) bool {
	if m.Sender != o.Sender || m.ID != o.ID || m.TransactionID != o.TransactionID || m.ContextID != o.ContextID ||
		!wireTime(m.MessageDate).Equal(wireTime(o.MessageDate)) || len(m.Extra) != len(o.Extra) {
		return false
	}
	for i := range m.Extra {
		if m.Extra[i] != o.Extra[i] {
			return false
		}
	}
	return true
}

// String returns the MessageID as it goes on the wire (before XML escaping).
func (m MessageID) String() string {
	n := len(m.Sender) + len(m.ID) + len(m.TransactionID) + len(m.ContextID) + 80
	for _, p := range m.Extra {
		n += len(p.Name) + len(p.Value) + 2
	}
	if n <= 256 {
		// Built on the stack: the string is the only allocation.
		var buf [256]byte
		return string(m.AppendTo(buf[:0]))
	}
	return string(m.AppendTo(make([]byte, 0, n)))
}

// AppendTo appends "//Sender/ID", then TransactionId, MessageDate (UTC, seconds, Z), ContextId and the
// extra parameters, each only when set, joined with '&' as a captured gSOAP SM-SR callback does. It allocates only when b
// must grow.
func (m MessageID) AppendTo(b []byte) []byte {
	b = append(b, "//"...)
	b = append(b, m.Sender...)
	b = append(b, '/')
	b = append(b, m.ID...)
	lead := byte('?')
	if m.TransactionID != "" {
		b = append(b, lead)
		b = append(b, ParamTransactionID...)
		b = append(b, '=')
		b = appendParamEscaped(b, m.TransactionID)
		lead = '&'
	}
	if !m.MessageDate.IsZero() {
		b = append(b, lead)
		b = append(b, ParamMessageDate...)
		b = append(b, '=')
		b = appendWireTime(b, wireTime(m.MessageDate))
		lead = '&'
	}
	if m.ContextID != "" {
		b = append(b, lead)
		b = append(b, ParamContextID...)
		b = append(b, '=')
		b = appendParamEscaped(b, m.ContextID)
		lead = '&'
	}
	for _, p := range m.Extra {
		b = append(b, lead)
		b = appendParamEscaped(b, p.Name)
		b = append(b, '=')
		b = appendParamEscaped(b, p.Value)
		lead = '&'
	}
	return b
}

// appendWireTime appends t as 2006-01-02T15:04:05Z, exactly what AppendFormat writes with that layout
// (TestAppendWireTime), without interpreting the layout: every message has a MessageDate.
func appendWireTime(b []byte, t time.Time) []byte {
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, "2006-01-02T15:04:05Z")
	}
	hour, minute, sec := t.Clock()
	return append(b,
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+int(month)/10), byte('0'+int(month)%10), '-', byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':', byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10), 'Z')
}

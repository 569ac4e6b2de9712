package soap

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"reflect"

	"github.com/esimgw/esimgw/internal/xmltext"
)

// BodyWriter is a body element that appends itself as XML. The generated types of package wsdl/rps implement
// it; they write rps:-prefixed names, which the envelope declares.
type BodyWriter interface {
	AppendXML(b []byte) []byte
	ElementName() string
}

// BodyReader is a body element that decodes itself from a decoder positioned on its element.
type BodyReader interface {
	DecodeXML(d *xmltext.Decoder) error
}

// Header is the WS-Addressing header block of an SGP.02 message (docs/wire.md section 2). Addresses are
// kept as strings: EntityAddress and MessageID parse and build them.
type Header struct {
	From      string // wsa:From/wsa:Address
	To        string // wsa:To
	MessageID string // wsa:MessageID
	Action    string // wsa:Action
	ReplyTo   string // wsa:ReplyTo/wsa:Address; async requests only
	RelatesTo string // wsa:RelatesTo; responses and callbacks only
	// RelationshipType of RelatesTo; empty means the WS-Addressing default (reply) and is not written.
	RelationshipType string
	// Extra holds complete header elements written before the addressing headers, such as a
	// wsse:Security block. They must declare any prefix other than env, wsa and rps themselves.
	Extra []byte
	// Security is the inner XML of an inbound wsse:Security header, nil when there was none.
	Security []byte
}

// AppendEnvelope appends a complete SOAP 1.2 envelope carrying h and body. It declares the env, wsa and
// rps prefixes on env:Envelope and sets env:mustUnderstand on wsa:To and wsa:Action, as gSOAP-based SM-SRs do.
func AppendEnvelope(b []byte, h *Header, body BodyWriter) []byte {
	return AppendEnvelopeVersion(b, SOAP12, h, body)
}

// AppendEnvelopeVersion is AppendEnvelope for SOAP version v: with SOAP11 the env prefix is bound to the
// SOAP 1.1 namespace, mustUnderstand is written "1", and a *Fault body is written in SOAP 1.1 form
// (faultcode, faultstring, detail).
func AppendEnvelopeVersion(b []byte, v Version, h *Header, body BodyWriter) []byte {
	return appendEnvelope(b, v, h, body, nil, nil)
}

// appendEnvelope is AppendEnvelopeVersion with the From, To and ReplyTo blocks taken from addrs and the
// Action block from action when they are not nil: a Client's escaped copies of the same values
// (appendAddressBlocks, appendActionBlock), so that a call does not escape them again.
func appendEnvelope(b []byte, v Version, h *Header, body BodyWriter, addrs *addressBlocks, action []byte) []byte {
	b = append(b, `<?xml version="1.0" encoding="UTF-8"?><env:Envelope xmlns:env="`...)
	b = append(b, v.Namespace()...)
	b = append(b, `" xmlns:wsa="`+NSAddressing+`" xmlns:rps="`+NSRPS+`"><env:Header>`...)
	b = append(b, h.Extra...)
	if addrs != nil {
		b = append(b, addrs.fromToXML...)
	} else {
		b = appendFromTo(b, v, h.From, h.To)
	}
	b = appendHeader(b, "<wsa:MessageID>", h.MessageID, "</wsa:MessageID>")
	if action != nil {
		b = append(b, action...)
	} else {
		b = appendActionBlock(b, v, h.Action)
	}
	if addrs != nil {
		b = append(b, addrs.replyToXML...)
	} else {
		b = appendHeader(b, "<wsa:ReplyTo><wsa:Address>", h.ReplyTo, "</wsa:Address></wsa:ReplyTo>")
	}
	if h.RelatesTo != "" {
		b = append(b, "<wsa:RelatesTo"...)
		if h.RelationshipType != "" {
			b = append(b, ` RelationshipType="`...)
			b = xmltext.AppendAttr(b, h.RelationshipType)
			b = append(b, '"')
		}
		b = append(b, '>')
		b = xmltext.AppendText(b, h.RelatesTo)
		b = append(b, "</wsa:RelatesTo>"...)
	}
	b = append(b, "</env:Header><env:Body>"...)
	if f, ok := body.(*Fault); ok && v == SOAP11 {
		b = f.appendXML11(b)
	} else if body != nil {
		b = body.AppendXML(b)
	}
	return append(b, "</env:Body></env:Envelope>"...)
}

// mustUnderstand is the attribute that closes the opening tag of a header the receiver must process, as
// version v spells true.
func mustUnderstand(v Version) string {
	if v == SOAP11 {
		return ` env:mustUnderstand="1">` // SOAP 1.1 allows only "0" and "1"
	}
	return ` env:mustUnderstand="true">`
}

// appendFromTo appends the From and To blocks of a header with those addresses (none for an empty one).
func appendFromTo(b []byte, v Version, from, to string) []byte {
	b = appendHeader(b, "<wsa:From><wsa:Address>", from, "</wsa:Address></wsa:From>")
	return appendHeader2(b, "<wsa:To", mustUnderstand(v), to, "</wsa:To>")
}

// appendActionBlock appends the Action block of a header with that action (none for an empty one).
func appendActionBlock(b []byte, v Version, action string) []byte {
	return appendHeader2(b, "<wsa:Action", mustUnderstand(v), action, "</wsa:Action>")
}

// addressBlocks are the From and To blocks, and apart the ReplyTo block, of a header with those
// addresses, escaped as appendEnvelope writes them.
type addressBlocks struct {
	v                 Version
	from, to, replyTo string
	fromToXML         []byte // the From and To blocks
	replyToXML        []byte // the ReplyTo block
}

// newAddressBlocks escapes the address blocks of from, to and replyTo for version v.
func newAddressBlocks(v Version, from, to, replyTo string) *addressBlocks {
	a := &addressBlocks{v: v, from: from, to: to, replyTo: replyTo}
	a.fromToXML = appendFromTo(nil, v, from, to)
	a.replyToXML = appendHeader(nil, "<wsa:ReplyTo><wsa:Address>", replyTo, "</wsa:Address></wsa:ReplyTo>")
	return a
}

// appendHeader2 is appendHeader with the opening tag in two parts.
func appendHeader2(b []byte, open1, open2, v, closing string) []byte {
	if v == "" {
		return b
	}
	b = append(b, open1...)
	b = append(b, open2...)
	b = xmltext.AppendText(b, v)
	return append(b, closing...)
}

// appendHeader appends open, v escaped and closing, unless v is empty (an absent header).
func appendHeader(b []byte, open, v, closing string) []byte {
	if v == "" {
		return b
	}
	b = append(b, open...)
	b = xmltext.AppendText(b, v)
	return append(b, closing...)
}

// Envelope decoding failures, for errors.Is. Every error ReadMessage returns is an *EnvelopeError.
var (
	// ErrMalformed: the bytes are not well-formed XML, or break one of xmltext's limits (see Unwrap).
	ErrMalformed = errors.New("malformed XML")
	// ErrNotEnvelope: well-formed XML that is not a SOAP envelope.
	ErrNotEnvelope = errors.New("not a SOAP envelope")
	// ErrVersionMismatch: an envelope namespace that is neither SOAP 1.2 nor SOAP 1.1.
	ErrVersionMismatch = errors.New("SOAP version mismatch: want SOAP 1.2 (or 1.1)")
	// ErrBody: no env:Body, or a Body that does not hold exactly one element.
	ErrBody = errors.New("SOAP body must hold exactly one element")
	// ErrEmptyBody: an env:Body with no element at all, the one-way acknowledgement node-soap and other
	// stacks answer a 2xx with. errors.Is(err, ErrBody) holds for it too. Client takes such a 2xx
	// answer as an acceptance; a receiver refuses it as a message.
	ErrEmptyBody = fmt.Errorf("%w: env:Body is empty", ErrBody)
	// ErrMustUnderstand: a header marked mustUnderstand that this library does not process.
	ErrMustUnderstand = errors.New("header not understood")
	// ErrTooLarge: the message is over the configured size limit.
	ErrTooLarge = errors.New("message too large")
)

// EnvelopeError says why an inbound message was refused.
type EnvelopeError struct {
	Kind   error // one of the Err* values above
	Detail string
	Err    error // the underlying xmltext error, if any
	// Header is the addressing header block when it was read in full before the failure (a message cut
	// short in its body), nil otherwise: enough to tell the sender's operation its answer was unreadable.
	Header *Header
	// Version is the envelope's SOAP version once its root element was read (SOAP12 before that): the
	// version a fault answering it is written in.
	Version Version
}

func (e *EnvelopeError) Error() string {
	s := "soap: " + e.Kind.Error()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap lets errors.Is see both the kind and the xmltext cause (xmltext.ErrDoctype, ErrDepth, ...).
func (e *EnvelopeError) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

// Fault converts a refusal into the SOAP fault a receiver should answer with.
func (e *EnvelopeError) Fault() *Fault {
	code := FaultSender
	switch e.Kind {
	case ErrVersionMismatch:
		code = FaultVersionMismatch
	case ErrMustUnderstand:
		code = FaultMustUnderstand
	}
	return NewFault(code, e.Error())
}

// ElementName makes a Fault a BodyWriter.
func (f *Fault) ElementName() string { return "Fault" }

// Message is a decoded inbound envelope: its addressing headers, the name of its body element and, for
// faults, the fault. The body itself is decoded on demand with DecodeBody, once the receiver knows from
// BodyName what type to decode it into.
type Message struct {
	Header    Header
	Version   Version // the envelope's SOAP version: SOAP 1.1 peers are answered in SOAP 1.1
	BodyName  string  // local name of the body element, e.g. "ES4-EnableProfileResponse"
	BodySpace string  // its namespace URI
	Fault     *Fault  // set when the body is an env:Fault

	// HTTP carries what the transport knew about the message: set by Handler and Client.
	HTTPHeader http.Header
	TLS        *tls.ConnectionState
	RemoteAddr string

	data []byte
	dec  *xmltext.Decoder // the decoder ReadMessage used, kept to re-read the body
	body xmltext.State
	strs stringArena
	// into is the BodyReader ReadMessageInto decoded the body into while reading the envelope, nil when
	// it did not; intoErr is what that decoding returned, for DecodeBody(into) to return.
	into    BodyReader
	intoErr error

	// headerValues is the room HTTPHeader's values are in when the Client's Transport parsed the answer:
	// the Message's own, so that the next exchange on the same pooled memory cannot change them.
	headerValues [maxPlainHeaders]string
	recycle      *messagePools // where Release returns the message, its decoder and its buffer; nil: nowhere
	buf          *[]byte       // data's backing array, from recycle
}

// Raw is the envelope as received.
func (m *Message) Raw() []byte { return m.data }

// DecodeBody decodes the body element into v. It may be called more than once, but not concurrently.
func (m *Message) DecodeBody(v BodyReader) error {
	if m.into != nil && v == m.into {
		return m.bodyError(m.intoErr)
	}
	if m.dec == nil {
		return &EnvelopeError{Kind: ErrBody, Detail: "message has no decoded body"}
	}
	d := m.dec
	d.Restore(&m.body)
	return m.bodyError(v.DecodeXML(d))
}

// bodyError is how DecodeBody reports what decoding the body returned.
func (m *Message) bodyError(err error) error {
	if err != nil {
		var xe *xmltext.Error
		if errors.As(err, &xe) {
			return &EnvelopeError{Kind: ErrMalformed, Detail: "body " + m.BodyName, Err: err}
		}
		return fmt.Errorf("soap: decoding body %s: %w", m.BodyName, err)
	}
	return nil
}

// BodyXML returns the inner XML of the body element as written (its children), for logging or for
// handing an element this library does not know to the application raw.
func (m *Message) BodyXML() ([]byte, error) {
	if m.dec == nil {
		return nil, &EnvelopeError{Kind: ErrBody, Detail: "message has no decoded body"}
	}
	m.dec.Restore(&m.body)
	return m.dec.InnerXML()
}

// ReadOptions tune ReadMessage. The zero value is the default.
type ReadOptions struct {
	Limits xmltext.Limits
}

// ReadMessage decodes an inbound SOAP 1.2 or SOAP 1.1 envelope (Message.Version says which). It is
// tolerant where real peers differ (WS-Addressing headers matched by local name, in any case, in the
// 2005/08 or 2007/05 namespace or in none, any prefixes, comments and white space anywhere) and strict
// where it must be: malformed XML, DOCTYPE, over-deep documents, another envelope namespace, a Body
// without exactly one element and unknown mustUnderstand headers are refused with an *EnvelopeError.
// data is kept, not copied.
func ReadMessage(data []byte, opts ReadOptions) (*Message, error) {
	return ReadMessageInto(data, opts, nil)
}

// ReadMessageInto is ReadMessage for a receiver that knows which body it expects: when the body element
// is into's (into's ElementName, compared as element names are, ignoring ASCII case), it is decoded into
// into while the envelope is read, in one pass over the document instead of two, and DecodeBody(into)
// then returns the outcome of that decoding without reading the body again. Any other body is left for
// DecodeBody as with ReadMessage; into must be a pointer. What is refused and what the Message holds are
// ReadMessage's in every case, a body that does not decode included: that error is DecodeBody's.
func ReadMessageInto(data []byte, opts ReadOptions, into BodyReader) (*Message, error) {
	return readNew(data, opts, into, nil)
}

// decodedMessage is a Message and the decoder it keeps, in one allocation.
type decodedMessage struct {
	m Message
	d xmltext.Decoder
}

// readNew decodes data into a new Message (see Message.read) whose decoder shares its allocation.
func readNew(data []byte, opts ReadOptions, into BodyReader, choose BodyChooser) (*Message, error) {
	dm := &decodedMessage{}
	dm.d.Init(data, opts.Limits)
	if err := dm.m.read(&dm.d, data, into, choose); err != nil {
		return nil, err
	}
	return &dm.m, nil
}

// BodyChooser is implemented by a MessageHandler that knows, from the body element's local name alone,
// the value it will decode the body into (the Dispatcher does). Handler then decodes the body into it
// while it reads the envelope, in one pass over the document (as ReadMessageInto does), and the Message's
// Decoded returns it: DecodeBody of that value returns the outcome without reading the body again.
// ChooseBody returns nil for a body it has no value for (which is then read as ReadMessage reads it); it
// must not keep local, a slice of the envelope.
type BodyChooser interface {
	ChooseBody(local []byte) BodyReader
}

// Decoded is the value the body was decoded into while the envelope was read (ReadMessageInto, or a
// Handler's BodyChooser), nil when there is none. DecodeBody(m.Decoded()) returns that decoding's
// outcome without reading the body again.
func (m *Message) Decoded() BodyReader { return m.into }

// namedBody is a BodyReader that names its element, as the generated types do.
type namedBody interface {
	BodyReader
	ElementName() string
}

// read decodes data into the zero Message m with d, which is positioned at the start of data, decoding
// the body into into on the way when it is into's element (see ReadMessageInto).
// choose, when not nil, names into once the body element's name is known (BodyChooser); into is then nil.
func (m *Message) read(d *xmltext.Decoder, data []byte, into BodyReader, choose BodyChooser) error {
	m.data, m.dec = data, d
	if err := d.Root(); err != nil {
		return malformed(err)
	}
	if !d.LocalIs("Envelope") {
		return &EnvelopeError{Kind: ErrNotEnvelope, Detail: fmt.Sprintf("root element is <%s>", d.Local())}
	}
	switch {
	case d.SpaceIs(NSEnvelope):
		m.Version = SOAP12
	case d.SpaceIs(NSEnvelope11):
		m.Version = SOAP11
	default:
		return &EnvelopeError{Kind: ErrVersionMismatch, Detail: fmt.Sprintf("envelope namespace %q", d.Space())}
	}
	envNS := m.Version.Namespace()
	strs := &m.strs
	seenBody, headerRead := false, false
	// withHeader attaches the version, and the headers read so far, to a failure found after them.
	withHeader := func(err error) error {
		var ee *EnvelopeError
		if errors.As(err, &ee) {
			ee.Version = m.Version
			if headerRead {
				strs.finish()
				h := m.Header
				ee.Header = &h
			}
		}
		return err
	}
	for {
		ok, err := d.NextChild()
		if err != nil {
			return withHeader(malformed(err))
		}
		if !ok {
			break
		}
		switch {
		case d.SpaceIs(envNS) && string(d.Local()) == "Header" && !seenBody:
			if err := readHeader(d, envNS, &m.Header, strs); err != nil {
				return withHeader(err)
			}
			headerRead = true
		case d.SpaceIs(envNS) && string(d.Local()) == "Body" && !seenBody:
			seenBody = true
			if err := m.readBody(d, envNS, strs, into, choose); err != nil {
				return withHeader(err)
			}
		default:
			return withHeader(&EnvelopeError{Kind: ErrNotEnvelope, Detail: fmt.Sprintf("unexpected <%s> in env:Envelope", d.Local())})
		}
	}
	if !seenBody {
		return withHeader(&EnvelopeError{Kind: ErrBody, Detail: "no env:Body"})
	}
	if err := d.End(); err != nil {
		return withHeader(malformed(err))
	}
	strs.finish()
	return nil
}

// stringArena collects the header values and body name of a message as byte slices and turns them into
// strings with one allocation: decoding an envelope is on every callback's path.
type stringArena struct {
	buf    []byte
	fields [12]struct {
		dst        *string
		start, end int
	}
	n      int
	inline [704]byte // room for the usual header values, so that only finish allocates
}

func (a *stringArena) set(dst *string, v []byte) {
	if a.n == len(a.fields) {
		*dst = string(v)
		return
	}
	if a.buf == nil {
		a.buf = a.inline[:0]
	}
	start := len(a.buf)
	a.buf = append(a.buf, v...)
	a.fields[a.n].dst, a.fields[a.n].start, a.fields[a.n].end = dst, start, len(a.buf)
	a.n++
}

// text sets *dst to the current element's text, trimmed of white space, as Text and set would, and
// consumes the element: the text is unescaped straight into the arena.
func (a *stringArena) text(dst *string, d *xmltext.Decoder) error {
	if a.n == len(a.fields) {
		v, err := d.Text()
		if err != nil {
			return err
		}
		*dst = string(trimSpace(v))
		return nil
	}
	if a.buf == nil {
		a.buf = a.inline[:0]
	}
	start := len(a.buf)
	buf, err := d.AppendText(a.buf)
	if err != nil {
		return err
	}
	// trimSpace, as offsets: the trailing white space is dropped from the arena, the leading stays unused.
	s, e := start, len(buf)
	for s < e && isSpace(buf[s]) {
		s++
	}
	for e > s && isSpace(buf[e-1]) {
		e--
	}
	a.buf = buf[:e]
	a.fields[a.n].dst, a.fields[a.n].start, a.fields[a.n].end = dst, s, e
	a.n++
	return nil
}

func (a *stringArena) finish() {
	all := string(a.buf)
	for i := 0; i < a.n; i++ {
		f := &a.fields[i]
		*f.dst = all[f.start:f.end]
	}
}

func malformed(err error) error {
	return &EnvelopeError{Kind: ErrMalformed, Err: err}
}

func (m *Message) readBody(d *xmltext.Decoder, envNS string, strs *stringArena, into BodyReader, choose BodyChooser) error {
	ok, err := d.NextChild()
	if err != nil {
		return malformed(err)
	}
	if !ok {
		return &EnvelopeError{Kind: ErrEmptyBody}
	}
	strs.set(&m.BodyName, d.Local())
	switch {
	case d.SpaceIs(NSRPS):
		m.BodySpace = NSRPS
	case d.SpaceIs(envNS):
		m.BodySpace = envNS
	default:
		m.BodySpace = string(d.Space())
	}
	d.SaveTo(&m.body)
	isFault := m.BodySpace == envNS && string(d.Local()) == "Fault"
	if choose != nil && !isFault {
		into = choose.ChooseBody(d.Local())
	}
	if isFault {
		f, err := DecodeFault(d)
		if err != nil {
			return malformed(err)
		}
		m.Fault = f
	} else if nb, ok := into.(namedBody); ok && xmltext.EqualFold(d.Local(), nb.ElementName()) && reflect.TypeOf(into).Kind() == reflect.Pointer {
		// Decoded where it stands. If that fails, the body is skipped from its start as ReadMessage
		// would, so that the document is refused or accepted exactly as there, and the error waits for
		// DecodeBody.
		m.into = into
		if m.intoErr = into.DecodeXML(d); m.intoErr != nil {
			d.Restore(&m.body)
			if err := d.Skip(); err != nil {
				return malformed(err)
			}
		}
	} else if err := d.Skip(); err != nil {
		return malformed(err)
	}
	ok, err = d.NextChild()
	if err != nil {
		return malformed(err)
	}
	if ok {
		return &EnvelopeError{Kind: ErrBody, Detail: fmt.Sprintf("second element <%s> in env:Body", d.Local())}
	}
	return nil
}

// isAddressingNS reports whether a header in namespace space may be a WS-Addressing header: 2005/08, the
// 2007/05 metadata namespace Njiwa uses, or no namespace at all (operators' integration templates write
// <RelatesTo> and <MessageID> unqualified). The local name decides.
func isAddressingNS(space []byte) bool {
	return len(space) == 0 || string(space) == NSAddressing || string(space) == NSAddressingMetadata
}

// Addressing headers, as addressingHeader tells them by local name.
const (
	hdrOther = iota
	hdrFrom
	hdrReplyTo
	hdrTo
	hdrMessageID
	hdrAction
	hdrRelatesTo
)

// addressingHeader is the addressing header whose local name is local, compared ignoring ASCII case,
// hdrOther for any other name: the length and, for the two of nine bytes, the first letter leave one name
// to compare.
func addressingHeader(local []byte) int {
	var h int
	var name string
	switch len(local) {
	case 2:
		h, name = hdrTo, "To"
	case 4:
		h, name = hdrFrom, "From"
	case 6:
		h, name = hdrAction, "Action"
	case 7:
		h, name = hdrReplyTo, "ReplyTo"
	case 9:
		switch local[0] | 0x20 {
		case 'm':
			h, name = hdrMessageID, "MessageID"
		case 'r':
			h, name = hdrRelatesTo, "RelatesTo"
		default:
			return hdrOther
		}
	default:
		return hdrOther
	}
	if !xmltext.EqualFold(local, name) {
		return hdrOther
	}
	return h
}

// sameBytes reports whether a and b are the same non-empty bytes in memory, not merely equal ones.
func sameBytes(a, b []byte) bool { return len(a) == len(b) && len(a) != 0 && &a[0] == &b[0] }

func readHeader(d *xmltext.Decoder, envNS string, h *Header, strs *stringArena) error {
	// wsa is the namespace of the last header found to be an addressing namespace: its siblings are
	// nearly always in the same one, the same bytes of the document, known without comparing them again.
	var wsa []byte
	for {
		ok, err := d.NextChildPlain()
		if err != nil {
			return malformed(err)
		}
		if !ok {
			return nil
		}
		var dst *string
		epr := false
		if space := d.Space(); sameBytes(space, wsa) || isAddressingNS(space) {
			wsa = space
			switch addressingHeader(d.Local()) {
			case hdrFrom:
				dst, epr = &h.From, true
			case hdrReplyTo:
				dst, epr = &h.ReplyTo, true
			case hdrTo:
				dst = &h.To
			case hdrMessageID:
				dst = &h.MessageID
			case hdrAction:
				dst = &h.Action
			case hdrRelatesTo:
				dst = &h.RelatesTo
				if rt, ok := d.AttrAny("RelationshipType"); ok {
					strs.set(&h.RelationshipType, rt)
				}
			}
		}
		switch {
		case dst != nil && epr:
			if err := readEPRAddress(d, dst, strs); err != nil {
				return err
			}
		case dst != nil:
			if err := strs.text(dst, d); err != nil {
				return malformed(err)
			}
		case d.SpaceIs(NSWSSecurity) && d.LocalIs("Security"):
			inner, err := d.InnerXML()
			if err != nil {
				return malformed(err)
			}
			h.Security = bytes.Clone(inner) // the envelope's buffer may be recycled (Message.Release)
		default:
			if mu, ok := d.Attr(envNS, "mustUnderstand"); ok && (string(trimSpace(mu)) == "true" || string(trimSpace(mu)) == "1") {
				return &EnvelopeError{Kind: ErrMustUnderstand, Detail: fmt.Sprintf("{%s}%s", d.Space(), d.Local())}
			}
			if err := d.Skip(); err != nil {
				return malformed(err)
			}
		}
	}
}

// eprChildren is what an endpoint reference holds that readEPRAddress reads, for NextChildIn: an Address
// in the reference's own prefix, as peers write it, is taken without resolving its name.
var eprChildren = []xmltext.Child{xmltext.NewChild("Address", false)}

// readEPRAddress reads an endpoint reference's Address; a bare address as text is accepted too.
func readEPRAddress(d *xmltext.Decoder, dst *string, strs *stringArena) error {
	for {
		ok, i, _, err := d.NextChildIn(eprChildren, -1)
		if err != nil {
			return malformed(err)
		}
		if !ok {
			return nil
		}
		if i == 0 || d.LocalIs("Address") {
			if err := strs.text(dst, d); err != nil {
				return malformed(err)
			}
			continue
		}
		if err := d.Skip(); err != nil {
			return malformed(err)
		}
	}
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

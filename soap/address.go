package soap

import (
	"strconv"
	"strings"
)

// Query parameter names of an entity address (docs/wire.md section 2, docs/kpn.md R6).
const (
	// ParamEntityID carries the entity's OID (ObjectIdentifierType).
	ParamEntityID = "EntityId"
	// ParamEntityName carries an optional human label such as "KPN" or "SM-SR".
	ParamEntityName = "EntityName"
	// ParamKPNProviderEntityID is KPN's optional parameter naming the profile vendor's OID (docs/kpn.md R7).
	ParamKPNProviderEntityID = "X-KPN-ProviderEntityId"
)

// Separator is the character written between the query parameters of an EntityAddress. The first
// parameter always follows a '?', as in any URI.
type Separator byte

const (
	// SeparatorQuestion joins every parameter with '?', the form KPN sends and SGP.02 v4 standardised.
	// It is what the zero Separator means.
	SeparatorQuestion Separator = '?'
	// SeparatorAmpersand joins parameters with '&', as v3-era peers (a captured gSOAP SM-SR) do.
	SeparatorAmpersand Separator = '&'
)

// Param is one query parameter, decoded.
type Param struct {
	Name, Value string
}

// EntityAddress is a wsa:From / wsa:To address: a URI whose query parameters carry the identity of an
// SGP.02 entity, e.g.
//
//	http://rsp.kpnthings.com?EntityId=1.3.6.1.4.1.6886?EntityName=KPN?X-KPN-ProviderEntityId=1.3.6.1.4.1.54008
//	http://host:20000?EntityId=1.3.6.1.4.1.20&EntityName=SM-SR
//
// Parsing is tolerant, because the address comes from peers we do not control: EntityId may be absent (a
// plain URL is a valid address), '?' and '&' are both accepted as separators, even mixed, and empty
// parameters are dropped. Callers that need a complete identity (building our own From, checking a
// peer's) call Validate.
//
// EntityAddress is a value; Extra is shared between copies, so modify it through WithProviderEntityID or
// WithParam, which copy it.
type EntityAddress struct {
	// Base is the URI before the first '?', written verbatim.
	Base string
	// EntityID is the EntityId parameter (an OID); empty when absent.
	EntityID string
	// EntityName is the EntityName parameter; empty when absent.
	EntityName string
	// Extra holds every other parameter in the order seen, X-KPN-ProviderEntityId included.
	Extra []Param
	// Separator is written between parameters; zero means SeparatorQuestion. ParseEntityAddress records
	// the delimiter found before the second parameter, and leaves it zero when fewer than two would be
	// written back.
	Separator Separator
}

// AddressErrorKind says what is wrong with an entity address.
type AddressErrorKind uint8

const (
	// AddressEmpty: the address is empty (or blank).
	AddressEmpty AddressErrorKind = iota + 1
	// AddressBadEscape: a parameter holds a malformed %-escape.
	AddressBadEscape
	// AddressDuplicateParam: EntityId or EntityName appears twice; which one identifies the peer would be
	// a guess, so it is refused.
	AddressDuplicateParam
	// AddressMissingEntityID: Validate found no EntityId.
	AddressMissingEntityID
	// AddressBadOID: Validate found an EntityId or X-KPN-ProviderEntityId that is not an OID.
	AddressBadOID
	// AddressBadBase: Validate found an empty Base, or one holding '?' or '#' (which would not re-parse).
	AddressBadBase
)

func (k AddressErrorKind) String() string {
	switch k {
	case AddressEmpty:
		return "empty address"
	case AddressBadEscape:
		return "malformed %-escape"
	case AddressDuplicateParam:
		return "duplicate parameter"
	case AddressMissingEntityID:
		return "EntityId missing"
	case AddressBadOID:
		return "malformed OID"
	case AddressBadBase:
		return "malformed base URI"
	}
	return "AddressErrorKind(" + strconv.Itoa(int(k)) + ")"
}

// AddressError reports a malformed or incomplete entity address. Use errors.As to inspect it.
type AddressError struct {
	Kind  AddressErrorKind
	Param string // the parameter concerned, if any
	Value string // the offending value or input, truncated for display
}

func (e *AddressError) Error() string {
	return paramError("soap: entity address: ", e.Kind.String(), e.Param, e.Value)
}

// paramError formats the parse errors of query-style values (entity addresses, MessageIDs) alike.
func paramError(prefix, kind, param, value string) string {
	s := prefix + kind
	if param != "" {
		s += " in " + param
	}
	if value != "" {
		s += ": " + strconv.Quote(value)
	}
	return s
}

// maxErrValue bounds how much of a peer's input an error repeats: errors end up in logs.
const maxErrValue = 128

func errValue(s string) string {
	if len(s) > maxErrValue {
		return s[:maxErrValue] + "..."
	}
	return s
}

// ParseEntityAddress parses a wsa:Address value (already XML-unescaped, so "&amp;" arrives as '&').
// Surrounding XML white space is ignored. Base is everything before the first '?'; the rest is split on
// both '?' and '&'. Parameter names are matched without regard to ASCII case; values are %-decoded ('+'
// stays '+': this is a URI, not a form). It fails only on an empty address, a malformed %-escape or a
// repeated EntityId/EntityName; see Validate for the strict checks.
func ParseEntityAddress(s string) (EntityAddress, error) {
	s = trimXMLSpace(s)
	if s == "" {
		return EntityAddress{}, &AddressError{Kind: AddressEmpty}
	}
	var a EntityAddress
	q := strings.IndexByte(s, '?')
	if q < 0 {
		a.Base = s
		return a, nil
	}
	a.Base = trimXMLSpace(s[:q]) // "http://h ?EntityId=1" must not keep a space String could not restore
	var (
		n              int  // non-empty parameters seen
		sawID, sawName bool // presence, not value: "EntityId=" twice is still a duplicate
		lastDelim      byte = '?'
		rest                = s[q+1:]
	)
	for {
		i := strings.IndexAny(rest, "?&")
		seg := rest
		if i >= 0 {
			seg = rest[:i]
		}
		if seg != "" {
			// The separator recorded is the delimiter right before the second parameter: the one a
			// writer put between parameters (the first one always follows '?').
			if n == 1 {
				a.Separator = Separator(lastDelim)
			}
			n++
			rawName, rawValue, _ := strings.Cut(seg, "=")
			name, ok := unescapeParam(rawName)
			if !ok {
				return EntityAddress{}, &AddressError{Kind: AddressBadEscape, Value: errValue(rawName)}
			}
			value, ok := unescapeParam(rawValue)
			if !ok {
				return EntityAddress{}, &AddressError{Kind: AddressBadEscape, Param: errValue(name), Value: errValue(rawValue)}
			}
			switch {
			case strings.EqualFold(name, ParamEntityID):
				if sawID {
					return EntityAddress{}, &AddressError{Kind: AddressDuplicateParam, Param: ParamEntityID, Value: errValue(value)}
				}
				sawID, a.EntityID = true, value
			case strings.EqualFold(name, ParamEntityName):
				if sawName {
					return EntityAddress{}, &AddressError{Kind: AddressDuplicateParam, Param: ParamEntityName, Value: errValue(value)}
				}
				sawName, a.EntityName = true, value
			default:
				a.Extra = append(a.Extra, Param{Name: name, Value: value})
			}
		}
		if i < 0 {
			break
		}
		lastDelim = rest[i]
		rest = rest[i+1:]
	}
	written := len(a.Extra)
	if a.EntityID != "" {
		written++
	}
	if a.EntityName != "" {
		written++
	}
	if a.Base == "" && written == 0 {
		return EntityAddress{}, &AddressError{Kind: AddressEmpty, Value: errValue(s)}
	}
	if written < 2 {
		// "?EntityId=&Foo=1" has one parameter worth writing: no separator was really chosen.
		a.Separator = 0
	}
	return a, nil
}

// Validate applies the strict rules for an address that must identify an entity: a non-empty Base
// without '?' or '#', an EntityId in OID form, an X-KPN-ProviderEntityId (if any) in OID form, and no
// extra parameter shadowing EntityId or EntityName.
func (a EntityAddress) Validate() error {
	if a.Base == "" || strings.ContainsAny(a.Base, "?#") {
		return &AddressError{Kind: AddressBadBase, Value: errValue(a.Base)}
	}
	if a.EntityID == "" {
		return &AddressError{Kind: AddressMissingEntityID}
	}
	if !validOID(a.EntityID) {
		return &AddressError{Kind: AddressBadOID, Param: ParamEntityID, Value: errValue(a.EntityID)}
	}
	for _, p := range a.Extra {
		switch {
		case strings.EqualFold(p.Name, ParamEntityID), strings.EqualFold(p.Name, ParamEntityName):
			return &AddressError{Kind: AddressDuplicateParam, Param: p.Name, Value: errValue(p.Value)}
		case strings.EqualFold(p.Name, ParamKPNProviderEntityID) && !validOID(p.Value):
			return &AddressError{Kind: AddressBadOID, Param: p.Name, Value: errValue(p.Value)}
		}
	}
	return nil
}

// Param returns the value of the first parameter called name (ASCII case ignored), EntityId and
// EntityName included.
func (a EntityAddress) Param(name string) (string, bool) {
	switch {
	case strings.EqualFold(name, ParamEntityID):
		return a.EntityID, a.EntityID != ""
	case strings.EqualFold(name, ParamEntityName):
		return a.EntityName, a.EntityName != ""
	}
	for _, p := range a.Extra {
		if strings.EqualFold(p.Name, name) {
			return p.Value, true
		}
	}
	return "", false
}

// ProviderEntityID returns the X-KPN-ProviderEntityId parameter: the OID of the vendor whose profile a
// KPN call manages.
func (a EntityAddress) ProviderEntityID() (string, bool) { return a.Param(ParamKPNProviderEntityID) }

// WithProviderEntityID returns a copy of a whose X-KPN-ProviderEntityId is oid, or which has none when
// oid is empty. The vendor OID changes per call (docs/kpn.md R7), so this never touches a's Extra.
func (a EntityAddress) WithProviderEntityID(oid string) EntityAddress {
	return a.WithParam(ParamKPNProviderEntityID, oid)
}

// WithParam returns a copy of a with the extra parameter name set to value (replacing the first
// parameter of that name, ASCII case ignored, and dropping any others), or removed when value is empty.
// Setting EntityId or EntityName goes to the dedicated fields. a's Extra is never modified.
func (a EntityAddress) WithParam(name, value string) EntityAddress {
	switch {
	case strings.EqualFold(name, ParamEntityID):
		a.EntityID = value
		return a
	case strings.EqualFold(name, ParamEntityName):
		a.EntityName = value
		return a
	}
	extra := make([]Param, 0, len(a.Extra)+1)
	done := value == ""
	for _, p := range a.Extra {
		if !strings.EqualFold(p.Name, name) {
			extra = append(extra, p)
			continue
		}
		if !done {
			extra = append(extra, Param{Name: p.Name, Value: value})
			done = true
		}
	}
	if !done {
		extra = append(extra, Param{Name: name, Value: value})
	}
	if len(extra) == 0 {
		extra = nil
	}
	a.Extra = extra
	return a
}

// Equal reports whether a and b are the same address: same fields, Extra compared in order, a zero
// Separator taken as SeparatorQuestion.
func (a EntityAddress) Equal(b EntityAddress) bool {
	if a.Base != b.Base || a.EntityID != b.EntityID || a.EntityName != b.EntityName ||
		a.sep() != b.sep() || len(a.Extra) != len(b.Extra) {
		return false
	}
	for i := range a.Extra {
		if a.Extra[i] != b.Extra[i] {
			return false
		}
	}
	return true
}

func (a EntityAddress) sep() byte {
	if a.Separator == SeparatorAmpersand {
		return '&'
	}
	return '?'
}

// String returns the address as it goes on the wire (before XML escaping).
func (a EntityAddress) String() string {
	return string(a.AppendTo(make([]byte, 0, a.sizeHint())))
}

func (a EntityAddress) sizeHint() int {
	n := len(a.Base) + len(a.EntityID) + len(a.EntityName) + 2*len(ParamEntityName) + 4
	for _, p := range a.Extra {
		n += len(p.Name) + len(p.Value) + 2
	}
	return n
}

// AppendTo appends the address to b: Base, then EntityId, EntityName and the extra parameters in order,
// empty EntityId/EntityName omitted, joined by the chosen Separator, names and values %-escaped where
// they would otherwise not re-parse. It allocates only when b must grow.
func (a EntityAddress) AppendTo(b []byte) []byte {
	b = append(b, a.Base...)
	lead := byte('?')
	sep := a.sep()
	if a.EntityID != "" {
		b = append(b, lead)
		b = append(b, ParamEntityID...)
		b = append(b, '=')
		b = appendParamEscaped(b, a.EntityID)
		lead = sep
	}
	if a.EntityName != "" {
		b = append(b, lead)
		b = append(b, ParamEntityName...)
		b = append(b, '=')
		b = appendParamEscaped(b, a.EntityName)
		lead = sep
	}
	for _, p := range a.Extra {
		b = append(b, lead)
		b = appendParamEscaped(b, p.Name)
		b = append(b, '=')
		b = appendParamEscaped(b, p.Value)
		lead = sep
	}
	return b
}

// validOID reports whether s matches ObjectIdentifierType, ([\d]+[.])*[\d]+ (ASCII digits only).
func validOID(s string) bool {
	if s == "" {
		return false
	}
	digit := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			digit = true
		case c == '.' && digit:
			digit = false
		default:
			return false
		}
	}
	return digit
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// trimXMLSpace removes the white space xs:anyURI's collapse facet ignores; pretty-printing peers put
// newlines around wsa:Address content.
func trimXMLSpace(s string) string {
	for len(s) > 0 && isXMLSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isXMLSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// unescapeParam %-decodes s. It returns s itself (no allocation) when there is nothing to decode.
func unescapeParam(s string) (string, bool) {
	i := strings.IndexByte(s, '%')
	if i < 0 {
		return s, true
	}
	var sb strings.Builder
	sb.Grow(len(s))
	sb.WriteString(s[:i])
	for ; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			sb.WriteByte(c)
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		hi, ok1 := unhex(s[i+1])
		lo, ok2 := unhex(s[i+2])
		if !ok1 || !ok2 {
			return "", false
		}
		sb.WriteByte(hi<<4 | lo)
		i += 2
	}
	return sb.String(), true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// paramSafe reports whether c may appear unescaped in a parameter name or value: RFC 3986 unreserved
// characters plus the sub-delims and ':' '@' '/' that OIDs, URNs and labels use, minus the characters
// this grammar splits on ('?', '&', '=') and '%' '#' '+' (which other parsers treat specially).
func paramSafe(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '-', '.', '_', '~', ':', '@', '/', '!', '$', '\'', '(', ')', '*', ',', ';':
		return true
	}
	return false
}

const hexUpper = "0123456789ABCDEF"

// appendParamEscaped %-escapes what paramSafe refuses (white space, controls and non-ASCII bytes too).
func appendParamEscaped(b []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; !paramSafe(c) {
			b = append(b, s[last:i]...)
			b = append(b, '%', hexUpper[c>>4], hexUpper[c&15])
			last = i + 1
		}
	}
	return append(b, s[last:]...)
}

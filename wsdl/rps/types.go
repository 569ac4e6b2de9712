package rps

// Hand-written sidecar of the generated code: the Go types the post-processor maps XSD built-ins to, the
// Element interface and the scalar codecs the generated code calls. Not generated, so keep it out of
// rps.go and codec_gen.go.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/esimgw/esimgw/internal/xmltext"
)

// Element is a global SGP.02 body element: a request, a response (sync reply or async callback) or a
// notification. It is what soap.BodyWriter and soap.BodyReader need.
type Element interface {
	// AppendXML appends <rps:Name>...</rps:Name>; the rps prefix must be declared by an ancestor.
	AppendXML(b []byte) []byte
	// DecodeXML decodes the element d is positioned on, replacing the receiver's contents.
	DecodeXML(d *xmltext.Decoder) error
	// ElementName is the element's local name, e.g. "ES4-EnableProfileRequest".
	ElementName() string
}

// Namespace is the GSMA body namespace every element of this package is in.
const Namespace = "http://namespaces.gsma.org/esim-messaging/3"

// FieldError reports character data that is not a valid value of its XSD type: a bad boolean, integer,
// hexBinary or dateTime.
type FieldError struct {
	Element string // local name of the element whose child or attribute is bad, e.g. "ES4-EnableProfileRequest"
	Field   string // wire name of the child or attribute, e.g. "Eid"
	Value   string // the text as received
	Err     error
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("rps: %s/%s: invalid value %q: %v", e.Element, e.Field, e.Value, e.Err)
}

func (e *FieldError) Unwrap() error { return e.Err }

func fieldError(elem, field string, value []byte, err error) error {
	return &FieldError{Element: elem, Field: field, Value: string(value), Err: err}
}

// Errors wrapped by FieldError.
var (
	ErrHex      = errors.New("not hexadecimal (an even number of hex digits)")
	ErrBool     = errors.New("not an xs:boolean (true, false, 1 or 0)")
	ErrInteger  = errors.New("not an integer in range")
	ErrDateTime = errors.New("not an xs:dateTime")
)

// HexBinary is xs:hexBinary: bytes, written as upper-case hex digits. gowsdl maps hexBinary to []byte,
// which encoding/xml writes as raw bytes; this type keeps EIDs, AIDs and EuiccResponseData readable.
type HexBinary []byte

// ParseHexBinary decodes hex digits of either case, ignoring surrounding white space.
func ParseHexBinary(s string) (HexBinary, error) {
	h, err := appendHexDecoded(nil, []byte(s))
	if err != nil {
		return nil, err
	}
	return h, nil
}

// String returns the upper-case hex digits.
func (h HexBinary) String() string { return string(appendHex(nil, h)) }

// MarshalText implements encoding.TextMarshaler (used by encoding/xml).
func (h HexBinary) MarshalText() ([]byte, error) { return appendHex(nil, h), nil }

// UnmarshalText implements encoding.TextUnmarshaler (used by encoding/xml).
func (h *HexBinary) UnmarshalText(b []byte) error {
	out, err := appendHexDecoded((*h)[:0], b)
	if err != nil {
		return err
	}
	*h = out
	return nil
}

func appendHex(b []byte, h []byte) []byte {
	const digits = "0123456789ABCDEF"
	for _, c := range h {
		b = append(b, digits[c>>4], digits[c&0x0F])
	}
	return b
}

func appendHexDecoded(dst, s []byte) ([]byte, error) {
	s = trimSpace(s)
	if len(s)%2 != 0 {
		return dst, ErrHex
	}
	if dst == nil && len(s) > 0 {
		dst = make([]byte, 0, len(s)/2)
	}
	for i := 0; i < len(s); i += 2 {
		hi, ok1 := unhex(s[i])
		lo, ok2 := unhex(s[i+1])
		if !ok1 || !ok2 {
			return dst, ErrHex
		}
		dst = append(dst, hi<<4|lo)
	}
	return dst, nil
}

// decodeHex decodes hexBinary text as appendHexDecoded does, into bytes carved from d's arena (see
// xmltext.Decoder.Bytes) rather than an allocation of their own; nil when s holds no digits.
func decodeHex(d *xmltext.Decoder, s []byte) (HexBinary, error) {
	if padded(s) {
		s = trimSpace(s)
	}
	if len(s)%2 != 0 {
		return nil, ErrHex
	}
	if len(s) == 0 {
		return nil, nil
	}
	// On a bad digit the arena bytes are simply lost.
	dst := d.Bytes(len(s) / 2)
	if !unhexInto(dst, s[:2*len(dst)]) {
		return nil, ErrHex
	}
	return dst, nil
}

// unhexInto decodes the 2*len(dst) hex digits of s into dst and reports whether all of them were digits
// (dst then holds garbage). EIDs, AIDs and the like are 16-byte values: eight digits at a time, in one
// word, take a few operations per byte where a table look-up per digit took a dozen and more.
func unhexInto(dst, s []byte) bool {
	var bad uint64 // the high bit of each byte of a word that had a non-digit there
	for len(dst) >= 8 && len(s) >= 16 {
		v, b := unhexWord(binary.LittleEndian.Uint64(s[:8]))
		u, c := unhexWord(binary.LittleEndian.Uint64(s[8:16]))
		bad |= b | c
		binary.LittleEndian.PutUint64(dst[:8], uint64(v)|uint64(u)<<32)
		dst, s = dst[8:], s[16:]
	}
	for len(dst) >= 4 && len(s) >= 8 {
		v, b := unhexWord(binary.LittleEndian.Uint64(s[:8]))
		bad |= b
		binary.LittleEndian.PutUint32(dst[:4], v)
		dst, s = dst[4:], s[8:]
	}
	// The rest a digit at a time: a digit's value fits in four bits and a non-digit's 0xFF does not, so
	// or-ing every value together tells at the end whether all were digits.
	var tail byte
	for i := range dst {
		hi, lo := hexValue[s[2*i]], hexValue[s[2*i+1]]
		tail |= hi | lo
		dst[i] = hi<<4 | lo
	}
	return bad&msbs == 0 && tail <= 0x0F
}

const (
	lsbs = 0x0101010101010101
	msbs = 0x8080808080808080
)

// unhexWord decodes eight hex digits of either case, loaded little-endian (the first digit in the low
// byte), into four bytes in memory order. bad has the high bit set in the bytes of w that are not digits
// (exact once all of w is below 0x80: before that, only whether any is set means anything). The range
// tests add to each byte without carrying into its neighbour as long as the byte is below 0x80, and a byte
// that is not flags itself.
func unhexWord(w uint64) (v uint32, bad uint64) {
	l := w | 0x20*lsbs // A-F to a-f; it also makes digits of 0x10-0x19, hence digits are tested on w
	digit := (w + (0x80-'0')*lsbs) &^ (w + (0x80-'9'-1)*lsbs)
	letter := (l + (0x80-'a')*lsbs) &^ (l + (0x80-'f'-1)*lsbs)
	bad = w | ^(digit | letter)
	// A digit's value is its low nibble, a letter's that plus 9.
	x := w&(0x0F*lsbs) + (letter>>7&lsbs)*9
	// Pairs of nibbles (first digit high) into the low byte of each 16-bit lane, then the lanes together.
	x = (x<<4 | x>>8) & 0x00FF00FF00FF00FF
	x = (x | x>>8) & 0x0000FFFF0000FFFF
	return uint32(x | x>>16), bad
}

// hexValue maps a hex digit of either case to its value and every other byte to 0xFF.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xFF
	}
	for c := byte('0'); c <= '9'; c++ {
		t[c] = c - '0'
	}
	for c := byte('a'); c <= 'f'; c++ {
		t[c] = c - 'a' + 10
		t[c-'a'+'A'] = c - 'a' + 10
	}
	return t
}()

func unhex(c byte) (byte, bool) {
	v := hexValue[c]
	return v, v != 0xFF
}

// trimSpace drops the white space around s. Values come without any nearly always, so callers on the
// decoding path test padded first, which is inlined where trimSpace's loops are not.
func trimSpace(s []byte) []byte {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// padded reports whether s may have white space around it: every white space byte is <= ' '.
func padded(s []byte) bool { return len(s) > 0 && (s[0] <= ' ' || s[len(s)-1] <= ' ') }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// DateTime is xs:dateTime. It is written in UTC as 2006-01-02T15:04:05Z, with a fraction only when it is
// not zero (as a captured gSOAP SM-SR callback shows peers do). Reading accepts a zone offset or none (taken as UTC) and
// any number of fraction digits. It replaces gowsdl's soap.XSDDateTime so that the package does not
// depend on the gowsdl runtime.
type DateTime struct{ time.Time }

// NewDateTime returns t as a DateTime.
func NewDateTime(t time.Time) DateTime { return DateTime{t} }

// String returns the wire form.
func (t DateTime) String() string { return string(appendDateTime(nil, t)) }

// MarshalText implements encoding.TextMarshaler (used by encoding/xml).
func (t DateTime) MarshalText() ([]byte, error) { return appendDateTime(nil, t), nil }

// UnmarshalText implements encoding.TextUnmarshaler (used by encoding/xml).
func (t *DateTime) UnmarshalText(b []byte) error {
	v, err := parseDateTime(b)
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

func appendDateTime(b []byte, t DateTime) []byte {
	// RFC3339Nano drops trailing fraction zeros (and the dot when nothing is left) and writes Z for UTC.
	return t.UTC().AppendFormat(b, time.RFC3339Nano)
}

// parseDateTime parses [-]YYYY-MM-DDThh:mm:ss[.fff...][Z|(+|-)hh:mm] without allocating.
func parseDateTime(s []byte) (time.Time, error) {
	if padded(s) {
		s = trimSpace(s)
	}
	// Only four-digit, non-negative years: nothing in provisioning predates year 0 or follows year 9999.
	if len(s) < 19 {
		return time.Time{}, ErrDateTime
	}
	// YYYY-MM-DDThh:mm:ss as three words (the last overlapping the second), each xor-ed with its template:
	// separators become 0 where they match, digits their value (see dateTmpl1 and the masks with it).
	x1 := binary.LittleEndian.Uint64(s[0:8]) ^ dateTmpl1
	x2 := binary.LittleEndian.Uint64(s[8:16]) ^ dateTmpl2
	x3 := binary.LittleEndian.Uint64(s[11:19]) ^ dateTmpl3
	if x1&dateHigh1|x2&dateHigh2|x3&dateHigh2 != 0 ||
		(x1+dateAdd1)&dateTen1|(x2+dateAdd2)&dateTen2|(x3+dateAdd2)&dateTen2 != 0 {
		return time.Time{}, ErrDateTime
	}
	// Each byte of v is ten times its digit plus the next one's: the two-digit fields, where they start.
	v1, v2, v3 := x1*10+x1>>8, x2*10+x2>>8, x3*10+x3>>8
	year := int(byte(v1))*100 + int(byte(v1>>16))
	month, day := int(byte(v1>>40)), int(byte(v2))
	hour, minute, sec := int(byte(v2>>24)), int(byte(v2>>48)), int(byte(v3>>48))
	rest := s[19:]
	nsec := 0
	if len(rest) > 0 && rest[0] == '.' {
		i := 1
		scale := 100000000
		for i < len(rest) && '0' <= rest[i] && rest[i] <= '9' {
			nsec += int(rest[i]-'0') * scale
			scale /= 10
			i++
		}
		if i == 1 {
			return time.Time{}, ErrDateTime
		}
		rest = rest[i:]
	}
	offset := 0
	switch {
	case len(rest) == 0:
	case len(rest) == 1 && rest[0] == 'Z':
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := digits2(rest[1], rest[2])
		om, ok2 := digits2(rest[4], rest[5])
		if !ok1 || !ok2 || oh > 14 || om > 59 {
			return time.Time{}, ErrDateTime
		}
		offset = oh*3600 + om*60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, ErrDateTime
	}
	endOfDay := hour == 24 && minute == 0 && sec == 0 && nsec == 0 // xs:dateTime allows 24:00:00
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || (hour > 23 && !endOfDay) ||
		minute > 59 || sec > 59 {
		return time.Time{}, ErrDateTime
	}
	// Every field is in range, so the instant is plain arithmetic: time.Date's normalisation of
	// out-of-range fields and its zone look-up are not needed (24:00:00 is simply the next day's first
	// second). time.Unix(...).UTC() is the same Time value as time.Date(..., time.UTC).Add(...).
	unix := int64(daysSinceEpoch(year, month, day))*86400 + int64(hour*3600+minute*60+sec-offset)
	return time.Unix(unix, int64(nsec)).UTC(), nil
}

// The words of a dateTime's fixed part xor-ed with dateTmpl (the layout with '0' for each digit) hold 0
// for each separator written right and the digit's value for each digit; a byte with anything else is
// caught by dateHigh (bits a digit's value cannot have, all bits of a separator) or, for the values 10
// to 15, by adding 6 (dateAdd) and testing the 0x10 bit (dateTen): with every byte below 16 by then, no
// addition carries into the next byte. 1 is for YYYY-MM-, 2 for DDThh:mm and, with the same masks,
// 3 for hh:mm:ss. TestDateTemplates derives them from the layout.
const (
	dateTmpl1 = 0x2D30302D30303030 // "0000-00-", the first byte lowest
	dateTmpl2 = 0x30303A3030543030 // "00T00:00"
	dateTmpl3 = 0x30303A30303A3030 // "00:00:00"
	dateHigh1 = 0xFFF0F0FFF0F0F0F0
	dateHigh2 = 0xF0F0FFF0F0FFF0F0
	dateAdd1  = 0x0006060006060606
	dateAdd2  = 0x0606000606000606
	dateTen1  = 0x0010100010101010
	dateTen2  = 0x1010001010001010
)

// digits2 is the value of two decimal digits, and whether both were digits.
func digits2(a, b byte) (int, bool) {
	a, b = a-'0', b-'0' // a non-digit wraps to more than 9
	return int(a)*10 + int(b), a <= 9 && b <= 9
}

// daysSinceEpoch is the number of days from 1970-01-01 to the given date of the proleptic Gregorian
// calendar (year >= 0, month and day valid), by counting years from March so that a leap day comes last.
func daysSinceEpoch(year, month, day int) int {
	y := year + 10000 // the era arithmetic below then never sees a negative year (year 0's January)
	if month <= 2 {
		y--
	}
	era, yoe := y/400, y%400
	mp := (month + 9) % 12 // March is 0
	doy := (153*mp+2)/5 + day - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468 - 25*146097
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// RawXML is content kept verbatim: the EIS EumSignature (ds:SignatureType), which esimgw does not verify
// and so does not model. Inner is the element's inner XML as received, written back unchanged; it must be
// well formed, and namespace prefixes used in it should be declared inside it (declarations on ancestors
// of the element are not carried along).
type RawXML struct {
	Inner []byte `xml:",innerxml"`
}

// PositiveInteger is xs:positiveInteger (gowsdl v0.5.0 leaves it undefined). Zero means absent in optional
// fields; readers accept it.
type PositiveInteger uint64

// NonNegativeInteger is xs:nonNegativeInteger (gowsdl v0.5.0 leaves it undefined).
type NonNegativeInteger uint64

// parseUint parses an xs:nonNegativeInteger lexical form: optional '+', decimal digits, white space around.
func parseUint(s []byte) (uint64, error) {
	if padded(s) {
		s = trimSpace(s)
	}
	if len(s) > 0 && s[0] == '+' {
		s = s[1:]
	}
	if len(s) == 0 {
		return 0, ErrInteger
	}
	if len(s) > 19 {
		return parseLongUint(s)
	}
	// Nineteen digits cannot overflow a uint64 (its maximum has twenty), so no check per digit.
	var n uint64
	for _, c := range s {
		c -= '0' // a non-digit wraps to more than 9
		if c > 9 {
			return 0, ErrInteger
		}
		n = n*10 + uint64(c)
	}
	return n, nil
}

// parseLongUint is parseUint's digit loop for twenty digits and more (leading zeros, or an overflow).
func parseLongUint(s []byte) (uint64, error) {
	var n uint64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, ErrInteger
		}
		d := uint64(c - '0')
		if n > (1<<64-1-d)/10 {
			return 0, ErrInteger
		}
		n = n*10 + d
	}
	return n, nil
}

// parseInt32 parses an xs:integer that must fit in an int32.
func parseInt32(s []byte) (int32, error) {
	if padded(s) {
		s = trimSpace(s)
	}
	neg := false
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if len(s) == 0 {
		return 0, ErrInteger
	}
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, ErrInteger
		}
		n = n*10 + int64(c-'0')
		if n > 1<<31 {
			return 0, ErrInteger
		}
	}
	if neg {
		n = -n
	}
	if n > 1<<31-1 {
		return 0, ErrInteger
	}
	return int32(n), nil
}

// parseBool parses xs:boolean.
func parseBool(s []byte) (bool, error) {
	if padded(s) {
		s = trimSpace(s)
	}
	switch string(s) { // the conversion in a switch does not allocate
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, ErrBool
}

func appendUint(b []byte, n uint64) []byte { return strconv.AppendUint(b, n, 10) }

// pending holds the elements of a repeated child while its parent is decoded, on the parent decoder's
// stack, so that the slice they end up in is allocated once at its final length instead of growing an
// element at a time (1, 2, 4, 8: three or four allocations for a handful of ProfileInfo). A list longer
// than the buffer moves to the slice a buffer-full at a time.
type pending[T any] struct {
	buf [pendingLen]T
	n   int
}

const pendingLen = 8

// next returns room for the next element, zero, moving what p holds to *s first if p is full.
func (p *pending[T]) next(s *[]T) *T {
	if p.n == len(p.buf) {
		*s = append(*s, p.buf[:]...)
		p.buf = [pendingLen]T{}
		p.n = 0
	}
	p.n++
	return &p.buf[p.n-1]
}

// flush returns s with what p holds appended.
func (p *pending[T]) flush(s []T) []T {
	if p.n == 0 {
		return s
	}
	return append(s, p.buf[:p.n]...)
}

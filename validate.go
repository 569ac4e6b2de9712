package esimgw

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/esimgw/esimgw/wsdl/rps"
)

// Field names used in ValidationError.Field. They are the wire element names
// (docs/wire.md section 5), so a message reads like the request it rejects.
const (
	FieldEID                    = "Eid"
	FieldICCID                  = "Iccid"
	FieldOID                    = "OID"
	FieldValidityPeriod         = "ValidityPeriod"
	FieldFunctionCallIdentifier = "FunctionCallIdentifier"
)

// Length limits enforced by the validators.
const (
	// MaxOIDLength bounds an ObjectIdentifierType value. The XSD pattern has no
	// bound; real OIDs on the wire (1.3.6.1.4.1.54008, 8.2.1) are far shorter.
	MaxOIDLength = 128
	// MaxFunctionCallIdentifierLength bounds a FunctionCallIdentifier in bytes.
	MaxFunctionCallIdentifierLength = 256
)

// maxShownValue is how much of a rejected value Error() quotes.
const maxShownValue = 64

// ValidationError reports an argument that was rejected before any request
// left the process. Use errors.As to get at it.
type ValidationError struct {
	Field string // wire element name, e.g. "Eid", "Iccid", "Smsr-id"
	Value string // the rejected value as given (Error quotes at most 64 bytes of it)
	Rule  string // the rule it broke, in words
}

// Error returns e.g. `esimgw: invalid Eid "8904...": check digits do not verify (mod 97)`.
func (e *ValidationError) Error() string {
	v := e.Value
	if len(v) > maxShownValue {
		v = strings.ToValidUTF8(v[:maxShownValue], "") + "..."
	}
	return "esimgw: invalid " + e.Field + " " + strconv.Quote(v) + ": " + e.Rule
}

func invalid(field, value, rule string) error {
	return &ValidationError{Field: field, Value: value, Rule: rule}
}

// ValidateEID checks an EID (EIDType: xs:hexBinary of 16 octets, so exactly 32
// hexadecimal digits, either case).
//
// When all 32 characters are decimal digits, as in every real EID (GSMA SGP.29),
// the last two are check digits: the whole 32-digit number mod 97 must equal 1
// (ISO 7064 MOD 97-10, as for an IBAN). EIDs with hexadecimal letters carry no
// check digits and are only checked for form.
func ValidateEID(eid string) error {
	if len(eid) == 64 {
		if b, err := rps.ParseHexBinary(eid); err == nil {
			if digits, ok := asciiHexEID(b); ok {
				return invalid(FieldEID, eid, "is the hex of the ASCII digits of EID "+digits+" (one vendor's encoding): give the 32 digits")
			}
		}
	}
	if len(eid) != 32 {
		return invalid(FieldEID, eid, "must be 32 hexadecimal digits (16 octets), got "+strconv.Itoa(len(eid))+" characters")
	}
	// One pass checks the digits and, in case all are decimal, computes the number mod 97 (as mod97).
	decimal := true
	var r uint64
	for i := 0; i < len(eid); i++ {
		c := eid[i]
		if d := c - '0'; d <= 9 {
			r = r*10 + uint64(d)
			if i%16 == 15 {
				r %= 97
			}
			continue
		}
		if l := c | 0x20; l < 'a' || l > 'f' {
			return invalid(FieldEID, eid, "must contain only hexadecimal digits (bad character at position "+strconv.Itoa(i+1)+")")
		}
		decimal = false
	}
	if decimal && r%97 != 1 {
		return invalid(FieldEID, eid, "check digits do not verify (mod 97)")
	}
	return nil
}

// EIDWithCheckDigits appends the two ISO 7064 MOD 97-10 check digits to a
// 30-digit decimal EID prefix, giving an EID that ValidateEID accepts.
func EIDWithCheckDigits(prefix30 string) (string, error) {
	if len(prefix30) != 30 || !allDigits(prefix30) {
		return "", invalid(FieldEID, prefix30, "check-digit prefix must be 30 decimal digits")
	}
	cd := 98 - mod97(prefix30+"00")
	return prefix30 + string([]byte{byte('0' + cd/10), byte('0' + cd%10)}), nil
}

// mod97 returns the decimal number in digits (ASCII digits only) modulo 97. It reduces once every 16
// digits rather than at each: below 97, then times 10^16 plus 16 digits, the value stays far within a
// uint64.
func mod97(digits string) int {
	var r uint64
	for i := 0; i < len(digits); i++ {
		r = r*10 + uint64(digits[i]-'0')
		if i%16 == 15 {
			r %= 97
		}
	}
	return int(r % 97)
}

// ValidateICCID checks an ICCID as sent in Iccid elements.
//
// The XSD pattern is 89[0-9fF]{4,18}; in practice an ICCID is 19 or 20
// characters. The rules applied, precisely:
//
//   - it starts with "89" and is at most 20 characters long (the XSD maximum);
//   - it is 18 to 20 decimal digits, optionally followed by ONE padding F or f
//     (so 19 digits + F is fine, 20 digits + F is too long); F elsewhere is refused;
//   - when the digit part has 19 or 20 digits, its last digit is a Luhn check
//     digit over the digits before it and must verify ("Luhn where present");
//   - an 18-digit ICCID is taken to carry no check digit and is not Luhn-checked.
//
// This is stricter than the XSD (which allows 6 characters) on purpose: shorter
// values are not ICCIDs any gateway will know.
func ValidateICCID(iccid string) error {
	if iccid == "" {
		return invalid(FieldICCID, iccid, "must not be empty")
	}
	if len(iccid) > 20 {
		return invalid(FieldICCID, iccid, "must be at most 20 characters, got "+strconv.Itoa(len(iccid)))
	}
	if !strings.HasPrefix(iccid, "89") {
		return invalid(FieldICCID, iccid, `must start with "89" (telecommunication industry identifier)`)
	}
	digits := iccid
	if last := iccid[len(iccid)-1]; last == 'F' || last == 'f' {
		digits = iccid[:len(iccid)-1]
	}
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c == 'F' || c == 'f' {
			return invalid(FieldICCID, iccid, "F is only allowed as a single trailing padding character")
		}
		if c < '0' || c > '9' {
			return invalid(FieldICCID, iccid, "must contain only decimal digits and trailing F padding (bad character at position "+strconv.Itoa(i+1)+")")
		}
	}
	if n := len(digits); n < 18 || n > 20 {
		return invalid(FieldICCID, iccid, "must have 18 to 20 digits, got "+strconv.Itoa(n))
	}
	if len(digits) >= 19 && luhnDigit(digits[:len(digits)-1]) != digits[len(digits)-1] {
		return invalid(FieldICCID, iccid, "Luhn check digit does not verify")
	}
	return nil
}

// ICCIDWithLuhn returns prefix followed by its Luhn check digit, for building
// valid ICCIDs (tests, the mock): ICCIDWithLuhn("8931041010654378930") is
// "89310410106543789305". It returns "" when prefix is empty or contains
// anything but decimal digits.
func ICCIDWithLuhn(prefix string) string {
	if prefix == "" || !allDigits(prefix) {
		return ""
	}
	return prefix + string(luhnDigit(prefix))
}

// luhnDigit returns the Luhn check digit (as an ASCII digit) for digits.
func luhnDigit(digits string) byte {
	sum := 0
	double := true // the rightmost payload digit is doubled
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return byte('0' + (10-sum%10)%10)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ValidateOID checks an ObjectIdentifierType value (Smsr-id, Eum-id, Mno-id,
// an EntityId ...). field names the element in the error ("Smsr-id"); "" means
// "OID".
//
// Rule: the XSD pattern ([\d]+[.])*[\d]+ with ASCII digits only: one or more
// decimal arcs separated by single dots, no leading or trailing dot, no empty
// arc, at most MaxOIDLength characters. Leading zeros inside an arc are
// accepted, as the pattern does.
func ValidateOID(field, oid string) error {
	if field == "" {
		field = FieldOID
	}
	if oid == "" {
		return invalid(field, oid, "must not be empty")
	}
	if len(oid) > MaxOIDLength {
		return invalid(field, oid, "must be at most "+strconv.Itoa(MaxOIDLength)+" characters, got "+strconv.Itoa(len(oid)))
	}
	arcStart := true
	for i := 0; i < len(oid); i++ {
		c := oid[i]
		switch {
		case c >= '0' && c <= '9':
			arcStart = false
		case c == '.':
			if arcStart {
				return invalid(field, oid, "must be dot-separated decimal arcs such as 1.3.6.1.4.1.54008 (empty arc at position "+strconv.Itoa(i+1)+")")
			}
			arcStart = true
		default:
			return invalid(field, oid, "must be dot-separated decimal arcs such as 1.3.6.1.4.1.54008 (bad character at position "+strconv.Itoa(i+1)+")")
		}
	}
	if arcStart {
		return invalid(field, oid, "must be dot-separated decimal arcs such as 1.3.6.1.4.1.54008 (ends with a dot)")
	}
	return nil
}

// ValidateValidityPeriod checks a ValidityPeriod (xs:positiveInteger seconds):
// at least one second and a whole number of seconds, so nothing is rounded
// silently. ValidityPeriod is optional on the wire; callers only validate a
// period they are about to send.
func ValidateValidityPeriod(d time.Duration) error {
	if d < time.Second {
		return invalid(FieldValidityPeriod, d.String(), "must be a positive number of seconds (xs:positiveInteger)")
	}
	if d%time.Second != 0 {
		return invalid(FieldValidityPeriod, d.String(), "must be a whole number of seconds")
	}
	return nil
}

// ValidateFunctionCallIdentifier checks a FunctionCallIdentifier (xs:string,
// required): not empty, at most MaxFunctionCallIdentifierLength bytes, valid
// UTF-8 without control characters (it is logged and echoed by gateways).
func ValidateFunctionCallIdentifier(id string) error {
	if id == "" {
		return invalid(FieldFunctionCallIdentifier, id, "must not be empty")
	}
	if len(id) > MaxFunctionCallIdentifierLength {
		return invalid(FieldFunctionCallIdentifier, id, "must be at most "+strconv.Itoa(MaxFunctionCallIdentifierLength)+" bytes, got "+strconv.Itoa(len(id)))
	}
	if !utf8.ValidString(id) {
		return invalid(FieldFunctionCallIdentifier, id, "must be valid UTF-8")
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0xfffe || r == 0xffff {
			return invalid(FieldFunctionCallIdentifier, id, "must not contain control characters")
		}
	}
	return nil
}

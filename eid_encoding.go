package esimgw

import (
	"errors"
	"fmt"

	"github.com/esimgw/esimgw/wsdl/rps"
)

// ErrASCIIHexEID is what an *EIDEncodingWarning wraps: an EID arrived as the hexadecimal of the ASCII codes
// of its 32 digits (64 hex digits, "3839303439..." for 89049...), the encoding one vendor's platform uses,
// instead of the 32 hex digits of EIDType (docs/wire.md section 5.5).
var ErrASCIIHexEID = errors.New("esimgw: EID sent as the hex of its ASCII digits")

// EIDEncodingWarning reports an EID that arrived hex-of-ASCII encoded and was normalised: the value
// handed over is EID, the 32 digits; Raw is what was sent. It is a warning, not a failure: the EID is
// unambiguous, but the sender should be told.
type EIDEncodingWarning struct {
	Field string // where it was, e.g. "Eid" or "Eis/EumSignedInfo/Eid"
	Raw   string // as sent: 64 hex digits
	EID   string // the EID it stands for: 32 digits
}

func (w *EIDEncodingWarning) Error() string {
	return fmt.Sprintf("esimgw: %s %s is the hex of the ASCII digits of EID %s (normalised)", w.Field, w.Raw, w.EID)
}

// Unwrap returns ErrASCIIHexEID.
func (w *EIDEncodingWarning) Unwrap() error { return ErrASCIIHexEID }

// NormalizeEID returns the EID raw (hex digits, as on the wire) stands for: raw itself (upper case), or,
// when raw is the hex of the ASCII codes of 32 decimal digits whose check digits verify, those digits with
// a warning saying so.
func NormalizeEID(raw string) (string, *EIDEncodingWarning) {
	b, err := rps.ParseHexBinary(raw)
	if err != nil {
		return raw, nil
	}
	if eid, ok := asciiHexEID(b); ok {
		return eid, &EIDEncodingWarning{Field: FieldEID, Raw: raw, EID: eid}
	}
	return b.String(), nil
}

// asciiHexEID reports whether b (32 octets) are the ASCII codes of an EID's 32 decimal digits, with check
// digits that verify: a real 16-octet EID never looks like that, so the reading is unambiguous.
func asciiHexEID(b []byte) (string, bool) {
	if len(b) != 32 {
		return "", false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	if mod97(string(b)) != 1 {
		return "", false
	}
	return string(b), true
}

// normalizeEIS rewrites a hex-of-ASCII EumSignedInfo/Eid of eis in place to the 16 octets of the EID it
// stands for, and says so.
func normalizeEIS(eis *rps.EISType) *EIDEncodingWarning {
	if eis == nil {
		return nil
	}
	eid, ok := asciiHexEID(eis.EumSignedInfo.Eid)
	if !ok {
		return nil
	}
	w := &EIDEncodingWarning{Field: "Eis/EumSignedInfo/Eid", Raw: eis.EumSignedInfo.Eid.String(), EID: eid}
	eis.EumSignedInfo.Eid, _ = rps.ParseHexBinary(eid)
	return w
}

// normalizeNotificationEID normalises a notification's EID (its Eid, or the one in its EIS) and records
// the warning on it.
func normalizeNotificationEID(n *Notification) {
	if n.Eid != "" {
		eid, w := NormalizeEID(n.Eid)
		if w != nil {
			n.Eid, n.Warning = eid, w
		}
		return
	}
	if w := normalizeEIS(n.EIS); w != nil {
		n.Warning = w
	}
}

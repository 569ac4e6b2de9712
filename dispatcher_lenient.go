package esimgw

import (
	"errors"
	"fmt"

	"github.com/esimgw/esimgw/internal/engine"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// ErrMalformedNotification is what Notification.Err (and Inbound.Err) wraps when a notification's body
// has a value its schema type does not allow: a boolean spelt "01", a date that is no xs:dateTime, hex
// that is not hex. A vendor's SM-SR sends such values (issue 17, defect 1); refusing the notification
// would lose the state change it reports, since a 400 is never retried. Values outside an enumeration
// (a Role "1", a State "00") are no error: the decoder keeps them as sent.
var ErrMalformedNotification = errors.New("esimgw: malformed notification")

// partialNotification returns the Notification of a notification body that failed to decode with err,
// holding what was read before the bad value, or nil when el is no notification.
func partialNotification(iface, name string, el rps.Element, m *soap.Message, err error) *Notification {
	n := &Notification{Interface: iface, Kind: notificationKind(name), Header: m.Header, Element: el,
		Err: fmt.Errorf("%w: %s %s: %w", ErrMalformedNotification, iface, name, err)}
	switch v := el.(type) {
	case rps.ProfileNotification:
		eid, iccid, at := v.ProfileChange()
		n.Eid, n.Iccid, n.CompletionTimestamp = eid.String(), iccid, at.Time
	case rps.SMSRChangeNotification:
		eis, at := v.SMSRChange()
		n.Kind, n.EIS, n.CompletionTimestamp = SMSRChange, eis, at.Time
	default:
		return nil
	}
	return n
}

// inboundElement returns a new element for the body of m: the schema element of its name, or the one a
// Njiwa or ES3 spelling stands for (engine.CanonicalElement).
func inboundElement(m *soap.Message) (rps.Element, bool) {
	if el, ok := rps.NewElement(m.BodyName); ok {
		return el, true
	}
	if name, ok := engine.CanonicalElement(m.BodyName, m.Header.Action, ""); ok {
		return rps.NewElement(name)
	}
	return nil, false
}

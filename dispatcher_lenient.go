package esimgw

import (
	"errors"
	"fmt"
	"strings"

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

// canonicalElement maps a body element name that is not one of the schema's to the schema element it
// stands for, using the message's Action (docs/wire.md sections 4.2 and 4.3; issue 17, defect 3):
//
//   - Njiwa (JAX-WS rpc/literal, esim-messaging/1) names the body wrapper after its operation, without
//     the interface prefix and with typos: EnableProfileResponse, DeleteISDPResponse,
//     DeleteProfilePResponse, AuditEISPResponse, UpdateProfileRulesResponse, HandleSMSRChangeNotification;
//   - an SM-DP relaying ES3 results names the element ES3-...Response on an ES2 callback.
//
// The interface comes from the Action (its function, its last segment "ES2-..."/"ES4-...", or its folder
// "ES2/"/"ES4/"), else from hint (the interface the caller talks to, "" when unknown). ok is false when
// nothing fits; the element then stays unknown.
func canonicalElement(local, action, hint string) (string, bool) {
	rest := local
	prefixed := false
	if len(rest) > 4 && rest[3] == '-' && strings.EqualFold(rest[:3], "ES3") {
		rest, prefixed = rest[4:], true
	}
	if len(rest) > 4 && rest[3] == '-' && !prefixed {
		return "", false // ES2-/ES4- names are the schema's (or unknown ones of that interface)
	}
	switch {
	case strings.EqualFold(rest, "DeleteISDPResponse"):
		rest = "DeleteProfileResponse"
	case strings.EqualFold(rest, "UpdateProfileRulesResponse"):
		rest = "UpdatePolicyRulesResponse"
	case len(rest) > len("PResponse") && strings.HasSuffix(rest, "PResponse"):
		rest = strings.TrimSuffix(rest, "PResponse") + "Response" // Njiwa: AuditEISPResponse, DeleteProfilePResponse
	}
	iface := actionInterface(action)
	if iface == "" {
		iface = hint
	}
	if iface == "" && prefixed {
		iface = "ES2" // ES3 results reach an operator only through its SM-DP, on ES2
	}
	if iface == "" {
		return "", false
	}
	name := iface + "-" + rest
	if _, ok := rps.NewElement(name); !ok {
		// Element names are matched in any case elsewhere too (Njiwa's lower-case wrappers).
		for _, f := range rps.Functions() {
			for _, n := range []string{f.RequestElement, f.ResponseElement} {
				if strings.EqualFold(n, name) {
					return n, true
				}
			}
		}
		for _, n := range rps.Notifications() {
			if strings.EqualFold(n.Element, name) {
				return n.Element, true
			}
		}
		return "", false
	}
	return name, true
}

// actionInterface is the interface ("ES2", "ES4") an Action names, or "".
func actionInterface(action string) string {
	if action == "" {
		return ""
	}
	if f, _, ok := rps.FunctionByAction(action); ok {
		return string(f.Interface)
	}
	if n, ok := rps.NotificationByAction(action); ok {
		return string(n.Interface)
	}
	last := action[strings.LastIndexByte(action, '/')+1:]
	for _, iface := range []string{"ES2", "ES4"} {
		if strings.HasPrefix(last, iface+"-") {
			return iface
		}
	}
	for _, iface := range []string{"ES2", "ES4"} {
		if strings.Contains(action, "/"+iface+"/") {
			return iface
		}
	}
	return ""
}

// inboundElement returns a new element for the body of m: the schema element of its name, or the one a
// Njiwa or ES3 spelling stands for (canonicalElement).
func inboundElement(m *soap.Message) (rps.Element, bool) {
	if el, ok := rps.NewElement(m.BodyName); ok {
		return el, true
	}
	if name, ok := canonicalElement(m.BodyName, m.Header.Action, ""); ok {
		return rps.NewElement(name)
	}
	return nil, false
}

// spelledAs reports whether m's body element is a Njiwa or ES3 spelling of the schema element want
// (a sync reply of Njiwa's: GetEISResponse for ES4-GetEISResponse).
func spelledAs(m *soap.Message, iface, want string) bool {
	name, ok := canonicalElement(m.BodyName, m.Header.Action, iface)
	return ok && name == want
}

package engine

import (
	"strings"

	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// CanonicalElement maps a body element name that is not one of the schema's to the schema element it
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
func CanonicalElement(local, action, hint string) (string, bool) {
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

// spelledAs reports whether m's body element is a Njiwa or ES3 spelling of the schema element want
// (a sync reply of Njiwa's: GetEISResponse for ES4-GetEISResponse).
func spelledAs(m *soap.Message, iface, want string) bool {
	name, ok := CanonicalElement(m.BodyName, m.Header.Action, iface)
	return ok && name == want
}

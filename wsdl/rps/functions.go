package rps

// The SGP.02 ES2 and ES4 function table, hand-written because gowsdl v0.5.0 turns every SOAP 1.2 action
// into '' (docs/gowsdl.md). Values are those of docs/wire.md: request and sync
// response Actions from section 4.1 (confirmed by the GSMA WSDL), callback Actions from section 4.2
// (inferred from the GSMA ES3/ES7 pattern, capital B in "CallBack"), sections from 4.4, KPN support from
// section 8. The tables are built by functions, so callers cannot change them.

import (
	"strings"

	"github.com/esimgw/esimgw/internal/xmltext"
)

// Interface is an SGP.02 interface.
type Interface string

// The interfaces of this table.
const (
	ES2 Interface = "ES2" // operator to SM-DP
	ES4 Interface = "ES4" // operator to SM-SR
)

// Mode says how a function's result comes back.
type Mode int

const (
	// Sync functions answer on the same HTTP exchange (HTTP 200, response Action, RelatesTo).
	Sync Mode = iota
	// Async functions are one-way: the provider answers 202 and later POSTs the ...Response element to
	// the request's wsa:ReplyTo (the callback).
	Async
)

func (m Mode) String() string {
	if m == Async {
		return "async"
	}
	return "sync"
}

// Role says which message of a function an element or Action belongs to.
type Role int

const (
	// RoleRequest is the operator's request.
	RoleRequest Role = iota
	// RoleResponse is the sync reply or the async callback.
	RoleResponse
)

// Function is one ES2 or ES4 function the operator calls.
type Function struct {
	Interface       Interface
	Name            string // e.g. "EnableProfile"
	Mode            Mode
	RequestElement  string // e.g. "ES4-EnableProfileRequest"
	RequestAction   string // wsa:Action of the request
	ResponseElement string // the sync reply's or the callback's body element, e.g. "ES4-EnableProfileResponse"
	// ResponseAction is the sync reply's Action, or for async functions the callback's Action in the GSMA
	// pattern (inferred: no source publishes ES2/ES4 callback Actions). Receivers dispatch on the body
	// element, not on this.
	ResponseAction string
	KPN            bool   // served by KPN's RSP Gateway (docs/kpn.md)
	Section        string // SGP.02 section, "" when unknown
	// SectionInferred marks a section number that follows the numbering pattern but is not confirmed.
	SectionInferred bool
	// Inferred marks a function whose element names and Actions are not published in any source found
	// (SetFallBackAttribute, SGP.02 v4.0) and follow the pattern of the others.
	Inferred bool
}

// Notification is a one-way message the SM-DP (ES2) or SM-SR (ES4) sends the operator unprompted.
type Notification struct {
	Interface       Interface
	Name            string // e.g. "HandleProfileDisabledNotification"
	Element         string // e.g. "ES4-HandleProfileDisabledNotification"
	Action          string
	KPN             bool
	Section         string
	SectionInferred bool
}

// NewRequest returns a new zero request element of f.
func (f Function) NewRequest() (Element, bool) { return NewElement(f.RequestElement) }

// NewResponse returns a new zero response (or callback) element of f.
func (f Function) NewResponse() (Element, bool) { return NewElement(f.ResponseElement) }

// NewElement returns a new zero notification element of n.
func (n Notification) NewElement() (Element, bool) { return NewElement(n.Element) }

const gsma = "http://gsma.com/"

// fn builds a table row. folder is the Action folder (ProfileManagement, PlatformManagement, ...).
func fn(iface Interface, name string, mode Mode, folder string, kpn bool, section string, sectionInferred bool) Function {
	p := string(iface) + "-" + name
	f := Function{
		Interface:       iface,
		Name:            name,
		Mode:            mode,
		RequestElement:  p + "Request",
		ResponseElement: p + "Response",
		KPN:             kpn,
		Section:         section,
		SectionInferred: sectionInferred,
	}
	base := gsma + string(iface) + "/" + folder
	if mode == Sync {
		// Sync functions carry the Request/Response suffix in their Actions.
		f.RequestAction = base + "/" + p + "Request"
		f.ResponseAction = base + "/" + p + "Response"
	} else {
		// Async requests carry no suffix; the callback uses the folder's "CallBack" twin.
		f.RequestAction = base + "/" + p
		f.ResponseAction = base + "CallBack/" + p
	}
	return f
}

// Functions returns the ES2 and ES4 functions, ES2 first, in SGP.02 section order. The slice is new on
// every call.
func Functions() []Function {
	sfa2 := fn(ES2, "SetFallBackAttribute", Async, "PlatformManagement", true, "", false)
	sfa2.Inferred = true
	sfa4 := fn(ES4, "SetFallBackAttribute", Async, "PlatformManagement", true, "5.5.21", false)
	sfa4.Inferred = true
	return []Function{
		fn(ES2, "GetEIS", Sync, "DataPreparation", true, "5.3.1", false),
		fn(ES2, "DownloadProfile", Async, "ProfileManagement", true, "5.3.2", false),
		fn(ES2, "UpdatePolicyRules", Sync, "ProfileManagement", false, "5.3.3", true),
		fn(ES2, "UpdateSubscriptionAddress", Sync, "ProfileManagement", false, "5.3.4", true),
		fn(ES2, "EnableProfile", Async, "PlatformManagement", true, "5.3.5", false),
		fn(ES2, "DisableProfile", Async, "PlatformManagement", true, "5.3.6", true),
		fn(ES2, "DeleteProfile", Async, "PlatformManagement", true, "5.3.7", true),
		sfa2,
		fn(ES4, "GetEIS", Sync, "ProfileManagement", false, "5.5.1", true),
		fn(ES4, "UpdatePolicyRules", Sync, "ProfileManagement", false, "5.5.2", true),
		fn(ES4, "UpdateSubscriptionAddress", Sync, "ProfileManagement", false, "5.5.3", true),
		fn(ES4, "AuditEIS", Async, "ProfileManagement", true, "5.5.4", false),
		fn(ES4, "EnableProfile", Async, "PlatformManagement", true, "5.5.5", false),
		fn(ES4, "DisableProfile", Async, "PlatformManagement", false, "5.5.6", true),
		fn(ES4, "DeleteProfile", Async, "PlatformManagement", false, "5.5.7", true),
		fn(ES4, "PrepareSMSRChange", Async, "eUICCManagement", false, "5.5.8", true),
		fn(ES4, "SMSRChange", Async, "eUICCManagement", false, "5.5.9", true),
		sfa4,
	}
}

func note(iface Interface, name, folder string, kpn bool, section string, sectionInferred bool) Notification {
	el := string(iface) + "-" + name
	return Notification{
		Interface:       iface,
		Name:            name,
		Element:         el,
		Action:          gsma + string(iface) + "/" + folder + "/" + el,
		KPN:             kpn,
		Section:         section,
		SectionInferred: sectionInferred,
	}
}

// Notifications returns the ES2 and ES4 notifications. The slice is new on every call.
func Notifications() []Notification {
	// ES2 notifications are numbered 5.3.8 to 5.3.11 in some order no source gives; they carry no section.
	return []Notification{
		note(ES2, "HandleProfileDisabledNotification", "PlatformManagement", false, "", false),
		note(ES2, "HandleProfileEnabledNotification", "PlatformManagement", false, "", false),
		note(ES2, "HandleProfileDeletedNotification", "PlatformManagement", false, "", false),
		note(ES2, "HandleSMSRChangeNotification", "eUICCManagement", false, "", false),
		note(ES4, "HandleProfileDisabledNotification", "PlatformManagement", true, "5.5.10", false),
		note(ES4, "HandleProfileEnabledNotification", "PlatformManagement", true, "5.5.11", false),
		note(ES4, "HandleSMSRChangeNotification", "eUICCManagement", false, "5.5.12", true),
		note(ES4, "HandleProfileDeletedNotification", "PlatformManagement", false, "5.5.13", true),
	}
}

// FunctionByName returns the function of iface named name (e.g. "EnableProfile"), ignoring ASCII case.
func FunctionByName(iface Interface, name string) (Function, bool) {
	for _, f := range Functions() {
		if f.Interface == iface && xmltext.EqualFold(f.Name, name) {
			return f, true
		}
	}
	return Function{}, false
}

// FunctionByElement returns the function whose request or response element has the local name local
// (ignoring ASCII case), and which of the two it is.
func FunctionByElement(local string) (Function, Role, bool) {
	for _, f := range Functions() {
		switch {
		case xmltext.EqualFold(f.RequestElement, local):
			return f, RoleRequest, true
		case xmltext.EqualFold(f.ResponseElement, local):
			return f, RoleResponse, true
		}
	}
	return Function{}, 0, false
}

// FunctionByAction returns the function an Action URI belongs to, and whether it is the request's or the
// response's (sync reply or callback). Besides the Actions of the table it recognises the variants real
// peers send (docs/wire.md section 4.3: Njiwa's "ProfileManagent" typos and ES3 prefixes, WHTY's suffixed
// forms); those are never emitted.
func FunctionByAction(action string) (Function, Role, bool) {
	fs := Functions()
	for _, f := range fs {
		switch action {
		case f.RequestAction:
			return f, RoleRequest, true
		case f.ResponseAction:
			return f, RoleResponse, true
		}
	}
	for _, f := range fs {
		for _, v := range actionVariants(f) {
			if v.action == action {
				return f, v.role, true
			}
		}
	}
	return Function{}, 0, false
}

type variant struct {
	action string
	role   Role
}

// actionVariants lists the non-GSMA Actions seen for f (docs/wire.md sections 4.2 and
// section 4.3).
func actionVariants(f Function) []variant {
	p := string(f.Interface) + "-" + f.Name
	req := func(a string) variant { return variant{gsma + a, RoleRequest} }
	resp := func(a string) variant { return variant{gsma + a, RoleResponse} }
	var vs []variant
	switch f.Interface {
	case ES2:
		// Njiwa: typo folder for requests and sync replies of every function.
		vs = append(vs, req("ES2/ProfileManagent/"+p+"Request"), resp("ES2/ProfileManagent/"+p+"Response"))
		switch f.Name {
		case "GetEIS":
			vs = append(vs, resp("ES3/ProfileManagent/ES3-GetEISResponse")) // Njiwa's sync reply
		case "UpdatePolicyRules":
			vs = append(vs, req("ES2/ProfileManagement/ES2-UpdatePolicyRules"))
		case "DownloadProfile":
			vs = append(vs, resp("ES2/ProfileManagentCallBack/"+p),
				resp("ES2/PlatformManagement/ES2-DownloadProfileResponse")) // Njiwa; WHTY
		case "EnableProfile", "DisableProfile", "DeleteProfile":
			vs = append(vs, resp("ES2/ProfileManagentCallBack/"+p), resp("ES3/ProfileManagentCallBack/"+p))
		}
		// WHTY (docs/wire.md 4.3): callbacks modelled as request/response, with suffixed Actions.
		switch f.Name {
		case "EnableProfile", "DisableProfile", "DeleteProfile":
			vs = append(vs, req("ES2/PlatformManagement/"+p+"Request"), resp("ES2/PlatformManagement/"+p+"Response"))
		case "DownloadProfile":
			vs = append(vs, req("ES2/ProfileManagement/"+p+"Request"))
		}
	case ES4:
		// WHTY: suffixed request Actions in PlatformManagement, responses in eUICCManagement.
		vs = append(vs, req("ES4/PlatformManagement/"+p+"Request"), resp("ES4/eUICCManagement/"+p+"Response"))
		switch f.Name {
		case "EnableProfile", "DisableProfile", "DeleteProfile", "UpdatePolicyRules":
			vs = append(vs, req("ES4/ProfileManagent/"+p), resp("ES4/ProfileManagentCallBack/"+p))
		case "AuditEIS":
			vs = append(vs, req("ES4/ProfileManagent/"+p),
				resp("ES4/ProfileManagentCallback/ES4-AuditEIS"), resp("ES4/ProfileManagentCallBack/ES4-AuditEISResponse"))
		case "GetEIS":
			vs = append(vs, req("ES4/ProfileManagent/ES4-GetEISRequest"), resp("ES4/ProfileManagent/ES4-GetEISResponse"))
		}
	}
	return vs
}

// NotificationByElement returns the notification whose element has the local name local, ignoring ASCII
// case.
func NotificationByElement(local string) (Notification, bool) {
	for _, n := range Notifications() {
		if xmltext.EqualFold(n.Element, local) {
			return n, true
		}
	}
	return Notification{}, false
}

// NotificationByAction returns the notification an Action URI belongs to, recognising Njiwa's
// "ProfileManagentCallBack" variants (never emitted).
func NotificationByAction(action string) (Notification, bool) {
	for _, n := range Notifications() {
		if n.Action == action {
			return n, true
		}
		// Njiwa: every notification in the ProfileManagentCallBack folder.
		if rest, ok := strings.CutPrefix(action, gsma+string(n.Interface)+"/ProfileManagentCallBack/"); ok && rest == n.Element {
			return n, true
		}
	}
	return Notification{}, false
}

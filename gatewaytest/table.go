package gatewaytest

import "github.com/esimgw/esimgw/wsdl/rps"

// The function table is wsdl/rps's (rps.Functions, rps.Notifications, generated from the WSDLs): request
// Actions confirmed by the GSMA WSDL, callback Actions and SetFallBackAttribute inferred (docs/wire.md
// sections 4.2, 4.4). The Fn* names and the dispatch to each function's behaviour are generated with it
// (dispatch_gen.go); the behaviours are in behaviour.go.

// Interface names an SGP.02 interface the mock serves.
type Interface = rps.Interface

// The two interfaces.
const (
	ES2 = rps.ES2 // operator to SM-DP
	ES4 = rps.ES4 // operator to SM-SR
)

// Paths the mock serves the interfaces at (KPN's, docs/wire.md section 1).
const (
	ES2Path = "/esim-messaging/3/ES2/ES2SmDpService"
	ES4Path = "/esim-messaging/3/ES4/ES4SmSrService"
)

type function struct {
	iface          Interface
	name           string
	request        string // body element of the request
	action         string // request wsa:Action
	async          bool
	kpn            bool // in KPN's function subset
	response       string
	responseAction string // sync response Action, or callback Action
}

func lookupAction(iface Interface, action string) *function {
	for _, f := range rps.Functions() {
		if f.Interface == iface && f.RequestAction == action {
			return &function{iface: iface, name: f.Name, request: f.RequestElement, action: f.RequestAction,
				async: f.Mode == rps.Async, kpn: f.KPN, response: f.ResponseElement, responseAction: f.ResponseAction}
		}
	}
	return nil
}

func notificationAction(iface Interface, name string) string {
	for _, n := range rps.Notifications() {
		if n.Interface == iface && n.Name == name {
			return n.Action
		}
	}
	return ""
}

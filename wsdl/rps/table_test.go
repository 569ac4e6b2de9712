package rps_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/wsdl/rps"
)

// TestFunctionTable asserts every row against docs/wire.md sections 4.1 (request and sync
// response Actions), 4.2 (callback Actions) and 8 (KPN support), typed out here from that page (KPN support: docs/kpn.md).
func TestFunctionTable(t *testing.T) {
	type row struct {
		iface          rps.Interface
		name           string
		mode           rps.Mode
		reqAction      string
		responseAction string
		kpn            bool
	}
	const g = "http://gsma.com/"
	want := []row{
		{rps.ES2, "GetEIS", rps.Sync, g + "ES2/DataPreparation/ES2-GetEISRequest", g + "ES2/DataPreparation/ES2-GetEISResponse", true},
		{rps.ES2, "DownloadProfile", rps.Async, g + "ES2/ProfileManagement/ES2-DownloadProfile", g + "ES2/ProfileManagementCallBack/ES2-DownloadProfile", true},
		{rps.ES2, "UpdatePolicyRules", rps.Sync, g + "ES2/ProfileManagement/ES2-UpdatePolicyRulesRequest", g + "ES2/ProfileManagement/ES2-UpdatePolicyRulesResponse", false},
		{rps.ES2, "UpdateSubscriptionAddress", rps.Sync, g + "ES2/ProfileManagement/ES2-UpdateSubscriptionAddressRequest", g + "ES2/ProfileManagement/ES2-UpdateSubscriptionAddressResponse", false},
		{rps.ES2, "EnableProfile", rps.Async, g + "ES2/PlatformManagement/ES2-EnableProfile", g + "ES2/PlatformManagementCallBack/ES2-EnableProfile", true},
		{rps.ES2, "DisableProfile", rps.Async, g + "ES2/PlatformManagement/ES2-DisableProfile", g + "ES2/PlatformManagementCallBack/ES2-DisableProfile", true},
		{rps.ES2, "DeleteProfile", rps.Async, g + "ES2/PlatformManagement/ES2-DeleteProfile", g + "ES2/PlatformManagementCallBack/ES2-DeleteProfile", true},
		{rps.ES2, "SetFallBackAttribute", rps.Async, g + "ES2/PlatformManagement/ES2-SetFallBackAttribute", g + "ES2/PlatformManagementCallBack/ES2-SetFallBackAttribute", true},
		{rps.ES4, "GetEIS", rps.Sync, g + "ES4/ProfileManagement/ES4-GetEISRequest", g + "ES4/ProfileManagement/ES4-GetEISResponse", false},
		{rps.ES4, "UpdatePolicyRules", rps.Sync, g + "ES4/ProfileManagement/ES4-UpdatePolicyRulesRequest", g + "ES4/ProfileManagement/ES4-UpdatePolicyRulesResponse", false},
		{rps.ES4, "UpdateSubscriptionAddress", rps.Sync, g + "ES4/ProfileManagement/ES4-UpdateSubscriptionAddressRequest", g + "ES4/ProfileManagement/ES4-UpdateSubscriptionAddressResponse", false},
		{rps.ES4, "AuditEIS", rps.Async, g + "ES4/ProfileManagement/ES4-AuditEIS", g + "ES4/ProfileManagementCallBack/ES4-AuditEIS", true},
		{rps.ES4, "EnableProfile", rps.Async, g + "ES4/PlatformManagement/ES4-EnableProfile", g + "ES4/PlatformManagementCallBack/ES4-EnableProfile", true},
		{rps.ES4, "DisableProfile", rps.Async, g + "ES4/PlatformManagement/ES4-DisableProfile", g + "ES4/PlatformManagementCallBack/ES4-DisableProfile", false},
		{rps.ES4, "DeleteProfile", rps.Async, g + "ES4/PlatformManagement/ES4-DeleteProfile", g + "ES4/PlatformManagementCallBack/ES4-DeleteProfile", false},
		{rps.ES4, "PrepareSMSRChange", rps.Async, g + "ES4/eUICCManagement/ES4-PrepareSMSRChange", g + "ES4/eUICCManagementCallBack/ES4-PrepareSMSRChange", false},
		{rps.ES4, "SMSRChange", rps.Async, g + "ES4/eUICCManagement/ES4-SMSRChange", g + "ES4/eUICCManagementCallBack/ES4-SMSRChange", false},
		{rps.ES4, "SetFallBackAttribute", rps.Async, g + "ES4/PlatformManagement/ES4-SetFallBackAttribute", g + "ES4/PlatformManagementCallBack/ES4-SetFallBackAttribute", true},
	}
	got := rps.Functions()
	require.Len(t, got, len(want))
	for i, w := range want {
		f := got[i]
		t.Run(string(w.iface)+"-"+w.name, func(t *testing.T) {
			assert.Equal(t, w.iface, f.Interface)
			assert.Equal(t, w.name, f.Name)
			assert.Equal(t, w.mode, f.Mode)
			assert.Equal(t, string(w.iface)+"-"+w.name+"Request", f.RequestElement)
			assert.Equal(t, string(w.iface)+"-"+w.name+"Response", f.ResponseElement)
			assert.Equal(t, w.reqAction, f.RequestAction)
			assert.Equal(t, w.responseAction, f.ResponseAction)
			assert.Equal(t, w.kpn, f.KPN)
			assert.Equal(t, w.name == "SetFallBackAttribute", f.Inferred)
			_, ok := f.NewRequest()
			assert.True(t, ok)
			_, ok = f.NewResponse()
			assert.True(t, ok)

			byAction, role, ok := rps.FunctionByAction(w.reqAction)
			require.True(t, ok)
			assert.Equal(t, f, byAction)
			assert.Equal(t, rps.RoleRequest, role)
			byAction, role, ok = rps.FunctionByAction(w.responseAction)
			require.True(t, ok)
			assert.Equal(t, f, byAction)
			assert.Equal(t, rps.RoleResponse, role)
			byEl, role, ok := rps.FunctionByElement(strings.ToLower(f.ResponseElement))
			require.True(t, ok)
			assert.Equal(t, f, byEl)
			assert.Equal(t, rps.RoleResponse, role)
			byName, ok := rps.FunctionByName(w.iface, w.name)
			require.True(t, ok)
			assert.Equal(t, f, byName)
		})
	}
	// Sections docs/wire.md section 4.4 marks confirmed.
	for _, c := range []struct {
		iface         rps.Interface
		name, section string
	}{{rps.ES2, "GetEIS", "5.3.1"}, {rps.ES2, "DownloadProfile", "5.3.2"}, {rps.ES2, "EnableProfile", "5.3.5"},
		{rps.ES4, "AuditEIS", "5.5.4"}, {rps.ES4, "EnableProfile", "5.5.5"}, {rps.ES4, "SetFallBackAttribute", "5.5.21"}} {
		f, ok := rps.FunctionByName(c.iface, c.name)
		require.True(t, ok)
		assert.Equal(t, c.section, f.Section)
		assert.False(t, f.SectionInferred)
	}
}

func TestNotificationTable(t *testing.T) {
	const g = "http://gsma.com/"
	want := map[string]string{
		"ES2-HandleProfileDisabledNotification": g + "ES2/PlatformManagement/ES2-HandleProfileDisabledNotification",
		"ES2-HandleProfileEnabledNotification":  g + "ES2/PlatformManagement/ES2-HandleProfileEnabledNotification",
		"ES2-HandleProfileDeletedNotification":  g + "ES2/PlatformManagement/ES2-HandleProfileDeletedNotification",
		"ES2-HandleSMSRChangeNotification":      g + "ES2/eUICCManagement/ES2-HandleSMSRChangeNotification",
		"ES4-HandleProfileDisabledNotification": g + "ES4/PlatformManagement/ES4-HandleProfileDisabledNotification",
		"ES4-HandleProfileEnabledNotification":  g + "ES4/PlatformManagement/ES4-HandleProfileEnabledNotification",
		"ES4-HandleProfileDeletedNotification":  g + "ES4/PlatformManagement/ES4-HandleProfileDeletedNotification",
		"ES4-HandleSMSRChangeNotification":      g + "ES4/eUICCManagement/ES4-HandleSMSRChangeNotification",
	}
	got := rps.Notifications()
	require.Len(t, got, len(want))
	for _, n := range got {
		assert.Equal(t, want[n.Element], n.Action, n.Element)
		_, ok := n.NewElement()
		assert.True(t, ok, n.Element)
		byAction, ok := rps.NotificationByAction(n.Action)
		require.True(t, ok)
		assert.Equal(t, n, byAction)
		byEl, ok := rps.NotificationByElement(n.Element)
		require.True(t, ok)
		assert.Equal(t, n, byEl)
		assert.Equal(t, n.Element == "ES4-HandleProfileDisabledNotification" || n.Element == "ES4-HandleProfileEnabledNotification", n.KPN)
	}
}

// TestActionVariants: the section 4.2/4.3 variants are recognised.
func TestActionVariants(t *testing.T) {
	const g = "http://gsma.com/"
	tests := []struct {
		action string
		iface  rps.Interface
		name   string
		role   rps.Role
	}{
		{g + "ES2/ProfileManagent/ES2-DownloadProfileRequest", rps.ES2, "DownloadProfile", rps.RoleRequest},
		{g + "ES2/ProfileManagent/ES2-GetEISRequest", rps.ES2, "GetEIS", rps.RoleRequest},
		{g + "ES2/ProfileManagent/ES2-GetEISResponse", rps.ES2, "GetEIS", rps.RoleResponse},
		{g + "ES3/ProfileManagent/ES3-GetEISResponse", rps.ES2, "GetEIS", rps.RoleResponse},
		{g + "ES2/ProfileManagement/ES2-UpdatePolicyRules", rps.ES2, "UpdatePolicyRules", rps.RoleRequest},
		{g + "ES2/ProfileManagentCallBack/ES2-DownloadProfile", rps.ES2, "DownloadProfile", rps.RoleResponse},
		{g + "ES2/ProfileManagentCallBack/ES2-EnableProfile", rps.ES2, "EnableProfile", rps.RoleResponse},
		{g + "ES3/ProfileManagentCallBack/ES2-EnableProfile", rps.ES2, "EnableProfile", rps.RoleResponse},
		{g + "ES3/ProfileManagentCallBack/ES2-DeleteProfile", rps.ES2, "DeleteProfile", rps.RoleResponse},
		{g + "ES2/PlatformManagement/ES2-DisableProfileRequest", rps.ES2, "DisableProfile", rps.RoleRequest},
		{g + "ES2/PlatformManagement/ES2-DownloadProfileResponse", rps.ES2, "DownloadProfile", rps.RoleResponse},
		// WHTY's ES2 request/response Actions (issue 17, defect 3).
		{g + "ES2/ProfileManagement/ES2-DownloadProfileRequest", rps.ES2, "DownloadProfile", rps.RoleRequest},
		{g + "ES2/PlatformManagement/ES2-EnableProfileRequest", rps.ES2, "EnableProfile", rps.RoleRequest},
		{g + "ES2/PlatformManagement/ES2-EnableProfileResponse", rps.ES2, "EnableProfile", rps.RoleResponse},
		{g + "ES2/PlatformManagement/ES2-DeleteProfileRequest", rps.ES2, "DeleteProfile", rps.RoleRequest},
		{g + "ES2/PlatformManagement/ES2-DeleteProfileResponse", rps.ES2, "DeleteProfile", rps.RoleResponse},
		{g + "ES2/PlatformManagement/ES2-DisableProfileResponse", rps.ES2, "DisableProfile", rps.RoleResponse},
		{g + "ES4/ProfileManagent/ES4-EnableProfile", rps.ES4, "EnableProfile", rps.RoleRequest},
		{g + "ES4/ProfileManagent/ES4-AuditEIS", rps.ES4, "AuditEIS", rps.RoleRequest},
		{g + "ES4/ProfileManagent/ES4-GetEISRequest", rps.ES4, "GetEIS", rps.RoleRequest},
		{g + "ES4/ProfileManagentCallback/ES4-AuditEIS", rps.ES4, "AuditEIS", rps.RoleResponse},
		{g + "ES4/ProfileManagentCallBack/ES4-AuditEISResponse", rps.ES4, "AuditEIS", rps.RoleResponse},
		{g + "ES4/ProfileManagentCallBack/ES4-DisableProfile", rps.ES4, "DisableProfile", rps.RoleResponse},
		{g + "ES4/PlatformManagement/ES4-EnableProfileRequest", rps.ES4, "EnableProfile", rps.RoleRequest},
		{g + "ES4/eUICCManagement/ES4-EnableProfileResponse", rps.ES4, "EnableProfile", rps.RoleResponse},
	}
	for _, tt := range tests {
		f, role, ok := rps.FunctionByAction(tt.action)
		require.True(t, ok, tt.action)
		assert.Equal(t, tt.iface, f.Interface, tt.action)
		assert.Equal(t, tt.name, f.Name, tt.action)
		assert.Equal(t, tt.role, role, tt.action)
		// Variants are recognised, never emitted.
		assert.NotEqual(t, tt.action, f.RequestAction)
		assert.NotEqual(t, tt.action, f.ResponseAction)
	}
	for _, a := range []string{g + "ES2/ProfileManagentCallBack/ES2-HandleProfileDisabledNotification", g + "ES4/ProfileManagentCallBack/ES4-HandleSMSRChangeNotification"} {
		n, ok := rps.NotificationByAction(a)
		require.True(t, ok, a)
		assert.True(t, strings.HasSuffix(a, n.Element))
	}
	_, _, ok := rps.FunctionByAction(g + "ES4/PlatformManagement/ES4-Nope")
	assert.False(t, ok)
}

// TestChildOrder: element names, namespace and child order of every element, as in docs/wire.md sections 5.1-5.3.
func TestChildOrder(t *testing.T) {
	req := []string{"FunctionCallIdentifier", "ValidityPeriod"}
	resp := []string{"ProcessingStart", "ProcessingEnd", "AcceptableValidityPeriod", "FunctionExecutionStatus"}
	with := func(base []string, more ...string) []string { return append(append([]string(nil), base...), more...) }
	note := []string{"Eid", "Iccid", "CompletionTimestamp"}
	want := map[string][]string{
		"ES2-GetEISRequest":                     with(req, "Eid", "Smsr-id"),
		"ES2-GetEISResponse":                    with(resp, "Eis"),
		"ES2-DownloadProfileRequest":            with(req, "Eid", "SmSr-id", "ProfileType", "Iccid", "EnableProfile"),
		"ES2-DownloadProfileResponse":           with(resp, "Iccid", "EuiccResponseData"),
		"ES2-UpdatePolicyRulesRequest":          with(req, "Eid", "Iccid", "Smsr-id", "pol2"),
		"ES2-UpdatePolicyRulesResponse":         resp,
		"ES2-UpdateSubscriptionAddressRequest":  with(req, "Eid", "Smsr-id", "Iccid", "newSubscriptionAddress"),
		"ES2-UpdateSubscriptionAddressResponse": resp,
		"ES2-EnableProfileRequest":              with(req, "Eid", "SmSr-id", "Iccid"),
		"ES2-EnableProfileResponse":             with(resp, "EuiccResponseData"),
		"ES2-DisableProfileRequest":             with(req, "Eid", "Smsr-id", "Iccid"),
		"ES2-DisableProfileResponse":            with(resp, "EuiccResponseData"),
		"ES2-DeleteProfileRequest":              with(req, "Eid", "Iccid", "Smsr-id"),
		"ES2-DeleteProfileResponse":             with(resp, "EuiccResponseData"),
		"ES2-SetFallBackAttributeRequest":       with(req, "Eid", "Smsr-id", "Iccid"),
		"ES2-SetFallBackAttributeResponse":      resp,
		"ES2-HandleProfileDisabledNotification": note,
		"ES2-HandleProfileEnabledNotification":  note,
		"ES2-HandleProfileDeletedNotification":  note,
		"ES2-HandleSMSRChangeNotification":      {"Eis", "CompletionTimestamp"},
		"ES4-GetEISRequest":                     with(req, "Eid"),
		"ES4-GetEISResponse":                    with(resp, "Eis"),
		"ES4-AuditEISRequest":                   with(req, "Eid", "Iccid", "Iccid"),
		"ES4-AuditEISResponse":                  with(resp, "Eis"),
		"ES4-UpdatePolicyRulesRequest":          with(req, "Eid", "Iccid", "pol2"),
		"ES4-UpdatePolicyRulesResponse":         resp,
		"ES4-UpdateSubscriptionAddressRequest":  with(req, "Eid", "Iccid", "newSubscriptionAddress"),
		"ES4-UpdateSubscriptionAddressResponse": resp,
		"ES4-EnableProfileRequest":              with(req, "Eid", "Iccid"),
		"ES4-EnableProfileResponse":             with(resp, "EuiccResponseData"),
		"ES4-DisableProfileRequest":             with(req, "Eid", "Iccid"),
		"ES4-DisableProfileResponse":            with(resp, "EuiccResponseData"),
		"ES4-DeleteProfileRequest":              with(req, "Eid", "Iccid"),
		"ES4-DeleteProfileResponse":             with(resp, "EuiccResponseData"),
		"ES4-PrepareSMSRChangeRequest":          with(req, "Eid", "CurrentSMSRid"),
		"ES4-PrepareSMSRChangeResponse":         resp,
		"ES4-SMSRChangeRequest":                 with(req, "Eid", "Target-Smsr-id"),
		"ES4-SMSRChangeResponse":                resp,
		"ES4-SetFallBackAttributeRequest":       with(req, "Eid", "Iccid"),
		"ES4-SetFallBackAttributeResponse":      with(resp, "EuiccResponseData"),
		"ES4-HandleProfileDisabledNotification": note,
		"ES4-HandleProfileEnabledNotification":  note,
		"ES4-HandleProfileDeletedNotification":  note,
		"ES4-HandleSMSRChangeNotification":      {"Eis", "CompletionTimestamp"},
	}
	assert.Len(t, rps.ElementNames(), len(want))
	for _, name := range rps.ElementNames() {
		t.Run(name, func(t *testing.T) {
			c := canonOf(t, document(populated(t, name).AppendXML(nil)))
			assert.Equal(t, rps.Namespace, c.Space)
			assert.Equal(t, name, c.Local)
			var kids []string
			for _, k := range c.Kids {
				assert.Equal(t, rps.Namespace, k.Space)
				kids = append(kids, k.Local)
			}
			assert.Equal(t, want[name], kids)
		})
	}
	// The EIS, docs/wire.md section 5.4.
	c := canonOf(t, document(populated(t, "ES4-GetEISResponse").AppendXML(nil)))
	eis := c.Kids[len(c.Kids)-1]
	var kids []string
	for _, k := range eis.Kids {
		kids = append(kids, k.Local)
	}
	assert.Equal(t, []string{"EumSignedInfo", "EumSignature", "RemainingMemory", "AvailableMemoryForProfiles", "LastAuditDate",
		"Smsr-id", "ProfileInfo", "ProfileInfo", "Isd-r", "AuditTrail", "AdditionalProperties"}, kids)
	var pi []string
	for _, k := range eis.Kids[6].Kids {
		pi = append(pi, k.Local)
	}
	assert.Equal(t, []string{"Iccid", "Isd-p-aid", "Mno-id", "FallbackAttribute", "SubscriptionAddress", "State", "Smdp-id",
		"ProfileType", "AllocatedMemory", "FreeMemory", "pol2"}, pi)
}

// TestWSDLs: the four WSDL files carry the table's Actions and docs/wire.md's service names, SOAP 1.2.
func TestWSDLs(t *testing.T) {
	const (
		nsWSDL   = "http://schemas.xmlsoap.org/wsdl/"
		nsSOAP12 = "http://schemas.xmlsoap.org/wsdl/soap12/"
		nsWSAM   = "http://www.w3.org/2007/05/addressing/metadata"
	)
	type op struct{ in, inAction, out, outAction string }
	expect := map[string]map[string]op{}
	add := func(file, name string, o op) {
		if expect[file] == nil {
			expect[file] = map[string]op{}
		}
		expect[file][name] = o
	}
	for _, f := range rps.Functions() {
		provider, operator := "ES2_SmDp.wsdl", "ES2_Mno.wsdl"
		if f.Interface == rps.ES4 {
			provider, operator = "ES4_SmSr.wsdl", "ES4_Mno.wsdl"
		}
		p := string(f.Interface) + "-" + f.Name
		if f.Mode == rps.Sync {
			add(provider, p, op{f.RequestElement, f.RequestAction, f.ResponseElement, f.ResponseAction})
		} else {
			add(provider, p, op{in: f.RequestElement, inAction: f.RequestAction})
			add(operator, p+"Callback", op{in: f.ResponseElement, inAction: f.ResponseAction})
		}
	}
	for _, n := range rps.Notifications() {
		add(string(n.Interface)+"_Mno.wsdl", n.Element, op{in: n.Element, inAction: n.Action})
	}
	services := map[string][3]string{
		"ES2_SmDp.wsdl": {"ES2SmDpService", "SmDpES2Port", "ES2SmDpServiceBinding"},
		"ES4_SmSr.wsdl": {"ES4SmSrService", "SmSrES4Port", "ES4SmSrServiceBinding"},
		"ES2_Mno.wsdl":  {"ES2MnoService", "MnoES2Port", "ES2MnoServiceBinding"},
		"ES4_Mno.wsdl":  {"ES4MnoService", "MnoES4Port", "ES4MnoServiceBinding"},
	}
	for file, ops := range expect {
		t.Run(file, func(t *testing.T) {
			doc := etree.NewDocument()
			require.NoError(t, doc.ReadFromFile(filepath.Join("..", file)))
			root := doc.Root()
			// message name -> element
			msgs := map[string]string{}
			for _, m := range root.SelectElements("message") {
				msgs[m.SelectAttrValue("name", "")] = strings.TrimPrefix(m.SelectElement("part").SelectAttrValue("element", ""), "rps:")
			}
			attr := func(e *etree.Element, space, key string) string {
				for _, a := range e.Attr {
					if a.Key == key && a.NamespaceURI() == space {
						return a.Value
					}
				}
				return ""
			}
			pt := root.SelectElement("portType")
			require.NotNil(t, pt)
			got := map[string]op{}
			for _, o := range pt.SelectElements("operation") {
				var g op
				if in := o.SelectElement("input"); in != nil {
					g.in = msgs[strings.TrimPrefix(in.SelectAttrValue("message", ""), "rps:")]
					g.inAction = attr(in, nsWSAM, "Action")
				}
				if out := o.SelectElement("output"); out != nil {
					g.out = msgs[strings.TrimPrefix(out.SelectAttrValue("message", ""), "rps:")]
					g.outAction = attr(out, nsWSAM, "Action")
				}
				got[o.SelectAttrValue("name", "")] = g
			}
			assert.Equal(t, ops, got)
			b := root.SelectElement("binding")
			require.NotNil(t, b)
			assert.Equal(t, services[file][2], b.SelectAttrValue("name", ""))
			sb := b.SelectElement("binding")
			require.NotNil(t, sb)
			assert.Equal(t, nsSOAP12, sb.NamespaceURI())
			assert.Equal(t, "http://www.w3.org/2003/05/soap/bindings/HTTP/", sb.SelectAttrValue("transport", ""))
			assert.Equal(t, "document", sb.SelectAttrValue("style", ""))
			assert.Len(t, b.SelectElements("operation"), len(ops))
			// Issue 17, defect 5: every SOAP 1.2 operation carries soapAction = the wsa:Action of its input,
			// or zeep sends action="None", node-soap action="" and Metro answers ActionMismatch.
			for _, bo := range b.SelectElements("operation") {
				name := bo.SelectAttrValue("name", "")
				so := bo.SelectElement("operation")
				require.NotNil(t, so, name)
				assert.Equal(t, nsSOAP12, so.NamespaceURI(), name)
				assert.Equal(t, ops[name].inAction, so.SelectAttrValue("soapAction", ""), "soapAction of %s", name)
			}
			svc := root.SelectElement("service")
			require.NotNil(t, svc)
			assert.Equal(t, nsWSDL, svc.NamespaceURI())
			assert.Equal(t, services[file][0], svc.SelectAttrValue("name", ""))
			assert.Equal(t, services[file][1], svc.SelectElement("port").SelectAttrValue("name", ""))
		})
	}
}

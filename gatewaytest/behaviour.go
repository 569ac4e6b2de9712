package gatewaytest

import "github.com/esimgw/esimgw/wsdl/rps"

// The mock's behaviour for each function of the WSDLs: one method exec<Interface><Function> per function,
// called by the generated dispatch table (dispatch_gen.go) with the decoded request and a new response
// element to fill. A method returns a warning (EXECUTED_WITHWARNING) or a refusal (FAILED, and the response
// is sent without the data filled in). Adding a function to a WSDL and running go generate makes this
// package fail to compile until its method is here. The shared checks (EID, ICCID, the SM-SR managing the
// eUICC) are in exec.go, the state rules in state.go.

func (g *Gateway) execES2GetEIS(c *call, req *rps.ES2GetEISRequest, resp *rps.ES2GetEISResponse) (warn, err *StateError) {
	resp.Eis, err = g.getEIS(c, req.Eid, &req.SmsrID, nil, false)
	return nil, err
}

func (g *Gateway) execES4GetEIS(c *call, req *rps.ES4GetEISRequest, resp *rps.ES4GetEISResponse) (warn, err *StateError) {
	resp.Eis, err = g.getEIS(c, req.Eid, nil, nil, false)
	return nil, err
}

func (g *Gateway) execES4AuditEIS(c *call, req *rps.ES4AuditEISRequest, resp *rps.ES4AuditEISResponse) (warn, err *StateError) {
	resp.Eis, err = g.getEIS(c, req.Eid, nil, req.Iccid, true)
	return nil, err
}

func (g *Gateway) execES2DownloadProfile(c *call, req *rps.ES2DownloadProfileRequest, resp *rps.ES2DownloadProfileResponse) (warn, err *StateError) {
	resp.Iccid, warn, err = g.download(c, req)
	return warn, err
}

func (g *Gateway) execES2UpdatePolicyRules(c *call, req *rps.ES2UpdatePolicyRulesRequest, _ *rps.ES2UpdatePolicyRulesResponse) (warn, err *StateError) {
	return nil, g.onProfile(c, req.Eid, &req.SmsrID, req.Iccid, func(e *EUICC, p *Profile) *StateError { return updatePOL2(p, req.Pol2) })
}

func (g *Gateway) execES4UpdatePolicyRules(c *call, req *rps.ES4UpdatePolicyRulesRequest, _ *rps.ES4UpdatePolicyRulesResponse) (warn, err *StateError) {
	return nil, g.onProfile(c, req.Eid, nil, req.Iccid, func(e *EUICC, p *Profile) *StateError { return updatePOL2(p, &req.Pol2) })
}

func (g *Gateway) execES2UpdateSubscriptionAddress(c *call, req *rps.ES2UpdateSubscriptionAddressRequest, _ *rps.ES2UpdateSubscriptionAddressResponse) (warn, err *StateError) {
	return nil, g.onProfile(c, req.Eid, &req.SmsrID, req.Iccid, func(e *EUICC, p *Profile) *StateError { return updateAddress(p, req.NewSubscriptionAddress) })
}

func (g *Gateway) execES4UpdateSubscriptionAddress(c *call, req *rps.ES4UpdateSubscriptionAddressRequest, _ *rps.ES4UpdateSubscriptionAddressResponse) (warn, err *StateError) {
	return nil, g.onProfile(c, req.Eid, nil, req.Iccid, func(e *EUICC, p *Profile) *StateError { return updateAddress(p, req.NewSubscriptionAddress) })
}

func (g *Gateway) execES2EnableProfile(c *call, req *rps.ES2EnableProfileRequest, _ *rps.ES2EnableProfileResponse) (warn, err *StateError) {
	return nil, g.onProfile(c, req.Eid, &req.SmsrID, req.Iccid, func(e *EUICC, p *Profile) *StateError { return g.enableLocked(c, e, p) })
}

func (g *Gateway) execES4EnableProfile(c *call, req *rps.ES4EnableProfileRequest, _ *rps.ES4EnableProfileResponse) (warn, err *StateError) {
	return nil, g.onProfile(c, req.Eid, nil, req.Iccid, func(e *EUICC, p *Profile) *StateError { return g.enableLocked(c, e, p) })
}

func (g *Gateway) execES2DisableProfile(c *call, req *rps.ES2DisableProfileRequest, _ *rps.ES2DisableProfileResponse) (warn, err *StateError) {
	return nil, g.onProfile(c, req.Eid, &req.SmsrID, req.Iccid, func(e *EUICC, p *Profile) *StateError { return g.disableLocked(c, e, p) })
}

func (g *Gateway) execES4DisableProfile(c *call, req *rps.ES4DisableProfileRequest, _ *rps.ES4DisableProfileResponse) (warn, err *StateError) {
	return nil, g.onProfile(c, req.Eid, nil, req.Iccid, func(e *EUICC, p *Profile) *StateError { return g.disableLocked(c, e, p) })
}

func (g *Gateway) execES2DeleteProfile(c *call, req *rps.ES2DeleteProfileRequest, _ *rps.ES2DeleteProfileResponse) (warn, err *StateError) {
	return nil, g.onProfile(c, req.Eid, &req.SmsrID, req.Iccid, func(e *EUICC, p *Profile) *StateError { return g.deleteLocked(e, p) })
}

func (g *Gateway) execES4DeleteProfile(c *call, req *rps.ES4DeleteProfileRequest, _ *rps.ES4DeleteProfileResponse) (warn, err *StateError) {
	return nil, g.onProfile(c, req.Eid, nil, req.Iccid, func(e *EUICC, p *Profile) *StateError { return g.deleteLocked(e, p) })
}

func (g *Gateway) execES2SetFallBackAttribute(c *call, req *rps.ES2SetFallBackAttributeRequest, _ *rps.ES2SetFallBackAttributeResponse) (warn, err *StateError) {
	return nil, g.onProfile(c, req.Eid, &req.SmsrID, req.Iccid, func(e *EUICC, p *Profile) *StateError { return setFallback(e, p) })
}

func (g *Gateway) execES4SetFallBackAttribute(c *call, req *rps.ES4SetFallBackAttributeRequest, _ *rps.ES4SetFallBackAttributeResponse) (warn, err *StateError) {
	return nil, g.onProfile(c, req.Eid, nil, req.Iccid, func(e *EUICC, p *Profile) *StateError { return setFallback(e, p) })
}

func (g *Gateway) execES4PrepareSMSRChange(_ *call, req *rps.ES4PrepareSMSRChangeRequest, _ *rps.ES4PrepareSMSRChangeResponse) (warn, err *StateError) {
	return nil, g.prepareSMSRChange(req)
}

func (g *Gateway) execES4SMSRChange(c *call, req *rps.ES4SMSRChangeRequest, _ *rps.ES4SMSRChangeResponse) (warn, err *StateError) {
	return nil, g.smsrChange(c, req)
}

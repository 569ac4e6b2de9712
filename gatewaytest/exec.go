package gatewaytest

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// StateError is a refusal by the mock's state rules: the StatusCodeData of a FAILED response, or the error
// of a Simulate method. Use errors.As.
type StateError struct {
	Subject, Reason, SubjectIdentifier, Message string
}

func (e *StateError) Error() string {
	return fmt.Sprintf("gatewaytest: %s/%s (%s) %s: %s", e.Subject, e.Reason,
		esimgw.DescribeCode(e.Subject, e.Reason), e.SubjectIdentifier, e.Message)
}

func refused(subject, reason, id, format string, args ...any) *StateError {
	return &StateError{Subject: subject, Reason: reason, SubjectIdentifier: id, Message: fmt.Sprintf(format, args...)}
}

func (e *StateError) codeData() *rps.StatusCodeDataType {
	return &rps.StatusCodeDataType{Subject: e.Subject, Reason: e.Reason, SubjectIdentifier: e.SubjectIdentifier, Message: e.Message}
}

// executeLocked runs the function against the state and returns the response element. The behaviour of
// each function is a method exec<Interface><Function> (behaviour.go), reached through the generated
// dispatch table (dispatch_gen.go).
func (g *Gateway) executeLocked(c *call) rps.Element {
	resp, warn, err, ok := g.dispatchLocked(c)
	if !ok {
		err = refused(esimgw.SubjectFunction, esimgw.ReasonInvalid, "", "function not implemented by the mock")
	}
	g.stats.Executed++
	st := rps.ExecutionStatusType{Status: rps.StatusTypeEXECUTED_SUCCESS}
	switch {
	case err != nil:
		g.stats.Failed++
		st = rps.ExecutionStatusType{Status: rps.StatusTypeFAILED, StatusCodeData: err.codeData()}
		resp = nil // a FAILED response carries no result data: start again from an empty element
	case warn != nil:
		st = rps.ExecutionStatusType{Status: rps.StatusTypeEXECUTED_WITHWARNING, StatusCodeData: warn.codeData()}
	}
	return g.respond(c, st, resp)
}

// respond completes the response element (a new one of the function's when resp is nil) with st and the
// processing times, and records the outcome on the request.
func (g *Gateway) respond(c *call, st rps.ExecutionStatusType, resp rps.Element) rps.Element {
	if resp == nil {
		resp, _ = rps.NewElement(c.fn.response)
	}
	start, end := rps.NewDateTime(c.received.UTC().Truncate(time.Second)), rps.NewDateTime(time.Now().UTC().Truncate(time.Second))
	base := rps.BaseResponseType{ProcessingStart: &start, ProcessingEnd: &end, FunctionExecutionStatus: st}
	if g.cfg.behavior == ProfileKPN && c.fn.name == FnSetFallBackAttribute {
		if asked := baseRequest(c.body).ValidityPeriod; asked != 0 && time.Duration(asked)*time.Second != KPNSetFallBackValidity {
			base.AcceptableValidityPeriod = rps.PositiveInteger(KPNSetFallBackValidity / time.Second)
		}
	}
	setBase(resp, base)
	c.rec.Status = st.Status
	if st.StatusCodeData != nil {
		cd := *st.StatusCodeData
		c.rec.StatusCode = &cd
	}
	return resp
}

func setBase(el rps.Element, b rps.BaseResponseType) {
	if r, ok := el.(rps.Response); ok {
		*r.ResponseBase() = b
	}
}

// lookupEUICC applies the checks shared by every function: EID format and existence, and on ES2 the
// SM-SR the eUICC is attached to.
func (g *Gateway) lookupEUICC(eidHex rps.HexBinary, smsr *string) (*EUICC, *StateError) {
	eid := strings.ToUpper(fmt.Sprintf("%x", []byte(eidHex)))
	if err := esimgw.ValidateEID(eid); err != nil {
		return nil, refused(esimgw.SubjectEID, esimgw.ReasonInvalid, eid, "invalid Eid: %v", err)
	}
	e := g.euiccs[eid]
	if e == nil {
		return nil, refused(esimgw.SubjectEID, esimgw.ReasonUnknown, eid, "unknown EID")
	}
	if smsr != nil && *smsr != e.SMSRID {
		return nil, refused(esimgw.SubjectSMSR, esimgw.ReasonUnknown, *smsr, "SM-SR %s does not manage this eUICC", *smsr)
	}
	return e, nil
}

// onProfile applies the shared checks for a function on one profile, then op.
func (g *Gateway) onProfile(c *call, eidHex rps.HexBinary, smsr *string, iccid string, op func(*EUICC, *Profile) *StateError) *StateError {
	eid := strings.ToUpper(fmt.Sprintf("%x", []byte(eidHex)))
	if err := esimgw.ValidateEID(eid); err != nil {
		return refused(esimgw.SubjectEID, esimgw.ReasonInvalid, eid, "invalid Eid: %v", err)
	}
	if err := esimgw.ValidateICCID(iccid); err != nil {
		return refused(esimgw.SubjectProfileICCID, esimgw.ReasonInvalid, iccid, "invalid Iccid: %v", err)
	}
	e, serr := g.lookupEUICC(eidHex, smsr)
	if serr != nil {
		return serr
	}
	p := e.profile(iccid)
	if p == nil {
		if other, _ := g.findICCIDLocked(iccid); other != nil {
			return refused(esimgw.SubjectProfileICCID, esimgw.ReasonUnknown, iccid, "invalid destination: the profile is not on eUICC %s", e.EID)
		}
		return refused(esimgw.SubjectProfileICCID, esimgw.ReasonUnknown, iccid, "unknown ICCID")
	}
	if p.MNOID != c.caller {
		return refused(esimgw.SubjectProfileICCID, esimgw.ReasonNotAllowed, iccid, "profile not owned by %s", c.caller)
	}
	return op(e, p)
}

func hasRule(p *Profile, action, qual string) bool {
	return slices.Contains(p.POL2, POL2Rule{Action: action, Qualification: qual})
}

func (g *Gateway) getEIS(c *call, eidHex rps.HexBinary, smsr *string, iccids []string, audit bool) (*rps.EISType, *StateError) {
	for _, ic := range iccids {
		if err := esimgw.ValidateICCID(ic); err != nil {
			return nil, refused(esimgw.SubjectProfileICCID, esimgw.ReasonInvalid, ic, "invalid Iccid: %v", err)
		}
	}
	e, err := g.lookupEUICC(eidHex, smsr)
	if err != nil {
		return nil, err
	}
	if audit {
		e.LastAuditDate = time.Now().UTC().Truncate(time.Second)
	}
	return g.eisLocked(e, c.caller, iccids), nil
}

// enableLocked enables p, disabling the enabled profile.
func (g *Gateway) enableLocked(c *call, e *EUICC, p *Profile) *StateError {
	switch p.State {
	case StateEnabled:
		return refused(esimgw.SubjectProfileICCID, esimgw.ReasonRefused, p.ICCID, "profile already enabled")
	case StateCreated:
		return refused(esimgw.SubjectProfileICCID, esimgw.ReasonRefused, p.ICCID, "profile is in state Created, not Disabled")
	}
	if hasRule(p, POL2Enable, POL2NotAllowed) {
		return refused(esimgw.SubjectPOL2, esimgw.ReasonRefused, p.ICCID, "POL2 of the profile does not allow enabling it")
	}
	cur := e.enabled()
	if cur != nil && hasRule(cur, POL2Disable, POL2NotAllowed) {
		return refused(esimgw.SubjectPOL2, esimgw.ReasonRefused, cur.ICCID, "POL2 of the enabled profile %s does not allow disabling it", cur.ICCID)
	}
	iccid := p.ICCID
	var notices []notice
	if cur != nil {
		cur.State = StateDisabled
		if cur.MNOID != c.caller {
			// The other operator learns of it: not its request (KPN and GSMA alike).
			notices = append(notices, g.notices(noticeDisabled, e.EID, cur.ICCID)...)
		}
		if hasRule(cur, POL2Disable, POL2AutoDelete) && !cur.Fallback {
			notices = append(notices, g.notices(noticeDeleted, e.EID, cur.ICCID)...)
			g.deleteProfileLocked(e, cur.ICCID)
		}
	}
	e.profile(iccid).State = StateEnabled
	c.after = append(c.after, notices...)
	return nil
}

// disableLocked disables p and enables the fall-back profile.
func (g *Gateway) disableLocked(c *call, e *EUICC, p *Profile) *StateError {
	if p.State != StateEnabled {
		return refused(esimgw.SubjectProfileICCID, esimgw.ReasonRefused, p.ICCID, "profile is not enabled")
	}
	if p.Fallback {
		return refused(esimgw.SubjectProfileICCID, esimgw.ReasonRefused, p.ICCID, "the fall-back profile cannot be disabled")
	}
	if hasRule(p, POL2Disable, POL2NotAllowed) {
		return refused(esimgw.SubjectPOL2, esimgw.ReasonRefused, p.ICCID, "POL2 does not allow disabling the profile")
	}
	iccid := p.ICCID
	p.State = StateDisabled
	if fb := e.fallback(); fb != nil {
		fb.State = StateEnabled
		if fb.MNOID != c.caller {
			c.after = append(c.after, g.notices(noticeEnabled, e.EID, fb.ICCID)...)
		}
	}
	if hasRule(p, POL2Disable, POL2AutoDelete) {
		c.after = append(c.after, g.notices(noticeDeleted, e.EID, iccid)...)
		g.deleteProfileLocked(e, iccid)
	}
	return nil
}

func (g *Gateway) deleteLocked(e *EUICC, p *Profile) *StateError {
	if p.State == StateEnabled {
		return refused(esimgw.SubjectProfileICCID, esimgw.ReasonRefused, p.ICCID, "the enabled profile cannot be deleted: disable it first")
	}
	if p.Fallback {
		return refused(esimgw.SubjectProfileICCID, esimgw.ReasonRefused, p.ICCID, "the fall-back profile cannot be deleted")
	}
	if hasRule(p, POL2Delete, POL2NotAllowed) {
		return refused(esimgw.SubjectPOL2, esimgw.ReasonRefused, p.ICCID, "POL2 does not allow deleting the profile")
	}
	g.deleteProfileLocked(e, p.ICCID)
	return nil
}

func (g *Gateway) deleteProfileLocked(e *EUICC, iccid string) {
	if p := e.profile(iccid); p != nil {
		e.AvailableMemoryForProfiles += p.AllocatedMemory
		e.RemainingMemory += p.AllocatedMemory
		e.remove(iccid)
		delete(g.installed, iccid)
	}
}

func setFallback(e *EUICC, p *Profile) *StateError {
	if p.State == StateCreated {
		return refused(esimgw.SubjectProfileICCID, esimgw.ReasonRefused, p.ICCID, "profile is in state Created")
	}
	iccid := p.ICCID
	for i := range e.Profiles {
		e.Profiles[i].Fallback = e.Profiles[i].ICCID == iccid
	}
	return nil
}

func updatePOL2(p *Profile, pol *rps.POL2Type) *StateError {
	var rules []POL2Rule
	if pol != nil {
		for _, r := range pol.Rule {
			nr := POL2Rule{Action: string(r.Action), Qualification: string(r.Qualification)}
			if r.Subject != rps.POL2SubjectTypePROFILE || !validPOL2(nr) {
				return refused(esimgw.SubjectPOL2, esimgw.ReasonInvalid, p.ICCID, "invalid POL2 rule %s/%s/%s", r.Subject, r.Action, r.Qualification)
			}
			rules = append(rules, nr)
		}
	}
	p.POL2 = rules
	return nil
}

var (
	imsiRE   = regexp.MustCompile(`^\d{0,15}$`)
	msisdnRE = regexp.MustCompile(`^\d{3,15}$`)
)

func updateAddress(p *Profile, a rps.SubscriptionAddressType) *StateError {
	if !imsiRE.MatchString(a.Imsi) || (a.Msisdn != "" && !msisdnRE.MatchString(a.Msisdn)) {
		return refused(esimgw.SubjectSubscriptionAddress, esimgw.ReasonInvalid, p.ICCID, "invalid subscription address (Imsi up to 15 digits, Msisdn 3 to 15 digits)")
	}
	p.SubscriptionAddress = SubscriptionAddress{IMSI: a.Imsi, MSISDN: a.Msisdn}
	return nil
}

// download installs a catalogue profile. warn is set when the profile was installed but could not be enabled.
func (g *Gateway) download(c *call, b *rps.ES2DownloadProfileRequest) (iccid string, warn, err *StateError) {
	eid := strings.ToUpper(fmt.Sprintf("%x", []byte(b.Eid)))
	if err := esimgw.ValidateEID(eid); err != nil {
		return "", nil, refused(esimgw.SubjectEID, esimgw.ReasonInvalid, eid, "invalid Eid: %v", err)
	}
	switch {
	case b.Iccid != "" && b.ProfileType != "":
		return "", nil, refused(esimgw.SubjectFunction, esimgw.ReasonInvalid, "", "give either Iccid or ProfileType, not both")
	case b.Iccid == "" && b.ProfileType == "":
		return "", nil, refused(esimgw.SubjectFunction, esimgw.ReasonConditionalElementMissing, "", "Iccid or ProfileType is required")
	}
	if b.Iccid != "" {
		if err := esimgw.ValidateICCID(b.Iccid); err != nil {
			return "", nil, refused(esimgw.SubjectProfileICCID, esimgw.ReasonInvalid, b.Iccid, "invalid Iccid: %v", err)
		}
	}
	e, serr := g.lookupEUICC(b.Eid, &b.SmsrID)
	if serr != nil {
		return "", nil, serr
	}
	var cp *CatalogProfile
	if b.Iccid != "" {
		if other, _ := g.findICCIDLocked(b.Iccid); other != nil {
			return "", nil, refused(esimgw.SubjectProfileICCID, esimgw.ReasonRefused, b.Iccid, "profile already installed on eUICC %s", other.EID)
		}
		cp = g.catalog[b.Iccid]
		if cp == nil {
			return "", nil, refused(esimgw.SubjectProfileICCID, esimgw.ReasonUnknown, b.Iccid, "unknown ICCID")
		}
		if cp.MNOID != c.caller {
			return "", nil, refused(esimgw.SubjectProfileICCID, esimgw.ReasonNotAllowed, b.Iccid, "profile not owned by %s", c.caller)
		}
	} else {
		known := false
		for _, ic := range g.catalogOrder {
			x := g.catalog[ic]
			if x.ProfileType != b.ProfileType {
				continue
			}
			known = true
			if x.MNOID == c.caller {
				cp = x
				break
			}
		}
		if cp == nil {
			if known {
				return "", nil, refused(esimgw.SubjectProfileType, esimgw.ReasonNotAllowed, b.ProfileType, "profile type not owned by %s", c.caller)
			}
			return "", nil, refused(esimgw.SubjectProfileType, esimgw.ReasonUnknown, b.ProfileType, "unknown profile type, or none left")
		}
	}
	if e.AvailableMemoryForProfiles < cp.Size {
		return "", nil, refused(esimgw.SubjectEUICC, esimgw.ReasonRefused, e.EID,
			"insufficient memory: the profile needs %d bytes, %d available", cp.Size, e.AvailableMemoryForProfiles)
	}
	p := Profile{ICCID: cp.ICCID, ISDPAID: g.newISDPAIDLocked(), MNOID: cp.MNOID, SMDPID: g.SMDPID, ProfileType: cp.ProfileType,
		State: StateDisabled, POL2: slices.Clone(cp.POL2), SubscriptionAddress: cp.SubscriptionAddress, AllocatedMemory: cp.Size}
	e.Profiles = append(e.Profiles, p)
	g.installed[p.ICCID] = e.EID
	e.AvailableMemoryForProfiles -= cp.Size
	if e.RemainingMemory >= cp.Size {
		e.RemainingMemory -= cp.Size
	}
	delete(g.catalog, cp.ICCID)
	g.catalogOrder = slices.DeleteFunc(g.catalogOrder, func(s string) bool { return s == p.ICCID })
	if b.EnableProfile {
		if err := g.enableLocked(c, e, e.profile(p.ICCID)); err != nil {
			err.Message = "profile downloaded but not enabled: " + err.Message
			return p.ICCID, err, nil
		}
		if g.cfg.behavior == ProfileGSMA {
			// GSMA profile: the SM-DP tells the operator the downloaded profile is enabled (the es2
			// Activate flow waits for it). KPN sends no notification for an enable it was asked for.
			c.after = append(c.after, notice{iface: ES2, kind: noticeEnabled, eid: e.EID, iccid: p.ICCID})
		}
	}
	return p.ICCID, nil, nil
}

func (g *Gateway) prepareSMSRChange(b *rps.ES4PrepareSMSRChangeRequest) *StateError {
	e, err := g.lookupEUICC(b.Eid, nil)
	if err != nil {
		return err
	}
	if b.CurrentSmsrID != e.SMSRID {
		return refused(esimgw.SubjectSMSR, esimgw.ReasonUnknown, b.CurrentSmsrID, "the eUICC is not managed by SM-SR %s", b.CurrentSmsrID)
	}
	e.smsrChangePrepared = true
	return nil
}

func (g *Gateway) smsrChange(c *call, b *rps.ES4SMSRChangeRequest) *StateError {
	e, err := g.lookupEUICC(b.Eid, nil)
	if err != nil {
		return err
	}
	if verr := esimgw.ValidateOID("Target-Smsr-id", b.TargetSmsrID); verr != nil {
		return refused(esimgw.SubjectSMSR, esimgw.ReasonInvalid, b.TargetSmsrID, "invalid Target-Smsr-id: %v", verr)
	}
	if !e.smsrChangePrepared {
		return refused(esimgw.SubjectEUICC, esimgw.ReasonRefused, e.EID, "no PrepareSMSRChange for this eUICC")
	}
	if b.TargetSmsrID == e.SMSRID {
		return refused(esimgw.SubjectSMSR, esimgw.ReasonRefused, b.TargetSmsrID, "the eUICC is already managed by SM-SR %s", b.TargetSmsrID)
	}
	e.SMSRID = b.TargetSmsrID
	e.smsrChangePrepared = false
	c.after = append(c.after, g.notices(noticeSMSRChange, e.EID, "")...)
	return nil
}

package es4

import (
	"cmp"
	"context"
	"fmt"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// Client calls the ES4 functions of one SM-SR. It is safe for concurrent use; create one per gateway and
// share it, so that its keep-alive connections are reused.
type Client struct {
	engine *esimgw.Client
	fn     functions
}

// functions holds the descriptors of the ES4 functions (element names, Actions, sync or async), looked up
// once per Client: the rps table is rebuilt on every lookup, so a lookup per call would cost allocations.
type functions struct {
	getEIS, updatePolicyRules, updateSubscriptionAddress, auditEIS     rps.Function
	enableProfile, disableProfile, deleteProfile, setFallBackAttribute rps.Function
	prepareSMSRChange, smsrChange                                      rps.Function
}

func lookupFunctions() (functions, error) {
	var f functions
	for _, e := range []struct {
		dst  *rps.Function
		name string
	}{
		{&f.getEIS, "GetEIS"}, {&f.updatePolicyRules, "UpdatePolicyRules"},
		{&f.updateSubscriptionAddress, "UpdateSubscriptionAddress"}, {&f.auditEIS, "AuditEIS"},
		{&f.enableProfile, "EnableProfile"}, {&f.disableProfile, "DisableProfile"},
		{&f.deleteProfile, "DeleteProfile"}, {&f.setFallBackAttribute, "SetFallBackAttribute"},
		{&f.prepareSMSRChange, "PrepareSMSRChange"}, {&f.smsrChange, "SMSRChange"},
	} {
		fn, ok := rps.FunctionByName(rps.ES4, e.name)
		if !ok {
			return functions{}, fmt.Errorf("es4: function %s is missing from the rps function table", e.name)
		}
		*e.dst = fn
	}
	return f, nil
}

// NewClient returns a client for the SM-SR at endpoint (for KPN
// https://rsp.kpnthings.com/esim-messaging/3/ES4/ES4SmSrService).
//
// The options are esimgw.Option values (the same set for es2.NewClient and esimgw.NewClient):
//   - identity: esimgw.WithEntity (required), WithFromAddress, WithProviderEntityID, WithPeerEntityID,
//     WithAddressSeparator, WithKPN (KPN's address and validity rules);
//   - asynchronous results: WithReplyTo and WithDispatcher (both required for asynchronous functions),
//     WithoutReplyTo, WithValidityPeriod;
//   - transport: WithTLSConfig, WithHTTPClient, WithSOAPClient, WithSOAPOptions, WithPlainHTTPEndpoint;
//   - observability and tests: WithLogger, WithTracerProvider, WithMeterProvider, WithClock.
//
// Per call, methods take esimgw.CallOption values: WithFunctionCallIdentifier, WithCallValidityPeriod,
// WithCallProviderEntityID, WithCallReplyTo. Dispatcher and callback-server options are other types
// (esimgw.DispatcherOption, callback.Option), so one given here does not compile.
func NewClient(endpoint string, opts ...esimgw.Option) (*Client, error) {
	fns, err := lookupFunctions()
	if err != nil {
		return nil, err
	}
	engine, err := esimgw.NewClient(string(rps.ES4), endpoint, opts...)
	if err != nil {
		return nil, err
	}
	return &Client{engine: engine, fn: fns}, nil
}

// Engine is the shared esimgw engine behind the client: for its Dispatcher, or to call a function this
// package does not cover yet with Engine().Call / esimgw.StartOperation.
func (c *Client) Engine() *esimgw.Client { return c.engine }

// ResultOperation is the pending result of an asynchronous function that returns no data of its own.
//
// Deprecated: the methods return *esimgw.Operation[*esimgw.Result], as es2's do; this alias of it goes
// away in a later v0 release.
type ResultOperation = esimgw.Operation[*esimgw.Result]

// EISOperation is the pending result of AuditEIS.
//
// Deprecated: AuditEIS returns *esimgw.Operation[*esimgw.EISResult]; this alias of it goes away in a
// later v0 release.
type EISOperation = esimgw.Operation[*esimgw.EISResult]

// GetEIS (SGP.02 5.5.1, synchronous) returns the eUICC Information Set the SM-SR holds for eid, as of its
// last audit. Use AuditEIS to have the SM-SR read the eUICC again first. KPN serves it only on request.
func (c *Client) GetEIS(ctx context.Context, eid string, opts ...esimgw.CallOption) (*esimgw.EISResult, error) {
	if err := esimgw.ValidateEID(eid); err != nil {
		return nil, err
	}
	g := new(getEISCall)
	g.req.Eid = decodeEID(&g.eid, eid)
	return esimgw.CallResult(ctx, c.engine, c.fn.getEIS, &g.req, &g.resp, esimgw.EISResultOf, opts...)
}

// getEISCall is what a GetEIS allocates besides its result, in one allocation: the request, its EID's
// octets and the response, which the result copies from (its EIS is decoded apart) and does not keep.
type getEISCall struct {
	req  rps.ES4GetEISRequest
	resp rps.ES4GetEISResponse
	eid  [16]byte
}

// decodeEID returns the octets of eid, which ValidateEID accepted (32 hexadecimal digits), in dst:
// what esimgw.ParseEID returns, without an allocation of its own.
func decodeEID(dst *[16]byte, eid string) rps.HexBinary {
	_ = eid[31]
	for i := range dst {
		dst[i] = hexValue[eid[2*i]]<<4 | hexValue[eid[2*i+1]]
	}
	return dst[:]
}

// hexValue holds the value of each hexadecimal digit, of either case (0 for other bytes).
var hexValue = func() (t [256]byte) {
	for c := range 10 {
		t['0'+c] = byte(c)
	}
	for c := range 6 {
		t['a'+c], t['A'+c] = byte(10+c), byte(10+c)
	}
	return t
}()

// UpdatePolicyRules (5.5.2, synchronous) replaces the POL2 policy rules of profile iccid. Every rule must
// have Subject PROFILE; an empty pol2 clears the rules. KPN serves it only on request.
func (c *Client) UpdatePolicyRules(ctx context.Context, eid, iccid string, pol2 rps.POL2Type, opts ...esimgw.CallOption) (*esimgw.Result, error) {
	e, err := esimgw.ValidateProfile(eid, iccid)
	if err = cmp.Or(err, esimgw.ValidatePOL2(&pol2)); err != nil {
		return nil, err
	}
	req := &rps.ES4UpdatePolicyRulesRequest{Eid: e, Iccid: iccid, Pol2: pol2}
	return esimgw.CallResult(ctx, c.engine, c.fn.updatePolicyRules, req, &rps.ES4UpdatePolicyRulesResponse{}, esimgw.ResultOf, opts...)
}

// UpdateSubscriptionAddress (5.5.3, synchronous) sets the IMSI and/or MSISDN the SM-SR records for profile
// iccid. KPN serves it only on request.
func (c *Client) UpdateSubscriptionAddress(ctx context.Context, eid, iccid string, addr rps.SubscriptionAddressType, opts ...esimgw.CallOption) (*esimgw.Result, error) {
	e, err := esimgw.ValidateProfile(eid, iccid)
	if err = cmp.Or(err, esimgw.ValidateSubscriptionAddress(addr)); err != nil {
		return nil, err
	}
	req := &rps.ES4UpdateSubscriptionAddressRequest{Eid: e, Iccid: iccid, NewSubscriptionAddress: addr}
	return esimgw.CallResult(ctx, c.engine, c.fn.updateSubscriptionAddress, req, &rps.ES4UpdateSubscriptionAddressResponse{}, esimgw.ResultOf, opts...)
}

// AuditEIS (5.5.4, asynchronous; served by KPN) has the SM-SR read the eUICC and returns the refreshed EIS.
// iccids limits the audit to those profiles; nil audits them all. (A slice, not variadic, so that per-call
// options still fit.)
func (c *Client) AuditEIS(ctx context.Context, eid string, iccids []string, opts ...esimgw.CallOption) (*esimgw.Operation[*esimgw.EISResult], error) {
	e, err := esimgw.ParseEID(eid)
	if err = cmp.Or(err, validateICCIDs(iccids)); err != nil {
		return nil, err
	}
	req := &rps.ES4AuditEISRequest{Eid: e, Iccid: iccids}
	return esimgw.StartOperation(ctx, c.engine, c.fn.auditEIS, req, &rps.ES4AuditEISResponse{}, esimgw.EISResultOf, opts...)
}

// EnableProfile (5.5.5, asynchronous; served by KPN) enables profile iccid, disabling the one enabled
// before. Completion comes from the returned operation only: KPN sends no HandleProfileEnabledNotification
// for an enable you asked for (docs/kpn.md R9).
func (c *Client) EnableProfile(ctx context.Context, eid, iccid string, opts ...esimgw.CallOption) (*esimgw.Operation[*esimgw.Result], error) {
	return c.start(ctx, c.fn.enableProfile, eid, esimgw.ValidateICCID(iccid), func(e rps.HexBinary) (rps.Request, rps.Response) {
		return &rps.ES4EnableProfileRequest{Eid: e, Iccid: iccid}, &rps.ES4EnableProfileResponse{}
	}, opts)
}

// DisableProfile (5.5.6, asynchronous) disables profile iccid; the eUICC then falls back to the profile
// with the fall-back attribute. KPN serves it only on request.
func (c *Client) DisableProfile(ctx context.Context, eid, iccid string, opts ...esimgw.CallOption) (*esimgw.Operation[*esimgw.Result], error) {
	return c.start(ctx, c.fn.disableProfile, eid, esimgw.ValidateICCID(iccid), func(e rps.HexBinary) (rps.Request, rps.Response) {
		return &rps.ES4DisableProfileRequest{Eid: e, Iccid: iccid}, &rps.ES4DisableProfileResponse{}
	}, opts)
}

// DeleteProfile (5.5.7, asynchronous) deletes the disabled profile iccid from the eUICC. KPN serves it
// only on request.
func (c *Client) DeleteProfile(ctx context.Context, eid, iccid string, opts ...esimgw.CallOption) (*esimgw.Operation[*esimgw.Result], error) {
	return c.start(ctx, c.fn.deleteProfile, eid, esimgw.ValidateICCID(iccid), func(e rps.HexBinary) (rps.Request, rps.Response) {
		return &rps.ES4DeleteProfileRequest{Eid: e, Iccid: iccid}, &rps.ES4DeleteProfileResponse{}
	}, opts)
}

// SetFallBackAttribute (5.5.21, SGP.02 v4.0, asynchronous; served by KPN) gives profile iccid the
// fall-back attribute, taking it from the profile that had it. Its element names are inferred (no public
// schema has them; see rps.ES4SetFallBackAttributeRequest).
//
// KPN fixes its ValidityPeriod at 720 s whatever is asked (docs/kpn.md R10): with esimgw.WithKPN the client sends 720
// and logs a warning when a different period was asked for. The result can take that long, so wait with a
// deadline of at least esimgw.KPNSetFallBackValidity plus a margin for the callback's delivery and retries
// (say 720 s + 2 min); a shorter one abandons the operation and the late callback goes to the unmatched
// handler.
func (c *Client) SetFallBackAttribute(ctx context.Context, eid, iccid string, opts ...esimgw.CallOption) (*esimgw.Operation[*esimgw.Result], error) {
	return c.start(ctx, c.fn.setFallBackAttribute, eid, esimgw.ValidateICCID(iccid), func(e rps.HexBinary) (rps.Request, rps.Response) {
		return &rps.ES4SetFallBackAttributeRequest{Eid: e, Iccid: iccid}, &rps.ES4SetFallBackAttributeResponse{}
	}, opts)
}

// PrepareSMSRChange (5.5.8, asynchronous) asks the current SM-SR, currentSMSRID (its OID), to prepare the
// hand-over of eid to another SM-SR. KPN serves it only on request.
func (c *Client) PrepareSMSRChange(ctx context.Context, eid, currentSMSRID string, opts ...esimgw.CallOption) (*esimgw.Operation[*esimgw.Result], error) {
	return c.start(ctx, c.fn.prepareSMSRChange, eid, esimgw.ValidateOID("CurrentSMSRid", currentSMSRID), func(e rps.HexBinary) (rps.Request, rps.Response) {
		return &rps.ES4PrepareSMSRChangeRequest{Eid: e, CurrentSmsrID: currentSMSRID}, &rps.ES4PrepareSMSRChangeResponse{}
	}, opts)
}

// SMSRChange (5.5.9, asynchronous) moves eid to the SM-SR targetSMSRID (its OID); the client is then the
// new SM-SR's. KPN serves it only on request.
func (c *Client) SMSRChange(ctx context.Context, eid, targetSMSRID string, opts ...esimgw.CallOption) (*esimgw.Operation[*esimgw.Result], error) {
	return c.start(ctx, c.fn.smsrChange, eid, esimgw.ValidateOID("Target-Smsr-id", targetSMSRID), func(e rps.HexBinary) (rps.Request, rps.Response) {
		return &rps.ES4SMSRChangeRequest{Eid: e, TargetSmsrID: targetSMSRID}, &rps.ES4SMSRChangeResponse{}
	}, opts)
}

// start validates eid (then reports invalid, the result of the function's other validation), builds the
// request and response elements and sends the asynchronous function fn.
func (c *Client) start(ctx context.Context, fn rps.Function, eid string, invalid error,
	build func(eid rps.HexBinary) (rps.Request, rps.Response), opts []esimgw.CallOption) (*esimgw.Operation[*esimgw.Result], error) {
	e, err := esimgw.ParseEID(eid)
	if err = cmp.Or(err, invalid); err != nil {
		return nil, err
	}
	req, resp := build(e)
	return esimgw.StartOperation(ctx, c.engine, fn, req, resp, esimgw.ResultOf, opts...)
}

// profileFunctions are the asynchronous functions whose result is a *esimgw.Result.
var profileFunctions = []string{"EnableProfile", "DisableProfile", "DeleteProfile", "SetFallBackAttribute", "PrepareSMSRChange", "SMSRChange"}

// Resume returns the operation of an earlier EnableProfile, DisableProfile, DeleteProfile,
// SetFallBackAttribute, PrepareSMSRChange or SMSRChange call, by its FunctionCallIdentifier (or MessageID),
// from the Dispatcher's Store: after a restart, with a durable store (pgstore), Wait returns its result,
// at once if the callback arrived while nothing was running. Use ResumeAuditEIS for AuditEIS.
func (c *Client) Resume(ctx context.Context, functionCallIdentifier string) (*esimgw.Operation[*esimgw.Result], error) {
	return esimgw.ResumeOperation(ctx, c.engine, functionCallIdentifier, profileFunctions, esimgw.ResultOf)
}

// ResumeAuditEIS is Resume for an AuditEIS operation.
func (c *Client) ResumeAuditEIS(ctx context.Context, functionCallIdentifier string) (*esimgw.Operation[*esimgw.EISResult], error) {
	return esimgw.ResumeOperation(ctx, c.engine, functionCallIdentifier, []string{"AuditEIS"}, esimgw.EISResultOf)
}

package es2

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// Field names used in the *esimgw.ValidationError values this package returns, besides esimgw's (Eid,
// Iccid, ...). They are the wire element names.
const (
	FieldSmsrID             = "Smsr-id"
	FieldProfileType        = "ProfileType"
	FieldIccidOrProfileType = "Iccid|ProfileType"
)

// MaxProfileTypeLength bounds a ProfileType: the EIS reports it as String100, so a longer one could never be
// reported back.
const MaxProfileTypeLength = 100

// Client calls the ES2 functions of one SM-DP for the eUICCs of one SM-SR. It is safe for concurrent use.
// Several clients (one per SM-SR, or an es4.Client) can share a soap.Client (esimgw.WithSOAPClient) and a
// Dispatcher (esimgw.WithDispatcher).
type Client struct {
	engine *esimgw.Client
	smsrID string
	fns    map[string]rps.Function
}

// NewClient returns a client for the SM-DP at endpoint (e.g.
// https://rsp.kpnthings.com/esim-messaging/3/ES2/ES2SmDpService) managing eUICCs of the SM-SR smsrID. The
// SM-SR ID is required: it goes into every request and KPN checks access with it (docs/kpn.md).
//
// The options are esimgw.Option values (the same set for es4.NewClient and esimgw.NewClient):
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
func NewClient(endpoint, smsrID string, opts ...esimgw.Option) (*Client, error) {
	if err := esimgw.ValidateOID(FieldSmsrID, smsrID); err != nil {
		return nil, err
	}
	engine, err := esimgw.NewClient(string(rps.ES2), endpoint, opts...)
	if err != nil {
		return nil, err
	}
	fns := make(map[string]rps.Function)
	for _, f := range rps.Functions() {
		if f.Interface == rps.ES2 {
			fns[f.Name] = f
		}
	}
	return &Client{engine: engine, smsrID: smsrID, fns: fns}, nil
}

// SMSRID is the SM-SR ID sent in every request.
func (c *Client) SMSRID() string { return c.smsrID }

// Engine is the shared engine underneath, for functions this client does not cover.
func (c *Client) Engine() *esimgw.Client { return c.engine }

// fn returns the table row of an ES2 function; NewClient built the table, and every name used is in it
// (TestFunctionTable).
func (c *Client) fn(name string) rps.Function { return c.fns[name] }

// GetEIS (SGP.02 5.3.1, synchronous) returns the eUICC Information Set the SM-SR holds for eid. A FAILED
// answer is a *esimgw.FunctionError; EXECUTED_WITHWARNING is in the result's Warning.
func (c *Client) GetEIS(ctx context.Context, eid string, opts ...esimgw.CallOption) (*esimgw.EISResult, error) {
	e, err := esimgw.ParseEID(eid)
	if err != nil {
		return nil, err
	}
	req := &rps.ES2GetEISRequest{Eid: e, SmsrID: c.smsrID}
	return esimgw.CallResult(ctx, c.engine, c.fn("GetEIS"), req, new(rps.ES2GetEISResponse), esimgw.EISResultOf, opts...)
}

// DownloadRequest says what DownloadProfile downloads: the profile with ICCID Iccid, or one of type
// ProfileType chosen by the SM-DP (exactly one of the two), to the eUICC Eid; Enable asks the SM-DP to
// enable it once installed (ThingSpace's download_enable, as opposed to download_disable).
type DownloadRequest struct {
	Eid         string
	Iccid       string
	ProfileType string
	Enable      bool
}

// Validate checks the request as DownloadProfile does before sending it; errors are *esimgw.ValidationError.
func (r DownloadRequest) Validate() error {
	_, err := r.parse()
	return err
}

func (r DownloadRequest) parse() (rps.HexBinary, error) {
	eid, err := esimgw.ParseEID(r.Eid)
	if err != nil {
		return nil, err
	}
	switch {
	case r.Iccid != "" && r.ProfileType != "":
		return nil, &esimgw.ValidationError{Field: FieldIccidOrProfileType, Value: r.Iccid + "|" + r.ProfileType,
			Rule: "give exactly one of Iccid and ProfileType, not both"}
	case r.Iccid == "" && r.ProfileType == "":
		return nil, &esimgw.ValidationError{Field: FieldIccidOrProfileType,
			Rule: "give exactly one of Iccid and ProfileType: neither was given"}
	case r.Iccid != "":
		return eid, esimgw.ValidateICCID(r.Iccid)
	}
	return eid, ValidateProfileType(r.ProfileType)
}

// ValidateProfileType checks a ProfileType: 1 to MaxProfileTypeLength characters of valid UTF-8, no control
// characters, no surrounding blanks (the SM-DP matches it exactly).
func ValidateProfileType(pt string) error {
	invalid := func(rule string) error {
		return &esimgw.ValidationError{Field: FieldProfileType, Value: pt, Rule: rule}
	}
	switch {
	case !utf8.ValidString(pt):
		return invalid("must be valid UTF-8")
	case strings.TrimSpace(pt) != pt:
		return invalid("must not start or end with blanks")
	case pt == "":
		return invalid("must not be empty")
	case utf8.RuneCountInString(pt) > MaxProfileTypeLength:
		return invalid(fmt.Sprintf("must be at most %d characters", MaxProfileTypeLength))
	}
	for _, r := range pt {
		if r < 0x20 || r == 0x7f {
			return invalid("must not contain control characters")
		}
	}
	return nil
}

// DownloadProfile (5.3.2, asynchronous) asks the SM-DP to download a profile to an eUICC, and with
// r.Enable to enable it. The operation's result names the ICCID downloaded, which the SM-DP chose when r
// gave a ProfileType.
func (c *Client) DownloadProfile(ctx context.Context, r DownloadRequest, opts ...esimgw.CallOption) (*esimgw.Operation[*esimgw.DownloadResult], error) {
	return startDownload(ctx, c, r, func(resp rps.Response, warn *esimgw.Warning, err error) (*esimgw.DownloadResult, error) {
		return downloadResultOf(resp, warn, err, r.Iccid)
	}, opts)
}

// startDownload validates r and sends DownloadProfile; convert makes the operation's result.
func startDownload[T any](ctx context.Context, c *Client, r DownloadRequest, convert func(rps.Response, *esimgw.Warning, error) (T, error), opts []esimgw.CallOption) (*esimgw.Operation[T], error) {
	eid, err := r.parse()
	if err != nil {
		return nil, err
	}
	req := &rps.ES2DownloadProfileRequest{Eid: eid, SmsrID: c.smsrID, ProfileType: r.ProfileType, Iccid: r.Iccid, EnableProfile: r.Enable}
	return esimgw.StartOperation(ctx, c.engine, c.fn("DownloadProfile"), req, new(rps.ES2DownloadProfileResponse), convert, opts...)
}

// downloadResultOf converts a DownloadProfile callback; the ICCID is the callback's, else the one asked for.
func downloadResultOf(resp rps.Response, warn *esimgw.Warning, err error, asked string) (*esimgw.DownloadResult, error) {
	r, err := esimgw.ResultOf(resp, warn, err)
	if r == nil {
		if err == nil {
			err = fmt.Errorf("%w: no DownloadProfile result", esimgw.ErrUnexpectedResponse)
		}
		return nil, err
	}
	out := &esimgw.DownloadResult{Result: *r, Iccid: asked}
	if d, ok := resp.(*rps.ES2DownloadProfileResponse); ok && d.Iccid != "" {
		out.Iccid = d.Iccid
	}
	return out, err
}

// UpdatePolicyRules (5.3.3, synchronous) replaces the POL2 rules of a profile. pol2 is taken by
// value, as es4's UpdatePolicyRules takes it; one without rules is sent as no pol2 element, which the ES2
// schema allows (ES4 requires the element and gets an empty one).
func (c *Client) UpdatePolicyRules(ctx context.Context, eid, iccid string, pol2 rps.POL2Type, opts ...esimgw.CallOption) (*esimgw.Result, error) {
	e, err := esimgw.ValidateProfile(eid, iccid)
	if err == nil {
		err = esimgw.ValidatePOL2(&pol2)
	}
	if err != nil {
		return nil, err
	}
	req := &rps.ES2UpdatePolicyRulesRequest{Eid: e, Iccid: iccid, SmsrID: c.smsrID}
	if len(pol2.Rule) > 0 {
		req.Pol2 = &pol2
	}
	return esimgw.CallResult(ctx, c.engine, c.fn("UpdatePolicyRules"), req, new(rps.ES2UpdatePolicyRulesResponse), esimgw.ResultOf, opts...)
}

// UpdateSubscriptionAddress (5.3.4, synchronous) changes the IMSI and/or MSISDN recorded for a profile.
func (c *Client) UpdateSubscriptionAddress(ctx context.Context, eid, iccid string, addr rps.SubscriptionAddressType, opts ...esimgw.CallOption) (*esimgw.Result, error) {
	e, err := esimgw.ValidateProfile(eid, iccid)
	if err == nil {
		err = esimgw.ValidateSubscriptionAddress(addr)
	}
	if err != nil {
		return nil, err
	}
	req := &rps.ES2UpdateSubscriptionAddressRequest{Eid: e, SmsrID: c.smsrID, Iccid: iccid, NewSubscriptionAddress: addr}
	return esimgw.CallResult(ctx, c.engine, c.fn("UpdateSubscriptionAddress"), req, new(rps.ES2UpdateSubscriptionAddressResponse), esimgw.ResultOf, opts...)
}

// EnableProfile (5.3.5, asynchronous) asks the SM-DP to have the SM-SR enable a profile. KPN sends no
// HandleProfileEnabledNotification for it (docs/kpn.md R9): its completion is the operation's.
func (c *Client) EnableProfile(ctx context.Context, eid, iccid string, opts ...esimgw.CallOption) (*esimgw.Operation[*esimgw.Result], error) {
	return c.profileOp(ctx, "EnableProfile", eid, iccid, func(e rps.HexBinary) (rps.Request, rps.Response) {
		return &rps.ES2EnableProfileRequest{Eid: e, SmsrID: c.smsrID, Iccid: iccid}, new(rps.ES2EnableProfileResponse)
	}, opts)
}

// DisableProfile (5.3.6, asynchronous) asks the SM-DP to have the SM-SR disable a profile.
func (c *Client) DisableProfile(ctx context.Context, eid, iccid string, opts ...esimgw.CallOption) (*esimgw.Operation[*esimgw.Result], error) {
	return c.profileOp(ctx, "DisableProfile", eid, iccid, func(e rps.HexBinary) (rps.Request, rps.Response) {
		return &rps.ES2DisableProfileRequest{Eid: e, SmsrID: c.smsrID, Iccid: iccid}, new(rps.ES2DisableProfileResponse)
	}, opts)
}

// DeleteProfile (5.3.7, asynchronous) asks the SM-DP to have the SM-SR delete a profile.
func (c *Client) DeleteProfile(ctx context.Context, eid, iccid string, opts ...esimgw.CallOption) (*esimgw.Operation[*esimgw.Result], error) {
	return c.profileOp(ctx, "DeleteProfile", eid, iccid, func(e rps.HexBinary) (rps.Request, rps.Response) {
		return &rps.ES2DeleteProfileRequest{Eid: e, Iccid: iccid, SmsrID: c.smsrID}, new(rps.ES2DeleteProfileResponse)
	}, opts)
}

// SetFallBackAttribute (SGP.02 v4.0, asynchronous) makes a profile the eUICC's fall-back profile. With
// esimgw.WithKPN the ValidityPeriod is KPN's fixed 720 s (docs/kpn.md R10). The element names are inferred (no source
// publishes them).
func (c *Client) SetFallBackAttribute(ctx context.Context, eid, iccid string, opts ...esimgw.CallOption) (*esimgw.Operation[*esimgw.Result], error) {
	return c.profileOp(ctx, "SetFallBackAttribute", eid, iccid, func(e rps.HexBinary) (rps.Request, rps.Response) {
		return &rps.ES2SetFallBackAttributeRequest{Eid: e, SmsrID: c.smsrID, Iccid: iccid}, new(rps.ES2SetFallBackAttributeResponse)
	}, opts)
}

// profileOp is the shape of every asynchronous function on one profile: validate EID and ICCID, build the
// request with the EID's bytes, start it with an *esimgw.Result.
func (c *Client) profileOp(ctx context.Context, name, eid, iccid string, build func(rps.HexBinary) (rps.Request, rps.Response), opts []esimgw.CallOption) (*esimgw.Operation[*esimgw.Result], error) {
	e, err := esimgw.ValidateProfile(eid, iccid)
	if err != nil {
		return nil, err
	}
	req, resp := build(e)
	return esimgw.StartOperation(ctx, c.engine, c.fn(name), req, resp, esimgw.ResultOf, opts...)
}

// Resume returns the operation of an earlier EnableProfile, DisableProfile, DeleteProfile or
// SetFallBackAttribute call, by its FunctionCallIdentifier (or MessageID), from the Dispatcher's Store:
// after a restart, with a durable store (pgstore), Wait returns its result, at once if the callback
// arrived while nothing was running. Use ResumeDownloadProfile for DownloadProfile.
func (c *Client) Resume(ctx context.Context, functionCallIdentifier string) (*esimgw.Operation[*esimgw.Result], error) {
	return esimgw.ResumeOperation(ctx, c.engine, functionCallIdentifier,
		[]string{"EnableProfile", "DisableProfile", "DeleteProfile", "SetFallBackAttribute"}, esimgw.ResultOf)
}

// ResumeDownloadProfile is Resume for a DownloadProfile operation. The result's Iccid is the one the
// SM-DP reports (the request's is not stored).
func (c *Client) ResumeDownloadProfile(ctx context.Context, functionCallIdentifier string) (*esimgw.Operation[*esimgw.DownloadResult], error) {
	return esimgw.ResumeOperation(ctx, c.engine, functionCallIdentifier, []string{"DownloadProfile"},
		func(resp rps.Response, warn *esimgw.Warning, err error) (*esimgw.DownloadResult, error) {
			return downloadResultOf(resp, warn, err, "")
		})
}

package esimgw

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/esimgw/esimgw/wsdl/rps"
)

// Result is what a successful ES2/ES4 function returns besides its own data.
type Result struct {
	Warning           *Warning  // set for EXECUTED_WITHWARNING
	EuiccResponseData []byte    // the eUICC's detailed response data (ES8), when sent
	ProcessingStart   time.Time // zero when the gateway did not say
	ProcessingEnd     time.Time
	// Err is the *FunctionError of a FAILED or EXPIRED result: the same error Wait and synchronous calls
	// return next to the result, kept so that Outcome reports it.
	Err error
}

// EISResult is the result of GetEIS and AuditEIS.
type EISResult struct {
	Result
	EIS *rps.EISType // nil when the gateway sent none
}

// DownloadResult is the result of ES2 DownloadProfile.
type DownloadResult struct {
	Result
	Iccid string // the ICCID of the downloaded profile (chosen by the SM-DP when downloading by ProfileType)
}

// Outcome flattens the result into the one row REST platforms show per device.
func (r *Result) Outcome() Outcome { return OutcomeOf(r.Warning, r.Err) }

// ResultOf converts a decoded response into a *Result; it has the signature StartOperation expects.
func ResultOf(resp rps.Response, warn *Warning, err error) (*Result, error) {
	if resp == nil {
		return nil, err
	}
	r := new(Result)
	fillResult(r, resp, warn, err)
	return r, err
}

// fillResult is ResultOf into a Result of the caller's: a result type that embeds Result then takes one
// allocation, not two.
func fillResult(r *Result, resp rps.Response, warn *Warning, err error) {
	*r = Result{Warning: warn, Err: err}
	base := resp.ResponseBase()
	if base.ProcessingStart != nil {
		r.ProcessingStart = base.ProcessingStart.Time
	}
	if base.ProcessingEnd != nil {
		r.ProcessingEnd = base.ProcessingEnd.Time
	}
	if e, ok := resp.(rps.EuiccResponder); ok && len(e.EuiccResponse()) > 0 {
		r.EuiccResponseData = e.EuiccResponse()
	}
}

// EISResultOf converts a GetEIS or AuditEIS response; it has the signature StartOperation expects.
func EISResultOf(resp rps.Response, warn *Warning, err error) (*EISResult, error) {
	if resp == nil {
		return nil, err
	}
	out := new(EISResult)
	fillResult(&out.Result, resp, warn, err)
	if e, ok := resp.(rps.EISResponder); ok {
		out.EIS = e.EISData()
	}
	return out, err
}

// ParseEID validates eid (ValidateEID) and returns its bytes for a request element.
func ParseEID(eid string) (rps.HexBinary, error) {
	if err := ValidateEID(eid); err != nil {
		return nil, err
	}
	return rps.ParseHexBinary(eid)
}

// ValidateProfile validates the EID and ICCID every profile function takes and returns the EID's bytes.
func ValidateProfile(eid, iccid string) (rps.HexBinary, error) {
	e, err := ParseEID(eid)
	if err != nil {
		return nil, err
	}
	return e, ValidateICCID(iccid)
}

// CallResult is the synchronous twin of StartOperation: it calls a synchronous function and converts its
// response. A FAILED or EXPIRED answer returns the converted result together with the *FunctionError
// (carrying the call's FunctionCallIdentifier), as an Operation's Wait does.
func CallResult[T any](ctx context.Context, c *Client, fn rps.Function, req rps.Request, resp rps.Response,
	convert func(rps.Response, *Warning, error) (T, error), opts ...CallOption) (T, error) {
	var x Exchange
	answered, err := c.call(ctx, &fn, req, resp, opts, &x)
	if x.Response != nil {
		// The Exchange stops here and resp holds copies: the envelope's memory can serve the next call.
		x.Response.Release()
		x.Response = nil
	}
	if err != nil {
		var fe *FunctionError
		if answered && errors.As(err, &fe) {
			if fe.FunctionCallIdentifier == "" {
				fe.FunctionCallIdentifier = x.Key.FunctionCallIdentifier
			}
			return convert(resp, nil, err)
		}
		var zero T
		return zero, err
	}
	return convert(resp, x.Warning, nil)
}

// ValidatePOL2 checks every POL2 rule against the schema's enumerations, so that a typo is refused here
// rather than by the gateway's schema validation (or, worse, taken as another rule). nil (no pol2 element,
// which ES2 allows) is valid.
func ValidatePOL2(p *rps.POL2Type) error {
	if p == nil {
		return nil
	}
	for i, r := range p.Rule {
		field := "pol2/Rule[" + strconv.Itoa(i+1) + "]/"
		switch {
		case r.Subject != rps.POL2SubjectTypePROFILE:
			return &ValidationError{Field: field + "Subject", Value: string(r.Subject), Rule: "must be PROFILE"}
		case r.Action != rps.POL2ActionTypeENABLE && r.Action != rps.POL2ActionTypeDISABLE && r.Action != rps.POL2ActionTypeDELETE:
			return &ValidationError{Field: field + "Action", Value: string(r.Action), Rule: "must be ENABLE, DISABLE or DELETE"}
		case r.Qualification != rps.POL2QualificationTypeNotAllowed && r.Qualification != rps.POL2QualificationTypeAutoDelete:
			return &ValidationError{Field: field + "Qualification", Value: string(r.Qualification), Rule: "must be Not-Allowed or Auto-Delete"}
		}
	}
	return nil
}

// ValidateSubscriptionAddress checks a new subscription address: Imsi \d{0,15}, Msisdn \d{3,15}. Both are
// optional in the schema, but an update that sets neither changes nothing and is refused as a mistake.
func ValidateSubscriptionAddress(a rps.SubscriptionAddressType) error {
	const decimal = "0123456789"
	switch {
	case a.Imsi == "" && a.Msisdn == "":
		return &ValidationError{Field: "newSubscriptionAddress", Rule: "give an Imsi, an Msisdn or both"}
	case len(a.Imsi) > 15 || strings.Trim(a.Imsi, decimal) != "":
		return &ValidationError{Field: "Imsi", Value: a.Imsi, Rule: "must be at most 15 decimal digits"}
	case a.Msisdn != "" && (len(a.Msisdn) < 3 || len(a.Msisdn) > 15 || strings.Trim(a.Msisdn, decimal) != ""):
		return &ValidationError{Field: "Msisdn", Value: a.Msisdn, Rule: "must be 3 to 15 decimal digits"}
	}
	return nil
}

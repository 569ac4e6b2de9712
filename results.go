package esimgw

import (
	"time"

	"github.com/esimgw/esimgw/wsdl/rps"
)

// Result is what a successful ES2/ES4 function returns besides its own data.
type Result struct {
	Warning           *Warning  // set for EXECUTED_WITHWARNING
	EuiccResponseData []byte    // the eUICC's detailed response data (ES8), when sent
	ProcessingStart   time.Time // zero when the gateway did not say
	ProcessingEnd     time.Time
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
func (r *Result) Outcome() Outcome { return OutcomeOf(r.Warning, nil) }

// ResultOf converts a decoded response into a *Result; it has the signature StartOperation expects.
func ResultOf(resp rps.Response, warn *Warning, err error) (*Result, error) {
	if resp == nil {
		return nil, err
	}
	r := &Result{Warning: warn}
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
	return r, err
}

// EISResultOf converts a GetEIS or AuditEIS response; it has the signature StartOperation expects.
func EISResultOf(resp rps.Response, warn *Warning, err error) (*EISResult, error) {
	r, err := ResultOf(resp, warn, err)
	if r == nil {
		return nil, err
	}
	out := &EISResult{Result: *r}
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

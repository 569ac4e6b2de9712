package thingspace

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/esimgw/esimgw"
)

// DeviceID is one identifier of a device: Kind "eid", "iccid", "imei" (ThingSpace capitalises the kinds
// in some places and not in others; compare with strings.EqualFold) and its value.
type DeviceID struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

// DeviceProfileResponse is a callback's deviceResponse.deviceProfileResponse: the eUICC's answer to a
// profile action.
type DeviceProfileResponse struct {
	DeviceIdentifierCollection []DeviceID `json:"deviceIdentifierCollection,omitempty"`
	IPAddress                  string     `json:"ipAddress,omitempty"`
	State                      string     `json:"state,omitempty"`
	ServicePlan                string     `json:"servicePlan,omitempty"`
	SMSROID                    string     `json:"smsrOid,omitempty"`
	ProfileStatus              string     `json:"profileStatus,omitempty"` // DOWNLOAD_ENABLE, ENABLE, ...
	EuiccStatus                string     `json:"euiccStatus,omitempty"`   // EXECUTED_SUCCESS, EXECUTED_WITHWARNING, FAILED ...
	EuiccStatusCode            string     `json:"euiccStatusCode,omitempty"`
	EuiccStatusDesc            string     `json:"euiccStatusDesc,omitempty"`
	// EuiccErrorCode and EuiccErrorDesc carry an SM-SR or SM-DP error ("Subject,Reason" and a text).
	EuiccErrorCode                  string `json:"euiccErrorCode,omitempty"`
	EuiccErrorDesc                  string `json:"euiccErrorDesc,omitempty"`
	EuiccSubAddressUpdateStatus     string `json:"euiccSubAddressUpdateStatus,omitempty"`
	EuiccSubAddressUpdateStatusCode string `json:"euiccSubAddressUpdateStatusCode,omitempty"`
	EuiccSubAddressUpdateStatusDesc string `json:"euiccSubAddressUpdateStatusDesc,omitempty"`
}

// DeviceResponse is a callback's deviceResponse.
type DeviceResponse struct {
	DeviceProfileResponse *DeviceProfileResponse `json:"deviceProfileResponse,omitempty"`
}

// Callback is one DeviceProfileService callback as ThingSpace posts it (docs/carriers.md): one device's
// result of the request RequestID.
type Callback struct {
	// Username and Password are the credentials given at registration, echoed back; the receiver checks
	// them and they never appear in logs or in String.
	Username             string          `json:"username"`
	Password             string          `json:"password"`
	RequestID            string          `json:"requestId"`
	DeviceIDs            []DeviceID      `json:"deviceIds,omitempty"`
	DeviceResponse       *DeviceResponse `json:"deviceResponse,omitempty"`
	Status               string          `json:"status,omitempty"` // "Success", ...
	CallbackCount        int             `json:"callbackCount,omitempty"`
	MaxCallbackThreshold int             `json:"maxCallbackThreshold,omitempty"`

	// Account is the account the callback was authenticated for (set by the receiver, not sent).
	Account string `json:"-"`
}

// Limits on a callback, beyond which it is refused as malformed: far above anything ThingSpace sends.
const (
	MaxCallbackBytes = 64 << 10
	maxFieldLength   = 1024
	maxDeviceIDs     = 16
)

// ErrMalformedCallback is wrapped by DecodeCallback's errors.
var ErrMalformedCallback = errors.New("thingspace: malformed callback")

// DecodeCallback reads a callback body. It refuses (wrapping ErrMalformedCallback) what is not one JSON
// object, has no requestId, is longer than MaxCallbackBytes or carries absurdly long values; unknown
// fields are ignored, since ThingSpace adds fields over time.
func DecodeCallback(body []byte) (*Callback, error) {
	if len(body) > MaxCallbackBytes {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformedCallback, len(body), MaxCallbackBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var cb Callback
	if err := dec.Decode(&cb); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedCallback, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrMalformedCallback)
	}
	if strings.TrimSpace(cb.RequestID) == "" {
		return nil, fmt.Errorf("%w: no requestId", ErrMalformedCallback)
	}
	if len(cb.DeviceIDs) > maxDeviceIDs {
		return nil, fmt.Errorf("%w: %d deviceIds", ErrMalformedCallback, len(cb.DeviceIDs))
	}
	fields := []string{cb.Username, cb.Password, cb.RequestID, cb.Status}
	for _, d := range cb.DeviceIDs {
		fields = append(fields, d.Kind, d.ID)
	}
	if p := cb.profileResponse(); p != nil {
		if len(p.DeviceIdentifierCollection) > maxDeviceIDs {
			return nil, fmt.Errorf("%w: %d deviceIdentifierCollection entries", ErrMalformedCallback, len(p.DeviceIdentifierCollection))
		}
		fields = append(fields, p.EuiccStatus, p.EuiccStatusCode, p.EuiccErrorCode, p.ProfileStatus, p.SMSROID)
		for _, d := range p.DeviceIdentifierCollection {
			fields = append(fields, d.Kind, d.ID)
		}
	}
	for _, f := range fields {
		if len(f) > maxFieldLength {
			return nil, fmt.Errorf("%w: a value of %d bytes", ErrMalformedCallback, len(f))
		}
		if !utf8.ValidString(f) {
			return nil, fmt.Errorf("%w: invalid UTF-8", ErrMalformedCallback)
		}
	}
	if cb.CallbackCount < 0 || cb.MaxCallbackThreshold < 0 {
		return nil, fmt.Errorf("%w: negative callbackCount", ErrMalformedCallback)
	}
	return &cb, nil
}

func (cb *Callback) profileResponse() *DeviceProfileResponse {
	if cb.DeviceResponse == nil {
		return nil
	}
	return cb.DeviceResponse.DeviceProfileResponse
}

// Device returns the value of the device identifier of kind ("eid", "iccid", "imei"), looking first in
// the profile response's deviceIdentifierCollection (which names the profile acted on), then in
// deviceIds; "" when neither has one.
func (cb *Callback) Device(kind string) string {
	if p := cb.profileResponse(); p != nil {
		for _, d := range p.DeviceIdentifierCollection {
			if strings.EqualFold(d.Kind, kind) {
				return d.ID
			}
		}
	}
	for _, d := range cb.DeviceIDs {
		if strings.EqualFold(d.Kind, kind) {
			return d.ID
		}
	}
	return ""
}

// ExecutionStatus maps the callback to the SGP.02 status the ES2/ES4 clients report: euiccStatus read
// with esimgw.ParseStatus, Subject and Reason split from euiccStatusCode ("8.2.1,3.9"), or from
// euiccErrorCode when the status code is absent, Message the matching description. A callback with no
// euiccStatus is EXECUTED_SUCCESS when its status is "Success" and FAILED otherwise.
func (cb *Callback) ExecutionStatus() esimgw.ExecutionStatus {
	var st esimgw.ExecutionStatus
	p := cb.profileResponse()
	if p == nil {
		p = &DeviceProfileResponse{}
	}
	if p.EuiccStatus != "" {
		st.Status, _ = esimgw.ParseStatus(p.EuiccStatus)
	} else if strings.EqualFold(strings.TrimSpace(cb.Status), "Success") {
		st.Status = esimgw.StatusExecutedSuccess
	} else {
		st.Status = esimgw.StatusFailed
	}
	code, desc := p.EuiccStatusCode, p.EuiccStatusDesc
	if p.EuiccErrorCode != "" && (code == "" || !st.Status.Succeeded()) {
		code, desc = p.EuiccErrorCode, p.EuiccErrorDesc
	}
	if st.Status == esimgw.StatusExecutedSuccess && !strings.Contains(code, ",") {
		// Success codes such as 1.2.365 are no Subject,Reason pair; they are kept as the message only.
		st.Message = strings.TrimSpace(code + " " + desc)
		return st
	}
	subject, reason, _ := strings.Cut(code, ",")
	st.Subject, st.Reason = strings.TrimSpace(subject), strings.TrimSpace(reason)
	st.SubjectIdentifier = cb.Device("iccid")
	st.Message = desc
	if st.Message == "" && !strings.EqualFold(cb.Status, "Success") {
		st.Message = cb.Status
	}
	return st
}

// String describes the callback for logs, without its credentials.
func (cb *Callback) String() string {
	st := cb.ExecutionStatus()
	return fmt.Sprintf("ThingSpace callback requestId=%q eid=%q iccid=%q %s (attempt %d of %d)",
		cb.RequestID, cb.Device("eid"), cb.Device("iccid"), st.String(), cb.CallbackCount, cb.MaxCallbackThreshold)
}

// dedupKey names one distinct callback of a request: ThingSpace's retries of it repeat it exactly but
// for callbackCount, while the warning and the final result of a timed-out device differ in status.
func (cb *Callback) dedupKey() string {
	st := cb.ExecutionStatus()
	return cb.RequestID + "|" + strings.ToUpper(cb.Device("eid")) + "|" + cb.Device("iccid") + "|" +
		string(st.Status.Canonical()) + "|" + st.Code()
}

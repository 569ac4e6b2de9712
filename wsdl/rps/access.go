package rps

// Hand-written accessors the esimgw engine uses to treat every request, response and notification alike.
// The bases are embedded by value, so these methods are promoted to every element that extends them.

// RequestBase gives the common fields of any request element (FunctionCallIdentifier, ValidityPeriod).
func (b *BaseRequestType) RequestBase() *BaseRequestType { return b }

// ResponseBase gives the common fields of any response element (FunctionExecutionStatus, ...).
func (b *BaseResponseType) ResponseBase() *BaseResponseType { return b }

// Request is any request element.
type Request interface {
	Element
	RequestBase() *BaseRequestType
}

// Response is any response element: a synchronous reply or an asynchronous callback.
type Response interface {
	Element
	ResponseBase() *BaseResponseType
}

// ProfileNotification is any of the ES2/ES4 HandleProfileEnabled/Disabled/Deleted notifications.
type ProfileNotification interface {
	Element
	ProfileChange() (eid HexBinary, iccid string, completed DateTime)
}

// SMSRChangeNotification is the ES2 or ES4 HandleSMSRChangeNotification.
type SMSRChangeNotification interface {
	Element
	SMSRChange() (eis *EISType, completed DateTime)
}

// ProfileChange implements ProfileNotification.
func (n *ES2HandleProfileEnabledNotification) ProfileChange() (HexBinary, string, DateTime) {
	return n.Eid, n.Iccid, n.CompletionTimestamp
}

// ProfileChange implements ProfileNotification.
func (n *ES2HandleProfileDisabledNotification) ProfileChange() (HexBinary, string, DateTime) {
	return n.Eid, n.Iccid, n.CompletionTimestamp
}

// ProfileChange implements ProfileNotification.
func (n *ES2HandleProfileDeletedNotification) ProfileChange() (HexBinary, string, DateTime) {
	return n.Eid, n.Iccid, n.CompletionTimestamp
}

// ProfileChange implements ProfileNotification.
func (n *ES4HandleProfileEnabledNotification) ProfileChange() (HexBinary, string, DateTime) {
	return n.Eid, n.Iccid, n.CompletionTimestamp
}

// ProfileChange implements ProfileNotification.
func (n *ES4HandleProfileDisabledNotification) ProfileChange() (HexBinary, string, DateTime) {
	return n.Eid, n.Iccid, n.CompletionTimestamp
}

// ProfileChange implements ProfileNotification.
func (n *ES4HandleProfileDeletedNotification) ProfileChange() (HexBinary, string, DateTime) {
	return n.Eid, n.Iccid, n.CompletionTimestamp
}

// SMSRChange implements SMSRChangeNotification.
func (n *ES2HandleSMSRChangeNotification) SMSRChange() (*EISType, DateTime) {
	return &n.Eis, n.CompletionTimestamp
}

// SMSRChange implements SMSRChangeNotification.
func (n *ES4HandleSMSRChangeNotification) SMSRChange() (*EISType, DateTime) {
	return &n.Eis, n.CompletionTimestamp
}

// EuiccResponder is a response that may carry EuiccResponseData: the eUICC's detailed error data (ES8).
type EuiccResponder interface {
	Response
	EuiccResponse() HexBinary
}

// EuiccResponse implements EuiccResponder.
func (r *ES2DownloadProfileResponse) EuiccResponse() HexBinary { return r.EuiccResponseData }

// EuiccResponse implements EuiccResponder.
func (r *ES2EnableProfileResponse) EuiccResponse() HexBinary { return r.EuiccResponseData }

// EuiccResponse implements EuiccResponder.
func (r *ES2DisableProfileResponse) EuiccResponse() HexBinary { return r.EuiccResponseData }

// EuiccResponse implements EuiccResponder.
func (r *ES2DeleteProfileResponse) EuiccResponse() HexBinary { return r.EuiccResponseData }

// EuiccResponse implements EuiccResponder.
func (r *ES4EnableProfileResponse) EuiccResponse() HexBinary { return r.EuiccResponseData }

// EuiccResponse implements EuiccResponder.
func (r *ES4DisableProfileResponse) EuiccResponse() HexBinary { return r.EuiccResponseData }

// EuiccResponse implements EuiccResponder.
func (r *ES4DeleteProfileResponse) EuiccResponse() HexBinary { return r.EuiccResponseData }

// EuiccResponse implements EuiccResponder.
func (r *ES4SetFallBackAttributeResponse) EuiccResponse() HexBinary { return r.EuiccResponseData }

// EISResponder is a response that carries an EIS: ES2/ES4 GetEIS and ES4 AuditEIS.
type EISResponder interface {
	Response
	EISData() *EISType
}

// EISData implements EISResponder.
func (r *ES2GetEISResponse) EISData() *EISType { return r.Eis }

// EISData implements EISResponder.
func (r *ES4GetEISResponse) EISData() *EISType { return r.Eis }

// EISData implements EISResponder.
func (r *ES4AuditEISResponse) EISData() *EISType { return r.Eis }

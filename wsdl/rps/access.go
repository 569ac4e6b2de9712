package rps

// The interfaces the esimgw engine and the mock use to treat every request, response and notification
// alike. The base accessors are here (the bases are embedded by value, so they are promoted to every
// element that extends them); the per-element methods are generated into access_gen.go by
// wsdl/internal/tablegen for every element whose fields have the interface's shape.

// RequestBase gives the common fields of any request element (FunctionCallIdentifier, ValidityPeriod).
func (b *BaseRequestType) RequestBase() *BaseRequestType { return b }

// ResponseBase gives the common fields of any response element (FunctionExecutionStatus, ...).
func (b *BaseResponseType) ResponseBase() *BaseResponseType { return b }

// Request is any request element.
type Request interface {
	Element
	RequestBase() *BaseRequestType
}

// EIDRequest is a request naming one eUICC by its Eid: every ES2 and ES4 function's request.
type EIDRequest interface {
	Request
	EID() HexBinary
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

// EuiccResponder is a response that may carry EuiccResponseData: the eUICC's detailed error data (ES8).
type EuiccResponder interface {
	Response
	EuiccResponse() HexBinary
}

// EISResponder is a response that carries an EIS: ES2/ES4 GetEIS and ES4 AuditEIS.
type EISResponder interface {
	Response
	EISData() *EISType
}

package esimgw

import "strings"

// Subject codes (StatusCodeData/Subject), docs/wire.md section 6.2. Only the
// codes confirmed by a source are listed; SubjectName knows the same set.
const (
	SubjectFunctionRequester   = "1.1"
	SubjectFunctionProvider    = "1.2"
	SubjectValidityPeriod      = "1.2.1"
	SubjectFunction            = "1.6"
	SubjectEUICC               = "8.1"
	SubjectEID                 = "8.1.1"
	SubjectProfile             = "8.2"
	SubjectProfileICCID        = "8.2.1"
	SubjectPOL1                = "8.2.2"
	SubjectPOL2                = "8.2.3"
	SubjectProfileType         = "8.2.5"
	SubjectSubscriptionAddress = "8.2.6"
	SubjectISDR                = "8.4"
	SubjectECASDCertificate    = "8.5.2"
	SubjectSMSRCertificate     = "8.5.3"
	SubjectEIS                 = "8.6"
	SubjectSMSR                = "8.7"
)

// Reason codes (StatusCodeData/Reason), docs/wire.md section 6.3, confirmed
// ones only. The unverified ones have names in
// ReasonName but deliberately no constants, so no code decides on them.
const (
	ReasonUnknownIdentity           = "1.1" // unknown (identification or authentication)
	ReasonNotAllowed                = "1.2" // not allowed (authorisation)
	ReasonInvalid                   = "2.1" // invalid; Message should name the parameter
	ReasonMandatoryElementMissing   = "2.2"
	ReasonConditionalElementMissing = "2.3"
	ReasonRefused                   = "3.8"
	ReasonUnknown                   = "3.9"
	ReasonExecutionError            = "4.2"
	ReasonBusy                      = "4.4"
	ReasonTTLExpired                = "5.3" // validity period ended, e.g. the eUICC was unreachable
	ReasonDeliveredWithNoResponse   = "5.4"
	ReasonExpired                   = "6.3" // certificate expired
)

// SubjectName returns the name of a subject code, e.g. "Profile ICCID" for
// "8.2.1", or "" when the code is not a confirmed one. Surrounding spaces are
// ignored.
func SubjectName(code string) string {
	switch strings.TrimSpace(code) {
	case SubjectFunctionRequester:
		return "Function requester"
	case SubjectFunctionProvider:
		return "Function provider"
	case SubjectValidityPeriod:
		return "Validity period"
	case SubjectFunction:
		return "Function"
	case SubjectEUICC:
		return "eUICC"
	case SubjectEID:
		return "EID"
	case SubjectProfile:
		return "Profile"
	case SubjectProfileICCID:
		return "Profile ICCID"
	case SubjectPOL1:
		return "POL1"
	case SubjectPOL2:
		return "POL2"
	case SubjectProfileType:
		return "Profile Type"
	case SubjectSubscriptionAddress:
		return "Subscription Address"
	case SubjectISDR:
		return "ISD-R"
	case SubjectECASDCertificate:
		return "eUICC certificate" // name uncertain; WHTY says "eUICC Certificate Authority Certification"
	case SubjectSMSRCertificate:
		return "SM-SR certificate"
	case SubjectEIS:
		return "EIS"
	case SubjectSMSR:
		return "SM-SR"
	}
	return ""
}

// ReasonName returns the lower-case name of a reason code, e.g. "unknown" for
// "3.9", or "" when the code is not known. Surrounding spaces are ignored.
func ReasonName(code string) string {
	switch strings.TrimSpace(code) {
	case ReasonUnknownIdentity:
		return "unknown"
	case ReasonNotAllowed:
		return "not allowed"
	case ReasonInvalid:
		return "invalid"
	case ReasonMandatoryElementMissing:
		return "mandatory element missing"
	case ReasonConditionalElementMissing:
		return "conditional element missing"
	case ReasonRefused:
		return "refused"
	case ReasonUnknown:
		return "unknown"
	case ReasonExecutionError:
		return "execution error"
	case ReasonBusy:
		return "busy"
	case ReasonTTLExpired:
		return "time to live expired"
	case ReasonDeliveredWithNoResponse:
		return "delivered with no response"
	case ReasonExpired:
		return "expired"

	// [U] Unverified: recollections from SGP.22's table (derived from
	// SGP.02's) and a value given in a brief; no source confirms them for
	// SGP.02. Display only; never branch on them.
	case "3.3": // [U]
		return "already in use"
	case "3.7": // [U]
		return "unavailable"
	case "4.8": // [U]
		return "insufficient memory"
	case "6.1": // [U]
		return "verification failed"
	case "6.4": // [U]
		return "time out"
	}
	return ""
}

// DescribeCode describes a subject/reason pair for people: "Profile ICCID:
// unknown" for 8.2.1/3.9. Unknown codes are shown raw ("8.9.0: Other
// error"), an absent half is left out, and both absent give "".
func DescribeCode(subject, reason string) string {
	subject, reason = strings.TrimSpace(subject), strings.TrimSpace(reason)
	s := SubjectName(subject)
	if s == "" {
		s = subject
	}
	r := ReasonName(reason)
	if r == "" {
		r = reason
	}
	switch {
	case s == "":
		return r
	case r == "":
		return s
	}
	return s + ": " + r
}

// knownCode reports whether DescribeCode would name at least one half of the
// pair (so it adds something to the raw codes).
func knownCode(subject, reason string) bool {
	return SubjectName(subject) != "" || ReasonName(reason) != ""
}

package soap

import (
	"mime"
	"net/http"
	"strings"
)

// Version is a SOAP envelope version. SGP.02 prescribes SOAP 1.2; JAX-WS stacks on their default binding
// (Njiwa, the open-source SM-SR/SM-DP) speak SOAP 1.1. The zero value is SOAP12.
type Version uint8

const (
	// SOAP12 is SOAP 1.2: envelope namespace NSEnvelope, media type application/soap+xml with the
	// action parameter.
	SOAP12 Version = iota
	// SOAP11 is SOAP 1.1: envelope namespace NSEnvelope11, media type text/xml and a SOAPAction header.
	SOAP11
)

func (v Version) String() string {
	if v == SOAP11 {
		return "SOAP 1.1"
	}
	return "SOAP 1.2"
}

// Namespace is the envelope namespace of v.
func (v Version) Namespace() string {
	if v == SOAP11 {
		return NSEnvelope11
	}
	return NSEnvelope
}

// ContentType is the Content-Type of an envelope of version v carrying action: SOAP 1.2's
// application/soap+xml with the action parameter real SM-SRs send, or SOAP 1.1's text/xml (whose action
// travels in the SOAPAction header, see SetActionHeaders).
func (v Version) ContentType(action string) string {
	if v == SOAP11 {
		return "text/xml; charset=utf-8"
	}
	return contentType(action)
}

// SetActionHeaders sets the HTTP headers that carry an envelope of version v with action: Content-Type,
// and for SOAP 1.1 the quoted SOAPAction.
func (v Version) SetActionHeaders(h http.Header, action string) {
	h.Set("Content-Type", v.ContentType(action))
	if v == SOAP11 {
		h.Set("SOAPAction", `"`+strings.ReplaceAll(action, `"`, "%22")+`"`)
	}
}

// HTTPAction returns the action an HTTP request announces outside the envelope: the action parameter of
// a SOAP 1.2 Content-Type, else the SOAPAction header with its quotes removed (SOAP 1.1, and the extra
// header gSOAP sends with 1.2). ok is false when neither is present. An empty value ("" or `""`) is
// returned with ok true: JAX-WS treats it as "no action given".
func HTTPAction(h http.Header) (action string, ok bool) {
	if ct := h.Get("Content-Type"); ct != "" {
		if _, params, err := mime.ParseMediaType(ct); err == nil {
			if a, has := params["action"]; has {
				return a, true
			}
		}
	}
	if vs, has := h["Soapaction"]; has && len(vs) > 0 {
		a := strings.TrimSpace(vs[0])
		if len(a) >= 2 && a[0] == '"' && a[len(a)-1] == '"' {
			a = a[1 : len(a)-1]
		}
		return a, true
	}
	return "", false
}

// versionOfContentType guesses the SOAP version of a request that could not be read far enough to know:
// text/xml is SOAP 1.1's media type.
func versionOfContentType(ct string) Version {
	if mt, _, err := mime.ParseMediaType(ct); err == nil && mt == "text/xml" {
		return SOAP11
	}
	return SOAP12
}

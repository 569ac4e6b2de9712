package soap

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"

	"github.com/esimgw/esimgw/internal/xmltext"
)

// SOAP 1.2 fault codes (SOAP 1.2 part 1, 5.4.6), written with the env prefix every envelope declares.
const (
	FaultVersionMismatch     = "env:VersionMismatch"
	FaultMustUnderstand      = "env:MustUnderstand"
	FaultDataEncodingUnknown = "env:DataEncodingUnknown"
	FaultSender              = "env:Sender"
	FaultReceiver            = "env:Receiver"
)

// Fault is a SOAP 1.2 fault, received or to be sent, usable as an error.
//
// Code and Subcodes are QNames. DecodeFault rewrites the prefix of a QName in a namespace our envelopes
// declare to our prefix (env, wsa, rps), so that f.Code == FaultSender holds whatever prefix the peer
// used (gSOAP writes SOAP-ENV:Sender); a QName in any other namespace is kept as written.
type Fault struct {
	Code       string   // e.g. FaultSender
	Subcodes   []string // outermost first, e.g. "wsa:ActionNotSupported"
	Reason     string   // human-readable text
	Lang       string   // xml:lang of Reason; "en" when written empty
	Node, Role string   // optional URIs
	Detail     []byte   // raw inner XML of env:Detail; written verbatim, so its prefixes must be declared inside it
	HTTPStatus int      // status the fault came with or is to be sent with; see StatusCode
}

// NewFault returns a fault with code, reason and optional subcodes.
func NewFault(code, reason string, subcodes ...string) *Fault {
	return &Fault{Code: code, Reason: reason, Subcodes: subcodes}
}

// SenderFault is the fault for a message the sender got wrong (HTTP 400).
func SenderFault(reason string, subcodes ...string) *Fault {
	return NewFault(FaultSender, reason, subcodes...)
}

// ReceiverFault is the fault for a failure of ours that a retry may cure (HTTP 500).
func ReceiverFault(reason string, subcodes ...string) *Fault {
	return NewFault(FaultReceiver, reason, subcodes...)
}

// MustUnderstandFault is the fault for a mustUnderstand header we do not process.
func MustUnderstandFault(reason string) *Fault { return NewFault(FaultMustUnderstand, reason) }

// VersionMismatchFault is the fault for an envelope that is not SOAP 1.2.
func VersionMismatchFault(reason string) *Fault { return NewFault(FaultVersionMismatch, reason) }

// DataEncodingUnknownFault is the fault for an unsupported encodingStyle.
func DataEncodingUnknownFault(reason string) *Fault {
	return NewFault(FaultDataEncodingUnknown, reason)
}

// maxFaultReason bounds how much of a peer's reason Error repeats.
const maxFaultReason = 512

// Error returns "soap: fault env:Sender/wsa:ActionNotSupported: <reason> (HTTP 400)"; a peer's reason is
// truncated and stripped of control characters, since errors end up in logs.
func (f *Fault) Error() string {
	var b strings.Builder
	b.WriteString("soap: fault ")
	code := f.Code
	if code == "" {
		code = FaultReceiver
	}
	b.WriteString(sanitize(code, 128))
	for _, s := range f.Subcodes {
		b.WriteByte('/')
		b.WriteString(sanitize(s, 128))
	}
	if f.Reason != "" {
		b.WriteString(": ")
		b.WriteString(sanitize(f.Reason, maxFaultReason))
	}
	if f.Node != "" {
		b.WriteString(" [node ")
		b.WriteString(sanitize(f.Node, 128))
		b.WriteByte(']')
	}
	if f.HTTPStatus != 0 {
		b.WriteString(" (HTTP ")
		b.WriteString(strconv.Itoa(f.HTTPStatus))
		b.WriteByte(')')
	}
	return b.String()
}

// sanitize truncates s and replaces control characters, so that a peer cannot forge log lines.
func sanitize(s string, max int) string {
	cut := false
	if len(s) > max {
		s, cut = s[:max], true
	}
	if strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		s = strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f {
				return ' '
			}
			return r
		}, s)
	}
	if cut {
		s += "..."
	}
	return s
}

// CodeLocal is the local part of Code ("Sender" for "env:Sender").
func (f *Fault) CodeLocal() string {
	_, local := splitPrefix(f.Code)
	return local
}

// StatusCode is the HTTP status to send f with: HTTPStatus when set, else what the SOAP 1.2 HTTP binding
// prescribes (400 for env:Sender, 500 otherwise).
func (f *Fault) StatusCode() int {
	if f.HTTPStatus != 0 {
		return f.HTTPStatus
	}
	if f.Code == FaultSender {
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// AppendXML appends the env:Fault element. The env prefix (and wsa, rps for subcodes) is declared by the
// envelope writer. An empty Code is written as env:Receiver and an empty Lang as "en", since SOAP 1.2
// requires both.
func (f *Fault) AppendXML(b []byte) []byte {
	code := f.Code
	if code == "" {
		code = FaultReceiver
	}
	b = append(b, "<env:Fault><env:Code><env:Value>"...)
	b = xmltext.AppendText(b, code)
	b = append(b, "</env:Value>"...)
	for _, s := range f.Subcodes {
		b = append(b, "<env:Subcode><env:Value>"...)
		b = xmltext.AppendText(b, s)
		b = append(b, "</env:Value>"...)
	}
	for range f.Subcodes {
		b = append(b, "</env:Subcode>"...)
	}
	b = append(b, `</env:Code><env:Reason><env:Text xml:lang="`...)
	lang := f.Lang
	if lang == "" {
		lang = "en"
	}
	b = xmltext.AppendAttr(b, lang)
	b = append(b, `">`...)
	b = xmltext.AppendText(b, f.Reason)
	b = append(b, "</env:Text></env:Reason>"...)
	if f.Node != "" {
		b = append(b, "<env:Node>"...)
		b = xmltext.AppendText(b, f.Node)
		b = append(b, "</env:Node>"...)
	}
	if f.Role != "" {
		b = append(b, "<env:Role>"...)
		b = xmltext.AppendText(b, f.Role)
		b = append(b, "</env:Role>"...)
	}
	if len(f.Detail) > 0 {
		b = append(b, "<env:Detail>"...)
		b = append(b, f.Detail...)
		b = append(b, "</env:Detail>"...)
	}
	return append(b, "</env:Fault>"...)
}

// DecodeFault reads the fault element d is positioned on and consumes it. It reads SOAP 1.2 faults
// (children matched by local name, any case) and, for peers such as Njiwa, SOAP 1.1 ones (faultcode,
// faultstring, faultactor, detail), mapping the 1.1 codes Client and Server to env:Sender and
// env:Receiver. Of several env:Text reasons, the first English one wins, else the first. Unknown children
// are skipped. HTTPStatus is left for the transport to fill in.
func DecodeFault(d *xmltext.Decoder) (*Fault, error) {
	f := &Fault{}
	for {
		ok, err := d.NextChild()
		if err != nil {
			return nil, err
		}
		if !ok {
			return f, nil
		}
		switch {
		case d.LocalIs("Code"):
			err = decodeFaultCode(d, f, false)
		case d.LocalIs("Reason"):
			err = decodeFaultReason(d, f)
		case d.LocalIs("Node"):
			f.Node, err = textString(d)
		case d.LocalIs("Role"), d.LocalIs("faultactor"):
			f.Role, err = textString(d)
		case d.LocalIs("Detail"):
			var inner []byte
			if inner, err = d.InnerXML(); err == nil && len(bytes.TrimSpace(inner)) > 0 {
				f.Detail = bytes.Clone(inner) // d's buffer belongs to the request
			}
		case d.LocalIs("faultcode"):
			f.Code, err = qnameText(d, true)
		case d.LocalIs("faultstring"):
			if lang, ok := d.Attr(nsXML, "lang"); ok {
				f.Lang = string(lang)
			}
			f.Reason, err = textString(d)
		default:
			err = d.Skip()
		}
		if err != nil {
			return nil, err
		}
	}
}

const nsXML = "http://www.w3.org/XML/1998/namespace"

// decodeFaultCode reads env:Code or env:Subcode: a Value and an optional nested Subcode.
func decodeFaultCode(d *xmltext.Decoder, f *Fault, sub bool) error {
	for {
		ok, err := d.NextChild()
		if err != nil || !ok {
			return err
		}
		switch {
		case d.LocalIs("Value"):
			v, err := qnameText(d, false)
			if err != nil {
				return err
			}
			if sub {
				f.Subcodes = append(f.Subcodes, v)
			} else {
				f.Code = v
			}
		case d.LocalIs("Subcode"):
			err = decodeFaultCode(d, f, true)
		default:
			err = d.Skip()
		}
		if err != nil {
			return err
		}
	}
}

func decodeFaultReason(d *xmltext.Decoder, f *Fault) error {
	found, english := false, false
	for {
		ok, err := d.NextChild()
		if err != nil || !ok {
			return err
		}
		if !d.LocalIs("Text") || english {
			if err := d.Skip(); err != nil {
				return err
			}
			continue
		}
		lang, _ := d.Attr(nsXML, "lang")
		langStr := string(lang)
		t, err := d.Text()
		if err != nil {
			return err
		}
		isEn := langStr == "" || strings.EqualFold(langStr, "en") || strings.HasPrefix(strings.ToLower(langStr), "en-")
		if !found || isEn {
			f.Reason, f.Lang = string(bytes.TrimSpace(t)), langStr
			found, english = true, isEn
		}
	}
}

func textString(d *xmltext.Decoder) (string, error) {
	t, err := d.Text()
	return string(bytes.TrimSpace(t)), err
}

// qnameText reads an element holding a QName and resolves its prefix in the element's own scope (which
// Text leaves behind, hence the Save/Restore: faults are rare, the copy is cheap enough). A QName in the
// SOAP 1.2 envelope, WS-Addressing or GSMA namespace gets our prefix; soap11 maps SOAP 1.1 codes too.
func qnameText(d *xmltext.Decoder, soap11 bool) (string, error) {
	var saved xmltext.State
	d.SaveTo(&saved)
	t, err := d.Text()
	if err != nil {
		return "", err
	}
	raw := string(bytes.TrimSpace(t))
	prefix, local := splitPrefix(raw)
	d.Restore(&saved)
	uri, ok := d.LookupPrefix([]byte(prefix))
	if err := d.Skip(); err != nil {
		return "", err
	}
	if !ok || (prefix == "" && len(uri) == 0) {
		return raw, nil
	}
	switch string(uri) {
	case NSEnvelope:
		return "env:" + local, nil
	case NSAddressing:
		return "wsa:" + local, nil
	case NSRPS:
		return "rps:" + local, nil
	case NSEnvelope11:
		if soap11 {
			switch local {
			case "Client":
				return FaultSender, nil
			case "Server":
				return FaultReceiver, nil
			case "VersionMismatch", "MustUnderstand":
				return "env:" + local, nil
			}
		}
	}
	return raw, nil
}

func splitPrefix(qname string) (prefix, local string) {
	if i := strings.IndexByte(qname, ':'); i > 0 {
		return qname[:i], qname[i+1:]
	}
	return "", qname
}

// appendXML11 appends f as a SOAP 1.1 env:Fault (the envelope binds env to the SOAP 1.1 namespace). SOAP
// 1.1 has no subcodes: as the WS-Addressing SOAP binding prescribes for 1.1 and JAX-WS does, the
// outermost subcode becomes the faultcode, and the SOAP 1.2 codes map to their 1.1 names (Sender to
// Client, Receiver to Server).
func (f *Fault) appendXML11(b []byte) []byte {
	code := f.Code
	switch code {
	case "", FaultReceiver:
		code = "env:Server"
	case FaultSender:
		code = "env:Client"
	case FaultDataEncodingUnknown:
		code = "env:Client" // SOAP 1.1 has no DataEncodingUnknown
	}
	if len(f.Subcodes) > 0 {
		code = f.Subcodes[0]
	}
	b = append(b, "<env:Fault><faultcode>"...)
	b = xmltext.AppendText(b, code)
	b = append(b, "</faultcode><faultstring"...)
	if f.Lang != "" {
		b = append(b, ` xml:lang="`...)
		b = xmltext.AppendAttr(b, f.Lang)
		b = append(b, '"')
	}
	b = append(b, '>')
	b = xmltext.AppendText(b, f.Reason)
	b = append(b, "</faultstring>"...)
	if f.Role != "" {
		b = append(b, "<faultactor>"...)
		b = xmltext.AppendText(b, f.Role)
		b = append(b, "</faultactor>"...)
	}
	if len(f.Detail) > 0 {
		b = append(b, "<detail>"...)
		b = append(b, f.Detail...)
		b = append(b, "</detail>"...)
	}
	return append(b, "</env:Fault>"...)
}

package gatewaytest

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/beevik/etree"

	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// Wire strictness: the soap package reads envelopes tolerantly (headers in either WS-Addressing namespace,
// any case); a real gateway validates against its schemas. These checks put the strictness back.

// Subcodes of the WS-Addressing faults the mock answers with (WS-Addressing 1.0 SOAP Binding, section 6).
const (
	SubcodeHeaderRequired = "wsa:MessageAddressingHeaderRequired"
	SubcodeInvalidHeader  = "wsa:InvalidAddressingHeader"
	SubcodeActionNotSupp  = "wsa:ActionNotSupported"
	// Sub-subcodes under wsa:InvalidAddressingHeader, as Metro answers them (WithStrict).
	SubcodeInvalidCardinality = "wsa:InvalidCardinality"
	SubcodeActionMismatch     = "wsa:ActionMismatch"
	schemaValidationPrefix    = "schema validation failed: "
	// metroReason is Metro's reason text for every invalid addressing header.
	metroReason = "A header representing a Message Addressing Property is not valid and the message cannot be processed"
)

// cardinalityOne are the WS-Addressing headers a message may carry at most once (RelatesTo may repeat).
var cardinalityOne = [...]string{"To", "From", "ReplyTo", "FaultTo", "Action", "MessageID"}

// metroFault is the fault Metro answers an invalid addressing header with: env:Sender /
// wsa:InvalidAddressingHeader / sub, HTTP 500 (Metro sends every fault with 500), the header's QName as
// wsa:ProblemHeaderQName in the detail.
func metroFault(sub, header, why string) *soap.Fault {
	f := soap.SenderFault(metroReason+": "+why, SubcodeInvalidHeader, sub)
	f.HTTPStatus = http.StatusInternalServerError
	f.Detail = []byte(`<wsa:ProblemHeaderQName xmlns:wsa="` + soap.NSAddressing + `">wsa:` + header + `</wsa:ProblemHeaderQName>`)
	return f
}

// checkJAXWS makes the checks of WithStrict: at most one of each addressing header, an HTTP action that
// agrees with wsa:Action (an empty one is no contradiction), and SOAP 1.2.
func checkJAXWS(env *etree.Element, m *soap.Message) *soap.Fault {
	if m.Version != soap.SOAP12 {
		return soap.VersionMismatchFault("this endpoint speaks SOAP 1.2 only (" + soap.NSEnvelope + ")")
	}
	for _, part := range env.ChildElements() {
		if part.Tag != "Header" || part.NamespaceURI() != soap.NSEnvelope {
			continue
		}
		seen := map[string]int{}
		for _, h := range part.ChildElements() {
			if h.NamespaceURI() == soap.NSAddressing {
				seen[h.Tag]++
			}
		}
		for _, name := range cardinalityOne {
			if seen[name] > 1 {
				return metroFault(SubcodeInvalidCardinality, name, fmt.Sprintf("wsa:%s appears %d times", name, seen[name]))
			}
		}
	}
	if a, ok := soap.HTTPAction(m.HTTPHeader); ok && a != "" && a != m.Header.Action {
		return metroFault(SubcodeActionMismatch, "Action", fmt.Sprintf("the HTTP action %q is not wsa:Action %q", a, m.Header.Action))
	}
	return nil
}

var addressingNames = map[string]bool{"From": true, "To": true, "MessageID": true, "Action": true, "ReplyTo": true,
	"RelatesTo": true, "FaultTo": true, "ReferenceParameters": true}

// checkHeaders refuses WS-Addressing headers in another namespace than 2005/08 or with another spelling.
func checkHeaders(env *etree.Element) *soap.Fault {
	for _, part := range env.ChildElements() {
		if part.Tag != "Header" || !isEnvelopeNS(part.NamespaceURI()) {
			continue
		}
		for _, h := range part.ChildElements() {
			ns := h.NamespaceURI()
			switch {
			case ns == soap.NSAddressing && !addressingNames[h.Tag]:
				return soap.SenderFault("unknown WS-Addressing header "+h.Tag, SubcodeInvalidHeader)
			case ns == soap.NSAddressingMetadata || (ns != soap.NSAddressing && addressingNames[capitalised(h.Tag)]):
				return soap.SenderFault(fmt.Sprintf("WS-Addressing header %s in namespace %q: want %s", h.Tag, ns, soap.NSAddressing), SubcodeInvalidHeader)
			}
		}
	}
	return nil
}

func isEnvelopeNS(ns string) bool { return ns == soap.NSEnvelope || ns == soap.NSEnvelope11 }

func capitalised(s string) string {
	if s == "" {
		return s
	}
	for k := range addressingNames {
		if strings.EqualFold(k, s) {
			return k
		}
	}
	return s
}

// bodyElement returns the first element of env:Body.
func bodyElement(env *etree.Element) *etree.Element {
	for _, part := range env.ChildElements() {
		if part.Tag == "Body" && isEnvelopeNS(part.NamespaceURI()) {
			if c := part.ChildElements(); len(c) > 0 {
				return c[0]
			}
		}
	}
	return nil
}

// checkBodyStructure compares the element structure of the received body with the canonical encoding of
// what was decoded from it: same elements, same order, same spelling, all in the rps namespace. Text is not
// compared (hex case and date forms may differ). Missing required elements, unknown elements, elements out
// of XSD order and misspelt names all show up as a difference.
func checkBodyStructure(got *etree.Element, decoded rps.Element) error {
	canon := decoded.AppendXML([]byte(`<w xmlns:rps="` + soap.NSRPS + `">`))
	canon = append(canon, "</w>"...)
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(canon); err != nil {
		return fmt.Errorf("internal: canonical form does not parse: %w", err)
	}
	want := doc.Root().ChildElements()
	if len(want) != 1 {
		return fmt.Errorf("internal: canonical form has %d elements", len(want))
	}
	return compare(got, want[0], "")
}

func compare(got, want *etree.Element, path string) error {
	here := path + "/" + want.Tag
	if got.Tag != want.Tag {
		return fmt.Errorf("at %s: found element %s", here, got.Tag)
	}
	if ns := got.NamespaceURI(); ns != soap.NSRPS {
		return fmt.Errorf("at %s: namespace %q, want %s", here, ns, soap.NSRPS)
	}
	g, w := got.ChildElements(), want.ChildElements()
	for i := 0; i < len(g) || i < len(w); i++ {
		switch {
		case i >= len(g):
			return fmt.Errorf("at %s: missing element %s", here, w[i].Tag)
		case i >= len(w):
			return fmt.Errorf("at %s: unexpected element %s", here, g[i].Tag)
		case g[i].Tag != w[i].Tag:
			if hasTag(w[i:], g[i].Tag) {
				return fmt.Errorf("at %s: element %s out of order, expected %s", here, g[i].Tag, w[i].Tag)
			}
			if hasTag(g[i:], w[i].Tag) {
				return fmt.Errorf("at %s: unexpected element %s before %s", here, g[i].Tag, w[i].Tag)
			}
			return fmt.Errorf("at %s: found %s, expected %s", here, g[i].Tag, w[i].Tag)
		}
		if err := compare(g[i], w[i], here); err != nil {
			return err
		}
	}
	return nil
}

func hasTag(els []*etree.Element, tag string) bool {
	for _, e := range els {
		if e.Tag == tag {
			return true
		}
	}
	return false
}

// parseEnvelope parses the raw envelope for the strict checks. The soap package has already refused
// DOCTYPEs, over-deep and oversize documents.
func parseEnvelope(raw []byte) (*etree.Element, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		return nil, err
	}
	if doc.Root() == nil {
		return nil, fmt.Errorf("no root element")
	}
	return doc.Root(), nil
}

package rps_test

import (
	"fmt"

	"github.com/esimgw/esimgw/internal/xmltext"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// Encode a request body, then decode it back the way the callback dispatcher does: by element name.
func ExampleNewElement() {
	req := &rps.ES4EnableProfileRequest{Iccid: "89310410106543789305"}
	req.FunctionCallIdentifier = "fc-1"
	req.ValidityPeriod = 720
	req.Eid, _ = rps.ParseHexBinary("89049032123451234512345678901235")
	body := req.AppendXML(nil)
	fmt.Println(string(body))

	doc := `<env:Body xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:rps="` + rps.Namespace + `">` + string(body) + `</env:Body>`
	d := xmltext.NewDecoder([]byte(doc), xmltext.Limits{})
	_ = d.Root()
	_, _ = d.NextChild()
	el, ok := rps.NewElement(string(d.Local()))
	if !ok {
		return
	}
	if err := el.DecodeXML(d); err != nil {
		fmt.Println(err)
		return
	}
	f, _, _ := rps.FunctionByElement(el.ElementName())
	fmt.Println(el.ElementName(), f.Mode, f.RequestAction)
	fmt.Println(el.(*rps.ES4EnableProfileRequest).Eid)
	// Output:
	// <rps:ES4-EnableProfileRequest><rps:FunctionCallIdentifier>fc-1</rps:FunctionCallIdentifier><rps:ValidityPeriod>720</rps:ValidityPeriod><rps:Eid>89049032123451234512345678901235</rps:Eid><rps:Iccid>89310410106543789305</rps:Iccid></rps:ES4-EnableProfileRequest>
	// ES4-EnableProfileRequest async http://gsma.com/ES4/PlatformManagement/ES4-EnableProfile
	// 89049032123451234512345678901235
}

package esimgw_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// The unmatched handler receives callbacks nobody waits for any more (after a restart, or once a Wait gave
// up), notifications without a handler, and body elements this library does not know (KPN adds functions,
// docs/kpn.md R14). What it stores lets the application resume: esimgw sends its FunctionCallIdentifier as the
// TransactionId, so FunctionCallIdentifier() names the call a callback answers. Returning an error answers
// HTTP 500, so the gateway delivers the message again.
func ExampleWithUnmatchedHandler() {
	d := esimgw.NewDispatcher(
		esimgw.WithDispatcherLogger(slog.New(slog.DiscardHandler)),
		esimgw.WithUnmatchedHandler(func(_ context.Context, in *esimgw.Inbound) error {
			switch in.Kind {
			case esimgw.InboundCallback:
				fmt.Printf("%s %s %s for call %q: %v\n", in.Kind, in.Interface, in.Function, in.FunctionCallIdentifier(), in.Err)
			case esimgw.InboundUnknown:
				raw, _ := in.Message.BodyXML()
				fmt.Printf("%s element %s, kept raw: %s\n", in.Kind, in.Message.BodyName, raw)
			}
			return nil
		}),
	)

	callback := &rps.ES4EnableProfileResponse{BaseResponseType: rps.BaseResponseType{
		FunctionExecutionStatus: rps.ExecutionStatusType{Status: rps.StatusTypeFAILED,
			StatusCodeData: &rps.StatusCodeDataType{Subject: "8.2.1", Reason: "3.9", Message: "Profile ICCID unknown on this eUICC"}}}}
	future := rawBody{"ES4-SetEmergencyProfileAttributeResponse",
		`<rps:ES4-SetEmergencyProfileAttributeResponse><rps:Status>EXECUTED_SUCCESS</rps:Status></rps:ES4-SetEmergencyProfileAttributeResponse>`}
	for _, b := range []soap.BodyWriter{callback, future} {
		h := &soap.Header{
			MessageID: "//1.3.6.1.4.1.99999.20/urn:uuid:c0ffee00?TransactionId=fc-20240501-0001&MessageDate=2024-05-01T10:00:41Z",
			RelatesTo: "//1.3.6.1.4.1.99999.10/urn:uuid:0f8c2a3e?TransactionId=fc-20240501-0001&MessageDate=2024-05-01T10:00:00Z",
		}
		m, err := soap.ReadMessage(soap.AppendEnvelope(nil, h, b), soap.ReadOptions{})
		if err != nil {
			fmt.Println(err)
			return
		}
		if _, err := d.ServeSOAP(context.Background(), m); err != nil {
			fmt.Println(err)
		}
	}
	// Output:
	// callback ES4 EnableProfile for call "fc-20240501-0001": ES4 EnableProfile: FAILED: 8.2.1/3.9 Profile ICCID: unknown: Profile ICCID unknown on this eUICC
	// unknown element ES4-SetEmergencyProfileAttributeResponse, kept raw: <rps:Status>EXECUTED_SUCCESS</rps:Status>
}

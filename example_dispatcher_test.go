package esimgw_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/mtls"
	"github.com/esimgw/esimgw/mtls/mtlstest"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// A Dispatcher behind a CallbackServer with mutual TLS: the set-up that receives a gateway's callbacks and
// notifications. The throw-away PKI stands for your OV server certificate and the CA of the gateway's
// client certificate, which KPN requires (docs/kpn.md R3); the allow-list pins the gateway's subject.
func ExampleNewCallbackServer() {
	quiet := slog.New(slog.DiscardHandler)
	dir, _ := os.MkdirTemp("", "esimgw-example")
	defer os.RemoveAll(dir)
	pki, err := mtlstest.NewPKI(dir, "gateway.example")
	if err != nil {
		fmt.Println(err)
		return
	}

	d := esimgw.NewDispatcher(
		esimgw.WithDispatcherLogger(quiet),
		esimgw.WithNotificationHandler(esimgw.Notifications{
			ProfileDisabled: func(_ context.Context, n *esimgw.Notification) error {
				fmt.Println("notification:", n.Interface, n.Kind, n.Iccid, n.CompletionTimestamp.Format("2006-01-02 15:04"))
				return nil // only now does the gateway get its 202
			},
		}),
		esimgw.WithUnmatchedHandler(func(_ context.Context, in *esimgw.Inbound) error {
			fmt.Println("unmatched:", in.Kind, in.Interface, in.Function)
			return nil
		}),
	)

	// Rotation-aware certificate source (NewFileSource in production) and the client CA pool.
	src, err := mtls.NewFileSource(pki.ServerCertFile, pki.ServerKeyFile, mtls.WithLogger(quiet))
	if err != nil {
		fmt.Println(err)
		return
	}
	srv, err := esimgw.NewCallbackServer(d,
		esimgw.WithServerCertificate(src, pki.CA.Pool(), "gateway.example"),
		esimgw.WithServerLogger(quiet))
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Shutdown(context.Background())

	// What the gateway does: post a notification with its client certificate.
	body := `<rps:ES4-HandleProfileDisabledNotification><rps:Eid>89049032123451234512345678901235</rps:Eid>` +
		`<rps:Iccid>89310410106543789305</rps:Iccid><rps:completionTimestamp>2024-05-01T10:00:41Z</rps:completionTimestamp>` +
		`</rps:ES4-HandleProfileDisabledNotification>`
	gateway := &http.Client{Transport: &http.Transport{TLSClientConfig: pki.ClientTLSConfig()}}
	for _, b := range []soap.BodyWriter{
		rawBody{"ES4-HandleProfileDisabledNotification", body},
		// Nobody waits for this callback (say, the process restarted since the request).
		&rps.ES4EnableProfileResponse{BaseResponseType: rps.BaseResponseType{
			FunctionExecutionStatus: rps.ExecutionStatusType{Status: rps.StatusTypeEXECUTED_SUCCESS}}},
	} {
		env := soap.AppendEnvelope(nil, &soap.Header{MessageID: "//1.3.6.1.4.1.99999.20/urn:uuid:1?TransactionId=fc-1&MessageDate=2024-05-01T10:00:41Z"}, b)
		res, err := gateway.Post(srv.URL()+"/", "application/soap+xml; charset=utf-8", bytes.NewReader(env))
		if err != nil {
			fmt.Println(err)
			return
		}
		res.Body.Close()
		fmt.Println("gateway got", res.StatusCode)
	}

	// A client without a certificate is refused during the handshake.
	noCert := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.CA.Pool()}}}
	_, err = noCert.Post(srv.URL()+"/", "application/soap+xml", bytes.NewReader(nil))
	fmt.Println("without a client certificate:", err != nil)
	// Output:
	// notification: ES4 ProfileDisabled 89310410106543789305 2024-05-01 10:00
	// gateway got 202
	// unmatched: callback ES4 EnableProfile
	// gateway got 202
	// without a client certificate: true
}

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

package soap_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// An envelope written and read back: the header block travels with the body, which is decoded once its
// name is known.
func ExampleReadMessage() {
	mid := soap.NewMessageID("1.3.6.1.4.1.99999.10", time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	h := &soap.Header{
		From:      "http://mno.example?EntityId=1.3.6.1.4.1.99999.10",
		To:        "https://smsr.example/esim-messaging/3/ES4/ES4SmSrService",
		MessageID: mid.String(),
		Action:    "http://gsma.com/ES4/ProfileManagement/ES4-GetEISRequest",
	}
	req := &rps.ES4GetEISRequest{Eid: rps.HexBinary{0x89, 0x04, 0x90, 0x32}}
	req.FunctionCallIdentifier = mid.TransactionID
	data := soap.AppendEnvelope(nil, h, req)

	m, err := soap.ReadMessage(data, soap.ReadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	var got rps.ES4GetEISRequest
	if err := m.DecodeBody(&got); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.BodyName, m.Header.Action)
	fmt.Printf("%X\n", []byte(got.Eid))
	// Output:
	// ES4-GetEISRequest http://gsma.com/ES4/ProfileManagement/ES4-GetEISRequest
	// 89049032
}

// A Handler receiving a notification and the Client sending it. Real gateways talk mutual TLS: give the
// Client WithTLSConfig and serve the Handler with a tls.Config that requires client certificates.
func ExampleClient() {
	handler := soap.NewHandler(soap.MessageHandlerFunc(func(ctx context.Context, m *soap.Message) (*soap.Reply, error) {
		fmt.Println("received", m.BodyName)
		return nil, nil // nil Reply: 202 Accepted
	}))
	srv := httptest.NewServer(handler)
	defer srv.Close()

	c := soap.NewClient(soap.WithHTTPClient(srv.Client()))
	h := &soap.Header{
		From:      "https://smsr.example?EntityId=1.3.6.1.4.1.99999.20",
		To:        srv.URL,
		MessageID: soap.NewMessageID("1.3.6.1.4.1.99999.20", time.Now()).String(),
		Action:    "http://gsma.com/ES4/PlatformManagementCallBack/ES4-HandleProfileDisabledNotification",
	}
	note := &rps.ES4HandleProfileDisabledNotification{Eid: rps.HexBinary{0x89, 0x04}, Iccid: "89310410106543789305"}
	res, err := c.Call(context.Background(), srv.URL, h, note)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.StatusCode == http.StatusAccepted)
	// Output:
	// received ES4-HandleProfileDisabledNotification
	// true
}

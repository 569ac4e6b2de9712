package gatewaytest_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"time"

	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// A user's test at the wire level: start the mock, serve callbacks with mTLS, call ES4 EnableProfile and
// read the callback. (In a test, use gatewaytest.Start(t) instead of New/Close.)
func Example() {
	g, err := gatewaytest.New()
	if err != nil {
		log.Fatal(err)
	}
	defer g.Close()

	callbacks := make(chan *soap.Message, 1)
	cb := httptest.NewUnstartedServer(soap.NewHandler(soap.MessageHandlerFunc(
		func(ctx context.Context, m *soap.Message) (*soap.Reply, error) { callbacks <- m; return nil, nil })))
	cb.TLS = g.CallbackServerTLSConfig()
	cb.StartTLS()
	defer cb.Close()

	client := soap.NewClient(soap.WithTLSConfig(g.ClientTLSConfig()))
	eid, _ := rps.ParseHexBinary(gatewaytest.DefaultEID)
	req := &rps.ES4EnableProfileRequest{BaseRequestType: rps.BaseRequestType{FunctionCallIdentifier: "example-1"},
		Eid: eid, Iccid: gatewaytest.DefaultDisabledICCID}
	f, _ := rps.FunctionByName(rps.ES4, "EnableProfile")
	h := &soap.Header{
		From:      "https://operator.example?EntityId=" + g.OperatorID,
		To:        g.ES4URL,
		MessageID: soap.NewMessageID(g.OperatorID, time.Now()).String(),
		Action:    f.RequestAction,
		ReplyTo:   "https://localhost:" + cb.URL[len("https://127.0.0.1:"):],
	}
	resp, err := client.Call(context.Background(), g.ES4URL, h, req)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("HTTP", resp.StatusCode)

	m := <-callbacks
	var res rps.ES4EnableProfileResponse
	if err := m.DecodeBody(&res); err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.BodyName, res.FunctionExecutionStatus.Status, m.Header.RelatesTo == h.MessageID)
	e, _ := g.EUICC(gatewaytest.DefaultEID)
	p, _ := e.Enabled()
	fmt.Println("enabled:", p.ICCID)
	// Output:
	// HTTP 202
	// ES4-EnableProfileResponse EXECUTED_SUCCESS true
	// enabled: 89310410000000000027
}

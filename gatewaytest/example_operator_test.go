package gatewaytest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/esimgw/esimgw/es4"
	"github.com/esimgw/esimgw/gatewaytest"
)

// A user's test: start the mock, enable a profile, wait for the callback, check the state.
func TestEnableProfileAgainstTheMock(t *testing.T) {
	gw := gatewaytest.Start(t)
	op := gatewaytest.NewOperator(t, gw)
	c, err := es4.NewClient(gw.ES4URL, op.Options...)
	if err != nil {
		t.Fatal(err)
	}
	enable, err := c.EnableProfile(context.Background(), gatewaytest.DefaultEID, gatewaytest.DefaultDisabledICCID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := enable.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	e, _ := gw.EUICC(gatewaytest.DefaultEID)
	if p, _ := e.Enabled(); p.ICCID != gatewaytest.DefaultDisabledICCID {
		t.Fatalf("enabled profile is %s", p.ICCID)
	}
}

// The same as a runnable example: a user's test needs the mock, the operator side and a client.
func ExampleNewOperator() {
	gw, _ := gatewaytest.New()
	defer gw.Close()
	op, _ := gatewaytest.StartOperator(gw)
	defer op.Server.Close()
	c, _ := es4.NewClient(gw.ES4URL, op.Options...)

	enable, _ := c.EnableProfile(context.Background(), gatewaytest.DefaultEID, gatewaytest.DefaultDisabledICCID)
	_, err := enable.Wait(context.Background())
	e, _ := gw.EUICC(gatewaytest.DefaultEID)
	p, _ := e.Enabled()
	fmt.Println(err, p.ICCID == gatewaytest.DefaultDisabledICCID)
	// Output: <nil> true
}

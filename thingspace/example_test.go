package thingspace_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/thingspace"
	"github.com/esimgw/esimgw/thingspace/thingspacetest"
)

// Enable a profile through ThingSpace: the action is answered with a requestId, and the operation
// resolves when the callback arrives at the client's CallbackHandler. Against the real platform the
// options carry your app key, M2M login and account, and the handler sits behind your public HTTPS URL.
func ExampleClient_Enable() {
	mock := thingspacetest.NewServer()
	defer mock.Close()
	client, err := thingspace.NewClient(mock.ClientOptions()...)
	if err != nil {
		fmt.Println(err)
		return
	}
	receiver := httptest.NewServer(client.CallbackHandler())
	defer receiver.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	defer client.Close(ctx) // logs the M2M session out
	if err := client.RegisterCallback(ctx, thingspacetest.AccountName, receiver.URL); err != nil {
		fmt.Println(err)
		return
	}

	op, err := client.Enable(ctx, esimgw.ProfileRef{EID: thingspacetest.DefaultEID, ICCID: thingspacetest.DisabledICCID})
	if err != nil {
		fmt.Println("not sent:", err)
		return
	}
	r, err := op.Wait(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(op.Function(), r.Outcome().Status)

	// The same profile again: ThingSpace's callback says FAILED, with the SGP.02 codes.
	op, _ = client.Enable(ctx, esimgw.ProfileRef{EID: thingspacetest.DefaultEID, ICCID: thingspacetest.DisabledICCID})
	_, err = op.Wait(ctx)
	var fe *esimgw.FunctionError
	if errors.As(err, &fe) {
		fmt.Println(fe.Interface, fe.Function, fe.Status, fe.Code())
	}
	// Output:
	// enable EXECUTED_SUCCESS
	// ThingSpace enable FAILED 8.2.1,3.8
}

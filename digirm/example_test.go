package digirm_test

import (
	"context"
	"fmt"
	"time"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/digirm"
	"github.com/esimgw/esimgw/digirm/digirmtest"
)

// Enable a profile through Digi Remote Manager: the action returns a transaction, and the operation
// completes when polling finds it complete. Against the real platform give your credentials
// (WithBasicAuth or WithAPIKey) and your account's throttle; polling then starts after 30 s.
func ExampleClient_Enable() {
	mock := digirmtest.NewServer()
	defer mock.Close()
	client, err := digirm.NewClient(mock.ClientOptions()...)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	op, err := client.Enable(ctx, esimgw.ProfileRef{EID: digirmtest.DefaultEID, ICCID: digirmtest.DisabledICCID})
	if err != nil {
		fmt.Println("not sent:", err)
		return
	}
	r, err := op.Wait(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(op.Interface(), op.Function(), r.Outcome().Status)
	fmt.Println("operations completed:", client.Stats().Completed)
	// Output:
	// DigiRM enable EXECUTED_SUCCESS
	// operations completed: 1
}

// Walk the inventory page by page.
func ExampleClient_Profiles() {
	mock := digirmtest.NewServer()
	defer mock.Close()
	client, err := digirm.NewClient(mock.ClientOptions()...)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	for p, err := range client.Profiles(context.Background(), digirm.Query{Query: `eid="` + digirmtest.DefaultEID + `"`}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(p.ICCID, p.Status, p.State())
	}
	// Output:
	// 89310410000000000019 active enabled
	// 89310410000000000027 inactive disabled
}

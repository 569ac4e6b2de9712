package esimgw_test

import (
	"context"
	"fmt"
	"time"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/es4"
	"github.com/esimgw/esimgw/gatewaytest"
)

// switchProfile is written once against esimgw.ProfileManager: it runs unchanged on es4, es2,
// thingspace and digirm clients.
func switchProfile(ctx context.Context, m esimgw.ProfileManager, eid, iccid string) error {
	op, err := m.Enable(ctx, esimgw.ProfileRef{EID: eid, ICCID: iccid})
	if err != nil {
		return err // a *esimgw.ValidationError: nothing was sent
	}
	r, err := op.Wait(ctx)
	if err != nil {
		return err // a *esimgw.FunctionError when the platform refused it
	}
	fmt.Printf("%s: %s enabled: %s\n", m.Platform(), iccid, r.Outcome().Status)
	return nil
}

// One function, any platform: here ES4 on the mock SM-SR.
func ExampleProfileManager() {
	gw, err := gatewaytest.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer gw.Close()
	op, err := gatewaytest.StartOperator(gw)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer op.Server.Close()
	client, err := es4.NewClient(gw.ES4URL, op.Options...)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := switchProfile(ctx, client.Manager(), gatewaytest.DefaultEID, gatewaytest.DefaultDisabledICCID); err != nil {
		fmt.Println(err)
	}
	err = switchProfile(ctx, client.Manager(), gatewaytest.DefaultEID, "89310410000000000011")
	fmt.Println(esimgw.OutcomeOf(nil, err).Status)
	// Output:
	// ES4: 89310410000000000027 enabled: EXECUTED_SUCCESS
	// INVALID_REQUEST
}

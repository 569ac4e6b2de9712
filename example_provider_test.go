package esimgw_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/digirm"
	"github.com/esimgw/esimgw/digirm/digirmtest"
	"github.com/esimgw/esimgw/es4"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/thingspace"
	"github.com/esimgw/esimgw/thingspace/thingspacetest"
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

// One function, every platform: the same enable on an SGP.02 SM-SR (ES4), on Verizon ThingSpace and on
// Digi Remote Manager, each on its mock. The mocks share the default identifiers.
func ExampleProfileManager() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	managers, cleanup, err := threePlatforms(ctx)
	defer cleanup()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range managers {
		if err := switchProfile(ctx, m, gatewaytest.DefaultEID, gatewaytest.DefaultDisabledICCID); err != nil {
			fmt.Println(err)
		}
	}
	// A bad ICCID is refused alike everywhere, before anything is sent.
	for _, m := range managers {
		err := switchProfile(ctx, m, gatewaytest.DefaultEID, "89310410000000000011")
		fmt.Println(m.Platform(), esimgw.OutcomeOf(nil, err).Status)
	}
	// Output:
	// ES4: 89310410000000000027 enabled: EXECUTED_SUCCESS
	// ThingSpace: 89310410000000000027 enabled: EXECUTED_SUCCESS
	// DigiRM: 89310410000000000027 enabled: EXECUTED_SUCCESS
	// ES4 INVALID_REQUEST
	// ThingSpace INVALID_REQUEST
	// DigiRM INVALID_REQUEST
}

// threePlatforms starts the three mocks and a client for each.
func threePlatforms(ctx context.Context) ([]esimgw.ProfileManager, func(), error) {
	var closers []func()
	cleanup := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	// ES4 on the mock SM-SR, with mutual TLS and a callback server.
	gw, err := gatewaytest.New()
	if err != nil {
		return nil, cleanup, err
	}
	closers = append(closers, gw.Close)
	op, err := gatewaytest.StartOperator(gw)
	if err != nil {
		return nil, cleanup, err
	}
	closers = append(closers, func() { _ = op.Server.Close() })
	sgp, err := es4.NewClient(gw.ES4URL, op.Options...)
	if err != nil {
		return nil, cleanup, err
	}
	// ThingSpace, with its callback receiver.
	ts := thingspacetest.NewServer()
	closers = append(closers, ts.Close)
	vz, err := thingspace.NewClient(ts.ClientOptions()...)
	if err != nil {
		return nil, cleanup, err
	}
	recv := httptest.NewServer(vz.CallbackHandler())
	closers = append(closers, recv.Close, func() { _ = vz.Close(context.Background()) })
	if err := vz.RegisterCallback(ctx, "", recv.URL); err != nil {
		return nil, cleanup, err
	}
	// Digi Remote Manager, polled.
	drm := digirmtest.NewServer()
	closers = append(closers, drm.Close)
	digi, err := digirm.NewClient(drm.ClientOptions()...)
	if err != nil {
		return nil, cleanup, err
	}
	closers = append(closers, func() { _ = digi.Close() })
	return []esimgw.ProfileManager{sgp.Manager(), vz, digi}, cleanup, nil
}

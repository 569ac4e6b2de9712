package es4_test

import (
	"context"
	"fmt"
	"time"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/callback"
	"github.com/esimgw/esimgw/es4"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// operator is what a program sets up once: a Dispatcher, its callback.Server and the ES4 client. Here the
// SM-SR is gatewaytest's mock, whose CA issued every certificate; against KPN the TLS configurations come
// from package mtls and replyTo is your server's public URL.
type operator struct {
	client *es4.Client
	server *callback.Server
}

func setUp(gw *gatewaytest.Gateway, opts ...esimgw.DispatcherOption) (*operator, error) {
	op, err := gatewaytest.StartOperator(gw, opts...)
	if err != nil {
		return nil, err
	}
	client, err := es4.NewClient(gw.ES4URL, op.Options...)
	if err != nil {
		op.Server.Close()
		return nil, err
	}
	return &operator{client: client, server: op.Server}, nil
}

// withMock runs f against a fresh mock SM-SR and the operator's set-up, and closes both afterwards.
func withMock(f func(gw *gatewaytest.Gateway, op *operator), opts ...esimgw.DispatcherOption) {
	gw, err := gatewaytest.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer gw.Close()
	op, err := setUp(gw, opts...)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer op.server.Close()
	f(gw, op)
}

// Audit an eUICC: the SM-SR reads it again and returns its EIS.
func ExampleClient_AuditEIS() {
	withMock(func(gw *gatewaytest.Gateway, op *operator) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		audit, err := op.client.AuditEIS(ctx, gatewaytest.DefaultEID, nil) // nil: every profile
		if err != nil {
			fmt.Println("not sent:", err)
			return
		}
		res, err := audit.Wait(ctx)
		if err != nil {
			fmt.Println("audit failed:", err)
			return
		}
		for _, p := range res.EIS.ProfileInfo {
			fmt.Println(p.Iccid, p.State, "fall-back:", p.FallbackAttribute)
		}
	})
	// Output:
	// 89310410000000000019 Enabled fall-back: false
	// 89310410000000000027 Disabled fall-back: false
	// 89310410000000000035 Disabled fall-back: true
}

// Enable a profile and wait for the SM-SR's callback.
func ExampleClient_EnableProfile() {
	withMock(func(gw *gatewaytest.Gateway, op *operator) {
		ctx := context.Background()
		enable, err := op.client.EnableProfile(ctx, gatewaytest.DefaultEID, gatewaytest.DefaultDisabledICCID,
			esimgw.WithCallValidityPeriod(10*time.Minute))
		if err != nil {
			fmt.Println("not sent:", err) // a *esimgw.ValidationError, a transport error or a SOAP fault
			return
		}
		// Wait a little longer than the ValidityPeriod: by then the SM-SR has answered, EXPIRED at worst.
		wctx, cancel := context.WithTimeout(ctx, 10*time.Minute+time.Minute)
		defer cancel()
		res, err := enable.Wait(wctx)
		if err != nil {
			fmt.Println("enable failed:", err) // errors.Is(err, esimgw.ErrFailed), esimgw.ErrExpired, ...
			return
		}
		fmt.Println("enable:", res.Outcome().Status)

		// A second enable of the same profile is refused by the SM-SR: a FunctionError with its codes.
		again, err := op.client.EnableProfile(ctx, gatewaytest.DefaultEID, gatewaytest.DefaultDisabledICCID)
		if err != nil {
			fmt.Println("not sent:", err)
			return
		}
		_, err = again.Wait(wctx)
		fmt.Println("again:", esimgw.OutcomeOf(nil, err).Status, esimgw.OutcomeOf(nil, err).StatusCode)

		// The state, as the SM-SR reports it.
		eis, err := op.client.GetEIS(ctx, gatewaytest.DefaultEID)
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, p := range eis.EIS.ProfileInfo {
			if p.State == rps.ProfileStateTypeEnabled {
				fmt.Println("enabled now:", p.Iccid)
			}
		}
	})
	// Output:
	// enable: EXECUTED_SUCCESS
	// again: FAILED 8.2.1,3.8
	// enabled now: 89310410000000000027
}

// Receive notifications: state changes the SM-SR reports unasked (here a profile switched on the device).
func Example_notifications() {
	changes := make(chan string, 2)
	handler := esimgw.Notifications{
		ProfileEnabled: func(ctx context.Context, n *esimgw.Notification) error {
			changes <- "enabled " + n.Iccid // return an error to have the gateway deliver it again
			return nil
		},
		ProfileDisabled: func(ctx context.Context, n *esimgw.Notification) error {
			changes <- "disabled " + n.Iccid
			return nil
		},
	}
	withMock(func(gw *gatewaytest.Gateway, op *operator) {
		gw.SetNotificationURL(rps.ES4, op.server.URL()) // configured with the gateway's operator, out of band
		gw.SetNotificationURL(rps.ES2, "")              // this operator takes ES4 notifications only
		if err := gw.SimulateLocalEnable(gatewaytest.DefaultEID, gatewaytest.DefaultDisabledICCID); err != nil {
			fmt.Println(err)
			return
		}
		got := map[string]bool{<-changes: true, <-changes: true} // the two may arrive in either order
		fmt.Println(got["disabled "+gatewaytest.DefaultEnabledICCID], got["enabled "+gatewaytest.DefaultDisabledICCID])
	}, esimgw.WithNotificationHandler(handler))
	// Output:
	// true true
}

package es2_test

import (
	"context"
	"fmt"
	"time"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/callback"
	"github.com/esimgw/esimgw/es2"
	"github.com/esimgw/esimgw/gatewaytest"
)

// operator is what a program sets up once: a Watcher in front of its notification handler, a Dispatcher,
// the callback.Server that receives callbacks and notifications, and the ES2 client. Here the SM-DP is
// gatewaytest's mock, whose CA issued every certificate; against KPN the TLS configurations come from
// package mtls, replyTo is your server's public URL, and esimgw.WithKPN is given.
type operator struct {
	client  *es2.Client
	watcher *es2.Watcher
	server  *callback.Server
}

func setUp(gw *gatewaytest.Gateway) (*operator, error) {
	op := &operator{watcher: es2.NewWatcher(esimgw.Notifications{
		ProfileDisabled: func(ctx context.Context, n *esimgw.Notification) error { return nil }, // store it, alert...
	})}
	ops, err := gatewaytest.StartOperator(gw, esimgw.WithNotificationHandler(op.watcher))
	if err != nil {
		return nil, err
	}
	op.server = ops.Server
	// One client per SM-SR; the SM-SR ID is required (KPN checks access with it).
	if op.client, err = es2.NewClient(gw.ES2URL, gw.SMSRID, ops.Options...); err != nil {
		op.server.Close()
		return nil, err
	}
	return op, nil
}

// withMock runs f against a fresh mock gateway and the operator's set-up, and closes both afterwards.
func withMock(f func(op *operator)) {
	gw, err := gatewaytest.New()
	var op *operator
	if err == nil {
		defer gw.Close()
		op, err = setUp(gw)
	}
	if err != nil {
		fmt.Println("set-up:", err)
		return
	}
	defer op.server.Close()
	f(op)
}

// Download a profile and enable it (ThingSpace's download_enable), then read the eUICC's state.
func ExampleClient_DownloadProfile() {
	withMock(func(op *operator) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		download, err := op.client.DownloadProfile(ctx, es2.DownloadRequest{
			Eid:    gatewaytest.DefaultEID,
			Iccid:  gatewaytest.CatalogICCID, // or ProfileType, never both
			Enable: true,
		})
		if err != nil {
			fmt.Println("not sent:", err) // a *esimgw.ValidationError, a transport error, a SOAP fault
			return
		}
		res, err := download.Wait(ctx) // the SM-DP's callback
		if err != nil {
			fmt.Println("download failed:", esimgw.OutcomeOf(nil, err))
			return
		}
		fmt.Println("downloaded", res.Iccid, res.Outcome().Status)

		eis, err := op.client.GetEIS(ctx, gatewaytest.DefaultEID)
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, p := range eis.EIS.ProfileInfo {
			if p.Iccid == res.Iccid {
				fmt.Println(p.Iccid, p.State)
			}
		}
	})
	// Output:
	// downloaded 89310410000000001009 EXECUTED_SUCCESS
	// 89310410000000001009 Enabled
}

// Activate a profile of a type: download with enable, wait for the callback, verify with the
// HandleProfileEnabledNotification, and report each step as device platforms show them.
func ExampleClient_Activate() {
	withMock(func(op *operator) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		a, err := op.client.Activate(ctx, es2.ActivateRequest{Eid: gatewaytest.DefaultEID, ProfileType: gatewaytest.CatalogProfileType},
			es2.WithNotificationVerifier(op.watcher), // against KPN: es2.WithAuditVerifier(es4Client)
			es2.WithVerifyTimeout(30*time.Second),
			es2.WithStepReporter(func(s es2.Step) { fmt.Println("step:", s.Name) }),
		)
		if err != nil {
			fmt.Println("failed at", a.FailedStep(), a.Outcome())
			return
		}
		fmt.Println(a.Iccid, "enabled:", a.Enabled, "verified by", a.VerifiedBy)
		o := a.Outcome()
		fmt.Printf("euiccStatus=%s euiccStatusCode=%q\n", o.Status, o.StatusCode)
	})
	// Output:
	// step: starting
	// step: download
	// step: download_verify
	// step: enable
	// step: enable_verify
	// step: successful
	// 89310410000000001009 enabled: true verified by notification
	// euiccStatus=EXECUTED_SUCCESS euiccStatusCode=""
}

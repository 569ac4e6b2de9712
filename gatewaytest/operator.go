package gatewaytest

import (
	"context"
	"testing"
	"time"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/callback"
)

// Operator is the operator side of a test against the mock: a Dispatcher, a callback.Server with mutual
// TLS on loopback that the mock posts callbacks and notifications to, and the client options that point
// es2 and es4 clients at the mock:
//
//	gw := gatewaytest.Start(t)
//	op := gatewaytest.NewOperator(t, gw)
//	c, _ := es4.NewClient(gw.ES4URL, op.Options...)
type Operator struct {
	Dispatcher *esimgw.Dispatcher
	Server     *callback.Server
	// ReplyTo is the callback server's URL, given to the mock as the notification URL of both interfaces.
	ReplyTo string
	// Options configure an es2 or es4 client for the mock: entity, mTLS, replyTo and Dispatcher.
	Options []esimgw.Option
}

// NewOperator starts an Operator for gw, registering its shutdown with tb. dopts configure the Dispatcher
// (notification, unmatched and duplicate handlers); its logger is silent unless dopts set one.
func NewOperator(tb testing.TB, gw *Gateway, dopts ...esimgw.DispatcherOption) *Operator {
	tb.Helper()
	op, err := StartOperator(gw, dopts...)
	if err != nil {
		tb.Fatalf("gatewaytest: starting the operator side: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = op.Server.Shutdown(ctx)
	})
	return op
}

// StartOperator is NewOperator for programs (the examples): the caller shuts op.Server down.
func StartOperator(gw *Gateway, dopts ...esimgw.DispatcherOption) (*Operator, error) {
	d := esimgw.NewDispatcher(append([]esimgw.DispatcherOption{esimgw.WithDispatcherLogger(gw.logger)}, dopts...)...)
	srv, err := callback.NewServer(d, callback.WithTLS(gw.CallbackServerTLSConfig()), callback.WithLogger(gw.logger))
	if err != nil {
		return nil, err
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		return nil, err
	}
	replyTo := srv.URL() + "/"
	gw.SetNotificationURL(ES2, replyTo)
	gw.SetNotificationURL(ES4, replyTo)
	return &Operator{
		Dispatcher: d,
		Server:     srv,
		ReplyTo:    replyTo,
		Options: []esimgw.Option{
			esimgw.WithEntity(gw.OperatorID, "esimgw-test"),
			esimgw.WithTLSConfig(gw.ClientTLSConfig()),
			esimgw.WithReplyTo(replyTo),
			esimgw.WithDispatcher(d),
			esimgw.WithLogger(gw.logger),
		},
	}, nil
}

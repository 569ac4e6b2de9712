// Package readme_test keeps the documentation's Go honest: every ```go block of README.md and docs/*.md is
// here, between "// snippet" markers, compiled against the real API, and where it can run, run against the
// mock gateways; TestEveryDocSnippetIsHere (snippets_test.go) fails when a block and its copy drift apart or
// a block has no copy. The README's first sample runs against the mock gateway (success, and a bad EID that
// must come back as an error, not a panic). TestArchitectureLayers (layers_test.go) holds the imports to the
// order of docs/ARCHITECTURE.md's package table.
package readme_test

import (
	"context"
	"crypto/tls"
	"errors"
	"log"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/callback"
	"github.com/esimgw/esimgw/es4"
	"github.com/esimgw/esimgw/gatewaytest"
)

// readmeSample is the README's "A first program" block, verbatim between the markers. Its free variables
// are this function's parameters; the README's text says what they are.
func readmeSample(ctx context.Context, es4URL, listenAddr, replyTo string, callbackTLS, clientTLS *tls.Config,
	myOID, eid, iccid string) error {
	// snippet README.md#A first program begin
	d := esimgw.NewDispatcher(esimgw.WithNotificationHandler(esimgw.Notifications{
		ProfileDisabled: func(ctx context.Context, n *esimgw.Notification) error { log.Println(n.Eid, n.Iccid); return nil },
	}))
	srv, err := callback.NewServer(d, callback.WithTLS(callbackTLS)) // mTLS: client certificates required
	if err != nil {
		return err
	}
	if err := srv.Listen(listenAddr); err != nil {
		return err
	}
	defer srv.Close()
	c, err := es4.NewClient(es4URL, esimgw.WithKPN(), esimgw.WithEntity(myOID, "MyMNO"),
		esimgw.WithTLSConfig(clientTLS), esimgw.WithReplyTo(replyTo), esimgw.WithDispatcher(d))
	if err != nil {
		return err
	}
	op, err := c.EnableProfile(ctx, eid, iccid) // validated first: a bad EID is an *esimgw.ValidationError
	if err != nil {
		return err
	}
	res, err := op.Wait(ctx) // the callback's typed result; a failed function is an *esimgw.FunctionError
	if err != nil {
		return err
	}
	log.Println("enabled", iccid, res.Outcome().Status)
	// snippet README.md#A first program end
	return nil
}

// freeLoopback returns a loopback address nothing listens on, for the sample's Listen.
func freeLoopback(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func TestREADMESampleRuns(t *testing.T) {
	gw := gatewaytest.Start(t, gatewaytest.WithProfile(gatewaytest.ProfileKPN))
	run := func(t *testing.T, eid, iccid string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		addr := freeLoopback(t)
		_, port, _ := net.SplitHostPort(addr)
		// The mock's PKI names the callback server "localhost".
		return readmeSample(ctx, gw.ES4URL, addr, "https://localhost:"+port+"/", gw.CallbackServerTLSConfig(),
			gw.ClientTLSConfig(), gw.OperatorID, eid, iccid)
	}

	t.Run("enables the profile", func(t *testing.T) {
		require.NoError(t, run(t, gatewaytest.DefaultEID, gatewaytest.DefaultDisabledICCID))
		e, ok := gw.EUICC(gatewaytest.DefaultEID)
		require.True(t, ok)
		p, _ := e.Enabled()
		assert.Equal(t, gatewaytest.DefaultDisabledICCID, p.ICCID)
	})
	t.Run("an invalid EID is an error, nothing is sent", func(t *testing.T) {
		before := len(gw.Requests())
		err := run(t, "not-an-eid", gatewaytest.DefaultDisabledICCID)
		var ve *esimgw.ValidationError
		require.True(t, errors.As(err, &ve), "want a *esimgw.ValidationError, got %v", err)
		assert.Equal(t, esimgw.FieldEID, ve.Field)
		assert.Len(t, gw.Requests(), before, "nothing may reach the gateway")
	})
	t.Run("a failed function is a FunctionError", func(t *testing.T) {
		err := run(t, gatewaytest.DefaultEID, "89310410000000009994") // a profile the eUICC does not have
		var fe *esimgw.FunctionError
		require.True(t, errors.As(err, &fe), "want a *esimgw.FunctionError, got %v", err)
		assert.ErrorIs(t, err, esimgw.ErrFailed)
	})
}

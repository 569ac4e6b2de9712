// Package readme_test keeps the README's first sample honest: the same code compiles here against the real
// API, runs against the mock gateway (success, and a bad EID that must come back as an error, not a
// panic), and the test fails when the README's block and this file drift apart.
package readme_test

import (
	"context"
	"crypto/tls"
	"errors"
	"log"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/es4"
	"github.com/esimgw/esimgw/gatewaytest"
)

// readmeSample is the README's "A first program" block, verbatim between the markers. Its free variables
// are this function's parameters; the README's text says what they are.
func readmeSample(ctx context.Context, es4URL, listenAddr, replyTo string, callbackTLS, clientTLS *tls.Config,
	myOID, eid, iccid string) error {
	// README begin
	d := esimgw.NewDispatcher(esimgw.WithNotificationHandler(esimgw.Notifications{
		ProfileDisabled: func(ctx context.Context, n *esimgw.Notification) error { log.Println(n.Eid, n.Iccid); return nil },
	}))
	srv, err := esimgw.NewCallbackServer(d, esimgw.WithServerTLS(callbackTLS)) // mTLS: client certificates required
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
	// README end
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

func TestREADMESampleMatches(t *testing.T) {
	readme, err := os.ReadFile("../../../README.md")
	require.NoError(t, err)
	m := regexp.MustCompile("(?s)## A first program.*?```go\\n(.*?)```").FindSubmatch(readme)
	require.NotNil(t, m, "README.md has no \"## A first program\" Go block")
	self, err := os.ReadFile("readme_test.go")
	require.NoError(t, err)
	s := string(self)
	begin, end := strings.Index(s, "// README begin\n"), strings.Index(s, "\t// README end")
	require.True(t, begin >= 0 && end > begin, "readme_test.go lost its README markers")
	code := s[begin+len("// README begin\n") : end]
	norm := func(b string) string {
		var out []string
		for _, l := range strings.Split(b, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, strings.Join(strings.Fields(l), " "))
			}
		}
		return strings.Join(out, "\n")
	}
	assert.Equal(t, norm(code), norm(string(m[1])), "README sample and readmeSample differ")
}

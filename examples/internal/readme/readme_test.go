// Package readme_test keeps the README's ten-line sample honest: the same code compiles here against the
// real API, and the test fails when the README's block and this file drift apart.
package readme_test

import (
	"context"
	"crypto/tls"
	"log"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/es4"
)

// readmeSample is the README's "In ten lines" block, verbatim between the markers.
func readmeSample(ctx context.Context, callbackTLS, clientTLS *tls.Config, myOID, eid, iccid string) error {
	// README begin
	d := esimgw.NewDispatcher(esimgw.WithNotificationHandler(esimgw.Notifications{
		ProfileDisabled: func(ctx context.Context, n *esimgw.Notification) error { log.Println(n.Eid, n.Iccid); return nil },
	}))
	srv, _ := esimgw.NewCallbackServer(d, esimgw.WithServerTLS(callbackTLS)) // mTLS: client certificates required
	_ = srv.Listen(":8443")
	c, _ := es4.NewClient("https://rsp.kpnthings.com/esim-messaging/3/ES4/ES4SmSrService", esimgw.WithKPN(),
		esimgw.WithEntity(myOID, "MyMNO"), esimgw.WithTLSConfig(clientTLS),
		esimgw.WithReplyTo("https://callbacks.example.com:8443/"), esimgw.WithDispatcher(d))
	op, err := c.EnableProfile(ctx, eid, iccid) // validated before anything is sent
	res, err := op.Wait(ctx)                    // the callback's typed result, or a *esimgw.FunctionError
	// README end
	_ = res
	return err
}

var _ = readmeSample

func TestREADMESampleMatches(t *testing.T) {
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## In ten lines\\s*```go\\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no \"## In ten lines\" Go block")
	}
	self, err := os.ReadFile("readme_test.go")
	if err != nil {
		t.Fatal(err)
	}
	s := string(self)
	code := s[strings.Index(s, "// README begin\n")+len("// README begin\n") : strings.Index(s, "\t// README end")]
	norm := func(b string) []string {
		var out []string
		for _, l := range strings.Split(b, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, strings.Join(strings.Fields(l), " "))
			}
		}
		return out
	}
	got, want := norm(string(m[1])), norm(code)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("README sample and readmeSample differ:\nREADME:\n%s\n\ncompiled:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

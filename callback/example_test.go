package callback_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/callback"
	"github.com/esimgw/esimgw/mtls"
	"github.com/esimgw/esimgw/mtls/mtlstest"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// A Dispatcher behind a callback.Server with mutual TLS: the set-up that receives a gateway's callbacks and
// notifications. The throw-away PKI stands for your OV server certificate and the CA of the gateway's
// client certificate, which KPN requires (docs/kpn.md R3); the allow-list pins the gateway's subject.
func ExampleNewServer() {
	quiet := slog.New(slog.DiscardHandler)
	dir, _ := os.MkdirTemp("", "esimgw-example")
	defer os.RemoveAll(dir)
	pki, err := mtlstest.NewPKI(dir, "gateway.example")
	if err != nil {
		fmt.Println(err)
		return
	}

	d := esimgw.NewDispatcher(
		esimgw.WithDispatcherLogger(quiet),
		esimgw.WithNotificationHandler(esimgw.Notifications{
			ProfileDisabled: func(_ context.Context, n *esimgw.Notification) error {
				fmt.Println("notification:", n.Interface, n.Kind, n.Iccid, n.CompletionTimestamp.Format("2006-01-02 15:04"))
				return nil // only now does the gateway get its 202
			},
		}),
		esimgw.WithUnmatchedHandler(func(_ context.Context, in *esimgw.Inbound) error {
			fmt.Println("unmatched:", in.Kind, in.Interface, in.Function)
			return nil
		}),
	)

	// Rotation-aware certificate source (NewFileSource in production) and the client CA pool.
	src, err := mtls.NewFileSource(pki.ServerCertFile, pki.ServerKeyFile, mtls.WithLogger(quiet))
	if err != nil {
		fmt.Println(err)
		return
	}
	srv, err := callback.NewServer(d,
		callback.WithCertificate(src, pki.CA.Pool(), "gateway.example"),
		callback.WithLogger(quiet))
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Shutdown(context.Background())

	// What the gateway does: post a notification with its client certificate.
	body := `<rps:ES4-HandleProfileDisabledNotification><rps:Eid>89049032123451234512345678901235</rps:Eid>` +
		`<rps:Iccid>89310410106543789305</rps:Iccid><rps:completionTimestamp>2024-05-01T10:00:41Z</rps:completionTimestamp>` +
		`</rps:ES4-HandleProfileDisabledNotification>`
	gateway := &http.Client{Transport: &http.Transport{TLSClientConfig: pki.ClientTLSConfig()}}
	for _, b := range []soap.BodyWriter{
		rawBody{"ES4-HandleProfileDisabledNotification", body},
		// Nobody waits for this callback (say, the process restarted since the request).
		&rps.ES4EnableProfileResponse{BaseResponseType: rps.BaseResponseType{
			FunctionExecutionStatus: rps.ExecutionStatusType{Status: rps.StatusTypeEXECUTED_SUCCESS}}},
	} {
		env := soap.AppendEnvelope(nil, &soap.Header{MessageID: "//1.3.6.1.4.1.99999.20/urn:uuid:1?TransactionId=fc-1&MessageDate=2024-05-01T10:00:41Z"}, b)
		res, err := gateway.Post(srv.URL()+"/", "application/soap+xml; charset=utf-8", bytes.NewReader(env))
		if err != nil {
			fmt.Println(err)
			return
		}
		res.Body.Close()
		fmt.Println("gateway got", res.StatusCode)
	}

	// A client without a certificate is refused during the handshake.
	noCert := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.CA.Pool()}}}
	_, err = noCert.Post(srv.URL()+"/", "application/soap+xml", bytes.NewReader(nil))
	fmt.Println("without a client certificate:", err != nil)
	// Output:
	// notification: ES4 ProfileDisabled 89310410106543789305 2024-05-01 10:00
	// gateway got 202
	// unmatched: callback ES4 EnableProfile
	// gateway got 202
	// without a client certificate: true
}

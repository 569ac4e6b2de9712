package es2plus_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/esimgw/esimgw/es2plus"
	"github.com/esimgw/esimgw/progress"
)

func ExampleDecode() {
	n, err := es2plus.Decode([]byte(`{
	  "header":{"functionRequesterIdentifier":"1.3.6.1.4.1.99999","functionCallIdentifier":"hdpi-000042"},
	  "iccid":"8931041010654378930F","profileType":"IOT-EU-1","timestamp":"2026-11-23T10:15:00Z",
	  "notificationPointId":3,"notificationPointStatus":{"status":"Executed-Success"}}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(n.NormalizedICCID(), n.NotificationPointID, n.NotificationPointStatus.Status)

	_, err = es2plus.Decode([]byte(`{"header":{"functionRequesterIdentifier":"x","functionCallIdentifier":"y"}}`))
	fmt.Println(err)
	// Output:
	// 8931041010654378930 3 (bpp-download) Executed-Success
	// es2plus: iccid: required field missing
}

func ExampleParseResultData() {
	// ProfileInstallationResultData with an ErrorResult: bppCommandId 5,
	// errorReason 10.
	der, _ := base64.StdEncoding.DecodeString("vydGgAgBAgMEBQYHCL8vJYABB4ECBIAMEHNtZHAuZXhhbXBsZS5jb21aCpgTQAEBVjSHOfAGCCsGAQQBho0fogihBoABBYEBCg==")
	r, err := es2plus.ParseResultData(der)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Success, r.Error.BPPCommandID, r.Error.ErrorReason, r.Notification.ICCID)
	// Output: false loadProfileElements installFailedDueToInsufficientMemoryForProfile 8931041010654378930
}

func ExampleNewHTTPHandler() {
	board := progress.NewBoard(progress.WithMaxEntries(100000))
	app := es2plus.HandlerFunc(func(ctx context.Context, n *es2plus.DownloadProgressInfo) error {
		// Store n durably here; an error makes the SM-DP+ retry.
		return nil
	})
	mux := http.NewServeMux() // the ES2/ES4 callback server's mux
	mux.Handle(es2plus.Path, es2plus.NewHTTPHandler(es2plus.FeedBoard(board, app)))

	body := []byte(`{"header":{"functionRequesterIdentifier":"x","functionCallIdentifier":"c1"},
	  "iccid":"8931041010654378930","profileType":"IOT","timestamp":"2026-11-23T10:15:00Z",
	  "notificationPointId":4,"notificationPointStatus":{"status":"Executed-Success"}}`)
	req := httptest.NewRequest(http.MethodPost, es2plus.Path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, req)

	e, _ := board.Get("8931041010654378930")
	fmt.Println(w.Code, e.Stage, e.Outcome)
	// Output: 204 Installed Succeeded
}

func ExampleWithSNS() {
	h := es2plus.NewHTTPHandler(es2plus.HandlerFunc(func(context.Context, *es2plus.DownloadProgressInfo) error { return nil }),
		es2plus.WithSNS(es2plus.SNSConfig{
			// CertFetcher nil: the default fetches only https://sns.<region>.amazonaws.com/*.pem.
			TopicARNs: []string{"arn:aws:sns:eu-west-1:123456789012:telna-hdpi"},
			OnSubscriptionConfirmation: func(ctx context.Context, m *es2plus.SNSMessage) error {
				// Record m.SubscribeURL for an operator to visit (or call ConfirmSubscription with m.Token).
				return nil
			},
		}))
	_ = h
}

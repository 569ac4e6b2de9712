package esimgw_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// A gateway that did not get our 202 posts the notification again; the application sees it once. A
// delivery the application failed is not remembered, so the gateway's retry is handed over.
func TestNotificationHandedOverOnce(t *testing.T) {
	var calls, handled, duplicates int
	fail := 1
	d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(slog.New(slog.DiscardHandler)),
		esimgw.WithNotificationHandler(esimgw.Notifications{ProfileEnabled: func(context.Context, *esimgw.Notification) error {
			calls++
			if fail > 0 {
				fail--
				return errors.New("store unavailable")
			}
			handled++
			return nil
		}}),
		esimgw.WithDuplicateHandler(func(_ context.Context, in *esimgw.Inbound) {
			assert.Equal(t, esimgw.InboundNotification, in.Kind)
			duplicates++
		}))
	body := &rps.ES4HandleProfileEnabledNotification{Eid: rps.HexBinary{0x89, 0x04}, Iccid: "89310410106543789305",
		CompletionTimestamp: rps.NewDateTime(time.Date(2024, 5, 1, 10, 0, 41, 0, time.UTC))}
	post := func(messageID string) error {
		m, err := soap.ReadMessage(soap.AppendEnvelope(nil, &soap.Header{MessageID: messageID}, body), soap.ReadOptions{})
		require.NoError(t, err)
		_, err = d.ServeSOAP(context.Background(), m)
		return err
	}

	require.Error(t, post("//1.2/urn:uuid:n1"), "the first delivery fails: 500, the gateway retries")
	require.NoError(t, post("//1.2/urn:uuid:n1"), "the retry is handed over")
	require.NoError(t, post("//1.2/urn:uuid:n1"), "a copy after the 202 is acknowledged")
	require.NoError(t, post("//1.2/urn:uuid:n2"), "another notification")
	assert.Equal(t, 3, calls)
	assert.Equal(t, 2, handled, "n1 once, n2 once")
	assert.Equal(t, 1, duplicates)
}

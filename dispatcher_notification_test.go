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
	"github.com/esimgw/esimgw/correlate"
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

// A copy that arrives while the first is still being handed over waits for it (notifications of one EID
// are handed over one at a time): if the first fails, the copy is handed over; if it succeeds, the copy is
// a duplicate. Where the copy cannot wait (at another replica, which sees the claim InProgress), it is
// answered 503, never acknowledged.
func TestNotificationCopyDuringHandOver(t *testing.T) {
	for _, firstFails := range []bool{true, false} {
		inHandler, release := make(chan struct{}, 2), make(chan struct{})
		var calls int
		d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(slog.New(slog.DiscardHandler)),
			esimgw.WithNotificationHandler(esimgw.Notifications{ProfileEnabled: func(context.Context, *esimgw.Notification) error {
				calls++
				inHandler <- struct{}{}
				<-release
				if calls == 1 && firstFails {
					return errors.New("application store down")
				}
				return nil
			}}))
		body := &rps.ES4HandleProfileEnabledNotification{Eid: rps.HexBinary{0x89, 0x04}, Iccid: "89310410106543789305",
			CompletionTimestamp: rps.NewDateTime(time.Date(2024, 5, 1, 10, 0, 41, 0, time.UTC))}
		post := func() error {
			m, err := soap.ReadMessage(soap.AppendEnvelope(nil, &soap.Header{MessageID: "//1.2/urn:uuid:n1"}, body), soap.ReadOptions{})
			require.NoError(t, err)
			_, err = d.ServeSOAP(context.Background(), m)
			return err
		}
		first, second := make(chan error), make(chan error)
		go func() { first <- post() }()
		<-inHandler
		go func() { second <- post() }()
		close(release)
		if firstFails {
			require.Error(t, <-first)
			require.NoError(t, <-second, "the copy is handed over when the first hand-over failed")
			assert.Equal(t, 2, calls)
		} else {
			require.NoError(t, <-first)
			require.NoError(t, <-second, "the copy is acknowledged as a duplicate")
			assert.Equal(t, 1, calls)
		}

		claim, err := d.Store().ClaimMessage(context.Background(), correlate.ScopeNotification, "//1.2/urn:uuid:n2")
		require.NoError(t, err)
		require.Equal(t, correlate.Claimed, claim, "another replica holds n2 now")
		m, err := soap.ReadMessage(soap.AppendEnvelope(nil, &soap.Header{MessageID: "//1.2/urn:uuid:n2"}, body), soap.ReadOptions{})
		require.NoError(t, err)
		_, err = d.ServeSOAP(context.Background(), m)
		var f *soap.Fault
		require.ErrorAs(t, err, &f)
		assert.Equal(t, 503, f.StatusCode(), "a copy of a message being handed over is not acknowledged")
	}
}

// A callback nobody waits for reaches the unmatched handler once, however often the gateway sends it.
func TestUnmatchedCallbackHandedOverOnce(t *testing.T) {
	var unmatched, duplicates int
	d := esimgw.NewDispatcher(esimgw.WithDispatcherLogger(slog.New(slog.DiscardHandler)),
		esimgw.WithUnmatchedHandler(func(context.Context, *esimgw.Inbound) error { unmatched++; return nil }),
		esimgw.WithDuplicateHandler(func(context.Context, *esimgw.Inbound) { duplicates++ }))
	body := &rps.ES4EnableProfileResponse{BaseResponseType: rps.BaseResponseType{FunctionExecutionStatus: rps.ExecutionStatusType{Status: rps.StatusTypeEXECUTED_SUCCESS}}}
	for range 3 {
		m, err := soap.ReadMessage(soap.AppendEnvelope(nil, &soap.Header{MessageID: "//1.2/urn:uuid:cb1", RelatesTo: "//1.2/urn:uuid:gone"}, body), soap.ReadOptions{})
		require.NoError(t, err)
		_, err = d.ServeSOAP(context.Background(), m)
		require.NoError(t, err)
	}
	assert.Equal(t, 1, unmatched)
	assert.Equal(t, 2, duplicates)
}

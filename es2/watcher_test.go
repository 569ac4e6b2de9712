package es2_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/es2"
	"github.com/esimgw/esimgw/soap"
)

func note(iface string, kind esimgw.NotificationKind, eid, iccid string) *esimgw.Notification {
	return &esimgw.Notification{Interface: iface, Kind: kind, Eid: eid, Iccid: iccid, CompletionTimestamp: testTime}
}

func TestWatcherMatches(t *testing.T) {
	ctx := context.Background()
	w := es2.NewWatcher(nil)
	wt := w.Watch(testEID, testICCID, esimgw.ProfileEnabled)
	defer wt.Stop()
	any := w.Watch(testEID, "", esimgw.ProfileDisabled)
	defer any.Stop()
	assert.Equal(t, 2, w.Watching())

	// Not taken: other kind, other eUICC, other profile.
	for _, n := range []*esimgw.Notification{
		note("ES2", esimgw.ProfileDeleted, testEID, testICCID),
		note("ES2", esimgw.ProfileEnabled, "89049032000001000000000000000268", testICCID),
		note("ES2", esimgw.ProfileEnabled, testEID, otherICCID),
	} {
		assert.ErrorIs(t, w.HandleNotification(ctx, n), esimgw.ErrNotHandled)
	}
	// Taken: EID in lower case, ICCID padded, and from ES4 too.
	lower := []byte(testEID)
	for i, c := range lower {
		if c >= 'A' && c <= 'F' {
			lower[i] = c + 'a' - 'A'
		}
	}
	require.NoError(t, w.HandleNotification(ctx, note("ES2", esimgw.ProfileEnabled, string(lower), testICCID+"F")))
	require.NoError(t, w.HandleNotification(ctx, note("ES4", esimgw.ProfileEnabled, testEID, testICCID)))
	require.NoError(t, w.HandleNotification(ctx, note("ES2", esimgw.ProfileDisabled, testEID, otherICCID)))

	n, err := wt.Next(ctx)
	require.NoError(t, err)
	assert.Equal(t, "ES2", n.Interface)
	n, err = wt.Next(ctx)
	require.NoError(t, err)
	assert.Equal(t, "ES4", n.Interface)
	n, err = any.Next(ctx)
	require.NoError(t, err)
	assert.Equal(t, otherICCID, n.Iccid)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = wt.Next(cctx)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestWatcherPassesOn(t *testing.T) {
	ctx := context.Background()
	var got []*esimgw.Notification
	boom := errors.New("store down")
	next := esimgw.NotificationHandlerFunc(func(_ context.Context, n *esimgw.Notification) error {
		got = append(got, n)
		if n.Kind == esimgw.ProfileDeleted {
			return boom
		}
		return nil
	})
	w := es2.NewWatcher(next)
	wt := w.Watch(testEID, testICCID, esimgw.ProfileEnabled)
	require.NoError(t, w.HandleNotification(ctx, note("ES2", esimgw.ProfileEnabled, testEID, testICCID)))
	require.NoError(t, w.HandleNotification(ctx, note("ES2", esimgw.ProfileDisabled, testEID, testICCID)))
	require.ErrorIs(t, w.HandleNotification(ctx, note("ES2", esimgw.ProfileDeleted, testEID, testICCID)), boom)
	assert.Len(t, got, 3, "every notification reaches the next handler")
	n, err := wt.Next(ctx)
	require.NoError(t, err)
	assert.Equal(t, esimgw.ProfileEnabled, n.Kind)
}

func TestWatchStopAndDrop(t *testing.T) {
	ctx := context.Background()
	w := es2.NewWatcher(nil)
	wt := w.Watch(testEID, testICCID, esimgw.ProfileEnabled)
	for i := range 20 {
		err := w.HandleNotification(ctx, note("ES2", esimgw.ProfileEnabled, testEID, testICCID))
		if i < 16 {
			require.NoError(t, err)
		} else {
			require.ErrorIs(t, err, esimgw.ErrNotHandled, "a dropped notification goes to the unmatched handler, not lost")
		}
	}
	assert.Equal(t, 4, wt.Dropped())
	wt.Stop()
	wt.Stop()
	assert.Zero(t, w.Watching())
	assert.ErrorIs(t, w.HandleNotification(ctx, note("ES2", esimgw.ProfileEnabled, testEID, testICCID)), esimgw.ErrNotHandled)
	for range 16 {
		_, err := wt.Next(ctx)
		require.NoError(t, err, "what the watch holds is still read")
	}
	_, err := wt.Next(ctx)
	assert.ErrorIs(t, err, es2.ErrWatchStopped)
}

// TestWatcherBehindDispatcher: a notification nobody watches goes to the Dispatcher's unmatched handler.
func TestWatcherBehindDispatcher(t *testing.T) {
	ctx := context.Background()
	w := es2.NewWatcher(nil)
	unmatched := make(chan *esimgw.Inbound, 1)
	d := esimgw.NewDispatcher(esimgw.WithNotificationHandler(w), esimgw.WithDispatcherLogger(quiet()),
		esimgw.WithUnmatchedHandler(func(_ context.Context, in *esimgw.Inbound) error { unmatched <- in; return nil }))
	wt := w.Watch(testEID, testICCID, esimgw.ProfileEnabled)
	defer wt.Stop()
	post := func(iccid string) {
		h := &soap.Header{From: "https://smdp.example.net?EntityId=" + testSMDP, To: testReplyTo, MessageID: "//" + testSMDP + "/urn:uuid:n-" + iccid, // unique per message, as GSMA requires
			Action: "http://gsma.com/ES2/PlatformManagement/ES2-HandleProfileEnabledNotification"}
		m, err := soap.ReadMessage(soap.AppendEnvelope(nil, h, enabledNotification(iccid)), soap.ReadOptions{})
		require.NoError(t, err)
		_, err = d.ServeSOAP(ctx, m)
		require.NoError(t, err)
	}
	post(testICCID)
	n, err := wt.Next(ctx)
	require.NoError(t, err)
	assert.Equal(t, testTime, n.CompletionTimestamp.UTC())
	assert.Empty(t, unmatched)

	post(otherICCID)
	select {
	case in := <-unmatched:
		assert.Equal(t, esimgw.InboundNotification, in.Kind)
	case <-time.After(5 * time.Second):
		t.Fatal("the unwatched notification did not reach the unmatched handler")
	}
}

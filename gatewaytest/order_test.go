package gatewaytest_test

import (
	"context"
	"io"
	"log"
	"net"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// TestNotificationsInOrderPerEID: the mock posts the notifications of one EID one after the other, in the
// order of the state changes, as an SM-SR does (issue 17, defect 9): two local switches in a row end with
// the notification of the profile that is enabled now, however slow the receiver.
func TestNotificationsInOrderPerEID(t *testing.T) {
	g := gatewaytest.Start(t, gatewaytest.WithFleet(1))
	var mu sync.Mutex
	running, maxRunning := map[string]int{}, 0
	type got struct{ kind, eid, iccid string }
	var arrived []got
	h := soap.NewHandler(soap.MessageHandlerFunc(func(ctx context.Context, m *soap.Message) (*soap.Reply, error) {
		var n rps.ES4HandleProfileEnabledNotification // Enabled and Disabled have the same fields
		if err := m.DecodeBody(&n); err != nil {
			return nil, err
		}
		eid := n.Eid.String()
		mu.Lock()
		running[eid]++
		maxRunning = max(maxRunning, running[eid])
		arrived = append(arrived, got{m.BodyName, eid, n.Iccid})
		mu.Unlock()
		time.Sleep(5 * time.Millisecond) // a slow receiver: a concurrent post would overlap
		mu.Lock()
		running[eid]--
		mu.Unlock()
		return nil, nil
	}))
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = g.CallbackServerTLSConfig()
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	g.SetNotificationURL(gatewaytest.ES4, "https://localhost:"+strconv.Itoa(srv.Listener.Addr().(*net.TCPAddr).Port)+"/es4")

	fleet := gatewaytest.FleetEID(0)
	for range 3 {
		require.NoError(t, g.SimulateLocalEnable(gatewaytest.DefaultEID, gatewaytest.DefaultDisabledICCID))
		require.NoError(t, g.SimulateLocalEnable(fleet, gatewaytest.FleetFallbackICCID(0)))
		require.NoError(t, g.SimulateLocalEnable(gatewaytest.DefaultEID, gatewaytest.DefaultEnabledICCID))
		require.NoError(t, g.SimulateLocalEnable(fleet, gatewaytest.FleetEnabledICCID(0)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	require.NoError(t, g.WaitIdle(ctx))

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 1, maxRunning, "never two notifications of one EID at once")
	var forDefault []got
	for _, a := range arrived {
		if a.eid == gatewaytest.DefaultEID {
			forDefault = append(forDefault, a)
		}
	}
	require.Len(t, forDefault, 12)
	for i := 0; i < len(forDefault); i += 4 {
		assert.Equal(t, []got{
			{"ES4-HandleProfileDisabledNotification", gatewaytest.DefaultEID, gatewaytest.DefaultEnabledICCID},
			{"ES4-HandleProfileEnabledNotification", gatewaytest.DefaultEID, gatewaytest.DefaultDisabledICCID},
			{"ES4-HandleProfileDisabledNotification", gatewaytest.DefaultEID, gatewaytest.DefaultDisabledICCID},
			{"ES4-HandleProfileEnabledNotification", gatewaytest.DefaultEID, gatewaytest.DefaultEnabledICCID},
		}, forDefault[i:i+4], "in the order of the state changes")
	}
	assert.Len(t, arrived, 24)
}

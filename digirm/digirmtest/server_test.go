package digirmtest_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/digirm/digirmtest"
)

func get(t *testing.T, drm *digirmtest.Server, path string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, drm.URL+path, nil)
	require.NoError(t, err)
	req.SetBasicAuth(digirmtest.User, digirmtest.Password)
	resp, err := drm.Client().Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// The mock enforces its throttle and counts who went over it.
func TestThrottleIsEnforced(t *testing.T) {
	drm := digirmtest.Start(t, digirmtest.WithThrottle(digirmtest.Throttle{Requests: 3, Window: time.Minute, Concurrent: 1}))
	for range 3 {
		assert.Equal(t, http.StatusOK, get(t, drm, "/inventory"))
	}
	assert.Equal(t, http.StatusTooManyRequests, get(t, drm, "/inventory"))
	assert.Equal(t, http.StatusTooManyRequests, get(t, drm, "/inventory"))
	st := drm.Stats()
	assert.Equal(t, 2, st.OverThrottle)
	assert.Equal(t, 1, st.IgnoredRetryAfter, "the second came during the first 429's Retry-After; with one request at a time none was on the way")
}

func TestFleetIdentifiersAreValid(t *testing.T) {
	seen := map[string]bool{}
	for i := range 100 {
		for _, id := range []string{digirmtest.FleetEID(i), digirmtest.FleetEnabledICCID(i), digirmtest.FleetDisabledICCID(i), digirmtest.FleetDeviceID(i)} {
			require.NotEmpty(t, id)
			require.False(t, seen[id], id)
			seen[id] = true
		}
	}
}

// A mock for a test: the client options point a digirm.Client at it.
func ExampleServer() {
	drm := digirmtest.NewServer(digirmtest.WithFleet(2))
	defer drm.Close()
	fmt.Println(drm.Profiles(digirmtest.FleetEID(1))[digirmtest.FleetEnabledICCID(1)])
	// Output: active
}

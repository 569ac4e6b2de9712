package thingspacetest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/thingspace/thingspacetest"
)

func token(t *testing.T, ts *thingspacetest.Server, key, secret string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, ts.TokenURL, strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	require.NoError(t, err)
	req.SetBasicAuth(key, secret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := ts.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestTokenEndpoint(t *testing.T) {
	ts := thingspacetest.Start(t)
	status, first := token(t, ts, thingspacetest.AppKey, thingspacetest.AppSecret)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "Bearer", first["token_type"])
	_, second := token(t, ts, thingspacetest.AppKey, thingspacetest.AppSecret)
	assert.Equal(t, first["access_token"], second["access_token"], "the same token within its hour")
	status, _ = token(t, ts, thingspacetest.AppKey, "wrong")
	assert.Equal(t, http.StatusUnauthorized, status)
	ts.Inject(thingspacetest.ExpireToken{})
	_, third := token(t, ts, thingspacetest.AppKey, thingspacetest.AppSecret)
	assert.NotEqual(t, first["access_token"], third["access_token"], "a new one once it expired")
	assert.Equal(t, 2, ts.Stats().TokensIssued)
}

func TestActionsNeedBothCredentials(t *testing.T) {
	ts := thingspacetest.Start(t)
	_, tok := token(t, ts, thingspacetest.AppKey, thingspacetest.AppSecret)
	body := `{"devices":[{"deviceIds":[{"kind":"eid","id":"` + thingspacetest.DefaultEID + `"},{"kind":"iccid","id":"` +
		thingspacetest.DisabledICCID + `"}]}],"accountName":"` + thingspacetest.AccountName + `","smsrOid":"` + thingspacetest.SMSROID + `"}`
	post := func(body string, bearer, session string) (int, string) {
		req, err := http.NewRequest(http.MethodPost, ts.URL+"/devices/profile/actions/enable", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+bearer)
		req.Header.Set("VZ-M2M-Token", session)
		resp, err := ts.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var out map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out["errorCode"]
	}
	status, _ := post(body, fmt.Sprint(tok["access_token"]), "no-session")
	assert.Equal(t, http.StatusUnauthorized, status)
	status, _ = post(body, "stale", "no-session")
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, 0, ts.Stats().Actions)
	require.NoError(t, ts.WaitIdle(context.Background()))
}

// A mock for a test: the client options point a thingspace.Client at it.
func ExampleServer() {
	ts := thingspacetest.NewServer()
	defer ts.Close()
	fmt.Println(len(ts.ClientOptions()) > 0, ts.EUICC(thingspacetest.DefaultEID)[thingspacetest.EnabledICCID])
	// Output: true enabled
}

package thingspace_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/thingspace"
)

// The three callback bodies of the vendor page (docs/carriers.md), mapped to SGP.02 statuses.
func TestCallbackStatusMapping(t *testing.T) {
	for _, c := range []struct {
		name, body      string
		status          esimgw.Status
		subject, reason string
		eid, iccid      string
	}{
		{"success", `{"username":"","password":"","requestId":"0ecf5171-cdfb-4d49-a6d3-f9347b73913d",
			"deviceIds":[{"id":"78425989148000000840","kind":"Iccid"},{"id":"678912789123453456784008666456","kind":"Eid"}],
			"deviceResponse":{"deviceProfileResponse":{"deviceIdentifierCollection":[{"id":"78425989148000000840","kind":"iccid"},
			{"id":"678912789123453456784008666456","kind":"eid"}],"ipAddress":"11.11.11.12","state":"Active","servicePlan":"sp4g",
			"deviceCredential":{},"smsrOid":"1.3.6.1.4.1.31746.1.500.200.101.5","profileStatus":"DOWNLOAD_ENABLE",
			"euiccStatus":"EXECUTED_SUCCESS","euiccStatusCode":"1.2.365","euiccStatusDesc":"EUICC device profile has been updated",
			"euiccSubAddressUpdateStatus":"EXECUTED_SUCCESS","euiccSubAddressUpdateStatusCode":"1",
			"euiccSubAddressUpdateStatusDesc":"SUCCESS: Address has been updated"}},"callbackCount":1,"maxCallbackThreshold":4}`,
			esimgw.StatusExecutedSuccess, "", "", "678912789123453456784008666456", "78425989148000000840"},
		{"warning", `{"username":"user","password":"user","requestId":"24da8f8a-d110-4a54-86b4-83fb76aab83c",
			"deviceIds":[{"id":"666456789014008","kind":"Imei"},{"id":"666456789123456789123456784008","kind":"Eid"}],
			"deviceResponse":{"deviceProfileResponse":{"euiccStatus":"EXECUTED_WITHWARNING","euiccStatusCode":"8.2.1,3.9",
			"euiccStatusDesc":"The use case was expired at notification receiving step. The server did not receive eUICC notification."}},
			"status":"Success","callbackCount":1,"maxCallbackThreshold":4}`,
			esimgw.StatusExecutedWithWarning, "8.2.1", "3.9", "666456789123456789123456784008", ""},
		{"error code", `{"requestId":"r","deviceResponse":{"deviceProfileResponse":{"euiccStatus":"FAILED",
			"euiccErrorCode":"8.2.1, 3.8","euiccErrorDesc":"refused"}},"status":"Failed"}`,
			esimgw.StatusFailed, "8.2.1", "3.8", "", ""},
		{"status only", `{"requestId":"r","status":"Failed"}`, esimgw.StatusFailed, "", "", "", ""},
		{"unknown status", `{"requestId":"r","deviceResponse":{"deviceProfileResponse":{"euiccStatus":"EXECUTED_SOMEHOW"}}}`,
			"EXECUTED_SOMEHOW", "", "", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			cb, err := thingspace.DecodeCallback([]byte(c.body))
			require.NoError(t, err)
			st := cb.ExecutionStatus()
			assert.Equal(t, c.status, st.Status)
			assert.Equal(t, c.subject, st.Subject)
			assert.Equal(t, c.reason, st.Reason)
			assert.Equal(t, c.eid, cb.Device("eid"))
			assert.Equal(t, c.iccid, cb.Device("iccid"))
			assert.NotContains(t, strings.ToLower(cb.String()), "password", "String never shows the credentials")
		})
	}
}

package es2plus_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/es2plus"
)

// specExample is the example body of docs/es2plus.md section 2, with a real resultData.
func specExample() string {
	rd := base64.StdEncoding.EncodeToString(pird(errorResult([]byte{5}, []byte{10}, nil)))
	return `{"header":{"functionRequesterIdentifier":"1.3.6.1.4.1.99999","functionCallIdentifier":"hdpi-000042"},
 "eid":"89049032000001000000000000000042","iccid":"8931041010654378930F","profileType":"IOT-EU-1",
 "timestamp":"2026-11-23T10:15:00Z","notificationPointId":4,
 "notificationPointStatus":{"status":"Failed","statusCodeData":{"subjectCode":"8.1","reasonCode":"4.8",
   "subjectIdentifier":"89049032000001000000000000000042","message":"install failed"}},
 "resultData":"` + rd + `"}`
}

// body builds a valid notification with fields replaced (nil value deletes).
func body(t testing.TB, set map[string]any) []byte {
	t.Helper()
	m := map[string]any{
		"header":                  map[string]any{"functionRequesterIdentifier": "1.3.6.1.4.1.99999", "functionCallIdentifier": "fc-1"},
		"iccid":                   "8931041010654378930",
		"profileType":             "IOT-EU-1",
		"timestamp":               "2026-11-23T10:15:00Z",
		"notificationPointId":     3,
		"notificationPointStatus": map[string]any{"status": "Executed-Success"},
	}
	for k, v := range set {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return b
}

func TestDecodeSpecExample(t *testing.T) {
	n, err := es2plus.Decode([]byte(specExample()))
	require.NoError(t, err)
	assert.Equal(t, "1.3.6.1.4.1.99999", n.Header.FunctionRequesterIdentifier)
	assert.Equal(t, "hdpi-000042", n.Header.FunctionCallIdentifier)
	assert.Equal(t, "89049032000001000000000000000042", n.EID)
	assert.Equal(t, "8931041010654378930F", n.ICCID)
	assert.Equal(t, "8931041010654378930", n.NormalizedICCID())
	assert.Equal(t, "IOT-EU-1", n.ProfileType)
	assert.Equal(t, time.Date(2026, 11, 23, 10, 15, 0, 0, time.UTC), n.Timestamp)
	assert.Equal(t, es2plus.PointBPPInstalled, n.NotificationPointID)
	assert.Equal(t, es2plus.StatusFailed, n.NotificationPointStatus.Status)
	require.NotNil(t, n.NotificationPointStatus.StatusCodeData)
	assert.Equal(t, es2plus.StatusCodeData{SubjectCode: "8.1", ReasonCode: "4.8",
		SubjectIdentifier: "89049032000001000000000000000042", Message: "install failed"}, *n.NotificationPointStatus.StatusCodeData)
	require.NoError(t, n.ResultErr)
	require.NotNil(t, n.Result)
	assert.Equal(t, es2plus.ErrorReason(10), n.Result.Error.ErrorReason)
	assert.Equal(t, []string{"iccid-padded"}, n.Quirks)
	assert.Nil(t, n.Extra)
}

func TestDecodeFieldRules(t *testing.T) {
	tests := []struct {
		name  string
		set   map[string]any
		field string // "" = valid
		err   error
	}{
		{"valid", nil, "", nil},
		{"missing header", map[string]any{"header": nil}, "header", es2plus.ErrMissing},
		{"header not object", map[string]any{"header": "x"}, "header", es2plus.ErrInvalid},
		{"missing requester", map[string]any{"header": map[string]any{"functionCallIdentifier": "a"}}, "header.functionRequesterIdentifier", es2plus.ErrMissing},
		{"missing call id", map[string]any{"header": map[string]any{"functionRequesterIdentifier": "a"}}, "header.functionCallIdentifier", es2plus.ErrMissing},
		{"empty call id", map[string]any{"header": map[string]any{"functionRequesterIdentifier": "a", "functionCallIdentifier": ""}}, "header.functionCallIdentifier", es2plus.ErrMissing},
		{"call id not string", map[string]any{"header": map[string]any{"functionRequesterIdentifier": "a", "functionCallIdentifier": 5}}, "header.functionCallIdentifier", es2plus.ErrInvalid},
		{"eid absent ok", map[string]any{"eid": nil}, "", nil},
		{"eid empty ok", map[string]any{"eid": ""}, "", nil},
		{"eid ok", map[string]any{"eid": "89049032000001000000000000000042"}, "", nil},
		{"eid short", map[string]any{"eid": "8904903200000100000000000000004"}, "eid", es2plus.ErrInvalid},
		{"eid letters", map[string]any{"eid": "8904903200000100000000000000004A"}, "eid", es2plus.ErrInvalid},
		{"eid number", map[string]any{"eid": 8904903}, "eid", es2plus.ErrInvalid},
		{"missing iccid", map[string]any{"iccid": nil}, "iccid", es2plus.ErrMissing},
		{"null iccid", map[string]any{"iccid": json.RawMessage("null")}, "iccid", es2plus.ErrMissing},
		{"empty iccid", map[string]any{"iccid": ""}, "iccid", es2plus.ErrMissing},
		{"iccid 20 digits", map[string]any{"iccid": "89310410106543789301"}, "", nil},
		{"iccid padded lower f", map[string]any{"iccid": "8931041010654378930f"}, "", nil},
		{"iccid too short", map[string]any{"iccid": "89310410106543789"}, "iccid", es2plus.ErrInvalid},
		{"iccid too long", map[string]any{"iccid": "893104101065437893012"}, "iccid", es2plus.ErrInvalid},
		{"iccid 20 digits plus F", map[string]any{"iccid": "89310410106543789301F"}, "iccid", es2plus.ErrInvalid},
		{"iccid double F", map[string]any{"iccid": "893104101065437893FF"}, "iccid", es2plus.ErrInvalid},
		{"iccid letters", map[string]any{"iccid": "89310410106543789A0"}, "iccid", es2plus.ErrInvalid},
		{"iccid number", map[string]any{"iccid": 8931041010654378930}, "iccid", es2plus.ErrInvalid},
		{"missing profileType", map[string]any{"profileType": nil}, "profileType", es2plus.ErrMissing},
		{"empty profileType", map[string]any{"profileType": ""}, "profileType", es2plus.ErrMissing},
		{"missing timestamp", map[string]any{"timestamp": nil}, "timestamp", es2plus.ErrMissing},
		{"empty timestamp", map[string]any{"timestamp": ""}, "timestamp", es2plus.ErrMissing},
		{"bad timestamp", map[string]any{"timestamp": "23/11/2026 10:15"}, "timestamp", es2plus.ErrInvalid},
		{"timestamp no zone", map[string]any{"timestamp": "2026-11-23T10:15:00"}, "timestamp", es2plus.ErrInvalid},
		{"timestamp bool", map[string]any{"timestamp": true}, "timestamp", es2plus.ErrInvalid},
		{"timestamp offset", map[string]any{"timestamp": "2026-11-23T11:15:00+01:00"}, "", nil},
		{"timestamp fraction", map[string]any{"timestamp": "2026-11-23T10:15:00.123Z"}, "", nil},
		{"timestamp no seconds", map[string]any{"timestamp": "2026-11-23T10:15Z"}, "", nil},
		{"missing point", map[string]any{"notificationPointId": nil}, "notificationPointId", es2plus.ErrMissing},
		{"point not numeric", map[string]any{"notificationPointId": "three"}, "notificationPointId", es2plus.ErrInvalid},
		{"point fraction", map[string]any{"notificationPointId": 3.5}, "notificationPointId", es2plus.ErrInvalid},
		{"point negative", map[string]any{"notificationPointId": -1}, "notificationPointId", es2plus.ErrInvalid},
		{"point huge", map[string]any{"notificationPointId": json.RawMessage("99999999999")}, "notificationPointId", es2plus.ErrInvalid},
		{"point object", map[string]any{"notificationPointId": map[string]any{}}, "notificationPointId", es2plus.ErrInvalid},
		{"point unknown kept", map[string]any{"notificationPointId": 101}, "", nil},
		{"missing status object", map[string]any{"notificationPointStatus": nil}, "notificationPointStatus", es2plus.ErrMissing},
		{"status object string", map[string]any{"notificationPointStatus": "Failed"}, "notificationPointStatus", es2plus.ErrInvalid},
		{"missing status", map[string]any{"notificationPointStatus": map[string]any{}}, "notificationPointStatus.status", es2plus.ErrMissing},
		{"unknown status", map[string]any{"notificationPointStatus": map[string]any{"status": "Done"}}, "notificationPointStatus.status", es2plus.ErrInvalid},
		{"status any case", map[string]any{"notificationPointStatus": map[string]any{"status": "executed-success"}}, "", nil},
		{"status with warning", map[string]any{"notificationPointStatus": map[string]any{"status": "Executed-WithWarning"}}, "", nil},
		{"status expired", map[string]any{"notificationPointStatus": map[string]any{"status": "Expired"}}, "", nil},
		{"statusCodeData no subject", map[string]any{"notificationPointStatus": map[string]any{"status": "Failed", "statusCodeData": map[string]any{"reasonCode": "4.8"}}}, "notificationPointStatus.statusCodeData.subjectCode", es2plus.ErrMissing},
		{"statusCodeData no reason", map[string]any{"notificationPointStatus": map[string]any{"status": "Failed", "statusCodeData": map[string]any{"subjectCode": "8.1"}}}, "notificationPointStatus.statusCodeData.reasonCode", es2plus.ErrMissing},
		{"statusCodeData not object", map[string]any{"notificationPointStatus": map[string]any{"status": "Failed", "statusCodeData": 1}}, "notificationPointStatus.statusCodeData", es2plus.ErrInvalid},
		{"statusCodeData message not string", map[string]any{"notificationPointStatus": map[string]any{"status": "Failed", "statusCodeData": map[string]any{"subjectCode": "8.1", "reasonCode": "4.8", "message": 1}}}, "notificationPointStatus.statusCodeData.message", es2plus.ErrInvalid},
		{"resultData bad base64", map[string]any{"resultData": "!!!notbase64"}, "resultData", es2plus.ErrInvalid},
		{"resultData object", map[string]any{"resultData": map[string]any{"a": 1}}, "resultData", es2plus.ErrInvalid},
		{"resultData empty ok", map[string]any{"resultData": ""}, "", nil},
		{"resultData unpadded ok", map[string]any{"resultData": "vyc"}, "", nil},
		{"resultData garbage DER kept", map[string]any{"resultData": "AAEC"}, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := es2plus.Decode(body(t, tt.set))
			if tt.field == "" {
				require.NoError(t, err)
				require.NotNil(t, n)
				return
			}
			require.Error(t, err)
			assert.Nil(t, n)
			var fe *es2plus.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tt.field, fe.Field)
			assert.ErrorIs(t, err, tt.err)
			assert.Contains(t, err.Error(), tt.field)
		})
	}
}

func TestDecodeNotificationPoints(t *testing.T) {
	tests := []struct {
		id    int
		name  string
		known bool
	}{
		{1, "eligibility-and-retry-limit", true},
		{2, "confirmation-failure", true},
		{3, "bpp-download", true},
		{4, "bpp-installation", true},
		{5, "", false},
		{6, "local-enable", true},
		{7, "local-disable", true},
		{8, "local-delete", true},
		{0, "", false},
		{101, "", false},
		{102, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+string(rune('0'+tt.id%10)), func(t *testing.T) {
			n, err := es2plus.Decode(body(t, map[string]any{"notificationPointId": tt.id}))
			require.NoError(t, err)
			p := n.NotificationPointID
			assert.Equal(t, es2plus.NotificationPoint(tt.id), p)
			assert.Equal(t, tt.name, p.Name())
			assert.Equal(t, tt.known, p.Known())
			assert.Equal(t, tt.known, p.Description() != "")
			if tt.known {
				assert.Contains(t, p.String(), tt.name)
			}
		})
	}
}

func TestDecodeVariants(t *testing.T) {
	raw := `{"header":{"functionRequesterIdentifier":"x","functionCallIdentifier":"HandleDownloadProgressInfo"},
	  "iccid":"8931041010654378930F","profileType":"P9054-2","timeStamp":"1709712641",
	  "notificationPointId":"102","notificationPointStatus":{"status":"Executed-Success"},
	  "imei":"35345678901234","tac":"35345678","vendor":{"x":1}}`
	n, err := es2plus.Decode([]byte(raw))
	require.NoError(t, err)
	assert.Equal(t, time.Unix(1709712641, 0).UTC(), n.Timestamp)
	assert.Equal(t, es2plus.NotificationPoint(102), n.NotificationPointID)
	assert.Equal(t, "8931041010654378930", n.NormalizedICCID())
	assert.ElementsMatch(t, []string{"iccid-padded", "timeStamp", "timestamp-epoch", "notificationPointId-string"}, n.Quirks)
	require.Len(t, n.Extra, 3)
	assert.JSONEq(t, `"35345678901234"`, string(n.Extra["imei"]))
	assert.JSONEq(t, `"35345678"`, string(n.Extra["tac"]))

	// Epoch seconds as a JSON number.
	n, err = es2plus.Decode(body(t, map[string]any{"timestamp": 1709712641}))
	require.NoError(t, err)
	assert.Equal(t, int64(1709712641), n.Timestamp.Unix())

	// Canonical encoding never emits the variants.
	out, err := n.MarshalJSON()
	require.NoError(t, err)
	assert.Contains(t, string(out), `"timestamp":"2024-03-06T08:10:41Z"`)
	assert.Contains(t, string(out), `"notificationPointId":3`)
}

func TestDecodeMalformed(t *testing.T) {
	for _, in := range []string{"", "null", "[]", "{", `"x"`, "{}x", "1"} {
		t.Run(in, func(t *testing.T) {
			_, err := es2plus.Decode([]byte(in))
			require.Error(t, err)
			var se *es2plus.SyntaxError
			assert.ErrorAs(t, err, &se)
		})
	}
	_, err := es2plus.Decode([]byte("{}"))
	var fe *es2plus.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "header", fe.Field)
}

func TestMarshalRoundTrip(t *testing.T) {
	n, err := es2plus.Decode([]byte(specExample()))
	require.NoError(t, err)
	n.Extra = map[string]json.RawMessage{"imei": json.RawMessage(`"1"`), "iccid": json.RawMessage(`"no"`)}
	out, err := n.MarshalJSON()
	require.NoError(t, err)
	back, err := es2plus.Decode(out)
	require.NoError(t, err)
	assert.Equal(t, n.ICCID, back.ICCID)
	assert.Equal(t, n.ResultData, back.ResultData)
	assert.Equal(t, n.NotificationPointStatus, back.NotificationPointStatus)
	assert.True(t, n.Timestamp.Equal(back.Timestamp))
	assert.Equal(t, map[string]json.RawMessage{"imei": json.RawMessage(`"1"`)}, back.Extra)
	assert.False(t, strings.Contains(string(out), "timeStamp"))
}

func TestResultDataKeptWhenUnparsable(t *testing.T) {
	n, err := es2plus.Decode(body(t, map[string]any{"resultData": "vzcDAQID"}))
	require.NoError(t, err)
	assert.Equal(t, []byte{0xBF, 0x37, 0x03, 0x01, 0x02, 0x03}, n.ResultData)
	assert.Nil(t, n.Result)
	var rde *es2plus.ResultDataError
	require.ErrorAs(t, n.ResultErr, &rde)
	assert.Equal(t, n.ResultData, rde.Raw)
}

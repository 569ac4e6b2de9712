package thingspace_test

import (
	"errors"
	"testing"

	"github.com/esimgw/esimgw/thingspace"
)

// FuzzDecodeCallback: any body either decodes to a callback with a requestId, whose status mapping,
// String and device lookups do not panic, or is refused with ErrMalformedCallback.
func FuzzDecodeCallback(f *testing.F) {
	for _, s := range []string{
		`{"username":"u","password":"p","requestId":"24da8f8a","deviceIds":[{"id":"666456789014008","kind":"Imei"}],` +
			`"deviceResponse":{"deviceProfileResponse":{"euiccStatus":"EXECUTED_WITHWARNING","euiccStatusCode":"8.2.1,3.9"}},` +
			`"status":"Success","callbackCount":1,"maxCallbackThreshold":4}`,
		`{"requestId":"x","deviceResponse":{"deviceProfileResponse":{"euiccStatus":"FAILED","euiccErrorCode":"8.2.1,3.8"}}}`,
		`{"requestId":"x","status":"Failed"}`,
		`{"requestId":""}`, `{"requestId":1}`, `[]`, `{"requestId":"x","callbackCount":-1}`, "{\"requestId\":\"\xff\"}",
		`{"requestId":"x","deviceResponse":{"deviceProfileResponse":{"euiccStatusCode":",,,"}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		cb, err := thingspace.DecodeCallback(body)
		if err != nil {
			if !errors.Is(err, thingspace.ErrMalformedCallback) {
				t.Fatalf("error %v does not wrap ErrMalformedCallback", err)
			}
			return
		}
		if cb.RequestID == "" {
			t.Fatal("decoded a callback without requestId")
		}
		st := cb.ExecutionStatus()
		if st.Status == "" {
			t.Fatal("no status")
		}
		_ = cb.String()
		_ = cb.Device("eid")
		_ = st.String()
	})
}

package es2plus_test

import (
	"testing"

	"github.com/esimgw/esimgw/es2plus"
)

func FuzzDecode(f *testing.F) {
	f.Add([]byte(specExample()))
	f.Add(body(f, nil))
	f.Add(body(f, map[string]any{"timestamp": nil, "timeStamp": "1709712641", "notificationPointId": "102"}))
	f.Add(body(f, map[string]any{"iccid": "8931041010654378930F", "imei": "1", "tac": "2"}))
	f.Add(body(f, map[string]any{"resultData": "vyc="}))
	f.Add([]byte(`{"header":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := es2plus.Decode(data)
		if (n == nil) == (err == nil) {
			t.Fatalf("Decode returned n=%v err=%v", n, err)
		}
		if err != nil {
			return
		}
		if n.ICCID == "" || n.Header.FunctionCallIdentifier == "" || n.ProfileType == "" {
			t.Fatalf("required field empty: %+v", n)
		}
		out, err := n.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON: %v", err)
		}
		back, err := es2plus.Decode(out)
		if err != nil {
			t.Fatalf("re-decode of canonical form failed: %v\n%s", err, out)
		}
		if back.NormalizedICCID() != n.NormalizedICCID() || back.NotificationPointID != n.NotificationPointID {
			t.Fatalf("round trip changed the notification")
		}
	})
}

func FuzzParseResultData(f *testing.F) {
	f.Add(pird(successResult()))
	f.Add(pir(successResult()))
	f.Add(pird(errorResult([]byte{5}, []byte{10}, []byte{0x6A, 0x84})))
	f.Add(pir(errorResult([]byte{0, 0xFF}, []byte{127}, nil)))
	f.Add([]byte{0xBF, 0x27, 0x80})
	f.Fuzz(func(t *testing.T, der []byte) {
		r, err := es2plus.ParseResultData(der)
		if (r == nil) == (err == nil) {
			t.Fatalf("r=%v err=%v", r, err)
		}
		if r != nil {
			if r.Success == (r.Error != nil) {
				t.Fatalf("success and error both set or both unset")
			}
			_ = r.Summary()
		}
	})
}

package rps_test

import (
	"encoding/xml"
	"testing"

	"github.com/esimgw/esimgw/internal/xmltext"
	"github.com/esimgw/esimgw/wsdl/rps"
)

func benchRequest(b *testing.B) *rps.ES4EnableProfileRequest {
	req := &rps.ES4EnableProfileRequest{
		Eid:   hexFor("Eid"),
		Iccid: "89310410106543789305",
	}
	req.FunctionCallIdentifier = "fc-20240501-0001"
	req.ValidityPeriod = 720
	return req
}

// benchAuditResponse is an ES4-AuditEISResponse carrying an EIS with 8 ProfileInfo entries.
func benchAuditResponse(b *testing.B) []byte {
	resp := populated(b, "ES4-AuditEISResponse").(*rps.ES4AuditEISResponse)
	p := resp.Eis.ProfileInfo[0]
	resp.Eis.ProfileInfo = nil
	for i := 0; i < 8; i++ {
		resp.Eis.ProfileInfo = append(resp.Eis.ProfileInfo, p)
	}
	return document(resp.AppendXML(nil))
}

func BenchmarkEncodeES4EnableProfileRequest(b *testing.B) {
	req := benchRequest(b)
	b.Run("codec", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 1024)
		for b.Loop() {
			buf = req.AppendXML(buf[:0])
		}
		b.SetBytes(int64(len(buf)))
	})
	b.Run("encoding_xml", func(b *testing.B) {
		b.ReportAllocs()
		var n int
		for b.Loop() {
			out, err := xml.Marshal(req)
			if err != nil {
				b.Fatal(err)
			}
			n = len(out)
		}
		b.SetBytes(int64(n))
	})
}

func BenchmarkDecodeES4AuditEISResponse(b *testing.B) {
	data := benchAuditResponse(b)
	b.Run("codec", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		d := xmltext.NewDecoder(data, xmltext.Limits{})
		for b.Loop() {
			d.Reset(data, xmltext.Limits{})
			if err := d.Root(); err != nil {
				b.Fatal(err)
			}
			var v rps.ES4AuditEISResponse
			if err := v.DecodeXML(d); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding_xml", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var v rps.ES4AuditEISResponse
			if err := xml.Unmarshal(data, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

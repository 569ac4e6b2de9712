package soap_test

import (
	"bytes"
	"encoding/xml"
	"os"
	"testing"
	"time"

	gsoap "github.com/hooklift/gowsdl/soap"

	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

const (
	benchMID = "//1.3.6.1.4.1.99999.10/urn:uuid:0f8c2a3e-1d2b-4c5a-9e7f-112233445566?TransactionId=urn:uuid:7a1b2c3d-4e5f-4a6b-8c9d-aabbccddeeff&MessageDate=2024-05-01T10:00:00Z"
	benchEID = "89049032123451234512345678901235"
)

type family struct {
	name   string
	header soap.Header
	body   soap.BodyWriter
	empty  func() soap.BodyReader
}

func hexEID() rps.HexBinary {
	b := make(rps.HexBinary, 16)
	for i := range b {
		b[i] = byte(i*17 + 3)
	}
	return b
}

// families are the message shapes an operator's back end handles, one of each (docs/wire.md section 9).
func families() []family {
	from := "https://mno.example.org/rsp?EntityId=1.3.6.1.4.1.99999.10&EntityName=ExampleMNO"
	to := "https://smsr.example.net/esim-messaging/3/ES4/ES4SmSrService?EntityId=1.3.6.1.4.1.99999.20"
	getEIS := &rps.ES4GetEISRequest{Eid: hexEID()}
	getEIS.FunctionCallIdentifier = "fc-20240501-0001"
	enable := &rps.ES4EnableProfileRequest{Eid: hexEID(), Iccid: "89310410106543789305"}
	enable.FunctionCallIdentifier, enable.ValidityPeriod = "fc-20240501-0002", 720
	cb := &rps.ES4EnableProfileResponse{}
	t0 := rps.NewDateTime(time.Date(2024, 5, 1, 10, 0, 1, 0, time.UTC))
	t1 := rps.NewDateTime(time.Date(2024, 5, 1, 10, 0, 40, 0, time.UTC))
	cb.ProcessingStart, cb.ProcessingEnd = &t0, &t1
	cb.FunctionExecutionStatus.Status = rps.StatusTypeFAILED
	cb.FunctionExecutionStatus.StatusCodeData = &rps.StatusCodeDataType{Subject: "8.2.1", Reason: "3.9",
		SubjectIdentifier: "89310410106543789305", Message: "Profile ICCID unknown on this eUICC"}
	note := &rps.ES4HandleProfileEnabledNotification{Eid: hexEID(), Iccid: "89310410106543789305", CompletionTimestamp: t1}
	return []family{
		{"sync_request", soap.Header{From: from, To: to, MessageID: benchMID, Action: "http://gsma.com/ES4/ProfileManagement/ES4-GetEISRequest"},
			getEIS, func() soap.BodyReader { return new(rps.ES4GetEISRequest) }},
		{"async_request", soap.Header{From: from, To: to, MessageID: benchMID, Action: "http://gsma.com/ES4/PlatformManagement/ES4-EnableProfile",
			ReplyTo: "https://mno.example.org/rsp/es4-callbacks"}, enable, func() soap.BodyReader { return new(rps.ES4EnableProfileRequest) }},
		{"callback", soap.Header{From: to, To: from, MessageID: benchMID, Action: "http://gsma.com/ES4/PlatformManagementCallBack/ES4-EnableProfile",
			RelatesTo: benchMID}, cb, func() soap.BodyReader { return new(rps.ES4EnableProfileResponse) }},
		{"notification", soap.Header{From: to, To: from, MessageID: benchMID, Action: "http://gsma.com/ES4/eUICCManagement/ES4-HandleProfileEnabledNotification"},
			note, func() soap.BodyReader { return new(rps.ES4HandleProfileEnabledNotification) }},
	}
}

// syncResponse is the family of the answers a synchronous call reads: the mock's ES4-GetEISResponse as
// it went over the wire (testdata/GetEISResponse.xml: an EIS with three profiles, 4.4 KB).
func syncResponse(b *testing.B) family {
	data, err := os.ReadFile("testdata/GetEISResponse.xml")
	if err != nil {
		b.Fatal(err)
	}
	m, err := soap.ReadMessage(data, soap.ReadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	body := new(rps.ES4GetEISResponse)
	if err := m.DecodeBody(body); err != nil {
		b.Fatal(err)
	}
	return family{"sync_response", m.Header, body, func() soap.BodyReader { return new(rps.ES4GetEISResponse) }}
}

// BenchmarkEnvelope measures esimgw's envelope writer and reader (headers, then the typed body) per
// message family.
func BenchmarkEnvelope(b *testing.B) {
	for _, f := range append(families(), syncResponse(b)) {
		data := soap.AppendEnvelope(nil, &f.header, f.body)
		b.Run(f.name+"/encode", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			buf := make([]byte, 0, 2048)
			for b.Loop() {
				buf = soap.AppendEnvelope(buf[:0], &f.header, f.body)
			}
		})
		b.Run(f.name+"/decode", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				m, err := soap.ReadMessage(data, soap.ReadOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if err := m.DecodeBody(f.empty()); err != nil {
					b.Fatal(err)
				}
			}
		})
		// What a receiver that knows the body to expect does (Client's answers): one pass.
		b.Run(f.name+"/decode_into", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				into := f.empty()
				m, err := soap.ReadMessageInto(data, soap.ReadOptions{}, into)
				if err != nil {
					b.Fatal(err)
				}
				if err := m.DecodeBody(into); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The gowsdl runtime path on the same callback: encoding/xml over gowsdl's soap.SOAPEnvelope (encode) and
// soap.SOAPEnvelopeResponse (decode) with the generated body struct, WS-Addressing headers as structs
// through Headers. gowsdl is SOAP 1.1 only, so its input is the same envelope with the 1.1 namespace; and
// it drops reply headers, so its decode does less than esimgw's (RelatesTo is not read).
type wsaText struct {
	XMLName xml.Name
	Value   string `xml:",chardata"`
}

type wsaEPR struct {
	XMLName xml.Name
	Address string `xml:"http://www.w3.org/2005/08/addressing Address"`
}

func wsa(local string) xml.Name {
	return xml.Name{Space: "http://www.w3.org/2005/08/addressing", Local: local}
}

// BenchmarkCallbackRoundTrip is encode+decode of one callback envelope: esimgw against gowsdl's path.
func BenchmarkCallbackRoundTrip(b *testing.B) {
	f := families()[2]
	body := f.body.(*rps.ES4EnableProfileResponse)
	b.Run("esimgw", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 2048)
		for b.Loop() {
			buf = soap.AppendEnvelope(buf[:0], &f.header, body)
			m, err := soap.ReadMessage(buf, soap.ReadOptions{})
			if err != nil {
				b.Fatal(err)
			}
			var v rps.ES4EnableProfileResponse
			if err := m.DecodeBody(&v); err != nil {
				b.Fatal(err)
			}
			if m.Header.RelatesTo != benchMID || v.FunctionExecutionStatus.Status != rps.StatusTypeFAILED {
				b.Fatal("round trip lost data")
			}
		}
	})
	b.Run("gowsdl", func(b *testing.B) {
		b.ReportAllocs()
		h := f.header
		for b.Loop() {
			env := gsoap.SOAPEnvelope{XmlNS: gsoap.XmlNsSoapEnv, Header: &gsoap.SOAPHeader{Headers: []interface{}{
				wsaEPR{XMLName: wsa("From"), Address: h.From}, wsaText{wsa("To"), h.To}, wsaText{wsa("MessageID"), h.MessageID},
				wsaText{wsa("Action"), h.Action}, wsaText{wsa("RelatesTo"), h.RelatesTo}}}}
			env.Body.Content = body
			var buf bytes.Buffer
			enc := xml.NewEncoder(&buf)
			if err := enc.Encode(env); err != nil {
				b.Fatal(err)
			}
			var v rps.ES4EnableProfileResponse
			resp := gsoap.SOAPEnvelopeResponse{Body: gsoap.SOAPBodyResponse{Content: &v, Fault: &gsoap.SOAPFault{}}}
			if err := xml.NewDecoder(&buf).Decode(&resp); err != nil {
				b.Fatal(err)
			}
			if v.FunctionExecutionStatus.Status != rps.StatusTypeFAILED {
				b.Fatal("round trip lost data")
			}
		}
	})
}

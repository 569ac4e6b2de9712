package soap

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/internal/xmltext"
)

// testBody is a minimal body element: what the generated rps types look like to this package.
type testBody struct {
	Name string
	Eid  string
	Iccd string
}

func (b *testBody) ElementName() string { return b.Name }

func (b *testBody) AppendXML(out []byte) []byte {
	out = append(out, "<rps:"+b.Name+"><rps:Eid>"...)
	out = xmltext.AppendText(out, b.Eid)
	out = append(out, "</rps:Eid><rps:Iccid>"...)
	out = xmltext.AppendText(out, b.Iccd)
	return append(out, "</rps:Iccid></rps:"+b.Name+">"...)
}

func (b *testBody) DecodeXML(d *xmltext.Decoder) error {
	b.Name = string(d.Local())
	for {
		ok, err := d.NextChild()
		if err != nil || !ok {
			return err
		}
		var dst *string
		switch {
		case d.LocalIs("Eid"):
			dst = &b.Eid
		case d.LocalIs("Iccid"):
			dst = &b.Iccd
		default:
			if err := d.Skip(); err != nil {
				return err
			}
			continue
		}
		v, err := d.Text()
		if err != nil {
			return err
		}
		*dst = string(v)
	}
}

const (
	testFrom   = "https://mno.example.org/rsp?EntityId=1.3.6.1.4.1.99999.10&EntityName=ExampleMNO"
	testTo     = "https://smsr.example.net/esim-messaging/3/ES4/ES4SmSrService?EntityId=1.3.6.1.4.1.99999.20"
	testMsgID  = "//1.3.6.1.4.1.99999.10/urn:uuid:0f8c2a3e-1d2b-4c5a-9e7f-112233445566?TransactionId=urn:uuid:7a1b2c3d-4e5f-4a6b-8c9d-aabbccddeeff&MessageDate=2024-05-01T10:00:00Z"
	testAction = "http://gsma.com/ES4/PlatformManagement/ES4-EnableProfile"
)

func TestAppendEnvelopeGolden(t *testing.T) {
	h := &Header{From: testFrom, To: testTo, MessageID: testMsgID, Action: testAction, ReplyTo: "https://mno.example.org/rsp/es4-callbacks"}
	got := string(AppendEnvelope(nil, h, &testBody{Name: "ES4-EnableProfileRequest", Eid: "89049032123451234512345678901235", Iccd: "89310410106543789305"}))
	want := `<?xml version="1.0" encoding="UTF-8"?>` +
		`<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://www.w3.org/2005/08/addressing" xmlns:rps="http://namespaces.gsma.org/esim-messaging/3">` +
		`<env:Header>` +
		`<wsa:From><wsa:Address>https://mno.example.org/rsp?EntityId=1.3.6.1.4.1.99999.10&amp;EntityName=ExampleMNO</wsa:Address></wsa:From>` +
		`<wsa:To env:mustUnderstand="true">https://smsr.example.net/esim-messaging/3/ES4/ES4SmSrService?EntityId=1.3.6.1.4.1.99999.20</wsa:To>` +
		`<wsa:MessageID>//1.3.6.1.4.1.99999.10/urn:uuid:0f8c2a3e-1d2b-4c5a-9e7f-112233445566?TransactionId=urn:uuid:7a1b2c3d-4e5f-4a6b-8c9d-aabbccddeeff&amp;MessageDate=2024-05-01T10:00:00Z</wsa:MessageID>` +
		`<wsa:Action env:mustUnderstand="true">http://gsma.com/ES4/PlatformManagement/ES4-EnableProfile</wsa:Action>` +
		`<wsa:ReplyTo><wsa:Address>https://mno.example.org/rsp/es4-callbacks</wsa:Address></wsa:ReplyTo>` +
		`</env:Header><env:Body>` +
		`<rps:ES4-EnableProfileRequest><rps:Eid>89049032123451234512345678901235</rps:Eid><rps:Iccid>89310410106543789305</rps:Iccid></rps:ES4-EnableProfileRequest>` +
		`</env:Body></env:Envelope>`
	assert.Equal(t, want, got)
}

func TestRoundTrip(t *testing.T) {
	h := &Header{From: testFrom, To: testTo, MessageID: testMsgID, Action: testAction, RelatesTo: testMsgID, RelationshipType: RelationshipReply}
	data := AppendEnvelope(nil, h, &testBody{Name: "ES4-EnableProfileResponse", Eid: "e&<>", Iccd: "i"})
	m, err := ReadMessage(data, ReadOptions{})
	require.NoError(t, err)
	assert.Equal(t, *h, m.Header)
	assert.Equal(t, "ES4-EnableProfileResponse", m.BodyName)
	assert.Equal(t, NSRPS, m.BodySpace)
	var body testBody
	require.NoError(t, m.DecodeBody(&body))
	assert.Equal(t, testBody{Name: "ES4-EnableProfileResponse", Eid: "e&<>", Iccd: "i"}, body)
	var again testBody
	require.NoError(t, m.DecodeBody(&again), "DecodeBody can be repeated")
	assert.Equal(t, body, again)
}

// gSOAPCallback is the shape of a captured gSOAP SM-SR callback: SOAP-ENV prefixes, XML declaration, namespace declarations
// for everything, mustUnderstand="true", no RelatesTo.
const gSOAPCallback = `<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" xmlns:SOAP-ENC="http://www.w3.org/2003/05/soap-encoding" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:wsa5="http://www.w3.org/2005/08/addressing" xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" xmlns:rps="http://namespaces.gsma.org/esim-messaging/3">
 <SOAP-ENV:Header>
  <wsa5:MessageID>//1.3.6.1.4.1.20/urn:uuid:78c2a1b4-c869?TransactionId=urn:uuid:68ea-0552&amp;MessageDate=2018-12-19T02:44:49Z</wsa5:MessageID>
  <wsa5:From><wsa5:Address>http://host:20000?EntityId=1.3.6.1.4.1.20&amp;EntityName=SM-SR</wsa5:Address></wsa5:From>
  <wsa5:To SOAP-ENV:mustUnderstand="true">http://host:10000?EntityId=1.3.6.1.4.1.10</wsa5:To>
  <wsa5:Action SOAP-ENV:mustUnderstand="true">http://gsma.com/ES3/ProfileManagementCallBack/ES3-CreateISDP</wsa5:Action>
 </SOAP-ENV:Header>
 <SOAP-ENV:Body>
  <rps:ES3-CreateISDPResponse>
   <rps:Eid>89049032123451234512345678901235</rps:Eid>
  </rps:ES3-CreateISDPResponse>
 </SOAP-ENV:Body>
</SOAP-ENV:Envelope>`

// njiwaCallback puts the headers in the 2007/05 metadata namespace, spells relatesTo in lower case, uses
// the esim-messaging/1 body namespace and default namespace declarations.
const njiwaCallback = `<S:Envelope xmlns:S="http://www.w3.org/2003/05/soap-envelope"><S:Header>
<!-- Njiwa -->
<To xmlns="http://www.w3.org/2007/05/addressing/metadata">https://mno/cb</To>
<Action xmlns="http://www.w3.org/2007/05/addressing/metadata">http://gsma.com/ES4/ProfileManagentCallBack/ES4-EnableProfile</Action>
<MessageID xmlns="http://www.w3.org/2007/05/addressing/metadata">uuid:1234</MessageID>
<relatesTo xmlns="http://www.w3.org/2007/05/addressing/metadata" RelationshipType="http://www.w3.org/2005/08/addressing/reply">//1.2/urn:uuid:abc?TransactionId=t1</relatesTo>
<From xmlns="http://www.w3.org/2007/05/addressing/metadata"><Address>http://sr?EntityId=1.2.3</Address><ReferenceParameters/></From>
</S:Header><S:Body><ns2:ES4-EnableProfileResponse xmlns:ns2="http://namespaces.gsma.org/esim-messaging/1"><ns2:Eid>e</ns2:Eid></ns2:ES4-EnableProfileResponse></S:Body></S:Envelope>`

func TestReadVariants(t *testing.T) {
	m, err := ReadMessage([]byte(gSOAPCallback), ReadOptions{})
	require.NoError(t, err)
	assert.Equal(t, "//1.3.6.1.4.1.20/urn:uuid:78c2a1b4-c869?TransactionId=urn:uuid:68ea-0552&MessageDate=2018-12-19T02:44:49Z", m.Header.MessageID)
	assert.Equal(t, "http://host:20000?EntityId=1.3.6.1.4.1.20&EntityName=SM-SR", m.Header.From)
	assert.Equal(t, "http://host:10000?EntityId=1.3.6.1.4.1.10", m.Header.To)
	assert.Empty(t, m.Header.RelatesTo)
	assert.Equal(t, "ES3-CreateISDPResponse", m.BodyName)
	var body testBody
	require.NoError(t, m.DecodeBody(&body))
	assert.Equal(t, "89049032123451234512345678901235", body.Eid)

	m, err = ReadMessage([]byte(njiwaCallback), ReadOptions{})
	require.NoError(t, err)
	assert.Equal(t, "//1.2/urn:uuid:abc?TransactionId=t1", m.Header.RelatesTo)
	assert.Equal(t, RelationshipReply, m.Header.RelationshipType)
	assert.Equal(t, "http://sr?EntityId=1.2.3", m.Header.From)
	assert.Equal(t, "uuid:1234", m.Header.MessageID)
	assert.Equal(t, NSRPSv1, m.BodySpace)
}

func TestReadFault(t *testing.T) {
	data := AppendEnvelope(nil, &Header{Action: "http://www.w3.org/2005/08/addressing/fault"}, SenderFault("bad request", "wsa:ActionNotSupported"))
	m, err := ReadMessage(data, ReadOptions{})
	require.NoError(t, err)
	require.NotNil(t, m.Fault)
	assert.Equal(t, FaultSender, m.Fault.Code)
	assert.Equal(t, "bad request", m.Fault.Reason)
	assert.Equal(t, []string{"wsa:ActionNotSupported"}, m.Fault.Subcodes)
}

func TestReadRefusals(t *testing.T) {
	const head = `<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope">`
	tests := []struct {
		name string
		doc  string
		kind error
		also error
	}{
		{"not xml", `hello`, ErrMalformed, xmltext.ErrSyntax},
		{"doctype", `<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>` + head + `<env:Body><x>&e;</x></env:Body></env:Envelope>`, ErrMalformed, xmltext.ErrDoctype},
		{"billion laughs", `<!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><l>&b;</l>`, ErrMalformed, xmltext.ErrDoctype},
		{"too deep", head + `<env:Body>` + strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100) + `</env:Body></env:Envelope>`, ErrMalformed, xmltext.ErrDepth},
		{"unknown envelope version", `<s:Envelope xmlns:s="http://example.org/soap-envelope"><s:Body><x/></s:Body></s:Envelope>`, ErrVersionMismatch, nil},
		{"soap 1.1 unknown mustUnderstand", `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><x:Y xmlns:x="urn:x" s:mustUnderstand="1"/></s:Header><s:Body><a/></s:Body></s:Envelope>`, ErrMustUnderstand, nil},
		{"soap 1.1 empty body", `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>`, ErrEmptyBody, nil},
		{"not an envelope", `<x/>`, ErrNotEnvelope, nil},
		{"no body", head + `<env:Header/></env:Envelope>`, ErrBody, nil},
		{"empty body", head + `<env:Body> </env:Body></env:Envelope>`, ErrEmptyBody, nil},
		{"empty body is a body error", head + `<env:Body/></env:Envelope>`, ErrBody, nil},
		{"two body elements", head + `<env:Body><a/><b/></env:Body></env:Envelope>`, ErrBody, nil},
		{"element after body", head + `<env:Body><a/></env:Body><env:Extra/></env:Envelope>`, ErrNotEnvelope, nil},
		{"unknown mustUnderstand", head + `<env:Header><x:Y xmlns:x="urn:x" env:mustUnderstand="true"/></env:Header><env:Body><a/></env:Body></env:Envelope>`, ErrMustUnderstand, nil},
		{"truncated", head + `<env:Body><a>`, ErrMalformed, xmltext.ErrSyntax},
		{"invalid utf8", head + "<env:Body><a>\xff</a></env:Body></env:Envelope>", ErrMalformed, xmltext.ErrEncoding},
		{"two roots", head + `<env:Body><a/></env:Body></env:Envelope><x/>`, ErrMalformed, xmltext.ErrStructure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadMessage([]byte(tt.doc), ReadOptions{})
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.kind)
			if tt.also != nil {
				assert.ErrorIs(t, err, tt.also)
			}
			var ee *EnvelopeError
			require.True(t, errors.As(err, &ee))
			assert.NotEmpty(t, ee.Fault().Reason)
		})
	}
}

func TestUnknownHeaderWithoutMustUnderstandIsIgnored(t *testing.T) {
	doc := `<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Header><x:Y xmlns:x="urn:x" env:mustUnderstand="false">v</x:Y></env:Header><env:Body><a/></env:Body></env:Envelope>`
	m, err := ReadMessage([]byte(doc), ReadOptions{})
	require.NoError(t, err)
	assert.Equal(t, "a", m.BodyName)
}

func FuzzReadMessage(f *testing.F) {
	f.Add([]byte(gSOAPCallback))
	f.Add([]byte(njiwaCallback))
	f.Add(AppendEnvelope(nil, &Header{From: testFrom, To: testTo, MessageID: testMsgID, Action: testAction}, &testBody{Name: "ES4-EnableProfileRequest", Eid: "1", Iccd: "2"}))
	f.Add(AppendEnvelope(nil, &Header{}, SenderFault("x", "wsa:ActionNotSupported")))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ReadMessage(data, ReadOptions{})
		if err != nil {
			var ee *EnvelopeError
			if !errors.As(err, &ee) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		var body testBody
		_ = m.DecodeBody(&body)
		_, _ = m.BodyXML()
	})
}

func TestReadMessageKeepsTheHeaderOfABodyCutShort(t *testing.T) {
	whole := AppendEnvelope(nil, &Header{MessageID: "m-1", RelatesTo: "req-1", Action: testAction}, &testBody{Name: "ES4-EnableProfileResponse", Eid: "e"})
	cut := whole[:bytesIndex(whole, "<rps:Eid>")+4]
	_, err := ReadMessage(cut, ReadOptions{})
	var ee *EnvelopeError
	require.ErrorAs(t, err, &ee)
	require.NotNil(t, ee.Header, "the header was complete")
	assert.Equal(t, "req-1", ee.Header.RelatesTo)
	assert.Equal(t, "m-1", ee.Header.MessageID)

	_, err = ReadMessage(whole[:bytesIndex(whole, "<wsa:Action")], ReadOptions{})
	require.ErrorAs(t, err, &ee)
	assert.Nil(t, ee.Header, "a header cut short is not reported")
}

func bytesIndex(b []byte, s string) int { return strings.Index(string(b), s) }

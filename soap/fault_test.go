package soap

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/internal/xmltext"
)

// faultDecoder returns a decoder positioned on the fault element of a document whose root is the fault's
// parent, so the fault's end is followed by a sibling we can check for.
func faultDecoder(t *testing.T, decls, fault string) *xmltext.Decoder {
	t.Helper()
	doc := `<env:Body ` + decls + `>` + fault + `<after/></env:Body>`
	d := xmltext.NewDecoder([]byte(doc), xmltext.Limits{})
	require.NoError(t, d.Root())
	ok, err := d.NextChild()
	require.NoError(t, err)
	require.True(t, ok)
	return d
}

const envDecls = `xmlns:env="` + NSEnvelope + `" xmlns:wsa="` + NSAddressing + `" xmlns:rps="` + NSRPS + `"`

func TestFaultAppendXMLRoundTrip(t *testing.T) {
	f := &Fault{
		Code:     FaultSender,
		Subcodes: []string{"wsa:ActionNotSupported", "rps:Unknown"},
		Reason:   `action "x" <unknown> & refused`,
		Lang:     "en-GB",
		Node:     "https://smsr.example.net/es4",
		Role:     "http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver",
		Detail:   []byte(`<wsa:ProblemAction><wsa:Action>http://x</wsa:Action></wsa:ProblemAction>`),
	}
	xml := string(f.AppendXML(nil))
	assert.Equal(t, `<env:Fault><env:Code><env:Value>env:Sender</env:Value>`+
		`<env:Subcode><env:Value>wsa:ActionNotSupported</env:Value><env:Subcode><env:Value>rps:Unknown</env:Value></env:Subcode></env:Subcode>`+
		`</env:Code><env:Reason><env:Text xml:lang="en-GB">action "x" &lt;unknown&gt; &amp; refused</env:Text></env:Reason>`+
		`<env:Node>https://smsr.example.net/es4</env:Node><env:Role>http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver</env:Role>`+
		`<env:Detail><wsa:ProblemAction><wsa:Action>http://x</wsa:Action></wsa:ProblemAction></env:Detail></env:Fault>`, xml)

	d := faultDecoder(t, envDecls, xml)
	got, err := DecodeFault(d)
	require.NoError(t, err)
	assert.Equal(t, f, got)
	ok, err := d.NextChild()
	require.NoError(t, err)
	require.True(t, ok, "DecodeFault consumed exactly the fault")
	assert.True(t, d.LocalIs("after"))
}

func TestFaultAppendXMLDefaults(t *testing.T) {
	xml := string((&Fault{}).AppendXML(nil))
	assert.Equal(t, `<env:Fault><env:Code><env:Value>env:Receiver</env:Value></env:Code><env:Reason><env:Text xml:lang="en"></env:Text></env:Reason></env:Fault>`, xml)
}

func TestDecodeFault(t *testing.T) {
	tests := []struct {
		name  string
		decls string
		xml   string
		want  Fault
	}{
		{
			name:  "gSOAP prefixes resolved to ours",
			decls: `xmlns:env="` + NSEnvelope + `" xmlns:SOAP-ENV="` + NSEnvelope + `" xmlns:a="` + NSAddressing + `"`,
			xml: `<SOAP-ENV:Fault><SOAP-ENV:Code><SOAP-ENV:Value>SOAP-ENV:Sender</SOAP-ENV:Value>` +
				`<SOAP-ENV:Subcode><SOAP-ENV:Value>a:InvalidAddressingHeader</SOAP-ENV:Value></SOAP-ENV:Subcode></SOAP-ENV:Code>` +
				`<SOAP-ENV:Reason><SOAP-ENV:Text xml:lang="en">A header representing a Message Addressing Property is not valid</SOAP-ENV:Text></SOAP-ENV:Reason></SOAP-ENV:Fault>`,
			want: Fault{Code: FaultSender, Subcodes: []string{"wsa:InvalidAddressingHeader"},
				Reason: "A header representing a Message Addressing Property is not valid", Lang: "en"},
		},
		{
			name:  "prefix declared on the Value element itself; unknown namespace kept verbatim",
			decls: envDecls,
			xml: `<env:Fault><env:Code><env:Value xmlns:s="` + NSEnvelope + `">s:Receiver</env:Value>` +
				`<env:Subcode><env:Value xmlns:m="urn:vendor">m:Busy</env:Value></env:Subcode></env:Code>` +
				`<env:Reason><env:Text xml:lang="fr">Occupé</env:Text><env:Text xml:lang="en-US">Busy</env:Text></env:Reason></env:Fault>`,
			want: Fault{Code: FaultReceiver, Subcodes: []string{"m:Busy"}, Reason: "Busy", Lang: "en-US"},
		},
		{
			name:  "no English text: the first wins; unbound prefix kept verbatim; white space trimmed",
			decls: envDecls,
			xml: `<env:Fault><env:Code><env:Value>
				x:Odd </env:Value></env:Code><env:Reason><env:Text xml:lang="de"> Fehler </env:Text><env:Text xml:lang="fr">Erreur</env:Text></env:Reason>` +
				`<env:Detail>  </env:Detail><env:Unknown><x/></env:Unknown></env:Fault>`,
			want: Fault{Code: "x:Odd", Reason: "Fehler", Lang: "de"},
		},
		{
			name:  "SOAP 1.1 fault (Njiwa, JAX-WS)",
			decls: `xmlns:S="http://schemas.xmlsoap.org/soap/envelope/" xmlns:env="` + NSEnvelope + `"`,
			xml: `<S:Fault><faultcode>S:Server</faultcode><faultstring xml:lang="en">Unknown EID</faultstring>` +
				`<faultactor>urn:njiwa</faultactor><detail><ns2:Exception xmlns:ns2="urn:x"><message>Unknown EID</message></ns2:Exception></detail></S:Fault>`,
			want: Fault{Code: FaultReceiver, Reason: "Unknown EID", Lang: "en", Role: "urn:njiwa",
				Detail: []byte(`<ns2:Exception xmlns:ns2="urn:x"><message>Unknown EID</message></ns2:Exception>`)},
		},
		{
			name:  "SOAP 1.1 Client",
			decls: `xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:env="` + NSEnvelope + `"`,
			xml:   `<soap:Fault><faultcode>soap:Client</faultcode><faultstring>bad</faultstring></soap:Fault>`,
			want:  Fault{Code: FaultSender, Reason: "bad"},
		},
		{
			name:  "empty fault",
			decls: envDecls,
			xml:   `<env:Fault/>`,
			want:  Fault{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := faultDecoder(t, tt.decls, tt.xml)
			got, err := DecodeFault(d)
			require.NoError(t, err)
			assert.Equal(t, &tt.want, got)
			ok, err := d.NextChild()
			require.NoError(t, err)
			require.True(t, ok)
			assert.True(t, d.LocalIs("after"))
		})
	}
}

func TestDecodeFaultMalformed(t *testing.T) {
	for _, xml := range []string{
		`<env:Fault><env:Code><env:Value>env:Sender</env:Value></env:Code><env:Reason><env:Text><b/></env:Text></env:Reason></env:Fault>`,
		`<env:Fault><env:Code><env:Value><x/></env:Value></env:Code></env:Fault>`,
		`<env:Fault><env:Node>a</env:Nod></env:Fault>`,
	} {
		d := faultDecoder(t, envDecls, xml)
		_, err := DecodeFault(d)
		var xe *xmltext.Error
		assert.True(t, errors.As(err, &xe), "%s: %v", xml, err)
	}
}

func TestFaultDetailIsCopied(t *testing.T) {
	doc := []byte(`<env:Body ` + envDecls + `><env:Fault><env:Detail><rps:X>1</rps:X></env:Detail></env:Fault></env:Body>`)
	d := xmltext.NewDecoder(doc, xmltext.Limits{})
	require.NoError(t, d.Root())
	_, err := d.NextChild()
	require.NoError(t, err)
	f, err := DecodeFault(d)
	require.NoError(t, err)
	for i := range doc {
		doc[i] = 'z' // the request buffer is reused
	}
	assert.Equal(t, "<rps:X>1</rps:X>", string(f.Detail))
}

func TestFaultError(t *testing.T) {
	f := SenderFault("bad\r\nforged: log line", "wsa:ActionNotSupported")
	f.HTTPStatus = 400
	f.Node = "urn:n"
	var err error = f
	assert.Equal(t, "soap: fault env:Sender/wsa:ActionNotSupported: bad  forged: log line [node urn:n] (HTTP 400)", err.Error())
	var got *Fault
	require.True(t, errors.As(fmt.Errorf("call: %w", err), &got))
	assert.Equal(t, "Sender", got.CodeLocal())

	long := ReceiverFault(strings.Repeat("x", 2000))
	assert.Less(t, len(long.Error()), 600)
	assert.True(t, strings.HasSuffix(long.Error(), "..."))
	assert.Equal(t, "soap: fault env:Receiver", (&Fault{}).Error())
}

func TestFaultConstructorsAndStatus(t *testing.T) {
	tests := []struct {
		f      *Fault
		code   string
		status int
	}{
		{SenderFault("r"), FaultSender, http.StatusBadRequest},
		{ReceiverFault("r"), FaultReceiver, http.StatusInternalServerError},
		{MustUnderstandFault("r"), FaultMustUnderstand, http.StatusInternalServerError},
		{VersionMismatchFault("r"), FaultVersionMismatch, http.StatusInternalServerError},
		{DataEncodingUnknownFault("r"), FaultDataEncodingUnknown, http.StatusInternalServerError},
		{&Fault{Code: FaultSender, HTTPStatus: 422}, FaultSender, 422},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.code, tt.f.Code)
		assert.Equal(t, tt.status, tt.f.StatusCode(), tt.code)
	}
	assert.Equal(t, []string{"a:b"}, NewFault(FaultSender, "r", "a:b").Subcodes)
}

func BenchmarkFaultAppendXML(b *testing.B) {
	f := SenderFault("The action is not supported", "wsa:ActionNotSupported")
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = f.AppendXML(buf[:0])
	}
}

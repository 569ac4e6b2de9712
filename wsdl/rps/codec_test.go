package rps_test

import (
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/internal/xmltext"
	"github.com/esimgw/esimgw/wsdl/rps"
)

var update = flag.Bool("update", false, "rewrite testdata/golden")

func goldenPath(name string) string { return filepath.Join("testdata", "golden", name+".xml") }

// TestGolden encodes a fully populated value of every element and compares it with its golden file
// (rewritten with -update). TestGoldenSchemaValid validates those files against our XSDs.
func TestGolden(t *testing.T) {
	for _, name := range rps.ElementNames() {
		t.Run(name, func(t *testing.T) {
			got := document(populated(t, name).AppendXML(nil))
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(goldenPath(name)), 0o755))
				require.NoError(t, os.WriteFile(goldenPath(name), got, 0o644))
			}
			want, err := os.ReadFile(goldenPath(name))
			require.NoError(t, err, "run go test -update")
			assert.Equal(t, string(want), string(got))
		})
	}
}

func TestGoldenSchemaValid(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint not found: install the Debian package libxml2-utils to validate the golden files against the XSDs")
	}
	for _, iface := range []string{"ES2", "ES4"} {
		t.Run(iface, func(t *testing.T) {
			args := []string{"--noout", "--schema", filepath.Join("..", "xsd", "euicc.request."+iface+".xsd")}
			n := 0
			for _, name := range rps.ElementNames() {
				if strings.HasPrefix(name, iface+"-") {
					args = append(args, goldenPath(name))
					n++
				}
			}
			require.Positive(t, n)
			out, err := exec.Command(xmllint, args...).CombinedOutput()
			require.NoError(t, err, "%s", out)
		})
	}
}

// TestRoundTrip: AppendXML then DecodeXML gives the value back, for every element.
func TestRoundTrip(t *testing.T) {
	for _, name := range rps.ElementNames() {
		t.Run(name, func(t *testing.T) {
			want := populated(t, name)
			got, _ := rps.NewElement(name)
			require.NoError(t, decode(t, document(want.AppendXML(nil)), got))
			assert.Equal(t, want, got)
		})
	}
}

// TestEncodingXMLAgrees: our AppendXML and encoding/xml's Marshal of the same struct give the same tree
// (modulo prefixes), and encoding/xml reads our output back to the same value. This proves the
// post-processed tags and the generated codec agree.
func TestEncodingXMLAgrees(t *testing.T) {
	for _, name := range rps.ElementNames() {
		t.Run(name, func(t *testing.T) {
			v := populated(t, name)
			ours := document(v.AppendXML(nil))
			theirs, err := xml.Marshal(v)
			require.NoError(t, err)
			assert.Equal(t, canonOf(t, theirs), canonOf(t, ours))

			back, _ := rps.NewElement(name)
			require.NoError(t, xml.Unmarshal(ours, back))
			clearXMLName(back)
			assert.Equal(t, v, back)
		})
	}
}

// clearXMLName zeroes the XMLName encoding/xml fills in, which our decoder leaves alone.
func clearXMLName(v any) {
	if f := reflect.ValueOf(v).Elem().FieldByName("XMLName"); f.IsValid() {
		f.Set(reflect.Zero(f.Type()))
	}
}

func TestRequiredFalseIsWritten(t *testing.T) {
	req := &rps.ES2DownloadProfileRequest{Eid: rps.HexBinary{0x89}, SmsrID: "1.2.3", EnableProfile: false}
	req.FunctionCallIdentifier = "fc-1"
	got := string(req.AppendXML(nil))
	assert.Equal(t, `<rps:ES2-DownloadProfileRequest><rps:FunctionCallIdentifier>fc-1</rps:FunctionCallIdentifier>`+
		`<rps:Eid>89</rps:Eid><rps:SmSr-id>1.2.3</rps:SmSr-id><rps:EnableProfile>false</rps:EnableProfile>`+
		`</rps:ES2-DownloadProfileRequest>`, got)
	// encoding/xml agrees, thanks to the post-processor dropping omitempty.
	theirs, err := xml.Marshal(req)
	require.NoError(t, err)
	assert.Contains(t, string(theirs), "<EnableProfile>false</EnableProfile>")
}

// TestDecodeVariants: what real peers send (docs/wire.md sections 5.2-5.4, variants) decodes.
func TestDecodeVariants(t *testing.T) {
	const ns = `xmlns:rps="http://namespaces.gsma.org/esim-messaging/3" xmlns:v1="http://namespaces.gsma.org/esim-messaging/1"`
	tests := []struct {
		name  string
		doc   string
		check func(t *testing.T, el rps.Element)
	}{
		{
			name: "lower-case completionTimestamp, comment, unknown child",
			doc: `<rps:ES4-HandleProfileEnabledNotification ` + ns + `><!-- hi --><rps:Eid>89049032123451234512345678901235</rps:Eid>` +
				`<rps:Extra><rps:Deep>x</rps:Deep></rps:Extra><rps:Iccid>89310410106543789305</rps:Iccid>` +
				`<rps:completionTimestamp>2024-05-01T12:00:41+02:00</rps:completionTimestamp></rps:ES4-HandleProfileEnabledNotification>`,
			check: func(t *testing.T, el rps.Element) {
				n := el.(*rps.ES4HandleProfileEnabledNotification)
				assert.Equal(t, "89049032123451234512345678901235", n.Eid.String())
				assert.Equal(t, "89310410106543789305", n.Iccid)
				assert.True(t, n.CompletionTimestamp.Equal(time.Date(2024, 5, 1, 10, 0, 41, 0, time.UTC)))
			},
		},
		{
			name: "Njiwa CompletionTimeStamp, esim-messaging/1 children, lower-case hex, no zone",
			doc: `<rps:ES2-HandleProfileDisabledNotification ` + ns + `><v1:Eid> 89049032123451234512345678901a3f </v1:Eid>` +
				`<v1:Iccid>8931041010654378930F</v1:Iccid><v1:CompletionTimeStamp>2024-05-01T10:00:41.5</v1:CompletionTimeStamp></rps:ES2-HandleProfileDisabledNotification>`,
			check: func(t *testing.T, el rps.Element) {
				n := el.(*rps.ES2HandleProfileDisabledNotification)
				assert.Equal(t, "89049032123451234512345678901A3F", n.Eid.String())
				assert.Equal(t, "8931041010654378930F", n.Iccid)
				assert.Equal(t, "2024-05-01T10:00:41.5Z", n.CompletionTimestamp.String())
			},
		},
		{
			name: "Smsr-Id casing, CDATA, default namespace",
			doc: `<ES2-DownloadProfileRequest xmlns="http://namespaces.gsma.org/esim-messaging/3"><FunctionCallIdentifier><![CDATA[a<b]]></FunctionCallIdentifier>` +
				`<Eid>89</Eid><Smsr-Id>1.3.6</Smsr-Id><EnableProfile> 1 </EnableProfile></ES2-DownloadProfileRequest>`,
			check: func(t *testing.T, el rps.Element) {
				r := el.(*rps.ES2DownloadProfileRequest)
				assert.Equal(t, "a<b", r.FunctionCallIdentifier)
				assert.Equal(t, "1.3.6", r.SmsrID)
				assert.True(t, r.EnableProfile)
			},
		},
		{
			name: "ES2 async response with EuiccResponseData and status code data",
			doc: `<rps:ES2-EnableProfileResponse ` + ns + `><rps:ProcessingStart>2024-05-01T10:00:01Z</rps:ProcessingStart>` +
				`<rps:FunctionExecutionStatus><rps:Status>FAILED</rps:Status><rps:StatusCodeData><rps:Subject>8.2.1</rps:Subject>` +
				`<rps:Reason>3.9</rps:Reason><rps:Message>Profile ICCID unknown</rps:Message></rps:StatusCodeData></rps:FunctionExecutionStatus>` +
				`<rps:EuiccResponseData>ab01</rps:EuiccResponseData></rps:ES2-EnableProfileResponse>`,
			check: func(t *testing.T, el rps.Element) {
				r := el.(*rps.ES2EnableProfileResponse)
				require.NotNil(t, r.ProcessingStart)
				assert.Nil(t, r.ProcessingEnd)
				assert.Equal(t, rps.StatusTypeFAILED, r.FunctionExecutionStatus.Status)
				require.NotNil(t, r.FunctionExecutionStatus.StatusCodeData)
				assert.Equal(t, "8.2.1", r.FunctionExecutionStatus.StatusCodeData.Subject)
				assert.Equal(t, rps.HexBinary{0xAB, 0x01}, r.EuiccResponseData)
			},
		},
		{
			name: "self-closing elements",
			doc:  `<rps:ES4-AuditEISRequest ` + ns + `><rps:FunctionCallIdentifier/><rps:Eid/><rps:Iccid>8901</rps:Iccid><rps:Iccid>8902</rps:Iccid></rps:ES4-AuditEISRequest>`,
			check: func(t *testing.T, el rps.Element) {
				r := el.(*rps.ES4AuditEISRequest)
				assert.Equal(t, []string{"8901", "8902"}, r.Iccid)
				assert.Empty(t, r.Eid)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := xmltext.NewDecoder([]byte(tt.doc), xmltext.Limits{})
			require.NoError(t, d.Root())
			el, ok := rps.NewElement(string(d.Local()))
			require.True(t, ok)
			require.NoError(t, el.DecodeXML(d))
			require.NoError(t, d.End())
			tt.check(t, el)
		})
	}
}

func TestFieldErrors(t *testing.T) {
	tests := []struct {
		doc, element, field string
		kind                error
	}{
		{`<ES2-DownloadProfileRequest><EnableProfile>yes</EnableProfile></ES2-DownloadProfileRequest>`, "ES2-DownloadProfileRequest", "EnableProfile", rps.ErrBool},
		{`<ES4-EnableProfileRequest><ValidityPeriod>-5</ValidityPeriod></ES4-EnableProfileRequest>`, "ES4-EnableProfileRequest", "ValidityPeriod", rps.ErrInteger},
		{`<ES4-EnableProfileRequest><Eid>89G</Eid></ES4-EnableProfileRequest>`, "ES4-EnableProfileRequest", "Eid", rps.ErrHex},
		{`<ES4-HandleProfileEnabledNotification><CompletionTimestamp>2024-13-01T00:00:00Z</CompletionTimestamp></ES4-HandleProfileEnabledNotification>`, "ES4-HandleProfileEnabledNotification", "CompletionTimestamp", rps.ErrDateTime},
		{`<ES4-GetEISResponse><Eis><ProfileInfo><FreeMemory>x</FreeMemory></ProfileInfo></Eis></ES4-GetEISResponse>`, "ProfileInfo", "FreeMemory", rps.ErrInteger},
		{`<ES4-GetEISResponse><Eis><Isd-r><Keyset><Key kcv="zz"/></Keyset></Isd-r></Eis></ES4-GetEISResponse>`, "Key", "kcv", rps.ErrHex},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			d := xmltext.NewDecoder([]byte(tt.doc), xmltext.Limits{})
			require.NoError(t, d.Root())
			el, ok := rps.NewElement(string(d.Local()))
			require.True(t, ok)
			err := el.DecodeXML(d)
			var fe *rps.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tt.element, fe.Element)
			assert.Equal(t, tt.field, fe.Field)
			assert.ErrorIs(t, err, tt.kind)
			assert.Contains(t, err.Error(), tt.field)
		})
	}
}

func TestNewElement(t *testing.T) {
	el, ok := rps.NewElement("ES4-EnableProfileRequest")
	require.True(t, ok)
	assert.IsType(t, &rps.ES4EnableProfileRequest{}, el)
	el, ok = rps.NewElement("es4-enableprofilerequest")
	require.True(t, ok)
	assert.Equal(t, "ES4-EnableProfileRequest", el.ElementName())
	_, ok = rps.NewElement("ES4-Nope")
	assert.False(t, ok)
	for _, name := range rps.ElementNames() {
		el, ok := rps.NewElement(name)
		require.True(t, ok, name)
		assert.Equal(t, name, el.ElementName())
	}
}

func TestDateTime(t *testing.T) {
	tests := []struct{ in, out string }{
		{"2018-12-19T02:44:49Z", "2018-12-19T02:44:49Z"},
		{" 2018-12-19T02:44:49 ", "2018-12-19T02:44:49Z"},
		{"2018-12-19T03:44:49+01:00", "2018-12-19T02:44:49Z"},
		{"2018-12-18T21:44:49.120-05:00", "2018-12-19T02:44:49.12Z"},
		{"2018-12-19T02:44:49.000000000001Z", "2018-12-19T02:44:49Z"},
		{"2018-12-31T24:00:00Z", "2019-01-01T00:00:00Z"},
		{"2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z"},
	}
	for _, tt := range tests {
		var d rps.DateTime
		require.NoError(t, d.UnmarshalText([]byte(tt.in)), tt.in)
		assert.Equal(t, tt.out, d.String(), tt.in)
	}
	for _, bad := range []string{"", "2018-12-19", "2018-12-19T02:44", "2018-12-19T02:44:49.Z", "2023-02-29T00:00:00Z",
		"2018-12-19T02:44:60Z", "2018-12-19T02:44:49+1:00", "2018-12-19T02:44:49 Z", "x018-12-19T02:44:49Z"} {
		var d rps.DateTime
		assert.ErrorIs(t, d.UnmarshalText([]byte(bad)), rps.ErrDateTime, bad)
	}
}

func TestHexBinary(t *testing.T) {
	h, err := rps.ParseHexBinary(" 0aFf\n")
	require.NoError(t, err)
	assert.Equal(t, rps.HexBinary{0x0A, 0xFF}, h)
	assert.Equal(t, "0AFF", h.String())
	for _, bad := range []string{"0", "0g", "0 a"} {
		_, err := rps.ParseHexBinary(bad)
		assert.True(t, errors.Is(err, rps.ErrHex), bad)
	}
}

// TestEncodeDoesNotAllocate: encoding into a buffer with room allocates nothing.
func TestEncodeDoesNotAllocate(t *testing.T) {
	for _, name := range rps.ElementNames() {
		v := populated(t, name)
		buf := make([]byte, 0, 64<<10)
		allocs := testing.AllocsPerRun(20, func() { buf = v.AppendXML(buf[:0]) })
		assert.Zero(t, allocs, name)
	}
}

// TestDecodedValuesOwnTheirMemory: decoded strings and bytes copy what they hold (into the decoder's arena),
// so they survive the document's buffer being reused, the decoder decoding again or being Reset, and a
// neighbouring value decoded from the same arena being written to or appended to.
func TestDecodedValuesOwnTheirMemory(t *testing.T) {
	names := rps.ElementNames()
	buf := make([]byte, 0, 64<<10)
	d := xmltext.NewDecoder(nil, xmltext.Limits{})
	kept := make([]rps.Element, len(names))
	for i, name := range names {
		buf = append(buf[:0], document(populated(t, name).AppendXML(nil))...)
		d.Reset(buf, xmltext.Limits{})
		// The document twice on the same decoder, as a second Message.DecodeBody does: the two values share
		// the arena chunk. The owner of the first then scribbles over it.
		first, _ := rps.NewElement(name)
		require.NoError(t, d.Root())
		require.NoError(t, first.DecodeXML(d))
		kept[i], _ = rps.NewElement(name)
		require.NoError(t, d.Root())
		require.NoError(t, kept[i].DecodeXML(d))
		scribble(reflect.ValueOf(first).Elem())
		for j := range buf {
			buf[j] = 'X'
		}
	}
	for i, name := range names {
		assert.Equal(t, populated(t, name), kept[i], name)
	}
}

// scribble overwrites every byte slice reachable from v and appends to it.
func scribble(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			scribble(v.Elem())
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			scribble(v.Field(i))
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			b := v.Bytes()
			for i := range b {
				b[i] = 0xEE
			}
			_ = append(b, 0xEE, 0xEE, 0xEE, 0xEE)
			return
		}
		for i := 0; i < v.Len(); i++ {
			scribble(v.Index(i))
		}
	}
}

// TestLongLists: repeated children beyond what the decoder buffers on its stack (lists of structs and of
// strings, each a little over one and two buffers long) come back complete and in order.
func TestLongLists(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 9, 17, 40} {
		resp := populated(t, "ES4-AuditEISResponse").(*rps.ES4AuditEISResponse)
		p := resp.Eis.ProfileInfo[0]
		resp.Eis.ProfileInfo = nil
		for i := 0; i < n; i++ {
			p.Iccid = fmt.Sprintf("8931%016d", i)
			p.SmdpID = strings.Repeat("x", i%3) // sometimes absent: nothing may linger in a reused slot
			resp.Eis.ProfileInfo = append(resp.Eis.ProfileInfo, p)
		}
		got := new(rps.ES4AuditEISResponse)
		require.NoError(t, decode(t, document(resp.AppendXML(nil)), got))
		assert.Equal(t, resp, got, "%d ProfileInfo", n)

		req := &rps.ES4AuditEISRequest{Eid: hexFor("Eid")}
		for i := 0; i < n; i++ {
			req.Iccid = append(req.Iccid, fmt.Sprintf("8931%016d", i))
		}
		gotReq := new(rps.ES4AuditEISRequest)
		require.NoError(t, decode(t, document(req.AppendXML(nil)), gotReq))
		assert.Equal(t, req, gotReq, "%d Iccid", n)
	}
}

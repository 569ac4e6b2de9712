package soap_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/internal/xmltext"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

func getEISResponse(t testing.TB) string {
	data, err := os.ReadFile("testdata/GetEISResponse.xml")
	require.NoError(t, err)
	return string(data)
}

// spyBody counts DecodeXML calls on an ES4-GetEISResponse.
type spyBody struct {
	rps.ES4GetEISResponse
	calls int
}

func (s *spyBody) DecodeXML(d *xmltext.Decoder) error {
	s.calls++
	return s.ES4GetEISResponse.DecodeXML(d)
}

// sameAsTwoPasses checks that ReadMessageInto refuses or accepts doc exactly as ReadMessage does, and that
// DecodeBody(into) gives what DecodeBody gives after ReadMessage.
func sameAsTwoPasses(t testing.TB, doc string) {
	t.Helper()
	m1, err1 := soap.ReadMessage([]byte(doc), soap.ReadOptions{})
	into := new(rps.ES4GetEISResponse)
	m2, err2 := soap.ReadMessageInto([]byte(doc), soap.ReadOptions{}, into)
	if err1 != nil {
		require.Error(t, err2)
		assert.Equal(t, err1.Error(), err2.Error())
		return
	}
	require.NoError(t, err2)
	assert.Equal(t, m1.Header, m2.Header)
	assert.Equal(t, m1.BodyName, m2.BodyName)
	assert.Equal(t, m1.BodySpace, m2.BodySpace)
	assert.Equal(t, m1.Fault, m2.Fault)
	v1 := new(rps.ES4GetEISResponse)
	derr1, derr2 := m1.DecodeBody(v1), m2.DecodeBody(into)
	if derr1 != nil {
		require.Error(t, derr2)
		assert.Equal(t, derr1.Error(), derr2.Error())
		return
	}
	require.NoError(t, derr2)
	assert.Equal(t, v1, into)
	// Another value still decodes from the kept position.
	v3 := new(rps.ES4GetEISResponse)
	require.NoError(t, m2.DecodeBody(v3))
	assert.Equal(t, v1, v3)
}

func TestReadMessageIntoAsReadMessage(t *testing.T) {
	resp := getEISResponse(t)
	tests := []struct {
		name string
		doc  string
	}{
		{"the mock's GetEIS answer", resp},
		{"element name in another case", strings.ReplaceAll(resp, "ES4-GetEISResponse>", "es4-geteisresponse>")},
		{"another body", strings.ReplaceAll(resp, "ES4-GetEISResponse>", "ES4-AuditEISResponse>")},
		{"a value that does not decode", strings.Replace(resp, "<rps:RemainingMemory>1048576", "<rps:RemainingMemory>lots", 1)},
		{"an unbound prefix in the body", strings.Replace(resp, "<rps:State>Enabled</rps:State>", "<x:State>Enabled</x:State>", 1)},
		{"unbalanced body", strings.Replace(resp, "</rps:Imsi>", "</rps:Imsx>", 1)},
		{"second body element", strings.Replace(resp, "</env:Body>", "<rps:X/></env:Body>", 1)},
		{"text after the envelope", resp + "x"},
		{"a fault", `<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><env:Fault><env:Code><env:Value>env:Sender</env:Value></env:Code><env:Reason><env:Text xml:lang="en">no</env:Text></env:Reason></env:Fault></env:Body></env:Envelope>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { sameAsTwoPasses(t, tt.doc) })
	}
}

func TestReadMessageIntoDecodesOnce(t *testing.T) {
	into := new(spyBody)
	m, err := soap.ReadMessageInto([]byte(getEISResponse(t)), soap.ReadOptions{}, into)
	require.NoError(t, err)
	require.NoError(t, m.DecodeBody(into))
	assert.Equal(t, 1, into.calls, "decoded while the envelope was read, not again")
	require.NotNil(t, into.Eis)
	assert.Len(t, into.Eis.ProfileInfo, 3)

	other := new(spyBody)
	m, err = soap.ReadMessageInto([]byte(strings.ReplaceAll(getEISResponse(t), "ES4-GetEISResponse>", "ES4-AuditEISResponse>")), soap.ReadOptions{}, other)
	require.NoError(t, err)
	assert.Zero(t, other.calls, "another body is not decoded into it")
	assert.Equal(t, "ES4-AuditEISResponse", m.BodyName)
}

func FuzzReadMessageInto(f *testing.F) {
	f.Add(getEISResponse(f))
	f.Add(strings.Replace(getEISResponse(f), "<rps:RemainingMemory>1048576", "<rps:RemainingMemory>-1", 1))
	f.Add(`<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><rps:ES4-GetEISResponse xmlns:rps="urn:x"><rps:Eis/></rps:ES4-GetEISResponse></env:Body></env:Envelope>`)
	f.Fuzz(func(t *testing.T, doc string) { sameAsTwoPasses(t, doc) })
}

// chooser is a MessageHandler that names the value each body decodes into (a soap.BodyChooser) and keeps
// the messages it is given.
type chooser struct {
	chosen []*spyBody
	got    []*soap.Message
}

func (c *chooser) ChooseBody(local []byte) soap.BodyReader {
	if string(local) != "ES4-GetEISResponse" {
		return nil
	}
	v := new(spyBody)
	c.chosen = append(c.chosen, v)
	return v
}

func (c *chooser) ServeSOAP(ctx context.Context, m *soap.Message) (*soap.Reply, error) {
	c.got = append(c.got, m)
	return nil, nil
}

func TestHandlerBodyChooser(t *testing.T) {
	resp := getEISResponse(t)
	tests := []struct {
		name    string
		doc     string
		chosen  bool // ChooseBody named a value
		decodes bool // and it decoded
		status  int  // the handler's answer
	}{
		{"chosen and decoded", resp, true, true, http.StatusAccepted},
		{"not chosen", strings.ReplaceAll(resp, "ES4-GetEISResponse>", "ES4-AuditEISResponse>"), false, false, http.StatusAccepted},
		{"chosen, a value that does not decode", strings.Replace(resp, "<rps:RemainingMemory>1048576", "<rps:RemainingMemory>lots", 1), true, false, http.StatusAccepted},
		{"chosen, malformed", strings.Replace(resp, "</rps:Imsi>", "</rps:Imsx>", 1), true, false, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &chooser{}
			h := soap.NewHandler(c, soap.WithHandlerLogger(slog.New(slog.DiscardHandler)))
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.doc))
			req.Header.Set("Content-Type", "application/soap+xml; charset=utf-8")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.Equal(t, tt.status, rec.Code)
			assert.Equal(t, tt.chosen, len(c.chosen) == 1)
			if tt.status != http.StatusAccepted {
				assert.Empty(t, c.got, "a malformed envelope is not handed over")
				return
			}
			require.Len(t, c.got, 1)
			m := c.got[0]
			if !tt.chosen {
				assert.Nil(t, m.Decoded())
				v := new(rps.ES4AuditEISResponse)
				require.NoError(t, m.DecodeBody(v), "the body is still there to decode")
				return
			}
			into := c.chosen[0]
			require.Same(t, into, m.Decoded())
			err := m.DecodeBody(into)
			assert.Equal(t, 1, into.calls, "decoded while the envelope was read, not again")
			if !tt.decodes {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.NotNil(t, into.Eis)
			assert.Len(t, into.Eis.ProfileInfo, 3)
		})
	}
}

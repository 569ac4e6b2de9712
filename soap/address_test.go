package soap

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseEntityAddress(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want EntityAddress
	}{
		{
			name: "KPN form, ? between every parameter",
			in:   "http://rsp.kpnthings.com?EntityId=1.3.6.1.4.1.6886?EntityName=KPN?X-KPN-ProviderEntityId=1.3.6.1.4.1.54008",
			want: EntityAddress{Base: "http://rsp.kpnthings.com", EntityID: "1.3.6.1.4.1.6886", EntityName: "KPN",
				Extra: []Param{{ParamKPNProviderEntityID, "1.3.6.1.4.1.54008"}}, Separator: SeparatorQuestion},
		},
		{
			name: "gSOAP form with & (XML layer already turned &amp; into &)",
			in:   "http://host:20000?EntityId=1.3.6.1.4.1.20&EntityName=SM-SR",
			want: EntityAddress{Base: "http://host:20000", EntityID: "1.3.6.1.4.1.20", EntityName: "SM-SR", Separator: SeparatorAmpersand},
		},
		{
			name: "gSOAP To: EntityId only, separator unknown",
			in:   "http://host:10000?EntityId=1.3.6.1.4.1.10",
			want: EntityAddress{Base: "http://host:10000", EntityID: "1.3.6.1.4.1.10"},
		},
		{
			name: "https with path, & form, extra KPN param",
			in:   "https://host/path?EntityId=1.3.6.1.4.1.6886&EntityName=KPN&X-KPN-ProviderEntityId=1.3.6.1.4.1.54008",
			want: EntityAddress{Base: "https://host/path", EntityID: "1.3.6.1.4.1.6886", EntityName: "KPN",
				Extra: []Param{{ParamKPNProviderEntityID, "1.3.6.1.4.1.54008"}}, Separator: SeparatorAmpersand},
		},
		{
			name: "plain URL (Njiwa ReplyTo, S1 placeholder) is a valid address",
			in:   "http://gsma.org/esim-messaging/3/ES2/ES2SmDpService",
			want: EntityAddress{Base: "http://gsma.org/esim-messaging/3/ES2/ES2SmDpService"},
		},
		{
			name: "mixed separators: the one before the second parameter is recorded",
			in:   "http://h?EntityId=1.2?EntityName=X&Foo=bar",
			want: EntityAddress{Base: "http://h", EntityID: "1.2", EntityName: "X", Extra: []Param{{"Foo", "bar"}}, Separator: SeparatorQuestion},
		},
		{
			name: "mixed separators, & first",
			in:   "http://h?EntityId=1.2&EntityName=X?Foo=bar",
			want: EntityAddress{Base: "http://h", EntityID: "1.2", EntityName: "X", Extra: []Param{{"Foo", "bar"}}, Separator: SeparatorAmpersand},
		},
		{
			name: "empty parameters and trailing separators dropped",
			in:   "http://h??EntityId=1.2&&&EntityName=X&",
			want: EntityAddress{Base: "http://h", EntityID: "1.2", EntityName: "X", Separator: SeparatorAmpersand},
		},
		{
			name: "trailing ? only",
			in:   "http://h?",
			want: EntityAddress{Base: "http://h"},
		},
		{
			name: "percent-encoded values, + kept",
			in:   "http://h?EntityId=1.3.6%2E1&EntityName=SM%20SR+x%26y&My%3DKey=a%3fb",
			want: EntityAddress{Base: "http://h", EntityID: "1.3.6.1", EntityName: "SM SR+x&y",
				Extra: []Param{{"My=Key", "a?b"}}, Separator: SeparatorAmpersand},
		},
		{
			name: "parameter names matched without case",
			in:   "http://h?entityid=1.2?ENTITYNAME=n",
			want: EntityAddress{Base: "http://h", EntityID: "1.2", EntityName: "n", Separator: SeparatorQuestion},
		},
		{
			name: "parameter without = and empty values",
			in:   "http://h?EntityId=1.2?flag?EntityName=",
			want: EntityAddress{Base: "http://h", EntityID: "1.2", Extra: []Param{{"flag", ""}}, Separator: SeparatorQuestion},
		},
		{
			name: "surrounding XML white space (pretty-printed wsa:Address)",
			in:   "\n\t  http://h?EntityId=1.2  \r\n",
			want: EntityAddress{Base: "http://h", EntityID: "1.2"},
		},
		{
			name: "no base, parameters only",
			in:   "?EntityId=1.2",
			want: EntityAddress{EntityID: "1.2"},
		},
		{
			name: "Njiwa style Address?ReferenceParameters",
			in:   "https://njiwa.example/dp?EntityId=1.3.6.1.4.1.99&token=abc",
			want: EntityAddress{Base: "https://njiwa.example/dp", EntityID: "1.3.6.1.4.1.99", Extra: []Param{{"token", "abc"}}, Separator: SeparatorAmpersand},
		},
		{
			name: "non-OID EntityId accepted by the tolerant parser",
			in:   "http://h?EntityId=SM-SR-1",
			want: EntityAddress{Base: "http://h", EntityID: "SM-SR-1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEntityAddress(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			// Round trip through the writer.
			again, err := ParseEntityAddress(got.String())
			require.NoError(t, err)
			assert.True(t, got.Equal(again), "%q re-parsed as %+v", got.String(), again)
		})
	}
}

func TestParseEntityAddressErrors(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		kind  AddressErrorKind
		param string
	}{
		{"empty", "", AddressEmpty, ""},
		{"blank", " \n\t", AddressEmpty, ""},
		{"only separators", "?&?", AddressEmpty, ""},
		{"empty EntityId, no base", "?EntityId=", AddressEmpty, ""},
		{"truncated escape", "http://h?EntityId=1.2%4", AddressBadEscape, ParamEntityID},
		{"bad hex escape", "http://h?EntityName=%zz", AddressBadEscape, ParamEntityName},
		{"bad escape in name", "http://h?a%g1=1", AddressBadEscape, ""},
		{"duplicate EntityId", "http://h?EntityId=1.2&EntityId=1.3", AddressDuplicateParam, ParamEntityID},
		{"duplicate EntityId, other case, empty", "http://h?EntityId=1.2?entityid=", AddressDuplicateParam, ParamEntityID},
		{"duplicate EntityName", "http://h?EntityName=a?EntityName=b", AddressDuplicateParam, ParamEntityName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseEntityAddress(tt.in)
			var ae *AddressError
			require.True(t, errors.As(err, &ae), "got %v", err)
			assert.Equal(t, tt.kind, ae.Kind)
			assert.Equal(t, tt.param, ae.Param)
			assert.Contains(t, err.Error(), tt.kind.String())
		})
	}
}

func TestEntityAddressValidate(t *testing.T) {
	ok := EntityAddress{Base: "https://mno.example.org/rsp", EntityID: "1.3.6.1.4.1.99999.10"}
	require.NoError(t, ok.Validate())
	require.NoError(t, ok.WithProviderEntityID("1.3.6.1.4.1.54008").Validate())

	tests := []struct {
		name  string
		a     EntityAddress
		kind  AddressErrorKind
		param string
	}{
		{"no EntityId", EntityAddress{Base: "http://h"}, AddressMissingEntityID, ""},
		{"no base", EntityAddress{EntityID: "1.2"}, AddressBadBase, ""},
		{"? in base", EntityAddress{Base: "http://h?x=1", EntityID: "1.2"}, AddressBadBase, ""},
		{"# in base", EntityAddress{Base: "http://h#f", EntityID: "1.2"}, AddressBadBase, ""},
		{"EntityId not an OID", EntityAddress{Base: "http://h", EntityID: "KPN"}, AddressBadOID, ParamEntityID},
		{"trailing dot", EntityAddress{Base: "http://h", EntityID: "1.2."}, AddressBadOID, ParamEntityID},
		{"leading dot", EntityAddress{Base: "http://h", EntityID: ".1"}, AddressBadOID, ParamEntityID},
		{"double dot", EntityAddress{Base: "http://h", EntityID: "1..2"}, AddressBadOID, ParamEntityID},
		{"non-ASCII digit", EntityAddress{Base: "http://h", EntityID: "1.\u0663"}, AddressBadOID, ParamEntityID},
		{"bad provider OID", ok.WithProviderEntityID("vendor"), AddressBadOID, ParamKPNProviderEntityID},
		{"extra shadows EntityId", EntityAddress{Base: "http://h", EntityID: "1.2", Extra: []Param{{"entityId", "1.3"}}}, AddressDuplicateParam, "entityId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ae *AddressError
			require.True(t, errors.As(tt.a.Validate(), &ae))
			assert.Equal(t, tt.kind, ae.Kind)
			assert.Equal(t, tt.param, ae.Param)
		})
	}
}

func TestEntityAddressString(t *testing.T) {
	a := EntityAddress{
		Base: "http://rsp.kpnthings.com", EntityID: "1.3.6.1.4.1.6886", EntityName: "KPN",
		Extra: []Param{{ParamKPNProviderEntityID, "1.3.6.1.4.1.54008"}},
	}
	// Zero Separator: the KPN / v4 form.
	assert.Equal(t, "http://rsp.kpnthings.com?EntityId=1.3.6.1.4.1.6886?EntityName=KPN?X-KPN-ProviderEntityId=1.3.6.1.4.1.54008", a.String())
	a.Separator = SeparatorAmpersand
	assert.Equal(t, "http://rsp.kpnthings.com?EntityId=1.3.6.1.4.1.6886&EntityName=KPN&X-KPN-ProviderEntityId=1.3.6.1.4.1.54008", a.String())

	// EntityId first, then EntityName, then extras, whatever order they were parsed in.
	b, err := ParseEntityAddress("http://h?Z=1&EntityName=N&EntityId=1.2")
	require.NoError(t, err)
	assert.Equal(t, "http://h?EntityId=1.2&EntityName=N&Z=1", b.String())

	// Empty fields are omitted; the first parameter always follows '?'.
	assert.Equal(t, "http://h?EntityName=N", EntityAddress{Base: "http://h", EntityName: "N", Separator: SeparatorAmpersand}.String())
	assert.Equal(t, "http://h", EntityAddress{Base: "http://h"}.String())

	// Characters the grammar splits on are escaped, the rest of an OID/URN/label is not.
	c := EntityAddress{Base: "http://h", EntityName: "A&B?C=D 50%#+é", Extra: []Param{{"k=v", "urn:x:y/z@w"}}}
	assert.Equal(t, "http://h?EntityName=A%26B%3FC%3DD%2050%25%23%2B%C3%A9?k%3Dv=urn:x:y/z@w", c.String())
	back, err := ParseEntityAddress(c.String())
	require.NoError(t, err)
	assert.True(t, c.Equal(back))

	// AppendTo appends.
	assert.Equal(t, "<x>http://h?EntityId=1", string(EntityAddress{Base: "http://h", EntityID: "1"}.AppendTo([]byte("<x>"))))
}

func TestEntityAddressProviderEntityID(t *testing.T) {
	base := EntityAddress{Base: "http://rsp.kpnthings.com", EntityID: "1.3.6.1.4.1.6886", Extra: []Param{{"A", "1"}}}
	_, ok := base.ProviderEntityID()
	assert.False(t, ok)

	withP := base.WithProviderEntityID("1.3.6.1.4.1.54008")
	got, ok := withP.ProviderEntityID()
	assert.True(t, ok)
	assert.Equal(t, "1.3.6.1.4.1.54008", got)
	assert.Equal(t, []Param{{"A", "1"}, {ParamKPNProviderEntityID, "1.3.6.1.4.1.54008"}}, withP.Extra)

	// Per-call copies never write into each other's (or the original's) backing array.
	p1 := base.WithProviderEntityID("1.1")
	p2 := base.WithProviderEntityID("2.2")
	v1, _ := p1.ProviderEntityID()
	v2, _ := p2.ProviderEntityID()
	assert.Equal(t, "1.1", v1)
	assert.Equal(t, "2.2", v2)
	assert.Len(t, base.Extra, 1)

	// Replace keeps position and drops duplicates; empty removes.
	r := EntityAddress{Extra: []Param{{"x-kpn-providerentityid", "9"}, {"B", "2"}, {ParamKPNProviderEntityID, "8"}}}.WithProviderEntityID("7")
	assert.Equal(t, []Param{{"x-kpn-providerentityid", "7"}, {"B", "2"}}, r.Extra)
	assert.Equal(t, []Param{{"B", "2"}}, r.WithProviderEntityID("").Extra)
	assert.Nil(t, EntityAddress{}.WithProviderEntityID("").Extra)

	// WithParam routes EntityId / EntityName to their fields.
	e := base.WithParam("entityid", "1.9").WithParam(ParamEntityName, "N")
	assert.Equal(t, "1.9", e.EntityID)
	assert.Equal(t, "N", e.EntityName)
	v, ok := e.Param("ENTITYNAME")
	assert.True(t, ok)
	assert.Equal(t, "N", v)
	_, ok = e.Param("missing")
	assert.False(t, ok)
}

func TestEntityAddressAppendToAllocs(t *testing.T) {
	skipUnderRace(t)
	a := EntityAddress{
		Base: "http://rsp.kpnthings.com", EntityID: "1.3.6.1.4.1.6886", EntityName: "K P N",
		Extra: []Param{{ParamKPNProviderEntityID, "1.3.6.1.4.1.54008"}},
	}
	buf := make([]byte, 0, 256)
	allocs := testing.AllocsPerRun(100, func() { buf = a.AppendTo(buf[:0]) })
	assert.Zero(t, allocs)
}

func TestParseEntityAddressAllocs(t *testing.T) {
	skipUnderRace(t)
	// Substrings of the input, one slice for the extras, nothing else when there is nothing to unescape.
	s := "http://rsp.kpnthings.com?EntityId=1.3.6.1.4.1.6886?EntityName=KPN?X-KPN-ProviderEntityId=1.3.6.1.4.1.54008"
	allocs := testing.AllocsPerRun(100, func() { _, _ = ParseEntityAddress(s) })
	assert.LessOrEqual(t, allocs, 1.0)
}

func FuzzParseEntityAddress(f *testing.F) {
	for _, s := range []string{
		"http://rsp.kpnthings.com?EntityId=1.3.6.1.4.1.6886?EntityName=KPN?X-KPN-ProviderEntityId=1.3.6.1.4.1.54008",
		"http://host:20000?EntityId=1.3.6.1.4.1.20&EntityName=SM-SR",
		"http://host:10000?EntityId=1.3.6.1.4.1.10",
		"https://mno.example.org/rsp?EntityId=1.3.6.1.4.1.99999.10&EntityName=ExampleMNO",
		"https://smsr.example.net/esim-messaging/3/ES4/ES4SmSrService?EntityId=1.3.6.1.4.1.99999.20",
		"http://www.w3.org/2005/08/addressing/anonymous",
		"http://docs.oasis-open.org/ws-rx/wsmc/200702/anonymous?id=550e8400-e29b-41d4-a716-446655440000",
		"http://h??EntityId=1.2&&&EntityName=X&",
		"http://h?EntityId=1.3.6%2E1&EntityName=SM%20SR+x%26y&My%3DKey=a%3fb",
		"?EntityId=",
		"?=",
		"http://h?EntityId=1.2%4",
		"0?EntitYId&0",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseEntityAddress(s)
		if err != nil {
			var ae *AddressError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v is not an *AddressError", err)
			}
			return
		}
		out := a.String()
		b, err := ParseEntityAddress(out)
		if err != nil {
			t.Fatalf("%q parsed, but its String %q does not: %v", s, out, err)
		}
		if !a.Equal(b) {
			t.Fatalf("%q: %+v re-parsed from %q as %+v", s, a, out, b)
		}
		if out2 := b.String(); out2 != out {
			t.Fatalf("String not stable: %q then %q", out, out2)
		}
		_ = a.Validate()
	})
}

func BenchmarkEntityAddressAppendTo(b *testing.B) {
	a := EntityAddress{
		Base: "http://rsp.kpnthings.com", EntityID: "1.3.6.1.4.1.6886", EntityName: "KPN",
		Extra: []Param{{ParamKPNProviderEntityID, "1.3.6.1.4.1.54008"}},
	}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = a.AppendTo(buf[:0])
	}
}

func BenchmarkParseEntityAddress(b *testing.B) {
	s := "http://rsp.kpnthings.com?EntityId=1.3.6.1.4.1.6886?EntityName=KPN?X-KPN-ProviderEntityId=1.3.6.1.4.1.54008"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseEntityAddress(s); err != nil {
			b.Fatal(err)
		}
	}
}

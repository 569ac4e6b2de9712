package soap

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/internal/xmltext"
)

const secret = "s3cr3t-P@ss"

func TestUsernameTokenRedactedInFmt(t *testing.T) {
	tok := UsernameToken{Username: "alice", Password: secret, Digest: true}
	type holder struct {
		Name  string
		Token UsernameToken
		Ptr   *UsernameToken
	}
	// The documented way to keep one in an unexported field: a method value, which fmt prints as an
	// address whatever the verb (a *UsernameToken would leak through %s: fmt's bad-verb path reflects).
	type private struct {
		appendHeader func([]byte, time.Time, []byte) []byte
	}
	values := []any{tok, &tok, holder{"h", tok, &tok}, &holder{"h", tok, &tok}, []UsernameToken{tok},
		map[string]UsernameToken{"k": tok}, private{tok.AppendHeader}}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3v", "%-20s", "%T %v"}
	for _, v := range values {
		for _, verb := range verbs {
			out := fmt.Sprintf(verb, v)
			assert.NotContains(t, out, secret, "%s of %T", verb, v)
			assert.NotContains(t, out, "s3cr3t", "%s of %T", verb, v)
		}
		assert.NotContains(t, fmt.Sprint(v), secret)
		assert.NotContains(t, fmt.Sprintln(v), secret)
	}
	assert.Equal(t, "{alice [REDACTED] true}", tok.String())
	assert.Equal(t, "{alice [REDACTED] true}", fmt.Sprintf("%v", tok))
	assert.Equal(t, "{Username:alice Password:[REDACTED] Digest:true}", fmt.Sprintf("%+v", tok))
	assert.Equal(t, `soap.UsernameToken{Username:"alice", Password:"[REDACTED]", Digest:true}`, fmt.Sprintf("%#v", tok))
	assert.Equal(t, `"{alice [REDACTED] true}"`, fmt.Sprintf("%q", tok))
	// An unset password shows as unset.
	assert.Equal(t, "{bob \"\" false}", UsernameToken{Username: "bob"}.String())

	// Errors wrapping a token.
	err := fmt.Errorf("call with %v failed", tok)
	assert.NotContains(t, err.Error(), secret)
}

func TestUsernameTokenRedactedInSlogAndJSON(t *testing.T) {
	tok := UsernameToken{Username: "alice", Password: secret}
	type cfg struct {
		URL   string
		Token UsernameToken
	}
	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
		l := slog.New(h)
		l.Info("call", "token", tok, "ptr", &tok, "cfg", cfg{"https://x", tok}, slog.Any("any", tok))
		l.With("token", tok).Info("with")
		l.Info("group", slog.Group("g", "token", tok))
	}
	out := buf.String()
	assert.NotContains(t, out, secret)
	assert.Contains(t, out, "alice")
	assert.Contains(t, out, redacted)

	j, err := json.Marshal(cfg{"https://x", tok})
	require.NoError(t, err)
	assert.NotContains(t, string(j), secret)
	assert.JSONEq(t, `{"URL":"https://x","Token":{"Username":"alice","Password":"[REDACTED]","Digest":false}}`, string(j))
}

func TestUsernameTokenAppendHeaderText(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.FixedZone("CEST", 7200))
	tok := UsernameToken{Username: "a<b", Password: "p&q"}
	got := string(tok.AppendHeader([]byte("<env:Header>"), now, nil))
	want := `<env:Header><wsse:Security env:mustUnderstand="true" xmlns:wsse="` + NSWSSecurity + `" xmlns:wsu="` + NSWSSecurityUtility + `">` +
		`<wsse:UsernameToken><wsse:Username>a&lt;b</wsse:Username>` +
		`<wsse:Password Type="` + PasswordTextType + `">p&amp;q</wsse:Password>` +
		`<wsu:Created>2024-05-01T10:00:00.123Z</wsu:Created></wsse:UsernameToken></wsse:Security>`
	assert.Equal(t, want, got)
}

func TestUsernameTokenAppendHeaderDigest(t *testing.T) {
	now := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	nonce := []byte("0123456789abcdef")
	tok := UsernameToken{Username: "alice", Password: secret, Digest: true}
	got := string(tok.AppendHeader(nil, now, nonce))

	created := "2024-05-01T10:00:00.000Z"
	sum := sha1.Sum([]byte(string(nonce) + created + secret))
	assert.Contains(t, got, `<wsse:Password Type="`+PasswordDigestType+`">`+base64.StdEncoding.EncodeToString(sum[:])+`</wsse:Password>`)
	assert.Contains(t, got, `<wsse:Nonce EncodingType="`+Base64BinaryType+`">`+base64.StdEncoding.EncodeToString(nonce)+`</wsse:Nonce>`)
	assert.Contains(t, got, `<wsu:Created>`+created+`</wsu:Created>`)
	assert.NotContains(t, got, secret)

	// No nonce given: one is drawn, and differs between calls.
	a := tok.AppendHeader(nil, now, nil)
	b := tok.AppendHeader(nil, now, nil)
	assert.Contains(t, string(a), "<wsse:Nonce ")
	assert.NotEqual(t, a, b)

	// The header is well formed XML once embedded in an envelope declaring env.
	env := `<env:Envelope xmlns:env="` + NSEnvelope + `"><env:Header>` + got + `</env:Header></env:Envelope>`
	d := xmltext.NewDecoder([]byte(env), xmltext.Limits{})
	require.NoError(t, d.Root())
	require.NoError(t, d.Skip())
	require.NoError(t, d.End())
}

// securityDecoder returns a decoder positioned on the wsse:Security element inside a header.
func securityDecoder(t *testing.T, header string) *xmltext.Decoder {
	t.Helper()
	env := `<env:Envelope xmlns:env="` + NSEnvelope + `"><env:Header>` + header + `</env:Header><env:Body/></env:Envelope>`
	d := xmltext.NewDecoder([]byte(env), xmltext.Limits{})
	require.NoError(t, d.Root())
	ok, err := d.NextChild() // Header
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = d.NextChild() // Security
	require.NoError(t, err)
	require.True(t, ok)
	require.True(t, d.LocalIs("Security"))
	return d
}

func TestUsernameTokenVerifier(t *testing.T) {
	now := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	good := UsernameToken{Username: "alice", Password: secret, Digest: true}
	text := UsernameToken{Username: "alice", Password: secret}

	tests := []struct {
		name   string
		header string
		v      UsernameTokenVerifier
		at     time.Time
		kind   SecurityErrorKind // 0: accepted
	}{
		{"digest ok", string(good.AppendHeader(nil, now, nil)), UsernameTokenVerifier{Expect: good}, now, 0},
		{"text ok", string(text.AppendHeader(nil, now, nil)), UsernameTokenVerifier{Expect: text}, now, 0},
		{"digest accepted by a text verifier", string(good.AppendHeader(nil, now, nil)), UsernameTokenVerifier{Expect: text}, now, 0},
		{"text refused when digest required", string(text.AppendHeader(nil, now, nil)), UsernameTokenVerifier{Expect: good}, now, SecurityDigestRequired},
		{"wrong password, digest", string(UsernameToken{"alice", "wrong", true}.AppendHeader(nil, now, nil)), UsernameTokenVerifier{Expect: good}, now, SecurityBadCredentials},
		{"wrong password, text", string(UsernameToken{"alice", secret + "x", false}.AppendHeader(nil, now, nil)), UsernameTokenVerifier{Expect: text}, now, SecurityBadCredentials},
		{"wrong username", string(UsernameToken{"bob", secret, true}.AppendHeader(nil, now, nil)), UsernameTokenVerifier{Expect: good}, now, SecurityBadCredentials},
		{"empty expected username never matches", string(UsernameToken{"", "", false}.AppendHeader(nil, now, nil)), UsernameTokenVerifier{}, now, SecurityBadCredentials},
		{"expired (default 5 min)", string(good.AppendHeader(nil, now, nil)), UsernameTokenVerifier{Expect: good}, now.Add(6 * time.Minute), SecurityExpired},
		{"Njiwa's 6 h window", string(good.AppendHeader(nil, now, nil)), UsernameTokenVerifier{Expect: good, MaxAge: 6 * time.Hour}, now.Add(5 * time.Hour), 0},
		{"from the future", string(good.AppendHeader(nil, now.Add(2*time.Minute), nil)), UsernameTokenVerifier{Expect: good}, now, SecurityFuture},
		{"skew tolerated", string(good.AppendHeader(nil, now.Add(30*time.Second), nil)), UsernameTokenVerifier{Expect: good}, now, 0},
		{"no token", `<wsse:Security xmlns:wsse="` + NSWSSecurity + `"><wsse:Other/></wsse:Security>`, UsernameTokenVerifier{Expect: good}, now, SecurityMissing},
		{
			"other prefixes, other order, Type omitted, offset date, unknown children",
			`<s:Security xmlns:s="` + NSWSSecurity + `" xmlns:u="` + NSWSSecurityUtility + `"><u:Timestamp><u:Created>x</u:Created></u:Timestamp>` +
				`<s:UsernameToken u:Id="t1"><u:Created>2024-05-01T12:00:00+02:00</u:Created><s:Password>` + secret + `</s:Password>` +
				`<s:Username> alice </s:Username><s:Extra/></s:UsernameToken></s:Security>`,
			UsernameTokenVerifier{Expect: text}, now, 0,
		},
		{
			"no Created",
			`<wsse:Security xmlns:wsse="` + NSWSSecurity + `"><wsse:UsernameToken><wsse:Username>alice</wsse:Username><wsse:Password>` + secret + `</wsse:Password></wsse:UsernameToken></wsse:Security>`,
			UsernameTokenVerifier{Expect: text}, now, SecurityMalformed,
		},
		{
			"bad Created",
			`<wsse:Security xmlns:wsse="` + NSWSSecurity + `"><wsse:UsernameToken><wsse:Username>alice</wsse:Username><wsse:Password>` + secret + `</wsse:Password><wsse:Created>today</wsse:Created></wsse:UsernameToken></wsse:Security>`,
			UsernameTokenVerifier{Expect: text}, now, SecurityMalformed,
		},
		{
			"unknown password type",
			`<wsse:Security xmlns:wsse="` + NSWSSecurity + `"><wsse:UsernameToken><wsse:Username>alice</wsse:Username><wsse:Password Type="urn:x">` + secret + `</wsse:Password></wsse:UsernameToken></wsse:Security>`,
			UsernameTokenVerifier{Expect: text}, now, SecurityMalformed,
		},
		{
			"nonce not base64",
			`<wsse:Security xmlns:wsse="` + NSWSSecurity + `"><wsse:UsernameToken><wsse:Username>alice</wsse:Username><wsse:Password>p</wsse:Password><wsse:Nonce>!!</wsse:Nonce><wsse:Created>2024-05-01T10:00:00Z</wsse:Created></wsse:UsernameToken></wsse:Security>`,
			UsernameTokenVerifier{Expect: text}, now, SecurityMalformed,
		},
		{
			"two tokens",
			`<wsse:Security xmlns:wsse="` + NSWSSecurity + `"><wsse:UsernameToken/><wsse:UsernameToken/></wsse:Security>`,
			UsernameTokenVerifier{Expect: text}, now, SecurityMalformed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.v.Verify(securityDecoder(t, tt.header), tt.at)
			if tt.kind == 0 {
				require.NoError(t, err)
				return
			}
			var se *SecurityError
			require.True(t, errors.As(err, &se), "got %v", err)
			assert.Equal(t, tt.kind, se.Kind)
			assert.NotContains(t, err.Error(), secret)
			assert.Equal(t, FaultSender, se.Fault().Code)
			if tt.kind == SecurityBadCredentials {
				assert.Equal(t, "soap: wsse: invalid username or password", err.Error(), "no detail about what was wrong")
			}
		})
	}
}

func TestUsernameTokenVerifierConsumesElement(t *testing.T) {
	now := time.Now()
	tok := UsernameToken{Username: "alice", Password: secret, Digest: true}
	d := securityDecoder(t, string(tok.AppendHeader(nil, now, nil))+`<wsa:To xmlns:wsa="`+NSAddressing+`">x</wsa:To>`)
	v := UsernameTokenVerifier{Expect: tok}
	require.NoError(t, v.Verify(d, now))
	ok, err := d.NextChild()
	require.NoError(t, err)
	require.True(t, ok)
	assert.True(t, d.LocalIs("To"))
	// A verifier prints redacted too.
	assert.NotContains(t, fmt.Sprintf("%+v %#v", v, &v), secret)
	assert.True(t, strings.Contains(fmt.Sprintf("%+v", v), "alice"))
}

package es2_test

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/es2"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenCase is one request whose envelope is compared with testdata/<name>.xml.
type goldenCase struct {
	name   string
	fn     string // function name, for the Action check
	opts   []esimgw.Option
	answer any // what the mock answers: nil (202) or a sync response
	call   func(ctx context.Context, c *es2.Client, co esimgw.CallOption) error
}

func goldenCases() []goldenCase {
	ok := status(esimgw.StatusExecutedSuccess)
	profile := func(name string, pick func(*es2.Client) profileFunc, opts ...esimgw.Option) goldenCase {
		fn, _, _ := strings.Cut(name, "-")
		return goldenCase{name: name, fn: fn, opts: opts, call: func(ctx context.Context, c *es2.Client, co esimgw.CallOption) error {
			_, err := pick(c)(ctx, testEID, testICCID, co)
			return err
		}}
	}
	return []goldenCase{
		{name: "GetEIS", fn: "GetEIS", answer: &rps.ES2GetEISResponse{BaseResponseType: ok},
			call: func(ctx context.Context, c *es2.Client, co esimgw.CallOption) error {
				_, err := c.GetEIS(ctx, testEID, co)
				return err
			}},
		{name: "DownloadProfile-iccid-enable", fn: "DownloadProfile",
			call: func(ctx context.Context, c *es2.Client, co esimgw.CallOption) error {
				_, err := c.DownloadProfile(ctx, es2.DownloadRequest{Eid: testEID, Iccid: testICCID, Enable: true}, co)
				return err
			}},
		{name: "DownloadProfile-profiletype-disabled", fn: "DownloadProfile",
			call: func(ctx context.Context, c *es2.Client, co esimgw.CallOption) error {
				_, err := c.DownloadProfile(ctx, es2.DownloadRequest{Eid: testEID, ProfileType: "esimgw-test-iot"}, co)
				return err
			}},
		{name: "UpdatePolicyRules", fn: "UpdatePolicyRules", answer: &rps.ES2UpdatePolicyRulesResponse{BaseResponseType: ok},
			call: func(ctx context.Context, c *es2.Client, co esimgw.CallOption) error {
				_, err := c.UpdatePolicyRules(ctx, testEID, testICCID, rps.POL2Type{Rule: []rps.POL2RuleType{
					{Subject: rps.POL2SubjectTypePROFILE, Action: rps.POL2ActionTypeDISABLE, Qualification: rps.POL2QualificationTypeNotAllowed},
					{Subject: rps.POL2SubjectTypePROFILE, Action: rps.POL2ActionTypeDELETE, Qualification: rps.POL2QualificationTypeAutoDelete},
				}}, co)
				return err
			}},
		{name: "UpdatePolicyRules-nopol2", fn: "UpdatePolicyRules", answer: &rps.ES2UpdatePolicyRulesResponse{BaseResponseType: ok},
			call: func(ctx context.Context, c *es2.Client, co esimgw.CallOption) error {
				_, err := c.UpdatePolicyRules(ctx, testEID, testICCID, rps.POL2Type{}, co)
				return err
			}},
		{name: "UpdateSubscriptionAddress", fn: "UpdateSubscriptionAddress", answer: &rps.ES2UpdateSubscriptionAddressResponse{BaseResponseType: ok},
			call: func(ctx context.Context, c *es2.Client, co esimgw.CallOption) error {
				_, err := c.UpdateSubscriptionAddress(ctx, testEID, testICCID, rps.SubscriptionAddressType{Imsi: "204049000000101", Msisdn: "31600000101"}, co)
				return err
			}},
		profile("EnableProfile", func(c *es2.Client) profileFunc { return c.EnableProfile }),
		profile("DisableProfile", func(c *es2.Client) profileFunc { return c.DisableProfile }),
		profile("DeleteProfile", func(c *es2.Client) profileFunc { return c.DeleteProfile }),
		profile("SetFallBackAttribute", func(c *es2.Client) profileFunc { return c.SetFallBackAttribute }),
		profile("SetFallBackAttribute-kpn", func(c *es2.Client) profileFunc { return c.SetFallBackAttribute }, esimgw.WithKPN()),
	}
}

// randomID is the random part of a MessageID; the rest is fixed by WithClock and WithFunctionCallIdentifier.
var randomID = regexp.MustCompile(`urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

func normalise(b []byte) []byte {
	s := randomID.ReplaceAllString(string(b), "urn:uuid:00000000-0000-4000-8000-000000000000")
	return []byte(strings.ReplaceAll(s, "><", ">\n<") + "\n")
}

func goldenPath(name string) string { return filepath.Join("testdata", name+".xml") }

// TestGoldenRequests compares every function's request envelope with its golden file (go test -update
// rewrites them) and checks the HTTP action parameter against the function table.
func TestGoldenRequests(t *testing.T) {
	for _, g := range goldenCases() {
		t.Run(g.name, func(t *testing.T) {
			m := newMocked(t, g.opts...)
			m.answer(t, g.answer)
			require.NoError(t, g.call(context.Background(), m.c, esimgw.WithFunctionCallIdentifier("fc-golden-0001")))
			rec := m.rec.last(t)
			f, ok := rps.FunctionByName(rps.ES2, g.fn)
			require.True(t, ok)
			assert.Equal(t, f.RequestAction, rec.Message.Header.Action)
			assert.Contains(t, rec.ContentType, `action="`+f.RequestAction+`"`)
			assert.Equal(t, f.RequestElement, rec.Message.BodyName)
			got := normalise(rec.Body)
			if *update {
				require.NoError(t, os.MkdirAll("testdata", 0o755))
				require.NoError(t, os.WriteFile(goldenPath(g.name), got, 0o644))
			}
			want, err := os.ReadFile(goldenPath(g.name))
			require.NoError(t, err, "run go test ./es2 -run TestGoldenRequests -update")
			assert.Equal(t, string(want), string(got))
		})
	}
}

// TestGoldenSchemaValid validates the body of every golden request against our ES2 XSD.
func TestGoldenSchemaValid(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint not found: install libxml2-utils to validate the golden bodies against the XSD")
	}
	dir := t.TempDir()
	args := []string{"--noout", "--schema", filepath.Join("..", "wsdl", "xsd", "euicc.request.ES2.xsd")}
	for _, g := range goldenCases() {
		env, err := os.ReadFile(goldenPath(g.name))
		require.NoError(t, err)
		body := bodyOf(t, string(env))
		p := filepath.Join(dir, g.name+".xml")
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		args = append(args, p)
	}
	out, err := exec.Command(xmllint, args...).CombinedOutput()
	require.NoError(t, err, "%s", out)
}

// bodyOf cuts the body element out of an envelope and declares the rps prefix on it.
func bodyOf(t *testing.T, env string) string {
	t.Helper()
	_, rest, ok := strings.Cut(env, "<env:Body>")
	require.True(t, ok)
	body, _, ok := strings.Cut(rest, "</env:Body>")
	require.True(t, ok)
	name, _, _ := strings.Cut(strings.TrimSpace(body), ">")
	return strings.Replace(body, name, name+` xmlns:rps="`+soap.NSRPS+`"`, 1)
}

// TestElementSpellings pins docs/wire.md section 5.2's spellings: SmSr-id in DownloadProfile and EnableProfile, Smsr-id
// elsewhere, Eid-Iccid-Smsr-id order in DeleteProfile.
func TestElementSpellings(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"DownloadProfile-iccid-enable", "<rps:Eid>" + testEID + "</rps:Eid>\n<rps:SmSr-id>"},
		{"EnableProfile", "</rps:Eid>\n<rps:SmSr-id>" + testSMSR + "</rps:SmSr-id>\n<rps:Iccid>"},
		{"DisableProfile", "</rps:Eid>\n<rps:Smsr-id>" + testSMSR + "</rps:Smsr-id>\n<rps:Iccid>"},
		{"DeleteProfile", "</rps:Eid>\n<rps:Iccid>" + testICCID + "</rps:Iccid>\n<rps:Smsr-id>"},
		{"GetEIS", "</rps:Eid>\n<rps:Smsr-id>"},
		{"SetFallBackAttribute-kpn", "<rps:ValidityPeriod>720</rps:ValidityPeriod>"},
	} {
		b, err := os.ReadFile(goldenPath(tc.name))
		require.NoError(t, err)
		assert.Contains(t, string(b), tc.want, tc.name)
	}
}

package cli

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/soap"
)

func TestExecReportsOneLine(t *testing.T) {
	for _, c := range []struct {
		run  RunFunc
		code int
		want string
	}{
		{func(context.Context, Env, []string, io.Writer, io.Writer) error { return nil }, ExitOK, ""},
		{func(context.Context, Env, []string, io.Writer, io.Writer) error { return errors.New("esimgw: a\nb") }, ExitError, "x: a b\n"},
		{func(context.Context, Env, []string, io.Writer, io.Writer) error { return Usagef("-eid is required") }, ExitUsage, "x: -eid is required (run x -h for help)\n"},
		{func(context.Context, Env, []string, io.Writer, io.Writer) error { panic("boom\nstack") }, ExitError, "x: internal error: boom stack\n"},
	} {
		var errOut strings.Builder
		code := Exec(context.Background(), "x", c.run, nil, NoEnv, io.Discard, &errOut)
		assert.Equal(t, c.code, code)
		assert.Equal(t, c.want, errOut.String())
	}
}

func TestEnvFallbackAndFlagsWin(t *testing.T) {
	a := New("x", "Usage: x", NeedES4, MapEnv(map[string]string{"ESIMGW_ENTITY_NAME": "env", "ESIMGW_TIMEOUT": "3s"}), io.Discard, io.Discard)
	assert.NoError(t, a.Parse([]string{"-entity-name", "flag"}))
	assert.Equal(t, "flag", a.EntityName)
	assert.Equal(t, "3s", a.Timeout.String())
	assert.True(t, a.TimeoutSet)
	assert.True(t, a.Embedded())
}

func TestKPNDefaults(t *testing.T) {
	a := New("x", "Usage: x", NeedES2|NeedES4, NoEnv, io.Discard, io.Discard)
	err := a.Parse([]string{"-kpn", "-cert", "c", "-key", "k", "-entity-id", "1.2", "-smsr-id", "1.3",
		"-callback-cert", "cc", "-callback-key", "ck", "-callback-ca", "ca", "-replyto", "https://cb.example.com:8443/"})
	assert.NoError(t, err)
	assert.Equal(t, "https://rsp.kpnthings.com/esim-messaging/3/ES2/ES2SmDpService", a.ES2URL)
	assert.Equal(t, "https://rsp.kpnthings.com/esim-messaging/3/ES4/ES4SmSrService", a.ES4URL)
	assert.False(t, a.Embedded())
}

func TestMessageNamesTheUnreachableGateway(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "soap.Transport", err: &soap.CallError{Endpoint: "https://smsr.example/ES4", Action: "a", Attempts: 4, Outcome: soap.NotSent, Err: refused},
			want: "cannot reach the gateway at https://smsr.example/ES4: connect: connection refused"},
		{name: "http.Client", err: &soap.CallError{Endpoint: "https://smsr.example/ES4", Outcome: soap.NotSent, Err: &url.Error{Op: "Post", URL: "https://smsr.example/ES4", Err: refused}},
			want: "cannot reach the gateway at https://smsr.example/ES4: connect: connection refused"},
		{name: "deadline stays a deadline", err: &soap.CallError{Endpoint: "https://smsr.example/ES4", Attempts: 1, Err: context.DeadlineExceeded},
			want: "https://smsr.example/ES4 () outcome unknown: the peer may have executed it after 1 attempt: context deadline exceeded; call again only with the same FunctionCallIdentifier, or audit first"},
		{name: "a certificate failure names its fix", err: &soap.CallError{Endpoint: "https://smsr.example/ES4", Attempts: 1, Outcome: soap.NotSent,
			Fix: "give the gateway's CA with mtls.WithRootCAs (the CLI's -ca flag)", Err: &url.Error{Op: "Post", URL: "https://smsr.example/ES4", Err: errors.New("tls: failed to verify certificate")}},
			want: "cannot reach the gateway at https://smsr.example/ES4: tls: failed to verify certificate; give the gateway's CA with mtls.WithRootCAs (the CLI's -ca flag)"},
		{name: "prefixes dropped", err: errors.New("esimgw: something"), want: "something"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Message(tt.err))
		})
	}
}

// A message names a flag as the program spells it: one dash on the flag package (the examples), two with
// LongFlags (cmd/esimgw on cobra), for the gateway flags and the carriers' alike.
func TestMessagesSpellFlagsAsTheProgram(t *testing.T) {
	tests := []struct {
		name string
		long bool
		args []string
		want string
	}{
		{"gateway, one dash", false, []string{"-es4-url", "https://gw.example/es4"}, "required: -cert, -key, -entity-id, -callback-cert"},
		{"gateway, two dashes", true, []string{"-es4-url", "https://gw.example/es4"}, "required: --cert, --key, --entity-id, --callback-cert"},
		{"timeout, one dash", false, []string{"-timeout", "0s"}, "-timeout must be positive"},
		{"timeout, two dashes", true, []string{"-timeout", "0s"}, "--timeout must be positive"},
		{"Digi, one dash", false, []string{"-digirm-url", "https://127.0.0.1:1/ws/v1/esim_profiles"},
			"required: -digirm-user and -digirm-password, or -digirm-api-key-id and -digirm-api-key-secret"},
		{"Digi, two dashes", true, []string{"-digirm-url", "https://127.0.0.1:1/ws/v1/esim_profiles"},
			"required: --digirm-user and --digirm-password, or --digirm-api-key-id and --digirm-api-key-secret"},
		{"ThingSpace, one dash", false, []string{"-thingspace-url", "https://127.0.0.1:1/api/m2m/v1", "-thingspace-tls-cert", "c"},
			"required: -thingspace-app-key, -thingspace-app-secret"},
		{"ThingSpace, two dashes", true, []string{"-thingspace-url", "https://127.0.0.1:1/api/m2m/v1", "-thingspace-tls-cert", "c"},
			"required: --thingspace-app-key, --thingspace-app-secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := New("x", "Usage: x", NeedES4, NoEnv, io.Discard, io.Discard)
			a.LongFlags = tt.long
			carriers := AddCarrierFlags(a, PlatformThingSpace, PlatformDigiRM)
			err := a.Parse(tt.args)
			if err == nil {
				platform := PlatformDigiRM
				if !carriers.Embedded(PlatformThingSpace) {
					platform = PlatformThingSpace
				}
				var c *Carrier
				c, err = carriers.Start(context.Background(), a, platform)
				assert.Nil(t, c)
			}
			var usage *UsageError
			assert.ErrorAs(t, err, &usage)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

// A ThingSpace callback receiver whose certificate cannot be loaded is an error at start, naming the
// flags, instead of a receiver that never serves and a command that waits its whole timeout.
func TestThingSpaceReceiverCertificateLoadedAtStart(t *testing.T) {
	a := New("x", "Usage: x", NeedES4, NoEnv, io.Discard, io.Discard)
	carriers := AddCarrierFlags(a, PlatformThingSpace)
	missing := t.TempDir() + "/missing.pem"
	require.NoError(t, a.Parse([]string{"-thingspace-url", "https://127.0.0.1:1/api/m2m/v1", "-thingspace-app-key", "k",
		"-thingspace-app-secret", "s", "-thingspace-user", "u", "-thingspace-password", "p", "-thingspace-account", "0000123456-00001",
		"-thingspace-callback-user", "cu", "-thingspace-callback-password", "cp", "-thingspace-callback-url", "https://cb.example.com:9001/",
		"-thingspace-listen", "127.0.0.1:0", "-thingspace-tls-cert", missing, "-thingspace-tls-key", missing}))
	c, err := carriers.Start(context.Background(), a, PlatformThingSpace)
	assert.Nil(t, c)
	assert.ErrorContains(t, err, "thingspace callback receiver certificate (-thingspace-tls-cert, -thingspace-tls-key)")
	assert.ErrorContains(t, err, "missing.pem")
}

// The flags' help names -kpn as the program spells it too: TwoDashes sets LongFlags before the flags are
// made.
func TestFlagHelpSpellsFlagsAsTheProgram(t *testing.T) {
	for _, tt := range []struct {
		needs Needs
		want  string
	}{
		{NeedES4, "(default with -kpn: KPN's)"},
		{NeedES4 | TwoDashes, "(default with --kpn: KPN's)"},
	} {
		a := New("x", "Usage: x", tt.needs, NoEnv, io.Discard, io.Discard)
		assert.Equal(t, tt.needs&TwoDashes != 0, a.LongFlags)
		assert.Contains(t, a.Flags.Lookup("es4-url").Usage, tt.want)
		assert.Contains(t, a.Flags.Lookup("kpn").Usage, "without "+a.Flag("kpn")+" or any gateway")
	}
}

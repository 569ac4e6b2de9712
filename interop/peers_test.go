//go:build interop

package interop_test

// The interop suite: SOAP stacks no one here wrote, driven from the repository's WSDLs, against the mock
// gateway, the CallbackServer and the es4 client. Run by scripts/interop.sh, which installs the stacks;
// with the interop build tag a missing stack fails the suite, it never skips.

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/es4"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/interop"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// peerTimeout bounds one peer run (process start, a few calls, their callbacks).
const peerTimeout = 2 * time.Minute

func repoRoot(t testing.TB) string {
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	return filepath.Dir(filepath.Dir(file))
}

// noted is one notification the Dispatcher handed over.
type noted struct {
	Interface string
	Kind      esimgw.NotificationKind
	Eid       string
	Iccid     string
	MessageID string
	Action    string
}

// rig is the Go side of one peer test: the mock gateway, esimgw's CallbackServer with a Dispatcher that
// records every notification handed over (and everything unmatched), and the peer's configuration file.
type rig struct {
	gw        *gatewaytest.Gateway
	op        *gatewaytest.Operator
	cfg       interop.Config
	cfgPath   string
	mu        sync.Mutex
	notes     []noted
	unmatched []*esimgw.Inbound
}

func newRig(t *testing.T, gwOpts ...gatewaytest.Option) *rig {
	t.Helper()
	r := &rig{}
	r.gw = gatewaytest.Start(t, gwOpts...)
	record := func(_ context.Context, n *esimgw.Notification) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.notes = append(r.notes, noted{n.Interface, n.Kind, n.Eid, n.Iccid, n.Header.MessageID, n.Header.Action})
		return nil
	}
	r.op = gatewaytest.NewOperator(t, r.gw,
		esimgw.WithNotificationHandler(esimgw.Notifications{ProfileEnabled: record, ProfileDisabled: record, ProfileDeleted: record, SMSRChange: record}),
		esimgw.WithUnmatchedHandler(func(_ context.Context, in *esimgw.Inbound) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.unmatched = append(r.unmatched, in)
			return nil
		}))
	dir := t.TempDir()
	files, err := r.gw.WriteFiles(dir)
	require.NoError(t, err)
	r.cfg = interop.Config{
		WSDLDir: filepath.Join(repoRoot(t), "wsdl"),
		CA:      files.CA, ClientCert: files.ClientCert, ClientKey: files.ClientKey,
		ServerCert: files.CallbackServerCert, ServerKey: files.CallbackServerKey,
		ES4URL: r.gw.ES4URL, ES2URL: r.gw.ES2URL, SMSRID: r.gw.SMSRID, SMDPID: r.gw.SMDPID, OperatorID: r.gw.OperatorID,
		CallbackURL: r.op.ReplyTo,
		EID:         gatewaytest.DefaultEID, EnabledICCID: gatewaytest.DefaultEnabledICCID, DisabledICCID: gatewaytest.DefaultDisabledICCID,
	}
	r.cfgPath = filepath.Join(dir, "peer.json")
	require.NoError(t, r.cfg.Write(r.cfgPath))
	return r
}

func (r *rig) notifications() []noted {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]noted(nil), r.notes...)
}

// peer is a running peer process whose stdout is read as events.
type peer struct {
	t      *testing.T
	cmd    *exec.Cmd
	stderr bytes.Buffer
	events chan interop.Event
	done   chan error
}

// startPeer starts argv (with env added) and reads its events; the process is killed at the end of the
// test if it is still running.
func startPeer(t *testing.T, env []string, argv ...string) *peer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), peerTimeout)
	t.Cleanup(cancel)
	p := &peer{t: t, events: make(chan interop.Event, 64), done: make(chan error, 1)}
	p.cmd = exec.CommandContext(ctx, argv[0], argv[1:]...)
	p.cmd.Dir = repoRoot(t)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stderr = &p.stderr
	out, err := p.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start(), "starting %v", argv)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := bytes.TrimSpace(sc.Bytes())
			if len(line) == 0 {
				continue
			}
			e, err := interop.ParseEvent(line)
			if err != nil {
				e = interop.Event{Event: "error", Error: err.Error()}
			}
			p.events <- e
		}
		close(p.events)
		p.done <- p.cmd.Wait()
	}()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("%s stderr:\n%s", argv[1], p.stderr.String())
		}
	})
	return p
}

// next returns the next event, failing the test on an "error" event or when the peer ends first.
func (p *peer) next() interop.Event {
	p.t.Helper()
	select {
	case e, ok := <-p.events:
		if !ok {
			err := <-p.done
			p.done <- err
			p.t.Fatalf("peer ended (%v) before its next event; stderr:\n%s", err, p.stderr.String())
		}
		if e.Event == "error" {
			p.t.Fatalf("peer %s failed: %s; stderr:\n%s", e.Peer, e.Error, p.stderr.String())
		}
		return e
	case <-time.After(peerTimeout):
		p.t.Fatalf("no event from the peer in %v; stderr:\n%s", peerTimeout, p.stderr.String())
	}
	return interop.Event{}
}

// results reads events until the peer exits and returns the results by check; the peer must exit 0.
func (p *peer) results() map[string]interop.Event {
	p.t.Helper()
	out := map[string]interop.Event{}
	for e := range p.events {
		if e.Event == "error" {
			p.t.Fatalf("peer %s failed: %s; stderr:\n%s", e.Peer, e.Error, p.stderr.String())
		}
		if e.Event == "result" {
			out[e.Check] = e
		}
	}
	err := <-p.done
	require.NoError(p.t, err, "peer exit; stderr:\n%s", p.stderr.String())
	return out
}

// stop ends a server peer (SIGKILL is fine: it holds no state worth a clean exit) and returns the
// results it printed.
func (p *peer) stop() map[string]interop.Event {
	p.t.Helper()
	_ = p.cmd.Process.Signal(os.Interrupt)
	out := map[string]interop.Event{}
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e, ok := <-p.events:
			if !ok {
				<-p.done
				return out
			}
			if e.Event == "result" {
				out[e.Check+" "+strings.Join(keysOf(e.Values), ",")] = e
				out[e.Check] = e
			}
		case <-timeout:
			_ = p.cmd.Process.Kill()
			timeout = time.After(10 * time.Second)
		}
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func keysOf(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// assertNotificationsOnce checks that the notifications the peer posted were handed over, each once, in
// order, and nothing went unmatched. Metro sends one-way messages without wsa:MessageID (WS-Addressing
// makes it optional when no reply is expected), so withMessageID says whether the peer writes one.
func (r *rig) assertNotificationsOnce(t *testing.T, want []noted, withMessageID bool) {
	t.Helper()
	got := r.notifications()
	ids := map[string]int{}
	for _, n := range got {
		if n.MessageID != "" {
			ids[n.MessageID]++
		}
	}
	for id, n := range ids {
		assert.Equal(t, 1, n, "notification %s handed over %d times", id, n)
	}
	require.Len(t, got, len(want), "%+v", got)
	for i, w := range want {
		assert.Equal(t, w.Interface, got[i].Interface, "notification %d", i)
		assert.Equal(t, w.Kind, got[i].Kind, "notification %d", i)
		assert.Equal(t, w.Eid, got[i].Eid, "notification %d", i)
		assert.Equal(t, w.Iccid, got[i].Iccid, "notification %d", i)
		if withMessageID {
			assert.NotEmpty(t, got[i].MessageID)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	assert.Empty(t, r.unmatched)
}

// standardNotifications is what every notifier posts: per interface, ES4 then ES2, the enabled profile
// disabled and the disabled one enabled.
func standardNotifications() []noted {
	var out []noted
	for _, iface := range []string{"ES4", "ES2"} {
		out = append(out,
			noted{Interface: iface, Kind: esimgw.ProfileDisabled, Eid: gatewaytest.DefaultEID, Iccid: gatewaytest.DefaultEnabledICCID},
			noted{Interface: iface, Kind: esimgw.ProfileEnabled, Eid: gatewaytest.DefaultEID, Iccid: gatewaytest.DefaultDisabledICCID})
	}
	return out
}

// assertClientRun checks what a peer client reported after calling the mock, and what the mock saw.
func (r *rig) assertClientRun(t *testing.T, res map[string]interop.Event, peerName string) {
	t.Helper()
	get := res["GetEIS"]
	require.NotNil(t, get.Values, "GetEIS result: %+v", res)
	assert.Equal(t, "EXECUTED_SUCCESS", get.Values["status"])
	assert.Equal(t, gatewaytest.DefaultEID, get.Values["eid"])
	assert.Equal(t, map[string]any{gatewaytest.DefaultEnabledICCID: "Enabled", gatewaytest.DefaultDisabledICCID: "Disabled",
		gatewaytest.FallbackICCID: "Disabled"}, get.Values["profiles"])

	for _, check := range []string{"AuditEIS", "EnableProfile"} {
		v := res[check].Values
		require.NotNil(t, v, "%s result: %+v", check, res)
		assert.Equal(t, true, v["accepted"], "%s: the async request was accepted with an empty answer", check)
		assert.Equal(t, "ES4-"+check+"Callback", v["operation"], "%s: parsed as the callback operation of ES4_Mno.wsdl", check)
		assert.Equal(t, "EXECUTED_SUCCESS", v["status"], check)
		assert.NotEmpty(t, v["relates_to"], check)
	}
	assert.Equal(t, map[string]any{gatewaytest.DefaultEnabledICCID: "Enabled", gatewaytest.DefaultDisabledICCID: "Disabled",
		gatewaytest.FallbackICCID: "Disabled"}, res["AuditEIS"].Values["profiles"])

	// The mock took every request as it came (no fault: headers, Action and body as a real gateway
	// wants them) and executed it once.
	reqs := r.gw.Requests()
	require.Len(t, reqs, 3)
	for _, q := range reqs {
		assert.Nil(t, q.Fault, "%s %s refused: %v", q.Interface, q.Function, q.Fault)
		assert.Equal(t, r.gw.OperatorID, q.From.EntityID)
		assert.False(t, q.Duplicate)
		assert.Contains(t, q.FunctionCallIdentifier, peerName)
	}
	e, ok := r.gw.EUICC(gatewaytest.DefaultEID)
	require.True(t, ok)
	en, ok := e.Enabled()
	require.True(t, ok)
	assert.Equal(t, gatewaytest.DefaultDisabledICCID, en.ICCID, "the peer's EnableProfile ran")
	for _, c := range r.gw.Callbacks() {
		assert.Equal(t, gatewaytest.OutcomeDelivered, c.Outcome, "%s callback", c.Function)
	}
}

func python(t *testing.T) string {
	t.Helper()
	// Debian's interpreter: python3-zeep is installed for it (a pyenv or venv python3 on PATH would not
	// see it).
	const py = "/usr/bin/python3"
	out, err := exec.Command(py, "-c", "import zeep; print(zeep.__version__)").CombinedOutput()
	require.NoError(t, err, "zeep is not installed for %s (run scripts/interop.sh): %s", py, out)
	t.Logf("zeep %s", bytes.TrimSpace(out))
	return py
}

func TestZeep(t *testing.T) {
	py := python(t)
	t.Run("client calls the mock", func(t *testing.T) {
		r := newRig(t)
		res := startPeer(t, nil, py, "interop/zeep/peer.py", r.cfgPath, "client").results()
		r.assertClientRun(t, res, "zeep")
		ct, _ := res["EnableProfile"].Values["content_type"].(string)
		assert.Contains(t, ct, "application/soap+xml")
	})
	t.Run("notifier posts to the callback server", func(t *testing.T) {
		r := newRig(t)
		res := startPeer(t, nil, py, "interop/zeep/peer.py", r.cfgPath, "notify").results()
		assert.Len(t, res, 4)
		r.assertNotificationsOnce(t, standardNotifications(), true)
	})
}

// es4Calls runs every ES4 function of the es4 client against the SM-SR at url and returns the
// FunctionCallIdentifier each call sent, by request operation name. Sync answers must decode; async
// requests must be accepted.
func (r *rig) es4Calls(t *testing.T, url string) map[string]string {
	t.Helper()
	c, err := es4.NewClient(url, r.op.Options...)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), time.Duration(envInt("PEER_CALL_TIMEOUT", 120))*time.Second)
	defer cancel()
	const eid, iccid = gatewaytest.DefaultEID, gatewaytest.DefaultEnabledICCID
	fci := func(name string) esimgw.CallOption { return esimgw.WithFunctionCallIdentifier("esimgw-" + name) }
	sent := map[string]string{}
	for _, name := range []string{"GetEIS", "UpdatePolicyRules", "UpdateSubscriptionAddress", "AuditEIS", "EnableProfile",
		"DisableProfile", "DeleteProfile", "PrepareSMSRChange", "SMSRChange", "SetFallBackAttribute"} {
		sent["ES4-"+name] = "esimgw-" + name
	}

	eis, err := c.GetEIS(ctx, eid, fci("GetEIS"))
	require.NoError(t, err, "GetEIS")
	require.NotNil(t, eis.EIS, "GetEIS decoded an EIS")
	assert.Equal(t, eid, eis.EIS.EumSignedInfo.Eid.String())
	require.Len(t, eis.EIS.ProfileInfo, 1)
	assert.Equal(t, rps.ProfileStateTypeEnabled, eis.EIS.ProfileInfo[0].State)
	assert.True(t, eis.EIS.ProfileInfo[0].FallbackAttribute)

	pol2 := rps.POL2Type{Rule: []rps.POL2RuleType{{Subject: rps.POL2SubjectTypePROFILE, Action: rps.POL2ActionTypeDISABLE,
		Qualification: rps.POL2QualificationTypeNotAllowed}}}
	_, err = c.UpdatePolicyRules(ctx, eid, iccid, pol2, fci("UpdatePolicyRules"))
	require.NoError(t, err, "UpdatePolicyRules")
	_, err = c.UpdateSubscriptionAddress(ctx, eid, iccid, rps.SubscriptionAddressType{Msisdn: "31612345678"}, fci("UpdateSubscriptionAddress"))
	require.NoError(t, err, "UpdateSubscriptionAddress")

	pending := func(name string, op interface{ FunctionCallIdentifier() string }, err error) {
		t.Helper()
		require.NoError(t, err, name)
		assert.Equal(t, "esimgw-"+name, op.FunctionCallIdentifier())
	}
	a, err := c.AuditEIS(ctx, eid, nil, fci("AuditEIS"))
	pending("AuditEIS", a, err)
	e, err := c.EnableProfile(ctx, eid, gatewaytest.DefaultDisabledICCID, fci("EnableProfile"))
	pending("EnableProfile", e, err)
	d, err := c.DisableProfile(ctx, eid, iccid, fci("DisableProfile"))
	pending("DisableProfile", d, err)
	x, err := c.DeleteProfile(ctx, eid, gatewaytest.DefaultDisabledICCID, fci("DeleteProfile"))
	pending("DeleteProfile", x, err)
	p, err := c.PrepareSMSRChange(ctx, eid, r.gw.SMSRID, fci("PrepareSMSRChange"))
	pending("PrepareSMSRChange", p, err)
	s, err := c.SMSRChange(ctx, eid, "1.3.6.1.4.1.99999.21", fci("SMSRChange"))
	pending("SMSRChange", s, err)
	f, err := c.SetFallBackAttribute(ctx, eid, gatewaytest.DefaultDisabledICCID, fci("SetFallBackAttribute"))
	pending("SetFallBackAttribute", f, err)
	return sent
}

// assertServed checks that the peer SM-SR printed one request for each call, with its
// FunctionCallIdentifier and a WS-Addressing MessageID and Action.
func assertServed(t *testing.T, got map[string]interop.Event, sent map[string]string) {
	t.Helper()
	for op, fci := range sent {
		e, ok := got[op]
		if !assert.True(t, ok, "the SM-SR got no %s", op) {
			continue
		}
		assert.Equal(t, fci, e.Values["function_call_identifier"], op)
		assert.Equal(t, gatewaytest.DefaultEID, e.Values["eid"], op)
		assert.NotEmpty(t, e.Values["message_id"], op)
		assert.NotEmpty(t, e.Values["action"], op)
	}
}

func node(t *testing.T) (string, []string) {
	t.Helper()
	bin, err := exec.LookPath("node")
	require.NoError(t, err, "node is not installed (run scripts/interop.sh)")
	mods := filepath.Join(repoRoot(t), "interop", "node", "node_modules")
	_, err = os.Stat(filepath.Join(mods, "soap", "package.json"))
	require.NoError(t, err, "npm soap is not installed in %s (run scripts/interop.sh)", mods)
	return bin, []string{"NODE_PATH=" + mods}
}

func TestNodeSOAP(t *testing.T) {
	bin, env := node(t)
	t.Run("client calls the mock", func(t *testing.T) {
		r := newRig(t)
		res := startPeer(t, env, bin, "interop/node/peer.js", r.cfgPath, "client").results()
		r.assertClientRun(t, res, "node-soap")
	})
	t.Run("notifier posts to the callback server", func(t *testing.T) {
		r := newRig(t)
		res := startPeer(t, env, bin, "interop/node/peer.js", r.cfgPath, "notify").results()
		assert.Len(t, res, 4)
		r.assertNotificationsOnce(t, standardNotifications(), true)
	})
	t.Run("SM-SR the es4 client calls", func(t *testing.T) {
		r := newRig(t)
		p := startPeer(t, env, bin, "interop/node/peer.js", r.cfgPath, "server")
		l := p.next()
		require.Equal(t, "listening", l.Event)
		sent := r.es4Calls(t, l.URL)
		assertServed(t, p.stop(), sent)
	})
}

// jaxws builds the JAX-WS peer (wsimport from the WSDLs, javac) and returns the java command to run it.
func jaxws(t *testing.T) []string {
	t.Helper()
	for _, tool := range []string{"java", "javac", "wsimport"} {
		_, err := exec.LookPath(tool)
		require.NoError(t, err, "%s is not installed (run scripts/interop.sh)", tool)
	}
	var stderr bytes.Buffer
	cmd := exec.Command("bash", "interop/jaxws/build.sh", filepath.Join(t.TempDir(), "jaxws"))
	cmd.Dir = repoRoot(t)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "building the JAX-WS peer: %s", stderr.String())
	cp := strings.TrimSpace(string(out))
	// Metro's optional JMX monitoring needs jars Debian does not ship; it only warns, so it is switched off.
	return []string{"java", "-Dcom.sun.xml.ws.monitoring.endpoint=false", "-Dcom.sun.xml.ws.monitoring.client=false",
		"-cp", cp, "esimgwinterop.Peer"}
}

func TestJAXWS(t *testing.T) {
	java := jaxws(t)
	t.Run("SM-SR the es4 client calls", func(t *testing.T) {
		r := newRig(t)
		p := startPeer(t, nil, append(java, r.cfgPath, "server")...)
		l := p.next()
		require.Equal(t, "listening", l.Event)
		sent := r.es4Calls(t, l.URL)
		assertServed(t, p.stop(), sent)
	})
	t.Run("the mock refuses what Metro refuses, with the same fault", func(t *testing.T) {
		r := newRig(t)
		p := startPeer(t, nil, append(java, r.cfgPath, "server")...)
		l := p.next()
		require.Equal(t, "listening", l.Event)
		compareRefusals(t, r, l.URL)
	})
	t.Run("notifier posts to the callback server", func(t *testing.T) {
		r := newRig(t)
		res := startPeer(t, nil, append(java, r.cfgPath, "notify")...).results()
		assert.Len(t, res, 4)
		r.assertNotificationsOnce(t, standardNotifications(), false)
	})
}

// compareRefusals posts the same sloppy GetEIS requests (a header twice, an HTTP action that contradicts
// wsa:Action) to Metro and to the mock (issue 17, defect 6) and requires the same fault from both: code,
// subcodes, HTTP status and the header named in wsa:ProblemHeaderQName. A well-formed one must pass both.
func compareRefusals(t *testing.T, r *rig, metroURL string) {
	t.Helper()
	client := soap.NewClient(soap.WithTLSConfig(r.gw.ClientTLSConfig()), soap.WithRetryPolicy(soap.RetryPolicy{MaxAttempts: 1}))
	const action = "http://gsma.com/ES4/ProfileManagement/ES4-GetEISRequest"
	envelope := func(url, extra string) []byte {
		from := soap.EntityAddress{Base: "https://operator.example/rsp", EntityID: r.gw.OperatorID, Separator: soap.SeparatorAmpersand}
		h := &soap.Header{From: from.String(), To: url, MessageID: soap.NewMessageID(r.gw.OperatorID, time.Now()).String(), Action: action}
		b := soap.AppendEnvelope(nil, h, &rps.ES4GetEISRequest{BaseRequestType: rps.BaseRequestType{FunctionCallIdentifier: "esimgw-refusal"},
			Eid: mustHex(t, gatewaytest.DefaultEID)})
		return bytes.Replace(b, []byte("</env:Header>"), []byte(extra+"</env:Header>"), 1)
	}
	wsa := `xmlns:w="http://www.w3.org/2005/08/addressing"`
	for _, tc := range []struct {
		name, extra, httpAction string
		refused                 bool
	}{
		{name: "well formed", httpAction: action},
		{name: "MessageID twice", extra: `<w:MessageID ` + wsa + `>urn:uuid:` + "0d1c0f8e-2f7a-4e55-9a4a-3a8c2a000002" + `</w:MessageID>`, httpAction: action, refused: true},
		{name: "To twice", extra: `<w:To ` + wsa + `>https://elsewhere.example</w:To>`, httpAction: action, refused: true},
		{name: "From twice", extra: `<w:From ` + wsa + `><w:Address>https://other.example</w:Address></w:From>`, httpAction: action, refused: true},
		{name: "HTTP action contradicts wsa:Action", httpAction: "http://gsma.com/ES4/ProfileManagement/ES4-AuditEIS", refused: true},
		{name: "no HTTP action", httpAction: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var faults [2]*soap.Fault
			for i, url := range []string{metroURL, r.gw.ES4URL} {
				_, err := client.Post(t.Context(), url, tc.httpAction, envelope(url, tc.extra))
				if !tc.refused {
					require.NoError(t, err, "%s", url)
					continue
				}
				require.ErrorAs(t, err, &faults[i], "%s", url)
			}
			if !tc.refused {
				return
			}
			metro, mock := faults[0], faults[1]
			assert.Equal(t, metro.Code, mock.Code)
			assert.Equal(t, metro.Subcodes, mock.Subcodes)
			assert.Equal(t, metro.HTTPStatus, mock.HTTPStatus)
			assert.Equal(t, problemHeader(metro.Detail), problemHeader(mock.Detail))
			assert.NotEmpty(t, problemHeader(mock.Detail))
		})
	}
}

// problemHeader is the local name in a wsa:ProblemHeaderQName detail (prefixes differ).
func problemHeader(detail []byte) string {
	s := string(detail)
	i := strings.Index(s, "ProblemHeaderQName")
	if i < 0 {
		return ""
	}
	s = s[i:]
	start, end := strings.Index(s, ">"), strings.Index(s, "</")
	if start < 0 || end < start {
		return ""
	}
	q := s[start+1 : end]
	if j := strings.LastIndex(q, ":"); j >= 0 {
		q = q[j+1:]
	}
	return q
}

func mustHex(t *testing.T, s string) rps.HexBinary {
	t.Helper()
	b, err := rps.ParseHexBinary(s)
	require.NoError(t, err)
	return b
}

package es2_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/es2"
	"github.com/esimgw/esimgw/progress"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// script says how the fake SM-DP answers a DownloadProfile: the callback (nil: none, ever) and the
// notifications it posts after it.
type script struct {
	callback rps.Response
	notify   []rps.Element
}

// fakeSMDP is an SM-DP over httptest: it accepts DownloadProfile with 202 and then posts the scripted
// callback and notifications to the request's replyTo with a soap.Client.
type fakeSMDP struct {
	t      *testing.T
	srv    *httptest.Server
	poster *soap.Client
	script func(*rps.ES2DownloadProfileRequest) script
	wg     sync.WaitGroup
	seen   atomic.Int32
}

func (g *fakeSMDP) ServeSOAP(_ context.Context, m *soap.Message) (*soap.Reply, error) {
	var req rps.ES2DownloadProfileRequest
	if err := m.DecodeBody(&req); err != nil {
		return nil, soap.SenderFault(err.Error())
	}
	g.seen.Add(1)
	s := g.script(&req)
	h := m.Header
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		from := soap.EntityAddress{Base: g.srv.URL, EntityID: testSMDP}.String()
		if s.callback != nil {
			mid := soap.NewMessageIDInTransaction(testSMDP, correlate.TransactionIDFromMessageID(h.MessageID), time.Now())
			cb := &soap.Header{From: from, To: h.ReplyTo, MessageID: mid.String(), Action: actionOf(s.callback), RelatesTo: h.MessageID}
			if _, err := g.poster.Call(context.Background(), h.ReplyTo, cb, s.callback); err != nil {
				g.t.Errorf("posting the callback: %v", err)
			}
		}
		for _, n := range s.notify {
			nh := &soap.Header{From: from, To: h.ReplyTo, MessageID: soap.NewMessageID(testSMDP, time.Now()).String(),
				Action: "http://gsma.com/ES2/PlatformManagement/" + n.ElementName()}
			if _, err := g.poster.Call(context.Background(), h.ReplyTo, nh, n); err != nil {
				g.t.Errorf("posting a notification: %v", err)
			}
		}
	}()
	return nil, nil
}

// rig is an es2.Client, its Dispatcher (with a Watcher) behind a callback server, and a fake SM-DP.
type rig struct {
	c       *es2.Client
	watcher *es2.Watcher
	smdp    *fakeSMDP
	board   *progress.Board
	steps   []es2.Step
	mu      sync.Mutex
}

func newRig(t *testing.T, sc func(*rps.ES2DownloadProfileRequest) script) *rig {
	t.Helper()
	r := &rig{watcher: es2.NewWatcher(nil), board: progress.NewBoard(progress.WithLogger(quiet()))}
	d := esimgw.NewDispatcher(esimgw.WithNotificationHandler(r.watcher), esimgw.WithDispatcherLogger(quiet()))
	cbs := httptest.NewServer(soap.NewHandler(d, soap.WithHandlerLogger(quiet())))
	r.smdp = &fakeSMDP{t: t, script: sc, poster: soap.NewClient(soap.WithLogger(quiet()), soap.WithHTTPClient(cbs.Client()))}
	r.smdp.srv = httptest.NewServer(soap.NewHandler(r.smdp, soap.WithHandlerLogger(quiet())))
	t.Cleanup(func() {
		r.smdp.wg.Wait()
		r.smdp.srv.Close()
		cbs.Close()
	})
	c, err := es2.NewClient(r.smdp.srv.URL, testSMSR, esimgw.WithPlainHTTPEndpoint(), esimgw.WithEntity(testMNO, ""),
		esimgw.WithReplyTo(cbs.URL), esimgw.WithDispatcher(d), esimgw.WithLogger(quiet()))
	require.NoError(t, err)
	r.c = c
	return r
}

func (r *rig) activate(ctx context.Context, req es2.ActivateRequest, opts ...es2.ActivateOption) (*es2.Activation, error) {
	opts = append([]es2.ActivateOption{es2.WithProgressBoard(r.board), es2.WithStepReporter(func(s es2.Step) {
		r.mu.Lock()
		r.steps = append(r.steps, s)
		r.mu.Unlock()
	})}, opts...)
	return r.c.Activate(ctx, req, opts...)
}

func (r *rig) stepNames() []es2.StepName {
	r.mu.Lock()
	defer r.mu.Unlock()
	var names []es2.StepName
	for _, s := range r.steps {
		names = append(names, s.Name)
	}
	return names
}

func downloadCallback(st rps.BaseResponseType, iccid string) rps.Response {
	return &rps.ES2DownloadProfileResponse{BaseResponseType: st, Iccid: iccid}
}

func enabledNotification(iccid string) rps.Element {
	eid, _ := rps.ParseHexBinary(testEID)
	return &rps.ES2HandleProfileEnabledNotification{Eid: eid, Iccid: iccid, CompletionTimestamp: rps.NewDateTime(testTime)}
}

// fakeAuditor stands for an *es4.Client: its AuditEIS resolves at once with eis or err, or never.
type fakeAuditor struct {
	eis   *rps.EISType
	err   error
	never bool
	calls atomic.Int32
}

func (a *fakeAuditor) AuditEIS(_ context.Context, eid string, iccids []string, _ ...esimgw.CallOption) (*esimgw.Operation[*esimgw.EISResult], error) {
	a.calls.Add(1)
	tr := correlate.NewTracker()
	p, err := tr.Register(correlate.OperationKey{MessageID: "audit-" + eid + "-" + strings.Join(iccids, ","), Interface: "ES4", Function: "AuditEIS"})
	if err != nil {
		return nil, err
	}
	op := esimgw.NewOperation[*esimgw.EISResult](tr, p, nil)
	if !a.never {
		tr.Resolve(p, &esimgw.EISResult{EIS: a.eis}, a.err)
	}
	return op, nil
}

func eisWith(iccid string, state rps.ProfileStateType) *rps.EISType {
	return &rps.EISType{SmsrID: testSMSR, ProfileInfo: []rps.ProfileInfoType{
		{Iccid: "89310410000000000019", State: rps.ProfileStateTypeDisabled}, {Iccid: iccid, State: state}}}
}

var (
	ok          = status(esimgw.StatusExecutedSuccess)
	stepsOK     = []es2.StepName{es2.StepStarting, es2.StepDownload, es2.StepDownloadVerify, es2.StepEnable, es2.StepEnableVerify, es2.StepSuccessful}
	byICCID     = es2.ActivateRequest{Eid: testEID, Iccid: testICCID}
	shortVerify = es2.WithVerifyTimeout(50 * time.Millisecond)
)

func TestActivateSuccessByNotification(t *testing.T) {
	r := newRig(t, func(*rps.ES2DownloadProfileRequest) script {
		return script{callback: downloadCallback(ok, testICCID), notify: []rps.Element{enabledNotification(testICCID)}}
	})
	a, err := r.activate(context.Background(), byICCID, es2.WithNotificationVerifier(r.watcher))
	require.NoError(t, err)
	assert.True(t, a.Enabled)
	assert.Equal(t, es2.VerifiedByNotification, a.VerifiedBy)
	require.NotNil(t, a.Notification)
	assert.Equal(t, "ES2", a.Notification.Interface)
	assert.Equal(t, stepsOK, r.stepNames())
	assert.Len(t, a.Steps, len(stepsOK))
	assert.Equal(t, esimgw.Outcome{Status: esimgw.StatusExecutedSuccess}, a.Outcome())
	assert.Empty(t, a.FailedStep())
	assert.NotEmpty(t, a.FunctionCallIdentifier)
	assert.Zero(t, r.watcher.Watching(), "the watch must be stopped")

	e, found := r.board.Get(testICCID)
	require.True(t, found)
	assert.Equal(t, progress.StageEnabled, e.Stage)
	assert.Equal(t, progress.OutcomeSucceeded, e.Outcome)
	assert.Equal(t, "ES2", e.Source)
	assert.Equal(t, a.FunctionCallIdentifier, e.Ref)
	assert.Equal(t, testEID, e.EID)
	var stages []progress.Stage
	for _, ev := range e.History {
		stages = append(stages, ev.Stage)
	}
	assert.Equal(t, []progress.Stage{progress.StageRequested, progress.StageInstalled, progress.StageEnabled}, stages)
}

func TestActivateSuccessByAudit(t *testing.T) {
	r := newRig(t, func(*rps.ES2DownloadProfileRequest) script { return script{callback: downloadCallback(ok, "")} })
	aud := &fakeAuditor{eis: eisWith(testICCID+"F", rps.ProfileStateTypeEnabled)} // padding ignored
	a, err := r.activate(context.Background(), byICCID, es2.WithAuditVerifier(aud))
	require.NoError(t, err)
	assert.True(t, a.Enabled)
	assert.Equal(t, es2.VerifiedByAudit, a.VerifiedBy)
	assert.NotNil(t, a.EIS)
	assert.Equal(t, stepsOK, r.stepNames())
	assert.Equal(t, esimgw.StatusExecutedSuccess, a.Outcome().Status)
}

// TestActivateByProfileType: the ICCID comes with the callback; the watch on the whole eUICC ignores the
// notification about another profile.
func TestActivateByProfileType(t *testing.T) {
	r := newRig(t, func(req *rps.ES2DownloadProfileRequest) script {
		assert.True(t, req.EnableProfile)
		assert.Equal(t, "esimgw-test-iot", req.ProfileType)
		return script{callback: downloadCallback(ok, otherICCID),
			notify: []rps.Element{enabledNotification(testICCID), enabledNotification(otherICCID)}}
	})
	a, err := r.activate(context.Background(), es2.ActivateRequest{Eid: testEID, ProfileType: "esimgw-test-iot"},
		es2.WithNotificationVerifier(r.watcher))
	require.NoError(t, err)
	assert.Equal(t, otherICCID, a.Iccid)
	assert.Equal(t, otherICCID, a.Notification.Iccid)
	_, found := r.board.Get(otherICCID)
	assert.True(t, found)
}

func TestActivateWithoutVerifier(t *testing.T) {
	r := newRig(t, func(*rps.ES2DownloadProfileRequest) script { return script{callback: downloadCallback(ok, testICCID)} })
	a, err := r.activate(context.Background(), byICCID)
	require.NoError(t, err)
	assert.True(t, a.Enabled)
	assert.Equal(t, es2.NotVerified, a.VerifiedBy)
	assert.Equal(t, stepsOK, r.stepNames())
}

func TestActivateDownloadFailure(t *testing.T) {
	r := newRig(t, func(*rps.ES2DownloadProfileRequest) script {
		return script{callback: downloadCallback(status(esimgw.StatusFailed, "8.1", "4.8", "insufficient memory"), "")}
	})
	a, err := r.activate(context.Background(), byICCID, es2.WithNotificationVerifier(r.watcher))
	var se *es2.StepError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, es2.StepDownload, se.Step)
	assert.False(t, se.Timeout())
	var fe *esimgw.FunctionError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "DownloadProfile", fe.Function)
	require.NotNil(t, a)
	assert.Same(t, err, a.Err)
	assert.Equal(t, es2.StepDownload, a.FailedStep())
	assert.False(t, a.Enabled)
	o := a.Outcome()
	assert.Equal(t, esimgw.StatusFailed, o.Status)
	assert.Equal(t, "8.1,4.8", o.StatusCode)
	assert.Equal(t, []es2.StepName{es2.StepStarting, es2.StepDownload, es2.StepFailed}, r.stepNames())
	assert.Equal(t, se, a.Steps[len(a.Steps)-1].Err)

	e, _ := r.board.Get(testICCID)
	assert.Equal(t, progress.StageFailed, e.Stage)
	assert.Equal(t, progress.StageInstalled, e.Attempted)
	assert.Equal(t, progress.OutcomeFailed, e.Outcome)
}

// TestActivateEnableFailure: a FAILED callback naming the installed ICCID fails the enable step; an audit
// not listing the profile fails enable_verify.
func TestActivateEnableFailure(t *testing.T) {
	t.Run("callback", func(t *testing.T) {
		r := newRig(t, func(*rps.ES2DownloadProfileRequest) script {
			return script{callback: downloadCallback(status(esimgw.StatusFailed, "8.2.3", "3.8", "POL2 forbids"), testICCID)}
		})
		a, err := r.activate(context.Background(), byICCID, es2.WithNotificationVerifier(r.watcher))
		var se *es2.StepError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, es2.StepEnable, se.Step)
		assert.Equal(t, "8.2.3,3.8", a.Outcome().StatusCode)
		assert.Equal(t, []es2.StepName{es2.StepStarting, es2.StepDownload, es2.StepDownloadVerify, es2.StepFailed}, r.stepNames())
		e, _ := r.board.Get(testICCID)
		assert.Equal(t, progress.StageFailed, e.Stage)
		assert.Equal(t, progress.StageEnabled, e.Attempted)
	})
	t.Run("audit does not list the profile", func(t *testing.T) {
		r := newRig(t, func(*rps.ES2DownloadProfileRequest) script { return script{callback: downloadCallback(ok, testICCID)} })
		a, err := r.activate(context.Background(), byICCID, es2.WithAuditVerifier(&fakeAuditor{eis: eisWith(otherICCID, rps.ProfileStateTypeEnabled)}))
		require.ErrorIs(t, err, es2.ErrNotOnEUICC)
		assert.Equal(t, es2.StepEnableVerify, a.FailedStep())
		assert.Equal(t, esimgw.StatusError, a.Outcome().Status)
	})
	t.Run("audit fails", func(t *testing.T) {
		r := newRig(t, func(*rps.ES2DownloadProfileRequest) script { return script{callback: downloadCallback(ok, testICCID)} })
		auditErr := &esimgw.FunctionError{Interface: "ES4", Function: "AuditEIS", ExecutionStatus: esimgw.ExecutionStatus{Status: esimgw.StatusFailed, Subject: "8.1.1", Reason: "3.9"}}
		a, err := r.activate(context.Background(), byICCID, es2.WithAuditVerifier(&fakeAuditor{err: auditErr}))
		require.ErrorIs(t, err, esimgw.ErrFailed)
		assert.Equal(t, es2.StepEnableVerify, a.FailedStep())
	})
}

func TestActivateTimeout(t *testing.T) {
	t.Run("no callback", func(t *testing.T) {
		r := newRig(t, func(*rps.ES2DownloadProfileRequest) script { return script{} })
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		a, err := r.activate(ctx, byICCID, es2.WithNotificationVerifier(r.watcher))
		var se *es2.StepError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, es2.StepDownload, se.Step)
		assert.True(t, se.Timeout())
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.ErrorIs(t, err, esimgw.ErrAbandoned)
		assert.Contains(t, err.Error(), "download timed out")
		assert.Equal(t, esimgw.StatusNoResult, a.Outcome().Status)
		e, _ := r.board.Get(testICCID)
		assert.Equal(t, progress.StageExpired, e.Stage)
		assert.Zero(t, r.watcher.Watching())
	})
	t.Run("no notification after EXECUTED_SUCCESS", func(t *testing.T) {
		r := newRig(t, func(*rps.ES2DownloadProfileRequest) script { return script{callback: downloadCallback(ok, testICCID)} })
		a, err := r.activate(context.Background(), byICCID, es2.WithNotificationVerifier(r.watcher), shortVerify)
		var se *es2.StepError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, es2.StepEnableVerify, se.Step)
		assert.True(t, se.Timeout())
		assert.ErrorIs(t, err, es2.ErrVerifyTimeout)
		assert.Contains(t, err.Error(), "enable_verify timed out")
		assert.Equal(t, esimgw.StatusNoResult, a.Outcome().Status)
		assert.NotNil(t, a.Download, "the download's result is kept")
	})
	t.Run("audit never answers", func(t *testing.T) {
		r := newRig(t, func(*rps.ES2DownloadProfileRequest) script { return script{callback: downloadCallback(ok, testICCID)} })
		_, err := r.activate(context.Background(), byICCID, es2.WithAuditVerifier(&fakeAuditor{never: true}), shortVerify)
		require.ErrorIs(t, err, es2.ErrVerifyTimeout)
		var se *es2.StepError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, es2.StepEnableVerify, se.Step)
	})
}

// TestActivateWarning: downloaded but not enabled is a warning, not an error.
func TestActivateWarning(t *testing.T) {
	t.Run("WITHWARNING and no notification", func(t *testing.T) {
		r := newRig(t, func(*rps.ES2DownloadProfileRequest) script {
			return script{callback: downloadCallback(status(esimgw.StatusExecutedWithWarning, "8.2.1", "3.8", "enable refused"), testICCID)}
		})
		a, err := r.activate(context.Background(), byICCID, es2.WithNotificationVerifier(r.watcher), shortVerify)
		require.NoError(t, err)
		assert.False(t, a.Enabled)
		require.NotNil(t, a.Warning)
		o := a.Outcome()
		assert.Equal(t, esimgw.StatusExecutedWithWarning, o.Status)
		assert.Equal(t, "8.2.1,3.8", o.StatusCode)
		assert.Equal(t, stepsOK, r.stepNames())
		e, _ := r.board.Get(testICCID)
		assert.Equal(t, progress.StageInstalled, e.Stage)
		assert.Equal(t, progress.OutcomeSucceeded, e.Outcome)
		assert.Equal(t, string(esimgw.StatusExecutedWithWarning), e.Status)
	})
	t.Run("audit shows Disabled", func(t *testing.T) {
		r := newRig(t, func(*rps.ES2DownloadProfileRequest) script { return script{callback: downloadCallback(ok, testICCID)} })
		a, err := r.activate(context.Background(), byICCID, es2.WithAuditVerifier(&fakeAuditor{eis: eisWith(testICCID, rps.ProfileStateTypeDisabled)}))
		require.NoError(t, err)
		assert.False(t, a.Enabled)
		assert.Equal(t, es2.VerifiedByAudit, a.VerifiedBy)
		o := a.Outcome()
		assert.Equal(t, esimgw.StatusExecutedWithWarning, o.Status)
		assert.Empty(t, o.StatusCode)
		assert.Contains(t, o.Message, "downloaded but not enabled")
		last := a.Steps[len(a.Steps)-1]
		assert.Equal(t, es2.StepSuccessful, last.Name)
		assert.Contains(t, last.Detail, "not enabled")
	})
	t.Run("no notification, then the audit decides", func(t *testing.T) {
		r := newRig(t, func(*rps.ES2DownloadProfileRequest) script { return script{callback: downloadCallback(ok, testICCID)} })
		aud := &fakeAuditor{eis: eisWith(testICCID, rps.ProfileStateTypeEnabled)}
		a, err := r.activate(context.Background(), byICCID, es2.WithNotificationVerifier(r.watcher), es2.WithAuditVerifier(aud), shortVerify)
		require.NoError(t, err)
		assert.True(t, a.Enabled)
		assert.Equal(t, es2.VerifiedByAudit, a.VerifiedBy)
		assert.EqualValues(t, 1, aud.calls.Load())
	})
}

func TestActivateInvalid(t *testing.T) {
	r := newRig(t, func(*rps.ES2DownloadProfileRequest) script { return script{} })
	a, err := r.activate(context.Background(), es2.ActivateRequest{Eid: testEID, Iccid: testICCID, ProfileType: "iot"})
	var ve *esimgw.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, es2.StepStarting, a.FailedStep())
	assert.Equal(t, esimgw.StatusInvalidRequest, a.Outcome().Status)
	assert.Equal(t, []es2.StepName{es2.StepFailed}, r.stepNames())
	assert.Zero(t, r.smdp.seen.Load())
}

func TestActivateExpired(t *testing.T) {
	r := newRig(t, func(*rps.ES2DownloadProfileRequest) script {
		return script{callback: downloadCallback(status(esimgw.StatusExpired, "1.6", "5.3"), "")}
	})
	a, err := r.activate(context.Background(), byICCID)
	require.ErrorIs(t, err, esimgw.ErrExpired)
	assert.Equal(t, esimgw.StatusExpired, a.Outcome().Status)
	e, _ := r.board.Get(testICCID)
	assert.Equal(t, progress.StageExpired, e.Stage)
}

func TestStepError(t *testing.T) {
	se := &es2.StepError{Step: es2.StepDownload, Err: errors.New("boom")}
	assert.Equal(t, "es2: activate: download: boom", se.Error())
	assert.False(t, se.Timeout())
}

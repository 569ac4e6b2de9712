package thingspace_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/thingspace"
	"github.com/esimgw/esimgw/thingspace/thingspacetest"
)

// A device that times out: the warning callback is progress, and the operation resolves only with the
// final callback, which comes later.
func TestDeviceTimeoutResolvesOnlyAtTheFinalCallback(t *testing.T) {
	var mu sync.Mutex
	var progress []thingspace.Progress
	warned := make(chan struct{}, 1)
	e := setUp(t, nil, thingspace.WithProgressHandler(func(_ context.Context, p thingspace.Progress) error {
		mu.Lock()
		progress = append(progress, p)
		mu.Unlock()
		warned <- struct{}{}
		return nil
	}))
	const finalAfter = 300 * time.Millisecond
	e.ts.Inject(thingspacetest.DeviceTimeout{EID: thingspacetest.DefaultEID, FinalAfter: finalAfter})

	op, err := e.client.Enable(context.Background(), ref(thingspacetest.DisabledICCID))
	require.NoError(t, err)
	select {
	case <-warned:
	case <-time.After(10 * time.Second):
		t.Fatal("no warning callback")
	}
	select {
	case <-op.Done():
		t.Fatal("the warning resolved the operation")
	case <-time.After(finalAfter / 3):
	}
	assert.Equal(t, thingspacetest.StateDisabled, e.ts.EUICC(thingspacetest.DefaultEID)[thingspacetest.DisabledICCID], "not yet executed")

	r, err := op.Wait(waitCtx(t))
	require.NoError(t, err)
	assert.Equal(t, esimgw.StatusExecutedSuccess, r.Outcome().Status)
	assert.Nil(t, r.Warning, "the outcome is the final callback's")
	assert.Equal(t, thingspacetest.StateEnabled, e.ts.EUICC(thingspacetest.DefaultEID)[thingspacetest.DisabledICCID])

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, progress, 1)
	p := progress[0]
	assert.Equal(t, op.Key(), p.Key)
	assert.Equal(t, thingspacetest.AccountName, p.Account)
	require.NotNil(t, p.Warning)
	assert.Equal(t, esimgw.SubjectProfileICCID, p.Warning.Subject)
	assert.Equal(t, esimgw.ReasonUnknown, p.Warning.Reason)
}

// ThingSpace posts a callback again when it missed the acknowledgement: each is handed over once, the
// warning of a timed-out device as well as the final result.
func TestRetriedCallbackIsHandedOverOnce(t *testing.T) {
	var progress, duplicates, unmatched atomic.Int32
	e := setUp(t, nil,
		thingspace.WithProgressHandler(func(context.Context, thingspace.Progress) error { progress.Add(1); return nil }),
		thingspace.WithDuplicateHandler(func(context.Context, *thingspace.Callback) { duplicates.Add(1) }),
		thingspace.WithUnmatchedHandler(func(context.Context, *thingspace.Callback) error { unmatched.Add(1); return nil }))
	e.ts.Inject(thingspacetest.DeviceTimeout{FinalAfter: 50 * time.Millisecond}, thingspacetest.DuplicateCallbacks{Times: 2})

	op, err := e.client.Enable(context.Background(), ref(thingspacetest.DisabledICCID))
	require.NoError(t, err)
	_, err = op.Wait(waitCtx(t))
	require.NoError(t, err)
	require.NoError(t, e.ts.WaitIdle(waitCtx(t)))

	counts := map[int]int{}
	for _, d := range e.ts.Deliveries() {
		require.Equal(t, http.StatusOK, d.Status, "every copy is acknowledged")
		counts[d.Callback.CallbackCount]++
	}
	assert.Equal(t, map[int]int{1: 2, 2: 2}, counts, "warning and result, each posted twice")
	assert.Equal(t, int32(1), progress.Load(), "the warning handed over once")
	assert.Equal(t, int32(2), duplicates.Load(), "both copies reported as duplicates")
	assert.Equal(t, int32(0), unmatched.Load())
}

// A callback with the wrong credentials is refused 401 and resolves nothing; the genuine one that follows
// still resolves the operation.
func TestWrongCredentialsAreRefusedAndTheResultNotLost(t *testing.T) {
	var unmatched atomic.Int32
	e := setUp(t, nil, thingspace.WithUnmatchedHandler(func(context.Context, *thingspace.Callback) error { unmatched.Add(1); return nil }))
	e.ts.Inject(thingspacetest.WrongCredentials{})
	op, err := e.client.Enable(context.Background(), ref(thingspacetest.DisabledICCID))
	require.NoError(t, err)
	_, err = op.Wait(waitCtx(t))
	require.NoError(t, err)
	require.NoError(t, e.ts.WaitIdle(waitCtx(t)))
	d := e.ts.Deliveries()
	require.Len(t, d, 2)
	assert.Equal(t, http.StatusUnauthorized, d[0].Status)
	assert.Equal(t, http.StatusOK, d[1].Status)
	assert.Equal(t, 1, e.ts.Stats().Expected401)
	assert.Equal(t, int32(0), unmatched.Load())
}

// The credentials of another configured account do not resolve this account's operation, nor make the
// genuine callback a duplicate.
func TestOtherAccountsCredentialsAreRefused(t *testing.T) {
	e := setUp(t, []thingspacetest.Option{thingspacetest.WithCallbackDelay(time.Hour)}) // the mock stays silent
	defer e.ts.Close()                                                                  // and its callbacks are dropped
	op, err := e.client.Enable(context.Background(), esimgw.ProfileRef{EID: thingspacetest.DefaultEID,
		ICCID: thingspacetest.DisabledICCID, Account: thingspacetest.AccountName})
	require.NoError(t, err)

	forged := thingspace.Callback{Username: thingspacetest.OtherCallbackUsername, Password: thingspacetest.OtherCallbackPassword,
		RequestID: op.MessageID(), Status: "Failed", CallbackCount: 1, MaxCallbackThreshold: 4,
		DeviceResponse: &thingspace.DeviceResponse{DeviceProfileResponse: &thingspace.DeviceProfileResponse{EuiccStatus: "FAILED", EuiccStatusCode: "8.2.1,3.8"}}}
	assert.Equal(t, http.StatusUnauthorized, post(t, e.receiver.URL, forged))
	forged.Username, forged.Password = "", ""
	assert.Equal(t, http.StatusUnauthorized, post(t, e.receiver.URL, forged))
	select {
	case <-op.Done():
		t.Fatal("a refused callback resolved the operation")
	default:
	}

	genuine := forged
	genuine.Username, genuine.Password = thingspacetest.CallbackUsername, thingspacetest.CallbackPassword
	assert.Equal(t, http.StatusOK, post(t, e.receiver.URL, genuine))
	_, err = op.Wait(waitCtx(t))
	var fe *esimgw.FunctionError
	require.ErrorAs(t, err, &fe, "the genuine callback (a failure here) is the outcome")
	assert.Equal(t, "ThingSpace", fe.Interface)
	assert.Equal(t, "enable", fe.Function)
	assert.Equal(t, "8.2.1", fe.Subject)
	assert.Equal(t, "3.8", fe.Reason)
	assert.Equal(t, op.MessageID(), fe.FunctionCallIdentifier)
}

func post(t *testing.T, url string, cb thingspace.Callback) int {
	t.Helper()
	b, err := json.Marshal(cb)
	require.NoError(t, err)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	require.NoError(t, err)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// The bearer token and the session both expire in the middle of a run; every call still succeeds, each
// credential renewed after the 401 that revealed it.
func TestTokenAndSessionExpireMidRun(t *testing.T) {
	e := setUp(t, nil)
	ctx := waitCtx(t)
	run := func(iccid string) {
		t.Helper()
		op, err := e.client.Enable(ctx, ref(iccid))
		require.NoError(t, err)
		_, err = op.Wait(ctx)
		require.NoError(t, err)
	}
	run(thingspacetest.DisabledICCID)
	before := e.client.Stats()

	e.ts.Inject(thingspacetest.ExpireToken{})
	run(thingspacetest.EnabledICCID)
	e.ts.Inject(thingspacetest.ExpireSession{})
	run(thingspacetest.DisabledICCID)
	e.ts.Inject(thingspacetest.ExpireToken{}, thingspacetest.ExpireSession{})
	run(thingspacetest.EnabledICCID)

	after := e.client.Stats()
	assert.Equal(t, int64(3), after.Renewals-before.Renewals, "each expiry cost one 401 and one renewal")
	assert.Equal(t, before.TokenFetches+3, after.TokenFetches)
	assert.Equal(t, before.SessionLogins+3, after.SessionLogins)
	assert.Equal(t, 3, e.ts.Stats().Unauthorized)

	// Concurrent calls that meet the same stale credentials renew them once.
	e.ts.Inject(thingspacetest.ExpireToken{}, thingspacetest.ExpireSession{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := e.client.ListCallbacks(ctx, "")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, after.SessionLogins+1, e.client.Stats().SessionLogins, "one login for eight refused calls")
}

// The bearer token is replaced before its hour ends, with no 401 on the way.
func TestTokenRefreshedBeforeItsHourEnds(t *testing.T) {
	var offset atomic.Int64
	e := setUp(t, nil, thingspace.WithClock(func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }))
	ctx := waitCtx(t)
	_, err := e.client.ListCallbacks(ctx, "")
	require.NoError(t, err)
	fetches := e.client.Stats().TokenFetches
	offset.Store(int64(59*time.Minute + 30*time.Second)) // inside the last minute of the hour
	_, err = e.client.ListCallbacks(ctx, "")
	require.NoError(t, err)
	assert.Equal(t, fetches+1, e.client.Stats().TokenFetches)
	assert.Equal(t, 0, e.ts.Stats().Unauthorized)
	assert.Equal(t, 1, e.ts.Stats().TokensIssued, "within the hour ThingSpace returns the same token")
}

func TestCloseLogsOut(t *testing.T) {
	e := setUp(t, nil)
	require.NoError(t, e.client.Close(context.Background()))
	assert.Equal(t, 1, e.ts.Stats().Logouts)
	require.NoError(t, e.client.Close(context.Background()), "a second Close has nothing to end")
	assert.Equal(t, 1, e.ts.Stats().Logouts)
}

func TestCallbackRegistration(t *testing.T) {
	e := setUp(t, nil)
	ctx := waitCtx(t)
	regs, err := e.client.ListCallbacks(ctx, thingspacetest.AccountName)
	require.NoError(t, err)
	require.Len(t, regs, 1)
	assert.Equal(t, thingspace.ServiceDeviceProfile, regs[0].Name)
	assert.Equal(t, e.receiver.URL, regs[0].URL)
	require.NoError(t, e.client.DeregisterCallback(ctx, thingspacetest.AccountName, ""))
	regs, err = e.client.ListCallbacks(ctx, thingspacetest.AccountName)
	require.NoError(t, err)
	assert.Empty(t, regs)

	var ve *esimgw.ValidationError
	require.ErrorAs(t, e.client.RegisterCallback(ctx, "no-such-account", e.receiver.URL), &ve)
	assert.Equal(t, esimgw.FieldAccount, ve.Field)
	require.ErrorAs(t, e.client.RegisterCallback(ctx, "", "ftp://x"), &ve)
}

func TestCallbackPortCheck(t *testing.T) {
	ts := thingspacetest.Start(t)
	opts := ts.ClientOptions()
	c, err := thingspace.NewClient(opts[:len(opts)-1]...) // without WithoutCallbackPortCheck
	require.NoError(t, err)
	before := ts.Stats().Requests
	var ve *esimgw.ValidationError
	for _, u := range []string{"https://cb.example.com:8443/ts", "http://cb.example.com:9000/", "https://cb.example.com:28221/"} {
		require.ErrorAs(t, c.RegisterCallback(context.Background(), "", u), &ve, u)
	}
	assert.Equal(t, before, ts.Stats().Requests, "refused before sending")
	for _, p := range []int{80, 443, 9001, 9006, 28200, 28220, 50551, 50559} {
		assert.True(t, thingspace.CallbackPortAllowed(p), p)
	}
	for _, p := range []int{0, 8080, 9000, 9007, 28199, 28221, 50550, 50560} {
		assert.False(t, thingspace.CallbackPortAllowed(p), p)
	}
}

func TestDownloadRefusesWhatThingSpaceCannotDownloadBy(t *testing.T) {
	e := setUp(t, nil)
	before := e.ts.Stats().Requests
	var ve *esimgw.ValidationError
	for _, spec := range []esimgw.DownloadSpec{
		{EID: thingspacetest.DefaultEID, ActivationCode: "1$smdp.example.com$X"},
		{EID: thingspacetest.DefaultEID, ProfileType: "iot"},
		{EID: thingspacetest.DefaultEID},
		{EID: thingspacetest.DefaultEID, ICCID: thingspacetest.CatalogICCID, Account: "0000000000-00000"},
	} {
		_, err := e.client.Download(context.Background(), spec)
		require.ErrorAs(t, err, &ve, "%+v", spec)
	}
	assert.Equal(t, before, e.ts.Stats().Requests)

	op, err := e.client.Download(context.Background(), esimgw.DownloadSpec{EID: thingspacetest.DefaultEID, ICCID: thingspacetest.CatalogICCID})
	require.NoError(t, err)
	r, err := op.Wait(waitCtx(t))
	require.NoError(t, err)
	assert.Equal(t, thingspacetest.CatalogICCID, r.Iccid)
	assert.Equal(t, "download_disable", op.Function())
	assert.Equal(t, thingspacetest.StateDisabled, e.ts.EUICC(thingspacetest.DefaultEID)[thingspacetest.CatalogICCID])
}

func TestAPIErrorIsTyped(t *testing.T) {
	e := setUp(t, nil)
	e.ts.Inject(thingspacetest.ErrorAnswer{Status: http.StatusBadRequest, Code: "INVALID_PARAMETER"})
	_, err := e.client.Enable(context.Background(), ref(thingspacetest.DisabledICCID))
	var ae *thingspace.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusBadRequest, ae.StatusCode)
	assert.Equal(t, "INVALID_PARAMETER", ae.Code)
	assert.Equal(t, esimgw.StatusError, esimgw.OutcomeOf(nil, err).Status)
}

func TestReceiverRefusals(t *testing.T) {
	e := setUp(t, nil, thingspace.WithAllowedSources(netip.MustParsePrefix("127.0.0.0/8")))
	resp, err := http.Get(e.receiver.URL)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	for body, want := range map[string]int{
		`not json`:                                          http.StatusBadRequest,
		`{"username":"cb-user"}`:                            http.StatusBadRequest, // no requestId
		`{"requestId":"x"} {"requestId":"y"}`:               http.StatusBadRequest,
		`{"requestId":"` + strings.Repeat("x", 2000) + `"}`: http.StatusBadRequest,
		strings.Repeat(" ", thingspace.MaxCallbackBytes+1):  http.StatusRequestEntityTooLarge,
	} {
		resp, err := http.Post(e.receiver.URL, "application/json", strings.NewReader(body))
		require.NoError(t, err)
		_ = resp.Body.Close()
		assert.Equal(t, want, resp.StatusCode, "%.40s", body)
	}

	outside := setUp(t, nil, thingspace.WithAllowedSources(netip.MustParsePrefix("192.0.2.0/24")))
	assert.Equal(t, http.StatusForbidden, post(t, outside.receiver.URL, thingspace.Callback{RequestID: "x",
		Username: thingspacetest.CallbackUsername, Password: thingspacetest.CallbackPassword}))
}

// A callback nobody waits for goes to the unmatched handler; when that fails, the receiver answers 500 so
// that ThingSpace's retry brings it again, and the retry is handed over.
func TestUnmatchedCallbackIsHandedOverAfterAFailure(t *testing.T) {
	var calls atomic.Int32
	e := setUp(t, nil, thingspace.WithUnmatchedHandler(func(_ context.Context, cb *thingspace.Callback) error {
		if calls.Add(1) == 1 {
			return errors.New("store down")
		}
		assert.Equal(t, thingspacetest.OtherAccountName, cb.Account)
		return nil
	}))
	cb := thingspace.Callback{Username: thingspacetest.OtherCallbackUsername, Password: thingspacetest.OtherCallbackPassword,
		RequestID: "00000000-0000-4000-8000-000000000001", Status: "Success", CallbackCount: 1, MaxCallbackThreshold: 4,
		DeviceResponse: &thingspace.DeviceResponse{DeviceProfileResponse: &thingspace.DeviceProfileResponse{EuiccStatus: "EXECUTED_SUCCESS"}}}
	assert.Equal(t, http.StatusInternalServerError, post(t, e.receiver.URL, cb))
	cb.CallbackCount = 2
	assert.Equal(t, http.StatusOK, post(t, e.receiver.URL, cb))
	cb.CallbackCount = 3
	assert.Equal(t, http.StatusOK, post(t, e.receiver.URL, cb), "a copy after the hand-over")
	assert.Equal(t, int32(2), calls.Load())
}

// With a store given (WithStore: other replicas may send through it), a callback for no known operation
// is refused while ThingSpace will try again, in case its sender registers it meanwhile; the last attempt
// is handed over.
func TestUnmatchedCallbackWaitsForTheLastAttemptWithASharedStore(t *testing.T) {
	var calls atomic.Int32
	e := setUp(t, nil, thingspace.WithStore(correlate.NewTracker()), thingspace.WithUnmatchedHandler(func(context.Context, *thingspace.Callback) error {
		calls.Add(1)
		return nil
	}))
	cb := thingspace.Callback{Username: thingspacetest.CallbackUsername, Password: thingspacetest.CallbackPassword,
		RequestID: "00000000-0000-4000-8000-000000000002", Status: "Success", MaxCallbackThreshold: 4,
		DeviceResponse: &thingspace.DeviceResponse{DeviceProfileResponse: &thingspace.DeviceProfileResponse{EuiccStatus: "EXECUTED_SUCCESS"}}}
	for attempt := 1; attempt < 4; attempt++ {
		cb.CallbackCount = attempt
		assert.Equal(t, http.StatusServiceUnavailable, post(t, e.receiver.URL, cb), "attempt %d", attempt)
	}
	assert.Zero(t, calls.Load())
	cb.CallbackCount = 4
	assert.Equal(t, http.StatusOK, post(t, e.receiver.URL, cb), "the last attempt")
	assert.Equal(t, int32(1), calls.Load())
}

// A callback that arrives before the action's answer was read still finds its operation.
func TestCallbackRacingTheAnswerIsMatched(t *testing.T) {
	ts := thingspacetest.Start(t, thingspacetest.WithCallbackDelay(0))
	var unmatched atomic.Int32
	c, err := thingspace.NewClient(append(ts.ClientOptions(), thingspace.WithUnmatchedHandler(func(context.Context, *thingspace.Callback) error {
		unmatched.Add(1)
		return nil
	}))...)
	require.NoError(t, err)
	recv := httptest.NewServer(c.CallbackHandler())
	t.Cleanup(recv.Close)
	require.NoError(t, c.RegisterCallback(context.Background(), "", recv.URL))
	iccids := []string{thingspacetest.DisabledICCID, thingspacetest.EnabledICCID}
	for i := range 20 {
		op, err := c.Enable(context.Background(), ref(iccids[i%2]))
		require.NoError(t, err)
		_, err = op.Wait(waitCtx(t))
		require.NoError(t, err, "round %d", i)
	}
	assert.Equal(t, int32(0), unmatched.Load())
	require.NoError(t, ts.WaitIdle(waitCtx(t)))
}

func TestNewClientRequiresCredentials(t *testing.T) {
	acct := thingspace.WithAccount(thingspace.Account{Name: "1", CallbackUsername: "u", CallbackPassword: "p"})
	for name, opts := range map[string][]thingspace.Option{
		"no app":        {thingspace.WithSession("u", "p"), acct, thingspace.WithSMSROID("1.2")},
		"no session":    {thingspace.WithAppCredentials("k", "s"), acct, thingspace.WithSMSROID("1.2")},
		"no account":    {thingspace.WithAppCredentials("k", "s"), thingspace.WithSession("u", "p"), thingspace.WithSMSROID("1.2")},
		"no smsr":       {thingspace.WithAppCredentials("k", "s"), thingspace.WithSession("u", "p"), acct},
		"no cb secret":  {thingspace.WithAppCredentials("k", "s"), thingspace.WithSession("u", "p"), thingspace.WithSMSROID("1.2"), thingspace.WithAccount(thingspace.Account{Name: "1"})},
		"bad account":   {thingspace.WithAppCredentials("k", "s"), thingspace.WithSession("u", "p"), thingspace.WithSMSROID("1.2"), thingspace.WithAccount(thingspace.Account{Name: "a/b", CallbackUsername: "u", CallbackPassword: "p"})},
		"twice":         {thingspace.WithAppCredentials("k", "s"), thingspace.WithSession("u", "p"), thingspace.WithSMSROID("1.2"), acct, acct},
		"http base url": {thingspace.WithAppCredentials("k", "s"), thingspace.WithSession("u", "p"), thingspace.WithSMSROID("1.2"), acct, thingspace.WithBaseURL("relative")},
	} {
		_, err := thingspace.NewClient(opts...)
		assert.Error(t, err, name)
	}
}

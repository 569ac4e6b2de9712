package digirm_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/digirm"
	"github.com/esimgw/esimgw/digirm/digirmtest"
)

var quick = digirm.RetryPolicy{MaxAttempts: 3, MaxThrottled: 10, InitialInterval: 5 * time.Millisecond, MaxInterval: 20 * time.Millisecond}

func setUp(t *testing.T, mock []digirmtest.Option, opts ...digirm.Option) (*digirmtest.Server, *digirm.Client) {
	t.Helper()
	drm := digirmtest.Start(t, append([]digirmtest.Option{digirmtest.WithActionDuration(20 * time.Millisecond)}, mock...)...)
	c, err := digirm.NewClient(append(append(drm.ClientOptions(), digirm.WithRetryPolicy(quick)), opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return drm, c
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func ref(iccid string) esimgw.ProfileRef {
	return esimgw.ProfileRef{EID: digirmtest.DefaultEID, ICCID: iccid, DeviceID: digirmtest.DefaultDeviceID}
}

func TestAuthModes(t *testing.T) {
	drm := digirmtest.Start(t)
	base := []digirm.Option{digirm.WithBaseURL(drm.URL), digirm.WithHTTPClient(drm.Client()), digirm.WithRetryPolicy(quick)}
	ctx := waitCtx(t)

	key, err := digirm.NewClient(append(base, digirm.WithAPIKey(digirmtest.APIKeyID, digirmtest.APIKeySec))...)
	require.NoError(t, err)
	defer key.Close()
	_, err = key.Profile(ctx, digirmtest.EnabledICCID)
	require.NoError(t, err, "API keys work")

	wrong, err := digirm.NewClient(append(base, digirm.WithBasicAuth(digirmtest.User, "wrong"))...)
	require.NoError(t, err)
	defer wrong.Close()
	_, err = wrong.Profile(ctx, digirmtest.EnabledICCID)
	var ae *digirm.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusUnauthorized, ae.StatusCode)
	assert.Equal(t, int64(1), wrong.Stats().Requests, "a refused password is not tried again")

	for name, opts := range map[string][]digirm.Option{
		"none":         base,
		"both":         append(base, digirm.WithBasicAuth("u", "p"), digirm.WithAPIKey("i", "s")),
		"half basic":   append(base, digirm.WithBasicAuth("u", "")),
		"half key":     append(base, digirm.WithAPIKey("", "s")),
		"bad throttle": append(base, digirm.WithBasicAuth("u", "p"), digirm.WithThrottle(digirm.Throttle{})),
		"bad polls":    append(base, digirm.WithBasicAuth("u", "p"), digirm.WithPollInterval(time.Second, time.Millisecond)),
	} {
		_, err := digirm.NewClient(opts...)
		assert.Error(t, err, name)
	}
}

func TestFailedAndUnknownTransactions(t *testing.T) {
	drm, c := setUp(t, nil)
	ctx := waitCtx(t)
	drm.Inject(digirmtest.FailTransactions{MessageCode: "sim_error", Message: "the eSIM refused"})
	op, err := c.Enable(ctx, ref(digirmtest.DisabledICCID))
	require.NoError(t, err)
	_, err = op.Wait(ctx)
	var te *digirm.TransactionError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, digirm.StatusFailed, te.Transaction.Status)
	var fe *esimgw.FunctionError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "DigiRM", fe.Interface)
	assert.Equal(t, "enable", fe.Function)
	assert.Equal(t, "sim_error: the eSIM refused", fe.Message)
	assert.Equal(t, string(te.Transaction.Transaction), fe.FunctionCallIdentifier)
	assert.ErrorIs(t, err, esimgw.ErrFailed)

	drm.Inject(digirmtest.FailTransactions{Unknown: true})
	op, err = c.Enable(ctx, ref(digirmtest.DisabledICCID))
	require.NoError(t, err)
	_, err = op.Wait(ctx)
	assert.ErrorIs(t, err, esimgw.ErrUnknownStatus, "unknown is no verdict: not FAILED")
	assert.False(t, errors.Is(err, esimgw.ErrFailed))
	assert.Equal(t, int64(2), c.Stats().Failed)
}

func TestDownloadByActivationCodeThenEnable(t *testing.T) {
	drm, c := setUp(t, nil)
	ctx := waitCtx(t)
	op, err := c.Download(ctx, esimgw.DownloadSpec{EID: digirmtest.DefaultEID, ActivationCode: digirmtest.ActivationCode, Enable: true})
	require.NoError(t, err)
	r, err := op.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, digirmtest.CatalogICCID2, r.Iccid, "the ICCID the device reported")
	assert.Equal(t, digirmtest.StatusActive, drm.Profiles(digirmtest.DefaultEID)[digirmtest.CatalogICCID2])
	assert.Equal(t, digirmtest.StatusInactive, drm.Profiles(digirmtest.DefaultEID)[digirmtest.EnabledICCID])
	assert.Equal(t, int64(2), c.Stats().Actions, "a download and an enable")

	op, err = c.Download(ctx, esimgw.DownloadSpec{EID: digirmtest.DefaultEID, ActivationCode: "1$smdp.example.com$NOT-KNOWN"})
	require.NoError(t, err)
	_, err = op.Wait(ctx)
	var te *digirm.TransactionError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "invalid_activation_code", te.Transaction.MessageCode)
}

func TestBadInputIsRefusedBeforeSending(t *testing.T) {
	drm, c := setUp(t, nil)
	ctx := waitCtx(t)
	before := drm.Stats().Requests
	for name, spec := range map[string]esimgw.DownloadSpec{
		"empty activation code": {EID: digirmtest.DefaultEID},
		"blank activation code": {EID: digirmtest.DefaultEID, ActivationCode: " "},
		"malformed SGP.22 code": {EID: digirmtest.DefaultEID, ActivationCode: "2$smdp.example.com$X"},
		"both ICCID and code":   {EID: digirmtest.DefaultEID, ICCID: digirmtest.CatalogICCID, ActivationCode: digirmtest.ActivationCode},
		"profile type":          {EID: digirmtest.DefaultEID, ProfileType: "iot"},
		"bad EID":               {EID: "8904", ActivationCode: digirmtest.ActivationCode},
		"bad ICCID":             {EID: digirmtest.DefaultEID, ICCID: "89310410000000001008"},
		"unknown account":       {EID: digirmtest.DefaultEID, ICCID: digirmtest.CatalogICCID, Account: "acme"},
		"bad device ID":         {EID: digirmtest.DefaultEID, ICCID: digirmtest.CatalogICCID, DeviceID: "not a device"},
	} {
		_, err := c.Download(ctx, spec)
		var ve *esimgw.ValidationError
		require.ErrorAs(t, err, &ve, name)
		if name == "empty activation code" {
			assert.Equal(t, esimgw.FieldActivationCode, ve.Field)
		}
	}
	_, err := c.Enable(ctx, esimgw.ProfileRef{EID: digirmtest.DefaultEID, ICCID: digirmtest.EnabledICCID, DeviceID: "-x-"})
	var ve *esimgw.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, esimgw.FieldDeviceID, ve.Field)
	for _, err := range c.Profiles(ctx, digirm.Query{Size: 5000}) {
		require.ErrorAs(t, err, &ve, "a page larger than Digi serves")
	}
	assert.Equal(t, before, drm.Stats().Requests, "nothing was sent")
}

func TestInventoryPagesWithTheCursor(t *testing.T) {
	drm, c := setUp(t, []digirmtest.Option{digirmtest.WithFleet(1200)})
	ctx := waitCtx(t)
	before := drm.Stats().Requests
	n := 0
	for p, err := range c.Profiles(ctx, digirm.Query{Size: 500}) {
		require.NoError(t, err)
		require.NotEmpty(t, p.ICCID)
		n++
	}
	assert.Equal(t, 2*1200+2, n, "every profile once")
	assert.Equal(t, 5, drm.Stats().Requests-before, "2402 profiles in pages of 500")

	n = 0
	for range c.Profiles(ctx, digirm.Query{}) {
		n++
		if n == 3 {
			break // stopping early is fine
		}
	}
	assert.Equal(t, 3, n)

	var got []digirm.Profile
	for p, err := range c.Profiles(ctx, digirm.Query{Query: `eid="` + digirmtest.FleetEID(7) + `"`}) {
		require.NoError(t, err)
		got = append(got, p)
	}
	require.Len(t, got, 2)
	assert.Equal(t, digirmtest.FleetDeviceID(7), got[0].DeviceID)

	for _, err := range c.Profiles(ctx, digirm.Query{Query: "nonsense"}) {
		var ae *digirm.APIError
		require.ErrorAs(t, err, &ae, "the mock refuses queries it does not know")
		assert.Equal(t, http.StatusBadRequest, ae.StatusCode)
	}
}

func TestTransactionsListTheActions(t *testing.T) {
	drm, c := setUp(t, nil)
	ctx := waitCtx(t)
	op, err := c.Enable(ctx, ref(digirmtest.DisabledICCID))
	require.NoError(t, err)
	_, err = op.Wait(ctx)
	require.NoError(t, err)
	drm.Inject(digirmtest.FailTransactions{MessageCode: "sim_error", Message: "the eSIM refused"})
	op, err = c.Delete(ctx, ref(digirmtest.EnabledICCID))
	require.NoError(t, err)
	_, err = op.Wait(ctx)
	require.Error(t, err)

	list := func(q digirm.Query) (got []digirm.Transaction) {
		t.Helper()
		for tx, err := range c.Transactions(ctx, q) {
			require.NoError(t, err)
			got = append(got, tx)
		}
		return got
	}
	all := list(digirm.Query{Query: `eid="` + digirmtest.DefaultEID + `"`})
	require.Len(t, all, 2)
	assert.Equal(t, []string{"enable", "delete"}, []string{all[0].Action, all[1].Action}, "creation order")
	assert.Equal(t, []string{digirm.StatusComplete, digirm.StatusFailed}, []string{all[0].Status, all[1].Status})
	assert.Equal(t, "sim_error", all[1].MessageCode)
	assert.Equal(t, digirmtest.DefaultDeviceID, all[0].DeviceID)

	desc := list(digirm.Query{OrderBy: "desc transaction"})
	require.Len(t, desc, 2)
	assert.Equal(t, all[1].Transaction, desc[0].Transaction, "newest first")
	failed := list(digirm.Query{Query: `status="failed"`})
	require.Len(t, failed, 1)
	assert.Equal(t, "delete", failed[0].Action)
	assert.Empty(t, list(digirm.Query{Query: `eid="` + digirmtest.FleetEID(1) + `"`}))

	before := drm.Stats().Requests
	assert.Len(t, list(digirm.Query{Size: 1}), 2)
	assert.Equal(t, 2, drm.Stats().Requests-before, "one page each, the second without a cursor")

	for _, err := range c.Transactions(ctx, digirm.Query{Query: "nonsense"}) {
		var ae *digirm.APIError
		require.ErrorAs(t, err, &ae, "the mock refuses queries it does not know")
		assert.Equal(t, http.StatusBadRequest, ae.StatusCode)
	}
	before = drm.Stats().Requests
	for _, err := range c.Transactions(ctx, digirm.Query{Size: 1001}) {
		var ve *esimgw.ValidationError
		require.ErrorAs(t, err, &ve)
	}
	assert.Equal(t, before, drm.Stats().Requests, "a bad size is refused before sending")
}

func TestExportCSVReportsTruncation(t *testing.T) {
	_, c := setUp(t, []digirmtest.Option{digirmtest.WithFleet(10), digirmtest.WithBulkLimit(15)})
	ctx := waitCtx(t)
	var buf bytes.Buffer
	exp, err := c.ExportCSV(ctx, &buf, digirm.Query{})
	require.NoError(t, err)
	assert.True(t, exp.Truncated, "22 profiles, 15 returned")
	rows, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	assert.Len(t, rows, 16)
	assert.Positive(t, exp.Bytes)

	buf.Reset()
	exp, err = c.ExportCSV(ctx, &buf, digirm.Query{Query: `eid="` + digirmtest.DefaultEID + `"`}, "iccid", "status")
	require.NoError(t, err)
	assert.False(t, exp.Truncated)
	rows, err = csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"iccid", "status"}, {digirmtest.EnabledICCID, "active"}, {digirmtest.DisabledICCID, "inactive"}}, rows)
}

func TestMultistepActivate(t *testing.T) {
	drm, c := setUp(t, nil)
	ctx := waitCtx(t)
	op, err := c.StartMultistep(ctx, digirm.ActivateRequest{Operation: "activate", EID: digirmtest.DefaultEID, Carrier: digirmtest.Carrier})
	require.NoError(t, err)
	r, err := op.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, "successful", r.Status)
	assert.NotEmpty(t, r.DownloadTx)
	assert.NotEmpty(t, r.EnableTx)
	assert.Equal(t, digirmtest.StatusActive, drm.Profiles(digirmtest.DefaultEID)[r.ICCID])

	op, err = c.StartMultistep(ctx, digirm.ActivateRequest{Operation: "activate", EID: digirmtest.DefaultEID, Carrier: "Fred's Fast Wireless Service"})
	require.NoError(t, err)
	_, err = op.Wait(ctx)
	var fe *esimgw.FunctionError
	require.ErrorAs(t, err, &fe, "no activation code for that SPN")
	assert.Contains(t, fe.Message, "no_activation_code")

	for _, bad := range []digirm.ActivateRequest{
		{Operation: "explode", EID: digirmtest.DefaultEID, Carrier: "x"},
		{Operation: "activate", Carrier: "x"},
		{Operation: "activate", EID: digirmtest.DefaultEID},
	} {
		_, err := c.StartMultistep(ctx, bad)
		var ve *esimgw.ValidationError
		require.ErrorAs(t, err, &ve, "%+v", bad)
	}
}

// A waiter that gives up stops the polling of its transaction; Close stops every poller.
func TestAbandonAndCloseStopPolling(t *testing.T) {
	_, c := setUp(t, []digirmtest.Option{digirmtest.WithActionDuration(time.Hour)})
	ctx := waitCtx(t)
	op, err := c.Enable(ctx, ref(digirmtest.DisabledICCID))
	require.NoError(t, err)
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err = op.Wait(short)
	require.ErrorIs(t, err, esimgw.ErrAbandoned)
	time.Sleep(50 * time.Millisecond)
	polls := c.Stats().Polls
	time.Sleep(200 * time.Millisecond)
	assert.Equal(t, polls, c.Stats().Polls, "no polls after the waiter left")

	op, err = c.Enable(ctx, ref(digirmtest.DisabledICCID))
	require.NoError(t, err)
	require.NoError(t, c.Close())
	select {
	case <-op.Done():
		t.Fatal("Close resolves nothing: the transaction goes on at Digi")
	default:
	}
	assert.Equal(t, int64(0), c.Stats().Completed)
}

// A 429 without Retry-After is waited out with back-off, never in a tight loop.
func TestThrottleWithoutRetryAfterBacksOff(t *testing.T) {
	drm, c := setUp(t, nil)
	drm.Inject(digirmtest.ThrottleFault{Times: 4})
	start := time.Now()
	_, err := c.Profile(waitCtx(t), digirmtest.EnabledICCID)
	require.NoError(t, err)
	assert.Equal(t, int64(4), c.Stats().Throttled)
	assert.GreaterOrEqual(t, time.Since(start), 4*quick.InitialInterval/10, "each wait at least a tenth of the initial interval")
	assert.Equal(t, 0, drm.Stats().IgnoredRetryAfter)
}

func TestAuditListsTheDevicesProfiles(t *testing.T) {
	_, c := setUp(t, nil)
	ctx := waitCtx(t)
	op, err := c.Audit(ctx, digirmtest.DefaultEID)
	require.NoError(t, err)
	r, err := op.Wait(ctx)
	require.NoError(t, err)
	require.Len(t, r.Profiles, 2)
	p, ok := r.Profile(digirmtest.EnabledICCID)
	require.True(t, ok)
	assert.Equal(t, esimgw.ProfileStateEnabled, p.State)
	assert.Equal(t, digirmtest.Carrier, p.Carrier)
}

func TestValidateDeviceID(t *testing.T) {
	for id, ok := range map[string]bool{
		"": true, "00000000-00000000-0040FFFF-FF0F4242": true, "abcdef": true,
		"-00": false, "00-": false, "00--00": false, "00 00": false, "0g": false,
	} {
		assert.Equal(t, ok, digirm.ValidateDeviceID(id) == nil, id)
	}
}

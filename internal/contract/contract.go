// Package contract is the test suite every esimgw.ProfileManager passes on its mock: the same calls
// through the common interface, the same outcomes, whatever the platform (es4, es2, thingspace, digirm).
// contract_test.go runs it against all four.
package contract

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
)

// Subject is one platform's client on its mock, with the fixture the suite relies on.
type Subject struct {
	Manager esimgw.ProfileManager
	// EID has EnabledICCID enabled and DisabledICCID disabled (and deletable: not the fall-back).
	EID           string
	EnabledICCID  string
	DisabledICCID string
	// UnknownICCID is a valid ICCID that is on no eUICC.
	UnknownICCID string
	// DownloadICCID can be downloaded to EID (for ProfileDownloaders).
	DownloadICCID string
	// State returns the state of each profile on eid as the mock holds it.
	State func(eid string) map[string]esimgw.ProfileState
	// Requests returns how many requests the mock has received so far.
	Requests func() int
}

// Run runs the suite; newSubject makes a fresh mock and client for each test.
func Run(t *testing.T, newSubject func(t *testing.T) Subject) {
	wait := func(t *testing.T, op interface {
		Wait(context.Context) (*esimgw.Result, error)
	}) (*esimgw.Result, error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return op.Wait(ctx)
	}
	assertFailed := func(t *testing.T, s Subject, err error) {
		t.Helper()
		var fe *esimgw.FunctionError
		require.ErrorAs(t, err, &fe)
		assert.ErrorIs(t, err, esimgw.ErrFailed)
		assert.Equal(t, string(s.Manager.Platform()), fe.Interface, "FunctionError.Interface names the platform")
		assert.NotEmpty(t, fe.Function)
		assert.Equal(t, esimgw.StatusFailed, esimgw.OutcomeOf(nil, err).Status)
	}

	t.Run("Platform", func(t *testing.T) {
		s := newSubject(t)
		assert.NotEmpty(t, s.Manager.Platform())
	})

	t.Run("EnableDisabledProfile", func(t *testing.T) {
		s := newSubject(t)
		op, err := s.Manager.Enable(context.Background(), esimgw.ProfileRef{EID: s.EID, ICCID: s.DisabledICCID})
		require.NoError(t, err)
		r, err := wait(t, op)
		require.NoError(t, err)
		require.NotNil(t, r)
		assert.Equal(t, esimgw.StatusExecutedSuccess, r.Outcome().Status)
		st := s.State(s.EID)
		assert.Equal(t, esimgw.ProfileStateEnabled, st[s.DisabledICCID])
		assert.Equal(t, esimgw.ProfileStateDisabled, st[s.EnabledICCID], "enabling one profile disables the one enabled before")
	})

	t.Run("EnableEnabledProfileFails", func(t *testing.T) {
		s := newSubject(t)
		op, err := s.Manager.Enable(context.Background(), esimgw.ProfileRef{EID: s.EID, ICCID: s.EnabledICCID})
		require.NoError(t, err)
		_, err = wait(t, op)
		assertFailed(t, s, err)
		assert.Equal(t, esimgw.ProfileStateEnabled, s.State(s.EID)[s.EnabledICCID])
	})

	t.Run("DisableEnabledProfile", func(t *testing.T) {
		s := newSubject(t)
		op, err := s.Manager.Disable(context.Background(), esimgw.ProfileRef{EID: s.EID, ICCID: s.EnabledICCID})
		require.NoError(t, err)
		_, err = wait(t, op)
		require.NoError(t, err)
		assert.Equal(t, esimgw.ProfileStateDisabled, s.State(s.EID)[s.EnabledICCID])
	})

	t.Run("DeleteDisabledProfile", func(t *testing.T) {
		s := newSubject(t)
		op, err := s.Manager.Delete(context.Background(), esimgw.ProfileRef{EID: s.EID, ICCID: s.DisabledICCID})
		require.NoError(t, err)
		_, err = wait(t, op)
		require.NoError(t, err)
		_, present := s.State(s.EID)[s.DisabledICCID]
		assert.False(t, present, "a deleted profile is gone from the eUICC")
	})

	t.Run("DeleteEnabledProfileFails", func(t *testing.T) {
		s := newSubject(t)
		op, err := s.Manager.Delete(context.Background(), esimgw.ProfileRef{EID: s.EID, ICCID: s.EnabledICCID})
		require.NoError(t, err)
		_, err = wait(t, op)
		assertFailed(t, s, err)
	})

	t.Run("UnknownProfileFails", func(t *testing.T) {
		s := newSubject(t)
		op, err := s.Manager.Enable(context.Background(), esimgw.ProfileRef{EID: s.EID, ICCID: s.UnknownICCID})
		require.NoError(t, err)
		_, err = wait(t, op)
		assertFailed(t, s, err)
	})

	t.Run("ConcurrentOperationsResolveTheirOwn", func(t *testing.T) {
		s := newSubject(t)
		ctx := context.Background()
		en, err := s.Manager.Enable(ctx, esimgw.ProfileRef{EID: s.EID, ICCID: s.EnabledICCID}) // fails
		require.NoError(t, err)
		del, err := s.Manager.Delete(ctx, esimgw.ProfileRef{EID: s.EID, ICCID: s.DisabledICCID}) // succeeds
		require.NoError(t, err)
		_, err = wait(t, del)
		require.NoError(t, err)
		_, err = wait(t, en)
		assertFailed(t, s, err)
	})

	t.Run("InvalidInputIsRefusedBeforeSending", func(t *testing.T) {
		s := newSubject(t)
		before := s.Requests()
		ctx := context.Background()
		badEID := esimgw.ProfileRef{EID: "8904903200000100000000000000017", ICCID: s.EnabledICCID}
		badCheck := esimgw.ProfileRef{EID: s.EID[:31] + string('0'+(s.EID[31]-'0'+1)%10), ICCID: s.EnabledICCID}
		badICCID := esimgw.ProfileRef{EID: s.EID, ICCID: s.EnabledICCID[:19] + string('0'+(s.EnabledICCID[19]-'0'+1)%10)}
		unknownAccount := esimgw.ProfileRef{EID: s.EID, ICCID: s.EnabledICCID, Account: "no-such-account"}
		for _, c := range []struct {
			name  string
			ref   esimgw.ProfileRef
			field string
		}{
			{"short EID", badEID, esimgw.FieldEID},
			{"EID check digits", badCheck, esimgw.FieldEID},
			{"ICCID Luhn", badICCID, esimgw.FieldICCID},
			{"empty ICCID", esimgw.ProfileRef{EID: s.EID}, esimgw.FieldICCID},
			{"unknown account", unknownAccount, esimgw.FieldAccount},
		} {
			for name, call := range map[string]func(context.Context, esimgw.ProfileRef) (*esimgw.Operation[*esimgw.Result], error){
				"Enable": s.Manager.Enable, "Disable": s.Manager.Disable, "Delete": s.Manager.Delete,
			} {
				op, err := call(ctx, c.ref)
				var ve *esimgw.ValidationError
				require.ErrorAs(t, err, &ve, "%s %s", name, c.name)
				assert.Nil(t, op)
				assert.Equal(t, c.field, ve.Field, "%s %s", name, c.name)
			}
		}
		assert.Equal(t, before, s.Requests(), "nothing was sent")
	})

	t.Run("Download", func(t *testing.T) {
		s := newSubject(t)
		d, ok := s.Manager.(esimgw.ProfileDownloader)
		if !ok {
			t.Logf("%s downloads nothing (not an esimgw.ProfileDownloader)", s.Manager.Platform())
			return
		}
		op, err := d.Download(context.Background(), esimgw.DownloadSpec{EID: s.EID, ICCID: s.DownloadICCID, Enable: true})
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		r, err := op.Wait(ctx)
		require.NoError(t, err)
		assert.Equal(t, s.DownloadICCID, r.Iccid)
		st := s.State(s.EID)
		assert.Equal(t, esimgw.ProfileStateEnabled, st[s.DownloadICCID])
		assert.Equal(t, esimgw.ProfileStateDisabled, st[s.EnabledICCID])

		before := s.Requests()
		_, err = d.Download(context.Background(), esimgw.DownloadSpec{EID: s.EID})
		var ve *esimgw.ValidationError
		require.ErrorAs(t, err, &ve, "a download that names no profile")
		_, err = d.Download(context.Background(), esimgw.DownloadSpec{EID: s.EID, ICCID: s.DownloadICCID, Account: "no-such-account"})
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, esimgw.FieldAccount, ve.Field)
		assert.Equal(t, before, s.Requests(), "nothing was sent")
	})

	t.Run("Audit", func(t *testing.T) {
		s := newSubject(t)
		a, ok := s.Manager.(esimgw.ProfileAuditor)
		if !ok {
			t.Logf("%s has no audit (not an esimgw.ProfileAuditor)", s.Manager.Platform())
			return
		}
		op, err := a.Audit(context.Background(), s.EID)
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		r, err := op.Wait(ctx)
		require.NoError(t, err)
		assert.Equal(t, s.EID, r.EID)
		p, ok := r.Profile(s.EnabledICCID)
		require.True(t, ok, "the enabled profile is listed")
		assert.Equal(t, esimgw.ProfileStateEnabled, p.State)
		p, ok = r.Profile(s.DisabledICCID)
		require.True(t, ok)
		assert.Equal(t, esimgw.ProfileStateDisabled, p.State)

		_, err = a.Audit(context.Background(), "not-an-eid")
		var ve *esimgw.ValidationError
		require.ErrorAs(t, err, &ve)
	})

	t.Run("AbandonedWaitReportsNoResult", func(t *testing.T) {
		s := newSubject(t)
		op, err := s.Manager.Enable(context.Background(), esimgw.ProfileRef{EID: s.EID, ICCID: s.DisabledICCID})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err = op.Wait(ctx)
		if err == nil {
			return // the result was already there: it wins over the ended context
		}
		assert.True(t, errors.Is(err, esimgw.ErrAbandoned) || errors.Is(err, context.Canceled), "got %v", err)
	})
}

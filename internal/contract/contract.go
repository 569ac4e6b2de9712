// Package contract is the test suite every esimgw.ProfileManager passes on its mock: the same calls
// through the common interface, the same outcomes, whatever the platform (es4, es2, thingspace, digirm).
// contract_test.go runs it against all four.
package contract

import (
	"context"
	"errors"
	"reflect"
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

// action is a ProfileManager's Enable, Disable or Delete, as a method expression.
type action = func(esimgw.ProfileManager, context.Context, esimgw.ProfileRef) (*esimgw.Operation[*esimgw.Result], error)

// absent, as a state the suite expects, is a profile that is not on the eUICC.
const absent esimgw.ProfileState = ""

func enabled(s Subject) string  { return s.EnabledICCID }
func disabled(s Subject) string { return s.DisabledICCID }

// wait waits for op's result, 30 s at most.
func wait[T any](t *testing.T, op *esimgw.Operation[T]) (T, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return op.Wait(ctx)
}

// optional returns s's Manager as I, an interface some platforms add (ProfileDownloader,
// ProfileAuditor), or says that the platform has none and there is nothing to test.
func optional[I any](t *testing.T, s Subject) (I, bool) {
	t.Helper()
	i, ok := s.Manager.(I)
	if !ok {
		t.Logf("%s is not an %s: nothing to test", s.Manager.Platform(), reflect.TypeFor[I]())
	}
	return i, ok
}

// Run runs the suite; newSubject makes a fresh mock and client for each test.
func Run(t *testing.T, newSubject func(t *testing.T) Subject) {
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

	// Each profile action on a fresh mock: which profile it acts on, whether the platform refuses it, and
	// the states the mock holds afterwards (absent: gone from the eUICC).
	for _, c := range []struct {
		name  string
		call  action
		iccid func(Subject) string
		fails bool
		after func(Subject) map[string]esimgw.ProfileState
		why   string
	}{
		{name: "EnableDisabledProfile", call: esimgw.ProfileManager.Enable, iccid: disabled,
			after: func(s Subject) map[string]esimgw.ProfileState {
				return map[string]esimgw.ProfileState{s.DisabledICCID: esimgw.ProfileStateEnabled, s.EnabledICCID: esimgw.ProfileStateDisabled}
			}, why: "enabling one profile disables the one enabled before"},
		{name: "EnableEnabledProfileFails", call: esimgw.ProfileManager.Enable, iccid: enabled, fails: true,
			after: func(s Subject) map[string]esimgw.ProfileState {
				return map[string]esimgw.ProfileState{s.EnabledICCID: esimgw.ProfileStateEnabled}
			}, why: "a refused enable changes nothing"},
		{name: "DisableEnabledProfile", call: esimgw.ProfileManager.Disable, iccid: enabled,
			after: func(s Subject) map[string]esimgw.ProfileState {
				return map[string]esimgw.ProfileState{s.EnabledICCID: esimgw.ProfileStateDisabled}
			}},
		{name: "DeleteDisabledProfile", call: esimgw.ProfileManager.Delete, iccid: disabled,
			after: func(s Subject) map[string]esimgw.ProfileState {
				return map[string]esimgw.ProfileState{s.DisabledICCID: absent}
			}, why: "a deleted profile is gone from the eUICC"},
		{name: "DeleteEnabledProfileFails", call: esimgw.ProfileManager.Delete, iccid: enabled, fails: true},
		{name: "UnknownProfileFails", call: esimgw.ProfileManager.Enable, iccid: func(s Subject) string { return s.UnknownICCID }, fails: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newSubject(t)
			op, err := c.call(s.Manager, context.Background(), esimgw.ProfileRef{EID: s.EID, ICCID: c.iccid(s)})
			require.NoError(t, err)
			r, err := wait(t, op)
			if c.fails {
				assertFailed(t, s, err)
			} else {
				require.NoError(t, err)
				require.NotNil(t, r)
				assert.Equal(t, esimgw.StatusExecutedSuccess, r.Outcome().Status)
			}
			if c.after == nil {
				return
			}
			st := s.State(s.EID)
			for iccid, want := range c.after(s) {
				got, present := st[iccid]
				if want == absent {
					assert.False(t, present, "%s: %s", iccid, c.why)
					continue
				}
				assert.Equal(t, want, got, "%s: %s", iccid, c.why)
			}
		})
	}

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
			for name, call := range map[string]action{
				"Enable": esimgw.ProfileManager.Enable, "Disable": esimgw.ProfileManager.Disable, "Delete": esimgw.ProfileManager.Delete,
			} {
				op, err := call(s.Manager, ctx, c.ref)
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
		d, ok := optional[esimgw.ProfileDownloader](t, s)
		if !ok {
			return
		}
		op, err := d.Download(context.Background(), esimgw.DownloadSpec{EID: s.EID, ICCID: s.DownloadICCID, Enable: true})
		require.NoError(t, err)
		r, err := wait(t, op)
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
		a, ok := optional[esimgw.ProfileAuditor](t, s)
		if !ok {
			return
		}
		op, err := a.Audit(context.Background(), s.EID)
		require.NoError(t, err)
		r, err := wait(t, op)
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

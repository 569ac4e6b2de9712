package contract

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/digirm"
	"github.com/esimgw/esimgw/digirm/digirmtest"
	"github.com/esimgw/esimgw/es2"
	"github.com/esimgw/esimgw/es4"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/thingspace"
	"github.com/esimgw/esimgw/thingspace/thingspacetest"
)

// The Subjects below are each platform's client on a mock the caller started (with whatever options its
// test needs), with the mock's default seed as the fixture. Other packages' tests use them too, to run
// code written against esimgw.ProfileManager on every platform without setting up four clients again.

// unknownICCID is a valid ICCID that no mock holds.
var unknownICCID = esimgw.ICCIDWithLuhn("8931041099999999999")

// ES4 is an es4 client, with its callback server, on gw.
func ES4(tb testing.TB, gw *gatewaytest.Gateway) Subject {
	op := gatewaytest.NewOperator(tb, gw)
	c, err := es4.NewClient(gw.ES4URL, op.Options...)
	require.NoError(tb, err)
	return sgp02Subject(gw, c.Manager())
}

// ES2 is an es2 client, with its callback server, on gw.
func ES2(tb testing.TB, gw *gatewaytest.Gateway) Subject {
	op := gatewaytest.NewOperator(tb, gw)
	c, err := es2.NewClient(gw.ES2URL, gw.SMSRID, op.Options...)
	require.NoError(tb, err)
	return sgp02Subject(gw, c.Manager())
}

// sgp02Subject is the fixture on gatewaytest's default seed, for es2 and es4 alike.
func sgp02Subject(gw *gatewaytest.Gateway, m esimgw.ProfileManager) Subject {
	return Subject{
		Manager:       m,
		EID:           gatewaytest.DefaultEID,
		EnabledICCID:  gatewaytest.DefaultEnabledICCID,
		DisabledICCID: gatewaytest.DefaultDisabledICCID,
		UnknownICCID:  unknownICCID,
		DownloadICCID: gatewaytest.CatalogICCID,
		State: func(eid string) map[string]esimgw.ProfileState {
			e, ok := gw.EUICC(eid)
			if !ok {
				return nil
			}
			st := make(map[string]esimgw.ProfileState, len(e.Profiles))
			for _, p := range e.Profiles {
				switch p.State {
				case gatewaytest.StateEnabled:
					st[p.ICCID] = esimgw.ProfileStateEnabled
				case gatewaytest.StateDisabled:
					st[p.ICCID] = esimgw.ProfileStateDisabled
				default:
					st[p.ICCID] = esimgw.ProfileStateCreated
				}
			}
			return st
		},
		Requests: func() int { return gw.Stats().Requests },
	}
}

// ThingSpace is a thingspace client on ts, with its callback receiver registered for the default account.
func ThingSpace(tb testing.TB, ts *thingspacetest.Server, opts ...thingspace.Option) Subject {
	c, err := thingspace.NewClient(append(ts.ClientOptions(), opts...)...)
	require.NoError(tb, err)
	recv := httptest.NewServer(c.CallbackHandler())
	tb.Cleanup(recv.Close)
	require.NoError(tb, c.RegisterCallback(context.Background(), "", recv.URL))
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = ts.WaitIdle(ctx)
	})
	return Subject{
		Manager:       c,
		EID:           thingspacetest.DefaultEID,
		EnabledICCID:  thingspacetest.EnabledICCID,
		DisabledICCID: thingspacetest.DisabledICCID,
		UnknownICCID:  unknownICCID,
		DownloadICCID: thingspacetest.CatalogICCID,
		State: func(eid string) map[string]esimgw.ProfileState {
			return states(ts.EUICC(eid), func(st string) esimgw.ProfileState { return esimgw.ProfileState(st) })
		},
		Requests: func() int { return ts.Stats().Requests },
	}
}

// DigiRM is a digirm client on drm.
func DigiRM(tb testing.TB, drm *digirmtest.Server, opts ...digirm.Option) Subject {
	c, err := digirm.NewClient(append(drm.ClientOptions(), opts...)...)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = c.Close() })
	return Subject{
		Manager:       c,
		EID:           digirmtest.DefaultEID,
		EnabledICCID:  digirmtest.EnabledICCID,
		DisabledICCID: digirmtest.DisabledICCID,
		UnknownICCID:  unknownICCID,
		DownloadICCID: digirmtest.CatalogICCID,
		State: func(eid string) map[string]esimgw.ProfileState {
			return states(drm.Profiles(eid), func(st string) esimgw.ProfileState { return digirm.Profile{Status: st}.State() })
		},
		Requests: func() int { return drm.Stats().Requests },
	}
}

// states converts a mock's profile states (ICCID to the mock's word) with state.
func states(profiles map[string]string, state func(string) esimgw.ProfileState) map[string]esimgw.ProfileState {
	out := make(map[string]esimgw.ProfileState, len(profiles))
	for iccid, st := range profiles {
		out[iccid] = state(st)
	}
	return out
}

// Platform is one platform's Subject on a fresh mock with its default seed.
type Platform struct {
	Name string // es4, es2, thingspace, digirm (the CLI's --platform)
	New  func(tb testing.TB) Subject
}

// Platforms are the four, for tests that run the same code on every platform.
func Platforms() []Platform {
	return []Platform{
		{"es4", func(tb testing.TB) Subject { return ES4(tb, gatewaytest.Start(tb)) }},
		{"es2", func(tb testing.TB) Subject { return ES2(tb, gatewaytest.Start(tb)) }},
		{"thingspace", func(tb testing.TB) Subject { return ThingSpace(tb, thingspacetest.Start(tb)) }},
		{"digirm", func(tb testing.TB) Subject {
			return DigiRM(tb, digirmtest.Start(tb, digirmtest.WithActionDuration(20*time.Millisecond)))
		}},
	}
}

package contract_test

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
	"github.com/esimgw/esimgw/internal/contract"
	"github.com/esimgw/esimgw/internal/pgtest"
	"github.com/esimgw/esimgw/pgstore"
	"github.com/esimgw/esimgw/thingspace"
	"github.com/esimgw/esimgw/thingspace/thingspacetest"
)

// sgp02Subject is the fixture on gatewaytest's default seed, for es2 and es4 alike.
func sgp02Subject(gw *gatewaytest.Gateway, m esimgw.ProfileManager) contract.Subject {
	return contract.Subject{
		Manager:       m,
		EID:           gatewaytest.DefaultEID,
		EnabledICCID:  gatewaytest.DefaultEnabledICCID,
		DisabledICCID: gatewaytest.DefaultDisabledICCID,
		UnknownICCID:  esimgw.ICCIDWithLuhn("8931041099999999999"),
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

func TestContractES4(t *testing.T) {
	contract.Run(t, func(t *testing.T) contract.Subject {
		gw := gatewaytest.Start(t)
		op := gatewaytest.NewOperator(t, gw)
		c, err := es4.NewClient(gw.ES4URL, op.Options...)
		require.NoError(t, err)
		return sgp02Subject(gw, c.Manager())
	})
}

func TestContractES2(t *testing.T) {
	contract.Run(t, func(t *testing.T) contract.Subject {
		gw := gatewaytest.Start(t)
		op := gatewaytest.NewOperator(t, gw)
		c, err := es2.NewClient(gw.ES2URL, gw.SMSRID, op.Options...)
		require.NoError(t, err)
		return sgp02Subject(gw, c.Manager())
	})
}

func TestContractThingSpace(t *testing.T) {
	contract.Run(t, func(t *testing.T) contract.Subject { return thingSpaceSubject(t) })
}

// On pgstore: the operations and the callbacks handed over are kept in PostgreSQL, as the Dispatcher's
// would be.
func TestContractThingSpaceOnPgstore(t *testing.T) {
	contract.Run(t, func(t *testing.T) contract.Subject {
		return thingSpaceSubject(t, thingspace.WithStore(pgStore(t)))
	})
}

func TestContractDigiRMOnPgstore(t *testing.T) {
	contract.Run(t, func(t *testing.T) contract.Subject {
		return digiSubject(t, digirm.WithStore(pgStore(t)))
	})
}

func pgStore(t *testing.T) esimgw.Store {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	require.NoError(t, pgstore.Migrate(ctx, pool))
	s, err := pgstore.New(ctx, pool)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

func thingSpaceSubject(t *testing.T, opts ...thingspace.Option) contract.Subject {
	{
		ts := thingspacetest.Start(t)
		c, err := thingspace.NewClient(append(ts.ClientOptions(), opts...)...)
		require.NoError(t, err)
		recv := httptest.NewServer(c.CallbackHandler())
		t.Cleanup(recv.Close)
		require.NoError(t, c.RegisterCallback(context.Background(), "", recv.URL))
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = ts.WaitIdle(ctx)
		})
		return contract.Subject{
			Manager:       c,
			EID:           thingspacetest.DefaultEID,
			EnabledICCID:  thingspacetest.EnabledICCID,
			DisabledICCID: thingspacetest.DisabledICCID,
			UnknownICCID:  esimgw.ICCIDWithLuhn("8931041099999999999"),
			DownloadICCID: thingspacetest.CatalogICCID,
			State: func(eid string) map[string]esimgw.ProfileState {
				out := map[string]esimgw.ProfileState{}
				for iccid, st := range ts.EUICC(eid) {
					out[iccid] = esimgw.ProfileState(st)
				}
				return out
			},
			Requests: func() int { return ts.Stats().Requests },
		}
	}
}

func TestContractDigiRM(t *testing.T) {
	contract.Run(t, func(t *testing.T) contract.Subject { return digiSubject(t) })
}

func digiSubject(t *testing.T, opts ...digirm.Option) contract.Subject {
	{
		drm := digirmtest.Start(t, digirmtest.WithActionDuration(20*time.Millisecond))
		c, err := digirm.NewClient(append(drm.ClientOptions(), opts...)...)
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		return contract.Subject{
			Manager:       c,
			EID:           digirmtest.DefaultEID,
			EnabledICCID:  digirmtest.EnabledICCID,
			DisabledICCID: digirmtest.DisabledICCID,
			UnknownICCID:  esimgw.ICCIDWithLuhn("8931041099999999999"),
			DownloadICCID: digirmtest.CatalogICCID,
			State: func(eid string) map[string]esimgw.ProfileState {
				out := map[string]esimgw.ProfileState{}
				for iccid, st := range drm.Profiles(eid) {
					out[iccid] = digirm.Profile{Status: st}.State()
				}
				return out
			},
			Requests: func() int { return drm.Stats().Requests },
		}
	}
}

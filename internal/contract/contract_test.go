package contract_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/digirm"
	"github.com/esimgw/esimgw/digirm/digirmtest"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/internal/contract"
	"github.com/esimgw/esimgw/internal/pgtest"
	"github.com/esimgw/esimgw/pgstore"
	"github.com/esimgw/esimgw/thingspace"
	"github.com/esimgw/esimgw/thingspace/thingspacetest"
)

func TestContractES4(t *testing.T) {
	contract.Run(t, func(t *testing.T) contract.Subject {
		return contract.ES4(t, gatewaytest.Start(t))
	})
}

func TestContractES2(t *testing.T) {
	contract.Run(t, func(t *testing.T) contract.Subject {
		return contract.ES2(t, gatewaytest.Start(t))
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

func pgStore(t *testing.T) correlate.Store {
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
	return contract.ThingSpace(t, thingspacetest.Start(t), opts...)
}

func TestContractDigiRM(t *testing.T) {
	contract.Run(t, func(t *testing.T) contract.Subject { return digiSubject(t) })
}

func digiSubject(t *testing.T, opts ...digirm.Option) contract.Subject {
	return contract.DigiRM(t, digirmtest.Start(t, digirmtest.WithActionDuration(20*time.Millisecond)), opts...)
}

package pgstore_test

import (
	"context"
	"log"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/pgstore"
)

// Two replicas of a service run this same code against one database: either can take any callback.
func Example() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("ESIMGW_STORE")) // e.g. postgres://app@db:5432/esimgw
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	if err := pgstore.Migrate(ctx, pool); err != nil {
		log.Fatal(err)
	}
	store, err := pgstore.New(ctx, pool)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	dispatcher := esimgw.NewDispatcher(esimgw.WithStore(store))
	_ = dispatcher // serve it with callback.NewServer, and give it to the es4/es2 clients (WithDispatcher)
}

package campaignweb_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/esimgw/esimgw/campaign"
	"github.com/esimgw/esimgw/campaign/campaignweb"
)

// The view of the campaigns in a database, with River's UI beside it and the control buttons, served on
// loopback (put it behind your own access control to serve it further).
func ExampleNew() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, "postgres://localhost/esimgw")
	if err != nil {
		log.Fatal(err)
	}
	m, err := campaign.NewManager(pool)
	if err != nil {
		log.Fatal(err)
	}
	h, err := campaignweb.New(ctx, m, campaignweb.WithRiverUI(m.River()), campaignweb.WithControls(), campaignweb.WithPrefix("/ops"))
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/ops/", h) // not stripped: the handler knows its prefix
	srv := &http.Server{Addr: "127.0.0.1:8080", Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

// one is a Campaigns of one campaign half done, in memory; a *campaign.Manager is the real one.
type one struct{ campaignweb.Campaigns }

func (one) List(context.Context) ([]campaign.Campaign, error) {
	return []campaign.Campaign{{Key: "fallback-2026-12", Function: "ES4.SetFallBackAttribute", State: campaign.StateRunning}}, nil
}

func (o one) Progress(ctx context.Context, key string) (campaign.Progress, error) {
	cs, _ := o.List(ctx)
	return campaign.Progress{Campaign: cs[0], Total: 4, Succeeded: 2, Pending: 2, RecentRate: 1}, nil
}

// Without WithControls the view only reads: the list shows each campaign's counts, and a POST is refused.
func ExampleNew_readOnly() {
	h, err := campaignweb.New(context.Background(), one{}, campaignweb.WithRefresh(0))
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, strings.Contains(string(body), `data-field="succeeded">2<`), strings.Contains(string(body), "50% done"))

	resp, err = http.Post(srv.URL+"/campaigns/fallback-2026-12/pause", "application/x-www-form-urlencoded", nil)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output:
	// 200 true true
	// 405
}

// Package campaignweb is a small web view of fleet campaigns (package campaign) for operators who would
// rather look than read: a server-rendered page listing the campaigns with per-outcome progress bars,
// throughput and ETA, and a page per campaign with its outcomes by SGP.02 status and Subject/Reason code
// and its failed EIDs, a page at a time. It has no build step and no JavaScript: html/template and a
// little inline CSS. River's own UI (riverqueue.com/riverui) can be mounted beside it for job-level detail.
//
//	h, err := campaignweb.New(ctx, manager, campaignweb.WithRiverUI(manager.River()))
//	if err != nil { ... }
//	srv := &http.Server{Addr: "127.0.0.1:8080", Handler: h}
//
// The view is read-only unless WithControls is given: then each campaign's page has pause, resume,
// cancel and retry-failed buttons, plain HTML forms POSTed to the handler, which refuses cross-origin
// requests (net/http's CrossOriginProtection: Sec-Fetch-Site, else Origin against Host), so that
// another site cannot press them in an operator's browser. River's UI is always read-only through this
// handler: cancelling or deleting a campaign's job there would leave its EID waiting in the campaign
// (control campaigns through their own buttons, which keep EIDs and jobs in step).
//
// The handler authenticates nobody: put it behind the operator's own access control (a reverse proxy,
// a VPN, a loopback address as `esimgw campaign web` uses by default).
package campaignweb

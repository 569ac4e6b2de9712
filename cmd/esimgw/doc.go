// Command esimgw is the operator's command line for eSIM remote provisioning over GSMA SGP.02 ES2 and ES4:
// one binary with a subcommand for every function the example programs show (audit, enable, disable,
// delete, download, activate, fallback), the callback server (listen, with Prometheus metrics and health
// endpoints) and the mock gateway (mock).
//
//	go install github.com/esimgw/esimgw/cmd/esimgw@latest
//	esimgw enable                                  # against an embedded mock gateway
//	esimgw audit --eid $EID --kpn --cert client.crt ... --output json
//	esimgw listen --metrics :9464 --health :8081
//
// Without --kpn or gateway flags every command runs against an embedded mock gateway, so each can be tried
// with nothing else installed. Every flag falls back to an ESIMGW_* environment variable. --output
// table|json|jsonl chooses human or machine output; docs/cli.md lists the JSON fields and exit codes.
package main

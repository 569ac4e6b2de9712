// Package rest is the JSON-over-HTTPS plumbing the REST platform clients (thingspace, digirm) share: one
// Client per platform that sends requests with the platform's credentials, decodes JSON answers, turns
// error answers into *APIError (HTTP status plus the platform's own error code), waits out throttling
// (429 with Retry-After, a sliding-window rate and a concurrency bound) and retries a request only when
// doing so cannot run it twice.
//
// The retry rules (docs/carriers.md, "Retries"):
//
//   - 429 Too Many Requests: the platform refused the request unread, so any method is sent again after
//     Retry-After (or the back-off when there is none), and every other request of the Client waits too,
//     because the throttle counts the account, not the request;
//   - 401 Unauthorized, when the Authorizer can renew its credentials: the request was refused, so it is
//     sent once more with the new credentials;
//   - a failure to connect (nothing was written): any method;
//   - 5xx and transport failures after the request was written: only requests marked Idempotent (GETs and
//     deletes), because a POST of a profile action may have run.
//
// Everything else is returned as it is.
package rest

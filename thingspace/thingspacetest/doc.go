// Package thingspacetest is a mock Verizon ThingSpace for tests, in the spirit of net/http/httptest: the
// OAuth2 token endpoint, M2M session login and logout, callback registration, and the five eUICC profile
// actions on a loopback TLS listener, keeping per-eUICC profile state and posting one callback per device
// to the URL registered for the account, with the documented body (docs/carriers.md).
//
//	ts := thingspacetest.Start(t)
//	c, _ := thingspace.NewClient(ts.ClientOptions()...)
//	cb := httptest.NewServer(c.CallbackHandler())
//	_ = c.RegisterCallback(ctx, "", cb.URL)
//
// # Behaviour
//
// Tokens live WithTokenLifetime (one hour) and the token endpoint returns the same one within it; every
// other call needs a live token and session, else 401. An action is answered 200 {"requestId"} and, after
// WithCallbackDelay, executed: enable needs an installed profile not enabled (and disables the enabled
// one), disable an enabled one, delete one not enabled, a download an ICCID in the catalogue not yet
// installed. Refusals are callbacks with euiccStatus FAILED and euiccErrorCode 8.1.1,3.9 (unknown EID),
// 8.2.1,3.9 (unknown ICCID) or 8.2.1,3.8 (wrong state). A callback that is not acknowledged 2xx is posted
// again, callbackCount counting, up to maxCallbackThreshold (4) attempts.
//
// # Faults
//
// Inject: ExpireToken, ExpireSession (at once), DeviceTimeout (a warning callback, then the final one),
// DuplicateCallbacks, WrongCredentials, ErrorAnswer, LoseAnswer (executed, never answered). Stats,
// Requests and Deliveries show what happened, Actions(eid) how many actions named an eUICC; WaitIdle waits
// for every callback.
package thingspacetest

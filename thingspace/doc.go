// Package thingspace is a client for Verizon ThingSpace's eUICC profile actions (download_enable,
// download_disable, enable, disable, delete) behind the same typed operations as the ES2/ES4 clients:
// thingspace.Client is an esimgw.ProfileDownloader, each action an *esimgw.Operation resolved by the
// callback ThingSpace posts later, a refusal an *esimgw.FunctionError with the SGP.02 Subject and Reason
// from euiccStatusCode.
//
//	c, err := thingspace.NewClient(
//		thingspace.WithAppCredentials(appKey, appSecret),        // OAuth2 client credentials
//		thingspace.WithSession(m2mUser, m2mPassword),            // VZ-M2M session token
//		thingspace.WithAccount(thingspace.Account{Name: "0000123456-00001",
//			CallbackUsername: cbUser, CallbackPassword: cbPassword}),
//		thingspace.WithSMSROID(smsrOID))
//	http.Handle("/thingspace", c.CallbackHandler())              // one-way TLS, port 443
//	err = c.RegisterCallback(ctx, "", "https://callbacks.example.com/thingspace")
//	op, err := c.Enable(ctx, esimgw.ProfileRef{EID: eid, ICCID: iccid})
//	r, err := op.Wait(ctx)
//
// # Credentials
//
// Every call carries an OAuth2 bearer token (client credentials, golang.org/x/oauth2/clientcredentials)
// and an M2M session token (POST /session/login). The bearer token is replaced a minute before its hour
// ends (WithTokenRefreshMargin); a call refused 401 renews both and is sent once more, which is safe since
// a refused call did not run. Close logs the session out.
//
// # Callbacks
//
// ThingSpace posts one callback per device, with the credentials given at registration echoed in the
// body; CallbackHandler authenticates each by them (and by WithAllowedSources), correlates it with its
// operation by requestId, and hands each distinct callback over once. A device that did not answer in
// time first gets an EXECUTED_WITHWARNING callback: that is progress (WithProgressHandler), and the
// operation resolves only at the final callback. Callbacks nobody waits for go to WithUnmatchedHandler.
// See docs/carriers.md for the facts, and CallbackHandler for every answer it gives.
//
// Package thingspacetest is a mock ThingSpace for tests, with injectable faults.
package thingspace

// Package digirm is a client for Digi Remote Manager's v1/esim_profiles API behind the same typed
// operations as the ES2/ES4 clients: digirm.Client is an esimgw.ProfileDownloader and
// esimgw.ProfileAuditor; each action (download, enable, disable, delete) is an *esimgw.Operation that
// completes by polling its transaction (the API has no callback), a failed transaction an
// *esimgw.FunctionError (inside a *TransactionError) like any platform's refusal.
//
//	c, err := digirm.NewClient(digirm.WithAPIKey(keyID, keySecret),
//		digirm.WithThrottle(digirm.ThrottlePerMinute(240, 4)))
//	defer c.Close()
//	op, err := c.Enable(ctx, esimgw.ProfileRef{EID: eid, ICCID: iccid, DeviceID: deviceID})
//	r, err := op.Wait(ctx) // 3 to 10 minutes on the real platform
//
// # Polling and throttling
//
// A transaction is first polled after WithPollInterval's first delay (30 s), then with doubling,
// jittered waits up to its maximum (2 min). Every request of the client goes through one throttle: a
// sliding-window limit (WithThrottle; the default is Premier's 240 a minute, counted by Digi over 10 s)
// and a bound on requests in flight (4); a 429 pauses every request of the client for its Retry-After
// (or a back-off), since Digi throttles the account. Stats reports the cost: requests per completed
// operation.
//
// Besides the common interface: Download by activation code (with Enable: a download then an enable
// transaction, as one operation), StartMultistep (activate and the other multistep operations), Profiles
// (the inventory as an iterator over cursor pages), Profile, ExportCSV (reporting Digi's truncation at
// 20,000 records) and Progress. docs/carriers.md has the facts the package relies on.
//
// Package digirmtest is a mock Remote Manager for tests, with throttling and faults.
package digirm

// Package digirmtest is a mock Digi Remote Manager v1/esim_profiles API for tests, in the spirit of
// net/http/httptest: the four actions with their transactions, progress, the inventory with cursor paging,
// the bulk CSV export with its Truncated header, and multistep activate operations, on a loopback TLS
// listener with per-device profile state (docs/carriers.md).
//
//	drm := digirmtest.Start(t, digirmtest.WithFleet(1000))
//	c, _ := digirm.NewClient(drm.ClientOptions()...)
//
// # Behaviour
//
// Basic credentials (User, Password) or the API key (APIKeyID, APIKeySec) are required, else 401. An
// action is answered with its transaction, in_progress; it takes WithActionDuration and finishes when its
// progress is asked for after that (Digi checks transactions when asked). enable needs an inactive
// profile (and makes the others inactive), disable an active one, delete an inactive one, download an
// ICCID registered with the system or a known activation code; refusals are failed transactions with a
// message_code (profile_not_found, already_active, not_active, profile_active, already_installed,
// invalid_activation_code, activation_code_not_found).
//
// # Throttling
//
// The mock enforces WithThrottle: at most Requests arrivals in any sliding Window and Concurrent in flight
// (default 40 per 10 s and 4, Premier's 240 a minute); beyond, it answers 429 with Retry-After. Stats
// counts the requests over the throttle (OverThrottle, OverConcurrency) and those that ignored a
// Retry-After (IgnoredRetryAfter): a well-behaved client keeps all three at zero.
//
// # Faults
//
// Inject: ThrottleFault (429s whatever the rate), ErrorAnswer, FailTransactions (failed or unknown),
// LoseAnswer (accepted, never answered). Actions(eid) counts the action requests accepted for a device.
package digirmtest

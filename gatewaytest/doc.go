// Package gatewaytest is a mock SGP.02 gateway for tests, in the spirit of net/http/httptest: an SM-SR
// (ES4) and an SM-DP (ES2) on one loopback HTTPS listener with mutual TLS, speaking the same wire protocol
// as a real gateway (SOAP 1.2, WS-Addressing 2005/08, body namespace esim-messaging/3, KPN's paths) and
// keeping the state a real one keeps. It also plays an SGP.22 SM-DP+ sending ES2+ download-progress
// webhooks (SendDownloadProgress).
//
//	g := gatewaytest.Start(t)                           // or New + Close outside tests
//	client := soap.NewClient(soap.WithTLSConfig(g.ClientTLSConfig()))
//	cb := httptest.NewUnstartedServer(myCallbackHandler)
//	cb.TLS = g.CallbackServerTLSConfig(); cb.StartTLS() // the mock presents a client certificate from its CA
//
// # PKI
//
// New makes a throw-away CA (mtls/mtlstest) and issues from it the mock's server certificate (localhost,
// 127.0.0.1, ::1), an operator client certificate, an operator callback-server certificate and the
// client certificate the mock presents when it posts callbacks and notifications. ClientTLSConfig and
// CallbackServerTLSConfig hand the operator side everything; WriteFiles writes the PEM files for other
// languages. WithCallbackRootCAs trusts callback servers with certificates from another CA.
//
// # Wire strictness (both profiles)
//
// The envelope must carry wsa:From, wsa:To, wsa:MessageID and wsa:Action, in the 2005/08 namespace and
// spelt exactly; wsa:From must hold an EntityId. The Action must be one of the interface's request Actions
// and match the body element. The body element and all its children must be in the esim-messaging/3
// namespace, in XSD order, spelt exactly, with every required element: the received structure is compared,
// recursively, with the canonical encoding of what was decoded. Violations answer a SOAP 1.2 fault:
//
//	missing header                 env:Sender / wsa:MessageAddressingHeaderRequired (HTTP 400)
//	header in wrong namespace/case env:Sender / wsa:InvalidAddressingHeader
//	From without EntityId          env:Sender / wsa:InvalidAddressingHeader
//	unknown Action, Action not     env:Sender / wsa:ActionNotSupported
//	  matching the body, function
//	  outside KPN's subset (KPN)
//	body namespace, element order, env:Sender, reason "schema validation failed: ..."
//	  spelling, missing element,
//	  bad value (hex, boolean, ...)
//	malformed XML                  env:Sender (package soap)
//
// On top of these, WithStrict (on by default) refuses what a JAX-WS (Metro) gateway refuses, with Metro's
// fault: env:Sender, HTTP 500, reason "A header representing a Message Addressing Property is not valid
// ...", the header's QName in wsa:ProblemHeaderQName (the interop suite checks the mock against Metro):
//
//	a wsa header twice (not RelatesTo)  wsa:InvalidAddressingHeader / wsa:InvalidCardinality
//	HTTP action (Content-Type action=   wsa:InvalidAddressingHeader / wsa:ActionMismatch
//	  or SOAPAction) not wsa:Action;
//	  an empty one is no contradiction
//	a SOAP 1.1 envelope                 env:VersionMismatch (answered in SOAP 1.1)
//
// WithStrict(false) accepts those three (SOAP 1.1 included, for a SOAP 1.1 client mode); the schema checks
// above stay.
//
// An async request without wsa:ReplyTo is accepted (202) and executed, but gets no callback (KPN).
//
// # Function semantics and status codes
//
// Sync functions (GetEIS, UpdatePolicyRules, UpdateSubscriptionAddress) answer 200 with the response.
// Async functions answer 202; after WithCallbackDelay (5 ms) and the eUICC's simulated latency the
// ...Response callback is posted to wsa:ReplyTo with RelatesTo = the request's MessageID and a MessageID in
// the request's TransactionId. A retried request (same FunctionCallIdentifier from the same EntityId) is
// executed once: it gets 202 again (sync: the same response) and no second callback (see Executions).
// ES2 functions act on the same eUICC state as ES4 (the SM-DP relays to the SM-SR).
//
// Refusals come back as FAILED (EXPIRED for time-outs) with these codes. [I] marks choices inferred where
// docs/wire.md section 6 has no source.
//
//	rule                                              Subject  Reason  SubjectIdentifier
//	Eid not 32 hex digits / bad check digits          8.1.1    2.1     Eid
//	Iccid malformed / bad Luhn                        8.2.1    2.1     Iccid
//	unknown EID                                       8.1.1    3.9     Eid
//	ES2 Smsr-id is not the eUICC's SM-SR              8.7      3.9     Smsr-id
//	ICCID unknown                                     8.2.1    3.9     Iccid
//	ICCID on another eUICC (WHTY "invalid             8.2.1    3.9     Iccid, Message "invalid destination: ..." [I]
//	  destination", no number known)
//	profile owned by another MNO (Mno-id != EntityId  8.2.1    1.2     Iccid (KPN's ownership check)
//	  of wsa:From)
//	Enable: profile already enabled / in Created      8.2.1    3.8     Iccid
//	Enable: POL2 ENABLE Not-Allowed on it, or POL2    8.2.3    3.8     Iccid of the profile holding the rule
//	  DISABLE Not-Allowed on the enabled profile
//	Disable: profile not enabled                      8.2.1    3.8     Iccid
//	Disable/Delete the fall-back profile              8.2.1    3.8     Iccid
//	Delete the enabled profile                        8.2.1    3.8     Iccid
//	Disable/Delete with POL2 Not-Allowed              8.2.3    3.8     Iccid
//	UpdatePolicyRules: rule not PROFILE/known values  8.2.3    2.1     Iccid
//	UpdateSubscriptionAddress: bad Imsi/Msisdn        8.2.6    2.1     Iccid
//	Download: both Iccid and ProfileType              1.6      2.1     -
//	Download: neither                                 1.6      2.3     -
//	Download: ICCID not in the catalogue              8.2.1    3.9     Iccid
//	Download: ICCID already installed                 8.2.1    3.8     Iccid [I]
//	Download: catalogue ICCID of another MNO          8.2.1    1.2     Iccid
//	Download: ProfileType unknown or none left        8.2.5    3.9     ProfileType
//	Download: ProfileType only of another MNO         8.2.5    1.2     ProfileType (KPN checks type ownership)
//	Download: insufficient memory                     8.1      3.8     Eid, Message "insufficient memory: ..." [I]
//	Download+EnableProfile: installed, enable refused EXECUTED_WITHWARNING with the enable refusal [I]
//	PrepareSMSRChange: CurrentSMSRid not the eUICC's  8.7      3.9     CurrentSMSRid
//	SMSRChange: no PrepareSMSRChange before           8.1      3.8     Eid [I]
//	SMSRChange: Target-Smsr-id invalid / current      8.7      2.1/3.8 Target-Smsr-id
//	eUICC unreachable, or its latency exceeds the     1.6      5.3     Eid, status EXPIRED
//	  ValidityPeriod (default WithDefaultValidityPeriod)
//
// State changes: one enabled profile per eUICC; enabling one disables the enabled one; disabling the
// enabled profile enables the fall-back profile; POL2 Auto-Delete deletes a profile once disabled; a delete
// or a download gives back or takes AvailableMemoryForProfiles; a downloaded profile leaves the catalogue
// (by ProfileType the first entry of that type owned by the caller is taken). GetEIS and AuditEIS list only
// the caller's profiles (AuditEIS: only the Iccid list when given) and AuditEIS sets LastAuditDate.
// SetFallBackAttribute moves the attribute. SMSRChange changes the eUICC's Smsr-id (ES2 calls must then name
// the new SM-SR) and posts HandleSMSRChangeNotification.
//
// # Notifications
//
// Notifications go to the URL set per interface (WithNotificationURL, SetNotificationURL). They are posted
// when state changes by other means: SimulateLocalEnable, SimulateLocalDisable, SimulateLocalDelete,
// SimulateFallback, an operator's enable disabling another operator's profile, POL2 Auto-Delete, SMSRChange.
// Enabling through the API never sends a ProfileEnabled notification to the caller (KPN's rule). The GSMA
// profile sends every kind on ES4 and ES2 and, additionally, after an ES2 DownloadProfile with
// EnableProfile=true, an ES2-HandleProfileEnabledNotification once the callback went out (the es2 Activate
// flow verifies with it). The KPN profile sends ES4 ProfileEnabled/ProfileDisabled only.
//
// Order: as an SM-SR does, the notifications of one EID are posted one after the other, in the order of
// the state changes, each only once the previous one was acknowledged or given up (those of an API call
// after its callback); notifications of different EIDs go out concurrently.
//
// # Profiles of behaviour
//
// ProfileGSMA (default) serves every ES2/ES4 function. ProfileKPN: From addresses with '?' separators
// (https://localhost:port?EntityId=...?EntityName=KPN), SetFallBackAttribute always runs with a 720 s
// validity (AcceptableValidityPeriod=720 in the callback when another one was asked), and only KPN's
// functions (ES2: GetEIS, DownloadProfile, EnableProfile, DisableProfile, DeleteProfile,
// SetFallBackAttribute; ES4: AuditEIS, EnableProfile, SetFallBackAttribute); others get
// wsa:ActionNotSupported. Request.From records each request's From so tests can assert '?' separators and
// X-KPN-ProviderEntityId.
//
// # Fault injection
//
// Inject switches faults on per test, Reset switches them off: RefuseConnections, ResetConnections,
// ServiceUnavailable (503), Delay202, CallbackBefore202, DuplicateCallbacks, ReorderCallbacks,
// CallbacksWithoutRelatesTo, MalformedCallback, SOAPFault. A callback receiver that is down, answers 5xx or
// an env:Receiver fault is retried with backoff (WithCallbackRetry) and then recorded as undelivered.
//
// # Inspection
//
// Requests, Callbacks and Notifications return what arrived and what was sent (decoded, with outcome);
// EUICC, EUICCs and Catalog return copies of the state; Executions and Arrivals count a
// FunctionCallIdentifier; Stats counts everything since the start; WaitIdle waits until every accepted
// request has been executed and every callback and notification delivered (or given up). All methods are
// safe for concurrent use.
//
// # Fleets and long runs
//
// WithFleet(n) adds n generated eUICCs, each with an enabled profile holding the fall-back attribute and a
// disabled one ready to take it (FleetEID, FleetEnabledICCID, FleetFallbackICCID; FleetEIDs streams the
// EIDs for package bulk). By default the mock keeps every request, callback and notification record and
// every FunctionCallIdentifier it executed, which a test of a few calls wants; over 100k calls that is
// memory growing with every call. WithRecordLimit(n) keeps the last n records (rings) and
// WithDuplicateWindow(n) the last n identifiers, so that the mock's memory is its state, proportional to
// the fleet, and Stats still counts every call:
//
//	gw := gatewaytest.Start(t, gatewaytest.WithSeed(gatewaytest.Seed{}), gatewaytest.WithFleet(100_000),
//		gatewaytest.WithRecordLimit(1024), gatewaytest.WithDuplicateWindow(4096))
//	bulk.Run(ctx, bulk.Seq(gatewaytest.FleetEIDs(100_000)), setFallBack, sink, bulk.WithConcurrency(64))
//
// The Actions are wsdl/rps's function table (rps.Functions); callback Actions and SetFallBackAttribute's
// are inferred there (docs/wire.md sections 4.2, 4.4).
package gatewaytest

// Package es4 is the typed client of SGP.02 ES4: the operator's interface to the SM-SR that manages its
// M2M eUICCs (KPN's RSP Gateway: https://rsp.kpnthings.com/esim-messaging/3/ES4/ES4SmSrService).
//
// # Set-up
//
// Three pieces, usually one of each per process:
//
//  1. An esimgw.Dispatcher. It correlates the callbacks that carry asynchronous results with the operations
//     waiting for them, and passes notifications (a profile enabled or disabled on the device) to your
//     handler (esimgw.Notifications). Give it WithUnmatchedHandler in production: callbacks nobody waits for
//     any more (after a restart, or a Wait given up) go there with their FunctionCallIdentifier.
//  2. A callback.Server serving the Dispatcher on HTTPS with mutual TLS. Its public URL is your
//     replyTo address; for KPN it needs an OV certificate and must require KPN's client certificate.
//  3. An es4.Client (NewClient) with your entity OID (esimgw.WithEntity), your mTLS client configuration
//     (esimgw.WithTLSConfig), the replyTo URL (esimgw.WithReplyTo) and the Dispatcher
//     (esimgw.WithDispatcher). Add esimgw.WithKPN() for KPN.
//
// The same Dispatcher and callback.Server serve an es2.Client too.
//
// # Calls
//
// GetEIS, UpdatePolicyRules and UpdateSubscriptionAddress are synchronous: the result comes back in the
// HTTP response. The others are asynchronous: the method returns once the SM-SR accepted the request (HTTP
// 202) with an *esimgw.Operation, and its Wait returns the result when the SM-SR posts it to replyTo.
// Size Wait's context from the request's ValidityPeriod plus a margin: a Wait that gives up abandons the
// operation (the late callback then goes to the unmatched handler), while the function may still complete
// on the eUICC. For KPN's SetFallBackAttribute that is 720 s plus a margin (docs/kpn.md R10).
//
// Every argument is validated before anything is sent (EID check digits, ICCID Luhn digit, OIDs, POL2
// rules, ValidityPeriod): a bad one is an *esimgw.ValidationError and no request leaves. A function that
// ran and failed is an *esimgw.FunctionError: errors.Is(err, esimgw.ErrFailed) or esimgw.ErrExpired (the
// eUICC could not be reached within the ValidityPeriod), with Subject, Reason, SubjectIdentifier and
// Message as the SM-SR sent them. EXECUTED_WITHWARNING is a success whose Result carries a Warning.
// Transport errors are retried with the very same message (MessageID and FunctionCallIdentifier), so a
// gateway that de-duplicates runs the function once.
//
// # KPN
//
// KPN serves AuditEIS, EnableProfile and SetFallBackAttribute on ES4, and sends HandleProfileEnabled and
// HandleProfileDisabled notifications; the other functions are available on request, and only for KPN's
// own RSP SIMs. An EnableProfile you requested produces no ProfileEnabled notification: take completion
// from the operation (docs/kpn.md R9). Use esimgw.WithCallProviderEntityID to name the profile vendor's OID per call
// (X-KPN-ProviderEntityId, docs/kpn.md R7).
package es4

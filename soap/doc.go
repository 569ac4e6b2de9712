// Package soap is the wire layer of esimgw: SOAP 1.2 envelopes with the WS-Addressing header block that
// GSMA SGP.02 requires (and SOAP 1.1 ones for JAX-WS peers on their default binding, see Version), written
// and read without reflection, and the HTTP client and handler that carry them over mutual TLS. Most applications use it only through packages es2 and es4; it is public for
// gateways' odd corners, for tests, and for tools that speak ES2/ES4 at a lower level.
//
// Writing:
//   - Header is the addressing block: From (an EntityAddress, with EntityId and the KPN parameters), To,
//     ReplyTo, MessageID (a GSMA MessageID from NewMessageID: sender OID, unique id, TransactionId and
//     MessageDate), Action and RelatesTo. AppendEnvelope appends a whole envelope with a body that has
//     an AppendXML method (every generated type of package wsdl/rps has one).
//   - A Fault is written with AppendEnvelope too (SenderFault, ReceiverFault, NewFault); a Fault knows
//     the HTTP status it goes with.
//   - UsernameToken adds an optional WS-Security header; no formatting of it or of a Client prints the
//     password.
//
// Reading:
//   - ReadMessage decodes an envelope: the header block, the name of the body element and, for a fault,
//     the Fault. The body is decoded on demand with Message.DecodeBody once the name says which type it
//     is. It reads SOAP 1.2 and SOAP 1.1 envelopes, WS-Addressing headers in the 2005/08 namespace, in
//     Njiwa's 2007/05 one or unqualified. It refuses DOCTYPE, over-deep or over-wide documents, bad UTF-8,
//     other envelope versions and unknown mustUnderstand headers with an *EnvelopeError whose Kind
//     errors.Is can test.
//   - Handler is the http.Handler for inbound envelopes (callbacks, notifications): it caps the body,
//     decodes it, hands the Message to a MessageHandler, and answers 202, a reply envelope, or a fault,
//     in the SOAP version the request came in.
//
// Calling:
//   - Client posts envelopes. It resends a request only when it cannot have been executed: never
//     completely written, or answered 503 (after its Retry-After); the very same bytes, so that MessageID
//     and FunctionCallIdentifier never change. Failures are *CallError, whose Outcome (NotSent, Refused,
//     OutcomeUnknown; errors.Is with ErrNotSent, ErrRefused, ErrOutcomeUnknown) says whether the peer may
//     have executed the request, wrapping *HTTPError, *Fault, *EnvelopeError, *TimeoutError or the
//     transport's error. A certificate failure is not retried; its message names the fix. A 2xx
//     whose envelope has an empty Body is an acceptance, like a 202 without a body. WithSOAPVersion(SOAP11)
//     speaks SOAP 1.1 (text/xml, SOAPAction) to gateways that know nothing else.
//   - By default it uses Transport: HTTP/1.1 keep-alive over the TLS configuration given with
//     WithTLSConfig (see package mtls), its reads and writes done on the caller's goroutine, never
//     following redirects. WithHTTPClient replaces it (httpmock in tests, a proxy set-up, your own
//     transport).
package soap

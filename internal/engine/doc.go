// Package engine is the machinery behind esimgw.Client that its users need not see:
//
//   - addresses and headers (engine.go): wsa:From with the entity parameters and wsa:To, built once by
//     New; per call, Prepare writes the MessageID (its TransactionId is the FunctionCallIdentifier), the
//     Action and the ReplyTo into the header and the FunctionCallIdentifier and ValidityPeriod into the
//     request's base, with KPN's fixed validity for SetFallBackAttribute (Validity);
//   - sending through the client's soap.Client (CallInto, Send) and filling the call's identifiers into a
//     *soap.CallError (FillCallError);
//   - checking and decoding an answer (CheckAnswer, DecodeAnswer): it must name the request, and its body
//     must be the function's response, in the schema's spelling or a Njiwa or ES3 one (CanonicalElement,
//     which the Dispatcher uses for callbacks too);
//   - telemetry (telemetry.go, inbound.go, links.go, wait.go): how a call is observed (its client span
//     and metrics) and how the Dispatcher's inbound spans and metrics continue the trace of the call a
//     callback answers, with the Wait spans of an operation in between.
//
// It speaks only in the types of the packages below the root (soap, wsdl/rps, correlate) and the
// OpenTelemetry API, never in the root package's: esimgw imports it, and it cannot import esimgw. What
// only the root knows stays there: validating arguments (the caller validates each value first; New
// returns a *FieldError the root reports as its *ValidationError), registering operations in the
// Dispatcher's Store, and naming a result or an error (a status and its code, the error.type of a local
// failure), which the root works out and hands to the telemetry as an Outcome. docs/telemetry.md lists
// every span, metric and attribute; docs/ARCHITECTURE.md says what this package may import, and
// TestArchitectureLayers holds it to that.
package engine

// Package engine is the machinery behind esimgw.Client that its users need not see: how a call is
// observed (its client span and metrics) and how the Dispatcher's inbound spans and metrics continue the
// trace of the call a callback answers, with the Wait spans of an operation in between.
//
// It speaks only in the types of the packages below the root (soap, wsdl/rps, correlate) and the
// OpenTelemetry API, never in the root package's: esimgw imports it, and it cannot import esimgw. What
// only the root knows, how a result or an error is named (a status, its code, the error.type of a local
// failure), the root works out and hands over as an Outcome. docs/telemetry.md lists every span, metric
// and attribute; docs/ARCHITECTURE.md says what this package may import, and TestArchitectureLayers holds
// it to that.
package engine

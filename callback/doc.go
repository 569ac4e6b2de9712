// Package callback is the HTTPS server that receives what a gateway posts to your replyTo address: the
// asynchronous results (callbacks) of your calls and the notifications it sends unasked. It decodes each
// SOAP envelope and hands it to a soap.MessageHandler, normally an *esimgw.Dispatcher, and answers the
// gateway only once the handler returned: 202 when the message was handed over, a SOAP fault (500) when the
// handler failed so that the gateway posts it again, 503 while shutting down.
//
// The server is secure by default: NewServer refuses a configuration that does not require and verify a
// client certificate (KPN requires mutual TLS on callbacks, docs/kpn.md) unless WithPlainHTTP or
// WithoutClientCertificates says so explicitly. Every wait is bounded (Timeouts), so is the body of one
// request (WithMaxBodyBytes) and of all requests in progress (WithMaxBodyBytesInFlight).
//
// NewHealthHandler serves /healthz and /readyz for a load balancer; Server.ReadinessCheck and PingCheck
// are the checks to give it. Mount it on a listener without client certificates.
package callback

// Package interop proves esimgw's wire format against SOAP stacks no one here wrote: Python zeep,
// node-soap and the JAX-WS reference implementation (Metro), each built from the repository's WSDLs
// (wsdl/*.wsdl) and nothing else.
//
// The suite is the test file peers_test.go behind the interop build tag; scripts/interop.sh installs the
// stacks (Debian python3-zeep, jaxws and libjaxws-java with the machine's OpenJDK; npm soap into
// interop/node/node_modules) and runs it:
//
//	bash scripts/interop.sh
//
// What it proves:
//
//   - zeep and node-soap clients call the mock gateway (gatewaytest): sync ES4-GetEIS and async
//     ES4-AuditEIS and ES4-EnableProfile, with nothing beyond wsa:From and wsa:ReplyTo supplied by hand;
//     the mock, as strict as a JAX-WS gateway, accepts every request, and the peers parse the answers and
//     the callbacks (with the operator-side WSDL's callback operations);
//   - node-soap and JAX-WS SM-SRs built from wsdl/ES4_SmSr.wsdl accept every ES4 request the es4 client
//     sends, and the es4 client decodes their answers;
//   - zeep, node-soap and JAX-WS notifiers built from wsdl/ES4_Mno.wsdl and wsdl/ES2_Mno.wsdl post
//     notifications to esimgw's callback.Server, each handed over once.
//
// The Go driver and the peer scripts share Config (a JSON file) and Event (JSON lines on the peer's
// stdout). Everything runs on loopback with mutual TLS from the mock's throw-away CA.
package interop

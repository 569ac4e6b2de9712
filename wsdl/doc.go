// Package wsdl holds esimgw's WSDL 1.1 and XSD description of the SGP.02 ES2 and ES4 interfaces, and
// the go:generate pipeline that turns it into the Go body types of package rps.
//
// The files were written by the esimgw project from the wire facts in docs/wire.md (element
// names, order and spelling, Action URIs); nothing is copied from GSMA or vendor files:
//
//   - xsd/euicc.common.types.xsd: EISType and its supporting types, POL2Type, SubscriptionAddressType,
//     ExecutionStatusType and the simple types;
//   - xsd/euicc.common.request.xsd: BaseRequestType, BaseResponseType, BaseNotificationType;
//   - xsd/euicc.request.ES2.xsd and xsd/euicc.request.ES4.xsd: the request, response and notification
//     elements, including the v4.0 SetFallBackAttribute function KPN serves (its XML is inferred and
//     marked so);
//   - ES2_SmDp.wsdl, ES4_SmSr.wsdl: the SM-DP and SM-SR services the operator calls (SOAP 1.2,
//     document/literal, wsam:Action on every operation);
//   - ES2_Mno.wsdl, ES4_Mno.wsdl: the operator-side services that receive async results (callbacks) and
//     notifications;
//   - rps.wsdl: a types-only WSDL (one schema including the ES2 and ES4 XSDs, no portTypes), the input of
//     gowsdl, which cannot handle SOAP 1.2 bindings.
//
// Regenerate with
//
//	go generate ./wsdl/...
//
// which runs gowsdl v0.5.0 (go tool gowsdl, pinned in go.mod), then internal/postprocess and
// internal/codecgen; see generate.go. Never edit rps/rps.go or rps/codec_gen.go by hand.
package wsdl

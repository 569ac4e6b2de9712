package soap

// Namespaces used on the wire (docs/wire.md sections 1-3).
const (
	// NSEnvelope is the SOAP 1.2 envelope namespace.
	NSEnvelope = "http://www.w3.org/2003/05/soap-envelope"
	// NSEnvelope11 is the SOAP 1.1 envelope namespace: JAX-WS peers on their default binding (Njiwa) use
	// it. Handler and ReadMessage accept it; Client sends it with WithSOAPVersion(SOAP11).
	NSEnvelope11 = "http://schemas.xmlsoap.org/soap/envelope/"
	// NSAddressing is WS-Addressing 1.0 (2005/08), the namespace SGP.02 peers send headers in.
	NSAddressing = "http://www.w3.org/2005/08/addressing"
	// NSAddressingMetadata is the 2007/05 metadata namespace Njiwa wrongly puts its headers in;
	// readers accept headers in it.
	NSAddressingMetadata = "http://www.w3.org/2007/05/addressing/metadata"
	// NSRPS is the GSMA body namespace of SGP.02 v3.x/v4.0 messages.
	NSRPS = "http://namespaces.gsma.org/esim-messaging/3"
	// NSRPSv1 is the older esim-messaging/1 namespace (Njiwa); readers accept it.
	NSRPSv1 = "http://namespaces.gsma.org/esim-messaging/1"
	// NSWSSecurity is the WS-Security 1.0 secext namespace.
	NSWSSecurity = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
	// NSWSSecurityUtility is the WS-Security 1.0 utility namespace (wsu:Created).
	NSWSSecurityUtility = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"

	// RelationshipReply is the default wsa:RelatesTo RelationshipType.
	RelationshipReply = "http://www.w3.org/2005/08/addressing/reply"
	// AddressAnonymous is the WS-Addressing anonymous address.
	AddressAnonymous = "http://www.w3.org/2005/08/addressing/anonymous"
)

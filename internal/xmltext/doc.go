// Package xmltext is the XML layer every esimgw decoder reaches the network through: a pull decoder over a
// whole document in memory, with namespaces resolved, and append-style escaping for writers.
//
// It exists because encoding/xml is reflective and allocates per token, which dominates the cost of a SOAP
// exchange, and because a decoder the network can reach must refuse what attackers send: DOCTYPE and entity
// declarations (ErrDoctype), nesting beyond a limit (ErrDepth), too many attributes (ErrAttrs), invalid
// UTF-8 or characters XML forbids (ErrEncoding), undefined entities (ErrEntity) and unbound prefixes
// (ErrNamespace). Every failure is an *Error with the byte offset; none panics.
//
// The decoder is a cursor over elements: Root positions on the document element, NextChild walks the
// children of the current element, Text, Skip and InnerXML consume the current element, and Save/Restore
// re-read a subtree (the envelope reader dispatches on the body element before the body is decoded).
// What the cursor returns is valid until its next call; String and Bytes copy values that must outlive
// that into memory of the Decoder's own that nothing writes again, so decoding many small values costs a
// few allocations rather than one each.
package xmltext

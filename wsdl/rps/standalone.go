package rps

import (
	"fmt"

	"github.com/esimgw/esimgw/internal/xmltext"
)

// Hand-written: an element as a document of its own, for what keeps a decoded body outside an envelope
// (a durable store of callback results) and reads it back in another process.

// MarshalElement encodes el as a standalone XML document (the rps prefix declared on el itself).
func MarshalElement(el Element) []byte {
	const decl = ` xmlns:rps="` + Namespace + `"`
	b := el.AppendXML(make([]byte, 0, 512))
	// <rps:Name ...> or <rps:Name> or <rps:Name/>: the declaration goes right after the name.
	end := len("<rps:") + len(el.ElementName())
	out := make([]byte, 0, len(b)+len(decl))
	out = append(out, b[:end]...)
	out = append(out, decl...)
	return append(out, b[end:]...)
}

// UnmarshalElement decodes a document MarshalElement wrote (or any document whose root is a known element
// in Namespace) into a new element of the right type.
func UnmarshalElement(data []byte) (Element, error) {
	d := xmltext.NewDecoder(data, xmltext.Limits{})
	if err := d.Root(); err != nil {
		return nil, err
	}
	name := string(d.Local())
	if string(d.Space()) != Namespace {
		return nil, fmt.Errorf("rps: root element {%s}%s is not in the GSMA namespace", d.Space(), name)
	}
	el, ok := NewElement(name)
	if !ok {
		return nil, fmt.Errorf("rps: unknown element %s", name)
	}
	if err := el.DecodeXML(d); err != nil {
		return nil, err
	}
	return el, nil
}

package rps_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/internal/xmltext"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// testTime has a fraction, so that the fraction path of DateTime is exercised everywhere.
var testTime = time.Date(2024, 5, 1, 10, 0, 41, 250000000, time.UTC)

// enumValue is a valid value of each enumeration, by Go type name.
func enumValue(typeName string) (string, bool) {
	switch typeName {
	case "StatusType":
		return string(rps.StatusTypeFAILED), true
	case "ProfileStateType":
		return string(rps.ProfileStateTypeEnabled), true
	case "SecurityDomainRoleType":
		return string(rps.SecurityDomainRoleTypeISDR), true
	case "KeysetTypeType":
		return string(rps.KeysetTypeTypeSCP80), true
	case "POL2SubjectType":
		return string(rps.POL2SubjectTypePROFILE), true
	case "POL2ActionType":
		return string(rps.POL2ActionTypeDISABLE), true
	case "POL2QualificationType":
		return string(rps.POL2QualificationTypeNotAllowed), true
	}
	return "", false
}

// stringFor returns a schema-valid value for a string field, chosen by its wire name.
func stringFor(wire string) string {
	switch {
	case wire == "Iccid":
		return "89310410106543789305"
	case wire == "Imsi":
		return "204080123456789"
	case wire == "Msisdn":
		return "31612345678"
	case strings.HasSuffix(wire, "Version"):
		return "2.1.0"
	case strings.HasSuffix(strings.ToLower(wire), "id") || wire == "Subject" || wire == "Reason":
		return "1.3.6.1.4.1.99999.20"
	}
	// Everything else is free text: make the escaper work.
	return "a&b <c> \"d\" 'e' \u00e9"
}

// hexFor returns a schema-valid value for a hexBinary field, chosen by its wire name.
func hexFor(wire string) rps.HexBinary {
	switch wire {
	case "Eid":
		return rps.HexBinary{0x89, 0x04, 0x90, 0x32, 0x12, 0x34, 0x51, 0x23, 0x45, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x35}
	case "Tar":
		return rps.HexBinary{0x00, 0x00, 0x01}
	case "OperationType":
		return rps.HexBinary{0x00, 0x0A}
	case "type":
		return rps.HexBinary{0x88}
	case "Sin", "Sdin":
		return rps.HexBinary{0x0A, 0x0B, 0xCD}
	}
	if strings.HasSuffix(strings.ToLower(wire), "aid") {
		return rps.HexBinary{0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x01, 0x00}
	}
	return rps.HexBinary{0xDE, 0xAD, 0xBE, 0xEF, 0x0F}
}

// populate fills every field of v (a pointer to a generated struct) with a schema-valid value, two
// entries per list, through reflection so that no field of any type is forgotten.
func populate(t testing.TB, v any) {
	t.Helper()
	fill(t, reflect.ValueOf(v).Elem(), "")
}

func fill(t testing.TB, v reflect.Value, wire string) {
	switch v.Type() {
	case reflect.TypeOf(rps.HexBinary(nil)):
		v.Set(reflect.ValueOf(hexFor(wire)))
		return
	case reflect.TypeOf(rps.DateTime{}):
		v.Set(reflect.ValueOf(rps.NewDateTime(testTime)))
		return
	case reflect.TypeOf(rps.RawXML{}):
		v.Set(reflect.ValueOf(rps.RawXML{Inner: []byte(`<ds:SignatureValue xmlns:ds="http://www.w3.org/2000/09/xmldsig#">QUJD</ds:SignatureValue>`)}))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			sf := v.Type().Field(i)
			if sf.Name == "XMLName" {
				continue
			}
			name, _, _ := strings.Cut(sf.Tag.Get("xml"), ",")
			fill(t, v.Field(i), name)
		}
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(t, p.Elem(), wire)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := 0; i < 2; i++ {
			fill(t, s.Index(i), wire)
		}
		v.Set(s)
	case reflect.String:
		if ev, ok := enumValue(v.Type().Name()); ok {
			v.SetString(ev)
		} else {
			v.SetString(stringFor(wire))
		}
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int32:
		v.SetInt(7)
	case reflect.Uint64:
		v.SetUint(42)
	default:
		t.Fatalf("populate: unhandled kind %s for %s (%s)", v.Kind(), wire, v.Type())
	}
}

// populated returns a fully populated new element.
func populated(t testing.TB, name string) rps.Element {
	t.Helper()
	el, ok := rps.NewElement(name)
	require.True(t, ok, name)
	populate(t, el)
	return el
}

// document wraps an element's encoding into a standalone document by declaring the rps prefix on it, as
// the envelope writer does on env:Envelope.
func document(body []byte) []byte {
	s := string(body)
	end := strings.IndexAny(s, " >")
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + s[:end] + ` xmlns:rps="` + rps.Namespace + `"` + s[end:] + "\n")
}

// decode decodes a standalone document into a new element of the same type as like.
func decode(t testing.TB, data []byte, into rps.Element) error {
	t.Helper()
	d := xmltext.NewDecoder(data, xmltext.Limits{})
	require.NoError(t, d.Root())
	return into.DecodeXML(d)
}

// canonical is an XML tree reduced to what matters: namespace URI, local name, attributes, trimmed text
// and children, in order. Prefixes do not matter.
type canonical struct {
	Space, Local string
	Attrs        []string
	Text         string
	Kids         []canonical
}

func canon(e *etree.Element) canonical {
	c := canonical{Space: e.NamespaceURI(), Local: e.Tag, Text: strings.TrimSpace(e.Text())}
	for _, a := range e.Attr {
		if a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns") {
			continue
		}
		c.Attrs = append(c.Attrs, a.NamespaceURI()+" "+a.Key+"="+a.Value)
	}
	for _, k := range e.ChildElements() {
		c.Kids = append(c.Kids, canon(k))
	}
	return c
}

func canonOf(t testing.TB, data []byte) canonical {
	t.Helper()
	doc := etree.NewDocument()
	require.NoError(t, doc.ReadFromBytes(data))
	require.NotNil(t, doc.Root())
	return canon(doc.Root())
}

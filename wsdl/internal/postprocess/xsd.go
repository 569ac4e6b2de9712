package main

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The XSD model the post-processor needs: what gowsdl v0.5.0 throws away (minOccurs, maxOccurs other than
// "unbounded", the maxOccurs of a choice, attribute use, documentation of elements and types).

const nsXSD = "http://www.w3.org/2001/XMLSchema"

// node is a generic XML element tree, so that the schema's children are seen in document order (the
// order of xs:element and xs:choice inside a sequence matters).
type node struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Kids    []node     `xml:",any"`
	Text    string     `xml:",chardata"`
}

func (n *node) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

func (n *node) is(local string) bool { return n.XMLName.Space == nsXSD && n.XMLName.Local == local }

// doc is the text of the node's xs:annotation/xs:documentation, white space collapsed.
func (n *node) doc() string {
	for i := range n.Kids {
		a := &n.Kids[i]
		if !a.is("annotation") {
			continue
		}
		for j := range a.Kids {
			if a.Kids[j].is("documentation") {
				return strings.Join(strings.Fields(a.Kids[j].Text), " ")
			}
		}
	}
	return ""
}

// xsdField is one child element or attribute of a complex type, in schema order.
type xsdField struct {
	Name     string // as on the wire
	Type     string // QName as written, e.g. "xs:boolean", "rps:EIDType"
	Min, Max int    // Max < 0: unbounded
	Attr     bool
	Doc      string
	InChoice bool // member of an xs:choice
}

// xsdComplex is a named complex type or the anonymous type of a global element.
type xsdComplex struct {
	Name    string // XSD name
	Global  bool   // a global element
	Base    string // extension base QName, "" if none
	Fields  []xsdField
	Doc     string
	AnyOnly bool // content is xs:any only (the opaque signature)
	File    string
}

type xsdSimple struct {
	Name  string
	Base  string // QName of the restriction base
	Enum  bool
	Doc   string
	Index int
}

type model struct {
	complexes []xsdComplex
	simples   []xsdSimple
}

func (m *model) complexByGoName(goName string) (*xsdComplex, bool) {
	for i := range m.complexes {
		if gowsdlTypeName(m.complexes[i].Name) == goName {
			return &m.complexes[i], true
		}
	}
	return nil, false
}

func (m *model) simple(name string) (*xsdSimple, bool) {
	for i := range m.simples {
		if m.simples[i].Name == name {
			return &m.simples[i], true
		}
	}
	return nil, false
}

func (m *model) simpleByGoName(goName string) (*xsdSimple, bool) {
	for i := range m.simples {
		if gowsdlTypeName(m.simples[i].Name) == goName {
			return &m.simples[i], true
		}
	}
	return nil, false
}

func (m *model) isComplex(name string) bool {
	for i := range m.complexes {
		if !m.complexes[i].Global && m.complexes[i].Name == name {
			return true
		}
	}
	return false
}

// loadModel reads the schema files named and, recursively, what they include (each file once).
func loadModel(files []string) (*model, error) {
	m := &model{}
	seen := map[string]bool{}
	var load func(path string) error
	load = func(path string) error {
		abs, err := filepath.Abs(path)
		if err != nil {
			return err
		}
		if seen[abs] {
			return nil
		}
		seen[abs] = true
		data, err := os.ReadFile(abs)
		if err != nil {
			return err
		}
		var root node
		if err := xml.Unmarshal(data, &root); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if !root.is("schema") {
			return fmt.Errorf("%s: not an xs:schema", path)
		}
		for i := range root.Kids {
			k := &root.Kids[i]
			switch {
			case k.is("include"):
				if err := load(filepath.Join(filepath.Dir(abs), k.attr("schemaLocation"))); err != nil {
					return err
				}
			case k.is("simpleType"):
				s := xsdSimple{Name: k.attr("name"), Doc: k.doc(), Index: len(m.simples)}
				for j := range k.Kids {
					r := &k.Kids[j]
					if r.is("restriction") {
						s.Base = r.attr("base")
						for _, e := range r.Kids {
							if e.is("enumeration") {
								s.Enum = true
							}
						}
					}
				}
				m.simples = append(m.simples, s)
			case k.is("complexType"):
				c, err := complexOf(k, k.attr("name"), false)
				if err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
				c.File = filepath.Base(path)
				m.complexes = append(m.complexes, c)
			case k.is("element"):
				var ct *node
				for j := range k.Kids {
					if k.Kids[j].is("complexType") {
						ct = &k.Kids[j]
					}
				}
				if ct == nil {
					return fmt.Errorf("%s: global element %s has no anonymous complex type", path, k.attr("name"))
				}
				c, err := complexOf(ct, k.attr("name"), true)
				if err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
				c.Doc = k.doc()
				c.File = filepath.Base(path)
				m.complexes = append(m.complexes, c)
			}
		}
		return nil
	}
	for _, f := range files {
		if err := load(f); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func complexOf(ct *node, name string, global bool) (xsdComplex, error) {
	c := xsdComplex{Name: name, Global: global, Doc: ct.doc()}
	var walk func(n *node, inChoice bool, choiceMax int) error
	walk = func(n *node, inChoice bool, choiceMax int) error {
		for i := range n.Kids {
			k := &n.Kids[i]
			switch {
			case k.is("sequence"):
				if err := walk(k, inChoice, choiceMax); err != nil {
					return err
				}
			case k.is("choice"):
				mx, err := occurs(k.attr("maxOccurs"))
				if err != nil {
					return err
				}
				if err := walk(k, true, mx); err != nil {
					return err
				}
			case k.is("complexContent"):
				for j := range k.Kids {
					if k.Kids[j].is("extension") {
						c.Base = k.Kids[j].attr("base")
						if err := walk(&k.Kids[j], false, 1); err != nil {
							return err
						}
					}
				}
			case k.is("any"):
				c.AnyOnly = true
			case k.is("element"):
				mn, err := occurs(k.attr("minOccurs"))
				if err != nil {
					return err
				}
				mx, err := occurs(k.attr("maxOccurs"))
				if err != nil {
					return err
				}
				if k.attr("type") == "" {
					return fmt.Errorf("%s/%s: local element without a type", name, k.attr("name"))
				}
				f := xsdField{Name: k.attr("name"), Type: k.attr("type"), Min: mn, Max: mx, Doc: k.doc()}
				if inChoice {
					// A member of a repeating choice may occur as often as the choice does, and each member
					// may be absent.
					f.InChoice, f.Min = true, 0
					if choiceMax < 0 || choiceMax > 1 {
						f.Max = choiceMax
					}
				}
				c.Fields = append(c.Fields, f)
			case k.is("attribute"):
				f := xsdField{Name: k.attr("name"), Type: k.attr("type"), Min: 0, Max: 1, Attr: true, Doc: k.doc()}
				if k.attr("use") == "required" {
					f.Min = 1
				}
				c.Fields = append(c.Fields, f)
			}
		}
		return nil
	}
	return c, walk(ct, false, 1)
}

func occurs(s string) (int, error) {
	switch s {
	case "":
		return 1, nil
	case "unbounded":
		return -1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad occurrence %q", s)
	}
	return n, nil
}

// gowsdlTypeName reproduces gowsdl's naming of types: characters other than letters, digits and '_' are
// dropped ('.' becomes '_'), then the first letter is upper-cased.
func gowsdlTypeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '.':
			b.WriteRune('_')
		case r == '_' || ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z'):
			b.WriteRune(r)
		}
	}
	out := b.String()
	if out != "" && 'a' <= out[0] && out[0] <= 'z' {
		out = string(out[0]-'a'+'A') + out[1:]
	}
	return out
}

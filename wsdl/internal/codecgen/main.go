// Command codecgen reads the post-processed rps/rps.go and writes rps/codec_gen.go: reflection-free
// append-encoders and xmltext decoders for every struct type, ElementName for global elements and
// NewElement. It relies only on the struct shapes the post-processor produces (see its package comment):
// the xml tag gives the wire name, ",attr" and ",omitempty"; the Go type gives the codec.
//
// Usage (from wsdl/, see generate.go):
//
//	go run ./internal/codecgen -in rps/rps.go -out rps/codec_gen.go
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"strconv"
	"strings"

	"github.com/esimgw/esimgw/internal/xmltext"
)

func main() {
	in := flag.String("in", "rps/rps.go", "post-processed types")
	out := flag.String("out", "rps/codec_gen.go", "generated codec")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "codecgen:", err)
		os.Exit(1)
	}
}

// kind is how a scalar is written and read.
type kind int

const (
	kString kind = iota // string or a string-based enumeration
	kBool
	kHex
	kDateTime
	kUint // PositiveInteger, NonNegativeInteger
	kInt32
	kRaw
	kStruct
)

type field struct {
	goName string
	wire   string
	attr   bool
	omit   bool
	typ    string // element Go type name, without * or []
	kind   kind
	ptr    bool
	slice  bool
	enum   bool
}

// enumConst is a constant of an enumerated string type.
type enumConst struct{ name, value string }

type structInfo struct {
	name    string
	element string // global element name, "" for complex types
	base    string // embedded base type, "" if none
	fields  []field
}

func run(in, out string) error {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, in, nil, 0)
	if err != nil {
		return err
	}
	enums := map[string]bool{}
	consts := map[string][]enumConst{} // by enumeration type
	var structs []*structInfo
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if ok && gd.Tok == token.CONST {
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				id, _ := vs.Type.(*ast.Ident)
				if id == nil || len(vs.Names) != 1 || len(vs.Values) != 1 {
					continue
				}
				if bl, ok := vs.Values[0].(*ast.BasicLit); ok && bl.Kind == token.STRING {
					value, err := strconv.Unquote(bl.Value)
					if err != nil {
						return err
					}
					consts[id.Name] = append(consts[id.Name], enumConst{vs.Names[0].Name, value})
				}
			}
		}
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, spec := range gd.Specs {
			ts := spec.(*ast.TypeSpec)
			switch t := ts.Type.(type) {
			case *ast.Ident:
				if t.Name == "string" {
					enums[ts.Name.Name] = true
				}
			case *ast.StructType:
				structs = append(structs, &structInfo{name: ts.Name.Name})
			}
		}
	}
	isStruct := map[string]bool{}
	for _, s := range structs {
		isStruct[s.name] = true
	}
	i := 0
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, spec := range gd.Specs {
			ts := spec.(*ast.TypeSpec)
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				continue
			}
			s := structs[i]
			i++
			for _, fl := range st.Fields.List {
				if len(fl.Names) == 0 {
					id, ok := fl.Type.(*ast.Ident)
					if !ok || !isStruct[id.Name] {
						return fmt.Errorf("%s: unsupported embedded field", s.name)
					}
					s.base = id.Name
					continue
				}
				tag := ""
				if fl.Tag != nil {
					tag, _ = strconv.Unquote(fl.Tag.Value)
				}
				xt := reflect.StructTag(tag).Get("xml")
				if fl.Names[0].Name == "XMLName" {
					space, local, ok := strings.Cut(xt, " ")
					if !ok || space != "http://namespaces.gsma.org/esim-messaging/3" {
						return fmt.Errorf("%s: unexpected XMLName tag %q", s.name, xt)
					}
					s.element = local
					continue
				}
				wire, opts, _ := strings.Cut(xt, ",")
				fd := field{goName: fl.Names[0].Name, wire: wire, attr: strings.Contains(opts, "attr"), omit: strings.Contains(opts, "omitempty")}
				t := fl.Type
				if a, ok := t.(*ast.ArrayType); ok {
					fd.slice, t = true, a.Elt
				}
				if p, ok := t.(*ast.StarExpr); ok {
					fd.ptr, t = true, p.X
				}
				id, ok := t.(*ast.Ident)
				if !ok {
					return fmt.Errorf("%s.%s: unsupported type", s.name, fd.goName)
				}
				fd.typ = id.Name
				switch {
				case id.Name == "string":
					fd.kind = kString
				case enums[id.Name]:
					fd.kind, fd.enum = kString, true
				case id.Name == "bool":
					fd.kind = kBool
				case id.Name == "HexBinary":
					fd.kind = kHex
				case id.Name == "DateTime":
					fd.kind = kDateTime
				case id.Name == "PositiveInteger" || id.Name == "NonNegativeInteger":
					fd.kind = kUint
				case id.Name == "int32":
					fd.kind = kInt32
				case id.Name == "RawXML":
					fd.kind = kRaw
				case isStruct[id.Name]:
					fd.kind = kStruct
				default:
					return fmt.Errorf("%s.%s: unsupported type %s", s.name, fd.goName, id.Name)
				}
				if fd.attr && (fd.kind == kStruct || fd.kind == kRaw || fd.slice || fd.ptr) {
					return fmt.Errorf("%s.%s: unsupported attribute type", s.name, fd.goName)
				}
				if fd.slice && fd.ptr {
					return fmt.Errorf("%s.%s: slices of pointers are not produced by postprocess", s.name, fd.goName)
				}
				s.fields = append(s.fields, fd)
			}
		}
	}
	if err := checkChildNames(structs); err != nil {
		return err
	}
	code := generate(structs, consts)
	formatted, err := format.Source(code)
	if err != nil {
		return fmt.Errorf("format: %w\n%s", err, code)
	}
	if old, err := os.ReadFile(out); err == nil && bytes.Equal(old, formatted) {
		return nil
	}
	return os.WriteFile(out, formatted, 0o644)
}

// checkChildNames makes sure that no two children of a type (its bases' included) have names equal but
// for case, which childIndex's exact-then-folded matching would otherwise order differently from a
// case-insensitive comparison in schema order.
func checkChildNames(structs []*structInfo) error {
	byName := map[string]*structInfo{}
	for _, s := range structs {
		byName[s.name] = s
	}
	for _, s := range structs {
		if b := byName[s.base]; b != nil {
			for _, f := range b.fields {
				if f.slice && !f.attr {
					return fmt.Errorf("%s: base %s has repeated children, which only the base's own decodeXML collects", s.name, b.name)
				}
			}
		}
		seen := map[string]string{}
		for t := s; t != nil; t = byName[t.base] {
			for _, f := range t.fields {
				if f.attr {
					continue
				}
				key := strings.ToLower(f.wire)
				if other, ok := seen[key]; ok {
					return fmt.Errorf("%s: children %s and %s differ only in case", s.name, other, f.wire)
				}
				seen[key] = f.wire
			}
			if t.base == "" {
				break
			}
		}
	}
	return nil
}

type gen struct {
	bytes.Buffer
	byName map[string]*structInfo
	flush  bool // the decodeXML being written keeps repeated children in p, to store before it returns
}

func (g *gen) p(format string, args ...any) { fmt.Fprintf(&g.Buffer, format, args...) }

func generate(structs []*structInfo, consts map[string][]enumConst) []byte {
	g := &gen{byName: map[string]*structInfo{}}
	for _, s := range structs {
		g.byName[s.name] = s
	}
	g.p("// Code generated by wsdl/internal/codecgen from rps.go. DO NOT EDIT.\n\n")
	g.p("package rps\n\n")
	g.p("import (\n\t\"strconv\"\n\n\t\"github.com/esimgw/esimgw/internal/xmltext\"\n)\n\n")
	for _, s := range structs {
		g.structCodec(s)
	}
	g.newElement(structs)
	g.enumDecoders(structs, consts)
	return g.Bytes()
}

// enumDecoders writes, for every enumeration a field uses, a decoder that returns the constant a value
// spells: the common case then costs neither a copy nor arena room. Other values are kept as received.
func (g *gen) enumDecoders(structs []*structInfo, consts map[string][]enumConst) {
	done := map[string]bool{}
	for _, s := range structs {
		for _, f := range s.fields {
			if !f.enum || done[f.typ] {
				continue
			}
			done[f.typ] = true
			g.p("// decode%s returns t as a %s: one of its constants when t spells one, else a copy.\n", f.typ, f.typ)
			g.p("func decode%s(d *xmltext.Decoder, t []byte) %s {\n", f.typ, f.typ)
			if cs := consts[f.typ]; len(cs) > 0 {
				g.p("switch string(t) {\n")
				for _, c := range cs {
					g.p("case %s:\nreturn %s\n", lit(c.value), c.name)
				}
				g.p("}\n")
			}
			g.p("return %s(d.String(t))\n}\n\n", f.typ)
		}
	}
}

// lit is a Go string literal of s.
func lit(s string) string { return strconv.Quote(s) }

func (g *gen) structCodec(s *structInfo) {
	name := s.element
	if name == "" {
		name = s.name
	}
	if s.element != "" {
		g.p("// ElementName returns %q.\n", s.element)
		g.p("func (v *%s) ElementName() string { return %s }\n\n", s.name, lit(s.element))
		g.p("// AppendXML appends v as <rps:%s>, children in XSD order.\n", s.element)
		g.p("func (v *%s) AppendXML(b []byte) []byte { return v.AppendElement(b, %s) }\n\n", s.name, lit(s.element))
	}
	// AppendElement: start tag with attributes, content, end tag.
	g.p("// AppendElement appends v as an element named rps:local.\n")
	g.p("func (v *%s) AppendElement(b []byte, local string) []byte {\n", s.name)
	g.p("b = append(b, \"<rps:\"...)\nb = append(b, local...)\n")
	for _, f := range s.fields {
		if f.attr {
			g.appendAttr(f)
		}
	}
	g.p("b = append(b, '>')\n")
	g.p("b = v.appendContent(b)\n")
	g.p("b = append(b, \"</rps:\"...)\nb = append(b, local...)\nreturn append(b, '>')\n}\n\n")

	g.p("func (v *%s) appendContent(b []byte) []byte {\n", s.name)
	if s.base != "" {
		g.p("b = v.%s.appendContent(b)\n", s.base)
	}
	for _, f := range s.fields {
		if !f.attr {
			g.appendChild(f)
		}
	}
	g.p("return b\n}\n\n")

	// Decoding.
	g.p("// DecodeXML decodes the element d is positioned on into v, replacing v's contents, and consumes its\n")
	g.p("// end tag. Children are matched by local name in any case and namespace; unknown ones are skipped.\n")
	g.p("func (v *%s) DecodeXML(d *xmltext.Decoder) error {\n*v = %s{}\nreturn v.decodeXML(d, %s)\n}\n\n", s.name, s.name, lit(name))

	// A child's index is its place among the type's children, its bases' first (the order the schema,
	// and so the wire, gives them). The bases' children are decoded in the same switch as the type's
	// own, through the embedded field: one loop and no call per child.
	all := g.children(s.name)
	var repeated []field
	for _, c := range all {
		if c.f.slice {
			repeated = append(repeated, c.f)
		}
	}
	if len(repeated) > 0 {
		// Repeated children wait on decodeXML's stack until the end tag (pending in types.go).
		g.p("// pending%s holds the repeated children of a %s being decoded.\n", s.name, s.name)
		g.p("type pending%s struct {\n", s.name)
		for _, f := range repeated {
			g.p("%s pending[%s]\n", f.goName, f.typ)
		}
		g.p("}\n\n")
		g.p("func (p *pending%s) flush(v *%s) {\n", s.name, s.name)
		for _, f := range repeated {
			g.p("v.%s = p.%s.flush(v.%s)\n", f.goName, f.goName, f.goName)
		}
		g.p("}\n\n")
	}
	// ret returns err from decodeXML, with the repeated children collected so far stored first.
	g.flush = len(repeated) > 0

	g.p("func (v *%s) decodeXML(d *xmltext.Decoder, elem string) error {\n", s.name)
	for _, f := range s.fields {
		if f.attr {
			g.decodeAttr(f)
		}
	}
	if len(all) == 0 {
		g.p("for {\nok, err := d.NextChild()\nif err != nil || !ok {\nreturn err\n}\n")
		g.p("if err := d.Skip(); err != nil {\nreturn err\n}\n}\n}\n\n")
		return
	}
	leaves := false
	for _, c := range all {
		leaves = leaves || c.f.leaf()
	}
	// The loop: NextChildIn finds a child written as the schema has it by its index, without reading its
	// name, and reads a leaf's text with it; any other (another case, another prefix) is found by
	// childOf, and its text read here; an unknown one is skipped.
	if g.flush {
		g.p("var p pending%s\n", s.name)
	}
	g.p("hint := 0\nfor {\n")
	t := "_"
	if leaves {
		t = "t"
	}
	g.p("ok, i, %s, err := d.NextChildIn(childrenOf%s[:], hint)\n", t, s.name)
	g.p("if err != nil || !ok {\n")
	g.ret("err")
	g.p("}\nif i < 0 {\nif i = childOf%s(d.Local()); i < 0 {\nif err := d.Skip(); err != nil {\n", s.name)
	g.ret("err")
	g.p("}\ncontinue\n}\n")
	if leaves {
		g.p("if childrenOf%s[i].Leaf {\nif t, err = d.Text(); err != nil {\n", s.name)
		g.ret("err")
		g.p("}\n}\n")
	}
	g.p("}\nhint = i\nswitch i {\n")
	for i, c := range all {
		g.p("case %d:\n", i)
		g.decodeChildField(c.f, c.sel)
	}
	g.p("}\n}\n}\n\n")
	g.childIndex(s.name, all)
}

// child is a child element of a type and the selector of its field, through the embedded bases it is
// one of.
type child struct {
	f   field
	sel string
}

// ret writes a return of err from decodeXML.
func (g *gen) ret(err string) {
	if g.flush {
		g.p("p.flush(v)\n")
	}
	g.p("return %s\n", err)
}

// leaf reports whether the field is a child element with simple content, read by Text.
func (f field) leaf() bool { return !f.attr && f.kind != kStruct && f.kind != kRaw }

// children is the child elements of the type named name, its bases' first: the order of their indexes.
func (g *gen) children(name string) []child {
	s := g.byName[name]
	if s == nil {
		return nil
	}
	var all []child
	for _, c := range g.children(s.base) {
		c.sel = s.base + "." + c.sel
		all = append(all, c)
	}
	for _, f := range s.fields {
		if !f.attr {
			all = append(all, child{f, f.goName})
		}
	}
	return all
}

// childIndex writes childrenOf<type>, the table NextChildIn matches children by (see xmltext.Child), and
// childOf<type>, which maps a child's local name to its index in children: one string switch for names
// spelt as in the schema, then a case-insensitive comparison with each (peers vary the case). Matching is
// as if each name were compared ignoring case in order, which requires that no two names differ only in
// case: run checks.
func (g *gen) childIndex(name string, children []child) {
	g.p("// childrenOf%s is the %s children, in schema order, for NextChildIn.\n", name, name)
	g.p("var childrenOf%s = [...]xmltext.Child{\n", name)
	for _, c := range children {
		x := xmltext.NewChild(c.f.wire, c.f.leaf())
		g.p("{Local: %s, Word: [4]uint64{%#x, %#x, %#x, %#x}, Mask: [4]uint64{%#x, %#x, %#x, %#x}", lit(x.Local),
			x.Word[0], x.Word[1], x.Word[2], x.Word[3], x.Mask[0], x.Mask[1], x.Mask[2], x.Mask[3])
		if x.Leaf {
			g.p(", Leaf: true")
		}
		g.p("},\n")
	}
	g.p("}\n\n")
	g.p("// childOf%s is the index of the %s child named local, ignoring ASCII case, or -1.\n", name, name)
	g.p("func childOf%s(local []byte) int {\nswitch string(local) {\n", name)
	for i, c := range children {
		g.p("case %s:\nreturn %d\n", lit(c.f.wire), i)
	}
	g.p("}\nswitch {\n")
	for i, c := range children {
		g.p("case xmltext.EqualFold(local, %s):\nreturn %d\n", lit(c.f.wire), i)
	}
	g.p("}\nreturn -1\n}\n\n")
}

func (g *gen) appendAttr(f field) {
	v := "v." + f.goName
	open := lit(" " + f.wire + "=\"")
	cond := zeroCheck(f, v)
	if f.omit && cond != "" {
		g.p("if %s {\n", cond)
	}
	g.p("b = append(b, %s...)\n", open)
	g.p("%s\n", appendScalar(f, v, true))
	g.p("b = append(b, '\"')\n")
	if f.omit && cond != "" {
		g.p("}\n")
	}
}

// zeroCheck is the condition under which an optional scalar is written.
func zeroCheck(f field, v string) string {
	switch f.kind {
	case kString:
		return v + ` != ""`
	case kHex:
		return "len(" + v + ") != 0"
	case kUint, kInt32:
		return v + " != 0"
	case kBool:
		return v
	case kDateTime:
		return "!" + v + ".IsZero()"
	case kRaw:
		return "len(" + v + ".Inner) != 0"
	}
	return ""
}

func appendScalar(f field, v string, attr bool) string {
	switch f.kind {
	case kString:
		fn := "AppendText"
		if attr {
			fn = "AppendAttr"
		}
		if f.enum {
			return fmt.Sprintf("b = xmltext.%s(b, string(%s))", fn, v)
		}
		return fmt.Sprintf("b = xmltext.%s(b, %s)", fn, v)
	case kBool:
		return fmt.Sprintf("b = strconv.AppendBool(b, %s)", v)
	case kHex:
		return fmt.Sprintf("b = appendHex(b, %s)", v)
	case kDateTime:
		return fmt.Sprintf("b = appendDateTime(b, %s)", v)
	case kUint:
		return fmt.Sprintf("b = appendUint(b, uint64(%s))", v)
	case kInt32:
		return fmt.Sprintf("b = strconv.AppendInt(b, int64(%s), 10)", v)
	case kRaw:
		return fmt.Sprintf("b = append(b, %s.Inner...)", v)
	}
	return fmt.Sprintf("b = %s.AppendElement(b, %s)", v, lit(f.wire)) // kStruct
}

func (g *gen) appendOne(f field, v string) {
	if f.kind == kStruct {
		g.p("b = %s.AppendElement(b, %s)\n", v, lit(f.wire))
		return
	}
	g.p("b = append(b, %s...)\n", lit("<rps:"+f.wire+">"))
	g.p("%s\n", appendScalar(f, v, false))
	g.p("b = append(b, %s...)\n", lit("</rps:"+f.wire+">"))
}

func (g *gen) appendChild(f field) {
	v := "v." + f.goName
	switch {
	case f.slice:
		g.p("for i := range %s {\n", v)
		g.appendOne(f, v+"[i]")
		g.p("}\n")
	case f.ptr:
		g.p("if %s != nil {\n", v)
		if f.kind == kStruct {
			g.appendOne(f, v)
		} else {
			g.appendOne(f, "*"+v)
		}
		g.p("}\n")
	case f.omit:
		cond := zeroCheck(f, v)
		if cond == "" {
			g.appendOne(f, v)
			return
		}
		g.p("if %s {\n", cond)
		g.appendOne(f, v)
		g.p("}\n")
	default:
		g.appendOne(f, v)
	}
}

// parseInto writes code that parses text t into dst, of the field's scalar type, returning a FieldError
// from decodeXML on failure.
func (g *gen) parseInto(f field, dst string, isAttr bool) {
	fe := fmt.Sprintf("fieldError(elem, %s, t, err)", lit(f.wire))
	fail := func() {
		g.p("if err != nil {\n")
		if isAttr {
			g.p("return %s\n", fe)
		} else {
			g.ret(fe)
		}
		g.p("}\n")
	}
	switch f.kind {
	case kString:
		// Strings and hexBinary bytes are carved from the decoder's arena: one allocation per chunk of
		// values, not one per value.
		if f.enum {
			g.p("%s = decode%s(d, t)\n", dst, f.typ)
		} else {
			g.p("%s = d.String(t)\n", dst)
		}
		return
	case kBool:
		g.p("x, err := parseBool(t)\n")
	case kHex:
		g.p("x, err := decodeHex(d, t)\n")
	case kDateTime:
		g.p("x, err := parseDateTime(t)\n")
	case kUint:
		g.p("x, err := parseUint(t)\n")
	case kInt32:
		g.p("x, err := parseInt32(t)\n")
	}
	fail()
	switch f.kind {
	case kDateTime:
		g.p("%s = DateTime{x}\n", dst)
	case kUint:
		g.p("%s = %s(x)\n", dst, f.typ)
	default:
		g.p("%s = x\n", dst)
	}
}

func (g *gen) decodeAttr(f field) {
	g.p("if t, ok := d.Attr(\"\", %s); ok {\n", lit(f.wire))
	g.parseInto(f, "v."+f.goName, true)
	g.p("}\n")
}

// decodeChildField writes the case of decodeXML's switch that decodes child f into the field v.sel: a
// leaf from its text t (already read), others from d.
func (g *gen) decodeChildField(f field, sel string) {
	v := "v." + sel
	switch f.kind {
	case kStruct:
		call := v + ".decodeXML"
		switch {
		case f.slice:
			call = fmt.Sprintf("p.%s.next(&%s).decodeXML", f.goName, v)
		case f.ptr:
			g.p("if %s == nil {\n%s = new(%s)\n}\n", v, v, f.typ)
		}
		g.p("if err := %s(d, %s); err != nil {\n", call, lit(f.wire))
		g.ret("err")
		g.p("}\n")
		return
	case kRaw:
		g.p("inner, err := d.InnerXML()\nif err != nil {\n")
		g.ret("err")
		g.p("}\n%s.Inner = d.Bytes(len(inner))\ncopy(%s.Inner, inner)\n", v, v)
		return
	}
	switch {
	case f.slice:
		g.p("{\nvar e %s\n", f.typ)
		g.parseInto(f, "e", false)
		g.p("*p.%s.next(&%s) = e\n}\n", f.goName, v)
	case f.ptr:
		g.p("{\nvar e %s\n", f.typ)
		g.parseInto(f, "e", false)
		g.p("%s = &e\n}\n", v)
	default:
		g.parseInto(f, v, false)
	}
}

func (g *gen) newElement(structs []*structInfo) {
	g.p("// NewElement returns a new zero value of the global element named localName: an exact match first,\n")
	g.p("// then one ignoring ASCII case. The callback dispatcher uses it to decode bodies by element name.\n")
	g.p("func NewElement(localName string) (Element, bool) {\nswitch localName {\n")
	var names []string
	for _, s := range structs {
		if s.element != "" {
			g.p("case %s:\nreturn new(%s), true\n", lit(s.element), s.name)
			names = append(names, s.element)
		}
	}
	g.p("}\n")
	g.p("names := [...]string{\n")
	for _, n := range names {
		g.p("%s,\n", lit(n))
	}
	g.p("}\nfor _, n := range names {\nif xmltext.EqualFold(n, localName) {\nreturn NewElement(n)\n}\n}\nreturn nil, false\n}\n\n")
	g.p("// ElementNames returns the local names of all global elements, in schema order.\n")
	g.p("func ElementNames() []string {\nreturn []string{\n")
	for _, n := range names {
		g.p("%s,\n", lit(n))
	}
	g.p("}\n}\n")
}

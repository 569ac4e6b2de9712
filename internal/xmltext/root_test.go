package xmltext

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// refRoot is Root as it was before indexDeclEnd and startPlain: bytes.Index for the declaration's end,
// skipMarkup before every start tag, startElement for the root's. Root must agree with it on every input.
func (d *Decoder) refRoot() error {
	if !d.checked {
		if off, err := checkChars(d.data); err != nil {
			return &Error{Offset: off, Kind: ErrEncoding, Detail: err.Error()}
		}
		d.checked = true
	}
	d.pos = 0
	if bytes.HasPrefix(d.data, []byte{0xEF, 0xBB, 0xBF}) {
		d.pos = 3
	}
	if bytes.HasPrefix(d.data[d.pos:], []byte("<?xml")) && len(d.data) > d.pos+5 && isSpace(d.data[d.pos+5]) {
		end := bytes.Index(d.data[d.pos:], []byte("?>"))
		if end < 0 {
			return d.errf(ErrSyntax, "unterminated XML declaration")
		}
		if err := refCheckDeclEncoding(d.data[d.pos : d.pos+end]); err != nil {
			return d.errf(ErrEncoding, "%v", err)
		}
		d.pos += end + 2
	}
	for {
		d.skipSpace()
		if d.pos >= len(d.data) {
			return d.errf(ErrStructure, "no root element")
		}
		if d.data[d.pos] != '<' {
			return d.errf(ErrSyntax, "text before the root element")
		}
		ok, err := d.skipMarkup()
		if err != nil {
			return err
		}
		if !ok {
			return d.startElement()
		}
	}
}

// refCheckDeclEncoding is checkDeclEncoding with bytes.TrimLeft.
func refCheckDeclEncoding(decl []byte) error {
	i := bytes.Index(decl, []byte("encoding"))
	if i < 0 {
		return nil
	}
	rest := bytes.TrimLeft(decl[i+len("encoding"):], " \t\r\n=")
	if len(rest) == 0 {
		return errors.New("empty encoding in XML declaration")
	}
	q := rest[0]
	end := bytes.IndexByte(rest[1:], q)
	if end < 0 {
		return errors.New("unterminated encoding in XML declaration")
	}
	enc := rest[1 : 1+end]
	if EqualFold(enc, "utf-8") || EqualFold(enc, "utf8") || EqualFold(enc, "us-ascii") {
		return nil
	}
	return fmt.Errorf("encoding %q is not supported, only UTF-8", enc)
}

func rootWith(data []byte, lim Limits, root func(*Decoder) error) string {
	d := NewDecoder(data, lim)
	err := root(d)
	return fmt.Sprintf("%v\n%s", err, state(d))
}

func rootAsReference(t *testing.T, data []byte) {
	t.Helper()
	for _, lim := range []Limits{{}, {MaxAttrs: 2}} {
		want := rootWith(data, lim, (*Decoder).refRoot)
		got := rootWith(data, lim, (*Decoder).Root)
		if want != got {
			t.Fatalf("%q\nreference:\n%s\nRoot:\n%s", data, want, got)
		}
	}
	declAsReference(t, data)
}

func declAsReference(t *testing.T, decl []byte) {
	t.Helper()
	if want, got := fmt.Sprint(refCheckDeclEncoding(decl)), fmt.Sprint(checkDeclEncoding(decl)); want != got {
		t.Fatalf("%q: reference %s, checkDeclEncoding %s", decl, want, got)
	}
}

var rootDocs = []string{
	envelope,
	`<?xml version="1.0" encoding="UTF-8"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://www.w3.org/2005/08/addressing" xmlns:rps="http://namespaces.gsma.org/esim-messaging/3"><env:Header/></env:Envelope>`,
	"\xEF\xBB\xBF<?xml version='1.0' encoding='utf-8' standalone='yes'?>\n<!-- c --><?pi x?>\n<a/>",
	`<?xml version="1.0"?><a x=">" y="?>"/>`, `<?xml version="1.0" encoding="ISO-8859-1"?><a/>`, `<?xml version="1.0" encoding= "utf8" ?><a/>`,
	`<?xml version="1.0" encoding=?><a/>`, `<?xml version="1.0" encoding="UTF-8><a/>`, `<?xml version="1.0" encoding  =  'us-ascii'?><a/>`,
	`<?xml version="1.0" encoding`, `<?xml version="1.0" ? >`, `<?xml ?>`, `<?xml>`, `<?xml?><a/>`, `<?xml version="1.0" encoding="UTF-8"?>`,
	`<?xml version="1.0"?><!DOCTYPE a><a/>`, `<?xml version="1.0"?>text<a/>`, `  <a/>`, ``, `<`, `</a>`, `<!-- x`, `<a`, `<a `, `<a x="1"`,
	`<p:a xmlns:p="u" xmlns:q="v&amp;w" q:x="1"/>`, `<p:a/>`, `<a xmlns:p="" p:x="1"/>`, `<a x="1" x="2"/>`, `<a x="1" y="2" z="3"/>`,
	`<a xmlns="u" xmlns="v"/>`, `<a	x="1"/>`, `<a x = "1"></a>`, "\xff<a/>", "<a>\x01</a>",
}

// TestRootAsReference: Root ends where the Root it replaced did, with the same namespaces, attributes and
// errors, and checkDeclEncoding answers what it did.
func TestRootAsReference(t *testing.T) {
	for _, doc := range rootDocs {
		rootAsReference(t, []byte(doc))
		rootAsReference(t, []byte(strings.TrimPrefix(doc, "<?xml")))
	}
}

func FuzzRoot(f *testing.F) {
	for _, doc := range rootDocs {
		f.Add([]byte(doc))
	}
	f.Fuzz(rootAsReference)
}

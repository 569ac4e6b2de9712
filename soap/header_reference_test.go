package soap

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/esimgw/esimgw/internal/xmltext"
)

// refReadHeader is readHeader as it was before NextChildPlain, addressingHeader and stringArena.text:
// NextChild, a LocalIs chain and Text copied into the arena. The fast one must agree with it on every
// input: the same header, the same error, the decoder left at the same place.
func refReadHeader(d *xmltext.Decoder, envNS string, h *Header, strs *stringArena) error {
	for {
		ok, err := d.NextChild()
		if err != nil {
			return malformed(err)
		}
		if !ok {
			return nil
		}
		var dst *string
		epr := false
		if isAddressingNS(d.Space()) {
			switch {
			case d.LocalIs("From"):
				dst, epr = &h.From, true
			case d.LocalIs("ReplyTo"):
				dst, epr = &h.ReplyTo, true
			case d.LocalIs("To"):
				dst = &h.To
			case d.LocalIs("MessageID"):
				dst = &h.MessageID
			case d.LocalIs("Action"):
				dst = &h.Action
			case d.LocalIs("RelatesTo"):
				dst = &h.RelatesTo
				if rt, ok := d.AttrAny("RelationshipType"); ok {
					strs.set(&h.RelationshipType, rt)
				}
			}
		}
		switch {
		case dst != nil && epr:
			if err := refReadEPRAddress(d, dst, strs); err != nil {
				return err
			}
		case dst != nil:
			v, err := d.Text()
			if err != nil {
				return malformed(err)
			}
			strs.set(dst, trimSpace(v))
		case d.SpaceIs(NSWSSecurity) && d.LocalIs("Security"):
			inner, err := d.InnerXML()
			if err != nil {
				return malformed(err)
			}
			h.Security = bytes.Clone(inner)
		default:
			if mu, ok := d.Attr(envNS, "mustUnderstand"); ok && (string(trimSpace(mu)) == "true" || string(trimSpace(mu)) == "1") {
				return &EnvelopeError{Kind: ErrMustUnderstand, Detail: fmt.Sprintf("{%s}%s", d.Space(), d.Local())}
			}
			if err := d.Skip(); err != nil {
				return malformed(err)
			}
		}
	}
}

func refReadEPRAddress(d *xmltext.Decoder, dst *string, strs *stringArena) error {
	for {
		ok, err := d.NextChild()
		if err != nil {
			return malformed(err)
		}
		if !ok {
			return nil
		}
		if d.LocalIs("Address") {
			v, err := d.Text()
			if err != nil {
				return malformed(err)
			}
			strs.set(dst, trimSpace(v))
			continue
		}
		if err := d.Skip(); err != nil {
			return malformed(err)
		}
	}
}

// headerWith reads the header block of doc with read, from a decoder placed on env:Header, and describes
// the outcome: the header, the error and where the decoder was left.
func headerWith(doc []byte, read func(*xmltext.Decoder, string, *Header, *stringArena) error) string {
	d := xmltext.NewDecoder(doc, xmltext.Limits{MaxDepth: 6})
	if err := d.Root(); err != nil {
		return "root: " + err.Error()
	}
	envNS := string(d.Space())
	for {
		ok, err := d.NextChild()
		if err != nil || !ok {
			return fmt.Sprintf("no header: %v", err)
		}
		if d.LocalIs("Header") {
			break
		}
		if err := d.Skip(); err != nil {
			return err.Error()
		}
	}
	var h Header
	var strs stringArena
	err := read(d, envNS, &h, &strs)
	strs.finish()
	var ee *EnvelopeError
	if err != nil && !errors.As(err, &ee) {
		return "untyped error: " + err.Error()
	}
	return fmt.Sprintf("%+q\nerror %v\nat %d depth %d", h, err, d.Offset(), d.Depth())
}

func headerAsReference(t *testing.T, doc []byte) {
	t.Helper()
	if want, got := headerWith(doc, refReadHeader), headerWith(doc, readHeader); want != got {
		t.Fatalf("%q\nreference:\n%s\nreadHeader:\n%s", doc, want, got)
	}
}

// headerDocs: every spelling of the addressing headers the reader takes (docs/wire.md section 2), and
// names next to theirs that it must not take.
var headerDocs = []string{
	gSOAPCallback, njiwaCallback,
	string(AppendEnvelope(nil, &Header{From: testFrom, To: testTo, MessageID: testMsgID, Action: testAction, ReplyTo: "https://r?a=1&b=2", RelatesTo: "x&y", RelationshipType: "urn:r&t"}, nil)),
	string(AppendEnvelopeVersion(nil, SOAP11, &Header{From: "f", To: "t", MessageID: "m", Action: "a"}, nil)),
	`<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Header><MessageID> m </MessageID><RelatesTo>` + "\r\n r \t" + `</RelatesTo><TO>t</TO><from>f</from><REPLYTO><x/>r</REPLYTO></e:Header></e:Envelope>`,
	`<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing"><e:Header><a:Froms/><a:T/><a:Actions>x</a:Actions><a:MessageIDx>x</a:MessageIDx><a:Xessageid>x</a:Xessageid><a:ReplyTx/><a:RelatesT0>x</a:RelatesT0></e:Header></e:Envelope>`,
	`<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing"><e:Header><a:To>1</a:To><a:To>2</a:To><a:From><a:Address>1</a:Address><a:Address>2</a:Address></a:From><a:From>bare</a:From><a:ReplyTo><b:Address xmlns:b="urn:b">b</b:Address></a:ReplyTo></e:Header></e:Envelope>`,
	`<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Header><x:To xmlns:x="urn:x">no</x:To><x:Y xmlns:x="urn:x" e:mustUnderstand=" 1 ">v</x:Y></e:Header></e:Envelope>`,
	`<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Header><x:Y xmlns:x="urn:x" e:mustUnderstand="false"/><w:Security xmlns:w="` + NSWSSecurity + `"><t>tok</t></w:Security></e:Header></e:Envelope>`,
	`<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing"><e:Header><a:To>a&bogus;</a:To></e:Header></e:Envelope>`,
	`<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing"><e:Header><a:To>a<!--c-->b<![CDATA[&c]]></a:To><a:Action>x<y/></a:Action></e:Header></e:Envelope>`,
	`<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing"><e:Header><a:From><a:Address>x</a:Addres></a:From></e:Header></e:Envelope>`,
	`<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing"><e:Header><a:MessageID>` + strings.Repeat("long&amp;", 100) + `</a:MessageID></e:Header></e:Envelope>`,
}

// TestReadHeaderAsReference: the header reader agrees with the one it replaced.
func TestReadHeaderAsReference(t *testing.T) {
	for _, doc := range headerDocs {
		headerAsReference(t, []byte(doc))
	}
	// More values than the arena has fields for.
	var b strings.Builder
	b.WriteString(`<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Header>`)
	for i := range 15 {
		fmt.Fprintf(&b, "<To> t%d&amp; </To>", i)
	}
	b.WriteString(`</e:Header></e:Envelope>`)
	headerAsReference(t, []byte(b.String()))
}

// TestAddressingHeader: the names addressingHeader takes are the LocalIs chain's.
func TestAddressingHeader(t *testing.T) {
	names := map[string]int{"From": hdrFrom, "ReplyTo": hdrReplyTo, "To": hdrTo, "MessageID": hdrMessageID, "Action": hdrAction, "RelatesTo": hdrRelatesTo}
	for name, want := range names {
		for _, s := range []string{name, strings.ToLower(name), strings.ToUpper(name)} {
			if got := addressingHeader([]byte(s)); got != want {
				t.Errorf("%s: %d, want %d", s, got, want)
			}
			for i := range s {
				for _, c := range []byte{'x', s[i] ^ 0x20, s[i] + 1} {
					b := []byte(s)
					b[i] = c
					wantB := hdrOther
					for n, h := range names {
						if xmltext.EqualFold(b, n) {
							wantB = h
						}
					}
					if got := addressingHeader(b); got != wantB {
						t.Errorf("%q: %d, want %d", b, got, wantB)
					}
				}
			}
		}
	}
	for _, s := range []string{"", "T", "Tos", "Security", "Address", "MessageIDs"} {
		if got := addressingHeader([]byte(s)); got != hdrOther {
			t.Errorf("%q: %d", s, got)
		}
	}
}

func FuzzReadHeaderAsReference(f *testing.F) {
	for _, doc := range headerDocs {
		f.Add([]byte(doc))
	}
	f.Fuzz(headerAsReference)
}

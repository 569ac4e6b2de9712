package soap

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestClientEnvelopeBlocks: a Client's envelope, written with the address and action blocks it keeps,
// is the one AppendEnvelopeVersion writes, in both versions, with values that need escaping, empty ones,
// and sets of addresses that come and go.
func TestClientEnvelopeBlocks(t *testing.T) {
	headers := []Header{
		{From: "http://localhost?EntityId=1.2&EntityName=a<b>", To: "https://smsr.example/es4?x=1&y=2", MessageID: "//1.2/id?TransactionId=t&MessageDate=x",
			Action: "http://gsma.com/ES4/ProfileManagement/ES4-GetEISRequest"},
		{From: "http://localhost?EntityId=1.2", To: "https://smsr.example/es4", MessageID: "m", Action: `a"&'`, ReplyTo: "https://cb.example/cb?t=1&u=2"},
		{To: "https://smsr.example/es4", MessageID: "m2", RelatesTo: "r&1", RelationshipType: `"x"`},
		{From: "f\r\n\tü\x01", To: "t", MessageID: "m3", Action: "a", Extra: []byte("<x/>")},
		{},
	}
	for _, v := range []Version{SOAP12, SOAP11} {
		c := NewClient(WithSOAPVersion(v))
		for round := range 4 {
			for i := range headers {
				h := &headers[(i+round)%len(headers)]
				got := appendEnvelope(nil, v, h, nil, c.addressBlocks(h.From, h.To, h.ReplyTo), c.actionHeaders(h.Action).actionXML)
				assert.Equal(t, string(AppendEnvelopeVersion(nil, v, h, nil)), string(got), "%v %+v", v, h)
			}
		}
		hits := 0
		for i := range c.addrs {
			if c.addrs[i].Load() != nil {
				hits++
			}
		}
		assert.Equal(t, len(c.addrs), hits, "sets seen again are kept")
	}
}

// FuzzClientEnvelopeBlocks: whatever the header values, a Client's envelope with its kept blocks is the
// one AppendEnvelopeVersion writes.
func FuzzClientEnvelopeBlocks(f *testing.F) {
	f.Add("http://localhost?EntityId=1.2&EntityName=a", "https://smsr.example/es4", "//1.2/id?TransactionId=t&MessageDate=x", "urn:a", "", false)
	f.Add("f\r\n\tü\x01<", "t>", "", `a"&'`, "https://cb.example/?a=1&b=2", true)
	c12, c11 := NewClient(), NewClient(WithSOAPVersion(SOAP11))
	f.Fuzz(func(t *testing.T, from, to, mid, action, replyTo string, soap11 bool) {
		c, v := c12, SOAP12
		if soap11 {
			c, v = c11, SOAP11
		}
		h := &Header{From: from, To: to, MessageID: mid, Action: action, ReplyTo: replyTo}
		want := string(AppendEnvelopeVersion(nil, v, h, nil))
		for range 3 { // missed, seen again and kept, then taken from the kept blocks
			got := appendEnvelope(nil, v, h, nil, c.addressBlocks(from, to, replyTo), c.actionHeaders(action).actionXML)
			if string(got) != want {
				t.Fatalf("%q, want %q", got, want)
			}
		}
	})
}

package soap

import (
	"errors"
	"math/rand/v2"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseMessageID(t *testing.T) {
	date := time.Date(2018, 12, 19, 2, 44, 49, 0, time.UTC)
	tests := []struct {
		name string
		in   string
		want MessageID
		out  string // canonical String(); "" means same as in
	}{
		{
			name: "S4 gSOAP capture (&amp; already unescaped)",
			in:   "//1.3.6.1.4.1.20/urn:uuid:78c2e2a4-0b1e-4c63-9b1c-3ad54d6fc869?TransactionId=urn:uuid:68ea5c6e-8a2a-4a0f-9d2e-0d9b1c8e0552&MessageDate=2018-12-19T02:44:49Z",
			want: MessageID{Sender: "1.3.6.1.4.1.20", ID: "urn:uuid:78c2e2a4-0b1e-4c63-9b1c-3ad54d6fc869",
				TransactionID: "urn:uuid:68ea5c6e-8a2a-4a0f-9d2e-0d9b1c8e0552", MessageDate: date},
		},
		{
			name: "? as separator",
			in:   "//1.3.6.1.4.1.6886/abc?TransactionId=tx1?MessageDate=2018-12-19T02:44:49Z",
			want: MessageID{Sender: "1.3.6.1.4.1.6886", ID: "abc", TransactionID: "tx1", MessageDate: date},
			out:  "//1.3.6.1.4.1.6886/abc?TransactionId=tx1&MessageDate=2018-12-19T02:44:49Z",
		},
		{
			name: "ContextId and unknown params kept, any order",
			in:   "//1.2/id?Foo=bar&ContextId=ctx%201&MessageDate=2018-12-19T02:44:49Z&TransactionId=tx&Baz=",
			want: MessageID{Sender: "1.2", ID: "id", TransactionID: "tx", MessageDate: date, ContextID: "ctx 1",
				Extra: []Param{{"Foo", "bar"}, {"Baz", ""}}},
			out: "//1.2/id?TransactionId=tx&MessageDate=2018-12-19T02:44:49Z&ContextId=ctx%201&Foo=bar&Baz=",
		},
		{
			name: "offset and fraction",
			in:   "//1.2/id?MessageDate=2018-12-19T03:44:49.987+01:00",
			want: MessageID{Sender: "1.2", ID: "id",
				MessageDate: time.Date(2018, 12, 19, 3, 44, 49, 987e6, time.FixedZone("", 3600))},
			out: "//1.2/id?MessageDate=2018-12-19T02:44:49Z",
		},
		{
			name: "no zone means UTC",
			in:   "//1.2/id?MessageDate=2018-12-19T02:44:49.5",
			want: MessageID{Sender: "1.2", ID: "id", MessageDate: date.Add(500 * time.Millisecond)},
			out:  "//1.2/id?MessageDate=2018-12-19T02:44:49Z",
		},
		{
			name: "no parameters at all",
			in:   "//1.3.6.1.4.1.20/urn:uuid:78c2e2a4-0b1e-4c63-9b1c-3ad54d6fc869",
			want: MessageID{Sender: "1.3.6.1.4.1.20", ID: "urn:uuid:78c2e2a4-0b1e-4c63-9b1c-3ad54d6fc869"},
		},
		{
			name: "id with slashes, empty params, names in any case, white space",
			in:   "\n  //1.2/a/b/c?&transactionid=t&&messagedate=&  ",
			want: MessageID{Sender: "1.2", ID: "a/b/c", TransactionID: "t"},
			out:  "//1.2/a/b/c?TransactionId=t",
		},
		{
			name: "domain sender",
			in:   "//mno.example.org/42?TransactionId=7",
			want: MessageID{Sender: "mno.example.org", ID: "42", TransactionID: "7"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMessageID(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want.Sender, got.Sender)
			assert.Equal(t, tt.want.ID, got.ID)
			assert.Equal(t, tt.want.TransactionID, got.TransactionID)
			assert.Equal(t, tt.want.ContextID, got.ContextID)
			assert.Equal(t, tt.want.Extra, got.Extra)
			assert.True(t, tt.want.MessageDate.Equal(got.MessageDate), "date %v, want %v", got.MessageDate, tt.want.MessageDate)
			want := tt.out
			if want == "" {
				want = trimXMLSpace(tt.in)
			}
			assert.Equal(t, want, got.String())
			again, err := ParseMessageID(got.String())
			require.NoError(t, err)
			assert.True(t, got.Equal(again))
		})
	}
}

func TestParseMessageIDErrors(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		kind  MessageIDErrorKind
		param string
	}{
		{"empty", "", MessageIDEmpty, ""},
		{"blank", " \t\n", MessageIDEmpty, ""},
		{"bare urn:uuid", "urn:uuid:78c2e2a4-0b1e-4c63-9b1c-3ad54d6fc869", MessageIDNotGSMA, ""},
		{"JAX-WS uuid:", "uuid:0a6f1c3e-7a35-4b8e-8f4a-7b0d2e9c1d11", MessageIDNotGSMA, ""},
		{"single slash", "/1.2/id", MessageIDNotGSMA, ""},
		{"no id part", "//1.2", MessageIDMalformed, ""},
		{"empty sender", "///id", MessageIDMalformed, ""},
		{"empty id", "//1.2/?TransactionId=t", MessageIDMalformed, ""},
		{"? before the id slash", "//1.2?x=/y", MessageIDMalformed, ""},
		{"bad escape", "//1.2/id?TransactionId=%G0", MessageIDBadEscape, ParamTransactionID},
		{"duplicate TransactionId", "//1.2/id?TransactionId=a&transactionId=b", MessageIDDuplicateParam, ParamTransactionID},
		{"duplicate MessageDate", "//1.2/id?MessageDate=2018-12-19T02:44:49Z?MessageDate=2018-12-19T02:44:49Z", MessageIDDuplicateParam, ParamMessageDate},
		{"duplicate ContextId", "//1.2/id?ContextId=a&ContextId=a", MessageIDDuplicateParam, ParamContextID},
		{"bad date", "//1.2/id?TransactionId=t&MessageDate=yesterday", MessageIDBadDate, ParamMessageDate},
		{"year beyond 9999 in UTC", "//1.2/id?MessageDate=9999-12-31T23:00:00-05:00", MessageIDBadDate, ParamMessageDate},
		{"year before 0000 in UTC", "//1.2/id?MessageDate=0000-01-01T00:00:00+01:00", MessageIDBadDate, ParamMessageDate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseMessageID(tt.in)
			var me *MessageIDError
			require.True(t, errors.As(err, &me), "got %v", err)
			assert.Equal(t, tt.kind, me.Kind)
			assert.Equal(t, tt.param, me.Param)
			assert.Contains(t, err.Error(), tt.kind.String())
		})
	}
}

func TestParseMessageIDBadDateKeepsTheRest(t *testing.T) {
	// A garbled date must not cost the TransactionId a callback is correlated by.
	m, err := ParseMessageID("//1.2/id?TransactionId=tx-1&MessageDate=19/12/2018")
	var me *MessageIDError
	require.True(t, errors.As(err, &me))
	assert.Equal(t, MessageIDBadDate, me.Kind)
	assert.Equal(t, "tx-1", m.TransactionID)
	assert.Equal(t, "1.2", m.Sender)
	assert.True(t, m.MessageDate.IsZero())
}

var uuidURNRe = regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestNewMessageID(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.FixedZone("CEST", 2*3600))
	m := NewMessageID("1.3.6.1.4.1.99999.10", now)
	assert.Equal(t, "1.3.6.1.4.1.99999.10", m.Sender)
	assert.Regexp(t, uuidURNRe, m.ID)
	assert.Regexp(t, uuidURNRe, m.TransactionID)
	assert.NotEqual(t, m.ID, m.TransactionID)
	assert.Equal(t, time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC), m.MessageDate)
	assert.Equal(t, time.UTC, m.MessageDate.Location())
	require.NoError(t, m.Validate())

	s := m.String()
	assert.Equal(t, "//1.3.6.1.4.1.99999.10/"+m.ID+"?TransactionId="+m.TransactionID+"&MessageDate=2024-05-01T10:00:00Z", s)
	back, err := ParseMessageID(s)
	require.NoError(t, err)
	assert.Equal(t, m, back, "a fresh MessageID equals its own re-parse, field for field")

	other := NewMessageID("1.3.6.1.4.1.99999.10", now)
	assert.NotEqual(t, m.ID, other.ID)
	assert.NotEqual(t, m.TransactionID, other.TransactionID)

	reply := NewMessageIDInTransaction("1.3.6.1.4.1.99999.20", m.TransactionID, now.Add(41*time.Second))
	assert.Equal(t, m.TransactionID, reply.TransactionID)
	assert.Regexp(t, uuidURNRe, reply.ID)
	assert.NotEqual(t, m.ID, reply.ID)
	assert.Equal(t, "2024-05-01T10:00:41Z", reply.MessageDate.Format(time.RFC3339))
}

// TestNewMessageIDText: the text NewMessageIDText returns is the String of the MessageID it returns, for
// fresh and given transactions, escaped ones, dates with and without the cached second's text, and a
// sender too long for the stack buffer.
func TestNewMessageIDText(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.FixedZone("CEST", 2*3600))
	tests := []struct {
		name, sender, tx string
		now              time.Time
	}{
		{"fresh", "1.3.6.1.4.1.99999.10", "", now},
		{"same second again", "1.3.6.1.4.1.99999.10", "", now.Add(300 * time.Millisecond)},
		{"next second", "1.3.6.1.4.1.99999.10", "", now.Add(time.Second)},
		{"in transaction", "1.3.6.1.4.1.99999.20", "urn:uuid:93f76566-a5df-4baa-9436-c3665b656aae", now},
		{"escaped transaction", "1.2", "fc 1&2?%", now},
		{"zero time", "1.2", "", time.Time{}},
		{"year 10000", "1.2", "", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"year -1", "1.2", "tx", time.Date(-1, 6, 15, 12, 30, 45, 0, time.UTC)},
		{"long sender", strings.Repeat("1.", 200) + "9", "", now},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, text := NewMessageIDText(tt.sender, tt.tx, tt.now)
			assert.Equal(t, m.String(), text)
			assert.Equal(t, tt.sender, m.Sender)
			assert.Regexp(t, uuidURNRe, m.ID)
			if tt.tx == "" {
				assert.Regexp(t, uuidURNRe, m.TransactionID)
			} else {
				assert.Equal(t, tt.tx, m.TransactionID)
			}
			assert.Equal(t, wireTime(tt.now), m.MessageDate)
			// The same value as NewMessageIDInTransaction's, ids apart.
			want := NewMessageIDInTransaction(tt.sender, m.TransactionID, tt.now)
			want.ID = m.ID
			assert.Equal(t, want, m)
			if y := m.MessageDate.Year(); !tt.now.IsZero() && y >= 0 && y <= 9999 {
				back, err := ParseMessageID(text)
				require.NoError(t, err)
				assert.True(t, m.Equal(back), "%+v re-parsed as %+v", m, back)
			}
		})
	}
}

// TestNewMessageIDUnique: the random bytes read ahead are handed out once, by concurrent callers too.
func TestNewMessageIDUnique(t *testing.T) {
	const callers, each = 8, 2000
	ids := make([][]string, callers)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			for range each {
				m, _ := NewMessageIDText("1.2", "", time.Now())
				ids[i] = append(ids[i], m.ID, m.TransactionID)
			}
		})
	}
	wg.Wait()
	seen := make(map[string]bool, 2*callers*each)
	for _, l := range ids {
		for _, id := range l {
			require.False(t, seen[id], "%s made twice", id)
			seen[id] = true
		}
	}
}

func TestMessageIDValidate(t *testing.T) {
	d := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		m    MessageID
		kind MessageIDErrorKind
	}{
		{"no sender", MessageID{ID: "x", MessageDate: d}, MessageIDMalformed},
		{"no id", MessageID{Sender: "1.2", MessageDate: d}, MessageIDMalformed},
		{"slash in sender", MessageID{Sender: "1/2", ID: "x", MessageDate: d}, MessageIDMalformed},
		{"? in id", MessageID{Sender: "1.2", ID: "x?y", MessageDate: d}, MessageIDMalformed},
		{"no date", MessageID{Sender: "1.2", ID: "x"}, MessageIDMissingDate},
		{"year 10000", MessageID{Sender: "1.2", ID: "x", MessageDate: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, MessageIDBadDate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var me *MessageIDError
			require.True(t, errors.As(tt.m.Validate(), &me))
			assert.Equal(t, tt.kind, me.Kind)
		})
	}
	assert.NoError(t, MessageID{Sender: "1.2", ID: "x", MessageDate: d}.Validate())
}

func TestMessageIDAppendToAllocs(t *testing.T) {
	skipUnderRace(t)
	m := NewMessageID("1.3.6.1.4.1.99999.10", time.Now())
	m.ContextID = "ctx"
	buf := make([]byte, 0, 256)
	assert.Zero(t, testing.AllocsPerRun(100, func() { buf = m.AppendTo(buf[:0]) }))
	// NewMessageID itself: one string holding both ids.
	assert.LessOrEqual(t, testing.AllocsPerRun(100, func() {
		buf = NewMessageID("1.3.6.1.4.1.99999.10", time.Now()).AppendTo(buf[:0])
	}), 1.0)
	// NewMessageIDText: one string holding the text and both ids (a new second's text aside).
	now := time.Now()
	var text string
	assert.LessOrEqual(t, testing.AllocsPerRun(100, func() {
		_, text = NewMessageIDText("1.3.6.1.4.1.99999.10", "", now)
	}), 1.0)
	assert.NotEmpty(t, text)
}

func FuzzParseMessageID(f *testing.F) {
	for _, s := range []string{
		"//1.3.6.1.4.1.20/urn:uuid:78c2e2a4-0b1e-4c63-9b1c-3ad54d6fc869?TransactionId=urn:uuid:68ea5c6e-8a2a-4a0f-9d2e-0d9b1c8e0552&MessageDate=2018-12-19T02:44:49Z",
		"//1.3.6.1.4.1.99999.10/urn:uuid:0f8c2a3e-1d2b-4c5a-9e7f-112233445566?TransactionId=urn:uuid:7a1b2c3d-4e5f-4a6b-8c9d-aabbccddeeff&MessageDate=2024-05-01T10:00:00Z",
		"//1.3.6.1.4.1.6886/abc?TransactionId=tx1?MessageDate=2018-12-19T02:44:49Z",
		"//1.2/id?Foo=bar&ContextId=ctx%201&MessageDate=2018-12-19T02:44:49Z&TransactionId=tx&Baz=",
		"//1.2/id?MessageDate=2018-12-19T03:44:49.987+01:00",
		"//1.2/id?MessageDate=2018-12-19T02:44:49.5",
		"//1.2/id?MessageDate=9999-12-31T23:00:00-05:00",
		"//1.2/id?MessageDate=0001-01-01T00:00:00Z",
		"urn:uuid:78c2e2a4-0b1e-4c63-9b1c-3ad54d6fc869",
		"uuid:0a6f1c3e-7a35-4b8e-8f4a-7b0d2e9c1d11",
		"//1.2/ ?",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMessageID(s)
		if err != nil {
			var me *MessageIDError
			if !errors.As(err, &me) {
				t.Fatalf("error %v is not a *MessageIDError", err)
			}
			return
		}
		out := m.String()
		back, err := ParseMessageID(out)
		if err != nil {
			t.Fatalf("%q parsed, but its String %q does not: %v", s, out, err)
		}
		if !m.Equal(back) {
			t.Fatalf("%q: %+v re-parsed from %q as %+v", s, m, out, back)
		}
		if out2 := back.String(); out2 != out {
			t.Fatalf("String not stable: %q then %q", out, out2)
		}
	})
}

func BenchmarkNewMessageIDAppendTo(b *testing.B) {
	buf := make([]byte, 0, 256)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		buf = NewMessageID("1.3.6.1.4.1.99999.10", now).AppendTo(buf[:0])
	}
}

func BenchmarkNewMessageIDText(b *testing.B) {
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = NewMessageIDText("1.3.6.1.4.1.99999.10", "", now)
	}
}

func BenchmarkParseMessageID(b *testing.B) {
	s := "//1.3.6.1.4.1.20/urn:uuid:78c2e2a4-0b1e-4c63-9b1c-3ad54d6fc869?TransactionId=urn:uuid:68ea5c6e-8a2a-4a0f-9d2e-0d9b1c8e0552&MessageDate=2018-12-19T02:44:49Z"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseMessageID(s); err != nil {
			b.Fatal(err)
		}
	}
}

// skipUnderRace skips allocation assertions in -race builds, whose instrumentation allocates.
func skipUnderRace(t *testing.T) {
	t.Helper()
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" && s.Value == "true" {
				t.Skip("allocation counts are not meaningful under -race")
			}
		}
	}
}

func TestAppendWireTime(t *testing.T) {
	times := []time.Time{
		{},
		time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 6, 15, 12, 30, 45, 0, time.UTC),
		time.Date(2026, 12, 7, 23, 5, 9, 0, time.FixedZone("CET", 3600)),
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		times = append(times, time.Unix(r.Int64N(253402300800), r.Int64N(1e9)).UTC())
	}
	for _, tm := range times {
		want := tm.AppendFormat([]byte("x"), "2006-01-02T15:04:05Z")
		assert.Equal(t, string(want), string(appendWireTime([]byte("x"), tm)), "%v", tm)
	}
}

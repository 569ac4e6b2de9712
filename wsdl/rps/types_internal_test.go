package rps

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/internal/xmltext"
)

// The scalar parsers against the implementations they replaced, kept here as the reference: every input
// must give the same value (the same time.Time, location included) and the same error.

func refTrimSpace(s []byte) []byte {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func refDecodeHex(s []byte) (HexBinary, error) {
	s = refTrimSpace(s)
	if len(s)%2 != 0 {
		return nil, ErrHex
	}
	if len(s) == 0 {
		return nil, nil
	}
	dst := make([]byte, len(s)/2)
	var bad byte
	for i := range dst {
		hi, lo := hexValue[s[2*i]], hexValue[s[2*i+1]]
		bad |= hi | lo
		dst[i] = hi<<4 | lo
	}
	if bad > 0x0F {
		return nil, ErrHex
	}
	return dst, nil
}

func refParseDateTime(s []byte) (time.Time, error) {
	s = refTrimSpace(s)
	num := func(b []byte) (int, bool) {
		n := 0
		for _, c := range b {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, len(b) > 0
	}
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, ErrDateTime
	}
	year, ok1 := num(s[0:4])
	month, ok2 := num(s[5:7])
	day, ok3 := num(s[8:10])
	hour, ok4 := num(s[11:13])
	minute, ok5 := num(s[14:16])
	sec, ok6 := num(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return time.Time{}, ErrDateTime
	}
	rest := s[19:]
	nsec := 0
	if len(rest) > 0 && rest[0] == '.' {
		i := 1
		scale := 100000000
		for i < len(rest) && '0' <= rest[i] && rest[i] <= '9' {
			nsec += int(rest[i]-'0') * scale
			scale /= 10
			i++
		}
		if i == 1 {
			return time.Time{}, ErrDateTime
		}
		rest = rest[i:]
	}
	offset := 0
	switch {
	case len(rest) == 0:
	case len(rest) == 1 && rest[0] == 'Z':
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := num(rest[1:3])
		om, ok2 := num(rest[4:6])
		if !ok1 || !ok2 || oh > 14 || om > 59 {
			return time.Time{}, ErrDateTime
		}
		offset = oh*3600 + om*60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, ErrDateTime
	}
	endOfDay := hour == 24 && minute == 0 && sec == 0 && nsec == 0
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || (hour > 23 && !endOfDay) ||
		minute > 59 || sec > 59 {
		return time.Time{}, ErrDateTime
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	return t.Add(-time.Duration(offset) * time.Second), nil
}

func refParseUint(s []byte) (uint64, error) {
	s = refTrimSpace(s)
	if len(s) > 0 && s[0] == '+' {
		s = s[1:]
	}
	if len(s) == 0 {
		return 0, ErrInteger
	}
	var n uint64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, ErrInteger
		}
		d := uint64(c - '0')
		if n > (1<<64-1-d)/10 {
			return 0, ErrInteger
		}
		n = n*10 + d
	}
	return n, nil
}

func checkHex(t *testing.T, s []byte) {
	t.Helper()
	d := xmltext.NewDecoder(nil, xmltext.Limits{})
	got, err := decodeHex(d, s)
	want, wantErr := refDecodeHex(s)
	require.Equal(t, wantErr, err, "%q", s)
	require.Equal(t, want, got, "%q", s)
	require.Equal(t, refTrimSpace(s), trimSpace(s), "%q", s)
}

func checkDateTime(t *testing.T, s []byte) {
	t.Helper()
	got, err := parseDateTime(s)
	want, wantErr := refParseDateTime(s)
	require.Equal(t, wantErr, err, "%q", s)
	require.True(t, want == got, "%q: %v, want %v", s, got, want) // ==: the same wall, ext and location
}

func checkUint(t *testing.T, s []byte) {
	t.Helper()
	got, err := parseUint(s)
	want, wantErr := refParseUint(s)
	require.Equal(t, wantErr, err, "%q", s)
	require.Equal(t, want, got, "%q", s)
}

// TestDecodeHexAsReference: every byte value at every position of values of 0 to 40 digits, either case.
func TestDecodeHexAsReference(t *testing.T) {
	const digits = "0123456789abcdefABCDEF"
	for n := 0; n <= 40; n++ {
		base := []byte(strings.Repeat(digits, 2)[:n])
		checkHex(t, base)
		checkHex(t, []byte(" "+string(base)+"\n"))
		for k := 0; k < n; k++ {
			for c := 0; c < 256; c++ {
				s := append([]byte(nil), base...)
				s[k] = byte(c)
				checkHex(t, s)
			}
		}
	}
	for _, s := range []string{"", " ", "\t\r\n ", "0", "0g", "0 a", "0aFf", " 0aFf\n", "89049032000001000000000000000171",
		"8904903200000100000000000000017", "890490320000010000000000000001 7", "A0000005591010FFFFFFFF8900000100"} {
		checkHex(t, []byte(s))
	}
	h, err := decodeHex(xmltext.NewDecoder(nil, xmltext.Limits{}), []byte("A0000005591010ffFFFFFF8900000100"))
	require.NoError(t, err)
	assert.Equal(t, HexBinary{0xA0, 0, 0, 5, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0, 0, 1, 0}, h)
}

// TestUnhexWord: every byte value in every lane of a word of digits.
func TestUnhexWord(t *testing.T) {
	base := []byte("0123a5F7")
	for k := range base {
		for c := 0; c < 256; c++ {
			s := append([]byte(nil), base...)
			s[k] = byte(c)
			v, bad := unhexWord(binary.LittleEndian.Uint64(s))
			ok := bad&msbs == 0
			want, wantOK := refDecodeHex(s)
			require.Equal(t, wantOK == nil, ok, "%q", s)
			if ok {
				require.Equal(t, binary.LittleEndian.Uint32(want), v, "%q", s)
			}
		}
	}
}

func TestParseDateTimeAsReference(t *testing.T) {
	for _, s := range []string{
		"2026-12-03T12:53:09Z", "2018-12-19T02:44:49", " 2018-12-19T02:44:49 ", "2018-12-19T03:44:49+01:00",
		"2018-12-18T21:44:49.120-05:00", "2018-12-19T02:44:49.000000000001Z", "2018-12-19T02:44:49.999999999999Z",
		"2018-12-19T02:44:49.5", "2018-12-31T24:00:00Z", "2018-12-31T24:00:00.0Z", "2018-12-31T24:00:01Z",
		"2018-12-31T24:00:00.1Z", "2018-12-31T25:00:00Z", "2024-02-29T00:00:00Z", "2023-02-29T00:00:00Z",
		"2000-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2100-02-28T23:59:59Z", "0000-01-01T00:00:00Z",
		"0000-02-29T00:00:00Z", "0000-03-01T00:00:00-14:00", "9999-12-31T23:59:59+14:59", "9999-12-31T24:00:00-14:59",
		"1969-12-31T23:59:59Z", "1970-01-01T00:00:00Z", "1600-03-01T00:00:00Z", "0399-02-28T12:00:00Z",
		"2016-12-31T23:59:60Z", "2018-12-19T02:44:49+15:00", "2018-12-19T02:44:49+14:60", "2018-12-19T02:44:49+1:00",
		"2018-12-19T02:44:49+01:0a", "2018-12-19T02:44:49+01-00", "2018-12-19T02:44:49 Z", "2018-12-19T02:44:49.Z",
		"2018-12-19T02:44:49z", "2018-12-19t02:44:49Z", "-2018-12-19T02:44:49Z", "x018-12-19T02:44:49Z",
		"2018-00-19T02:44:49Z", "2018-13-19T02:44:49Z", "2018-12-00T02:44:49Z", "2018-12-32T02:44:49Z",
		"2018-04-31T02:44:49Z", "2018-12-19T02:60:49Z", "2018-12-19T02:44:4/Z", "2018-12-19T02:44:4:Z",
		"2018-12-19T02:44", "2018-12-19", "", "   ", "2018-12-19T02:44:49ZZ", "2018-12-19T02:44:49+01:00Z",
		"2018-12-19T02:44:49-00:00", "201a-12-19T02:44:49Z", "2018-1b-19T02:44:49Z",
	} {
		checkDateTime(t, []byte(s))
	}
	// Every byte value at every position of a valid value and one with a fraction and an offset.
	for _, base := range []string{"2024-02-29T23:59:59Z", "1999-12-31T24:00:00.000-11:30"} {
		for k := range base {
			for c := 0; c < 256; c++ {
				s := []byte(base)
				s[k] = byte(c)
				checkDateTime(t, s)
			}
		}
	}
	// Every day of some years around the leap rules, at both ends of the day.
	for _, y := range []int{0, 1, 4, 100, 400, 1899, 1900, 1970, 2000, 2024, 2100, 9999} {
		for tm := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC); tm.Year() == y; tm = tm.AddDate(0, 0, 1) {
			checkDateTime(t, tm.AppendFormat(nil, "2006-01-02T15:04:05Z"))
			checkDateTime(t, tm.AppendFormat(nil, "2006-01-02T23:59:59.999-07:00"))
			checkDateTime(t, tm.AppendFormat(nil, "2006-01-02T24:00:00+14:00"))
		}
	}
}

func TestParseUintAsReference(t *testing.T) {
	for _, s := range []string{"", "+", "0", "+0", "-0", " 7 ", "\t42\n", "4 2", "12a", "a12", "00000000000000000000000001",
		"1234567890123456789", "9999999999999999999", "18446744073709551615", "18446744073709551616",
		"+18446744073709551615", "99999999999999999999", "018446744073709551615", "184467440737095516150",
		"/", ":", "++1", "1+"} {
		checkUint(t, []byte(s))
	}
	for n := 1; n <= 22; n++ {
		base := []byte(strings.Repeat("9", n))
		checkUint(t, base)
		for k := 0; k < n; k++ {
			for c := 0; c < 256; c++ {
				s := append([]byte(nil), base...)
				s[k] = byte(c)
				checkUint(t, s)
			}
		}
	}
}

func FuzzDecodeHex(f *testing.F) {
	for _, s := range []string{"", "0aFf", " 0aFf\n", "89049032000001000000000000000171", "A0000005591010FFFFFFFF89000001",
		"0g", "8904903200000100000000000000017"} {
		f.Add([]byte(s))
	}
	f.Fuzz(checkHex)
}

func FuzzParseDateTime(f *testing.F) {
	for _, s := range []string{"2026-12-03T12:53:09Z", "2018-12-18T21:44:49.120-05:00", "2018-12-31T24:00:00Z",
		"0000-02-29T00:00:00+14:00", " 2024-02-29T00:00:00 "} {
		f.Add([]byte(s))
	}
	f.Fuzz(checkDateTime)
}

func FuzzParseUint(f *testing.F) {
	for _, s := range []string{"0", "+12", " 7 ", "18446744073709551615", "18446744073709551616", "00000000000000000000001"} {
		f.Add([]byte(s))
	}
	f.Fuzz(checkUint)
}

var (
	sinkHex  HexBinary
	sinkTime time.Time
	sinkUint uint64
)

func BenchmarkScalars(b *testing.B) {
	eid := []byte("89049032000001000000000000000171")
	b.Run("decodeHex/eid", func(b *testing.B) {
		d := xmltext.NewDecoder(nil, xmltext.Limits{})
		for i := 0; b.Loop(); i++ {
			if i%256 == 0 {
				d.Reset(nil, xmltext.Limits{}) // a fresh arena now and then, as a document would
			}
			sinkHex, _ = decodeHex(d, eid)
		}
	})
	ts := []byte("2026-12-03T12:53:09Z")
	b.Run("parseDateTime/utc", func(b *testing.B) {
		for b.Loop() {
			sinkTime, _ = parseDateTime(ts)
		}
	})
	tz := []byte("2018-12-18T21:44:49.120-05:00")
	b.Run("parseDateTime/offset", func(b *testing.B) {
		for b.Loop() {
			sinkTime, _ = parseDateTime(tz)
		}
	})
	n := []byte("720")
	b.Run("parseUint", func(b *testing.B) {
		for b.Loop() {
			sinkUint, _ = parseUint(n)
		}
	})
}

// TestDateTemplates derives parseDateTime's word constants from the layout they stand for.
func TestDateTemplates(t *testing.T) {
	derive := func(layout string) (tmpl, high, add, ten uint64) {
		for i := len(layout) - 1; i >= 0; i-- {
			c := uint64(layout[i])
			tmpl, high, add, ten = tmpl<<8|c, high<<8|0xFF, add<<8, ten<<8
			if c == '0' {
				high, add, ten = high&^0x0F, add|0x06, ten|0x10
			}
		}
		return
	}
	for _, tt := range []struct {
		layout               string
		tmpl, high, add, ten uint64
	}{
		{"0000-00-", dateTmpl1, dateHigh1, dateAdd1, dateTen1},
		{"00T00:00", dateTmpl2, dateHigh2, dateAdd2, dateTen2},
		{"00:00:00", dateTmpl3, dateHigh2, dateAdd2, dateTen2},
	} {
		tmpl, high, add, ten := derive(tt.layout)
		assert.Equal(t, [4]uint64{tmpl, high, add, ten}, [4]uint64{tt.tmpl, tt.high, tt.add, tt.ten}, tt.layout)
	}
}

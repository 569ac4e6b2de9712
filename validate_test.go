package esimgw

import (
	"errors"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The example values of docs/wire.md section 9.
const (
	specEID   = "89049032123451234512345678901235"
	specICCID = "89310410106543789305"
)

func requireRule(t *testing.T, err error, field, rulePart string) {
	t.Helper()
	var ve *ValidationError
	require.True(t, errors.As(err, &ve), "want *ValidationError, got %v", err)
	assert.Equal(t, field, ve.Field)
	assert.Contains(t, ve.Rule, rulePart)
	assert.Contains(t, ve.Error(), "esimgw: invalid "+field+" ")
}

func TestValidateEID(t *testing.T) {
	tests := []struct {
		name string
		eid  string
		rule string // "" = valid
	}{
		{"spec example verifies", specEID, ""},
		{"last check digit changed", "89049032123451234512345678901234", "check digits do not verify (mod 97)"},
		{"two digits swapped", "89049032123451234512345678902135", "check digits do not verify (mod 97)"},
		{"hex upper, no check digits", "89049032123451234512345678ABCDEF", ""},
		{"hex lower, no check digits", "89049032123451234512345678abcdef", ""},
		{"all zero fails mod 97", strings.Repeat("0", 32), "check digits"},
		{"empty", "", "must be 32 hexadecimal digits"},
		{"31 digits", specEID[:31], "got 31 characters"},
		{"33 digits", specEID + "0", "got 33 characters"},
		{"non-hex letter", "8904903212345123451234567890123G", "position 32"},
		{"space", " 9049032123451234512345678901235", "position 1"},
		{"unicode digit counts bytes", "٨904903212345123451234567890123", "hexadecimal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateEID(tt.eid)
			if tt.rule == "" {
				require.NoError(t, err)
				return
			}
			requireRule(t, err, FieldEID, tt.rule)
		})
	}
}

// TestMod97 compares mod97, which reduces every 16 digits, with math/big on random digit strings of
// every length up to 40.
func TestMod97(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	ninetySeven := big.NewInt(97)
	for k := range 5000 {
		b := make([]byte, 1+r.IntN(40))
		for i := range b {
			b[i] = byte('0' + r.IntN(10))
			if k%2 == 0 {
				b[i] = '9' // the largest values between reductions
			}
		}
		n, _ := new(big.Int).SetString(string(b), 10)
		require.Equal(t, int(new(big.Int).Mod(n, ninetySeven).Int64()), mod97(string(b)), "%s", b)
	}
}

func TestEIDWithCheckDigits(t *testing.T) {
	eid, err := EIDWithCheckDigits(specEID[:30])
	require.NoError(t, err)
	assert.Equal(t, specEID, eid)

	for _, p := range []string{
		"890490321234512345123456789012",
		"000000000000000000000000000000",
		"999999999999999999999999999999",
		"890440000000000000000000000000", // check digits below 10 need a leading zero
	} {
		eid, err := EIDWithCheckDigits(p)
		require.NoError(t, err, p)
		require.Len(t, eid, 32)
		assert.NoError(t, ValidateEID(eid), eid)
	}

	for _, bad := range []string{"", "12", specEID, "89049032123451234512345678901A"} {
		_, err := EIDWithCheckDigits(bad)
		requireRule(t, err, FieldEID, "30 decimal digits")
	}
}

func TestValidateICCID(t *testing.T) {
	tests := []struct {
		name  string
		iccid string
		rule  string // "" = valid
	}{
		{"spec example verifies", specICCID, ""},
		{"20 digits, bad Luhn", "89310410106543789304", "Luhn"},
		{"19 digits with Luhn", ICCIDWithLuhn("893104101065437893"), ""},
		{"19 digits, bad Luhn", "8931041010654378930", "Luhn"},
		{"19 digits + F", ICCIDWithLuhn("893104101065437893") + "F", ""},
		{"19 digits + f", ICCIDWithLuhn("893104101065437893") + "f", ""},
		{"19 digits + F, bad Luhn", "8931041010654378930F", "Luhn"},
		{"18 digits, no check digit", "893104101065437893", ""},
		{"18 digits + F, no check digit", "893104101065437893F", ""},
		{"20 digits + F too long", specICCID + "F", "at most 20 characters"},
		{"17 digits", "89310410106543789", "18 to 20 digits, got 17"},
		{"17 digits + F", "89310410106543789F", "18 to 20 digits, got 17"},
		{"XSD minimum is not enough", "893104", "18 to 20 digits, got 6"},
		{"empty", "", "must not be empty"},
		{"wrong prefix", "98310410106543789305", `start with "89"`},
		{"F inside", "8931041010654378F305", "single trailing"},
		{"two trailing F", "893104101065437893FF", "single trailing"},
		{"letter", "8931041010654378930A", "position 20"},
		{"only F", "F", `start with "89"`},
		{"space", "8931041010654378930 ", "position 20"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateICCID(tt.iccid)
			if tt.rule == "" {
				require.NoError(t, err)
				return
			}
			requireRule(t, err, FieldICCID, tt.rule)
		})
	}
}

func TestICCIDWithLuhn(t *testing.T) {
	assert.Equal(t, specICCID, ICCIDWithLuhn(specICCID[:19]))
	assert.Equal(t, "79927398713", ICCIDWithLuhn("7992739871")) // the textbook Luhn example
	assert.Equal(t, "00", ICCIDWithLuhn("0"))
	assert.Empty(t, ICCIDWithLuhn(""))
	assert.Empty(t, ICCIDWithLuhn("89F"))
	assert.Empty(t, ICCIDWithLuhn("-1"))
	// Every single-digit error in the payload is caught.
	for i := 2; i < 19; i++ {
		b := []byte(specICCID)
		b[i] = '0' + (b[i]-'0'+1)%10
		assert.Error(t, ValidateICCID(string(b)), string(b))
	}
}

func TestValidateOID(t *testing.T) {
	tests := []struct {
		name, field, oid, rule string
	}{
		{"entity OID", "Smsr-id", "1.3.6.1.4.1.54008", ""},
		{"single arc", "", "1", ""},
		{"subject code", "", "8.2.1", ""},
		{"leading zeros allowed by the pattern", "", "01.002", ""},
		{"max length", "", "1" + strings.Repeat(".1", (MaxOIDLength-1)/2), ""},
		{"too long", "", "1" + strings.Repeat(".1", MaxOIDLength/2), "at most 128"},
		{"empty", "Mno-id", "", "must not be empty"},
		{"leading dot", "", ".1.2", "position 1"},
		{"trailing dot", "", "1.2.", "ends with a dot"},
		{"empty arc", "", "1..2", "empty arc at position 3"},
		{"letter", "", "1.a", "bad character at position 3"},
		{"space", "", "1.2 ", "bad character"},
		{"negative", "", "-1", "bad character"},
		{"only a dot", "", ".", "empty arc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateOID(tt.field, tt.oid)
			if tt.rule == "" {
				require.NoError(t, err)
				return
			}
			field := tt.field
			if field == "" {
				field = FieldOID
			}
			requireRule(t, err, field, tt.rule)
		})
	}
}

func TestValidateValidityPeriod(t *testing.T) {
	tests := []struct {
		d    time.Duration
		rule string
	}{
		{720 * time.Second, ""},
		{time.Second, ""},
		{24 * time.Hour, ""},
		{0, "positive"},
		{-time.Second, "positive"},
		{999 * time.Millisecond, "positive"},
		{1500 * time.Millisecond, "whole number of seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.d.String(), func(t *testing.T) {
			err := ValidateValidityPeriod(tt.d)
			if tt.rule == "" {
				require.NoError(t, err)
				return
			}
			requireRule(t, err, FieldValidityPeriod, tt.rule)
		})
	}
}

func TestValidateFunctionCallIdentifier(t *testing.T) {
	tests := []struct{ id, rule string }{
		{"fc-20240501-0001", ""},
		{"urn:uuid:7a1b2c3d-4e5f-4a6b-8c9d-aabbccddeeff", ""},
		{"héllo wörld", ""},
		{"", "must not be empty"},
		{strings.Repeat("x", MaxFunctionCallIdentifierLength+1), "at most 256 bytes"},
		{"a\nb", "control characters"},
		{"a\x00b", "control characters"},
		{"a\u0085b", "control characters"},
		{"a\xffb", "UTF-8"},
	}
	for _, tt := range tests {
		err := ValidateFunctionCallIdentifier(tt.id)
		if tt.rule == "" {
			assert.NoError(t, err, tt.id)
			continue
		}
		requireRule(t, err, FieldFunctionCallIdentifier, tt.rule)
	}
}

func TestValidationErrorMessage(t *testing.T) {
	err := ValidateEID("89049032123451234512345678901234")
	assert.EqualError(t, err, `esimgw: invalid Eid "89049032123451234512345678901234": check digits do not verify (mod 97)`)

	long := strings.Repeat("9", 1000)
	msg := ValidateOID("Smsr-id", long).Error()
	assert.Less(t, len(msg), 200, "long values are cut in the message")
	assert.Contains(t, msg, `..."`)
	var ve *ValidationError
	require.ErrorAs(t, ValidateOID("Smsr-id", long), &ve)
	assert.Equal(t, long, ve.Value, "Value stays complete")

	// Cutting never produces invalid UTF-8 in the message.
	msg = ValidateOID("", "1"+strings.Repeat("é", 50)).Error()
	assert.True(t, utf8.ValidString(msg), msg)
	assert.True(t, strings.HasSuffix(msg, "(bad character at position 2)"), msg)
}

func FuzzValidateEID(f *testing.F) {
	for _, s := range []string{specEID, "", strings.Repeat("f", 32), "89049032123451234512345678901234", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateEID(s)
		if err == nil {
			if len(s) != 32 {
				t.Fatalf("accepted %q of length %d", s, len(s))
			}
			return
		}
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != FieldEID {
			t.Fatalf("bad error %v", err)
		}
		_ = err.Error()
	})
}

func FuzzValidateICCID(f *testing.F) {
	for _, s := range []string{specICCID, "", "89", "893104101065437893F", "8931041010654378930F", "FFFF"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateICCID(s)
		if err == nil {
			if len(s) < 18 || len(s) > 20 || !strings.HasPrefix(s, "89") {
				t.Fatalf("accepted %q", s)
			}
			return
		}
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != FieldICCID {
			t.Fatalf("bad error %v", err)
		}
		_ = err.Error()
		if p := ICCIDWithLuhn(s); p != "" && len(s) >= 18 && len(s) <= 19 && strings.HasPrefix(s, "89") {
			if err := ValidateICCID(p); err != nil {
				t.Fatalf("ICCIDWithLuhn(%q) = %q rejected: %v", s, p, err)
			}
		}
	})
}

func FuzzValidateOID(f *testing.F) {
	for _, s := range []string{"1.3.6.1.4.1.54008", "", ".", "1..2", "8.2.1", "1."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateOID("Smsr-id", s)
		if err == nil {
			if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") || strings.Trim(s, "0123456789.") != "" {
				t.Fatalf("accepted %q", s)
			}
			return
		}
		_ = err.Error()
	})
}

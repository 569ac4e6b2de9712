package esimgw

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseStatus(t *testing.T) {
	tests := []struct {
		in   string
		want Status
		ok   bool
	}{
		{"EXECUTED_SUCCESS", StatusExecutedSuccess, true},
		{"EXECUTED_WITHWARNING", StatusExecutedWithWarning, true},
		{"FAILED", StatusFailed, true},
		{"EXPIRED", StatusExpired, true},
		{"Executed-Success", StatusExecutedSuccess, true},
		{"Executed-WithWarning", StatusExecutedWithWarning, true},
		{"Failed", StatusFailed, true},
		{"Expired", StatusExpired, true},
		{" executed_success\n", StatusExecutedSuccess, true},
		{"", "", false},
		{"SUCCESS", "SUCCESS", false},
		{"FAILED!", "FAILED!", false},
		{strings.Repeat("A", 100), Status(strings.Repeat("A", 100)), false},
	}
	for _, tt := range tests {
		got, ok := ParseStatus(tt.in)
		assert.Equal(t, tt.want, got, tt.in)
		assert.Equal(t, tt.ok, ok, tt.in)
		assert.Equal(t, tt.ok, Status(tt.in).IsWire(), tt.in)
	}
	assert.True(t, Status("Executed-WithWarning").Succeeded())
	assert.True(t, StatusExecutedSuccess.Succeeded())
	assert.False(t, StatusFailed.Succeeded())
	assert.False(t, Status("").Succeeded())
}

func TestExecutionStatusErr(t *testing.T) {
	failed := ExecutionStatus{
		Status: StatusFailed, Subject: SubjectProfileICCID, Reason: ReasonUnknown,
		SubjectIdentifier: "89310410106543789305", Message: "Profile ICCID unknown on this eUICC",
	}
	tests := []struct {
		name      string
		st        ExecutionStatus
		wantNil   bool
		is        []error
		isNot     []error
		wantError string
	}{
		{name: "success", st: ExecutionStatus{Status: StatusExecutedSuccess}, wantNil: true},
		{name: "warning", st: ExecutionStatus{Status: StatusExecutedWithWarning, Subject: "8.1", Reason: "3.8"}, wantNil: true},
		{name: "hyphenated success", st: ExecutionStatus{Status: "Executed-Success"}, wantNil: true},
		{
			name: "failed", st: failed, is: []error{ErrFailed}, isNot: []error{ErrExpired, ErrUnknownStatus},
			wantError: "ES4 EnableProfile: FAILED: 8.2.1/3.9 Profile ICCID: unknown (subject 89310410106543789305): Profile ICCID unknown on this eUICC",
		},
		{
			name: "expired", st: ExecutionStatus{Status: StatusExpired, Subject: "1.6", Reason: "5.3"},
			is: []error{ErrExpired}, isNot: []error{ErrFailed},
			wantError: "ES4 EnableProfile: EXPIRED: 1.6/5.3 Function: time to live expired",
		},
		{
			name: "hyphenated failed", st: ExecutionStatus{Status: "Failed"}, is: []error{ErrFailed},
			wantError: "ES4 EnableProfile: Failed",
		},
		{
			name: "unknown status", st: ExecutionStatus{Status: "WEIRD"}, is: []error{ErrUnknownStatus}, isNot: []error{ErrFailed, ErrExpired},
			wantError: "ES4 EnableProfile: WEIRD",
		},
		{
			name: "empty status", st: ExecutionStatus{}, is: []error{ErrUnknownStatus},
			wantError: "ES4 EnableProfile: (no status)",
		},
		{
			// WHTY: subject OID in SubjectIdentifier, reason name in Reason. Shown raw.
			name: "WHTY swapped fields", st: ExecutionStatus{Status: StatusFailed, Reason: "Unknown", SubjectIdentifier: "8.2.1"},
			is:        []error{ErrFailed},
			wantError: "ES4 EnableProfile: FAILED: /Unknown (subject 8.2.1)",
		},
		{
			// Njiwa: Subject=8.4, SubjectIdentifier=4.2.
			name: "Njiwa swapped fields", st: ExecutionStatus{Status: StatusFailed, Subject: "8.4", SubjectIdentifier: "4.2"},
			is:        []error{ErrFailed},
			wantError: "ES4 EnableProfile: FAILED: 8.4/ ISD-R (subject 4.2)",
		},
		{
			name: "vendor codes shown raw only", st: ExecutionStatus{Status: StatusFailed, Subject: "8.9.0", Reason: "Other error"},
			wantError: "ES4 EnableProfile: FAILED: 8.9.0/Other error",
		},
		{
			name: "control characters in message", st: ExecutionStatus{Status: StatusFailed, Message: "line1\nline2\x00"},
			wantError: "ES4 EnableProfile: FAILED: line1 line2 ",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.st.Err("ES4", "EnableProfile")
			if tt.wantNil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			wrapped := fmt.Errorf("call: %w", err)
			for _, target := range tt.is {
				assert.ErrorIs(t, wrapped, target)
			}
			for _, target := range tt.isNot {
				assert.NotErrorIs(t, wrapped, target)
			}
			var fe *FunctionError
			require.ErrorAs(t, wrapped, &fe)
			assert.Equal(t, "ES4", fe.Interface)
			assert.Equal(t, "EnableProfile", fe.Function)
			assert.Equal(t, tt.st, fe.ExecutionStatus, "fields kept raw")
			if tt.wantError != "" {
				assert.Equal(t, tt.wantError, err.Error())
			}
		})
	}
}

func TestFunctionErrorPrefix(t *testing.T) {
	st := ExecutionStatus{Status: StatusFailed}
	assert.Equal(t, "esimgw: FAILED", (&FunctionError{ExecutionStatus: st}).Error())
	assert.Equal(t, "GetEIS: FAILED", (&FunctionError{Function: "GetEIS", ExecutionStatus: st}).Error())
	long := (&FunctionError{Interface: "ES2", Function: "X", ExecutionStatus: ExecutionStatus{Status: StatusFailed, Message: strings.Repeat("m", 5000)}}).Error()
	assert.Less(t, len(long), 700)
	assert.True(t, strings.HasSuffix(long, "..."))
	assert.False(t, errors.Is(&FunctionError{ExecutionStatus: ExecutionStatus{Status: StatusExecutedSuccess}}, ErrFailed))
}

func TestWarning(t *testing.T) {
	assert.Nil(t, ExecutionStatus{Status: StatusExecutedSuccess}.Warning())
	assert.Nil(t, ExecutionStatus{Status: StatusFailed}.Warning())
	w := ExecutionStatus{Status: "Executed-WithWarning", Subject: "8.1", Reason: "3.8", Message: "m"}.Warning()
	require.NotNil(t, w)
	assert.Equal(t, "8.1", w.Subject)
	assert.Equal(t, "eUICC: refused", w.Description())
	assert.Equal(t, "Executed-WithWarning: 8.1/3.8 eUICC: refused: m", w.String())
}

func TestExecutionStatusCode(t *testing.T) {
	assert.Equal(t, "", ExecutionStatus{Status: StatusFailed}.Code())
	assert.Equal(t, "8.2.1,3.9", ExecutionStatus{Subject: "8.2.1", Reason: "3.9"}.Code())
	assert.Equal(t, ",Unknown", ExecutionStatus{Reason: "Unknown"}.Code())
}

func TestCodes(t *testing.T) {
	tests := []struct{ subject, reason, want string }{
		{"8.2.1", "3.9", "Profile ICCID: unknown"},
		{" 8.2.1 ", "3.9\n", "Profile ICCID: unknown"},
		{"1.2.1", "3.8", "Validity period: refused"},
		{"1.6", "5.4", "Function: delivered with no response"},
		{"8.5.3", "6.3", "SM-SR certificate: expired"},
		{"8.9.0", "3.9", "8.9.0: unknown"},
		{"8.2.1", "9.9", "Profile ICCID: 9.9"},
		{"8.9.0", "Other error", "8.9.0: Other error"},
		{"8.2.1", "", "Profile ICCID"},
		{"", "3.9", "unknown"},
		{"", "", ""},
		{"1.6", "6.4", "Function: time out"}, // [U]
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, DescribeCode(tt.subject, tt.reason), "%s/%s", tt.subject, tt.reason)
	}
	for _, c := range []string{
		SubjectFunctionRequester, SubjectFunctionProvider, SubjectValidityPeriod, SubjectFunction, SubjectEUICC,
		SubjectEID, SubjectProfile, SubjectProfileICCID, SubjectPOL1, SubjectPOL2, SubjectProfileType,
		SubjectSubscriptionAddress, SubjectISDR, SubjectECASDCertificate, SubjectSMSRCertificate, SubjectEIS, SubjectSMSR,
	} {
		assert.NotEmpty(t, SubjectName(c), c)
		assert.NoError(t, ValidateOID("Subject", c))
	}
	for _, c := range []string{
		ReasonUnknownIdentity, ReasonNotAllowed, ReasonInvalid, ReasonMandatoryElementMissing,
		ReasonConditionalElementMissing, ReasonRefused, ReasonUnknown, ReasonExecutionError, ReasonBusy,
		ReasonTTLExpired, ReasonDeliveredWithNoResponse, ReasonExpired,
	} {
		name := ReasonName(c)
		assert.NotEmpty(t, name, c)
		assert.Equal(t, strings.ToLower(name), name, "reason names are lower case")
		assert.NoError(t, ValidateOID("Reason", c))
	}
	assert.Empty(t, SubjectName("8.2.4"))
	assert.Empty(t, ReasonName("Unknown"))
}

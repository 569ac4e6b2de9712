package esimgw_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/wsdl/rps"
)

func TestResultOf(t *testing.T) {
	start := time.Date(2024, 5, 1, 10, 0, 1, 0, time.UTC)
	end := start.Add(39 * time.Second)
	ps, pe := rps.NewDateTime(start), rps.NewDateTime(end)
	failed := &esimgw.FunctionError{Interface: "ES4", Function: "EnableProfile", ExecutionStatus: esimgw.ExecutionStatus{Status: esimgw.StatusFailed}}
	warn := &esimgw.Warning{Status: esimgw.StatusExecutedWithWarning, Subject: "8.1", Reason: "1.1"}
	tests := []struct {
		name      string
		resp      rps.Response
		warn      *esimgw.Warning
		err       error
		wantNil   bool
		wantEuicc []byte
		wantTimes bool
	}{
		{name: "nil response, no error", wantNil: true},
		{name: "nil response with error", err: esimgw.ErrAbandoned, wantNil: true},
		{name: "success with times and data", resp: &rps.ES4EnableProfileResponse{
			BaseResponseType:  rps.BaseResponseType{ProcessingStart: &ps, ProcessingEnd: &pe, FunctionExecutionStatus: rps.ExecutionStatusType{Status: rps.StatusTypeEXECUTED_SUCCESS}},
			EuiccResponseData: rps.HexBinary{0x90, 0x00}}, wantEuicc: []byte{0x90, 0x00}, wantTimes: true},
		{name: "success without optional parts", resp: &rps.ES4EnableProfileResponse{BaseResponseType: statusBase(rps.StatusTypeEXECUTED_SUCCESS)}},
		{name: "empty EuiccResponseData stays nil", resp: &rps.ES2EnableProfileResponse{BaseResponseType: statusBase(rps.StatusTypeEXECUTED_SUCCESS),
			EuiccResponseData: rps.HexBinary{}}},
		{name: "response without EuiccResponseData field", resp: &rps.ES4GetEISResponse{BaseResponseType: statusBase(rps.StatusTypeEXECUTED_SUCCESS)}},
		{name: "warning", resp: &rps.ES4EnableProfileResponse{BaseResponseType: statusBase(rps.StatusTypeEXECUTED_WITHWARNING, "8.1", "1.1")}, warn: warn},
		{name: "FAILED keeps the result and the error", resp: &rps.ES4EnableProfileResponse{BaseResponseType: statusBase(rps.StatusTypeFAILED),
			EuiccResponseData: rps.HexBinary{0x6A, 0x88}}, err: failed, wantEuicc: []byte{0x6A, 0x88}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := esimgw.ResultOf(tt.resp, tt.warn, tt.err)
			assert.Equal(t, tt.err, err, "the error passes through unchanged")
			if tt.wantNil {
				assert.Nil(t, r)
				return
			}
			require.NotNil(t, r)
			assert.Same(t, tt.warn, r.Warning)
			assert.Equal(t, tt.wantEuicc, r.EuiccResponseData)
			if tt.wantTimes {
				assert.True(t, r.ProcessingStart.Equal(start))
				assert.True(t, r.ProcessingEnd.Equal(end))
			} else {
				assert.True(t, r.ProcessingStart.IsZero())
				assert.True(t, r.ProcessingEnd.IsZero())
			}
			assert.Equal(t, tt.err, r.Err, "the result keeps the error it came with")
			assert.Equal(t, esimgw.OutcomeOf(tt.warn, tt.err), r.Outcome())
			if tt.err != nil {
				assert.Equal(t, esimgw.StatusFailed, r.Outcome().Status, "a FAILED result never reads as a success")
			}
		})
	}
}

func TestEISResultOf(t *testing.T) {
	eis := &rps.EISType{SmsrID: peerOID, RemainingMemory: 4096}
	failed := &esimgw.FunctionError{ExecutionStatus: esimgw.ExecutionStatus{Status: esimgw.StatusFailed}}
	tests := []struct {
		name    string
		resp    rps.Response
		err     error
		wantNil bool
		wantEIS *rps.EISType
	}{
		{name: "nil response", wantNil: true},
		{name: "nil response with error", err: failed, wantNil: true},
		{name: "ES4 GetEIS", resp: &rps.ES4GetEISResponse{BaseResponseType: statusBase(rps.StatusTypeEXECUTED_SUCCESS), Eis: eis}, wantEIS: eis},
		{name: "ES2 GetEIS", resp: &rps.ES2GetEISResponse{BaseResponseType: statusBase(rps.StatusTypeEXECUTED_SUCCESS), Eis: eis}, wantEIS: eis},
		{name: "ES4 AuditEIS", resp: &rps.ES4AuditEISResponse{BaseResponseType: statusBase(rps.StatusTypeEXECUTED_SUCCESS), Eis: eis}, wantEIS: eis},
		{name: "AuditEIS without Eis", resp: &rps.ES4AuditEISResponse{BaseResponseType: statusBase(rps.StatusTypeEXECUTED_SUCCESS)}},
		{name: "FAILED AuditEIS", resp: &rps.ES4AuditEISResponse{BaseResponseType: statusBase(rps.StatusTypeFAILED)}, err: failed},
		{name: "a response that carries no EIS", resp: &rps.ES4EnableProfileResponse{BaseResponseType: statusBase(rps.StatusTypeEXECUTED_SUCCESS)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := esimgw.EISResultOf(tt.resp, nil, tt.err)
			assert.Equal(t, tt.err, err)
			if tt.wantNil {
				assert.Nil(t, r)
				return
			}
			require.NotNil(t, r)
			assert.Same(t, tt.wantEIS, r.EIS)
		})
	}
}

func TestParseEIDAndValidateProfile(t *testing.T) {
	hexEID := "89049032ABCDEF12345123456789ABCD"
	tests := []struct {
		name      string
		eid       string
		iccid     string
		wantField string // "" means valid
	}{
		{name: "valid decimal EID", eid: testEID, iccid: testICCID},
		{name: "valid hex EID", eid: hexEID, iccid: testICCID},
		{name: "lower-case hex EID", eid: "89049032abcdef12345123456789abcd", iccid: testICCID},
		{name: "EID too short", eid: testEID[:30], iccid: testICCID, wantField: esimgw.FieldEID},
		{name: "EID too long", eid: testEID + "00", iccid: testICCID, wantField: esimgw.FieldEID},
		{name: "EID not hex", eid: "8904903212345123451234567890123Z", iccid: testICCID, wantField: esimgw.FieldEID},
		{name: "EID check digits", eid: "89049032123451234512345678901234", iccid: testICCID, wantField: esimgw.FieldEID},
		{name: "EID empty", eid: "", iccid: testICCID, wantField: esimgw.FieldEID},
		{name: "ICCID bad Luhn", eid: testEID, iccid: "89310410106543789306", wantField: esimgw.FieldICCID},
		{name: "ICCID empty", eid: testEID, iccid: "", wantField: esimgw.FieldICCID},
		{name: "ICCID letters", eid: testEID, iccid: "8931041010654378930X", wantField: esimgw.FieldICCID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eidErr := esimgw.ValidateEID(tt.eid)
			b, err := esimgw.ParseEID(tt.eid)
			if eidErr != nil {
				var ve *esimgw.ValidationError
				require.ErrorAs(t, err, &ve)
				assert.Equal(t, esimgw.FieldEID, ve.Field)
				assert.Nil(t, b)
			} else {
				require.NoError(t, err)
				assert.Len(t, b, 16)
				assert.Equal(t, toUpper(tt.eid), b.String())
			}

			b, err = esimgw.ValidateProfile(tt.eid, tt.iccid)
			if tt.wantField == "" {
				require.NoError(t, err)
				assert.Len(t, b, 16)
				return
			}
			var ve *esimgw.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tt.wantField, ve.Field)
			assert.False(t, errors.Is(err, esimgw.ErrFailed))
		})
	}
}

func toUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

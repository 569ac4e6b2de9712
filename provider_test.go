package esimgw_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/wsdl/rps"
)

func TestValidateActivationCode(t *testing.T) {
	for _, c := range []struct {
		code string
		ok   bool
	}{
		{"1$smdp.example.com$04386-AGYFT-A74Y8-3F815", true},
		{"LPA:1$smdp.example.com$ABC", true},
		{"1$smdp.example.com$", true}, // SGP.22 lets the matching ID be empty
		{"1$smdp.example.com$ABC$1.3.6.1.4.1.31746$1", true},
		{"K3Y-S3CR3T-0001", true}, // a bare secret, as some platforms issue
		{"", false},
		{" 1$smdp.example.com$ABC", false},
		{"LPA:", false},
		{"2$smdp.example.com$ABC", false},
		{"1$smdp.example.com", false},
		{"1$$ABC", false},
		{"1$smdp example$ABC", false},
		{"1$smdp.example.com$AB\x00C", false},
		{"1$smdp.example.com$ÄBC", false},
		{strings.Repeat("A", 256), false},
	} {
		err := esimgw.ValidateActivationCode(c.code)
		if c.ok {
			assert.NoError(t, err, c.code)
			continue
		}
		var ve *esimgw.ValidationError
		require.ErrorAs(t, err, &ve, c.code)
		assert.Equal(t, esimgw.FieldActivationCode, ve.Field)
	}
}

func TestValidateNoAccount(t *testing.T) {
	require.NoError(t, esimgw.ValidateNoAccount(esimgw.PlatformES4, ""))
	var ve *esimgw.ValidationError
	require.ErrorAs(t, esimgw.ValidateNoAccount(esimgw.PlatformES4, "0001"), &ve)
	assert.Equal(t, esimgw.FieldAccount, ve.Field)
	assert.Contains(t, ve.Error(), "ES4")
}

func TestProfileRefValidate(t *testing.T) {
	require.NoError(t, esimgw.ProfileRef{EID: "89049032000001000000000000000171", ICCID: "89310410000000000019"}.Validate())
	var ve *esimgw.ValidationError
	require.ErrorAs(t, esimgw.ProfileRef{EID: "89049032000001000000000000000171"}.Validate(), &ve)
	assert.Equal(t, esimgw.FieldICCID, ve.Field)
	require.ErrorAs(t, esimgw.ProfileRef{ICCID: "89310410000000000019"}.Validate(), &ve)
	assert.Equal(t, esimgw.FieldEID, ve.Field)
}

func TestCompletedOperation(t *testing.T) {
	ctx := context.Background()
	ok := esimgw.CompletedOperation(correlate.OperationKey{Interface: "ES2", Function: "GetEIS"}, &esimgw.AuditResult{EID: "x"}, nil)
	r, err := ok.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, "x", r.EID)
	assert.Equal(t, "GetEIS", ok.Function())
	assert.NotEmpty(t, ok.MessageID())
	select {
	case <-ok.Done():
	default:
		t.Fatal("a completed operation is done")
	}

	fe := &esimgw.FunctionError{Interface: "ES2", Function: "GetEIS", ExecutionStatus: esimgw.ExecutionStatus{Status: esimgw.StatusFailed}}
	failed := esimgw.CompletedOperation(correlate.OperationKey{}, &esimgw.AuditResult{EID: "y"}, error(fe))
	r, err = failed.Wait(ctx)
	assert.True(t, errors.Is(err, esimgw.ErrFailed))
	require.NotNil(t, r, "the result travels with the FunctionError, as from CallResult")
	assert.NotEqual(t, ok.MessageID(), failed.MessageID())
}

func TestAuditResultOfEIS(t *testing.T) {
	assert.Nil(t, esimgw.AuditResultOfEIS("e", nil))
	r := esimgw.AuditResultOfEIS("e", &esimgw.EISResult{EIS: &rps.EISType{ProfileInfo: []rps.ProfileInfoType{
		{Iccid: "1", State: rps.ProfileStateTypeEnabled, FallbackAttribute: true, ProfileType: "iot"},
		{Iccid: "2", State: rps.ProfileStateTypeDisabled},
		{Iccid: "3", State: rps.ProfileStateTypeCreated},
		{Iccid: "4", State: "Weird"},
	}}})
	require.Len(t, r.Profiles, 4)
	assert.Equal(t, esimgw.ProfileInfo{ICCID: "1", State: esimgw.ProfileStateEnabled, Type: "iot", Fallback: true}, r.Profiles[0])
	assert.Equal(t, esimgw.ProfileStateDisabled, r.Profiles[1].State)
	assert.Equal(t, esimgw.ProfileStateCreated, r.Profiles[2].State)
	assert.Equal(t, esimgw.ProfileStateUnknown, r.Profiles[3].State)
	_, found := r.Profile("5")
	assert.False(t, found)
}

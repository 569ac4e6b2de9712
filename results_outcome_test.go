package esimgw_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/wsdl/rps"
)

func TestResultOutcomeReportsTheFunctionError(t *testing.T) {
	resp := &rps.ES4EnableProfileResponse{}
	resp.FunctionExecutionStatus = rps.ExecutionStatusType{Status: rps.StatusTypeFAILED,
		StatusCodeData: &rps.StatusCodeDataType{Subject: "8.2.1", Reason: "3.9"}}
	warn, err := esimgw.ResponseStatus("ES4", "EnableProfile", resp)
	r, err := esimgw.ResultOf(resp, warn, err)
	assert.ErrorIs(t, err, esimgw.ErrFailed)
	out := r.Outcome()
	assert.Equal(t, esimgw.StatusFailed, out.Status)
	assert.Equal(t, "8.2.1,3.9", out.StatusCode)

	ok := &rps.ES4EnableProfileResponse{}
	ok.FunctionExecutionStatus.Status = rps.StatusTypeEXECUTED_SUCCESS
	r, err = esimgw.ResultOf(ok, nil, nil)
	assert.NoError(t, err)
	assert.Equal(t, esimgw.StatusExecutedSuccess, r.Outcome().Status)
}

package esimgw_test

import (
	"errors"
	"fmt"

	"github.com/esimgw/esimgw"
)

func ExampleFunctionError() {
	// What an ES4 EnableProfile callback said, as the es4 client would return it.
	status := esimgw.ExecutionStatus{
		Status:            esimgw.StatusFailed,
		Subject:           "8.2.1",
		Reason:            "3.9",
		SubjectIdentifier: "89310410106543789305",
		Message:           "Profile ICCID unknown on this eUICC",
	}
	err := fmt.Errorf("enable: %w", status.Err("ES4", "EnableProfile"))

	fmt.Println(err)
	fmt.Println(errors.Is(err, esimgw.ErrFailed), errors.Is(err, esimgw.ErrExpired))

	var fe *esimgw.FunctionError
	if errors.As(err, &fe) && fe.Subject == esimgw.SubjectProfileICCID && fe.Reason == esimgw.ReasonUnknown {
		fmt.Println("unknown profile:", fe.SubjectIdentifier)
	}
	fmt.Printf("%+v\n", esimgw.OutcomeOf(nil, err))
	// Output:
	// enable: ES4 EnableProfile: FAILED: 8.2.1/3.9 Profile ICCID: unknown (subject 89310410106543789305): Profile ICCID unknown on this eUICC
	// true false
	// unknown profile: 89310410106543789305
	// {Status:FAILED StatusCode:8.2.1,3.9 Description:Profile ICCID: unknown Message:Profile ICCID unknown on this eUICC}
}

func ExampleDescribeCode() {
	fmt.Println(esimgw.DescribeCode("8.2.1", "3.9"))
	fmt.Println(esimgw.DescribeCode("1.6", "5.3"))
	fmt.Println(esimgw.DescribeCode("8.9.0", "Other error"))
	// Output:
	// Profile ICCID: unknown
	// Function: time to live expired
	// 8.9.0: Other error
}

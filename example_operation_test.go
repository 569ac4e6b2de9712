package esimgw_test

import (
	"context"
	"fmt"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/correlate"
)

// enableResult stands for the typed result an es4 client would return.
type enableResult struct {
	Warning *esimgw.Warning
}

func ExampleOperation() {
	tracker := correlate.NewTracker()

	// 1. The client registers the operation before it sends the request.
	key := correlate.OperationKey{
		MessageID:              "//1.3.6.1.4.1.99999.10/urn:uuid:0f8c2a3e-1d2b-4c5a-9e7f-112233445566?TransactionId=urn:uuid:7a1b2c3d-4e5f-4a6b-8c9d-aabbccddeeff&MessageDate=2024-05-01T10:00:00Z",
		TransactionID:          "urn:uuid:7a1b2c3d-4e5f-4a6b-8c9d-aabbccddeeff",
		FunctionCallIdentifier: "fc-20240501-0001",
		Interface:              "ES4",
		Function:               "EnableProfile",
	}
	pending, err := tracker.Register(key)
	if err != nil {
		fmt.Println(err)
		return
	}
	op := esimgw.NewOperation(tracker, pending, func(v any, err error) (*enableResult, error) {
		if err != nil {
			return nil, err
		}
		st, _ := v.(esimgw.ExecutionStatus) // the decoded response, here just its status
		if err := st.Err("ES4", "EnableProfile"); err != nil {
			return nil, err
		}
		return &enableResult{Warning: st.Warning()}, nil
	})

	// 2. The callback server decodes a callback with no RelatesTo (as gSOAP
	// sends them); the TransactionId inside its MessageID ties it back.
	res := tracker.Deliver(correlate.Delivery{
		MessageID: "//1.3.6.1.4.1.99999.20/urn:uuid:c0ffee00-0000-4000-8000-000000000001?TransactionId=urn:uuid:7a1b2c3d-4e5f-4a6b-8c9d-aabbccddeeff&MessageDate=2024-05-01T10:00:41Z",
		Value:     esimgw.ExecutionStatus{Status: esimgw.StatusExecutedSuccess},
	})
	fmt.Println(res.Match, res.Key.FunctionCallIdentifier)

	// 3. The caller waits; the result was kept although it came first.
	r, err := op.Wait(context.Background())
	fmt.Println(r.Warning, err, tracker.Pending())

	// A second copy of the callback resolves nothing.
	fmt.Println(tracker.Deliver(correlate.Delivery{RelatesTo: key.MessageID}).Match)
	// Output:
	// matched fc-20240501-0001
	// <nil> <nil> 0
	// duplicate
}

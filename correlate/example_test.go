package correlate_test

import (
	"context"
	"fmt"
	"time"

	"github.com/esimgw/esimgw/correlate"
)

// A gSOAP gateway's callback has no RelatesTo: the Tracker finds the operation by the TransactionId inside
// the callback's own MessageID, resolves it once, and takes a second copy for a duplicate.
func ExampleTracker() {
	tracker := correlate.NewTracker(correlate.WithMaxPending(10_000))

	// The client registers the operation before its request leaves.
	key := correlate.OperationKey{
		MessageID:              "//1.3.6.1.4.1.99999.10/urn:uuid:0f8c2a3e?TransactionId=urn:uuid:7a1b2c3d&MessageDate=2024-05-01T10:00:00Z",
		TransactionID:          "urn:uuid:7a1b2c3d",
		FunctionCallIdentifier: "fc-0001",
		Interface:              "ES4",
		Function:               "EnableProfile",
	}
	pending, err := tracker.RegisterOperation(context.Background(), key, time.Time{})
	if err != nil {
		fmt.Println(err)
		return
	}

	// The Dispatcher delivers the decoded callback.
	callback := correlate.Delivery{
		MessageID: "//1.3.6.1.4.1.99999.20/urn:uuid:c0ffee00?TransactionId=urn:uuid:7a1b2c3d&MessageDate=2024-05-01T10:00:41Z",
		Value:     "EXECUTED_SUCCESS",
		Interface: "ES4",
		Function:  "EnableProfile",
	}
	res, _ := tracker.DeliverCallback(context.Background(), callback)
	fmt.Println(res.Match, res.Key.FunctionCallIdentifier)

	// The waiter reads the result.
	<-pending.Done()
	value, err, resolved := pending.Result()
	fmt.Println(value, err, resolved)

	// The gateway's retry of the same callback resolves nothing.
	res, _ = tracker.DeliverCallback(context.Background(), callback)
	fmt.Println(res.Match, tracker.Pending())
	// Output:
	// matched fc-0001
	// EXECUTED_SUCCESS <nil> true
	// duplicate 0
}

// A callback of another function (an AuditEIS result naming an EnableProfile request) is Mismatched: it
// resolves nothing, and the operation still waits for its own result.
func ExampleDelivery_Answers() {
	key := correlate.OperationKey{MessageID: "//1.2/urn:uuid:enable", Interface: "ES4", Function: "EnableProfile"}
	audit := correlate.Delivery{RelatesTo: key.MessageID, Interface: "ES4", Function: "AuditEIS"}
	fmt.Println(audit.Answers(key))

	tracker := correlate.NewTracker()
	if _, err := tracker.Register(key); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tracker.Deliver(audit).Match, tracker.Pending())
	// Output:
	// false
	// mismatched 1
}

// TransactionIDFromMessageID reads the TransactionId a GSMA MessageID carries, %-escaped or not.
func ExampleTransactionIDFromMessageID() {
	fmt.Println(correlate.TransactionIDFromMessageID("//1.3.6.1.4.1.20/urn:uuid:78c2?TransactionId=urn%3Auuid%3A68ea&MessageDate=2018-12-19T02:44:49Z"))
	// Output: urn:uuid:68ea
}

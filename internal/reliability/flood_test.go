package reliability_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/gatewaytest"
)

// TestUnmatchedCallbackFlood: 100 callbacks for abandoned operations, each posted 3 times with the same
// bytes, reach the unmatched handler 100 times, not 300 (issue 15, item 4): the copies are de-duplicated
// by MessageID as notifications are, and reported to the duplicate handler.
func TestUnmatchedCallbackFlood(t *testing.T) {
	const n = 100
	r := newRig(t, nil)
	// Hold the 100 callbacks until all are ready, then post each three times.
	r.gw.Inject(gatewaytest.ReorderCallbacks{Batch: 3 * n, Times: 1}, gatewaytest.DuplicateCallbacks{Copies: 3})
	fcs := make([]string, 0, n)
	for range n {
		op, err := r.client.AuditEIS(t.Context(), eid, nil)
		require.NoError(t, err)
		if !op.Abandon() {
			_, err := op.Wait(t.Context())
			t.Fatalf("call %d resolved before it was abandoned: %v", len(fcs), err)
		}
		fcs = append(fcs, op.FunctionCallIdentifier())
	}
	cbs := deliveredCallbacks(t, r.gw, 3*n)
	require.Len(t, cbs, 3*n)
	for _, c := range cbs {
		assert.Equal(t, gatewaytest.OutcomeDelivered, c.Outcome, "every copy acknowledged")
	}
	require.Eventually(t, func() bool { return r.book.duplicateCount() == 2*n }, eventually, 5*time.Millisecond)
	for _, fc := range fcs {
		assert.Len(t, r.book.unmatchedOf(fc), 1, "handed over once: %s", fc)
	}
}

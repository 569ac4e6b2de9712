package reliability_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/soap"
)

const (
	eid      = gatewaytest.DefaultEID
	disabled = gatewaytest.DefaultDisabledICCID
	enabled  = gatewaytest.DefaultEnabledICCID
)

// TestFaultMatrix drives one fault of the mock at a time through the whole stack (es4.Client over mTLS,
// the mock, its callback over mTLS to the CallbackServer and Dispatcher) and accounts for every result:
// each function call's result reaches the application exactly once (through Wait or through the
// unmatched handler), and the mock executes each function once whatever the retries.
func TestFaultMatrix(t *testing.T) {
	cases := []struct {
		name   string
		gwOpts []gatewaytest.Option
		// run drives the scenario, asserts what the application saw and returns the FunctionCallIdentifiers
		// of the calls the gateway accepted, whose results the ledger must show exactly once.
		run func(t *testing.T, r *rig) []string
	}{
		{
			name: "connection reset after the request was read: not resent; the caller's retry with the same FunctionCallIdentifier runs it once",
			run: func(t *testing.T, r *rig) []string {
				r.gw.Inject(gatewaytest.ResetConnections{Times: 1})
				const fc = "urn:uuid:0b6f1e9c-6a51-4c55-9d5e-resetafterrd"
				op, err := r.client.EnableProfile(t.Context(), eid, disabled, esimgw.WithFunctionCallIdentifier(fc))
				require.NoError(t, err, "the outcome is unknown: the operation stays pending for a callback")
				require.Len(t, r.sent.bodies(fc), 1, "not resent once it may have been read")
				assert.Equal(t, 1, r.op.Dispatcher.Tracker().Pending())
				// No callback comes (the mock had not executed it): Wait says the outcome is unknown.
				ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
				defer cancel()
				_, err = op.Wait(ctx)
				r.book.waited(fc, err)
				require.ErrorIs(t, err, esimgw.ErrOutcomeUnknown)
				assert.Contains(t, err.Error(), "only with the same FunctionCallIdentifier "+fc)
				// The documented rule: call again with the same FunctionCallIdentifier.
				retry, err := r.client.EnableProfile(t.Context(), eid, disabled, esimgw.WithFunctionCallIdentifier(fc))
				require.NoError(t, err)
				_, err = r.wait(t, retry)
				require.NoError(t, err)
				assert.Equal(t, []string{"ResetConnections"}, injectedNames(r.gw.Requests()))
				assert.Equal(t, 1, r.gw.Executions(fc))
				return []string{fc}
			},
		},
		{
			name: "two 503s: retried with the same bytes, executed once",
			run: func(t *testing.T, r *rig) []string {
				r.gw.Inject(gatewaytest.ServiceUnavailable{Times: 2})
				op, err := r.client.EnableProfile(t.Context(), eid, disabled)
				require.NoError(t, err)
				_, err = r.wait(t, op)
				require.NoError(t, err)
				fc := op.FunctionCallIdentifier()
				sent := r.sent.bodies(fc)
				require.Len(t, sent, 3)
				assert.True(t, identical(sent))
				assert.Equal(t, 1, r.gw.Executions(fc))
				assert.Equal(t, 1, r.gw.Arrivals(fc), "the 503s were answered before the mock read the request")
				return []string{fc}
			},
		},
		{
			name: "connection refused twice: retried, executed once",
			run: func(t *testing.T, r *rig) []string {
				r.gw.Inject(gatewaytest.RefuseConnections{Times: 2})
				op, err := r.client.EnableProfile(t.Context(), eid, disabled)
				require.NoError(t, err)
				_, err = r.wait(t, op)
				require.NoError(t, err)
				fc := op.FunctionCallIdentifier()
				assert.True(t, identical(r.sent.bodies(fc)))
				assert.Equal(t, 2, r.gw.FaultsFired(gatewaytest.RefuseConnections{}))
				assert.Equal(t, 1, r.gw.Executions(fc))
				return []string{fc}
			},
		},
		{
			name: "202 lost after execution (answer timed out): not resent, the callback resolves the pending operation",
			run: func(t *testing.T, r *rig) []string {
				// A client whose attempts give up waiting for response headers after 300 ms; the mock holds
				// the first 202 for a minute. The request was executed; it is not sent again, and its
				// callback resolves the operation that stayed pending.
				tr := soap.NewTransportWith(r.gw.ClientTLSConfig(), soap.TransportSettings{ResponseHeaderTimeout: 300 * time.Millisecond})
				t.Cleanup(tr.CloseIdleConnections)
				sent := &attempts{next: tr}
				c := r.newClient(t, sent)
				r.gw.Inject(gatewaytest.Delay202{Delay: time.Minute, Times: 1})
				op, err := c.EnableProfile(t.Context(), eid, disabled)
				require.NoError(t, err)
				_, err = r.wait(t, op)
				require.NoError(t, err)
				fc := op.FunctionCallIdentifier()
				assert.Len(t, sent.bodies(fc), 1, "not resent")
				assert.Equal(t, 1, r.gw.Arrivals(fc))
				assert.Equal(t, 1, r.gw.Executions(fc))
				assert.Len(t, deliveredCallbacks(t, r.gw, 1), 1, "one callback")
				return []string{fc}
			},
		},
		{
			name: "202 delayed past the caller's deadline: the operation stays pending and the late callback resolves it",
			run: func(t *testing.T, r *rig) []string {
				r.gw.Inject(gatewaytest.Delay202{Delay: time.Minute, Times: 1}, gatewaytest.ReorderCallbacks{Batch: 2, Times: 1})
				const fc = "urn:uuid:0b6f1e9c-6a51-4c55-9d5e-delayed20200"
				ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
				defer cancel()
				op, err := r.client.EnableProfile(ctx, eid, disabled, esimgw.WithFunctionCallIdentifier(fc))
				require.NoError(t, err, "outcome unknown is not a failure of the call: its callback may come")
				assert.Equal(t, 1, r.op.Dispatcher.Tracker().Pending(), "kept registered")
				// The held callback is released only now, after the call gave up.
				r.gw.Reset()
				_, err = r.wait(t, op)
				require.NoError(t, err, "the function succeeded at the gateway, and Wait says so")
				assert.Empty(t, r.book.unmatchedOf(fc))
				assert.Equal(t, 1, r.gw.Executions(fc))
				return []string{fc}
			},
		},
		{
			name: "callback arrives while the 202 is held past the deadline: the result is not lost",
			run: func(t *testing.T, r *rig) []string {
				// The callback resolves the registered operation before the call's deadline ends it.
				r.gw.Inject(gatewaytest.CallbackBefore202{Times: 1}, gatewaytest.Delay202{Delay: time.Minute, Times: 1})
				const fc = "urn:uuid:0b6f1e9c-6a51-4c55-9d5e-delayedearly"
				ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
				defer cancel()
				op, err := r.client.EnableProfile(ctx, eid, disabled, esimgw.WithFunctionCallIdentifier(fc))
				require.NoError(t, err, "the result is here: the call returns its operation, resolved")
				select {
				case <-op.Done():
				default:
					t.Fatal("the operation is not resolved")
				}
				_, err = r.wait(t, op)
				require.NoError(t, err)
				assert.Equal(t, gatewaytest.OutcomeDelivered, deliveredCallbacks(t, r.gw, 1)[0].Outcome)
				assert.Equal(t, 1, r.gw.Executions(fc))
				return []string{fc}
			},
		},
		{
			name: "callback before the 202",
			run: func(t *testing.T, r *rig) []string {
				r.gw.Inject(gatewaytest.CallbackBefore202{Times: 1})
				op, err := r.client.EnableProfile(t.Context(), eid, disabled)
				require.NoError(t, err)
				_, err = r.wait(t, op)
				require.NoError(t, err)
				assert.Equal(t, 1, r.gw.FaultsFired(gatewaytest.CallbackBefore202{}))
				return []string{op.FunctionCallIdentifier()}
			},
		},
		{
			name: "callback posted three times: resolved once, two duplicates reported",
			run: func(t *testing.T, r *rig) []string {
				r.gw.Inject(gatewaytest.DuplicateCallbacks{Copies: 3, Times: 1})
				op, err := r.client.EnableProfile(t.Context(), eid, disabled)
				require.NoError(t, err)
				_, err = r.wait(t, op)
				require.NoError(t, err)
				cbs := deliveredCallbacks(t, r.gw, 3)
				for _, c := range cbs {
					assert.Equal(t, gatewaytest.OutcomeDelivered, c.Outcome, "every copy acknowledged")
				}
				assert.Equal(t, 2, r.book.duplicateCount())
				return []string{op.FunctionCallIdentifier()}
			},
		},
		{
			name: "three callbacks in reverse order: each resolves its own operation",
			run: func(t *testing.T, r *rig) []string {
				r.gw.Inject(gatewaytest.ReorderCallbacks{Batch: 3, Times: 1})
				enable, err := r.client.EnableProfile(t.Context(), eid, disabled)
				require.NoError(t, err)
				audit, err := r.client.AuditEIS(t.Context(), gatewaytest.SecondEID, nil)
				require.NoError(t, err)
				expire, err := r.client.DisableProfile(t.Context(), gatewaytest.UnreachableEID, gatewaytest.UnreachableICCID,
					esimgw.WithCallValidityPeriod(time.Second))
				require.NoError(t, err)

				_, err = r.wait(t, enable)
				assert.NoError(t, err)
				_, err = r.wait(t, expire)
				assert.ErrorIs(t, err, esimgw.ErrExpired)
				ctx, cancel := context.WithTimeout(t.Context(), eventually)
				defer cancel()
				res, err := audit.Wait(ctx)
				r.book.waited(audit.FunctionCallIdentifier(), err)
				require.NoError(t, err)
				require.NotNil(t, res.EIS)
				assert.Equal(t, gatewaytest.SecondEID, res.EIS.EumSignedInfo.Eid.String())

				cbs := deliveredCallbacks(t, r.gw, 3)
				for _, c := range cbs {
					assert.Contains(t, c.Injected, "ReorderCallbacks")
				}
				return []string{enable.FunctionCallIdentifier(), audit.FunctionCallIdentifier(), expire.FunctionCallIdentifier()}
			},
		},
		{
			name: "callback without RelatesTo: correlated by TransactionId",
			run: func(t *testing.T, r *rig) []string {
				r.gw.Inject(gatewaytest.CallbacksWithoutRelatesTo{Times: 1})
				op, err := r.client.EnableProfile(t.Context(), eid, disabled)
				require.NoError(t, err)
				_, err = r.wait(t, op)
				require.NoError(t, err)
				assert.Empty(t, deliveredCallbacks(t, r.gw, 1)[0].RelatesTo)
				return []string{op.FunctionCallIdentifier()}
			},
		},
		{
			// Not well-formed XML is refused with 400 and the gateway records it undelivered, but its headers
			// were read before the break: the operation is resolved with ErrMalformedCallback, so the
			// application learns its result exists and cannot be read instead of waiting in vain.
			name: "callback cut in the middle (not well-formed): refused 400, the operation resolves with ErrMalformedCallback",
			run: func(t *testing.T, r *rig) []string {
				r.gw.Inject(gatewaytest.MalformedCallback{Times: 1})
				op, err := r.client.EnableProfile(t.Context(), eid, disabled)
				require.NoError(t, err)
				cb := deliveredCallbacks(t, r.gw, 1)[0]
				assert.Equal(t, 400, cb.HTTPStatus, "refused as the sender's fault")
				assert.Equal(t, gatewaytest.OutcomeUndelivered, cb.Outcome, "the sender knows it was not delivered")
				_, err = r.wait(t, op)
				assert.ErrorIs(t, err, esimgw.ErrMalformedCallback)
				assert.Zero(t, r.op.Dispatcher.Tracker().Pending())
				assert.Empty(t, r.book.unmatchedOf(op.FunctionCallIdentifier()))
				return nil // resolved with an error: seen by the application, not lost
			},
		},
		{
			name: "gateway answers a SOAP fault: not retried, nothing left pending",
			run: func(t *testing.T, r *rig) []string {
				r.gw.Inject(gatewaytest.SOAPFault{Times: 1})
				const fc = "urn:uuid:0b6f1e9c-6a51-4c55-9d5e-soapfault000"
				_, err := r.client.EnableProfile(t.Context(), eid, disabled, esimgw.WithFunctionCallIdentifier(fc))
				var f *soap.Fault
				require.ErrorAs(t, err, &f)
				assert.Equal(t, soap.FaultReceiver, f.Code)
				assert.Len(t, r.sent.bodies(fc), 1)
				assert.Zero(t, r.gw.Executions(fc))
				assert.Zero(t, r.op.Dispatcher.Tracker().Pending())
				return nil // refused up front: there is no result to lose
			},
		},
		{
			name: "notification handler fails twice: 500, the gateway retries, delivered once",
			run: func(t *testing.T, r *rig) []string {
				r.book.failNotifications = 2
				require.NoError(t, r.gw.SimulateLocalEnable(eid, disabled))
				var ns []gatewaytest.Callback
				require.Eventually(t, func() bool {
					ns = r.gw.Notifications()
					return len(ns) == 2 && ns[0].Outcome != gatewaytest.OutcomePending && ns[1].Outcome != gatewaytest.OutcomePending
				}, eventually, 5*time.Millisecond)
				for _, n := range ns {
					assert.Equal(t, gatewaytest.OutcomeDelivered, n.Outcome, n.Function)
				}
				r.book.mu.Lock()
				defer r.book.mu.Unlock()
				assert.Equal(t, map[string]int{"ProfileDisabled " + enabled: 1, "ProfileEnabled " + disabled: 1}, r.book.notifications)
				assert.Equal(t, 4, r.book.handlerCalls, "two failures, then each notification once")
				return nil
			},
		},
		{
			name: "unmatched handler fails twice for an abandoned operation's callback: retried, delivered once",
			run: func(t *testing.T, r *rig) []string {
				r.gw.Inject(gatewaytest.ReorderCallbacks{Batch: 2, Times: 1})
				op, err := r.client.EnableProfile(t.Context(), eid, disabled)
				require.NoError(t, err)
				require.True(t, op.Abandon())
				r.book.failUnmatched = 2
				r.gw.Reset()
				fc := op.FunctionCallIdentifier()
				require.Eventually(t, func() bool { return len(r.book.unmatchedOf(fc)) == 1 }, eventually, 5*time.Millisecond)
				cb := deliveredCallbacks(t, r.gw, 1)[0]
				assert.Equal(t, gatewaytest.OutcomeDelivered, cb.Outcome)
				assert.Equal(t, 3, cb.Attempts)
				_, err = r.wait(t, op)
				assert.ErrorIs(t, err, esimgw.ErrAbandoned)
				return []string{fc}
			},
		},
	}
	// Every case runs twice: against the mock as it is, and against a mock that executes every request
	// it reads (no de-duplication by FunctionCallIdentifier), where only the client can keep a profile
	// operation from running twice.
	for _, mode := range []struct {
		name string
		opts []gatewaytest.Option
	}{{"de-duplicating", nil}, {"without de-duplication", []gatewaytest.Option{gatewaytest.WithoutDeduplication()}}} {
		for _, tc := range cases {
			t.Run(mode.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				r := newRig(t, append(append([]gatewaytest.Option(nil), tc.gwOpts...), mode.opts...))
				fcIDs := tc.run(t, r)
				lost, dup := r.book.lostAndDuplicated(fcIDs...)
				assert.Zero(t, lost, "lost results")
				assert.Zero(t, dup, "results delivered twice")
				assert.Zero(t, r.op.Dispatcher.Tracker().Pending(), "nothing left pending")
				for _, fc := range fcIDs {
					assert.LessOrEqual(t, r.gw.Executions(fc), 1, "executed at most once: %s", fc)
				}
			})
		}
	}
}

package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// Run runs the Store contract against the stores newStore makes: each call must return an empty store
// of its own (a fresh schema, a new Tracker).
func Run(t *testing.T, newStore func(t *testing.T) correlate.Store) {
	t.Helper()
	for _, tc := range []struct {
		name string
		test func(t *testing.T, s correlate.Store)
	}{
		{"DeliverByRelatesToThenDuplicate", testDeliverByRelatesTo},
		{"DeliverByTransactionID", testDeliverByTransactionID},
		{"Unmatched", testUnmatched},
		{"OtherFunctionResolvesNothing", testMismatched},
		{"KeysInUse", testKeysInUse},
		{"WithdrawThenLateCallback", testWithdraw},
		{"ResolveDirectly", testResolveDirectly},
		{"AttachByAnyKey", testAttach},
		{"PendingOldestFirst", testPendingOperations},
		{"ResultsKeepTheirType", testResultTypes},
		{"MessageClaims", testClaims},
		{"ConcurrentCopiesResolveOnce", testConcurrentDeliveries},
		{"ConcurrentClaimsOneWinner", testConcurrentClaims},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			require.NoError(t, s.Ping(context.Background()))
			tc.test(t, s)
		})
	}
}

var seq atomic.Int64

// Key returns a fresh operation key as an esimgw client would make it.
func Key(function string) correlate.OperationKey {
	n := seq.Add(1)
	tx := fmt.Sprintf("urn:uuid:%08d-0000-4000-8000-%012d", n, time.Now().UnixNano()%1e12)
	return correlate.OperationKey{
		MessageID:              "//1.3.6.1.4.1.99999.1/urn:uuid:" + fmt.Sprint(n) + "-" + fmt.Sprint(time.Now().UnixNano()) + "?TransactionId=" + tx,
		TransactionID:          tx,
		FunctionCallIdentifier: tx,
		Interface:              "ES4",
		Function:               function,
	}
}

// Success is an EXECUTED_SUCCESS EnableProfile callback body.
func Success() *rps.ES4EnableProfileResponse {
	return &rps.ES4EnableProfileResponse{BaseResponseType: rps.BaseResponseType{
		FunctionExecutionStatus: rps.ExecutionStatusType{Status: rps.StatusTypeEXECUTED_SUCCESS}}}
}

// Failed is a FAILED EnableProfile callback body (profile not in the right state).
func Failed() *rps.ES4EnableProfileResponse {
	return &rps.ES4EnableProfileResponse{BaseResponseType: rps.BaseResponseType{
		FunctionExecutionStatus: rps.ExecutionStatusType{Status: rps.StatusTypeFAILED,
			StatusCodeData: &rps.StatusCodeDataType{Subject: "8.2.1", Reason: "3.5", Message: "profile is not disabled"}}}}
}

func ctx() context.Context { return context.Background() }

func register(t *testing.T, s correlate.Store, key correlate.OperationKey) *correlate.Pending {
	t.Helper()
	p, err := s.RegisterOperation(ctx(), key, time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, key, p.Key())
	return p
}

func waitDone(t *testing.T, p *correlate.Pending) (any, error, bool) {
	t.Helper()
	select {
	case <-p.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("operation %s not finished after 10 s", p.Key().MessageID)
	}
	return p.Result()
}

func testDeliverByRelatesTo(t *testing.T, s correlate.Store) {
	key := Key("EnableProfile")
	p := register(t, s, key)
	_, _, resolved := p.Result()
	require.False(t, resolved)
	res, err := s.DeliverCallback(ctx(), correlate.Delivery{RelatesTo: key.MessageID, MessageID: "//1.2/urn:uuid:cb", Value: Success()})
	require.NoError(t, err)
	assert.Equal(t, correlate.Matched, res.Match)
	assert.Equal(t, key, res.Key)
	value, verr, resolved := waitDone(t, p)
	require.True(t, resolved)
	require.NoError(t, verr)
	assert.Equal(t, Success(), value)

	res, err = s.DeliverCallback(ctx(), correlate.Delivery{RelatesTo: key.MessageID, MessageID: "//1.2/urn:uuid:cb", Value: Success()})
	require.NoError(t, err)
	assert.Equal(t, correlate.Duplicate, res.Match, "a copy resolves nothing")
	assert.Equal(t, key, res.Key, "and names the operation it repeats")
}

func testDeliverByTransactionID(t *testing.T, s correlate.Store) {
	key := Key("DisableProfile")
	p := register(t, s, key)
	// A gSOAP callback: no RelatesTo, the TransactionId in its own MessageID.
	res, err := s.DeliverCallback(ctx(), correlate.Delivery{MessageID: "//1.2/urn:uuid:x?TransactionId=" + key.TransactionID, Value: Success()})
	require.NoError(t, err)
	require.Equal(t, correlate.Matched, res.Match)
	_, _, resolved := waitDone(t, p)
	require.True(t, resolved)
	res, err = s.DeliverCallback(ctx(), correlate.Delivery{TransactionID: key.TransactionID, MessageID: "//1.2/urn:uuid:y", Value: Success()})
	require.NoError(t, err)
	assert.Equal(t, correlate.Duplicate, res.Match)
}

func testUnmatched(t *testing.T, s correlate.Store) {
	res, err := s.DeliverCallback(ctx(), correlate.Delivery{RelatesTo: "//1.2/urn:uuid:nobody", MessageID: "//1.2/urn:uuid:cb", Value: Success()})
	require.NoError(t, err)
	assert.Equal(t, correlate.Unmatched, res.Match)
	res, err = s.DeliverCallback(ctx(), correlate.Delivery{Value: Success()})
	require.NoError(t, err)
	assert.Equal(t, correlate.Unmatched, res.Match, "no identifier at all")
}

// A callback whose IDs name an operation of another function (an AuditEIS result relating to an
// EnableProfile request) resolves nothing, pending or resolved, and says which operation it named; the
// operation's own callback still resolves it. The function is compared without regard to case (Njiwa's
// lower-case wrappers are mapped onto the schema's names before they get here).
func testMismatched(t *testing.T, s correlate.Store) {
	audit := &rps.ES4AuditEISResponse{BaseResponseType: rps.BaseResponseType{
		FunctionExecutionStatus: rps.ExecutionStatusType{Status: rps.StatusTypeEXECUTED_SUCCESS}}}
	key := Key("EnableProfile")
	p := register(t, s, key)
	for _, d := range []correlate.Delivery{
		{RelatesTo: key.MessageID, MessageID: "//1.2/urn:uuid:audit-1", Value: audit, Interface: "ES4", Function: "AuditEIS"},
		{MessageID: "//1.2/urn:uuid:audit-2?TransactionId=" + key.TransactionID, Value: audit, Interface: "ES4", Function: "AuditEIS"},
		{RelatesTo: key.MessageID, MessageID: "//1.2/urn:uuid:es2-1", Value: Success(), Interface: "ES2", Function: "EnableProfile"},
	} {
		res, err := s.DeliverCallback(ctx(), d)
		require.NoError(t, err)
		assert.Equal(t, correlate.Mismatched, res.Match, "%s %s", d.Interface, d.Function)
		assert.Equal(t, key, res.Key, "names the operation it claimed to answer")
		_, _, resolved := p.Result()
		require.False(t, resolved, "the operation still waits for its own result")
	}
	res, err := s.DeliverCallback(ctx(), correlate.Delivery{RelatesTo: key.MessageID, MessageID: "//1.2/urn:uuid:enable",
		Value: Success(), Interface: "ES4", Function: "enableprofile"})
	require.NoError(t, err)
	require.Equal(t, correlate.Matched, res.Match)
	value, verr, resolved := waitDone(t, p)
	require.True(t, resolved)
	require.NoError(t, verr)
	assert.Equal(t, Success(), value)

	res, err = s.DeliverCallback(ctx(), correlate.Delivery{RelatesTo: key.MessageID, MessageID: "//1.2/urn:uuid:audit-3",
		Value: audit, Interface: "ES4", Function: "AuditEIS"})
	require.NoError(t, err)
	assert.Equal(t, correlate.Mismatched, res.Match, "nor is it a copy of the result that came")
	assert.Equal(t, key, res.Key)
	res, err = s.DeliverCallback(ctx(), correlate.Delivery{RelatesTo: key.MessageID, MessageID: "//1.2/urn:uuid:enable",
		Value: Success(), Interface: "ES4", Function: "EnableProfile"})
	require.NoError(t, err)
	assert.Equal(t, correlate.Duplicate, res.Match, "the right function's copy is a duplicate")
}

func testKeysInUse(t *testing.T, s correlate.Store) {
	_, err := s.RegisterOperation(ctx(), correlate.OperationKey{}, time.Time{})
	require.ErrorIs(t, err, correlate.ErrEmptyID, "an empty MessageID")

	key := Key("EnableProfile")
	register(t, s, key)
	_, err = s.RegisterOperation(ctx(), key, time.Time{})
	require.ErrorIs(t, err, correlate.ErrKeyInUse, "the same MessageID")
	other := Key("EnableProfile")
	other.TransactionID = key.TransactionID
	_, err = s.RegisterOperation(ctx(), other, time.Time{})
	require.ErrorIs(t, err, correlate.ErrKeyInUse, "the TransactionID of a pending operation")

	// Once resolved, the TransactionID may be used again: a caller retrying with its
	// FunctionCallIdentifier. The retry's callback resolves the retry.
	_, err = s.DeliverCallback(ctx(), correlate.Delivery{RelatesTo: key.MessageID, Value: Failed()})
	require.NoError(t, err)
	retry := register(t, s, other)
	res, err := s.DeliverCallback(ctx(), correlate.Delivery{TransactionID: key.TransactionID, Value: Success()})
	require.NoError(t, err)
	require.Equal(t, correlate.Matched, res.Match)
	require.Equal(t, other.MessageID, res.Key.MessageID)
	_, _, resolved := waitDone(t, retry)
	require.True(t, resolved)
}

func testWithdraw(t *testing.T, s correlate.Store) {
	key := Key("EnableProfile")
	p := register(t, s, key)
	cause := errors.New("caller gave up")
	ok, err := s.WithdrawOperation(ctx(), p, cause)
	require.NoError(t, err)
	require.True(t, ok)
	_, werr, resolved := waitDone(t, p)
	require.False(t, resolved)
	require.ErrorIs(t, werr, cause)
	ok, err = s.WithdrawOperation(ctx(), p, nil)
	require.NoError(t, err)
	require.False(t, ok, "withdrawn once")
	res, err := s.DeliverCallback(ctx(), correlate.Delivery{RelatesTo: key.MessageID, Value: Success()})
	require.NoError(t, err)
	assert.Equal(t, correlate.Unmatched, res.Match, "a late callback goes to the unmatched handler")

	// Withdrawing a resolved operation changes nothing: the result wins.
	key = Key("EnableProfile")
	p = register(t, s, key)
	_, err = s.DeliverCallback(ctx(), correlate.Delivery{RelatesTo: key.MessageID, Value: Success()})
	require.NoError(t, err)
	ok, err = s.WithdrawOperation(ctx(), p, nil)
	require.NoError(t, err)
	require.False(t, ok)
	_, _, resolved = waitDone(t, p)
	require.True(t, resolved)
}

func testResolveDirectly(t *testing.T, s correlate.Store) {
	key := Key("EnableProfile")
	p := register(t, s, key)
	fe := &esimgw.FunctionError{Interface: "ES4", Function: "EnableProfile"}
	ok, err := s.ResolveOperation(ctx(), p, Failed(), fe)
	require.NoError(t, err)
	require.True(t, ok)
	value, verr, resolved := waitDone(t, p)
	require.True(t, resolved)
	require.Equal(t, Failed(), value)
	require.ErrorAs(t, verr, &fe)
	ok, err = s.ResolveOperation(ctx(), p, Success(), nil)
	require.NoError(t, err)
	require.False(t, ok, "resolved once")
	res, err := s.DeliverCallback(ctx(), correlate.Delivery{RelatesTo: key.MessageID, Value: Success()})
	require.NoError(t, err)
	assert.Equal(t, correlate.Duplicate, res.Match, "a late callback of a synchronously answered call")
}

func testAttach(t *testing.T, s correlate.Store) {
	_, err := s.AttachOperation(ctx(), "//1.2/urn:uuid:never")
	require.ErrorIs(t, err, correlate.ErrUnknownOperation)
	_, err = s.AttachOperation(ctx(), "")
	require.ErrorIs(t, err, correlate.ErrEmptyID)

	for _, by := range []string{"MessageID", "TransactionID", "FunctionCallIdentifier"} {
		t.Run(by, func(t *testing.T) {
			key := Key("EnableProfile")
			key.FunctionCallIdentifier = "fci-" + key.TransactionID[9:]
			register(t, s, key)
			id := map[string]string{"MessageID": key.MessageID, "TransactionID": key.TransactionID, "FunctionCallIdentifier": key.FunctionCallIdentifier}[by]
			p, err := s.AttachOperation(ctx(), id)
			require.NoError(t, err)
			require.Equal(t, key, p.Key())
			_, _, resolved := p.Result()
			require.False(t, resolved)
			_, err = s.DeliverCallback(ctx(), correlate.Delivery{RelatesTo: key.MessageID, Value: Success()})
			require.NoError(t, err)
			value, verr, resolved := waitDone(t, p)
			require.True(t, resolved)
			require.NoError(t, verr)
			require.Equal(t, Success(), value)

			again, err := s.AttachOperation(ctx(), id)
			require.NoError(t, err, "a resolved operation is found within the retention")
			value, _, resolved = waitDone(t, again)
			require.True(t, resolved)
			require.Equal(t, Success(), value)
		})
	}
}

func testPendingOperations(t *testing.T, s correlate.Store) {
	var keys []correlate.OperationKey
	for range 5 {
		k := Key("AuditEIS")
		keys = append(keys, k)
		register(t, s, k)
		time.Sleep(2 * time.Millisecond) // distinct registration times
	}
	_, err := s.DeliverCallback(ctx(), correlate.Delivery{RelatesTo: keys[2].MessageID, Value: Success()})
	require.NoError(t, err)
	list, err := s.PendingOperations(ctx(), 0)
	require.NoError(t, err)
	var got []string
	for _, rec := range list {
		assert.Equal(t, correlate.OperationPending, rec.State)
		assert.False(t, rec.RegisteredAt.IsZero())
		assert.WithinDuration(t, time.Now().Add(time.Hour), rec.Deadline, time.Minute)
		got = append(got, rec.Key.MessageID)
	}
	require.Equal(t, []string{keys[0].MessageID, keys[1].MessageID, keys[3].MessageID, keys[4].MessageID}, got)
	list, err = s.PendingOperations(ctx(), 2)
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, keys[0], list[0].Key)
}

func testResultTypes(t *testing.T, s correlate.Store) {
	// A FAILED callback: the waiter gets the response and a *FunctionError, whichever replica stored it.
	key := Key("EnableProfile")
	p := register(t, s, key)
	_, ferr := esimgw.ResponseStatus("ES4", "EnableProfile", Failed())
	require.Error(t, ferr)
	_, err := s.DeliverCallback(ctx(), correlate.Delivery{RelatesTo: key.MessageID, Value: Failed(), Err: ferr})
	require.NoError(t, err)
	value, verr, _ := waitDone(t, p)
	require.Equal(t, Failed(), value)
	var fe *esimgw.FunctionError
	require.ErrorAs(t, verr, &fe)
	require.Equal(t, "8.2.1", fe.Subject)

	// A carrier's outcome: its JSON and a *FunctionError that no SGP.02 response states (ThingSpace,
	// Digi Remote Manager). Both are kept, the error typed.
	key = Key("enable")
	key.Interface = "DigiRM"
	p = register(t, s, key)
	carrier := &esimgw.FunctionError{Interface: "DigiRM", Function: "enable", FunctionCallIdentifier: "tx-1",
		ExecutionStatus: esimgw.ExecutionStatus{Status: esimgw.StatusFailed, Message: "sim_error: the eSIM refused"}}
	_, err = s.ResolveOperation(ctx(), p, json.RawMessage(`{"transaction":"tx-1","status":"failed"}`), carrier)
	require.NoError(t, err)
	value, verr, _ = waitDone(t, p)
	require.Equal(t, json.RawMessage(`{"transaction":"tx-1","status":"failed"}`), value)
	require.ErrorAs(t, verr, &fe)
	require.Equal(t, carrier, fe)

	// An unreadable callback: ErrMalformedCallback, with the reason.
	key = Key("EnableProfile")
	p = register(t, s, key)
	_, err = s.DeliverCallback(ctx(), correlate.Delivery{RelatesTo: key.MessageID,
		Err: fmt.Errorf("%w: ES4 EnableProfileResponse: bad Status", esimgw.ErrMalformedCallback)})
	require.NoError(t, err)
	_, verr, resolved := waitDone(t, p)
	require.True(t, resolved)
	require.ErrorIs(t, verr, esimgw.ErrMalformedCallback)
	require.ErrorContains(t, verr, "bad Status")
}

func testClaims(t *testing.T, s correlate.Store) {
	id := Key("x").MessageID
	claim := func(scope correlate.MessageScope) correlate.ClaimResult {
		t.Helper()
		c, err := s.ClaimMessage(ctx(), scope, id)
		require.NoError(t, err)
		return c
	}
	require.Equal(t, correlate.Claimed, claim(correlate.ScopeNotification))
	require.Equal(t, correlate.InProgress, claim(correlate.ScopeNotification), "while it is handed over")
	require.Equal(t, correlate.Claimed, claim(correlate.ScopeUnmatched), "scopes are separate")
	require.NoError(t, s.ReleaseMessage(ctx(), correlate.ScopeNotification, id))
	require.Equal(t, correlate.Claimed, claim(correlate.ScopeNotification), "a released claim can be claimed again")
	require.NoError(t, s.CommitMessage(ctx(), correlate.ScopeNotification, id))
	require.Equal(t, correlate.HandedOver, claim(correlate.ScopeNotification))
	require.NoError(t, s.ReleaseMessage(ctx(), correlate.ScopeNotification, id))
	require.Equal(t, correlate.HandedOver, claim(correlate.ScopeNotification), "a committed claim is not released")
}

func testConcurrentDeliveries(t *testing.T, s correlate.Store) {
	const copies = 16
	for range 8 {
		key := Key("EnableProfile")
		p := register(t, s, key)
		var matched, duplicates atomic.Int32
		var wg sync.WaitGroup
		for range copies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := s.DeliverCallback(ctx(), correlate.Delivery{RelatesTo: key.MessageID, Value: Success()})
				assert.NoError(t, err)
				switch res.Match {
				case correlate.Matched:
					matched.Add(1)
				case correlate.Duplicate:
					duplicates.Add(1)
				}
			}()
		}
		wg.Wait()
		require.EqualValues(t, 1, matched.Load())
		require.EqualValues(t, copies-1, duplicates.Load())
		_, _, resolved := waitDone(t, p)
		require.True(t, resolved)
	}
}

func testConcurrentClaims(t *testing.T, s correlate.Store) {
	id := Key("x").MessageID
	var claimed atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := s.ClaimMessage(ctx(), correlate.ScopeNotification, id)
			assert.NoError(t, err)
			if c == correlate.Claimed {
				claimed.Add(1)
			}
		}()
	}
	wg.Wait()
	require.EqualValues(t, 1, claimed.Load())
}

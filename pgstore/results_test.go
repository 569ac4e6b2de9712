package pgstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/correlate"
	"github.com/esimgw/esimgw/storetest"
)

// What the carrier clients store reaches a waiter on another replica as it was: a json.RawMessage value,
// and a *esimgw.FunctionError typed with every field, inside an error with the same text when it was
// wrapped.
func TestCarrierResultsAcrossReplicas(t *testing.T) {
	a, pool := newStore(t)
	b := openStore(t, pool)
	ctx := context.Background()
	fe := &esimgw.FunctionError{Interface: "ThingSpace", Function: "enable", FunctionCallIdentifier: "req-1",
		ExecutionStatus: esimgw.ExecutionStatus{Status: esimgw.StatusFailed, Subject: "8.2.1", Reason: "3.8",
			SubjectIdentifier: "89310410000000000019", Message: "profile already enabled"},
		AcceptableValidityPeriod: 90 * time.Second, EuiccResponseData: []byte{0x6a, 0x80}}
	for _, tc := range []struct {
		name  string
		value any
		err   error
	}{
		{"function error", nil, fe},
		{"wrapped function error", json.RawMessage(`{"transaction":"tx-9","iccid":"8931"}`), fmt.Errorf("digirm: %w", fe)},
		{"success with JSON", json.RawMessage(`{"transaction":"tx-9","status":"complete"}`), nil},
		{"other error", nil, errors.New("digirm: enable transaction tx-9: polling: connection refused")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := storetest.Key("enable")
			key.Interface = "ThingSpace"
			p, err := a.RegisterOperation(ctx, key, time.Now().Add(time.Hour))
			require.NoError(t, err)
			other, err := b.AttachOperation(ctx, key.MessageID)
			require.NoError(t, err)
			_, err = b.DeliverCallback(ctx, correlate.Delivery{RelatesTo: key.MessageID, MessageID: key.MessageID, Value: tc.value, Err: tc.err})
			require.NoError(t, err)
			select {
			case <-p.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("not woken")
			}
			value, verr, _ := p.Result()
			assert.Equal(t, tc.value, value)
			if tc.err == nil {
				assert.NoError(t, verr)
				return
			}
			require.Error(t, verr)
			assert.Equal(t, tc.err.Error(), verr.Error(), "the same text")
			var want, got *esimgw.FunctionError
			if errors.As(tc.err, &want) {
				require.ErrorAs(t, verr, &got)
				assert.Equal(t, want, got, "every field")
				assert.ErrorIs(t, verr, esimgw.ErrFailed)
			}
			<-other.Done()
			_, oerr, _ := other.Result()
			assert.Equal(t, tc.err.Error(), oerr.Error(), "the replica that delivered it too")
		})
	}

	// Not JSON, or a type no replica could read back: refused before anything is stored.
	key := storetest.Key("enable")
	p, err := a.RegisterOperation(ctx, key, time.Now().Add(time.Hour))
	require.NoError(t, err)
	_, err = a.ResolveOperation(ctx, p, json.RawMessage(`{"unterminated`), nil)
	var se *correlate.StoreError
	require.ErrorAs(t, err, &se)
	_, err = a.ResolveOperation(ctx, p, struct{ X int }{1}, nil)
	require.ErrorAs(t, err, &se)
	_, _, resolved := p.Result()
	assert.False(t, resolved)
}

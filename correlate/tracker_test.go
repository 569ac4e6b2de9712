package correlate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testKey builds a realistic key: MessageID ~150 bytes, TransactionID 45 bytes.
func testKey(i int) OperationKey {
	tx := fmt.Sprintf("urn:uuid:7a1b2c3d-4e5f-4a6b-8c9d-%012d", i)
	return OperationKey{
		MessageID:              fmt.Sprintf("//1.3.6.1.4.1.99999.10/urn:uuid:0f8c2a3e-1d2b-4c5a-9e7f-%012d?TransactionId=%s&MessageDate=2024-05-01T10:00:00Z", i, tx),
		TransactionID:          tx,
		FunctionCallIdentifier: "fc-" + strconv.Itoa(i),
		Interface:              "ES4",
		Function:               "EnableProfile",
	}
}

// callbackMessageID is the callback's own MessageID, carrying the request's TransactionId.
func callbackMessageID(k OperationKey) string {
	return "//1.3.6.1.4.1.99999.20/urn:uuid:c0ffee00-0000-4000-8000-000000000001?TransactionId=" + k.TransactionID + "&MessageDate=2024-05-01T10:00:41Z"
}

// enableResult stands for a decoded callback body.
type enableResult struct{ EuiccResponseData string }

// register registers k with tr; the test fails if it cannot.
func register(t *testing.T, tr *Tracker, k OperationKey) *Pending {
	t.Helper()
	p, err := tr.Register(k)
	require.NoError(t, err)
	return p
}

// result returns what p was resolved with, failing the test if p is not done: what esimgw.Operation.Wait
// reads once Done is closed.
func result(t *testing.T, p *Pending) (any, error) {
	t.Helper()
	select {
	case <-p.Done():
	default:
		t.Fatal("Done not closed")
	}
	v, err, resolved := p.Result()
	require.True(t, resolved, "resolved, not withdrawn")
	return v, err
}

func TestDeliverMatching(t *testing.T) {
	k := testKey(1)
	tests := []struct {
		name string
		d    Delivery
	}{
		{"by RelatesTo", Delivery{RelatesTo: k.MessageID}},
		{"by TransactionID (gSOAP: no RelatesTo)", Delivery{TransactionID: k.TransactionID}},
		{"by the TransactionId inside the callback's MessageID", Delivery{MessageID: callbackMessageID(k)}},
		{"unknown RelatesTo falls back to TransactionID", Delivery{RelatesTo: "//other", TransactionID: k.TransactionID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTracker()
			p := register(t, tr, k)
			assert.Equal(t, 1, tr.Pending())

			want := &enableResult{EuiccResponseData: "AB"}
			tt.d.Value = want
			res := tr.Deliver(tt.d)
			assert.Equal(t, Matched, res.Match)
			assert.Equal(t, k, res.Key)
			assert.Equal(t, 0, tr.Pending())

			got, err := result(t, p)
			require.NoError(t, err)
			assert.Same(t, want, got)

			// A second copy resolves nothing.
			res = tr.Deliver(tt.d)
			assert.Equal(t, Duplicate, res.Match)
			assert.Equal(t, k, res.Key)
			got, err = result(t, p)
			require.NoError(t, err)
			assert.Same(t, want, got, "the result stays")
		})
	}
}

func TestDeliverUnmatched(t *testing.T) {
	tr := NewTracker()
	k := testKey(1)
	register(t, tr, k)
	for _, d := range []Delivery{
		{},
		{RelatesTo: "//nobody"},
		{TransactionID: "urn:uuid:nobody"},
		{MessageID: "//1.2/x?MessageDate=2024-05-01T10:00:00Z"},
		{RelatesTo: k.TransactionID}, // IDs are not interchangeable
		{TransactionID: k.MessageID},
	} {
		res := tr.Deliver(d)
		assert.Equal(t, Unmatched, res.Match, "%+v", d)
		assert.Equal(t, OperationKey{}, res.Key)
	}
	assert.Equal(t, 1, tr.Pending())
}

func TestWithdrawAndAbandon(t *testing.T) {
	tr := NewTracker()
	k := testKey(1)
	p := register(t, tr, k)
	assert.True(t, tr.Withdraw(p))
	assert.False(t, tr.Withdraw(p))
	assert.Equal(t, 0, tr.Pending())
	<-p.Done()
	v, err, resolved := p.Result()
	assert.False(t, resolved)
	assert.Nil(t, v)
	assert.ErrorIs(t, err, ErrAbandoned)
	assert.Equal(t, Unmatched, tr.Deliver(Delivery{RelatesTo: k.MessageID}).Match)

	// A withdrawn key may be registered again (the call is retried afresh), and withdrawn with a cause.
	p2 := register(t, tr, k)
	cause := errors.New("shutting down")
	ok, err := tr.WithdrawOperation(context.Background(), p2, cause)
	require.NoError(t, err)
	assert.True(t, ok)
	_, err, _ = p2.Result()
	assert.Same(t, cause, err)

	// Nil and foreign pendings are refused, not panicked on.
	other := NewTracker()
	p3, err := other.Register(k)
	require.NoError(t, err)
	assert.False(t, tr.Withdraw(p3))
	assert.False(t, tr.Resolve(p3, nil, nil))
	assert.False(t, tr.Withdraw(nil))
	assert.False(t, tr.Resolve(nil, nil, nil))
	assert.Equal(t, 1, other.Pending())
}

func TestOwns(t *testing.T) {
	tr, other := NewTracker(), NewTracker()
	mine, err := tr.Register(testKey(1))
	require.NoError(t, err)
	theirs, err := other.Register(testKey(1))
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		p    *Pending
		want bool
	}{
		{"registered here", mine, true},
		{"registered with another tracker", theirs, false},
		{"finished, of no tracker", NewResolvedPending(testKey(2), "ok", nil), true},
		{"withdrawn, of no tracker", NewWithdrawnPending(testKey(3), nil), true},
		{"nil", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) { assert.Equal(t, tc.want, tr.Owns(tc.p)) })
	}
}

func TestMarkUnconfirmed(t *testing.T) {
	p := register(t, NewTracker(), testKey(1))
	assert.NoError(t, p.Unconfirmed())
	sendErr := errors.New("connection reset after the request was written")
	p.MarkUnconfirmed(sendErr)
	assert.Same(t, sendErr, p.Unconfirmed())
	p.MarkUnconfirmed(nil)
	assert.NoError(t, p.Unconfirmed())
}

func TestResolveSynchronousFailure(t *testing.T) {
	tr := NewTracker()
	k := testKey(1)
	p := register(t, tr, k)
	failed := errors.New("FAILED")
	assert.True(t, tr.Resolve(p, nil, failed))
	assert.False(t, tr.Resolve(p, nil, nil), "resolves once")
	assert.False(t, tr.Withdraw(p))
	_, err := result(t, p)
	assert.Same(t, failed, err)
	assert.Equal(t, Duplicate, tr.Deliver(Delivery{RelatesTo: k.MessageID}).Match)
	assert.Equal(t, 0, tr.Pending())
}

func TestRegisterErrors(t *testing.T) {
	tr := NewTracker(WithMaxPending(2))
	_, err := tr.Register(OperationKey{TransactionID: "x"})
	require.ErrorIs(t, err, ErrEmptyID)
	_, err = tr.AttachOperation(context.Background(), "")
	require.ErrorIs(t, err, ErrEmptyID)

	k := testKey(1)
	_, err = tr.Register(k)
	require.NoError(t, err)
	_, err = tr.Register(k)
	assert.ErrorIs(t, err, ErrKeyInUse)
	_, err = tr.Register(OperationKey{MessageID: "other", TransactionID: k.TransactionID})
	assert.ErrorIs(t, err, ErrKeyInUse, "TransactionID in use")
	_, err = tr.Register(OperationKey{MessageID: "no-tx"})
	require.NoError(t, err, "TransactionID is optional")
	_, err = tr.Register(OperationKey{MessageID: "third"})
	assert.ErrorIs(t, err, ErrTooManyPending)

	// A recently resolved key stays taken while it is in the duplicate window.
	require.Equal(t, Matched, tr.Deliver(Delivery{RelatesTo: k.MessageID}).Match)
	_, err = tr.Register(k)
	assert.ErrorIs(t, err, ErrKeyInUse)
}

func TestDuplicateWindowSize(t *testing.T) {
	tr := NewTracker(WithDuplicateWindow(3, 0))
	keys := make([]OperationKey, 5)
	for i := range keys {
		keys[i] = testKey(i)
		register(t, tr, keys[i])
		require.Equal(t, Matched, tr.Deliver(Delivery{RelatesTo: keys[i].MessageID}).Match)
	}
	assert.Equal(t, 3, tr.recentLen(), "bounded")
	for i, want := range []Match{Unmatched, Unmatched, Duplicate, Duplicate, Duplicate} {
		assert.Equal(t, want, tr.Deliver(Delivery{RelatesTo: keys[i].MessageID}).Match, "by RelatesTo %d", i)
		assert.Equal(t, want, tr.Deliver(Delivery{MessageID: callbackMessageID(keys[i])}).Match, "by TransactionID %d", i)
	}
	// Evicted keys may be registered again.
	_, err := tr.Register(keys[0])
	assert.NoError(t, err)
}

func TestDuplicateWindowAge(t *testing.T) {
	now := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	tr := NewTracker(WithDuplicateWindow(100, time.Minute), WithClock(clock))
	k := testKey(1)
	register(t, tr, k)
	require.Equal(t, Matched, tr.Deliver(Delivery{RelatesTo: k.MessageID}).Match)
	now = now.Add(time.Minute)
	assert.Equal(t, Duplicate, tr.Deliver(Delivery{RelatesTo: k.MessageID}).Match)
	now = now.Add(time.Second)
	assert.Equal(t, Unmatched, tr.Deliver(Delivery{RelatesTo: k.MessageID}).Match)
	assert.Equal(t, Unmatched, tr.Deliver(Delivery{TransactionID: k.TransactionID}).Match)
}

func TestDuplicateWindowDisabled(t *testing.T) {
	tr := NewTracker(WithDuplicateWindow(0, 0))
	k := testKey(1)
	register(t, tr, k)
	require.Equal(t, Matched, tr.Deliver(Delivery{RelatesTo: k.MessageID}).Match)
	assert.Equal(t, Unmatched, tr.Deliver(Delivery{RelatesTo: k.MessageID}).Match)
	assert.Equal(t, 0, tr.recentLen())
}

func TestConcurrentDuplicateDelivery(t *testing.T) {
	for round := 0; round < 50; round++ {
		tr := NewTracker()
		k := testKey(round)
		p := register(t, tr, k)
		const copies = 8
		var matched, dup atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := 0; i < copies; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				d := Delivery{RelatesTo: k.MessageID, Value: strconv.Itoa(i)}
				if i%2 == 1 {
					d = Delivery{MessageID: callbackMessageID(k), Value: d.Value}
				}
				switch tr.Deliver(d).Match {
				case Matched:
					matched.Add(1)
				case Duplicate:
					dup.Add(1)
				}
			}()
		}
		close(start)
		wg.Wait()
		require.EqualValues(t, 1, matched.Load())
		require.EqualValues(t, copies-1, dup.Load())
		_, err := result(t, p)
		require.NoError(t, err)
	}
}

func TestManyOperationsLeaveNothingBehind(t *testing.T) {
	tr := NewTracker(WithDuplicateWindow(64, 0))
	const n = 2000
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				k := testKey(i)
				p, err := tr.Register(k)
				if !assert.NoError(t, err) {
					return
				}
				switch i % 4 {
				case 0:
					tr.Deliver(Delivery{RelatesTo: k.MessageID, Value: "ok"})
				case 1:
					tr.Deliver(Delivery{MessageID: callbackMessageID(k), Value: "ok"})
				case 2:
					tr.Withdraw(p)
				case 3:
					tr.Resolve(p, nil, errors.New("FAILED"))
				}
				<-p.Done()
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 0, tr.Pending())
	tr.mu.Lock()
	assert.Empty(t, tr.byMsg)
	assert.Empty(t, tr.byTx)
	assert.LessOrEqual(t, len(tr.recent.byMsg), 64)
	assert.LessOrEqual(t, len(tr.recent.byTx), 64)
	assert.LessOrEqual(t, len(tr.recent.ring), 64)
	tr.mu.Unlock()
}

func TestTransactionIDFromMessageID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"//1.3.6.1.4.1.20/urn:uuid:78c2?TransactionId=urn:uuid:68ea&MessageDate=2018-12-19T02:44:49Z", "urn:uuid:68ea"},
		{"//1.2/x?MessageDate=2018-12-19T02:44:49Z&TransactionId=tx1", "tx1"},
		{"//1.2/x?MessageDate=2018?transactionid=tx2", "tx2"},
		{"//1.2/x?TransactionId=", ""},
		{"//1.2/x", ""},
		{"", ""},
		{"?", ""},
		{"//1.2/x?TransactionIdX=1&Foo", ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, TransactionIDFromMessageID(tt.in), tt.in)
	}
}

func TestTrackerLogging(t *testing.T) {
	var buf bytes.Buffer
	tr := NewTracker(WithLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))), nil)
	k := testKey(7)
	register(t, tr, k)
	tr.Deliver(Delivery{RelatesTo: k.MessageID})
	tr.Deliver(Delivery{RelatesTo: "//x"})
	out := buf.String()
	assert.Contains(t, out, "callback matched")
	assert.Contains(t, out, "functionCallIdentifier=fc-7")
	assert.Contains(t, out, "callback unmatched")
	assert.NotPanics(t, func() { NewTracker(WithLogger(nil), WithClock(nil)) })
}

func TestMatchString(t *testing.T) {
	assert.Equal(t, "matched", Matched.String())
	assert.Equal(t, "duplicate", Duplicate.String())
	assert.Equal(t, "unmatched", Unmatched.String())
	assert.Equal(t, "Match(9)", Match(9).String())
}

func TestRetryOfAFinishedCallReusesItsTransactionID(t *testing.T) {
	tr := NewTracker()
	first := testKey(1)
	register(t, tr, first)
	require.Equal(t, Matched, tr.Deliver(Delivery{RelatesTo: first.MessageID}).Match)

	retry := OperationKey{MessageID: "retry-message", TransactionID: first.TransactionID, FunctionCallIdentifier: first.FunctionCallIdentifier}
	p, err := tr.Register(retry)
	require.NoError(t, err, "a finished call's FunctionCallIdentifier may be sent again")
	_, err = tr.Register(OperationKey{MessageID: "third", TransactionID: first.TransactionID})
	assert.ErrorIs(t, err, ErrKeyInUse, "but not while the retry is pending")

	assert.Equal(t, Duplicate, tr.Deliver(Delivery{RelatesTo: first.MessageID}).Match, "a late copy of the old callback stays a duplicate")
	res := tr.Deliver(Delivery{TransactionID: first.TransactionID})
	assert.Equal(t, Matched, res.Match, "the retry's callback, correlated by TransactionID, resolves the retry")
	assert.Equal(t, retry, res.Key)
	<-p.Done()
}

// The duplicate window is indexed by hashes of the IDs: an entry found under another ID's hash (a
// collision) is confirmed against its own IDs, so it never stands for that other ID, and dropping that
// other TransactionID leaves it in place.
func TestRecentSetConfirmsHashHits(t *testing.T) {
	tr := NewTracker()
	a := OperationKey{MessageID: "//op/urn:uuid:a", TransactionID: "urn:uuid:tx-a"}
	p, err := tr.Register(a)
	require.NoError(t, err)
	require.Equal(t, Matched, tr.Deliver(Delivery{RelatesTo: a.MessageID}).Match)
	r := &tr.recent
	seq := r.byMsg[r.hash(a.MessageID)]
	// b's hashes now lead to a's entry, as a collision would.
	r.byMsg[r.hash("//op/urn:uuid:b")] = seq
	r.byTx[r.hash("urn:uuid:tx-b")] = seq
	_, ok := r.find("//op/urn:uuid:b", false, time.Time{})
	assert.False(t, ok, "a's entry does not stand for b's MessageID")
	_, ok = r.find("urn:uuid:tx-b", true, time.Time{})
	assert.False(t, ok, "nor for b's TransactionID")
	r.dropTx("urn:uuid:tx-b")
	assert.Contains(t, r.byTx, r.hash("urn:uuid:tx-b"), "dropping b's TransactionID leaves the entry that is not b's")
	got, ok := r.find(a.TransactionID, true, time.Time{})
	assert.True(t, ok)
	assert.Same(t, p, got)
	assert.Equal(t, Duplicate, tr.Deliver(Delivery{RelatesTo: a.MessageID}).Match)
	r.dropTx(a.TransactionID)
	_, ok = r.find(a.TransactionID, true, time.Time{})
	assert.False(t, ok, "dropped")
}

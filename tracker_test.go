package esimgw

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
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

type enableResult struct{ EuiccResponseData string }

func register(t *testing.T, tr *Tracker, k OperationKey) *Operation[*enableResult] {
	t.Helper()
	p, err := tr.Register(k)
	require.NoError(t, err)
	return NewOperation[*enableResult](tr, p, nil)
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
			op := register(t, tr, k)
			assert.Equal(t, 1, tr.Pending())

			want := &enableResult{EuiccResponseData: "AB"}
			tt.d.Value = want
			res := tr.Deliver(tt.d)
			assert.Equal(t, Matched, res.Match)
			assert.Equal(t, k, res.Key)
			assert.Equal(t, 0, tr.Pending())

			select {
			case <-op.Done():
			default:
				t.Fatal("Done not closed after delivery")
			}
			got, err := op.Wait(context.Background())
			require.NoError(t, err)
			assert.Same(t, want, got)

			// A second copy resolves nothing.
			res = tr.Deliver(tt.d)
			assert.Equal(t, Duplicate, res.Match)
			assert.Equal(t, k, res.Key)
			got, err = op.Wait(context.Background())
			require.NoError(t, err)
			assert.Same(t, want, got, "Wait is repeatable")
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

func TestDeliverError(t *testing.T) {
	tr := NewTracker()
	k := testKey(1)
	op := register(t, tr, k)
	fe := ExecutionStatus{Status: StatusFailed, Subject: SubjectProfileICCID, Reason: ReasonUnknown}.Err("ES4", "EnableProfile")
	assert.Equal(t, Matched, tr.Deliver(Delivery{RelatesTo: k.MessageID, Err: fe}).Match)
	got, err := op.Wait(context.Background())
	assert.Nil(t, got)
	assert.ErrorIs(t, err, ErrFailed)
}

func TestCallbackBeforeWait(t *testing.T) {
	tr := NewTracker()
	k := testKey(1)
	p, err := tr.Register(k)
	require.NoError(t, err)
	// The callback beats the 202 and the Operation.
	require.Equal(t, Matched, tr.Deliver(Delivery{RelatesTo: k.MessageID, Value: "ok"}).Match)
	op := NewOperation[string](tr, p, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // even an ended context gets the stored result
	got, err := op.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, "ok", got)
	assert.Equal(t, "fc-1", op.FunctionCallIdentifier())
	assert.Equal(t, k.MessageID, op.MessageID())
	assert.Equal(t, k.TransactionID, op.TransactionID())
	assert.Equal(t, "EnableProfile", op.Function())
	assert.Equal(t, "ES4", op.Interface())
	assert.Equal(t, k, op.Key())
}

func TestWaitContextEndsThenLateCallback(t *testing.T) {
	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithDeadline(context.Background(), time.Unix(0, 0))
		}, context.DeadlineExceeded},
		{"cancel", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTracker()
			k := testKey(1)
			op := register(t, tr, k)
			ctx, cancel := tc.ctx()
			defer cancel()
			_, err := op.Wait(ctx)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want)
			assert.ErrorIs(t, err, ErrAbandoned)
			assert.Contains(t, err.Error(), "ES4 EnableProfile")
			assert.Equal(t, 0, tr.Pending())

			res := tr.Deliver(Delivery{RelatesTo: k.MessageID, Value: &enableResult{}})
			assert.Equal(t, Unmatched, res.Match, "a late callback goes to the unmatched handler")
			_, err2 := op.Wait(context.Background())
			assert.Equal(t, err, err2, "later Waits repeat the error")
			assert.False(t, op.Resolve(nil, nil))
			assert.False(t, op.Abandon())
		})
	}
}

func TestWaitCause(t *testing.T) {
	tr := NewTracker()
	op := register(t, tr, testKey(1))
	cause := errors.New("shutting down")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(cause)
	_, err := op.Wait(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, err, cause)
}

func TestWaitBlocksUntilDelivery(t *testing.T) {
	tr := NewTracker()
	k := testKey(1)
	op := register(t, tr, k)
	errc := make(chan error, 1)
	go func() {
		_, err := op.Wait(context.Background())
		errc <- err
	}()
	assert.Equal(t, Matched, tr.Deliver(Delivery{TransactionID: k.TransactionID, Value: &enableResult{}}).Match)
	assert.NoError(t, <-errc)
}

func TestWithdrawAndAbandon(t *testing.T) {
	tr := NewTracker()
	k := testKey(1)
	p, err := tr.Register(k)
	require.NoError(t, err)
	op := NewOperation[int](tr, p, nil)
	assert.True(t, tr.Withdraw(p))
	assert.False(t, tr.Withdraw(p))
	assert.Equal(t, 0, tr.Pending())
	_, err = op.Wait(context.Background())
	assert.ErrorIs(t, err, ErrAbandoned)
	assert.Equal(t, Unmatched, tr.Deliver(Delivery{RelatesTo: k.MessageID}).Match)

	// A withdrawn key may be registered again (the call is retried afresh).
	p2, err := tr.Register(k)
	require.NoError(t, err)
	op2 := NewOperation[int](tr, p2, nil)
	assert.True(t, op2.Abandon())
	assert.False(t, op2.Abandon())
	_, err = op2.Wait(context.Background())
	assert.ErrorIs(t, err, ErrAbandoned)

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

func TestResolveSynchronousFailure(t *testing.T) {
	tr := NewTracker()
	k := testKey(1)
	op := register(t, tr, k)
	fe := ExecutionStatus{Status: StatusFailed, Subject: SubjectEID, Reason: ReasonUnknown}.Err("ES4", "EnableProfile")
	assert.True(t, op.Resolve(nil, fe))
	assert.False(t, op.Resolve(nil, nil), "resolves once")
	assert.False(t, op.Abandon())
	_, err := op.Wait(context.Background())
	assert.ErrorIs(t, err, ErrFailed)
	assert.Equal(t, Duplicate, tr.Deliver(Delivery{RelatesTo: k.MessageID}).Match)
	assert.Equal(t, 0, tr.Pending())
}

func TestRegisterErrors(t *testing.T) {
	tr := NewTracker(WithMaxPending(2))
	_, err := tr.Register(OperationKey{TransactionID: "x"})
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "MessageID", ve.Field)

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
	tr := NewTracker(WithDuplicateWindow(100, time.Minute), WithTrackerClock(clock))
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
		op := register(t, tr, k)
		const copies = 8
		var matched, dup atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := 0; i < copies; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				d := Delivery{RelatesTo: k.MessageID, Value: &enableResult{EuiccResponseData: strconv.Itoa(i)}}
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
		_, err := op.Wait(context.Background())
		require.NoError(t, err)
	}
}

func TestConcurrentWaitAndDeliverRace(t *testing.T) {
	// Wait's context ends while the callback arrives: either the callback
	// matched and Wait returns the result, or Wait abandoned and the callback
	// is Unmatched. Never both, never neither.
	for i := 0; i < 200; i++ {
		tr := NewTracker()
		k := testKey(i)
		op := register(t, tr, k)
		ctx, cancel := context.WithCancel(context.Background())
		resc := make(chan Match, 1)
		go func() { resc <- tr.Deliver(Delivery{RelatesTo: k.MessageID, Value: &enableResult{}}).Match }()
		go cancel()
		_, err := op.Wait(ctx)
		m := <-resc
		if err == nil {
			assert.Equal(t, Matched, m)
		} else {
			assert.ErrorIs(t, err, ErrAbandoned)
			assert.Equal(t, Unmatched, m)
		}
		assert.Equal(t, 0, tr.Pending())
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
				op := NewOperation[*enableResult](tr, p, nil)
				switch i % 4 {
				case 0:
					tr.Deliver(Delivery{RelatesTo: k.MessageID, Value: &enableResult{}})
				case 1:
					tr.Deliver(Delivery{MessageID: callbackMessageID(k), Value: &enableResult{}})
				case 2:
					op.Abandon()
				case 3:
					op.Resolve(nil, ErrFailed)
				}
				<-op.Done()
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

func TestOperationConvert(t *testing.T) {
	tr := NewTracker()
	k := testKey(1)
	p, err := tr.Register(k)
	require.NoError(t, err)
	calls := 0
	op := NewOperation(tr, p, func(v any, err error) (int, error) {
		calls++
		if err != nil {
			return 0, fmt.Errorf("converted: %w", err)
		}
		s, _ := v.(string)
		return len(s), nil
	})
	tr.Deliver(Delivery{RelatesTo: k.MessageID, Value: "four"})
	for i := 0; i < 3; i++ {
		n, err := op.Wait(context.Background())
		require.NoError(t, err)
		assert.Equal(t, 4, n)
	}
	assert.Equal(t, 1, calls, "convert runs once")

	// Default convert: wrong type is an error, nil value a zero result.
	p2, _ := tr.Register(testKey(2))
	op2 := NewOperation[int](tr, p2, nil)
	op2.Resolve("not an int", nil)
	_, err = op2.Wait(context.Background())
	assert.ErrorContains(t, err, "result of type string, want int")

	p3, _ := tr.Register(testKey(3))
	op3 := NewOperation[*enableResult](tr, p3, nil)
	op3.Resolve(nil, nil)
	v, err := op3.Wait(context.Background())
	assert.NoError(t, err)
	assert.Nil(t, v)
}

func TestNewOperationWithoutPending(t *testing.T) {
	op := NewOperation[int](nil, nil, nil)
	<-op.Done()
	_, err := op.Wait(context.Background())
	assert.ErrorIs(t, err, ErrAbandoned)
	assert.False(t, op.Resolve(1, nil))
	assert.False(t, op.Abandon())

	tr := NewTracker()
	p, _ := NewTracker().Register(testKey(1))
	op = NewOperation[int](tr, p, nil) // p belongs to another tracker
	_, err = op.Wait(context.Background())
	assert.ErrorIs(t, err, ErrAbandoned)
	assert.Equal(t, "fc-1", op.FunctionCallIdentifier())
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
	tr := NewTracker(WithTrackerLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))), nil)
	k := testKey(7)
	register(t, tr, k)
	tr.Deliver(Delivery{RelatesTo: k.MessageID})
	tr.Deliver(Delivery{RelatesTo: "//x"})
	out := buf.String()
	assert.Contains(t, out, "callback matched")
	assert.Contains(t, out, "functionCallIdentifier=fc-7")
	assert.Contains(t, out, "callback unmatched")
	assert.NotPanics(t, func() { NewTracker(WithTrackerLogger(nil), WithTrackerClock(nil)) })
}

func TestMatchString(t *testing.T) {
	assert.Equal(t, "matched", Matched.String())
	assert.Equal(t, "duplicate", Duplicate.String())
	assert.Equal(t, "unmatched", Unmatched.String())
	assert.Equal(t, "Match(9)", Match(9).String())
}

// BenchmarkOutstanding100k registers 100k operations (with Operation handles)
// and reports the heap held per outstanding operation, with and without the
// key strings themselves (which the caller allocates anyway).
func BenchmarkOutstanding100k(b *testing.B) {
	const n = 100_000
	var perOp, perOpWithKeys float64
	for b.Loop() {
		tr := NewTracker()
		runtime.GC()
		var m0, m1, m2 runtime.MemStats
		runtime.ReadMemStats(&m0)
		keys := make([]OperationKey, n)
		for i := range keys {
			keys[i] = testKey(i)
		}
		runtime.GC()
		runtime.ReadMemStats(&m1)
		ops := make([]*Operation[*enableResult], n)
		for i := range keys {
			p, err := tr.Register(keys[i])
			if err != nil {
				b.Fatal(err)
			}
			ops[i] = NewOperation[*enableResult](tr, p, nil)
		}
		runtime.GC()
		runtime.ReadMemStats(&m2)
		keysBytes := float64(m1.HeapAlloc) - float64(m0.HeapAlloc) - float64(n)*float64(unsafeSizeofKey)
		perOp = (float64(m2.HeapAlloc) - float64(m1.HeapAlloc)) / n
		perOpWithKeys = perOp + keysBytes/n
		if tr.Pending() != n {
			b.Fatal("pending", tr.Pending())
		}
		runtime.KeepAlive(ops)
		runtime.KeepAlive(keys)
	}
	b.ReportMetric(perOp, "B/outstanding")
	b.ReportMetric(perOpWithKeys, "B/outstanding-with-keys")
	b.ReportMetric(perOpWithKeys*n/(1<<20), "MiB/100k")
}

// unsafeSizeofKey is the size of the OperationKey slice element the benchmark
// keeps separately (5 string headers).
const unsafeSizeofKey = 5 * 16

// BenchmarkRegisterDeliverWait measures one Register + NewOperation + Deliver
// + Wait, with the default duplicate window and without one, serial and
// parallel (each parallel goroutine takes distinct keys).
func BenchmarkRegisterDeliverWait(b *testing.B) {
	const nkeys = 1 << 16
	keys := make([]OperationKey, nkeys)
	for i := range keys {
		keys[i] = testKey(i)
	}
	ctx := context.Background()
	val := &enableResult{}
	for _, window := range []int{DefaultDuplicateWindow, 0} {
		b.Run("serial/window="+strconv.Itoa(window), func(b *testing.B) {
			tr := NewTracker(WithDuplicateWindow(window, 0))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				k := keys[i&(nkeys-1)]
				i++
				p, err := tr.Register(k)
				if err != nil {
					b.Fatal(err)
				}
				op := NewOperation[*enableResult](tr, p, nil)
				tr.Deliver(Delivery{RelatesTo: k.MessageID, Value: val})
				if _, err := op.Wait(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("parallel/window="+strconv.Itoa(window), func(b *testing.B) {
			tr := NewTracker(WithDuplicateWindow(window, 0))
			var next atomic.Int64
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					k := keys[next.Add(1)&(nkeys-1)]
					p, err := tr.Register(k)
					if err != nil {
						continue // another goroutine holds this key right now
					}
					op := NewOperation[*enableResult](tr, p, nil)
					tr.Deliver(Delivery{TransactionID: k.TransactionID, Value: val})
					if _, err := op.Wait(ctx); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
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

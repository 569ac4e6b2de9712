package esimgw

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/esimgw/esimgw/correlate"
)

// The Operation is tested here on the in-memory store, correlate.Tracker, whose own tests are in package
// correlate.

// testKey builds a realistic key: MessageID ~150 bytes, TransactionID 45 bytes.
func testKey(i int) correlate.OperationKey {
	tx := fmt.Sprintf("urn:uuid:7a1b2c3d-4e5f-4a6b-8c9d-%012d", i)
	return correlate.OperationKey{
		MessageID:              fmt.Sprintf("//1.3.6.1.4.1.99999.10/urn:uuid:0f8c2a3e-1d2b-4c5a-9e7f-%012d?TransactionId=%s&MessageDate=2024-05-01T10:00:00Z", i, tx),
		TransactionID:          tx,
		FunctionCallIdentifier: "fc-" + strconv.Itoa(i),
		Interface:              "ES4",
		Function:               "EnableProfile",
	}
}

type enableResult struct{ EuiccResponseData string }

func register(t *testing.T, tr *correlate.Tracker, k correlate.OperationKey) *Operation[*enableResult] {
	t.Helper()
	p, err := tr.Register(k)
	require.NoError(t, err)
	return NewOperation[*enableResult](tr, p, nil)
}

func TestDeliverError(t *testing.T) {
	tr := correlate.NewTracker()
	k := testKey(1)
	op := register(t, tr, k)
	fe := ExecutionStatus{Status: StatusFailed, Subject: SubjectProfileICCID, Reason: ReasonUnknown}.Err("ES4", "EnableProfile")
	assert.Equal(t, correlate.Matched, tr.Deliver(correlate.Delivery{RelatesTo: k.MessageID, Err: fe}).Match)
	got, err := op.Wait(context.Background())
	assert.Nil(t, got)
	assert.ErrorIs(t, err, ErrFailed)
}

func TestCallbackBeforeWait(t *testing.T) {
	tr := correlate.NewTracker()
	k := testKey(1)
	p, err := tr.Register(k)
	require.NoError(t, err)
	// The callback beats the 202 and the Operation.
	require.Equal(t, correlate.Matched, tr.Deliver(correlate.Delivery{RelatesTo: k.MessageID, Value: "ok"}).Match)
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

func TestOperationResolveAndAbandon(t *testing.T) {
	tr := correlate.NewTracker()
	k := testKey(1)
	op := register(t, tr, k)
	fe := ExecutionStatus{Status: StatusFailed, Subject: SubjectEID, Reason: ReasonUnknown}.Err("ES4", "EnableProfile")
	assert.True(t, op.Resolve(nil, fe))
	assert.False(t, op.Resolve(nil, nil), "resolves once")
	assert.False(t, op.Abandon())
	_, err := op.Wait(context.Background())
	assert.ErrorIs(t, err, ErrFailed)
	assert.Equal(t, correlate.Duplicate, tr.Deliver(correlate.Delivery{RelatesTo: k.MessageID}).Match)

	p2, err := tr.Register(testKey(2))
	require.NoError(t, err)
	op2 := NewOperation[int](tr, p2, nil)
	assert.True(t, op2.Abandon())
	assert.False(t, op2.Abandon())
	_, err = op2.Wait(context.Background())
	assert.ErrorIs(t, err, ErrAbandoned)
	assert.Equal(t, 0, tr.Pending())
}

func TestWaitReportsUnconfirmed(t *testing.T) {
	tr := correlate.NewTracker()
	p, err := tr.Register(testKey(1))
	require.NoError(t, err)
	op := NewOperation[int](tr, p, nil)
	p.MarkUnconfirmed(&CallError{Outcome: OutcomeUnknown, Err: errors.New("connection reset")})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = op.Wait(ctx)
	assert.ErrorIs(t, err, ErrAbandoned)
	assert.ErrorIs(t, err, ErrOutcomeUnknown, "the caller learns the function may have run")
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
			tr := correlate.NewTracker()
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

			res := tr.Deliver(correlate.Delivery{RelatesTo: k.MessageID, Value: &enableResult{}})
			assert.Equal(t, correlate.Unmatched, res.Match, "a late callback goes to the unmatched handler")
			_, err2 := op.Wait(context.Background())
			assert.Equal(t, err, err2, "later Waits repeat the error")
			assert.False(t, op.Resolve(nil, nil))
			assert.False(t, op.Abandon())
		})
	}
}

func TestWaitCause(t *testing.T) {
	tr := correlate.NewTracker()
	op := register(t, tr, testKey(1))
	cause := errors.New("shutting down")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(cause)
	_, err := op.Wait(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, err, cause)
}

func TestWaitBlocksUntilDelivery(t *testing.T) {
	tr := correlate.NewTracker()
	k := testKey(1)
	op := register(t, tr, k)
	errc := make(chan error, 1)
	go func() {
		_, err := op.Wait(context.Background())
		errc <- err
	}()
	assert.Equal(t, correlate.Matched, tr.Deliver(correlate.Delivery{TransactionID: k.TransactionID, Value: &enableResult{}}).Match)
	assert.NoError(t, <-errc)
}

func TestConcurrentWaitAndDeliverRace(t *testing.T) {
	// Wait's context ends while the callback arrives: either the callback
	// matched and Wait returns the result, or Wait abandoned and the callback
	// is Unmatched. Never both, never neither.
	for i := 0; i < 200; i++ {
		tr := correlate.NewTracker()
		k := testKey(i)
		op := register(t, tr, k)
		ctx, cancel := context.WithCancel(context.Background())
		resc := make(chan correlate.Match, 1)
		go func() { resc <- tr.Deliver(correlate.Delivery{RelatesTo: k.MessageID, Value: &enableResult{}}).Match }()
		go cancel()
		_, err := op.Wait(ctx)
		m := <-resc
		if err == nil {
			assert.Equal(t, correlate.Matched, m)
		} else {
			assert.ErrorIs(t, err, ErrAbandoned)
			assert.Equal(t, correlate.Unmatched, m)
		}
		assert.Equal(t, 0, tr.Pending())
	}
}

func TestOperationConvert(t *testing.T) {
	tr := correlate.NewTracker()
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
	tr.Deliver(correlate.Delivery{RelatesTo: k.MessageID, Value: "four"})
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

	tr := correlate.NewTracker()
	p, _ := correlate.NewTracker().Register(testKey(1))
	op = NewOperation[int](tr, p, nil) // p belongs to another tracker
	_, err = op.Wait(context.Background())
	assert.ErrorIs(t, err, ErrAbandoned)
	assert.Equal(t, "fc-1", op.FunctionCallIdentifier())
}

// BenchmarkOutstanding100k registers 100k operations (with Operation handles)
// and reports the heap held per outstanding operation, with and without the
// key strings themselves (which the caller allocates anyway).
func BenchmarkOutstanding100k(b *testing.B) {
	const n = 100_000
	var perOp, perOpWithKeys float64
	for b.Loop() {
		tr := correlate.NewTracker()
		runtime.GC()
		var m0, m1, m2 runtime.MemStats
		runtime.ReadMemStats(&m0)
		keys := make([]correlate.OperationKey, n)
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
	keys := make([]correlate.OperationKey, nkeys)
	for i := range keys {
		keys[i] = testKey(i)
	}
	ctx := context.Background()
	val := &enableResult{}
	for _, window := range []int{correlate.DefaultDuplicateWindow, 0} {
		b.Run("serial/window="+strconv.Itoa(window), func(b *testing.B) {
			tr := correlate.NewTracker(correlate.WithDuplicateWindow(window, 0))
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
				tr.Deliver(correlate.Delivery{RelatesTo: k.MessageID, Value: val})
				if _, err := op.Wait(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("parallel/window="+strconv.Itoa(window), func(b *testing.B) {
			tr := correlate.NewTracker(correlate.WithDuplicateWindow(window, 0))
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
					tr.Deliver(correlate.Delivery{TransactionID: k.TransactionID, Value: val})
					if _, err := op.Wait(ctx); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

package esimgw

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestArrivalQueue(t *testing.T) {
	var q arrivalQueue
	ctx := context.Background()
	seq1, leave1, err := q.enter(ctx, "A")
	require.NoError(t, err)

	type entered struct {
		seq   uint64
		leave func()
	}
	second := make(chan entered, 1)
	go func() {
		s, l, err := q.enter(ctx, "A")
		assert.NoError(t, err)
		second <- entered{s, l}
	}()
	// Another key is not held up.
	seqB, leaveB, err := q.enter(ctx, "B")
	require.NoError(t, err)
	leaveB()

	// A third arrival of A gives up while it waits; it must not block the second nor the lane.
	waitCtx, cancel := context.WithCancel(ctx)
	thirdErr := make(chan error, 1)
	go func() {
		for {
			q.mu.Lock()
			n := len(q.lanes["A"].waiting)
			q.mu.Unlock()
			if n >= 2 {
				break
			}
			time.Sleep(time.Millisecond)
		}
		_, _, err := q.enter(waitCtx, "A")
		thirdErr <- err
	}()
	for {
		q.mu.Lock()
		n := len(q.lanes["A"].waiting)
		q.mu.Unlock()
		if n == 3 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case <-second:
		t.Fatal("the second arrival of A ran while the first had not left")
	default:
	}
	cancel()
	require.ErrorIs(t, <-thirdErr, context.Canceled)

	leave1()
	leave1() // a second call is harmless
	s := <-second
	assert.Greater(t, s.seq, seq1)
	assert.NotEqual(t, seqB, s.seq)
	s.leave()

	q.mu.Lock()
	assert.Empty(t, q.lanes, "an empty lane is forgotten")
	q.mu.Unlock()

	seq, leave, err := q.enter(ctx, "")
	require.NoError(t, err)
	assert.Equal(t, uint64(5), seq, "every arrival is numbered, unordered ones too")
	leave()
}

// BenchmarkArrivalQueue is the cost the ordering adds to each notification: one enter and leave, on
// distinct EIDs (no waiting) and on one EID from parallel goroutines (each waits its turn).
func BenchmarkArrivalQueue(b *testing.B) {
	ctx := context.Background()
	b.Run("distinct EIDs", func(b *testing.B) {
		var q arrivalQueue
		keys := make([]string, 1024)
		for i := range keys {
			keys[i] = nthTestEID(i)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			_, leave, _ := q.enter(ctx, keys[i%len(keys)])
			leave()
		}
	})
	b.Run("one EID, parallel", func(b *testing.B) {
		var q arrivalQueue
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_, leave, _ := q.enter(ctx, "89049032123451234512345678901235")
				leave()
			}
		})
	})
}

// nthTestEID is the i-th EID of a test range (benchmarks only).
func nthTestEID(i int) string {
	s, err := EIDWithCheckDigits(fmt.Sprintf("890490320000010000000%09d", i))
	if err != nil {
		panic(err)
	}
	return s
}

package esimgw

import (
	"context"
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

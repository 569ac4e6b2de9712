package engine

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

type countingStore struct {
	n       int64
	err     error
	queries int
}

func (c *countingStore) CountPendingOperations(context.Context) (int64, error) {
	c.queries++
	return c.n, c.err
}

// The cached pending count: one query an interval, the last count kept when a query fails, nothing
// observed before the first count.
func TestPendingCountCache(t *testing.T) {
	st := &countingStore{err: errors.New("database down")}
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	c := &pendingCount{store: st, every: time.Minute, now: func() time.Time { return now }}
	ctx := context.Background()

	_, ok := c.get(ctx)
	assert.False(t, ok, "no count yet")
	st.n, st.err = 5, nil
	n, ok := c.get(ctx)
	assert.True(t, ok)
	assert.EqualValues(t, 5, n, "retried at the next collection after a failure")
	st.n = 7
	now = now.Add(59 * time.Second)
	n, _ = c.get(ctx)
	assert.EqualValues(t, 5, n, "cached within the interval")
	assert.Equal(t, 2, st.queries)

	now = now.Add(time.Second)
	st.err = errors.New("database down")
	n, ok = c.get(ctx)
	assert.True(t, ok)
	assert.EqualValues(t, 5, n, "a failed refresh keeps the last count")
	st.err = nil
	n, _ = c.get(ctx)
	assert.EqualValues(t, 7, n)
	assert.Equal(t, 4, st.queries)
}

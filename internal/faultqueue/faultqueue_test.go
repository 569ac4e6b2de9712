package faultqueue

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

type fault interface{ fault() }

type once struct{ ID int }

type repeated struct {
	EID   string
	Times int
}

type untimed struct{ Times string } // a Times that is not a count: queued once

func (once) fault()     {}
func (repeated) fault() {}
func (untimed) fault()  {}

func TestQueue(t *testing.T) {
	tests := []struct {
		name   string
		inject []fault
		take   func(q *Queue[fault]) (fault, bool)
		want   fault
		ok     bool
	}{
		{"empty", nil, func(q *Queue[fault]) (fault, bool) { return Take[once](q, nil) }, once{}, false},
		{"first of its type", []fault{repeated{EID: "a"}, once{1}, once{2}},
			func(q *Queue[fault]) (fault, bool) { return Take[once](q, nil) }, once{1}, true},
		{"first that matches", []fault{repeated{EID: "a"}, repeated{EID: "b"}},
			func(q *Queue[fault]) (fault, bool) {
				return Take(q, func(r repeated) bool { return r.EID == "b" })
			}, repeated{EID: "b"}, true},
		{"no match", []fault{repeated{EID: "a"}},
			func(q *Queue[fault]) (fault, bool) {
				return Take(q, func(r repeated) bool { return r.EID == "b" })
			}, repeated{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q Queue[fault]
			q.Add(tt.inject...)
			got, ok := tt.take(&q)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
			fired := 0
			if ok {
				fired = 1
			}
			assert.Equal(t, fired, q.Fired(tt.want))
		})
	}
}

func TestQueueTimesAndReset(t *testing.T) {
	var q Queue[fault]
	q.Add(repeated{Times: 3}, repeated{Times: -1}, untimed{Times: "x"}, once{})
	for range 4 {
		_, ok := Take[repeated](&q, nil)
		assert.True(t, ok)
	}
	_, ok := Take[repeated](&q, nil)
	assert.False(t, ok, "Times 3 and Times -1 (once): four in all")
	_, ok = Take[untimed](&q, nil)
	assert.True(t, ok)
	_, ok = Take[untimed](&q, nil)
	assert.False(t, ok)
	assert.Equal(t, 4, q.Fired(repeated{}))

	q.Fire(once{})
	assert.Equal(t, 1, q.Fired(once{}), "fired at once, not taken")
	q.Reset()
	_, ok = Take[once](&q, nil)
	assert.False(t, ok, "reset drops the queued one")
	assert.Equal(t, 1, q.Fired(once{}), "what fired stays counted")
}

func TestQueueConcurrent(t *testing.T) {
	var q Queue[fault]
	q.Add(repeated{Times: 100})
	var wg sync.WaitGroup
	var mu sync.Mutex
	taken := 0
	for range 8 {
		wg.Go(func() {
			for {
				if _, ok := Take[repeated](&q, nil); !ok {
					return
				}
				mu.Lock()
				taken++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 100, taken)
	assert.Equal(t, 100, q.Fired(repeated{}))
}

type throttle struct {
	RetryAfter int
	Times      int
}

func (throttle) fault() {}

// A mock queues what a test injects and its handlers take the faults they concern, typed.
func Example() {
	var q Queue[fault]
	q.Add(throttle{RetryAfter: 2, Times: 2}, once{ID: 7})
	for range 3 {
		if f, ok := Take[throttle](&q, nil); ok {
			fmt.Println("429, Retry-After", f.RetryAfter)
			continue
		}
		fmt.Println("200")
	}
	f, _ := Take[once](&q, nil)
	fmt.Println("once", f.ID, "fired throttles:", q.Fired(throttle{}))
	// Output:
	// 429, Retry-After 2
	// 429, Retry-After 2
	// 200
	// once 7 fired throttles: 2
}

package cli

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/gatewaytest"
)

// Counter counts the messages a listener printed and says when a limit is reached.
type Counter struct {
	limit int64
	n     atomic.Int64
	done  chan struct{}
}

// NewCounter returns a counter that closes Done after limit messages; 0 means never.
func NewCounter(limit int) *Counter {
	return &Counter{limit: int64(limit), done: make(chan struct{})}
}

// Add counts one message.
func (c *Counter) Add() {
	if n := c.n.Add(1); c.limit > 0 && n == c.limit {
		close(c.done)
	}
}

// Done is closed once the limit is reached.
func (c *Counter) Done() <-chan struct{} { return c.done }

// Count returns the messages counted.
func (c *Counter) Count() int64 { return c.n.Load() }

// PrintingOptions are StartOptions that print every notification and every callback nobody waits for to
// the program's standard output, counting each with c.
func (a *App) PrintingOptions(c *Counter) StartOptions {
	return StartOptions{
		Notifications: esimgw.NotificationHandlerFunc(func(ctx context.Context, n *esimgw.Notification) error {
			fmt.Fprintln(a.Stdout, FormatNotification(n))
			c.Add()
			return nil
		}),
		Unmatched: func(ctx context.Context, in *esimgw.Inbound) error {
			fmt.Fprintln(a.Stdout, FormatInbound(in))
			c.Add()
			return nil
		},
	}
}

// Listen runs a listener until c's limit is reached, ctx ends or -timeout (when given) passes: it
// describes the set-up and, on the embedded mock, has the device on DefaultEID switch profile locally and
// then fall back, so that notifications arrive at once.
func (s *Session) Listen(ctx context.Context, c *Counter) error {
	s.Describe()
	if s.app.TimeoutSet {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.app.Timeout)
		defer cancel()
	}
	s.Printf("listening; stop with Ctrl-C\n")
	if gw := s.Gateway; gw != nil {
		s.Printf("embedded mock: the device on %s switches to %s locally, then falls back\n",
			gatewaytest.DefaultEID, gatewaytest.DefaultDisabledICCID)
		if err := gw.SimulateLocalEnable(gatewaytest.DefaultEID, gatewaytest.DefaultDisabledICCID); err != nil {
			return fmt.Errorf("simulating a local enable: %w", err)
		}
		if err := gw.SimulateFallback(gatewaytest.DefaultEID); err != nil {
			return fmt.Errorf("simulating a fall-back: %w", err)
		}
	}
	select {
	case <-c.Done():
	case <-ctx.Done():
	}
	s.Printf("%d messages received\n", c.Count())
	return nil
}

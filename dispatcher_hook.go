package esimgw

import (
	"context"
	"log/slog"

	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

// WithResultHook runs hook on every callback (a function's result) before it resolves its operation and
// before it is acknowledged: the place to persist results when the Dispatcher has no durable Store. With
// the in-memory store a result is otherwise only in memory once the gateway has its 202, and a process that
// dies before the application read it loses it (docs/delivery.md, "the acknowledgement window"). An error
// from hook answers 503, so the gateway posts the callback again later; the operation stays pending
// meanwhile. hook may see a callback more than once (a retry after its error, a copy the gateway resent):
// store it under its MessageID, idempotently. in.Operation is nil: whether the callback matches an
// operation is decided after the hook.
func WithResultHook(hook func(ctx context.Context, in *Inbound) error) DispatcherOption {
	return func(d *Dispatcher) { d.resultHook = hook }
}

func (d *Dispatcher) runResultHook(ctx context.Context, m *soap.Message, iface, function string, resp rps.Response, txID string, warn *Warning, ferr error) error {
	if d.resultHook == nil {
		return nil
	}
	in := &Inbound{Kind: InboundCallback, Interface: iface, Function: function, Message: m, Element: resp,
		RelatesTo: m.Header.RelatesTo, TransactionID: txID, Err: ferr, Warning: warn}
	if err := d.resultHook(ctx, in); err != nil {
		d.logger.LogAttrs(ctx, slog.LevelWarn, "esimgw: result hook failed; the callback is refused (503) for the gateway to retry",
			slog.String("function", iface+" "+function), slog.String("messageID", m.Header.MessageID), slog.Any("error", err))
		return retryLater(err)
	}
	return nil
}

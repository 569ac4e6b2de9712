package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/callback"
	"github.com/esimgw/esimgw/es2"
	"github.com/esimgw/esimgw/es4"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/mtls"
	"github.com/esimgw/esimgw/pgstore"
)

// StartOptions adjust what Start builds.
type StartOptions struct {
	// Notifications handles notifications; nil prints each one to Stdout (PrintNotification).
	Notifications esimgw.NotificationHandler
	// Unmatched receives callbacks nobody waits for (and unknown messages); nil prints each one.
	Unmatched func(ctx context.Context, in *esimgw.Inbound) error
	// Server adds callback server options (callback.WithRoute for es2plus).
	Server []callback.Option
	// Mock adds options of the embedded mock gateway.
	Mock []gatewaytest.Option
	// Dispatcher and Client add options of the Dispatcher and of the ES2/ES4 clients (telemetry providers).
	Dispatcher []esimgw.DispatcherOption
	Client     []esimgw.Option
}

// Session is a running set-up: the callback server with its Dispatcher, the clients the program needs and,
// by default, the embedded mock gateway they talk to.
type Session struct {
	// Gateway is the embedded mock; nil against a real gateway.
	Gateway    *gatewaytest.Gateway
	Dispatcher *esimgw.Dispatcher
	Server     *callback.Server
	// ReplyTo is the callback server's URL sent as wsa:ReplyTo.
	ReplyTo string
	ES2     *es2.Client // nil unless NeedES2
	ES4     *es4.Client // nil unless NeedES4
	// EntityID and SMSRID as used (the mock's when embedded and not given).
	EntityID, SMSRID string
	// Indent prefixes the lines Do prints.
	Indent string

	app   *App
	pool  *pgxpool.Pool
	store *pgstore.Store
}

// Start builds and starts the set-up the command line describes.
func (a *App) Start(ctx context.Context, o StartOptions) (s *Session, err error) {
	o.Dispatcher = append(append([]esimgw.DispatcherOption(nil), a.Instrument.Dispatcher...), o.Dispatcher...)
	o.Server = append(append([]callback.Option(nil), a.Instrument.Server...), o.Server...)
	o.Client = append(append([]esimgw.Option(nil), a.Instrument.Client...), o.Client...)
	s = &Session{app: a, EntityID: a.EntityID, SMSRID: a.SMSRID}
	defer func() {
		if err != nil {
			s.Close()
			s = nil
		}
	}()
	var (
		clientTLS *tls.Config
		serverOpt callback.Option
		listen    = a.Listen
	)
	if a.Embedded() {
		mockLog := slog.New(slog.NewTextHandler(io.Discard, nil))
		if a.Verbose {
			mockLog = a.Logger.With("component", "mock")
		}
		if s.Gateway, err = gatewaytest.New(append([]gatewaytest.Option{gatewaytest.WithLogger(mockLog)}, o.Mock...)...); err != nil {
			return nil, fmt.Errorf("starting the embedded mock gateway: %w", err)
		}
		clientTLS = s.Gateway.ClientTLSConfig()
		serverOpt = callback.WithTLS(s.Gateway.CallbackServerTLSConfig())
		if s.EntityID == "" {
			s.EntityID = s.Gateway.OperatorID
		}
		if s.SMSRID == "" {
			s.SMSRID = s.Gateway.SMSRID
		}
		if listen == "" {
			listen = "127.0.0.1:0"
		}
	} else {
		if a.needs&(NeedES2|NeedES4) != 0 {
			if clientTLS, err = a.clientTLS(); err != nil {
				return nil, err
			}
		}
		if serverOpt, err = a.serverTLS(); err != nil {
			return nil, err
		}
		if listen == "" {
			listen = ":8443"
		}
	}

	unmatched := o.Unmatched
	if unmatched == nil {
		unmatched = func(ctx context.Context, in *esimgw.Inbound) error { s.PrintInbound(in); return nil }
	}
	notes := o.Notifications
	if notes == nil {
		notes = esimgw.NotificationHandlerFunc(func(ctx context.Context, n *esimgw.Notification) error {
			s.PrintNotification(n)
			return nil
		})
	}
	dopts := append([]esimgw.DispatcherOption{esimgw.WithDispatcherLogger(a.Logger),
		esimgw.WithNotificationHandler(notes), esimgw.WithUnmatchedHandler(unmatched)}, o.Dispatcher...)
	if a.Store != "" {
		store, err := s.openStore(ctx, a.Store)
		if err != nil {
			s.Close()
			return nil, err
		}
		dopts = append(dopts, esimgw.WithStore(store))
	}
	s.Dispatcher = esimgw.NewDispatcher(dopts...)
	sopts := append([]callback.Option{serverOpt, callback.WithLogger(serverLogger(a))}, o.Server...)
	if s.Server, err = callback.NewServer(s.Dispatcher, sopts...); err != nil {
		return nil, fmt.Errorf("callback server: %w", err)
	}
	if err = s.Server.Listen(listen); err != nil {
		return nil, fmt.Errorf("callback server: cannot listen on %s (%s): %w", listen, a.Flag("listen"), err)
	}
	s.ReplyTo = a.ReplyTo
	if s.ReplyTo == "" {
		s.ReplyTo = s.Server.URL() + "/"
	}
	if s.Gateway != nil {
		s.Gateway.SetNotificationURL(gatewaytest.ES2, s.ReplyTo)
		s.Gateway.SetNotificationURL(gatewaytest.ES4, s.ReplyTo)
	}
	a.Logger.Debug("callback server listening", "addr", s.Server.Addr(), "replyTo", s.ReplyTo)

	if a.needs&(NeedES2|NeedES4) == 0 {
		return s, nil
	}
	copts := []esimgw.Option{
		esimgw.WithEntity(s.EntityID, a.EntityName),
		esimgw.WithTLSConfig(clientTLS),
		esimgw.WithReplyTo(s.ReplyTo),
		esimgw.WithDispatcher(s.Dispatcher),
		esimgw.WithLogger(a.Logger),
	}
	if a.KPN {
		copts = append(copts, esimgw.WithKPN())
	}
	if a.ProviderEntityID != "" {
		copts = append(copts, esimgw.WithProviderEntityID(a.ProviderEntityID))
	}
	copts = append(copts, o.Client...)
	if a.needs&NeedES4 != 0 {
		if s.ES4, err = es4.NewClient(s.es4URL(), copts...); err != nil {
			return nil, fmt.Errorf("ES4 client: %w", err)
		}
	}
	if a.needs&NeedES2 != 0 {
		if s.ES2, err = es2.NewClient(s.es2URL(), s.SMSRID, copts...); err != nil {
			return nil, fmt.Errorf("ES2 client: %w", err)
		}
	}
	return s, nil
}

func (s *Session) es2URL() string {
	if s.Gateway != nil {
		return s.Gateway.ES2URL
	}
	return s.app.ES2URL
}

func (s *Session) es4URL() string {
	if s.Gateway != nil {
		return s.Gateway.ES4URL
	}
	return s.app.ES4URL
}

func (a *App) clientTLS() (*tls.Config, error) {
	src, err := mtls.NewFileSource(a.Cert, a.Key, mtls.WithLogger(a.Logger))
	if err != nil {
		return nil, fmt.Errorf("client certificate (%s, %s): %w", a.Flag("cert"), a.Flag("key"), err)
	}
	var opts []mtls.ConfigOption
	if a.CA != "" {
		pool, err := mtls.LoadCAPool(a.CA)
		if err != nil {
			return nil, fmt.Errorf("gateway CA bundle (%s): %w", a.Flag("ca"), err)
		}
		opts = append(opts, mtls.WithRootCAs(pool))
	}
	return mtls.ClientConfig(src, opts...)
}

func (a *App) serverTLS() (callback.Option, error) {
	src, err := mtls.NewFileSource(a.CallbackCert, a.CallbackKey, mtls.WithLogger(a.Logger))
	if err != nil {
		return nil, fmt.Errorf("callback server certificate (%s, %s): %w", a.Flag("callback-cert"), a.Flag("callback-key"), err)
	}
	pool, err := mtls.LoadCAPool(a.CallbackCA)
	if err != nil {
		return nil, fmt.Errorf("gateway client CA bundle (%s): %w", a.Flag("callback-ca"), err)
	}
	var subjects []string
	if a.CallbackSubject != "" {
		subjects = append(subjects, a.CallbackSubject)
	}
	return callback.WithCertificate(src, pool, subjects...), nil
}

// Close shuts the callback server down (waiting briefly for callbacks being handed over) and stops the
// embedded mock.
func (s *Session) Close() {
	if s == nil {
		return
	}
	if s.Server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.Server.Shutdown(ctx)
		cancel()
	}
	if s.store != nil {
		s.store.Close()
		s.pool.Close()
	}
	if s.Gateway != nil {
		s.Gateway.Close()
	}
}

// openStore connects to PostgreSQL, migrates and opens the store -store names.
func (s *Session) openStore(ctx context.Context, dbURL string) (*pgstore.Store, error) {
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.app.Flag("store"), err)
	}
	if err := pgstore.Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("%s: %w", s.app.Flag("store"), err)
	}
	store, err := pgstore.New(ctx, pool, pgstore.WithLogger(s.app.Logger))
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("%s: %w", s.app.Flag("store"), err)
	}
	s.pool, s.store = pool, store
	return store, nil
}

// Describe prints where the program runs: the embedded mock or the gateway's endpoints, and the callback
// server.
func (s *Session) Describe() {
	w := s.app.Stdout
	if s.Gateway != nil {
		fmt.Fprintf(w, "gateway   embedded mock at https://%s (no %s or gateway flags given)\n", s.Gateway.Addr(), s.app.Flag("kpn"))
	} else {
		mode := "GSMA"
		if s.app.KPN {
			mode = "KPN"
		}
		if s.ES4 != nil {
			fmt.Fprintf(w, "ES4       %s (%s)\n", s.app.ES4URL, mode)
		}
		if s.ES2 != nil {
			fmt.Fprintf(w, "ES2       %s (%s)\n", s.app.ES2URL, mode)
		}
	}
	fmt.Fprintf(w, "callbacks %s (listening on %s)\n", s.ReplyTo, s.Server.Addr())
}

// Wait waits for an operation's callback within the program's -timeout, turning a timeout into a message
// that says so.
func Wait[T any](ctx context.Context, s *Session, op *esimgw.Operation[T]) (T, error) {
	wctx, cancel := context.WithTimeout(ctx, s.app.Timeout)
	defer cancel()
	res, err := op.Wait(wctx)
	if err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		err = &timeoutError{err: err, msg: fmt.Sprintf("no %s %s callback within %s %s (FunctionCallIdentifier %s); it may still arrive at %s",
			op.Interface(), op.Function(), s.app.Flag("timeout"), s.app.Timeout, op.FunctionCallIdentifier(), s.ReplyTo)}
	}
	return res, err
}

// timeoutError says which wait ran out, and still matches context.DeadlineExceeded (esimgw.OutcomeOf
// reports it as NO_RESULT).
type timeoutError struct {
	err error
	msg string
}

func (e *timeoutError) Error() string { return e.msg }
func (e *timeoutError) Unwrap() error { return e.err }

// Call bounds one request by the program's -timeout.
func (s *Session) Call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.app.Timeout)
}

// Do sends one asynchronous request with start, prints that it was sent, waits for its callback within
// -timeout and prints its outcome:
//
//	-> ES4 EnableProfile sent (FunctionCallIdentifier urn:uuid:...), waiting for the callback
//	<- callback ES4 EnableProfile: EXECUTED_SUCCESS after 7ms
func Do[T any](ctx context.Context, s *Session, start func(ctx context.Context) (*esimgw.Operation[T], error)) (T, error) {
	cctx, cancel := s.Call(ctx)
	defer cancel()
	began := time.Now()
	op, err := start(cctx)
	if err != nil {
		var zero T
		return zero, err
	}
	s.Printf(s.Indent+"-> %s %s sent (FunctionCallIdentifier %s), waiting for the callback\n",
		op.Interface(), op.Function(), op.FunctionCallIdentifier())
	res, err := Wait(ctx, s, op)
	if err != nil {
		return res, err
	}
	o := esimgw.Outcome{Status: esimgw.StatusExecutedSuccess}
	if r, ok := any(res).(interface{ Outcome() esimgw.Outcome }); ok {
		o = r.Outcome()
	}
	s.Printf(s.Indent+"<- callback %s %s: %s after %s\n", op.Interface(), op.Function(), FormatOutcome(o),
		time.Since(began).Round(time.Millisecond))
	return res, nil
}

// Command listen runs the operator's callback server and prints every callback and notification it
// receives: ES2 and ES4 HandleProfileEnabled/Disabled/Deleted/SMSRChange notifications (state changes
// the gateway reports unasked, such as a local switch or a fall-back on the device), and callbacks of calls
// nobody here waits for (calls another process sent with this server as its replyTo, or sent before a
// restart), with their FunctionCallIdentifier. It acknowledges each only after printing it.
//
// Without gateway flags it starts an embedded mock gateway and has it simulate a local profile switch and
// a fall-back on one eUICC, so notifications arrive at once:
//
//	go run ./examples/listen -count 4
//
// Against KPN's RSP Gateway, run it where KPN reaches your replyTo address (KPN sends ES4
// HandleProfileEnabled and HandleProfileDisabled notifications):
//
//	go run ./examples/listen -kpn -listen :8443 -replyto https://callbacks.example.com:8443/ \
//		-callback-cert callbacks.crt -callback-key callbacks.key -callback-ca kpn-client-ca.pem \
//		[-callback-subject $KPN_CLIENT_CN]
//
// Every flag falls back to an ESIMGW_* environment variable (see -h).
package main

import (
	"context"
	"io"
	"os"

	"github.com/esimgw/esimgw/internal/cli"
)

const name = "esimgw-listen"

const doc = `Usage: listen [flags]

Runs the callback server and prints every callback and notification it receives, until interrupted,
-count messages arrived or -timeout (when given) passed. Without -kpn or callback certificate flags it
starts an embedded mock gateway that simulates a local profile switch and a fall-back.`

func main() { os.Exit(cli.Main(name, run)) }

func run(ctx context.Context, env cli.Env, args []string, stdout, stderr io.Writer) error {
	app := cli.New(name, doc, 0, env, stdout, stderr)
	count := app.Flags.Int("count", 0, "stop after this many messages (0: run until interrupted)")
	if err := app.Parse(args); err != nil {
		return err
	}
	if *count < 0 {
		return cli.Usagef("-count must not be negative")
	}
	counter := cli.NewCounter(*count)
	s, err := app.Start(ctx, app.PrintingOptions(counter))
	if err != nil {
		return err
	}
	defer s.Close()
	return s.Listen(ctx, counter)
}

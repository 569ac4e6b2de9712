package cli

import (
	"context"
	"io"
	"time"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/gatewaytest"
)

// ProfileCommand is an example program that runs one asynchronous function on one profile of one eUICC
// and waits for its callback: enable, disable, delete and fallback differ only in what is said here.
type ProfileCommand struct {
	Name         string // program name for messages, e.g. "esimgw-delete"
	Doc          string // usage text
	Needs        Needs  // NeedES2 or NeedES4
	ICCIDUsage   string // -iccid's help
	DefaultICCID string // the mock's profile used without -iccid
	// KPNWait, when set, is how long to wait by default against KPN (SetFallBackAttribute's fixed 720 s).
	KPNWait time.Duration
	Call    func(ctx context.Context, s *Session, eid, iccid string) (*esimgw.Operation[*esimgw.Result], error)
	Done    string // printed on success, with the ICCID and the EID, e.g. "profile %s is deleted from %s\n"
}

// Run is the command's RunFunc.
func (p ProfileCommand) Run(ctx context.Context, env Env, args []string, stdout, stderr io.Writer) error {
	app := New(p.Name, p.Doc, p.Needs, env, stdout, stderr)
	eid := app.Flags.String("eid", "", "EID of the eUICC")
	iccid := app.Flags.String("iccid", "", p.ICCIDUsage)
	app.EnvVar("eid", "EID")
	if err := app.Parse(args); err != nil {
		return err
	}
	if err := Defaults(app, eid, iccid, gatewaytest.DefaultEID, p.DefaultICCID); err != nil {
		return err
	}
	if p.KPNWait > 0 && app.KPN && !app.TimeoutSet {
		app.Timeout = p.KPNWait
	}
	s, err := app.Start(ctx, StartOptions{})
	if err != nil {
		return err
	}
	defer s.Close()
	s.Describe()
	if _, err := Do(ctx, s, func(ctx context.Context) (*esimgw.Operation[*esimgw.Result], error) {
		return p.Call(ctx, s, *eid, *iccid)
	}); err != nil {
		return err
	}
	s.Printf(p.Done, *iccid, *eid)
	return nil
}

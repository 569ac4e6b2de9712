package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/internal/cli"
)

// mockEvent is the body of a POST to the mock's control API (/v1/events/{kind}).
type mockEvent struct {
	EID   string `json:"eid"`
	ICCID string `json:"iccid,omitempty"`
}

// mockEventKinds are the device-side events the control API makes the mock produce, with what each does.
var mockEventKinds = []struct{ kind, help string }{
	{"switch", "the device enables --iccid locally (ProfileEnabled and ProfileDisabled notifications)"},
	{"disable", "the device disables --iccid locally (ProfileDisabled)"},
	{"delete", "the device deletes --iccid locally (ProfileDeleted)"},
	{"fallback", "the device loses the network and falls back to its fall-back profile"},
	{"unreachable", "the device stops answering: async functions on it end EXPIRED"},
	{"reachable", "the device answers again"},
}

func mockCommand(g *globals) *cobra.Command {
	fs := cli.New("esimgw mock", "", cli.MockOnly, g.env, g.stdout, g.stderr).Flags
	addr := fs.String("addr", "127.0.0.1:0", "address of the mock's ES2/ES4 endpoints (mutual TLS)")
	control := fs.String("control", "127.0.0.1:0", "address of the control API (plain HTTP, loopback by default): device-side events")
	certs := fs.String("certs", "", "directory for ca.pem/ca.key, client.crt/key and callback-server.crt/key: reused when present, written when not (default: a new temporary directory)")
	profile := fs.String("profile", "gsma", "behaviour profile: gsma or kpn")
	seed := fs.String("seed", "", "JSON seed file replacing the default eUICCs and catalogue")
	notify := fs.String("notify", "", "URL to post ES2 and ES4 notifications to (your callback server, e.g. https://localhost:8443/)")
	cmd := &cobra.Command{
		Use:   "mock",
		Short: "Run the mock SGP.02 gateway (ES2 SM-DP, ES4 SM-SR) for tests and demos",
		Long: `Runs the esimgw mock gateway (package gatewaytest) as a process: an SM-SR (ES4) and an SM-DP (ES2) over
mutual TLS with seeded eUICCs, for use from other languages, other processes or by hand. It writes its CA
and the operator's certificates to --certs, prints what a client needs (URLs, entity ids, the exact
esimgw flags) and serves a control API that makes devices produce events:

  esimgw mock --certs /tmp/mock --notify https://localhost:8443/
  esimgw listen $(the "listen flags" line it printed)
  esimgw mock event switch --control http://127.0.0.1:PORT --eid $EID --iccid $ICCID

It runs until interrupted. Started again on the same --certs folder, it reuses the CA there (ca.pem with
its key ca.key) and the client and callback-server files it issued, so peers holding them keep working;
a ca.pem without its ca.key is an error (remove it for a new CA).`,
		GroupID: "run",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := gatewaytest.ParseBehavior(*profile)
			if err != nil {
				return usage(err)
			}
			opts := []gatewaytest.Option{gatewaytest.WithAddr(*addr), gatewaytest.WithProfile(b),
				gatewaytest.WithLogger(slog.New(slog.DiscardHandler))}
			if *seed != "" {
				opts = append(opts, gatewaytest.WithSeedFile(*seed))
			}
			if *notify != "" {
				opts = append(opts, gatewaytest.WithNotificationURL(gatewaytest.ES2, *notify), gatewaytest.WithNotificationURL(gatewaytest.ES4, *notify))
			}
			gw, files, err := gatewaytest.NewInDir(*certs, opts...)
			if err != nil {
				return err
			}
			defer gw.Close()
			ln, err := net.Listen("tcp", *control)
			if err != nil {
				return usage(fmt.Errorf("--control %s: %w", *control, err))
			}
			srv := &http.Server{Handler: mockControl(gw), ReadHeaderTimeout: 5 * time.Second}
			go func() { _ = srv.Serve(ln) }()
			defer srv.Close()

			info := mockJSON{Profile: b.String(), ES2URL: gw.ES2URL, ES4URL: gw.ES4URL, SMSRID: gw.SMSRID, SMDPID: gw.SMDPID, OperatorID: gw.OperatorID,
				Control: "http://" + ln.Addr().String(),
				Files: mockFiles{CA: files.CA, ClientCert: files.ClientCert, ClientKey: files.ClientKey,
					CallbackServerCert: files.CallbackServerCert, CallbackServerKey: files.CallbackServerKey},
				EUICCs: []mockEUICC{}}
			for _, e := range gw.EUICCs() {
				me := mockEUICC{EID: e.EID, Profiles: []mockProfile{}}
				for _, p := range e.Profiles {
					me.Profiles = append(me.Profiles, mockProfile{ICCID: p.ICCID, State: string(p.State)})
				}
				info.EUICCs = append(info.EUICCs, me)
			}
			info.ClientArgs = []string{"--es2-url", gw.ES2URL, "--es4-url", gw.ES4URL, "--ca", files.CA, "--cert", files.ClientCert, "--key", files.ClientKey,
				"--entity-id", gw.OperatorID, "--smsr-id", gw.SMSRID}
			info.CallbackArgs = []string{"--callback-cert", files.CallbackServerCert, "--callback-key", files.CallbackServerKey, "--callback-ca", files.CA}
			if g.table() {
				w := g.stdout
				fmt.Fprintf(w, "profile        %s\nES2            %s\nES4            %s\n", info.Profile, info.ES2URL, info.ES4URL)
				fmt.Fprintf(w, "SM-SR id       %s\nSM-DP id       %s\noperator id    %s\ncontrol        %s\n", info.SMSRID, info.SMDPID, info.OperatorID, info.Control)
				fmt.Fprintf(w, "CA             %s\nclient         %s %s\ncallback       %s %s\n", files.CA, files.ClientCert, files.ClientKey,
					files.CallbackServerCert, files.CallbackServerKey)
				for _, e := range info.EUICCs {
					fmt.Fprintf(w, "eUICC          %s", e.EID)
					for _, p := range e.Profiles {
						fmt.Fprintf(w, " %s(%s)", p.ICCID, p.State)
					}
					fmt.Fprintln(w)
				}
				fmt.Fprintf(w, "client flags   %s %s --listen 127.0.0.1:8443\n", strings.Join(info.ClientArgs, " "), strings.Join(info.CallbackArgs, " "))
				fmt.Fprintf(w, "listen flags   %s --listen 127.0.0.1:8443\n", strings.Join(info.CallbackArgs, " "))
				fmt.Fprintln(w, "ready")
			} else {
				g.emit(info, false)
			}
			<-cmd.Context().Done()
			return nil
		},
	}
	cmd.Flags().AddGoFlagSet(fs)
	cmd.Flags().SortFlags = false
	cmd.AddCommand(mockEventCommand(g))
	return cmd
}

// mockControl is the control API: POST /v1/events/{kind} with a mockEvent body, GET /v1/euiccs.
func mockControl(gw *gatewaytest.Gateway) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/events/{kind}", func(w http.ResponseWriter, r *http.Request) {
		var ev mockEvent
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&ev); err != nil {
			http.Error(w, "body: "+err.Error(), http.StatusBadRequest)
			return
		}
		var err error
		switch r.PathValue("kind") {
		case "switch":
			err = gw.SimulateLocalEnable(ev.EID, ev.ICCID)
		case "disable":
			err = gw.SimulateLocalDisable(ev.EID, ev.ICCID)
		case "delete":
			err = gw.SimulateLocalDelete(ev.EID, ev.ICCID)
		case "fallback":
			err = gw.SimulateFallback(ev.EID)
		case "unreachable":
			err = gw.SetReachable(ev.EID, false)
		case "reachable":
			err = gw.SetReachable(ev.EID, true)
		default:
			http.Error(w, "unknown event "+r.PathValue("kind"), http.StatusNotFound)
			return
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnprocessableEntity)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /v1/euiccs", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(gw.EUICCs())
	})
	return mux
}

func mockEventCommand(g *globals) *cobra.Command {
	ev := &cobra.Command{
		Use:   "event",
		Short: "Make a device of a running esimgw mock produce an event",
		Long:  "Sends a device-side event to the control API of a running esimgw mock (the URL it printed as \"control\").",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	for _, k := range mockEventKinds {
		var controlURL, eid, iccid string
		sub := &cobra.Command{
			Use:   k.kind,
			Short: k.help,
			Args:  noArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if !cmd.Flags().Changed("control") {
					if v, ok := g.env("ESIMGW_MOCK_CONTROL"); ok && v != "" {
						controlURL = v
					}
				}
				switch {
				case controlURL == "":
					return cli.Usagef("--control is required (the control URL esimgw mock printed)")
				case eid == "":
					return cli.Usagef("--eid is required")
				case iccid == "" && (k.kind == "switch" || k.kind == "disable" || k.kind == "delete"):
					return cli.Usagef("--iccid is required")
				}
				if err := esimgw.ValidateEID(eid); err != nil {
					return usage(err)
				}
				body, _ := json.Marshal(mockEvent{EID: eid, ICCID: iccid})
				ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
				defer cancel()
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(controlURL, "/")+"/v1/events/"+k.kind, bytes.NewReader(body))
				if err != nil {
					return usage(fmt.Errorf("--control %q: %w", controlURL, err))
				}
				req.Header.Set("Content-Type", "application/json")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					return fmt.Errorf("cannot reach the mock's control API at %s: %w", controlURL, errors.Unwrap(err))
				}
				defer res.Body.Close()
				msg, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
				if res.StatusCode != http.StatusNoContent {
					return fmt.Errorf("the mock refused the event: %s", strings.TrimSpace(string(msg)))
				}
				if g.table() {
					fmt.Fprintf(g.stdout, "event %s sent to the device %s\n", k.kind, eid)
				} else {
					g.emit(map[string]string{"event": k.kind, "eid": eid, "iccid": iccid}, false)
				}
				return nil
			},
		}
		sub.Flags().StringVar(&controlURL, "control", "", "the control URL the mock printed (env ESIMGW_MOCK_CONTROL)")
		sub.Flags().StringVar(&eid, "eid", "", "EID of the device")
		if k.kind == "switch" || k.kind == "disable" || k.kind == "delete" {
			sub.Flags().StringVar(&iccid, "iccid", "", "ICCID of the profile")
		}
		ev.AddCommand(sub)
	}
	return ev
}

// Command goclient is the Go side of bench/peers.sh: it drives the comparison server with esimgw
// (-peer esimgw, sync GetEIS or the async EnableProfile round trip through esimgw's CallbackServer), with
// the minimal hand-written encoding/xml + net/http client (-peer handwritten, sync only), or with one of
// the transport floors (-peer rawtls or rawhttp, sync and async: the bytes esimgw sends, no XML, see
// floor.go), and prints one loadgen JSON line.
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/esimgw/esimgw"
	"github.com/esimgw/esimgw/bench/internal/compserver"
	"github.com/esimgw/esimgw/bench/internal/loadgen"
	"github.com/esimgw/esimgw/callback"
	"github.com/esimgw/esimgw/es4"
	"github.com/esimgw/esimgw/gatewaytest"
	"github.com/esimgw/esimgw/internal/version"
	"github.com/esimgw/esimgw/mtls"
	"github.com/esimgw/esimgw/soap"
	"github.com/esimgw/esimgw/wsdl/rps"
)

func main() {
	peer := flag.String("peer", "esimgw", "esimgw, handwritten, rawtls or rawhttp")
	scenario := flag.String("scenario", "sync", "sync (GetEIS) or async (EnableProfile + callback + Wait)")
	url := flag.String("url", "", "comparison server URL")
	dir := flag.String("dir", "", "PKI directory written by compserver")
	conc := flag.Int("c", 8, "concurrent callers")
	dur := flag.Duration("d", 5*time.Second, "measured duration")
	warm := flag.Duration("warmup", time.Second, "warm-up duration")
	max := flag.Int64("n", 200000, "maximum measured calls")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	memProfile := flag.String("memprofile", "", "write an allocation profile of the run to this file")
	benchFmt := flag.Bool("benchfmt", false, "print the result as a Go benchmark line (for benchstat) instead of JSON")
	store := flag.String("store", "", "esimgw async: keep operations in PostgreSQL at this URL (pgstore, in a schema of its own, dropped at exit); reported as peer esimgw-pg")
	printVersion := version.Flag(flag.CommandLine, "goclient")
	flag.Parse()
	if printVersion(os.Stdout) {
		return
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "goclient:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "goclient:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(*peer, *scenario, *url, *dir, *conc, *dur, *warm, *max, *benchFmt, *store); err != nil {
		fmt.Fprintln(os.Stderr, "goclient:", err)
		os.Exit(1)
	}
	if *memProfile != "" {
		f, err := os.Create(*memProfile)
		if err == nil {
			err = pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "goclient:", err)
			os.Exit(1)
		}
	}
}

func tlsConfigs(dir string) (client, server *tls.Config, err error) {
	pool, err := mtls.LoadCAPool(filepath.Join(dir, "ca.pem"))
	if err != nil {
		return nil, nil, err
	}
	cc, err := tls.LoadX509KeyPair(filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.key"))
	if err != nil {
		return nil, nil, err
	}
	sc, err := tls.LoadX509KeyPair(filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key"))
	if err != nil {
		return nil, nil, err
	}
	client = &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cc}, RootCAs: pool}
	server = &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{sc}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	return client, server, nil
}

func run(peer, scenario, url, dir string, conc int, dur, warm time.Duration, max int64, benchFmt bool, store string) error {
	ccfg, scfg, err := tlsConfigs(dir)
	if err != nil {
		return err
	}
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	var call func(ctx context.Context) error
	switch {
	case peer == "esimgw" && scenario == "sync":
		c, err := es4.NewClient(url, esimgw.WithEntity(gatewaytest.DefaultOperatorID, "bench"), esimgw.WithTLSConfig(ccfg), esimgw.WithLogger(quiet))
		if err != nil {
			return err
		}
		call = func(ctx context.Context) error { _, err := c.GetEIS(ctx, compserver.EID); return err }
	case peer == "esimgw" && scenario == "async":
		dopts := []esimgw.DispatcherOption{esimgw.WithDispatcherLogger(quiet)}
		if store != "" {
			s, closeStore, err := openStore(ctx, store)
			if err != nil {
				return err
			}
			defer closeStore()
			dopts = append(dopts, esimgw.WithStore(s))
			peer = "esimgw-pg"
		}
		d := esimgw.NewDispatcher(dopts...)
		cbs, err := callback.NewServer(d, callback.WithTLS(scfg), callback.WithLogger(quiet))
		if err != nil {
			return err
		}
		if err := cbs.Listen("127.0.0.1:0"); err != nil {
			return err
		}
		defer cbs.Close()
		c, err := es4.NewClient(url, esimgw.WithEntity(gatewaytest.DefaultOperatorID, "bench"), esimgw.WithTLSConfig(ccfg),
			esimgw.WithReplyTo(cbs.URL()+"/callbacks"), esimgw.WithDispatcher(d), esimgw.WithLogger(quiet))
		if err != nil {
			return err
		}
		call = func(ctx context.Context) error {
			op, err := c.EnableProfile(ctx, compserver.EID, gatewaytest.DefaultDisabledICCID)
			if err != nil {
				return err
			}
			wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			_, err = op.Wait(wctx)
			return err
		}
	case peer == "handwritten" && scenario == "sync":
		call = handwritten(url, ccfg, conc)
	case peer == "rawtls" || peer == "rawhttp":
		var stop func()
		if call, stop, err = floorPeer(ctx, peer, scenario, url, ccfg, scfg); err != nil {
			return err
		}
		defer stop()
	default:
		return fmt.Errorf("no %s client for scenario %s", peer, scenario)
	}
	if store != "" && peer != "esimgw-pg" {
		return fmt.Errorf("-store is for -peer esimgw -scenario async only")
	}
	if err := call(ctx); err != nil {
		return fmt.Errorf("first call: %w", err)
	}
	r := loadgen.Run(ctx, peer, scenario, conc, warm, dur, max, call)
	if benchFmt {
		loadgen.PrintBench(os.Stdout, r)
	} else {
		loadgen.Print(os.Stdout, r)
	}
	return nil
}

// The hand-written client: what a Go programmer writes with encoding/xml and net/http alone, keep-alive
// included. It is the practical limit an envelope library can approach, not a full client (no retries,
// no status mapping beyond the body, no MessageID parsing).

type wsaEnvelope struct {
	XMLName xml.Name `xml:"http://www.w3.org/2003/05/soap-envelope Envelope"`
	Header  struct {
		From      string `xml:"http://www.w3.org/2005/08/addressing From>Address"`
		To        string `xml:"http://www.w3.org/2005/08/addressing To"`
		MessageID string `xml:"http://www.w3.org/2005/08/addressing MessageID"`
		Action    string `xml:"http://www.w3.org/2005/08/addressing Action"`
		RelatesTo string `xml:"http://www.w3.org/2005/08/addressing RelatesTo,omitempty"`
	} `xml:"http://www.w3.org/2003/05/soap-envelope Header"`
	Body struct {
		Content any `xml:",any"`
	} `xml:"http://www.w3.org/2003/05/soap-envelope Body"`
}

type getEISResponseEnvelope struct {
	XMLName xml.Name `xml:"http://www.w3.org/2003/05/soap-envelope Envelope"`
	Header  struct {
		RelatesTo string `xml:"http://www.w3.org/2005/08/addressing RelatesTo"`
	} `xml:"http://www.w3.org/2003/05/soap-envelope Header"`
	Body struct {
		Response rps.ES4GetEISResponse `xml:"http://namespaces.gsma.org/esim-messaging/3 ES4-GetEISResponse"`
	} `xml:"http://www.w3.org/2003/05/soap-envelope Body"`
}

func handwritten(url string, cfg *tls.Config, conc int) func(ctx context.Context) error {
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, MaxIdleConnsPerHost: conc + 8, IdleConnTimeout: 90 * time.Second}}
	eid, _ := esimgw.ParseEID(compserver.EID)
	const action = "http://gsma.com/ES4/ProfileManagement/ES4-GetEISRequest"
	from := "http://localhost?EntityId=" + gatewaytest.DefaultOperatorID
	return func(ctx context.Context) error {
		mid := soap.NewMessageID(gatewaytest.DefaultOperatorID, time.Now()).String()
		var env wsaEnvelope
		env.Header.From, env.Header.To, env.Header.MessageID, env.Header.Action = from, url, mid, action
		req := &rps.ES4GetEISRequest{Eid: eid}
		req.FunctionCallIdentifier = mid
		env.Body.Content = req
		var buf bytes.Buffer
		if err := xml.NewEncoder(&buf).Encode(&env); err != nil {
			return err
		}
		hr, err := http.NewRequestWithContext(ctx, http.MethodPost, url, &buf)
		if err != nil {
			return err
		}
		hr.Header.Set("Content-Type", `application/soap+xml; charset=utf-8; action="`+action+`"`)
		res, err := hc.Do(hr)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		data, err := io.ReadAll(res.Body)
		if err != nil {
			return err
		}
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("HTTP %s", res.Status)
		}
		var out getEISResponseEnvelope
		if err := xml.Unmarshal(data, &out); err != nil {
			return err
		}
		if out.Header.RelatesTo != mid {
			return errors.New("RelatesTo does not match")
		}
		if out.Body.Response.FunctionExecutionStatus.Status != rps.StatusTypeEXECUTED_SUCCESS {
			return fmt.Errorf("status %s", out.Body.Response.FunctionExecutionStatus.Status)
		}
		return nil
	}
}

// Command compserver runs the comparison server of bench/peers.sh on loopback: it writes its PKI (ca.pem,
// server.crt/.key, client.crt/.key) to -dir, prints its URL on stdout and serves until stdin closes or
// it is interrupted.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/esimgw/esimgw/bench/internal/compserver"
	"github.com/esimgw/esimgw/internal/version"
)

func main() {
	dir := flag.String("dir", "", "directory for the PKI files (must exist)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the server's whole run to this file")
	printVersion := version.Flag(flag.CommandLine, "compserver")
	flag.Parse()
	if printVersion(os.Stdout) {
		return
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if *dir == "" {
		logger.Error("compserver: -dir is required")
		os.Exit(2)
	}
	s, err := compserver.New(*dir, logger)
	if err != nil {
		logger.Error("compserver", "error", err)
		os.Exit(1)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			logger.Error("compserver", "error", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Println(s.URL)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); stop() }()
	<-ctx.Done()
	s.Close()
	if f := s.CallbackFailures(); len(f) > 0 {
		logger.Warn("compserver: failed callback posts", "failures", f)
	}
}

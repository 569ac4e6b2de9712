package mtls_test

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/esimgw/esimgw/mtls"
	"github.com/esimgw/esimgw/mtls/mtlstest"
)

// The client side of ES2/ES4 calls: our certificate (the one KPN knows the
// subject of) from files, the gateway verified against a pinned CA bundle.
// Against KPN, leave WithRootCAs out: its chain is publicly trusted.
func ExampleClientConfig() {
	dir, _ := os.MkdirTemp("", "mtls-example")
	defer os.RemoveAll(dir)
	pki, err := mtlstest.NewPKI(dir, "smsr.example")
	if err != nil {
		fmt.Println(err)
		return
	}

	src, err := mtls.NewFileSource(pki.ClientCertFile, pki.ClientKeyFile)
	if err != nil {
		fmt.Println(err)
		return
	}
	roots, err := mtls.LoadCAPool(pki.CAFile)
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg, err := mtls.ClientConfig(src, mtls.WithRootCAs(roots))
	if err != nil {
		fmt.Println(err)
		return
	}
	// Use it as http.Transport{TLSClientConfig: cfg}.
	fmt.Println("min version:", tls.VersionName(cfg.MinVersion))
	fmt.Println("skip verify:", cfg.InsecureSkipVerify)
	fmt.Println("client subject:", src.Leaf().Subject)
	// Output:
	// min version: TLS 1.2
	// skip verify: false
	// client subject: CN=smsr.example
}

// The callback server: client certificates required and verified against
// the client-CA pool, and pinned to the gateway's subject.
func ExampleServerConfig() {
	dir, _ := os.MkdirTemp("", "mtls-example")
	defer os.RemoveAll(dir)
	pki, err := mtlstest.NewPKI(dir, "gateway.example")
	if err != nil {
		fmt.Println(err)
		return
	}

	src, err := mtls.NewFileSource(pki.ServerCertFile, pki.ServerKeyFile)
	if err != nil {
		fmt.Println(err)
		return
	}
	clientCAs, err := mtls.LoadCAPool(pki.CAFile)
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg, err := mtls.ServerConfig(src, clientCAs, mtls.WithAllowedSubjects("gateway.example"))
	if err != nil {
		fmt.Println(err)
		return
	}
	// Use it as http.Server{TLSConfig: cfg} and ListenAndServeTLS("", "").
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()

	serve := func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		tc := c.(*tls.Conn)
		if err := tc.Handshake(); err != nil {
			var refused *mtls.SubjectNotAllowedError
			if errors.As(err, &refused) {
				fmt.Println("server refused:", refused.Subject)
			}
			return
		}
		fmt.Fprintf(tc, "hello %s\n", tc.ConnectionState().PeerCertificates[0].Subject.CommonName)
	}
	call := func(p *mtlstest.Pair) {
		done := make(chan struct{})
		go func() { defer close(done); serve() }()
		defer func() { <-done }()
		csrc, _ := mtls.NewStaticSource(p.CertPEM, p.KeyPEM)
		ccfg, _ := mtls.ClientConfig(csrc, mtls.WithRootCAs(pki.CA.Pool()), mtls.WithServerName("localhost"))
		conn, err := tls.Dial("tcp", ln.Addr().String(), ccfg)
		if err != nil {
			return
		}
		defer conn.Close()
		if line, err := bufio.NewReader(conn).ReadString('\n'); err == nil {
			fmt.Print("client got: ", line)
		}
	}

	call(pki.Client)
	stranger, _ := pki.CA.Client("someone.else")
	call(stranger)
	// Output:
	// client got: hello gateway.example
	// server refused: CN=someone.else
}

// Rotation: the Source notices new files on the next handshake. Write the
// new pair next to the old one and rename it over, so no reader ever sees
// half a file.
func ExampleNewFileSource_rotation() {
	dir, _ := os.MkdirTemp("", "mtls-example")
	defer os.RemoveAll(dir)
	ca, _ := mtlstest.NewCA()
	thisYear, _ := ca.Client("smsr.example", mtlstest.WithSerial(2026))
	nextYear, _ := ca.Client("smsr.example", mtlstest.WithSerial(2027))
	certFile, keyFile, _ := thisYear.WriteFiles(dir, "client")

	src, err := mtls.NewFileSource(certFile, keyFile, mtls.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("serving serial", src.Leaf().SerialNumber)

	newCert, newKey, _ := nextYear.WriteFiles(dir, "client.new")
	_ = os.Rename(newCert, certFile)
	_ = os.Rename(newKey, keyFile)

	c, _ := src.Certificate() // what the next handshake gets
	fmt.Println("serving serial", c.Leaf.SerialNumber)
	// Output:
	// serving serial 2026
	// serving serial 2027
}

// Errors say what is wrong and with which file.
func ExampleCertificateError() {
	dir, _ := os.MkdirTemp("", "mtls-example")
	defer os.RemoveAll(dir)
	ca, _ := mtlstest.NewCA()
	a, _ := ca.Client("a")
	b, _ := ca.Client("b")
	certFile, _, _ := a.WriteFiles(dir, "a")
	_, keyFile, _ := b.WriteFiles(dir, "b")

	_, err := mtls.NewFileSource(certFile, keyFile)
	var ce *mtls.CertificateError
	if errors.As(err, &ce) {
		fmt.Printf("%s: %s\n", filepath.Base(ce.Path), ce.Kind)
	}
	// Output:
	// b.key: private key does not match certificate
}

//go:build !js

package main

import (
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"strings"
	"testing"

	"github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/internal/exampletest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	out := exampletest.Output(t, run)
	if !strings.HasPrefix(out, "connected to wss://127.0.0.1:") ||
		!strings.HasSuffix(out, "\nreceived: hello over TLS\n") {
		t.Fatalf("got %q", out)
	}
}

// TestUntrusted checks that a client that does not trust the certificate
// cannot connect.
func TestUntrusted(t *testing.T) {
	cert, err := selfSigned()
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(cert)
	srv.ErrorLog = log.New(io.Discard, "", 0) // the failed TLS handshake is expected
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.ServeTLS(ln, "", "") }()
	defer func() { srv.Close(); <-served }()

	_, _, err = ws.Dial(exampletest.Context(t), "wss://"+ln.Addr().String()+"/ws", nil)
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Fatalf("got %v, want an unknown authority error", err)
	}
}

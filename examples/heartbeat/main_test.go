//go:build !js

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/internal/exampletest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	out := exampletest.Output(t, func(ctx context.Context, out io.Writer) error {
		// Long enough that the healthy client's pongs are never late on a
		// busy machine; short enough for a quick test.
		return run(ctx, 250*time.Millisecond, out)
	})
	for _, want := range []string{
		"the server dropped the silent client after ",
		ws.ErrKeepaliveTimeout.Error(),
		"the healthy client is still connected\n",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("no %q in:\n%s", want, out)
		}
	}
}

// TestVanishedPeer plays a client whose machine is gone: a raw TCP
// connection that completes the opening handshake by hand, then neither
// reads nor writes. The server must end it with ErrKeepaliveTimeout.
func TestVanishedPeer(t *testing.T) {
	const interval = 100 * time.Millisecond
	s, gone := newServer(interval)
	srv := exampletest.Server(t, s)

	nc, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	fmt.Fprintf(nc, "GET /?name=vanished HTTP/1.1\r\n"+
		"Host: %s\r\n"+
		"Upgrade: websocket\r\n"+
		"Connection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"+
		"Sec-WebSocket-Version: 13\r\n\r\n", srv.Listener.Addr())
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %s", resp.Status)
	}

	// From now on the peer is silent.
	start := time.Now()
	select {
	case e := <-gone:
		if e.name != "vanished" || !errors.Is(e.err, ws.ErrKeepaliveTimeout) {
			t.Fatalf("got %s: %v, want %v", e.name, e.err, ws.ErrKeepaliveTimeout)
		}
		// Within the interval and the timeout, and some slack.
		if d := time.Since(start); d > 2*interval+time.Second {
			t.Errorf("took %v", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server kept the silent connection")
	}
	srv.Close() // the HTTP server first, then the ws.Server
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

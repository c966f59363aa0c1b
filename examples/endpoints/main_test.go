//go:build !js

package main

import (
	"errors"
	"net/http"
	"testing"

	"github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/internal/exampletest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestEndpoints(t *testing.T) {
	handler, wsServers := newHandler()
	srv := exampletest.Server(t, handler)
	ctx := exampletest.Context(t)

	for path, want := range map[string]string{"/echo": "Hello", "/shout": "HELLO"} {
		c := exampletest.Dial(t, ctx, srv.URL+path, nil)
		if err := c.Write(ctx, ws.MessageText, []byte("Hello")); err != nil {
			t.Fatal(path, err)
		}
		_, got, err := c.Read(ctx)
		if err != nil || string(got) != want {
			t.Fatalf("%s: got %q %v, want %q", path, got, err, want)
		}
		if err := c.Close(ws.StatusNormalClosure, ""); err != nil {
			t.Fatal(path, err)
		}
	}

	// A path without an endpoint is refused before any upgrade.
	_, resp, err := ws.Dial(ctx, srv.URL+"/nowhere", nil)
	var he *ws.HandshakeError
	if !errors.As(err, &he) || resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("got %v %v, want 404", resp, err)
	}
	resp.Body.Close()

	srv.Close() // the HTTP server first, then the ws.Servers, as main does
	for _, s := range wsServers {
		if err := s.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

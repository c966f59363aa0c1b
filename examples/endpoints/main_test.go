package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestEndpoints(t *testing.T) {
	handler, wsServers := newHandler()
	srv := httptest.NewServer(handler) // on 127.0.0.1, at a free port
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	for path, want := range map[string]string{"/echo": "Hello", "/shout": "HELLO"} {
		c, _, err := ws.Dial(ctx, srv.URL+path, nil)
		if err != nil {
			t.Fatal(path, err)
		}
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

	for _, s := range wsServers {
		if err := s.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

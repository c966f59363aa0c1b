//go:build !js

package main

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/internal/exampletest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestChat(t *testing.T) {
	s, h := newServer()
	srv := exampletest.Server(t, h)
	ctx := exampletest.Context(t)

	resp, err := srv.Client().Get(srv.URL + "/")
	if err != nil || resp.StatusCode != 200 {
		t.Fatal(resp, err)
	}
	resp.Body.Close()

	a := exampletest.Dial(t, ctx, srv.URL+"/ws", nil)
	b := exampletest.Dial(t, ctx, srv.URL+"/ws", nil)
	// Broadcast sends to the connections the server has taken in.
	waitConns(t, s, 2)
	if err := a.Write(ctx, ws.MessageText, []byte("hi from a")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*ws.Conn{a, b} {
		_, msg, err := c.Read(ctx)
		if err != nil || string(msg) != "hi from a" {
			t.Fatalf("%q %v", msg, err)
		}
	}
	a.Close(ws.StatusNormalClosure, "")
	go b.Read(ctx)
	srv.Close()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestShutdown checks main's shutdown: every reading client gets 1001
// Going Away, the chat has no connection left, and the listener is closed
// while the chat still waits for a client that does not answer, so no one
// can join (and be refused with 503) during the wait.
func TestShutdown(t *testing.T) {
	s, h := newServer()
	ctx := exampletest.Context(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	url := "ws://" + ln.Addr().String() + "/ws"
	read := make(chan error, 2)
	for range 2 {
		c := exampletest.Dial(t, ctx, url, nil)
		go func() {
			_, _, err := c.Read(ctx)
			read <- err
		}()
	}
	exampletest.Dial(t, ctx, url, nil) // reads nothing, so never answers 1001
	waitConns(t, s, 3)

	sctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		shutdown(sctx, srv, s)
	}()
	// Join until joining fails: the listener must be closed by then.
	for {
		c, resp, err := ws.Dial(ctx, url, nil)
		if err == nil {
			c.CloseNow()
			time.Sleep(time.Millisecond)
			continue
		}
		if resp != nil {
			resp.Body.Close()
			t.Errorf("a client joining during the shutdown got %s, want no connection", resp.Status)
		}
		break
	}
	<-stopped

	if err := <-served; err != http.ErrServerClosed {
		t.Errorf("Serve: %v, want %v", err, http.ErrServerClosed)
	}
	for range 2 {
		if err := <-read; ws.CloseStatus(err) != ws.StatusGoingAway {
			t.Errorf("a client read %v, want 1001", err)
		}
	}
	if n := s.Len(); n != 0 {
		t.Errorf("%d connections left", n)
	}
}

// waitConns waits until s holds n connections.
func waitConns(t *testing.T, s *ws.Server, n int) {
	t.Helper()
	deadline := time.Now().Add(exampletest.Timeout)
	for s.Len() < n {
		if time.Now().After(deadline) {
			t.Fatalf("the server has %d connections, want %d", s.Len(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

package main

import (
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
	a := exampletest.Dial(t, ctx, srv.URL+"/ws", nil)
	b := exampletest.Dial(t, ctx, srv.URL+"/ws", nil)
	// Broadcast sends to the connections the server has taken in.
	for s.Len() < 2 {
		if ctx.Err() != nil {
			t.Fatalf("the server has %d connections, want 2", s.Len())
		}
		time.Sleep(5 * time.Millisecond)
	}
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
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Get(srv.URL + "/")
	if err != nil || resp.StatusCode != 200 {
		t.Fatal(resp, err)
	}
	resp.Body.Close()
}

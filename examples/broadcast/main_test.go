//go:build !js

package main

import (
	"context"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/internal/exampletest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	out := exampletest.Output(t, run)
	want := `alice got "alice joined"
alice got "bob joined"
bob   got "bob joined"
alice got "carol joined"
bob   got "carol joined"
carol got "carol joined"
bob   got "alice: hi all"
carol got "alice: hi all"
alice got "bob: hi alice"
carol got "bob: hi alice"
`
	if out != want {
		t.Fatalf("got:\n%s\nwant:\n%s", out, want)
	}
}

// TestNotToSender checks that a lone client never hears its own messages,
// while it does hear announcements to all.
func TestNotToSender(t *testing.T) {
	s := newServer()
	srv := exampletest.Server(t, s)
	ctx := exampletest.Context(t)
	c := exampletest.Dial(t, ctx, srv.URL+"/?name=solo", nil)
	if _, msg, err := c.Read(ctx); err != nil || string(msg) != "solo joined" {
		t.Fatalf("got %q %v", msg, err)
	}
	if err := c.Write(ctx, ws.MessageText, []byte("anyone?")); err != nil {
		t.Fatal(err)
	}
	// Nothing comes back: the read waits until its deadline.
	short, cancelShort := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancelShort()
	if _, msg, err := c.Read(short); err == nil {
		t.Fatalf("the sender got %q", msg)
	}
	// Shutdown says Going Away to the client, which reads it. The HTTP
	// server goes first, as in run.
	srv.Close()
	done := make(chan error, 1)
	go func() { done <- s.Shutdown(ctx) }()
	if _, _, err := c.Read(ctx); ws.CloseStatus(err) != ws.StatusGoingAway {
		t.Fatalf("got %v, want 1001", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

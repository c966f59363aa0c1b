//go:build !js

package main

import (
	"context"
	"net"
	"testing"

	"github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/internal/exampletest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestEcho(t *testing.T) {
	// The server as main runs it, on a free port of 127.0.0.1.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &ws.Server{Handler: echo}
	srvCtx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(srvCtx, ln) }()

	ctx := exampletest.Context(t)
	c := exampletest.Dial(t, ctx, "ws://"+ln.Addr().String(), nil)
	for _, typ := range []ws.MessageType{ws.MessageText, ws.MessageBinary} {
		if err := c.Write(ctx, typ, []byte("ping?")); err != nil {
			t.Fatal(err)
		}
		got, msg, err := c.Read(ctx)
		if err != nil || got != typ || string(msg) != "ping?" {
			t.Fatalf("got %v %q %v", got, msg, err)
		}
	}

	// Ctrl-C: the server says Going Away to the client that is still
	// connected, and Serve returns nil.
	stop()
	if _, _, err := c.Read(ctx); ws.CloseStatus(err) != ws.StatusGoingAway {
		t.Fatalf("got %v, want 1001", err)
	}
	if err := <-served; err != nil {
		t.Fatal(err)
	}
}

//go:build !js

package main

import (
	"net/http"
	"testing"

	"github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/internal/exampletest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	out := exampletest.Output(t, run)
	want := "sent [0 0.5 1 1.5 2] as 20 bytes\nserver: received [0 0.5 1 1.5 2], sum 5\n"
	if out != want {
		t.Fatalf("got %q, want %q", out, want)
	}
}

// TestRejectsText checks that the server refuses what is not float32 data
// with close code 1003.
func TestRejectsText(t *testing.T) {
	srv := exampletest.Server(t, http.HandlerFunc(sumFloats))
	ctx := exampletest.Context(t)
	c := exampletest.Dial(t, ctx, srv.URL, nil)
	if err := c.Write(ctx, ws.MessageText, []byte("1.5")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Read(ctx); ws.CloseStatus(err) != ws.StatusUnsupportedData {
		t.Fatalf("got %v, want close 1003", err)
	}
}

//go:build !js

package main

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/seed-d6ba7b20/ws/internal/exampletest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	out := exampletest.Output(t, func(ctx context.Context, out io.Writer) error {
		return run(ctx, "", out)
	})
	want := "received: hello\nreceived: something\n"
	if out != want {
		t.Fatalf("got %q, want %q", out, want)
	}
}

// TestRunURL runs the client against a server of the test's, as with -url.
func TestRunURL(t *testing.T) {
	srv := exampletest.Server(t, http.HandlerFunc(echo))
	out := exampletest.Output(t, func(ctx context.Context, out io.Writer) error {
		return run(ctx, "ws"+srv.URL[len("http"):], out)
	})
	if out != "received: hello\nreceived: something\n" {
		t.Fatalf("got %q", out)
	}
}

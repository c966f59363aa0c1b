package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, "", &out); err != nil {
		t.Fatal(err)
	}
	want := "received: hello\nreceived: something\n"
	if out.String() != want {
		t.Fatalf("got %q, want %q", out.String(), want)
	}
}

// TestRunURL runs the client against a server of the test's, as with -url.
func TestRunURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(echo))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, "ws"+srv.URL[len("http"):], &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != "received: hello\nreceived: something\n" {
		t.Fatalf("got %q", out.String())
	}
}

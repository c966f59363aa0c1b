package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out); err != nil {
		t.Fatal(err)
	}
	want := "sent [0 0.5 1 1.5 2] as 20 bytes\nserver: received [0 0.5 1 1.5 2], sum 5\n"
	if out.String() != want {
		t.Fatalf("got %q, want %q", out.String(), want)
	}
}

// TestRejectsText checks that the server refuses what is not float32 data
// with close code 1003.
func TestRejectsText(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(sumFloats))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := ws.Dial(ctx, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if err := c.Write(ctx, ws.MessageText, []byte("1.5")); err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Read(ctx)
	if ws.CloseStatus(err) != ws.StatusUnsupportedData {
		t.Fatalf("got %v, want close 1003", err)
	}
}

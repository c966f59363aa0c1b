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
	want := "without logging in: 401 Unauthorized: log in first, at /login\n" +
		"login: 200 OK\n" +
		"after logging in: alice said \"hello\"\n"
	if out != want {
		t.Fatalf("got %q, want %q", out, want)
	}
}

// TestRefused checks the requests that must not get a connection.
func TestRefused(t *testing.T) {
	srv := exampletest.Server(t, newServer().handler())
	ctx := exampletest.Context(t)

	// A made-up session cookie.
	h := http.Header{"Cookie": {"session=guessed"}}
	_, resp, err := ws.Dial(ctx, srv.URL+"/ws", &ws.DialOptions{Header: h})
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("forged cookie: got %v %v, want 401", resp, err)
	}
	resp.Body.Close()

	// A wrong password sets no cookie.
	resp, err = srv.Client().PostForm(srv.URL+"/login", map[string][]string{"user": {"alice"}, "password": {"guess"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
		t.Fatalf("wrong password: got %v %v", resp.Status, resp.Cookies())
	}
}

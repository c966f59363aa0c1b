package main

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestChat(t *testing.T) {
	s, h := newServer()
	srv := httptest.NewServer(h)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, _, err := ws.Dial(ctx, srv.URL+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := ws.Dial(ctx, srv.URL+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	for s.Len() < 2 {
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

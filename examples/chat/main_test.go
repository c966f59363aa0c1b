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
	rm := &room{members: map[*ws.Conn]struct{}{}}
	srv := httptest.NewServer(handler(rm))
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
	for {
		rm.mu.Lock()
		n := len(rm.members)
		rm.mu.Unlock()
		if n == 2 {
			break
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
	b.Close(ws.StatusNormalClosure, "")
	resp, err := srv.Client().Get(srv.URL + "/")
	if err != nil || resp.StatusCode != 200 {
		t.Fatal(resp, err)
	}
	resp.Body.Close()
}

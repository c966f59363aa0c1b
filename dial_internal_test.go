//go:build !js

package ws

import (
	"context"
	"net"
	"testing"
)

// TestDialEarlyFramesPooledReader dials three times, so that the later
// Dials are likely to read their responses through an earlier one's pooled
// reader, and only then reads the frames each server sent right behind its
// response: each connection must have kept its own copy.
func TestDialEarlyFramesPooledReader(t *testing.T) {
	var conns []*Conn
	for _, text := range []string{"first", "second", "third"} {
		ac := &answerConn{after: append([]byte{0x81, byte(len(text))}, text...)}
		c, _, err := Dial(context.Background(), "ws://example.test/", &DialOptions{
			NetDial: func(context.Context, string, string) (net.Conn, error) { return ac, nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		conns = append(conns, c)
	}
	for i, want := range []string{"first", "second", "third"} {
		_, p, err := conns[i].Read(context.Background())
		if err != nil || string(p) != want {
			t.Fatalf("connection %d: Read = %q, %v; want %q", i, p, err, want)
		}
	}
}

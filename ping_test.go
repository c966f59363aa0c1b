//go:build !js

package ws_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/internal/frame"
)

// TestPingPayload checks that Ping sends the caller's payload, that the
// pong with that payload completes it, and that a pong with another
// payload does not.
func TestPingPayload(t *testing.T) {
	ctx := context.Background()
	got := make(chan []byte, 4)
	c, s := pair(t, true, &ws.AcceptOptions{Options: ws.Options{
		OnPing: func(p []byte) { got <- bytes.Clone(p) },
	}}, nil)
	go s.Read(ctx) // answers pings, until the close below
	if err := c.Ping(ctx, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if p := <-got; string(p) != "hello" {
		t.Fatalf("the peer saw ping payload %q, want hello", p)
	}
	if err := c.Ping(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if p := <-got; len(p) != 8 {
		t.Fatalf("a nil payload sent %d bytes, want Ping's own 8", len(p))
	}
	if err := c.Ping(ctx, make([]byte, 126)); !errors.Is(err, ws.ErrPayloadTooLong) {
		t.Fatalf("Ping with 126 bytes: %v, want ErrPayloadTooLong", err)
	}
	if err := c.Pong(ctx, make([]byte, 126)); !errors.Is(err, ws.ErrPayloadTooLong) {
		t.Fatalf("Pong with 126 bytes: %v, want ErrPayloadTooLong", err)
	}
	c.Close(ws.StatusNormalClosure, "")
}

// TestPingMatchesPayload answers pings from a raw server with pongs of
// chosen payloads: a pong answers the latest ping with its payload and
// those before it, and no other.
func TestPingMatchesPayload(t *testing.T) {
	pings := make(chan []byte, 4)
	pongs := make(chan []byte, 4)
	url := rawServer(t, "", func(p *rawPeer) {
		for {
			h, payload, err := p.readFrame()
			if err != nil || h.Opcode == frame.OpClose {
				return
			}
			if h.Opcode == frame.OpPing {
				pings <- payload
				p.sendFrame(true, 0, frame.OpPong, <-pongs)
			}
		}
	})
	c, _, err := ws.Dial(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()

	// A pong with another payload does not complete the ping.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	pongs <- []byte("other")
	if err := c.Ping(ctx, []byte("a")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Ping answered by a pong of another payload: %v", err)
	}
	cancel()
	<-pings

	// The pong of the second ping completes the first, sent before it.
	first := make(chan error, 1)
	pongs <- []byte("no answer yet")
	go func() { first <- c.Ping(context.Background(), []byte("x")) }()
	<-pings
	pongs <- []byte("y")
	if err := c.Ping(context.Background(), []byte("y")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-first:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the pong of a later ping did not complete the earlier one")
	}
}

// TestManualPong turns automatic pongs off and answers with Pong from
// OnPing's goroutine, as an application that decides itself does.
func TestManualPong(t *testing.T) {
	ctx := context.Background()
	var s *ws.Conn
	ready := make(chan struct{})
	answered := make(chan error, 1)
	c, s0 := pair(t, true, &ws.AcceptOptions{Options: ws.Options{
		DisableAutoPong: true,
		OnPing: func(p []byte) {
			<-ready
			q := bytes.Clone(p)
			go func() { answered <- s.Pong(ctx, q) }()
		},
	}}, nil)
	s = s0
	close(ready)
	go s.Read(ctx)
	if err := c.Ping(ctx, []byte("manual")); err != nil {
		t.Fatal(err)
	}
	if err := <-answered; err != nil {
		t.Fatal(err)
	}
	c.Close(ws.StatusNormalClosure, "")
}

// TestPingWaitsForReleasedReader pings while the user holds a message
// half read: the pong is behind it, and Ping returns as soon as the user
// finishes with the message, without waiting for a poll.
func TestPingWaitsForReleasedReader(t *testing.T) {
	ctx := context.Background()
	c, s := pair(t, true, nil, nil)
	if err := s.Write(ctx, ws.MessageText, []byte("first")); err != nil {
		t.Fatal(err)
	}
	go s.Read(ctx) // answers the ping
	// Let the message arrive, then ping: a background read stops at the
	// message, which waits for the user, and the pong queues behind it.
	_, r, err := c.Reader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Ping(ctx, nil) }()
	time.Sleep(50 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("Ping returned %v while its pong was behind an unread message", err)
	default:
	}
	var b [16]byte
	if n, _ := r.Read(b[:]); string(b[:n]) != "first" {
		t.Fatalf("read %q", b[:n])
	}
	// Reading on takes the pong.
	go c.Read(ctx)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Ping did not return after the reader moved on")
	}
	c.CloseNow()
}

func TestKeepalive(t *testing.T) {
	ctx := context.Background()
	t.Run("healthy peer", func(t *testing.T) {
		c, s := pair(t, true, nil, &ws.DialOptions{Options: ws.Options{PingInterval: 20 * time.Millisecond, PingTimeout: time.Second}})
		go s.Read(ctx)
		time.Sleep(150 * time.Millisecond)
		if c.Err() != nil {
			t.Fatal(c.Err())
		}
	})
	t.Run("silent peer detected", func(t *testing.T) {
		// The server never reads, so it never answers pings: a half-open
		// connection, as far as the client can tell.
		c, _ := pair(t, true, nil, &ws.DialOptions{Options: ws.Options{PingInterval: 30 * time.Millisecond, PingTimeout: 50 * time.Millisecond}})
		start := time.Now()
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("silent peer not detected")
		}
		if d := time.Since(start); d < 70*time.Millisecond {
			t.Fatalf("detected after %v, sooner than interval+timeout", d)
		}
		if !errors.Is(c.Err(), ws.ErrKeepaliveTimeout) {
			t.Fatal(c.Err())
		}
		c.CloseNow()
	})
}

func TestPing(t *testing.T) {
	var pings, pongs sync.Map
	c, s := pair(t, true,
		&ws.AcceptOptions{Options: ws.Options{OnPing: func(p []byte) { pings.Store(string(p), true) }}},
		&ws.DialOptions{Options: ws.Options{OnPong: func(p []byte) { pongs.Store(len(p), true) }}})
	ctx := context.Background()
	go s.Read(ctx)
	go c.Read(ctx)
	for i := 0; i < 3; i++ {
		if err := c.Ping(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := pongs.Load(8); !ok {
		t.Fatal("OnPong not called")
	}
	n := 0
	pings.Range(func(k, v any) bool { n++; return true })
	if n != 3 {
		t.Fatalf("OnPing saw %d distinct pings", n)
	}
	// Without a reader on the pinging side, Ping waits for its context.
	c2, _ := pair(t, false, nil, nil)
	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := c2.Ping(tctx, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
}

func TestDisableAutoPong(t *testing.T) {
	c, s := pair(t, true, &ws.AcceptOptions{Options: ws.Options{DisableAutoPong: true}}, nil)
	ctx := context.Background()
	go s.Read(ctx)
	go c.Read(ctx)
	tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := c.Ping(tctx, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("pong arrived anyway: %v", err)
	}
}

func TestPingWithoutReader(t *testing.T) {
	c, s := pair(t, true, nil, nil)
	ctx := context.Background()
	go s.Read(ctx) // the server reads, so it answers pings
	// The client reads nothing: Ping reads its own pong.
	for i := 0; i < 3; i++ {
		tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if err := c.Ping(tctx, nil); err != nil {
			t.Fatal(err)
		}
		cancel()
	}
	// A message that arrives before the pong is kept for the next read.
	c2, s2 := pair(t, true, nil, nil)
	if err := s2.Write(ctx, ws.MessageText, []byte("first")); err != nil {
		t.Fatal(err)
	}
	go s2.Read(ctx)
	tctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := c2.Ping(tctx, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Ping with a message waiting: %v, want it to wait behind the message", err)
	}
	if _, msg, err := c2.Read(ctx); err != nil || string(msg) != "first" {
		t.Fatalf("%q %v", msg, err)
	}
	if err := c2.Ping(ctx, nil); err != nil {
		t.Fatal(err)
	}
}

func TestKeepaliveDuringClose(t *testing.T) {
	c, s := pair(t, true, nil, &ws.DialOptions{Options: ws.Options{PingInterval: 10 * time.Millisecond, PingTimeout: time.Second}})
	ctx := context.Background()
	go func() {
		time.Sleep(200 * time.Millisecond) // answer the close late
		s.Read(ctx)
	}()
	if err := c.Close(ws.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
	if err := c.Err(); ws.CloseStatus(err) != ws.StatusNormalClosure {
		t.Fatalf("Err after a clean close: %v", err)
	}
}

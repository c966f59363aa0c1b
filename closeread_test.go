package ws_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

// TestCloseRead checks that a connection that only writes learns of the
// peer's close through CloseRead, and refuses data messages.
func TestCloseRead(t *testing.T) {
	ctx := context.Background()
	t.Run("the peer closes", func(t *testing.T) {
		c, s := pair(t, true, nil, nil)
		done := c.CloseRead(ctx)
		if err := c.Write(ctx, ws.MessageText, []byte("one")); err != nil {
			t.Fatal(err)
		}
		if _, msg, err := s.Read(ctx); err != nil || string(msg) != "one" {
			t.Fatalf("%q, %v", msg, err)
		}
		go s.Close(ws.StatusGoingAway, "bye")
		select {
		case <-done.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("the context of CloseRead is not done after the peer closed")
		}
		<-c.Done()
		if ws.CloseStatus(c.Err()) != ws.StatusGoingAway {
			t.Fatalf("Err: %v", c.Err())
		}
		var ce *ws.ClosedError
		if err := c.Write(ctx, ws.MessageText, []byte("two")); !errors.As(err, &ce) || ws.CloseStatus(err) != ws.StatusGoingAway {
			t.Fatalf("Write after the peer's close: %v", err)
		}
	})
	t.Run("pings are answered", func(t *testing.T) {
		c, s := pair(t, true, nil, nil)
		c.CloseRead(ctx)
		go s.Read(ctx)
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		// The server's Ping needs the client to answer, which only a
		// reading client does.
		if err := s.Ping(pctx, nil); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a data message is a policy violation", func(t *testing.T) {
		c, s := pair(t, true, nil, nil)
		done := c.CloseRead(ctx)
		s.Write(ctx, ws.MessageText, []byte("unexpected"))
		_, _, err := s.Read(ctx)
		if ws.CloseStatus(err) != ws.StatusPolicyViolation {
			t.Fatalf("the sender read %v", err)
		}
		<-done.Done()
		<-c.Done()
		if !errors.Is(c.Err(), ws.ErrUnexpectedMessage) {
			t.Fatalf("Err: %v", c.Err())
		}
	})
	t.Run("its context stops it", func(t *testing.T) {
		c, s := pair(t, true, nil, nil)
		rctx, cancel := context.WithCancel(ctx)
		done := c.CloseRead(rctx)
		cancel()
		<-done.Done()
		// The connection stays open, and can be read again.
		s.Write(ctx, ws.MessageText, []byte("still here"))
		if _, msg, err := c.Read(ctx); err != nil || string(msg) != "still here" {
			t.Fatalf("%q, %v", msg, err)
		}
	})
	t.Run("Close waits for it", func(t *testing.T) {
		c, s := pair(t, true, nil, nil)
		done := c.CloseRead(ctx)
		go s.Read(ctx)
		if err := c.Close(ws.StatusNormalClosure, ""); err != nil {
			t.Fatal(err)
		}
		select {
		case <-done.Done():
		default:
			t.Fatal("Close returned before the goroutine of CloseRead ended")
		}
	})
}

// TestCloseReadStopsBeforeItsContext checks that the context CloseRead
// returns is done only once its goroutine has let go of the reader, so a
// read right after it never meets ErrConcurrentRead.
func TestCloseReadStopsBeforeItsContext(t *testing.T) {
	ctx := context.Background()
	c, s := pair(t, true, nil, nil)
	for i := 0; i < 50; i++ {
		rctx, cancel := context.WithCancel(ctx)
		done := c.CloseRead(rctx)
		cancel()
		<-done.Done()
		if err := s.Write(ctx, ws.MessageText, []byte("x")); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Read(ctx); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
	}
}

// TestCloseReadDuringClose checks that a data message the peer sent
// before it saw this side's close frame is dropped, not taken for a
// breach of CloseRead's agreement.
func TestCloseReadDuringClose(t *testing.T) {
	ctx := context.Background()
	c, s := pair(t, true, nil, nil)
	c.CloseRead(ctx)
	closed := make(chan error, 1)
	go func() { closed <- c.Close(ws.StatusNormalClosure, "") }()
	// The server has not read the close frame yet: it may still send.
	time.Sleep(20 * time.Millisecond)
	if err := s.Write(ctx, ws.MessageText, []byte("in flight")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Read(ctx); ws.CloseStatus(err) != ws.StatusNormalClosure {
		t.Fatalf("server read: %v", err)
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if !ws.IsNormalClosure(c.Err()) {
		t.Fatalf("Err: %v", c.Err())
	}
}

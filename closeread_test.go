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
		if err := s.Ping(pctx); err != nil {
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

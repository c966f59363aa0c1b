//go:build !js

package ws_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

func TestSendQueue(t *testing.T) {
	ctx := context.Background()
	c, s := pair(t, false, nil, &ws.DialOptions{Options: ws.Options{SendQueue: 4}})
	// Nobody reads yet, so over a pipe the first write blocks and the
	// queue fills.
	done := make(chan error, 100)
	for i := 0; i < 5; i++ {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if err := c.Send(sctx, ws.MessageText, []byte(fmt.Sprint("m", i)), done); err != nil {
			t.Fatal(err)
		}
		cancel()
		if i == 0 {
			// Let the writing goroutine take m0 and block on the pipe.
			time.Sleep(50 * time.Millisecond)
		}
	}
	if err := c.TrySend(ws.MessageText, []byte("overflow"), done); !errors.Is(err, ws.ErrSendQueueFull) {
		t.Fatalf("TrySend on a full queue: %v", err)
	}
	if b := c.Buffered(); b != 10 {
		t.Fatalf("Buffered = %d, want 10 (five messages of 2 bytes, one of them being written)", b)
	}
	tctx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	if err := c.Send(tctx, ws.MessageText, []byte("late"), done); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send on a full queue: %v", err)
	}
	cancel()
	// A synchronous Write goes after what this goroutine queued.
	werr := make(chan error, 1)
	go func() { werr <- c.Write(ctx, ws.MessageText, []byte("sync")) }()
	for i := 0; i < 5; i++ {
		_, msg, err := s.Read(ctx)
		if err != nil || string(msg) != fmt.Sprint("m", i) {
			t.Fatalf("%d: %q %v", i, msg, err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if _, msg, err := s.Read(ctx); err != nil || string(msg) != "sync" {
		t.Fatalf("%q %v", msg, err)
	}
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
	// Queued messages fail when the connection is cut, and each result
	// reaches done, which has room for it.
	for i := 0; i < 3; i++ {
		if err := c.Send(ctx, ws.MessageBinary, make([]byte, 100), done); err != nil {
			t.Fatal(err)
		}
	}
	c.CloseNow()
	for i := 0; i < 3; i++ {
		select {
		case err := <-done:
			if !errors.Is(err, net.ErrClosed) {
				t.Fatalf("result %d: %v, want an error that wraps net.ErrClosed", i, err)
			}
		default:
			t.Fatalf("result %d of the queued messages never came", i)
		}
	}
	if err := c.Send(ctx, ws.MessageText, nil, nil); !errors.Is(err, net.ErrClosed) {
		t.Fatal(err)
	}
}

func TestSendBeforeClose(t *testing.T) {
	c, s := pair(t, true, nil, nil)
	ctx := context.Background()
	for i := 0; i < 100; i++ {
		if err := c.Send(ctx, ws.MessageBinary, make([]byte, 1000), nil); err != nil {
			t.Fatal(err)
		}
	}
	go c.Close(ws.StatusNormalClosure, "")
	n := 0
	for range s.Messages() {
		n++
	}
	if n != 100 {
		t.Fatalf("got %d of 100 queued messages before the close", n)
	}
}

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
	// The queued messages may go out in one write, which over a pipe
	// ends only once the reader took them all: read them, then see their
	// results.
	for i := 0; i < 5; i++ {
		_, msg, err := s.Read(ctx)
		if err != nil || string(msg) != fmt.Sprint("m", i) {
			t.Fatalf("%d: %q %v", i, msg, err)
		}
	}
	for i := 0; i < 5; i++ {
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

// TestSendAllocs checks that Send allocates nothing once the queue has
// been used a while, over loopback TCP: not the item, nor a wake-up of the
// sender that waits for room, nor the writing goroutine's batch. A pooled
// buffer that a collection dropped may be made again now and then, so
// the test allows one allocation in a hundred Sends; allocating per
// message, as a channel made per wake-up did, fails it.
func TestSendAllocs(t *testing.T) {
	if ws.HostileRace {
		t.Skip("the race detector drops pooled buffers at random")
	}
	c, s := pair(t, true, nil, &ws.DialOptions{Options: ws.Options{SendQueue: 64}})
	ctx := context.Background()
	const warm, perRun, runs = 2000, 1000, 10
	total := warm + perRun*(runs+1) // AllocsPerRun runs f once more than it counts
	rerr := make(chan error, 1)
	go func() { rerr <- readMessages(ctx, s, total, make([]byte, 4096)) }()
	msg := make([]byte, 1024)
	send := func(n int) {
		for range n {
			if err := c.Send(ctx, ws.MessageBinary, msg, nil); err != nil {
				t.Error(err)
				return
			}
		}
	}
	send(warm)
	allocs := testing.AllocsPerRun(runs, func() { send(perRun) })
	if err := <-rerr; err != nil {
		t.Fatal(err)
	}
	if allocs > perRun/100 {
		t.Errorf("%v allocations per %d Sends, want at most %d", allocs, perRun, perRun/100)
	}
}

// TestSendJoined sends messages of many sizes and both types from each
// end, so that the queue writes runs of them together (masked, from the
// client) beside those that go out alone, large or compressed, and checks
// that the peer reads each whole and in order, and that every result is
// nil.
func TestSendJoined(t *testing.T) {
	sizes := []int{0, 1, 125, 126, 1000, 65535, 65536, 70000, 20000, 3, 16 << 10, 16<<10 + 1, 7}
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprint("compress=", compress), func(t *testing.T) {
			var o ws.Options
			if compress {
				o.Compression = &ws.CompressionOptions{}
			}
			c, s := pair(t, true, &ws.AcceptOptions{Options: o}, &ws.DialOptions{Options: o})
			ctx := context.Background()
			for _, ends := range [][2]*ws.Conn{{c, s}, {s, c}} {
				from, to := ends[0], ends[1]
				var want [][]byte
				done := make(chan error, 4*len(sizes))
				for round := range 4 {
					for i, n := range sizes {
						p := make([]byte, n)
						for j := range p {
							p[j] = byte(i + j + round)
						}
						typ := ws.MessageBinary
						if i%3 == 0 {
							typ = ws.MessageText
							for j := range p {
								p[j] = 'a' + p[j]%26
							}
						}
						want = append(want, p)
						if err := from.Send(ctx, typ, p, done); err != nil {
							t.Fatal(err)
						}
					}
				}
				for i, p := range want {
					_, got, err := to.Read(ctx)
					if err != nil {
						t.Fatal(err)
					}
					if string(got) != string(p) {
						t.Fatalf("message %d: %d bytes, want %d (%q...)", i, len(got), len(p), got[:min(len(got), 8)])
					}
				}
				for range want {
					if err := <-done; err != nil {
						t.Fatal(err)
					}
				}
			}
		})
	}
}

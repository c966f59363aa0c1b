//go:build !js

package ws_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

func TestMessagesNoLoss(t *testing.T) {
	for _, tcp := range []bool{true, false} {
		t.Run(fmt.Sprint("tcp=", tcp), func(t *testing.T) {
			c, s := pair(t, tcp, nil, nil)
			const n = 500
			ctx := context.Background()
			go func() {
				for i := 0; i < n; i++ {
					if err := c.Write(ctx, ws.MessageText, []byte(fmt.Sprint(i))); err != nil {
						return
					}
				}
				c.Close(ws.StatusNormalClosure, "all sent")
			}()
			msgs := s.Messages()
			i := 0
			for msg := range msgs {
				if string(msg.Data) != fmt.Sprint(i) || msg.Type != ws.MessageText {
					t.Fatalf("message %d is %q", i, msg.Data)
				}
				i++
			}
			if i != n {
				t.Fatalf("got %d messages, want %d", i, n)
			}
			var ce ws.CloseError
			if !errors.As(s.Err(), &ce) || ce.Code != ws.StatusNormalClosure || ce.Reason != "all sent" {
				t.Fatalf("Err = %v", s.Err())
			}
			if s.Messages() != msgs {
				t.Fatal("a second call to Messages returns another channel")
			}
		})
	}
}

func TestMessagesSlowConsumer(t *testing.T) {
	// The peer sends 100 MiB; the consumer takes nothing for a while. The
	// heap must stay near one message plus buffers.
	c, s := pair(t, true, nil, nil)
	ctx := context.Background()
	msgs := s.Messages()
	msg := make([]byte, 64<<10)
	const total = 100 << 20
	sent := make(chan int, 1)
	go func() {
		n := 0
		for n < total {
			if err := c.Write(ctx, ws.MessageBinary, msg); err != nil {
				break
			}
			n += len(msg)
		}
		sent <- n
	}()
	time.Sleep(300 * time.Millisecond)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if ms.HeapAlloc > 40<<20 {
		t.Fatalf("heap %d MiB while the consumer sleeps", ms.HeapAlloc>>20)
	}
	got := 0
	for got < total {
		m := <-msgs
		got += len(m.Data)
	}
	if n := <-sent; n != got {
		t.Fatalf("sent %d, got %d", n, got)
	}
}

// TestMessagesParks checks that, on Linux, the Messages goroutine of a
// connection over TCP ends while the connection is idle and comes back
// for what the peer sends: messages, pings, pongs and close frames, with
// the channel closed by the time Close or CloseNow returns.
func TestMessagesParks(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the Messages goroutine parks on Linux only")
	}
	ctx := context.Background()
	// parked waits until no Messages goroutine is left and c reports a
	// read in progress, as it does while its goroutine is parked.
	parked := func(t *testing.T, cs ...*ws.Conn) {
		t.Helper()
		waitFor(t, "parked Messages goroutines", func() bool {
			for _, c := range cs {
				if c.ReadPaused() {
					return false
				}
			}
			buf := make([]byte, 1<<20)
			return !strings.Contains(string(buf[:runtime.Stack(buf, true)]), "ws.(*Conn).pumpMessages")
		})
	}
	closed := func(t *testing.T, msgs <-chan ws.Message) {
		t.Helper()
		select {
		case m, ok := <-msgs:
			if ok {
				t.Fatalf("a message after the end: %q", m.Data)
			}
		default:
			t.Fatal("the channel is open after the connection closed")
		}
	}
	t.Run("messages and pings", func(t *testing.T) {
		c, s := pair(t, true, nil, nil)
		cmsgs, smsgs := c.Messages(), s.Messages()
		parked(t, c, s)
		for i := range 3 {
			want := fmt.Sprint("message ", i)
			if err := c.Write(ctx, ws.MessageText, []byte(want)); err != nil {
				t.Fatal(err)
			}
			if m := <-smsgs; string(m.Data) != want {
				t.Fatalf("got %q, want %q", m.Data, want)
			}
			parked(t, c, s)
		}
		// Each side's parked goroutine answers the other's ping and takes
		// the pong of its own.
		for _, p := range []*ws.Conn{c, s} {
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := p.Ping(pctx, []byte("still there?"))
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			parked(t, c, s)
		}
		if err := s.Close(ws.StatusNormalClosure, "done"); err != nil {
			t.Fatal(err)
		}
		closed(t, smsgs)
		for range cmsgs {
		}
		var ce ws.CloseError
		if !errors.As(c.Err(), &ce) || ce.Code != ws.StatusNormalClosure || ce.Reason != "done" {
			t.Fatalf("the peer's Err is %v", c.Err())
		}
	})
	t.Run("CloseNow", func(t *testing.T) {
		_, s := pair(t, true, nil, nil)
		msgs := s.Messages()
		parked(t, s)
		if err := s.CloseNow(); err != nil {
			t.Fatal(err)
		}
		closed(t, msgs)
		if !errors.Is(s.Err(), ws.ErrLocalClose) {
			t.Fatal(s.Err())
		}
	})
	t.Run("peer vanished", func(t *testing.T) {
		c, s := pair(t, true, nil, nil)
		msgs := s.Messages()
		parked(t, s)
		c.CloseNow()
		for range msgs {
		}
		if !errors.Is(s.Err(), io.ErrUnexpectedEOF) {
			t.Fatal(s.Err())
		}
	})
}

func TestMessagesEndings(t *testing.T) {
	ctx := context.Background()
	t.Run("peer vanished", func(t *testing.T) {
		c, s := pair(t, true, nil, nil)
		msgs := s.Messages()
		c.CloseNow()
		for range msgs {
		}
		if !errors.Is(s.Err(), io.ErrUnexpectedEOF) {
			t.Fatal(s.Err())
		}
		s.CloseNow()
	})
	t.Run("local close while consumer idle", func(t *testing.T) {
		c, s := pair(t, true, nil, nil)
		s.Messages()
		c.Write(ctx, ws.MessageText, []byte("never taken"))
		time.Sleep(20 * time.Millisecond)
		if err := s.CloseNow(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("read limit", func(t *testing.T) {
		c, s := pair(t, true, &ws.AcceptOptions{Options: ws.Options{ReadLimit: 10}}, nil)
		msgs := s.Messages()
		go c.Read(ctx)
		c.Write(ctx, ws.MessageText, []byte("far more than ten bytes"))
		for range msgs {
		}
		if !errors.Is(s.Err(), ws.ErrMessageTooBig) {
			t.Fatal(s.Err())
		}
		s.CloseNow()
	})
}

// TestMessagesAllocs checks that receiving with Messages allocates no more
// than receiving with Read, over loopback TCP: one allocation per message,
// its bytes, which Read returns too and which become the caller's; the
// handing over, the waits between messages and the goroutine allocate
// nothing more. A wait that parks (none should, as the peer keeps
// sending) may allocate, so the test allows one allocation in a hundred
// messages beyond Read's.
func TestMessagesAllocs(t *testing.T) {
	if ws.HostileRace {
		t.Skip("the race detector allocates")
	}
	const warm, perRun, runs = 500, 500, 10
	total := warm + perRun*(runs+1) // AllocsPerRun runs f once more than it counts
	msg := make([]byte, 1024)
	ctx := context.Background()
	measure := func(t *testing.T, recv func(c *ws.Conn) error) float64 {
		c, s := pair(t, true, nil, nil)
		werr := make(chan error, 1)
		go func() {
			for range total {
				if err := c.Write(ctx, ws.MessageBinary, msg); err != nil {
					werr <- err
					return
				}
			}
			werr <- nil
		}()
		for range warm {
			if err := recv(s); err != nil {
				t.Fatal(err)
			}
		}
		allocs := testing.AllocsPerRun(runs, func() {
			for range perRun {
				if err := recv(s); err != nil {
					t.Error(err)
					return
				}
			}
		})
		if err := <-werr; err != nil {
			t.Fatal(err)
		}
		return allocs
	}
	read := measure(t, func(s *ws.Conn) error {
		_, _, err := s.Read(ctx)
		return err
	})
	messages := measure(t, func(s *ws.Conn) error {
		if _, ok := <-s.Messages(); !ok {
			return s.Err()
		}
		return nil
	})
	t.Logf("allocations per %d messages: Read %v, Messages %v", perRun, read, messages)
	if read > perRun+perRun/100 {
		t.Errorf("Read made %v allocations per %d messages, want about one each", read, perRun)
	}
	if messages > read+perRun/100 {
		t.Errorf("Messages made %v allocations per %d messages, Read %v: want no more than Read's", messages, perRun, read)
	}
}

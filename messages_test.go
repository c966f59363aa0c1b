//go:build !js

package ws_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
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

package ws_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/rpc"
	"os"
	"runtime"
	"sync"
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

func TestNetConn(t *testing.T) {
	c, s := pair(t, true, nil, nil)
	ctx := context.Background()
	cn := ws.NetConn(ctx, c, ws.MessageBinary)
	sn := ws.NetConn(ctx, s, ws.MessageBinary)
	if cn.RemoteAddr().String() != sn.LocalAddr().String() {
		t.Fatalf("addresses %v %v", cn.RemoteAddr(), sn.LocalAddr())
	}
	// Bytes flow as a stream across messages.
	go func() {
		cn.Write([]byte("hello "))
		cn.Write([]byte("wor"))
		cn.Write([]byte("ld"))
	}()
	buf := make([]byte, 11)
	if _, err := io.ReadFull(sn, buf); err != nil || string(buf) != "hello world" {
		t.Fatalf("%q %v", buf, err)
	}
	// A read deadline interrupts a blocked read; the stream goes on.
	sn.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	_, err := sn.Read(buf)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	sn.SetReadDeadline(time.Time{})
	go cn.Write([]byte("after"))
	n, err := sn.Read(buf)
	if err != nil || string(buf[:n]) != "after" {
		t.Fatalf("%q %v", buf[:n], err)
	}
	// Moving a deadline later while a read waits.
	sn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	go func() {
		time.Sleep(5 * time.Millisecond)
		sn.SetReadDeadline(time.Now().Add(time.Hour))
		time.Sleep(50 * time.Millisecond)
		cn.Write([]byte("late"))
	}()
	n, err = sn.Read(buf)
	if err != nil || string(buf[:n]) != "late" {
		t.Fatalf("%q %v", buf[:n], err)
	}
	// A normal close reads as io.EOF.
	closed := make(chan error, 1)
	go func() { closed <- cn.Close() }()
	if _, err := sn.Read(buf); err != io.EOF {
		t.Fatalf("got %v", err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
}

// Arith is a net/rpc service for the NetConn test.
type Arith struct{}

// Mul multiplies.
func (Arith) Mul(args [2]int, reply *int) error { *reply = args[0] * args[1]; return nil }

func TestNetConnRPC(t *testing.T) {
	c, s := pair(t, true, nil, nil)
	ctx := context.Background()
	srv := rpc.NewServer()
	srv.Register(Arith{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		srv.ServeConn(ws.NetConn(ctx, s, ws.MessageBinary))
	}()
	client := rpc.NewClient(ws.NetConn(ctx, c, ws.MessageBinary))
	var got int
	if err := client.Call("Arith.Mul", [2]int{6, 7}, &got); err != nil || got != 42 {
		t.Fatalf("%d %v", got, err)
	}
	client.Close()
	wg.Wait()
}

func TestRelay(t *testing.T) {
	// a <-> b relayed to c <-> d: what a sends, d gets, and back.
	a, b := pair(t, true, nil, nil)
	c, d := pair(t, true, nil, nil)
	ctx := context.Background()
	done := make(chan error, 1)
	go func() { done <- ws.Relay(ctx, b, c) }()
	a.Write(ctx, ws.MessageText, []byte("to d"))
	if _, msg, err := d.Read(ctx); err != nil || string(msg) != "to d" {
		t.Fatalf("%q %v", msg, err)
	}
	d.Write(ctx, ws.MessageBinary, bytes.Repeat([]byte("x"), 100000))
	if typ, msg, err := a.Read(ctx); err != nil || len(msg) != 100000 || typ != ws.MessageBinary {
		t.Fatalf("%d %v", len(msg), err)
	}
	dErr := make(chan error, 1)
	go func() {
		_, _, err := d.Read(ctx)
		dErr <- err
	}()
	a.Close(ws.StatusNormalClosure, "bye")
	if err := <-done; err != nil {
		t.Fatalf("relay: %v", err)
	}
	if err := <-dErr; ws.CloseStatus(err) != ws.StatusNormalClosure {
		t.Fatalf("d: %v", err)
	}
}

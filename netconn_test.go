//go:build !js

package ws_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/rpc"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

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

// wantTimeout fails unless err is a NetConn's timeout.
func wantTimeout(t *testing.T, err error) {
	t.Helper()
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("got %v, want a timeout", err)
	}
}

// TestNetConnDeadlines moves deadlines between calls and during them:
// earlier, into the past, cleared, and past already when a call starts.
// The stream goes on after each timeout.
func TestNetConnDeadlines(t *testing.T) {
	c, s := pair(t, true, nil, nil)
	ctx := context.Background()
	cn := ws.NetConn(ctx, c, ws.MessageBinary)
	sn := ws.NetConn(ctx, s, ws.MessageBinary)
	buf := make([]byte, 16)
	expect := func(want string) {
		t.Helper()
		go cn.Write([]byte(want))
		n, err := sn.Read(buf)
		if err != nil || string(buf[:n]) != want {
			t.Fatalf("%q %v", buf[:n], err)
		}
	}

	// A deadline an hour ahead, moved to a moment ahead while the read
	// waits: the read ends then.
	sn.SetReadDeadline(time.Now().Add(time.Hour))
	go func() {
		time.Sleep(10 * time.Millisecond)
		sn.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	}()
	start := time.Now()
	_, err := sn.Read(buf)
	wantTimeout(t, err)
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("the read ended after %v", d)
	}
	sn.SetReadDeadline(time.Time{})
	expect("one")

	// Moved into the past while the read waits.
	go func() {
		time.Sleep(10 * time.Millisecond)
		sn.SetDeadline(time.Unix(1, 0))
	}()
	_, err = sn.Read(buf)
	wantTimeout(t, err)
	sn.SetDeadline(time.Time{})
	expect("two")

	// A deadline that passes between calls: the next call times out at
	// once, and again until the deadline moves.
	sn.SetReadDeadline(time.Now().Add(5 * time.Millisecond))
	time.Sleep(20 * time.Millisecond)
	for range 2 {
		_, err = sn.Read(buf)
		wantTimeout(t, err)
	}
	sn.SetReadDeadline(time.Now().Add(time.Minute))
	expect("three")

	// Deadlines that move on and on, as a server's for each exchange,
	// never fire.
	for i := range 50 {
		sn.SetReadDeadline(time.Now().Add(time.Minute))
		cn.SetWriteDeadline(time.Now().Add(time.Minute))
		expect(string(rune('a' + i%26)))
	}

	// A write deadline in the past fails a write before it begins.
	cn.SetWriteDeadline(time.Unix(1, 0))
	if n, err := cn.Write([]byte("lost")); n != 0 {
		t.Fatalf("wrote %d bytes", n)
	} else {
		wantTimeout(t, err)
	}
	cn.SetWriteDeadline(time.Time{})
	expect("four")
}

// TestNetConnWriteTimeout cuts off a write that the peer does not read
// in the middle of its message: the write reports all its bytes, and the
// peer then reads the stream whole.
func TestNetConnWriteTimeout(t *testing.T) {
	c, s := pair(t, true, nil, nil)
	ctx := context.Background()
	cn := ws.NetConn(ctx, c, ws.MessageBinary)
	sn := ws.NetConn(ctx, s, ws.MessageBinary)
	msg := make([]byte, 32<<20) // more than loopback buffers hold
	for i := range msg {
		msg[i] = byte(i * 7)
	}
	cn.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
	n, err := cn.Write(msg)
	wantTimeout(t, err)
	if n != len(msg) {
		t.Fatalf("a write cut off in its message reported %d bytes of %d", n, len(msg))
	}
	cn.SetWriteDeadline(time.Time{})
	got := make([]byte, len(msg)+5)
	done := make(chan error, 1)
	go func() {
		_, err := cn.Write([]byte("after"))
		done <- err
	}()
	if _, err := io.ReadFull(sn, got); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[:len(msg)], msg) || string(got[len(msg):]) != "after" {
		t.Fatal("the stream changed")
	}
}

// TestNetConnContextDone ends the adapter's context while a read waits:
// the read fails as at a deadline, and the connection is closed.
func TestNetConnContextDone(t *testing.T) {
	c, s := pair(t, true, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cn := ws.NetConn(ctx, c, ws.MessageBinary)
	go func() {
		time.Sleep(10 * time.Millisecond)
		cancel()
	}()
	_, err := cn.Read(make([]byte, 16))
	wantTimeout(t, err)
	if _, err := cn.Write([]byte("x")); err == nil {
		t.Fatal("a write after the context's end succeeded")
	}
	if _, _, err := s.Read(context.Background()); err == nil {
		t.Fatal("the peer read a message after the context's end")
	}
}

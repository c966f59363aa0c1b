//go:build !js

package ws_test

import (
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

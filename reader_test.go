//go:build !js

package ws_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

// TestReadAppend reads messages of every kind with ReadAppend into one
// buffer that starts with a prefix: each read must keep the prefix and
// append the message exactly, with and without compression and for
// messages in several frames; a message over the read limit must leave
// the buffer as it was.
func TestReadAppend(t *testing.T) {
	msgs := [][]byte{
		{},
		[]byte("hi"),
		bytes.Repeat([]byte(`{"k":"value","n":12345},`), 43), // 1 KiB, compresses
		bytes.Repeat([]byte("0123456789abcdef"), 100<<10/16),
		randomBytes(300 << 10), // does not compress
	}
	for _, mode := range []*ws.CompressionOptions{nil, {}} {
		t.Run(map[bool]string{false: "plain", true: "compressed"}[mode != nil], func(t *testing.T) {
			if mode != nil {
				mode = &ws.CompressionOptions{Threshold: -1}
			}
			opts := ws.Options{Compression: mode, ReadLimit: 400 << 10, CloseTimeout: 50 * time.Millisecond}
			client, server := pair(t, false, &ws.AcceptOptions{Options: opts}, &ws.DialOptions{Options: opts})
			ctx := context.Background()
			errc := make(chan error, 1)
			go func() {
				for _, m := range msgs {
					if err := client.Write(ctx, ws.MessageBinary, m); err != nil {
						errc <- err
						return
					}
					// The same message written in three parts: the
					// large ones go out in several frames.
					w, err := client.Writer(ctx, ws.MessageBinary)
					if err != nil {
						errc <- err
						return
					}
					third := len(m) / 3
					for _, part := range [][]byte{m[:third], m[third : 2*third], m[2*third:]} {
						if _, err := w.Write(part); err != nil {
							errc <- err
							return
						}
					}
					if err := w.Close(); err != nil {
						errc <- err
						return
					}
				}
				errc <- client.Write(ctx, ws.MessageBinary, make([]byte, 400<<10+1))
			}()
			buf := []byte("pre:")
			for i := range 2 * len(msgs) {
				want := msgs[i/2]
				typ, got, err := server.ReadAppend(ctx, buf[:4])
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				if typ != ws.MessageBinary || string(got[:4]) != "pre:" || !bytes.Equal(got[4:], want) {
					t.Fatalf("message %d: type %v, %d bytes %.8q, want %d bytes after the prefix", i, typ, len(got), got, len(want))
				}
				buf = got
			}
			_, got, err := server.ReadAppend(ctx, buf[:4])
			if !errors.Is(err, ws.ErrMessageTooBig) {
				t.Fatalf("over the limit: %v", err)
			}
			if string(got) != "pre:" {
				t.Fatalf("over the limit: the buffer holds %d bytes %.8q, want the prefix alone", len(got), got)
			}
			if err := <-errc; err != nil {
				t.Logf("writer: %v", err) // the server may have closed first
			}
		})
	}
}

// TestReadAppendCancel interrupts ReadAppend in the middle of a message:
// it must return the context's error and dst as it was, and the next
// ReadAppend must drop the rest of that message and return the next one.
// A context cancelled beforehand leaves dst untouched too.
func TestReadAppendCancel(t *testing.T) {
	client, server := pair(t, true, nil, nil)
	ctx := context.Background()
	w, err := client.Writer(ctx, ws.MessageText)
	if err != nil {
		t.Fatal(err)
	}
	// A large write goes out at once, as a frame of its own.
	if _, err := w.Write(bytes.Repeat([]byte("a"), 32<<10)); err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, got, err := server.ReadAppend(tctx, []byte("pre:"))
	if !errors.Is(err, context.DeadlineExceeded) || string(got) != "pre:" {
		t.Fatalf("interrupted: %v, %d bytes %.8q", err, len(got), got)
	}
	if _, err := w.Write([]byte("tail")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := client.Write(ctx, ws.MessageText, []byte("next")); err != nil {
		t.Fatal(err)
	}
	typ, got, err := server.ReadAppend(ctx, got)
	if err != nil || typ != ws.MessageText || string(got) != "pre:next" {
		t.Fatalf("after the interruption: %v, %v, %q", err, typ, got)
	}
	cctx, cancel2 := context.WithCancel(ctx)
	cancel2()
	if _, got, err = server.ReadAppend(cctx, []byte("x")); !errors.Is(err, context.Canceled) || string(got) != "x" {
		t.Fatalf("cancelled beforehand: %v, %q", err, got)
	}
}

func TestContextCancelKeepsConnection(t *testing.T) {
	for _, tcp := range []bool{true, false} {
		name := map[bool]string{true: "tcp", false: "pipe"}[tcp]
		t.Run(name, func(t *testing.T) {
			c, s := pair(t, tcp, nil, nil)
			// A read with nothing to read is interrupted and the
			// connection lives on.
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			_, _, err := s.Read(ctx)
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("got %v", err)
			}
			ctx, cancel = context.WithCancel(context.Background())
			time.AfterFunc(30*time.Millisecond, cancel)
			_, _, err = s.Reader(ctx)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("got %v", err)
			}
			bg := context.Background()
			go c.Write(bg, ws.MessageText, []byte("still here"))
			_, msg, err := s.Read(bg)
			if err != nil || string(msg) != "still here" {
				t.Fatalf("after cancel: %q %v", msg, err)
			}
			// A context done before the call does nothing at all.
			done, cancel := context.WithCancel(bg)
			cancel()
			if _, _, err := s.Read(done); !errors.Is(err, context.Canceled) {
				t.Fatal(err)
			}
			if err := s.Write(done, ws.MessageText, []byte("x")); !errors.Is(err, context.Canceled) {
				t.Fatal(err)
			}
			go c.Write(bg, ws.MessageText, []byte("again"))
			if _, msg, err := s.Read(bg); err != nil || string(msg) != "again" {
				t.Fatalf("%q %v", msg, err)
			}
		})
	}
}

func TestContextCancelMidMessage(t *testing.T) {
	c, s := pair(t, true, nil, nil)
	bg := context.Background()
	w, err := c.Writer(bg, ws.MessageBinary)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(make([]byte, 20000)) // one frame goes out, the message stays open
	ctx, cancel := context.WithCancel(bg)
	_, r, err := s.Reader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(r, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(30*time.Millisecond, cancel)
	_, err = io.ReadAll(r)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	// The connection lives on: the rest of the message is dropped and the
	// next one arrives whole.
	w.Write(make([]byte, 5000))
	w.Close()
	go c.Write(bg, ws.MessageText, []byte("next"))
	if _, msg, err := s.Read(bg); err != nil || string(msg) != "next" {
		t.Fatalf("after: %q %v", msg, err)
	}
}

func TestConcurrentReadIsAnError(t *testing.T) {
	_, s := pair(t, false, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		s.Read(ctx)
		close(done)
	}()
	time.Sleep(20 * time.Millisecond)
	if _, _, err := s.Read(context.Background()); !errors.Is(err, ws.ErrConcurrentRead) {
		t.Fatalf("got %v", err)
	}
	cancel()
	<-done
}

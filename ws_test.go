//go:build !js

package ws_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/internal/wstest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// transports runs f over a loopback TCP server and over an in-memory pipe.
func transports(t *testing.T, h http.Handler, f func(t *testing.T, url string, opts *ws.DialOptions)) {
	t.Run("tcp", func(t *testing.T) {
		srv := httptest.NewServer(h)
		defer srv.Close()
		f(t, srv.URL, &ws.DialOptions{})
	})
	t.Run("pipe", func(t *testing.T) {
		srv := wstest.NewServer(h)
		defer srv.Close()
		f(t, "ws://pipe/", &ws.DialOptions{NetDial: srv.DialContext})
	})
}

func TestEcho(t *testing.T) {
	h := &echoHandler{}
	transports(t, h, func(t *testing.T, url string, opts *ws.DialOptions) {
		ctx := context.Background()
		c, _, err := ws.Dial(ctx, url, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536, 100000, 1 << 20} {
			for _, typ := range []ws.MessageType{ws.MessageText, ws.MessageBinary} {
				msg := bytes.Repeat([]byte("abcdefghij"), n/10+1)[:n]
				werr := make(chan error, 1)
				go func() { werr <- c.Write(ctx, typ, msg) }()
				gt, got, err := c.Read(ctx)
				if err := <-werr; err != nil {
					t.Fatal(err)
				}
				if err != nil {
					t.Fatalf("size %d: %v", n, err)
				}
				if gt != typ || !bytes.Equal(got, msg) {
					t.Fatalf("size %d: got %v %d bytes, want %v %d", n, gt, len(got), typ, n)
				}
			}
		}
		// Streamed in pieces.
		var want []byte
		for i := 0; i < 100; i++ {
			want = append(want, bytes.Repeat([]byte{byte(i)}, i*997)...)
		}
		werr := make(chan error, 1)
		go func() {
			w, err := c.Writer(ctx, ws.MessageBinary)
			if err != nil {
				werr <- err
				return
			}
			for i := 0; i < 100; i++ {
				if _, err := w.Write(want[i*(i-1)/2*997 : i*(i+1)/2*997]); err != nil {
					werr <- err
					return
				}
			}
			werr <- w.Close()
		}()
		_, r, err := c.Reader(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("streamed: %d bytes, %v; want %d", len(got), err, len(want))
		}
		if err := <-werr; err != nil {
			t.Fatal(err)
		}
		if err := c.Close(ws.StatusNormalClosure, "bye"); err != nil {
			t.Fatal(err)
		}
		err = h.lastErr()
		if ws.CloseStatus(err) != ws.StatusNormalClosure {
			t.Fatalf("server saw %v", err)
		}
		var ce ws.CloseError
		if !errors.As(err, &ce) || ce.Reason != "bye" {
			t.Fatalf("server saw %v", err)
		}
		if _, _, err := c.Read(ctx); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("read after close: %v", err)
		}
	})
}

// TestState follows a connection through its stages, on both sides of a
// close handshake.
func TestState(t *testing.T) {
	ctx := context.Background()
	c, s := pair(t, true, nil, nil)
	if c.State() != ws.StateOpen || s.State() != ws.StateOpen {
		t.Fatalf("states %v %v, want open", c.State(), s.State())
	}
	// The server sends its close frame and waits; the client has not read
	// it yet.
	closed := make(chan error, 1)
	go func() { closed <- s.Close(ws.StatusNormalClosure, "") }()
	deadline := time.Now().Add(5 * time.Second)
	for s.State() != ws.StateClosing {
		if time.Now().After(deadline) {
			t.Fatalf("server state %v after sending its close frame, want closing", s.State())
		}
		time.Sleep(time.Millisecond)
	}
	if _, _, err := c.Read(ctx); ws.CloseStatus(err) != ws.StatusNormalClosure {
		t.Fatalf("read: %v", err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if c.State() != ws.StateClosed || s.State() != ws.StateClosed {
		t.Fatalf("states %v %v, want closed", c.State(), s.State())
	}
	for st, want := range map[ws.State]string{ws.StateOpen: "open", ws.StateClosing: "closing", ws.StateClosed: "closed", 7: "State(7)"} {
		if st.String() != want {
			t.Errorf("%d: %q, want %q", int(st), st.String(), want)
		}
	}
}

// TestReadPaused checks that a connection reports its reading paused
// between reads and while Messages holds a message no one receives.
func TestReadPaused(t *testing.T) {
	ctx := context.Background()
	c, s := pair(t, true, nil, nil)
	if !c.ReadPaused() {
		t.Fatal("paused: false before any read")
	}
	read := make(chan error, 1)
	go func() {
		_, _, err := c.Read(ctx)
		read <- err
	}()
	waitFor(t, "a read in progress", func() bool { return !c.ReadPaused() })
	if err := s.Write(ctx, ws.MessageText, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := <-read; err != nil {
		t.Fatal(err)
	}
	if !c.ReadPaused() {
		t.Fatal("paused: false after the read returned")
	}
	// Messages reads the next message and holds it for a receiver.
	msgs := c.Messages()
	if err := s.Write(ctx, ws.MessageText, []byte("two")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "Messages holding its message", c.ReadPaused)
	if m := <-msgs; string(m.Data) != "two" {
		t.Fatalf("got %q", m.Data)
	}
	waitFor(t, "Messages reading again", func() bool { return !c.ReadPaused() })
	c.CloseNow()
	s.CloseNow()
}

// waitFor waits up to 5 s for cond.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 5 s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestMessageTypeFlags checks the flags of a message to send: valid
// combinations are sent, invalid ones refused, and String names them.
func TestMessageTypeFlags(t *testing.T) {
	ctx := context.Background()
	c, s := pair(t, false, nil, nil)
	for _, typ := range []ws.MessageType{ws.MessageText | ws.Compressed, ws.MessageBinary | ws.Uncompressed} {
		go c.Write(ctx, typ, []byte("x"))
		got, _, err := s.Read(ctx)
		if err != nil || got != typ&^(ws.Compressed|ws.Uncompressed) {
			t.Fatalf("%v sent, %v read: %v", typ, got, err)
		}
	}
	for _, typ := range []ws.MessageType{0, 3, ws.Compressed, ws.MessageText | ws.Compressed | ws.Uncompressed, ws.MessageBinary | 1<<12} {
		if err := c.Write(ctx, typ, nil); !errors.Is(err, ws.ErrInvalidMessageType) {
			t.Errorf("Write(%v): %v, want ErrInvalidMessageType", typ, err)
		}
		if _, err := c.Writer(ctx, typ); !errors.Is(err, ws.ErrInvalidMessageType) {
			t.Errorf("Writer(%v): %v, want ErrInvalidMessageType", typ, err)
		}
		if err := c.TrySend(typ, nil, nil); !errors.Is(err, ws.ErrInvalidMessageType) {
			t.Errorf("TrySend(%v): %v, want ErrInvalidMessageType", typ, err)
		}
	}
	for typ, want := range map[ws.MessageType]string{
		ws.MessageText:                                   "text",
		ws.MessageBinary | ws.Compressed:                 "binary|compressed",
		ws.MessageText | ws.Uncompressed:                 "text|uncompressed",
		ws.MessageText | ws.Compressed | ws.Uncompressed: fmt.Sprintf("MessageType(%d)", int(ws.MessageText|ws.Compressed|ws.Uncompressed)),
	} {
		if typ.String() != want {
			t.Errorf("%d: %q, want %q", int(typ), typ.String(), want)
		}
	}
	c.CloseNow()
	s.CloseNow()
}

package ws_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

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

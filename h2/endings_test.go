package h2_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

// TestClientResetsStream ends a WebSocket from the client without a
// close handshake, which resets its stream (RST_STREAM): the server's
// read ends with an error, the handler returns, and another WebSocket on
// the same connection goes on.
func TestClientResetsStream(t *testing.T) {
	ended := make(chan error, 2)
	s := newH2Server(t, accepting(t, nil, func(c *ws.Conn, r *http.Request) {
		ended <- echo(c)
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	keep, _, err := ws.Dial(ctx, s.url, &ws.DialOptions{HTTP2: s.tr})
	if err != nil {
		t.Fatal(err)
	}
	defer keep.CloseNow()
	c, _, err := ws.Dial(ctx, s.url, &ws.DialOptions{HTTP2: s.tr})
	if err != nil {
		t.Fatal(err)
	}
	echoOnce(ctx, t, c, ws.MessageText, []byte("before"))
	c.CloseNow()
	select {
	case err := <-ended:
		var ce ws.CloseError
		if err == nil || errors.As(err, &ce) {
			t.Errorf("the server's read ended with %v, want an error that is not a close frame", err)
		}
	case <-ctx.Done():
		t.Fatal("the server's read did not end after the client reset its stream")
	}
	echoOnce(ctx, t, keep, ws.MessageText, []byte("the other stream goes on"))
	if err := keep.Close(ws.StatusNormalClosure, ""); err != nil {
		t.Error(err)
	}
	if n := s.conns.Load(); n != 1 {
		t.Errorf("%d TCP connections, want 1", n)
	}
}

// TestServerShutdown shuts the server down (net/http sends GOAWAY) while
// WebSockets are open: ws.Server closes each with 1001, and the clients
// read that.
func TestServerShutdown(t *testing.T) {
	wss := &ws.Server{Handler: func(c *ws.Conn, r *http.Request) {
		if !isExtendedConnect(r) {
			t.Errorf("request over HTTP/%d, want HTTP/2", r.ProtoMajor)
		}
		echo(c)
	}}
	s := newH2Server(t, wss)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var conns []*ws.Conn
	for range 5 {
		c, _, err := ws.Dial(ctx, s.url, &ws.DialOptions{HTTP2: s.tr})
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		echoOnce(ctx, t, c, ws.MessageText, []byte("hello"))
		conns = append(conns, c)
	}
	if n := wss.Len(); n != 5 {
		t.Errorf("Server.Len() = %d, want 5", n)
	}
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			_, _, err := c.Read(ctx)
			if ws.CloseStatus(err) != ws.StatusGoingAway {
				t.Errorf("client read %v, want a close with 1001", err)
			}
		})
	}
	wg.Go(func() {
		if err := s.Config.Shutdown(ctx); err != nil {
			t.Errorf("http.Server.Shutdown: %v", err)
		}
	})
	start := time.Now()
	if err := wss.Shutdown(ctx); err != nil {
		t.Errorf("Server.Shutdown: %v", err)
	}
	if d := time.Since(start); d > ws.DefaultCloseTimeout/2 {
		t.Errorf("Server.Shutdown took %v: the close handshakes did not complete", d)
	}
	wg.Wait()
	if _, _, err := ws.Dial(ctx, s.url, &ws.DialOptions{HTTP2: s.tr}); err == nil {
		t.Error("Dial succeeded after the server shut down")
	}
}

// TestBrokenConnection breaks the TCP connection under open WebSockets:
// both ends fail their reads with an error at once.
func TestBrokenConnection(t *testing.T) {
	serverErr := make(chan error, 3)
	s := newH2Server(t, accepting(t, nil, func(c *ws.Conn, r *http.Request) {
		serverErr <- echo(c)
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var conns []*ws.Conn
	for range 3 {
		c, _, err := ws.Dial(ctx, s.url, &ws.DialOptions{HTTP2: s.tr})
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		echoOnce(ctx, t, c, ws.MessageBinary, []byte{1, 2, 3})
		conns = append(conns, c)
	}
	s.CloseClientConnections()
	for _, c := range conns {
		_, _, err := c.Read(ctx)
		var ce ws.CloseError
		if err == nil || errors.As(err, &ce) || ctx.Err() != nil {
			t.Errorf("client read %v after the connection broke, want an error that is not a close frame", err)
		}
		if c.Err() == nil {
			t.Error("Err() is nil after the connection broke")
		}
	}
	for range conns {
		select {
		case err := <-serverErr:
			if err == nil {
				t.Error("the server's read ended without an error")
			}
		case <-ctx.Done():
			t.Fatal("the server's reads did not end after the connection broke")
		}
	}
}

// TestClientCloseDelivered has a server send a close frame and read the
// stream to its end, while the client answers the close frame and closes
// at once: the client's answer (a masked close frame of 8 bytes) reaches
// the server every time, before the stream ends, though the RoundTripper
// sends it on a goroutine of its own.
func TestClientCloseDelivered(t *testing.T) {
	got := make(chan string, 1)
	s := newH2Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		w.Write([]byte{0x88, 0x02, 0x03, 0xe8}) // close, 1000
		rc.Flush()
		b, err := io.ReadAll(r.Body)
		got <- fmt.Sprintf("%d bytes, then %v", len(b), err)
	}))
	for range 100 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, _, err := ws.Dial(ctx, s.url, &ws.DialOptions{HTTP2: s.tr})
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		_, _, err = c.Read(ctx)
		if ws.CloseStatus(err) != ws.StatusNormalClosure {
			t.Errorf("read %v, want the server's close frame", err)
		}
		c.CloseNow()
		cancel()
		if g := <-got; g != "8 bytes, then <nil>" {
			t.Fatalf("the server read %s; want the client's close frame of 8 bytes and the end of the stream", g)
		}
	}
}

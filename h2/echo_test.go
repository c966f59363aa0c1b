package h2_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

// accepting is a handler that accepts the WebSocket with opts, serves
// it and closes it. A refused handshake fails t, unless t is nil.
func accepting(t testing.TB, opts *ws.AcceptOptions, serve func(c *ws.Conn, r *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Accept(w, r, opts)
		if err != nil {
			if t != nil {
				t.Errorf("Accept: %v", err)
			}
			return
		}
		defer c.CloseNow()
		serve(c, r)
	})
}

// echoHandler accepts over HTTP/2 only and echoes every message.
func echoHandler(t testing.TB, opts *ws.AcceptOptions) http.Handler {
	return accepting(t, opts, func(c *ws.Conn, r *http.Request) {
		if !isExtendedConnect(r) {
			t.Errorf("request %s %s over HTTP/%d.%d, want an extended CONNECT over HTTP/2", r.Method, r.URL, r.ProtoMajor, r.ProtoMinor)
		}
		echo(c)
	})
}

// echo echoes messages until a read or write fails.
func echo(c *ws.Conn) error {
	ctx := context.Background()
	for {
		typ, p, err := c.Read(ctx)
		if err != nil {
			return err
		}
		if err := c.Write(ctx, typ, p); err != nil {
			return err
		}
	}
}

// echoOnce writes p and checks that the same message comes back.
func echoOnce(ctx context.Context, t testing.TB, c *ws.Conn, typ ws.MessageType, p []byte) {
	t.Helper()
	if err := c.Write(ctx, typ, p); err != nil {
		t.Fatalf("Write of %d bytes: %v", len(p), err)
	}
	gt, got, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("Read of the echo of %d bytes: %v", len(p), err)
	}
	if gt != typ || !bytes.Equal(got, p) {
		t.Fatalf("echo of %v of %d bytes: got %v of %d bytes", typ, len(p), gt, len(got))
	}
}

// TestEcho sends messages both ways over HTTP/2, with and without
// permessage-deflate, and closes with a code from each side.
func TestEcho(t *testing.T) {
	for _, deflate := range []bool{false, true} {
		t.Run(fmt.Sprintf("deflate=%v", deflate), func(t *testing.T) {
			var comp *ws.CompressionOptions
			if deflate {
				comp = &ws.CompressionOptions{}
			}
			s := newH2Server(t, echoHandler(t, &ws.AcceptOptions{
				Subprotocols: []string{"chat"},
				Options:      ws.Options{Compression: comp},
			}))
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			c, resp, err := ws.Dial(ctx, s.url, &ws.DialOptions{
				HTTP2:        s.tr,
				Subprotocols: []string{"chat"},
				Options:      ws.Options{Compression: comp},
			})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
				t.Errorf("response %d over HTTP/%d, want 200 over HTTP/2", resp.StatusCode, resp.ProtoMajor)
			}
			if c.Subprotocol() != "chat" {
				t.Errorf("Subprotocol() = %q, want chat", c.Subprotocol())
			}
			if got := strings.Contains(c.Extensions(), "permessage-deflate"); got != deflate {
				t.Errorf("Extensions() = %q, want permessage-deflate %v", c.Extensions(), deflate)
			}
			for _, n := range []int{0, 125, 64 << 10, 16 << 20} {
				echoOnce(ctx, t, c, ws.MessageBinary, bytes.Repeat([]byte{'b'}, n))
				echoOnce(ctx, t, c, ws.MessageText, bytes.Repeat([]byte{'t'}, n))
			}
			if err := c.Close(ws.StatusNormalClosure, "bye"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestCloseCodes closes with a code of the client's, then of the
// server's, and checks that the other side reads it.
func TestCloseCodes(t *testing.T) {
	got := make(chan error, 1)
	s := newH2Server(t, accepting(t, nil, func(c *ws.Conn, r *http.Request) {
		if r.URL.Path == "/server-closes" {
			c.Close(4002, "server says bye")
			return
		}
		_, _, err := c.Read(r.Context())
		got <- err
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	c, _, err := ws.Dial(ctx, s.url+"/client-closes", &ws.DialOptions{HTTP2: s.tr})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(4001, "client says bye"); err != nil {
		t.Errorf("Close: %v", err)
	}
	var ce ws.CloseError
	if err := <-got; !errors.As(err, &ce) || ce.Code != 4001 || ce.Reason != "client says bye" {
		t.Errorf("the server read %v, want a CloseError 4001 client says bye", err)
	}

	c, _, err = ws.Dial(ctx, s.url+"/server-closes", &ws.DialOptions{HTTP2: s.tr})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	_, _, err = c.Read(ctx)
	if !errors.As(err, &ce) || ce.Code != 4002 || ce.Reason != "server says bye" {
		t.Errorf("the client read %v, want a CloseError 4002 server says bye", err)
	}
}

// TestShareConnection opens 100 WebSockets to one server through one
// Transport: they share one TCP connection, and each echoes.
func TestShareConnection(t *testing.T) {
	s := newH2Server(t, echoHandler(t, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// The first dial opens the connection; the others find it.
	first, _, err := ws.Dial(ctx, s.url, &ws.DialOptions{HTTP2: s.tr})
	if err != nil {
		t.Fatal(err)
	}
	conns := []*ws.Conn{first}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 99 {
		wg.Go(func() {
			c, _, err := ws.Dial(ctx, s.url, &ws.DialOptions{HTTP2: s.tr})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		})
	}
	wg.Wait()
	if t.Failed() {
		for _, c := range conns {
			c.CloseNow()
		}
		t.FailNow()
	}
	for i, c := range conns {
		wg.Go(func() {
			for j := range 10 {
				echoOnce(ctx, t, c, ws.MessageText, fmt.Appendf(nil, "socket %d message %d", i, j))
			}
		})
	}
	wg.Wait()
	for _, c := range conns {
		if err := c.Close(ws.StatusNormalClosure, ""); err != nil {
			t.Error(err)
		}
	}
	if n := s.conns.Load(); n != 1 {
		t.Errorf("the server accepted %d TCP connections for 100 WebSockets, want 1", n)
	}
}

// TestContext interrupts a read and a write blocked on the stream, and
// checks that the connection is still usable after each, as over TCP.
func TestContext(t *testing.T) {
	release := make(chan struct{})
	s := newH2Server(t, accepting(t, nil, func(c *ws.Conn, r *http.Request) {
		<-release // the client's reads and writes block meanwhile
		echo(c)
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, _, err := ws.Dial(ctx, s.url, &ws.DialOptions{HTTP2: s.tr})
	if err != nil {
		close(release)
		t.Fatal(err)
	}
	defer c.CloseNow()

	rctx, rcancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, _, err = c.Read(rctx)
	rcancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Read past its deadline: %v, want context.DeadlineExceeded", err)
	}

	// 16 MiB is more than HTTP/2's flow control lets out before the
	// server reads.
	big := bytes.Repeat([]byte{'w'}, 16<<20)
	wctx, wcancel := context.WithTimeout(ctx, 300*time.Millisecond)
	err = c.Write(wctx, ws.MessageBinary, big)
	wcancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Write past its deadline: %v, want context.DeadlineExceeded", err)
	}
	close(release)
	// The rest of the interrupted message goes out before the next one,
	// and the echo of each comes back whole.
	if err := c.Write(ctx, ws.MessageText, []byte("after")); err != nil {
		t.Fatal(err)
	}
	for _, want := range [][]byte{big, []byte("after")} {
		_, got, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("read %d bytes, want %d", len(got), len(want))
		}
	}
	if err := c.Close(ws.StatusNormalClosure, ""); err != nil {
		t.Error(err)
	}
}

// TestStreams uses NetConn, Messages and keepalive over HTTP/2.
func TestStreams(t *testing.T) {
	s := newH2Server(t, accepting(t, &ws.AcceptOptions{Options: ws.Options{PingInterval: 50 * time.Millisecond}}, func(c *ws.Conn, r *http.Request) {
		// A line protocol on NetConn: each line comes back upper-cased.
		nc := ws.NetConn(r.Context(), c, ws.MessageText)
		sc := bufio.NewScanner(nc)
		for sc.Scan() {
			if _, err := fmt.Fprintf(nc, "%s\n", strings.ToUpper(sc.Text())); err != nil {
				return
			}
		}
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pongs := make(chan struct{}, 100)
	c, _, err := ws.Dial(ctx, s.url, &ws.DialOptions{HTTP2: s.tr, Options: ws.Options{
		PingInterval: 50 * time.Millisecond,
		OnPing:       func([]byte) { pongs <- struct{}{} },
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	msgs := c.Messages()
	for i := range 5 {
		line := fmt.Sprintf("line %d\n", i)
		if err := c.Send(ctx, ws.MessageText, []byte(line), nil); err != nil {
			t.Fatal(err)
		}
		select {
		case m, ok := <-msgs:
			if !ok {
				t.Fatalf("Messages closed: %v", c.Err())
			}
			if string(m.Data) != strings.ToUpper(line) {
				t.Fatalf("got %q, want %q", m.Data, strings.ToUpper(line))
			}
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
	}
	// The server's keepalive pings arrive and are answered, over the
	// stream, while Messages reads.
	for range 3 {
		select {
		case <-pongs:
		case <-ctx.Done():
			t.Fatal("no ping from the server's keepalive")
		}
	}
	if err := c.Close(ws.StatusNormalClosure, ""); err != nil {
		t.Error(err)
	}
}

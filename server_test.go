//go:build !js

package ws_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

// readAllUntilClose reads messages until the connection ends and returns
// them with the ending error.
func readAllUntilClose(c *ws.Conn) ([]string, error) {
	var got []string
	for {
		_, msg, err := c.Read(context.Background())
		if err != nil {
			return got, err
		}
		got = append(got, string(msg))
	}
}

func TestServerBroadcast(t *testing.T) {
	s := &ws.Server{Handler: func(c *ws.Conn, r *http.Request) {
		for range c.Messages() {
		}
	}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	ctx := context.Background()
	const n = 20
	clients := make([]*ws.Conn, n)
	for i := range clients {
		c, _, err := ws.Dial(ctx, srv.URL+fmt.Sprintf("/?id=%d", i), nil)
		if err != nil {
			t.Fatal(err)
		}
		clients[i] = c
	}
	for s.Len() < n {
		time.Sleep(time.Millisecond)
	}
	if got, err := s.Broadcast(ws.MessageText, []byte("to all"), nil); got != n || err != nil {
		t.Fatalf("queued for %d, %v", got, err)
	}
	// To all but one: the filter sees each connection.
	var skipped atomic.Int32
	got, err := s.Broadcast(ws.MessageBinary, []byte("some"), func(c *ws.Conn) bool {
		if skipped.Load() == 0 {
			skipped.Add(1)
			return false
		}
		return true
	})
	if got != n-1 || err != nil {
		t.Fatalf("filtered broadcast queued for %d, %v", got, err)
	}
	received := 0
	for _, c := range clients {
		_, msg, err := c.Read(ctx)
		if err != nil || string(msg) != "to all" {
			t.Fatalf("%q %v", msg, err)
		}
		rctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		if _, msg, err := c.Read(rctx); err == nil && string(msg) == "some" {
			received++
		}
		cancel()
	}
	if received != n-1 {
		t.Fatalf("%d received the filtered broadcast", received)
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() { defer wg.Done(); readAllUntilClose(c) }()
	}
	if err := s.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
}

func TestServerBroadcastSlowReceiver(t *testing.T) {
	for _, policy := range []ws.OverflowPolicy{ws.OverflowClose, ws.OverflowDrop} {
		t.Run(fmt.Sprint(policy), func(t *testing.T) {
			s := &ws.Server{
				Overflow: policy,
				// The close frame of OverflowClose goes out behind the
				// queue, which the slow client reads only after the 200
				// broadcasts: under the race detector on a loaded machine
				// that can take longer than DefaultCloseTimeout, after
				// which the server would rightly cut the connection
				// without its 1013.
				Options: ws.AcceptOptions{Options: ws.Options{SendQueue: 64, CloseTimeout: 30 * time.Second}},
				Handler: func(c *ws.Conn, r *http.Request) {
					for range c.Messages() {
					}
				},
			}
			srv := httptest.NewServer(s)
			defer srv.Close()
			ctx := context.Background()
			fast, _, err := ws.Dial(ctx, srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			slow, _, err := ws.Dial(ctx, srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			for s.Len() < 2 {
				time.Sleep(time.Millisecond)
			}
			// The slow client reads nothing; big messages fill its TCP
			// buffers, then its queue.
			fastGot := make(chan int, 1)
			go func() {
				n := 0
				for {
					_, _, err := fast.Read(ctx)
					if err != nil {
						break
					}
					n++
				}
				fastGot <- n
			}()
			msg := make([]byte, 256<<10)
			const rounds = 200
			for i := 0; i < rounds; i++ {
				s.Broadcast(ws.MessageBinary, msg, nil)
				time.Sleep(time.Millisecond)
			}
			if policy == ws.OverflowClose {
				_, err := readAllUntilClose(slow)
				if ws.CloseStatus(err) != ws.StatusTryAgainLater {
					t.Fatalf("slow receiver ended with %v", err)
				}
			}
			sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			slowEnd := make(chan error, 1)
			go func() {
				_, err := readAllUntilClose(slow)
				slowEnd <- err
			}()
			if err := s.Shutdown(sctx); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			if n := <-fastGot; n != rounds {
				t.Fatalf("fast receiver got %d of %d", n, rounds)
			}
			// OverflowDrop skips messages but keeps the slow receiver
			// until Shutdown closes it.
			if err := <-slowEnd; policy == ws.OverflowDrop && ws.CloseStatus(err) != ws.StatusGoingAway {
				t.Fatalf("slow receiver ended with %v, want it kept until Shutdown's 1001", err)
			}
			slow.CloseNow()
		})
	}
}

func TestServerShutdown1000(t *testing.T) {
	s := &ws.Server{Handler: func(c *ws.Conn, r *http.Request) {
		for range c.Messages() {
		}
	}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	ctx := context.Background()
	const n = 1000
	clients := make([]*ws.Conn, n)
	for i := range clients {
		c, _, err := ws.Dial(ctx, srv.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		clients[i] = c
	}
	codes := make(chan ws.StatusCode, n)
	for _, c := range clients {
		go func() {
			_, err := readAllUntilClose(c)
			codes <- ws.CloseStatus(err)
		}()
	}
	for s.Len() < n {
		time.Sleep(time.Millisecond)
	}
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	start := time.Now()
	if err := s.Shutdown(sctx); err != nil {
		t.Fatalf("Shutdown: %v after %v", err, time.Since(start))
	}
	for i := 0; i < n; i++ {
		if code := <-codes; code != ws.StatusGoingAway {
			t.Fatalf("client got %v", code)
		}
	}
	if s.Len() != 0 {
		t.Fatalf("%d still tracked", s.Len())
	}
	// After Shutdown, handshakes are refused.
	_, resp, err := ws.Dial(ctx, srv.URL, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("dial after shutdown: %v", err)
	}
}

func TestServerEndpointsAndAuth(t *testing.T) {
	mux := http.NewServeMux()
	echo := &ws.Server{Handler: func(c *ws.Conn, r *http.Request) {
		for msg := range c.Messages() {
			c.Write(r.Context(), msg.Type, msg.Data)
		}
	}}
	upper := func(w http.ResponseWriter, r *http.Request) {
		// Authenticate before the upgrade; refuse with 401 and a body.
		if ck, err := r.Cookie("session"); err != nil || ck.Value != "s3cret" {
			http.Error(w, "log in first", http.StatusUnauthorized)
			return
		}
		c, err := ws.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for msg := range c.Messages() {
			c.Write(r.Context(), msg.Type, []byte(fmt.Sprintf("%s!", msg.Data)))
		}
	}
	mux.Handle("/echo", echo)
	mux.HandleFunc("/shout", upper)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ctx := context.Background()

	a, _, err := ws.Dial(ctx, srv.URL+"/echo", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, resp, err := ws.Dial(ctx, srv.URL+"/shout", nil)
	var he *ws.HandshakeError
	if !errors.As(err, &he) || resp.StatusCode != 401 {
		t.Fatalf("unauthenticated dial: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "log in first\n" {
		t.Fatalf("401 body %q", body)
	}
	b, _, err := ws.Dial(ctx, srv.URL+"/shout", &ws.DialOptions{Header: http.Header{"Cookie": {"session=s3cret"}}})
	if err != nil {
		t.Fatal(err)
	}
	a.Write(ctx, ws.MessageText, []byte("hi"))
	b.Write(ctx, ws.MessageText, []byte("hi"))
	if _, m, _ := a.Read(ctx); string(m) != "hi" {
		t.Fatalf("echo %q", m)
	}
	if _, m, _ := b.Read(ctx); string(m) != "hi!" {
		t.Fatalf("shout %q", m)
	}
	a.Close(ws.StatusNormalClosure, "")
	b.Close(ws.StatusNormalClosure, "")
	echo.Shutdown(ctx)
}

func TestServerHandshakeTimeout(t *testing.T) {
	s := &ws.Server{HandshakeTimeout: 100 * time.Millisecond, Handler: func(c *ws.Conn, r *http.Request) {}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	// Open TCP, send half a request, then nothing.
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	io.WriteString(nc, "GET / HTTP/1.1\r\nHost: x\r\n")
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	io.Copy(io.Discard, nc)
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("the server kept a stalled handshake for %v", d)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestServerResponseHeaderHook(t *testing.T) {
	s := &ws.Server{
		Options: ws.AcceptOptions{ResponseHeader: http.Header{"X-Static": {"yes"}}},
		ResponseHeader: func(r *http.Request) http.Header {
			return http.Header{"Set-Cookie": {"session=" + r.URL.Query().Get("user")}}
		},
		Handler: func(c *ws.Conn, r *http.Request) {},
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c, resp, err := ws.Dial(context.Background(), srv.URL+"/?user=ann", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if resp.Header.Get("Set-Cookie") != "session=ann" || resp.Header.Get("X-Static") != "yes" {
		t.Fatalf("101 headers: %v", resp.Header)
	}
	readAllUntilClose(c)
	s.Shutdown(context.Background())
}

func TestGoroutinesEndOnEveryPath(t *testing.T) {
	// goleak in TestMain checks that nothing is left; here each way of
	// ending meets the goroutines of Messages, Send and keepalive.
	ctx := context.Background()
	start := func(t *testing.T) (*ws.Conn, *ws.Conn) {
		c, s := pair(t, true, nil, &ws.DialOptions{Options: ws.Options{PingInterval: 10 * time.Millisecond}})
		c.Messages()
		c.Send(ctx, ws.MessageText, []byte("x"), nil)
		return c, s
	}
	t.Run("context cancelled", func(t *testing.T) {
		c, _ := start(t)
		cctx, cancel := context.WithCancel(ctx)
		ws.NetConn(cctx, c, ws.MessageBinary)
		cancel()
		<-c.Done()
		c.CloseNow()
	})
	t.Run("write error", func(t *testing.T) {
		c, s := start(t)
		s.CloseNow()
		for i := 0; i < 1000; i++ {
			if c.Send(ctx, ws.MessageBinary, make([]byte, 64<<10), nil) != nil {
				break
			}
		}
		<-c.Done()
		c.CloseNow()
	})
	t.Run("peer vanished", func(t *testing.T) {
		c, s := start(t)
		s.CloseNow()
		for range c.Messages() {
		}
		c.CloseNow()
	})
	t.Run("normal close", func(t *testing.T) {
		c, s := start(t)
		go readAllUntilClose(s)
		if err := c.Close(ws.StatusNormalClosure, ""); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("read limit", func(t *testing.T) {
		c, s := pair(t, true, nil, &ws.DialOptions{Options: ws.Options{ReadLimit: 10, PingInterval: 10 * time.Millisecond}})
		msgs := c.Messages()
		s.Write(ctx, ws.MessageText, []byte("more than ten bytes"))
		for range msgs {
		}
		if !errors.Is(c.Err(), ws.ErrMessageTooBig) {
			t.Fatal(c.Err())
		}
		c.CloseNow()
	})
}

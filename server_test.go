//go:build !js

package ws_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
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

// stalledHandshake starts s.Serve and opens a connection to it that
// sends half a request, then nothing. It returns the connection, the
// function that stops Serve, and Serve's result.
func stalledHandshake(t *testing.T, s *ws.Server) (net.Conn, context.CancelFunc, <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	io.WriteString(nc, "GET / HTTP/1.1\r\nHost: x\r\n")
	return nc, cancel, done
}

func TestServerHandshakeTimeout(t *testing.T) {
	s := &ws.Server{HandshakeTimeout: 100 * time.Millisecond, Handler: func(c *ws.Conn, r *http.Request) {}}
	nc, cancel, done := stalledHandshake(t, s)
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

// serveOn runs s.Serve on ln until the test ends.
func serveOn(t *testing.T, s *ws.Server, ln net.Listener) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
}

// rawExchange sends req on a new connection to addr and returns all the
// server sent until it closed the connection.
func rawExchange(t *testing.T, addr, req string) string {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(nc, req)
	b, err := io.ReadAll(nc)
	if err != nil {
		t.Fatalf("reading the answer to %q: %v", req, err)
	}
	return string(b)
}

// TestServeAnswers checks the answers of Serve's own accept loop to
// requests that are not WebSocket handshakes: the refusal that Accept
// makes, on a connection that then closes.
func TestServeAnswers(t *testing.T) {
	refused := make(chan *ws.HandshakeError, 10)
	s := &ws.Server{
		Handler: func(c *ws.Conn, r *http.Request) {},
		Options: ws.AcceptOptions{Refuse: func(w http.ResponseWriter, r *http.Request, err *ws.HandshakeError) {
			refused <- err
			w.Header().Set("X-Why", "custom")
			w.WriteHeader(http.StatusTeapot)
			io.WriteString(w, "no\n")
		}},
	}
	plain := &ws.Server{Handler: func(c *ws.Conn, r *http.Request) {}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveOn(t, plain, ln)
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveOn(t, s, ln2)

	got := rawExchange(t, ln.Addr().String(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	for _, want := range []string{"HTTP/1.1 426 Upgrade Required\r\n", "\r\nConnection: Upgrade, close\r\n", "\r\nUpgrade: websocket\r\n", "\r\nDate: ", "\r\n\r\nthis endpoint speaks WebSocket only"} {
		if !strings.Contains(got, want) {
			t.Errorf("plain GET: the answer %q lacks %q", got, want)
		}
	}
	got = rawExchange(t, ln.Addr().String(), "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
	if !strings.HasPrefix(got, "HTTP/1.1 405 ") || !strings.HasSuffix(got, "\r\n\r\n") {
		t.Errorf("HEAD: got %q, want a 405 without a body", got)
	}
	got = rawExchange(t, ln.Addr().String(), "NONSENSE\r\n\r\n")
	if !strings.HasPrefix(got, "HTTP/1.1 400 Bad Request\r\n") {
		t.Errorf("a malformed request: got %q, want 400", got)
	}
	for req, want := range map[string]string{
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n":             "HTTP/1.1 505 ",
		"GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n": "HTTP/1.1 400 ",
	} {
		if got := rawExchange(t, ln.Addr().String(), req); !strings.HasPrefix(got, want) {
			t.Errorf("%q: got %q, want %q", req, got, want)
		}
	}
	// A head longer than net/http allows (1 MiB) is cut off with 431, not
	// read without end.
	// The client writes while it reads: the server stops reading at the
	// limit.
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	go io.WriteString(nc, "GET / HTTP/1.1\r\nHost: x\r\nX-Long: "+strings.Repeat("a", 2<<20)+"\r\n\r\n")
	status, err := bufio.NewReader(nc).ReadString('\n')
	if !strings.HasPrefix(status, "HTTP/1.1 431 ") {
		t.Errorf("a 2 MiB header: got %q, %v; want 431", status, err)
	}
	got = rawExchange(t, ln2.Addr().String(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if !strings.HasPrefix(got, "HTTP/1.1 418 I'm a teapot\r\n") || !strings.Contains(got, "\r\nX-Why: custom\r\n") || !strings.HasSuffix(got, "\r\n\r\nno\n") {
		t.Errorf("Refuse's answer: got %q", got)
	}
	if he := <-refused; he.Status != http.StatusUpgradeRequired {
		t.Errorf("Refuse got %v", he)
	}
	st := plain.Stats()
	if st.Refused.Upgrade != 1 || st.Refused.Method != 1 {
		t.Errorf("refusals counted: %+v", st.Refused)
	}
}

// TestServeRequest checks the handshake request that Serve hands to
// Handler: its context never ends, and RemoteAddr and TLS are set.
func TestServeRequest(t *testing.T) {
	ts := httptest.NewTLSServer(http.NotFoundHandler())
	certs, pool := ts.TLS.Certificates, certPool(ts)
	ts.Close()
	type seen struct {
		remote string
		tls    bool
		ctxErr error
		host   string
	}
	got := make(chan seen, 1)
	s := &ws.Server{Handler: func(c *ws.Conn, r *http.Request) {
		if r.Body != http.NoBody {
			t.Errorf("the handshake request's Body is %T, want http.NoBody", r.Body)
		}
		got <- seen{r.RemoteAddr, r.TLS != nil, r.Context().Err(), r.Host}
		c.Write(context.Background(), ws.MessageText, []byte("hi"))
		readAllUntilClose(c)
	}}
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := tls.NewListener(tcp, &tls.Config{Certificates: certs, NextProtos: []string{"h2", "http/1.1"}})
	serveOn(t, s, ln)
	url := "wss://example.com/"
	c, _, err := ws.Dial(context.Background(), url, &ws.DialOptions{
		TLSConfig: &tls.Config{RootCAs: pool},
		NetDial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, tcp.Addr().String())
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, msg, err := c.Read(context.Background())
	if err != nil || string(msg) != "hi" {
		t.Fatalf("Read: %q, %v", msg, err)
	}
	sn := <-got
	if !sn.tls || sn.ctxErr != nil || sn.host != "example.com" {
		t.Errorf("request: %+v", sn)
	}
	if sn.remote != c.LocalAddr().String() {
		t.Errorf("RemoteAddr %q, want the client's %q", sn.remote, c.LocalAddr())
	}
	c.Close(ws.StatusNormalClosure, "")

	// A client that chooses HTTP/2 is served too: a GET, which is no
	// extended CONNECT, gets 405 over HTTP/2.
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "example.com"}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get("https://" + tcp.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 2 || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("over HTTP/2: %s %s, want HTTP/2 and 405", resp.Proto, resp.Status)
	}
}

// TestServeShutdownDuringHandshake checks that Serve, told to stop,
// closes the connections whose handshake is under way at once rather
// than waiting for their HandshakeTimeout.
func TestServeShutdownDuringHandshake(t *testing.T) {
	s := &ws.Server{Handler: func(c *ws.Conn, r *http.Request) {}}
	nc, cancel, done := stalledHandshake(t, s)
	time.Sleep(50 * time.Millisecond) // the request is on its way in
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return; it waits for a handshake that stalls")
	}
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := nc.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the stalled connection was not closed: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("shutting down took %v", d)
	}
}

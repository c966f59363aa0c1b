//go:build !js

package ws_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

// rawHTTPServer answers every connection with answer, which writes what
// it likes after the request has been read, until the test ends.
func rawHTTPServer(t *testing.T, answer func(nc net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	go func() {
		defer close(done)
		var conns []net.Conn
		defer func() {
			for _, nc := range conns {
				nc.Close()
			}
		}()
		finished := make(chan struct{})
		defer func() {
			for range conns {
				<-finished
			}
		}()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, nc)
			go func() {
				defer func() { finished <- struct{}{} }()
				br := bufio.NewReader(nc)
				if _, err := http.ReadRequest(br); err != nil {
					return
				}
				answer(nc)
			}()
		}
	}()
	return "ws://" + ln.Addr().String() + "/"
}

// endless writes chunk until the connection fails.
func endless(nc net.Conn, head, chunk string) {
	if _, err := io.WriteString(nc, head); err != nil {
		return
	}
	for {
		if _, err := io.WriteString(nc, chunk); err != nil {
			return
		}
	}
}

// heapGrowth returns how much the heap in use grew while f ran, sampled
// every millisecond.
func heapGrowth(f func()) uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	stop := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var max uint64
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			max = maxU(max, ms.HeapAlloc)
			select {
			case <-stop:
				peak <- max
				return
			case <-t.C:
			}
		}
	}()
	f()
	close(stop)
	p := <-peak
	if p < base {
		return 0
	}
	return p - base
}

func maxU(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

func TestDialResponseHeadBounded(t *testing.T) {
	t.Run("header lines without end", func(t *testing.T) {
		url := rawHTTPServer(t, func(nc net.Conn) {
			endless(nc, "HTTP/1.1 101 Switching Protocols\r\n", "X-Filler: "+strings.Repeat("a", 100)+"\r\n")
		})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var err error
		start := time.Now()
		grew := heapGrowth(func() { _, _, err = ws.Dial(ctx, url, nil) })
		if !errors.Is(err, ws.ErrHeaderTooLarge) {
			t.Fatalf("got %v", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("took %v", d)
		}
		if grew > 4<<20 {
			t.Errorf("heap grew by %d KiB", grew>>10)
		}
		t.Logf("%v after %v, heap +%d KiB", err, time.Since(start), grew>>10)
	})
	t.Run("a smaller bound", func(t *testing.T) {
		url := rawHTTPServer(t, func(nc net.Conn) {
			io.WriteString(nc, "HTTP/1.1 101 Switching Protocols\r\nX-Filler: "+strings.Repeat("a", 2000)+"\r\n\r\n")
		})
		_, _, err := ws.Dial(context.Background(), url, &ws.DialOptions{MaxResponseHeaderBytes: 1000})
		if !errors.Is(err, ws.ErrHeaderTooLarge) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("one line that never ends, with a deadline", func(t *testing.T) {
		url := rawHTTPServer(t, func(nc net.Conn) {
			io.WriteString(nc, "HTTP/1.1 101 Switching Protocols\r\nX-Filler: ")
			for i := 0; i < 5000; i++ {
				if _, err := io.WriteString(nc, "a"); err != nil {
					return
				}
				time.Sleep(time.Millisecond)
			}
		})
		const d = 300 * time.Millisecond
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		start := time.Now()
		_, _, err := ws.Dial(ctx, url, nil)
		took := time.Since(start)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v", err)
		}
		if took > d+150*time.Millisecond {
			t.Errorf("returned %v after the deadline", took-d)
		}
		if !strings.Contains(err.Error(), strings.TrimPrefix(strings.TrimSuffix(url, "/"), "ws://")) {
			t.Errorf("the error does not name the address: %v", err)
		}
	})
}

func TestDialRefusalBodyBounded(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		answer func(nc net.Conn)
	}{
		{"401 with an endless chunked body", 401, func(nc net.Conn) {
			endless(nc, "HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\n\r\n", "400\r\n"+strings.Repeat("x", 0x400)+"\r\n")
		}},
		{"403 with a body of 10^12 bytes", 403, func(nc net.Conn) {
			endless(nc, "HTTP/1.1 403 Forbidden\r\nContent-Length: 1000000000000\r\n\r\n", strings.Repeat("x", 1024))
		}},
		{"403 whose body stalls", 403, func(nc net.Conn) {
			io.WriteString(nc, "HTTP/1.1 403 Forbidden\r\nContent-Length: 100\r\n\r\nnot all")
			io.Copy(io.Discard, nc)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := rawHTTPServer(t, tc.answer)
			start := time.Now()
			// No deadline: the dial must end by itself.
			_, resp, err := ws.Dial(context.Background(), url, nil)
			var he *ws.HandshakeError
			if !errors.As(err, &he) || he.Status != tc.status || resp == nil {
				t.Fatalf("got %v", err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			body, _ := io.ReadAll(resp.Body)
			if len(body) == 0 || len(body) > 16<<10 {
				t.Errorf("kept %d bytes of the body", len(body))
			}
		})
	}
}

func TestDialContextCause(t *testing.T) {
	url := rawHTTPServer(t, func(nc net.Conn) { io.Copy(io.Discard, nc) })
	cause := errors.New("the user gave up")
	ctx, cancel := context.WithTimeoutCause(context.Background(), 100*time.Millisecond, cause)
	defer cancel()
	_, _, err := ws.Dial(ctx, url, nil)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, cause) {
		t.Fatalf("got %v", err)
	}
}

func TestDialShowsRejection(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer good" {
			http.Error(w, "who are you?", http.StatusUnauthorized)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "s", Value: "1"})
		c, err := ws.Accept(w, r, &ws.AcceptOptions{ResponseHeader: http.Header{"Set-Cookie": {"session=abc"}}})
		if err == nil {
			c.Close(ws.StatusNormalClosure, "")
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	_, resp, err := ws.Dial(ctx, srv.URL, nil)
	var he *ws.HandshakeError
	if !errors.As(err, &he) || he.Status != 401 || resp == nil || resp.StatusCode != 401 {
		t.Fatalf("err %v resp %v", err, resp)
	}
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "who are you?\n" {
		t.Fatalf("body %q", body)
	}
	c, resp, err := ws.Dial(ctx, srv.URL, &ws.DialOptions{Header: http.Header{"Authorization": {"Bearer good"}}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 101 || resp.Header.Get("Set-Cookie") != "session=abc" {
		t.Fatalf("101 response: %v %v", resp.Status, resp.Header)
	}
	c.Read(ctx)
}

func TestDialContext(t *testing.T) {
	// A server that accepts TCP but never answers the handshake.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns sync.WaitGroup
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer conns.Done()
				io.Copy(io.Discard, nc)
				nc.Close()
			}()
		}
	}()
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, _, err := ws.Dial(ctx, "ws://"+ln.Addr().String(), nil)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		_, _, err := ws.Dial(ctx, "ws://"+ln.Addr().String(), nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
	})
	ln.Close()
	conns.Wait()
}

// serveUnix serves h on a Unix socket in a temporary directory, with TLS
// if useTLS.
func serveUnix(t *testing.T, h http.Handler, useTLS bool) (string, *httptest.Server) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Skipf("no Unix sockets: %v", err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	if useTLS {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return path, srv
}

func TestDialUnixSocket(t *testing.T) {
	h := &dialTestHandler{}
	sock, _ := serveUnix(t, h, false)
	for _, c := range []struct {
		url        string
		opts       *ws.DialOptions
		uri, host  string
		wantDialed string
	}{
		{url: "ws+unix:" + sock + ":/chat?room=1", uri: "/chat?room=1", host: "localhost"},
		{url: "ws+unix://" + sock + ":/chat", uri: "/chat", host: "localhost"},
		{url: "ws+unix:" + sock, uri: "/", host: "localhost"},
		{url: "ws+unix:" + sock + ":", uri: "/", host: "localhost"},
		{url: "ws+unix:" + sock + ":/x", opts: &ws.DialOptions{Host: "app.example"}, uri: "/x", host: "app.example"},
		{url: "ws://app.example/chat?a=b", opts: &ws.DialOptions{UnixSocket: sock}, uri: "/chat?a=b", host: "app.example"},
		// UnixSocket wins over the environment's proxy and goes through NetDial.
		{url: "ws://app.example/", opts: &ws.DialOptions{UnixSocket: sock, Proxy: fixedProxy("http://127.0.0.1:1")}, uri: "/", host: "app.example"},
		{url: "ws+unix:" + sock, opts: &ws.DialOptions{}, uri: "/", host: "localhost", wantDialed: "unix " + sock},
	} {
		t.Run(c.url, func(t *testing.T) {
			opts := c.opts
			if opts == nil {
				opts = &ws.DialOptions{}
			}
			var dialed string
			if c.wantDialed != "" {
				opts.NetDial = func(ctx context.Context, network, addr string) (net.Conn, error) {
					dialed = network + " " + addr
					var d net.Dialer
					return d.DialContext(ctx, network, addr)
				}
			}
			conn, _, err := ws.Dial(dialCtx(t), c.url, opts)
			if err != nil {
				t.Fatal(err)
			}
			echoOnce(t, conn)
			r := h.last(t)
			if r.URL.RequestURI() != c.uri || r.Host != c.host {
				t.Fatalf("server saw %s with Host %q, want %s and %q", r.URL.RequestURI(), r.Host, c.uri, c.host)
			}
			if dialed != c.wantDialed {
				t.Fatalf("NetDial got %q, want %q", dialed, c.wantDialed)
			}
		})
	}
	t.Run("relative redirect keeps the socket", func(t *testing.T) {
		mux := http.NewServeMux()
		mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/new", http.StatusFound) })
		mux.Handle("/new", h)
		sock, _ := serveUnix(t, mux, false)
		conn, _, err := ws.Dial(dialCtx(t), "ws+unix:"+sock+":/old", &ws.DialOptions{MaxRedirects: 1})
		if err != nil {
			t.Fatal(err)
		}
		echoOnce(t, conn)
		if r := h.last(t); r.URL.Path != "/new" {
			t.Fatalf("server saw %s", r.URL)
		}
	})
	t.Run("no socket path", func(t *testing.T) {
		if _, _, err := ws.Dial(dialCtx(t), "ws+unix::/chat", nil); err == nil || !strings.Contains(err.Error(), "no socket path") {
			t.Fatalf("got %v", err)
		}
	})
}

func TestDialUnixSocketTLS(t *testing.T) {
	h := &dialTestHandler{}
	sock, srv := serveUnix(t, h, true)
	cfg := &tls.Config{RootCAs: certPool(srv), ServerName: "example.com"}
	for _, c := range []struct {
		url  string
		opts *ws.DialOptions
	}{
		{"wss+unix:" + sock + ":/secure", &ws.DialOptions{TLSConfig: cfg}},
		{"wss://example.com/secure", &ws.DialOptions{TLSConfig: &tls.Config{RootCAs: certPool(srv)}, UnixSocket: sock}},
	} {
		t.Run(c.url, func(t *testing.T) {
			conn, _, err := ws.Dial(dialCtx(t), c.url, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			echoOnce(t, conn)
			if r := h.last(t); r.URL.Path != "/secure" || r.TLS == nil {
				t.Fatalf("server saw %s, TLS %v", r.URL, r.TLS != nil)
			}
		})
	}
}

func TestDialProtocolVersion8(t *testing.T) {
	h := &dialTestHandler{}
	srv := httptest.NewServer(h)
	defer srv.Close()
	host := srv.Listener.Addr().String()
	// dialVersion dials with opts, checks the echo, and returns the
	// request the server saw.
	dialVersion := func(t *testing.T, opts *ws.DialOptions) *http.Request {
		conn, _, err := ws.Dial(dialCtx(t), srv.URL, opts)
		if err != nil {
			t.Fatal(err)
		}
		echoOnce(t, conn)
		return h.last(t)
	}
	t.Run("accepted", func(t *testing.T) {
		r := dialVersion(t, &ws.DialOptions{ProtocolVersion: 8, Origin: "http://" + host})
		if r.Header.Get("Sec-WebSocket-Version") != "8" || r.Header.Get("Sec-WebSocket-Origin") != "http://"+host || r.Header.Get("Origin") != "" {
			t.Fatalf("request headers %v", r.Header)
		}
	})
	t.Run("the server checks Sec-WebSocket-Origin", func(t *testing.T) {
		_, _, err := ws.Dial(dialCtx(t), srv.URL, &ws.DialOptions{ProtocolVersion: 8, Origin: "https://evil.example"})
		var he *ws.HandshakeError
		if !errors.As(err, &he) || he.Status != http.StatusForbidden {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("13 by default", func(t *testing.T) {
		r := dialVersion(t, &ws.DialOptions{Origin: "http://" + host})
		if r.Header.Get("Sec-WebSocket-Version") != "13" || r.Header.Get("Origin") != "http://"+host || r.Header.Get("Sec-WebSocket-Origin") != "" {
			t.Fatalf("request headers %v", r.Header)
		}
	})
	t.Run("unsupported", func(t *testing.T) {
		if _, _, err := ws.Dial(dialCtx(t), srv.URL, &ws.DialOptions{ProtocolVersion: 7}); err == nil || !strings.Contains(err.Error(), "ProtocolVersion 7") {
			t.Fatalf("got %v", err)
		}
	})
}

func TestDialCookieJar(t *testing.T) {
	h := &dialTestHandler{opts: &ws.AcceptOptions{ResponseHeader: http.Header{"Set-Cookie": {"session=abc; Path=/"}}}}
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "hop", Value: "1", Path: "/"})
		http.Redirect(w, r, "/", http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	opts := &ws.DialOptions{Jar: jar, Header: http.Header{"Cookie": {"pref=dark"}}, MaxRedirects: 1}
	u, _ := url.Parse(srv.URL)

	conn, resp, err := ws.Dial(dialCtx(t), srv.URL, opts)
	if err != nil {
		t.Fatal(err)
	}
	echoOnce(t, conn)
	if got := h.last(t).Header.Values("Cookie"); len(got) != 1 || got[0] != "pref=dark" {
		t.Fatalf("first dial sent Cookie %q", got)
	}
	if len(resp.Cookies()) != 1 {
		t.Fatalf("101 response cookies %v", resp.Cookies())
	}
	if cs := jar.Cookies(u); len(cs) != 1 || cs[0].String() != "session=abc" {
		t.Fatalf("jar has %v", cs)
	}

	conn, _, err = ws.Dial(dialCtx(t), srv.URL, opts)
	if err != nil {
		t.Fatal(err)
	}
	echoOnce(t, conn)
	if got := h.last(t).Header.Values("Cookie"); len(got) != 1 || got[0] != "pref=dark; session=abc" {
		t.Fatalf("second dial sent Cookie %q", got)
	}

	// A cookie set by a redirect goes with the next hop.
	conn, _, err = ws.Dial(dialCtx(t), srv.URL+"/login", &ws.DialOptions{Jar: jar, MaxRedirects: 1})
	if err != nil {
		t.Fatal(err)
	}
	echoOnce(t, conn)
	r := h.last(t)
	if c, err := r.Cookie("hop"); err != nil || c.Value != "1" {
		t.Fatalf("redirect's cookie not sent: %v", r.Header.Values("Cookie"))
	}
	if c, err := r.Cookie("session"); err != nil || c.Value != "abc" {
		t.Fatalf("jar's cookie not sent: %v", r.Header.Values("Cookie"))
	}
}

package ws_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seed-d6ba7b20/ws"
)

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
	t.Run("accepted", func(t *testing.T) {
		conn, _, err := ws.Dial(dialCtx(t), srv.URL, &ws.DialOptions{ProtocolVersion: 8, Origin: "http://" + host})
		if err != nil {
			t.Fatal(err)
		}
		echoOnce(t, conn)
		r := h.last(t)
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
		conn, _, err := ws.Dial(dialCtx(t), srv.URL, &ws.DialOptions{Origin: "http://" + host})
		if err != nil {
			t.Fatal(err)
		}
		echoOnce(t, conn)
		r := h.last(t)
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

//go:build !js

package ws_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

// startProxy serves p over HTTP or, with useTLS, HTTPS.
func startProxy(t *testing.T, p *connectProxy, useTLS bool) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	if useTLS {
		srv = httptest.NewTLSServer(p)
	} else {
		srv = httptest.NewServer(p)
	}
	t.Cleanup(func() {
		srv.Close()
		p.wg.Wait()
	})
	return srv
}

func TestDialHTTPProxy(t *testing.T) {
	for _, c := range []struct {
		name              string
		proxyTLS, wss     bool
		auth              bool
		wrongCredentials  bool
		wantProxyScheme   string
		wantConnectTarget string
	}{
		{name: "plain proxy, ws"},
		{name: "plain proxy, wss", wss: true},
		{name: "plain proxy with auth", auth: true},
		{name: "wrong credentials", auth: true, wrongCredentials: true},
		{name: "TLS proxy, ws", proxyTLS: true},
		{name: "TLS proxy, wss", proxyTLS: true, wss: true},
		{name: "TLS proxy with auth, wss", proxyTLS: true, wss: true, auth: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := &dialTestHandler{}
			var backend *httptest.Server
			if c.wss {
				backend = httptest.NewTLSServer(h)
			} else {
				backend = httptest.NewServer(h)
			}
			defer backend.Close()
			p := &connectProxy{}
			if c.auth {
				p.user, p.pass = "alice", "s3cret:!"
			}
			psrv := startProxy(t, p, c.proxyTLS)

			pu, _ := url.Parse(psrv.URL)
			if c.auth {
				pass := p.pass
				if c.wrongCredentials {
					pass = "wrong"
				}
				pu.User = url.UserPassword(p.user, pass)
			}
			var proxied []string
			opts := &ws.DialOptions{
				Proxy: func(r *http.Request) (*url.URL, error) {
					proxied = append(proxied, r.URL.String())
					return pu, nil
				},
				ProxyConnectHeader: http.Header{"X-Proxy-Note": {"hi"}},
				Header:             http.Header{"X-Server-Note": {"there"}},
			}
			if c.proxyTLS {
				opts.ProxyTLSConfig = &tls.Config{RootCAs: certPool(psrv)}
			}
			if c.wss {
				opts.TLSConfig = &tls.Config{RootCAs: certPool(backend)}
			}
			target := strings.Replace(backend.URL, "http", "ws", 1) + "/path?q=1"
			conn, resp, err := ws.Dial(dialCtx(t), target, opts)

			wantScheme := "http://"
			if c.wss {
				wantScheme = "https://"
			}
			if len(proxied) != 1 || proxied[0] != wantScheme+backend.Listener.Addr().String()+"/path?q=1" {
				t.Fatalf("Proxy got %q", proxied)
			}
			preq := p.last(t)
			if preq.Method != http.MethodConnect || preq.Host != backend.Listener.Addr().String() {
				t.Fatalf("proxy saw %s %s", preq.Method, preq.Host)
			}
			if preq.Header.Get("X-Proxy-Note") != "hi" || preq.Header.Get("X-Server-Note") != "" {
				t.Fatalf("CONNECT headers %v", preq.Header)
			}
			if c.wrongCredentials {
				if err == nil {
					conn.CloseNow()
					t.Fatal("dial through a proxy with wrong credentials succeeded")
				}
				if !strings.Contains(err.Error(), "407") {
					t.Fatalf("error does not name the status: %v", err)
				}
				if resp == nil || resp.StatusCode != http.StatusProxyAuthRequired || resp.Request.Method != http.MethodConnect {
					t.Fatalf("response %+v", resp)
				}
				body, _ := io.ReadAll(resp.Body)
				if !strings.Contains(string(body), "proxy credentials required") {
					t.Fatalf("body %q", body)
				}
				var he *ws.HandshakeError
				if errors.As(err, &he) {
					t.Fatal("a proxy's refusal is not a HandshakeError")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusSwitchingProtocols {
				t.Fatalf("status %d", resp.StatusCode)
			}
			sreq := h.last(t)
			if sreq.URL.RequestURI() != "/path?q=1" || sreq.Header.Get("X-Server-Note") != "there" ||
				sreq.Header.Get("Proxy-Authorization") != "" || sreq.Header.Get("X-Proxy-Note") != "" {
				t.Fatalf("server saw %s %v", sreq.URL, sreq.Header)
			}
			echoOnce(t, conn)
		})
	}
}

func TestDialProxyFailures(t *testing.T) {
	t.Run("proxy refuses with 502", func(t *testing.T) {
		p := &connectProxy{dial: func(string) (net.Conn, error) { return nil, errors.New("no route") }}
		psrv := startProxy(t, p, false)
		_, resp, err := ws.Dial(dialCtx(t), "ws://127.0.0.1:1/", &ws.DialOptions{Proxy: fixedProxy(psrv.URL)})
		if err == nil || !strings.Contains(err.Error(), "502 Bad Gateway") || resp == nil || resp.StatusCode != 502 {
			t.Fatalf("err %v resp %v", err, resp)
		}
	})
	t.Run("SOCKS5 proxy URL", func(t *testing.T) {
		_, _, err := ws.Dial(dialCtx(t), "ws://127.0.0.1:1/", &ws.DialOptions{Proxy: fixedProxy("socks5://127.0.0.1:1080")})
		if err == nil || !strings.Contains(err.Error(), "NetDial") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("proxy func error", func(t *testing.T) {
		boom := errors.New("boom")
		_, _, err := ws.Dial(dialCtx(t), "ws://127.0.0.1:1/", &ws.DialOptions{
			Proxy: func(*http.Request) (*url.URL, error) { return nil, boom },
		})
		if !errors.Is(err, boom) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("proxy never answers", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		held := make(chan net.Conn, 1)
		go func() {
			nc, err := ln.Accept()
			if err == nil {
				held <- nc
			}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, _, err = ws.Dial(ctx, "ws://127.0.0.1:1/", &ws.DialOptions{Proxy: fixedProxy("http://" + ln.Addr().String())})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v", err)
		}
		(<-held).Close()
	})
	t.Run("NoProxy", func(t *testing.T) {
		if u, err := ws.NoProxy(nil); u != nil || err != nil {
			t.Fatal(u, err)
		}
	})
}

// TestDialSOCKS5 shows a SOCKS5 proxy through NetDial.
func TestDialSOCKS5(t *testing.T) {
	s := newSOCKS5Server(t)
	h := &dialTestHandler{}
	backend := httptest.NewServer(h)
	defer backend.Close()
	tlsBackend := httptest.NewTLSServer(h)
	defer tlsBackend.Close()
	port := backend.URL[strings.LastIndex(backend.URL, ":")+1:]
	for _, c := range []struct{ url, want string }{
		{"ws://" + backend.Listener.Addr().String() + "/", "1 " + backend.Listener.Addr().String()},
		{"ws://localhost:" + port + "/", "3 localhost:" + port},
		{"wss://" + tlsBackend.Listener.Addr().String() + "/", "1 " + tlsBackend.Listener.Addr().String()},
	} {
		t.Run(c.url, func(t *testing.T) {
			conn, _, err := ws.Dial(dialCtx(t), c.url, &ws.DialOptions{
				NetDial:   socks5Dial(s.ln.Addr().String()),
				TLSConfig: &tls.Config{RootCAs: certPool(tlsBackend)},
			})
			if err != nil {
				t.Fatal(err)
			}
			echoOnce(t, conn)
			s.mu.Lock()
			got := s.dests[len(s.dests)-1]
			s.mu.Unlock()
			if got != c.want {
				t.Fatalf("SOCKS5 server saw %q, want %q", got, c.want)
			}
		})
	}
}

// TestDialProxyFromEnvironment runs in a child process of its own, since
// http.ProxyFromEnvironment reads the environment once per process.
func TestDialProxyFromEnvironment(t *testing.T) {
	if os.Getenv("WS_TEST_PROXY_ENV_CHILD") != "1" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestDialProxyFromEnvironment$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "WS_TEST_PROXY_ENV_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestDialProxyFromEnvironment") {
			t.Fatalf("child process: %v\n%s", err, out)
		}
		return
	}

	h := &dialTestHandler{}
	backend := httptest.NewServer(h)
	defer backend.Close()
	tlsBackend := httptest.NewTLSServer(h)
	defer tlsBackend.Close()
	// Host names that are not loopback, so the environment's proxy
	// applies; the proxies resolve them to the test's servers.
	route := func(addr string) (net.Conn, error) {
		switch addr {
		case "plain.test:80", "direct.test:80":
			return net.Dial("tcp", backend.Listener.Addr().String())
		case "secure.test:443":
			return net.Dial("tcp", tlsBackend.Listener.Addr().String())
		}
		return nil, errors.New("unknown host " + addr)
	}
	httpProxy := &connectProxy{dial: route}
	httpsProxy := &connectProxy{dial: route}
	hp := startProxy(t, httpProxy, false)
	sp := startProxy(t, httpsProxy, false)
	for _, k := range []string{"http_proxy", "https_proxy", "no_proxy", "REQUEST_METHOD"} {
		os.Unsetenv(k)
	}
	t.Setenv("HTTP_PROXY", hp.URL)
	t.Setenv("HTTPS_PROXY", sp.URL)
	t.Setenv("NO_PROXY", "direct.test")

	t.Run("ws uses HTTP_PROXY", func(t *testing.T) {
		conn, _, err := ws.Dial(dialCtx(t), "ws://plain.test/chat", nil)
		if err != nil {
			t.Fatal(err)
		}
		echoOnce(t, conn)
		if got := httpProxy.connects(); len(got) != 1 || got[0] != "CONNECT plain.test:80" {
			t.Fatalf("HTTP_PROXY saw %q", got)
		}
		if r := h.last(t); r.Host != "plain.test" || r.URL.Path != "/chat" {
			t.Fatalf("server saw Host %q path %q", r.Host, r.URL.Path)
		}
	})
	t.Run("wss uses HTTPS_PROXY", func(t *testing.T) {
		conn, _, err := ws.Dial(dialCtx(t), "wss://secure.test/", &ws.DialOptions{
			TLSConfig: &tls.Config{RootCAs: certPool(tlsBackend), ServerName: "example.com"},
		})
		if err != nil {
			t.Fatal(err)
		}
		echoOnce(t, conn)
		if got := httpsProxy.connects(); len(got) != 1 || got[0] != "CONNECT secure.test:443" {
			t.Fatalf("HTTPS_PROXY saw %q", got)
		}
	})
	direct := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == "direct.test:80" || addr == "plain.test:80" {
			addr = backend.Listener.Addr().String()
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	// unproxied dials url with opts and checks that the proxy saw no
	// CONNECT for it.
	unproxied := func(t *testing.T, url string, opts *ws.DialOptions) {
		n := len(httpProxy.connects())
		conn, _, err := ws.Dial(dialCtx(t), url, opts)
		if err != nil {
			t.Fatal(err)
		}
		echoOnce(t, conn)
		if got := httpProxy.connects(); len(got) != n {
			t.Fatalf("proxy used: %q", got)
		}
	}
	t.Run("NO_PROXY", func(t *testing.T) {
		unproxied(t, "ws://direct.test/", &ws.DialOptions{NetDial: direct, Proxy: http.ProxyFromEnvironment})
	})
	t.Run("NetDial turns the default off", func(t *testing.T) {
		unproxied(t, "ws://plain.test/", &ws.DialOptions{NetDial: direct})
	})
	t.Run("NetDial dials the proxy when Proxy is set", func(t *testing.T) {
		var dialed []string
		conn, _, err := ws.Dial(dialCtx(t), "ws://plain.test/", &ws.DialOptions{
			Proxy: http.ProxyFromEnvironment,
			NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
				dialed = append(dialed, addr)
				var d net.Dialer
				return d.DialContext(ctx, network, addr)
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		echoOnce(t, conn)
		if len(dialed) != 1 || dialed[0] != hp.Listener.Addr().String() {
			t.Fatalf("NetDial dialed %q", dialed)
		}
	})
	t.Run("NoProxy", func(t *testing.T) {
		n := len(httpProxy.connects())
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		// Without the proxy, plain.test does not resolve.
		if conn, _, err := ws.Dial(ctx, "ws://plain.test/", &ws.DialOptions{Proxy: ws.NoProxy}); err == nil {
			conn.CloseNow()
			t.Fatal("dial without proxy reached plain.test")
		}
		if got := httpProxy.connects(); len(got) != n {
			t.Fatalf("proxy used despite NoProxy: %q", got)
		}
	})
}

//go:build !js

// Command proxy connects to a WebSocket server through an HTTP proxy:
// "How to connect via a proxy?" from Node's ws README, which passes an
// agent such as https-proxy-agent. Here DialOptions.Proxy names the proxy;
// Dial asks it for a tunnel to the server with an HTTP CONNECT request and
// runs the WebSocket handshake (and TLS, for wss) through the tunnel.
//
// Without Proxy, Dial uses the proxy that the HTTPS_PROXY (for wss) or
// HTTP_PROXY (for ws) environment variable names, as net/http does.
//
// With no flags it starts an echo server and a tiny CONNECT proxy of its
// own on 127.0.0.1, and shows the traffic went through the proxy:
//
//	go run ./examples/proxy
//	go run ./examples/proxy -proxy http://user:password@proxy.example:3128 -url wss://echo.example/
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/seed-d6ba7b20/ws"
	"golang.org/x/sync/errgroup"
)

func main() {
	serverURL := flag.String("url", "", "echo server to reach (default: start one on 127.0.0.1)")
	proxyURL := flag.String("proxy", "", "HTTP proxy to go through (default: start one on 127.0.0.1)")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := run(ctx, *serverURL, *proxyURL, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run sends a message to the echo server at serverURL through the proxy
// at proxyURL, starting either on 127.0.0.1 when it is empty.
func run(ctx context.Context, serverURL, proxyURL string, out io.Writer) error {
	if serverURL == "" {
		srv := httptest.NewServer(http.HandlerFunc(echo))
		defer srv.Close()
		serverURL = "ws://" + srv.Listener.Addr().String() + "/"
	}
	var local *connectProxy
	if proxyURL == "" {
		local = &connectProxy{}
		srv := httptest.NewServer(local)
		defer srv.Close()
		proxyURL = srv.URL
	}
	proxy, err := url.Parse(proxyURL)
	if err != nil {
		return err
	}

	c, _, err := ws.Dial(ctx, serverURL, &ws.DialOptions{
		// http.ProxyURL always answers with this proxy. (The environment's
		// proxy, by contrast, is never used for localhost.)
		Proxy: http.ProxyURL(proxy),
	})
	if err != nil {
		return err
	}
	defer c.CloseNow()
	fmt.Fprintf(out, "connected to %s through %s\n", serverURL, proxy.Redacted())

	if err := c.Write(ctx, ws.MessageText, []byte("hello through the proxy")); err != nil {
		return err
	}
	_, reply, err := c.Read(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "received: %s\n", reply)
	if err := c.Close(ws.StatusNormalClosure, ""); err != nil {
		return err
	}

	if local != nil {
		fmt.Fprintf(out, "the proxy opened tunnels to %v\n", local.Tunnels())
	}
	return nil
}

// connectProxy is a minimal HTTP proxy that only tunnels: for each CONNECT
// request it connects to the host asked for and copies bytes both ways.
// It remembers the hosts, to show the traffic went through it. (A real
// proxy also checks who may use it, and where to.)
type connectProxy struct {
	mu      sync.Mutex
	tunnels []string
}

// Tunnels returns the hosts the proxy has opened tunnels to.
func (p *connectProxy) Tunnels() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.tunnels...)
}

func (p *connectProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "this proxy only tunnels (CONNECT)", http.StatusMethodNotAllowed)
		return
	}
	// For CONNECT, r.Host is where the client wants to go: "host:port".
	server, err := net.DialTimeout("tcp", r.Host, 10*time.Second)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer server.Close()

	// Take the client's connection over from net/http, and tell the
	// client the tunnel is open.
	client, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer client.Close()
	p.mu.Lock()
	p.tunnels = append(p.tunnels, r.Host)
	p.mu.Unlock()
	if _, err := io.WriteString(client, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return
	}

	// Copy both ways until one side closes, then close the other.
	var g errgroup.Group
	g.Go(func() error {
		_, err := io.Copy(server, buf.Reader) // buf.Reader: bytes net/http read ahead come first
		server.Close()
		return err
	})
	g.Go(func() error {
		_, err := io.Copy(client, server)
		client.Close()
		return err
	})
	g.Wait()
}

// echo upgrades the request to a WebSocket and sends every message back.
func echo(w http.ResponseWriter, r *http.Request) {
	c, err := ws.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	ctx := context.Background()
	for {
		typ, msg, err := c.Read(ctx)
		if err != nil {
			return
		}
		if err := c.Write(ctx, typ, msg); err != nil {
			return
		}
	}
}

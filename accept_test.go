//go:build !js

package ws_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/seed-d6ba7b20/ws"
)

func TestHandshakeRejects(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Accept(w, r, &ws.AcceptOptions{OriginPatterns: []string{"*.allowed.example"}})
		if err != nil {
			return
		}
		c.CloseNow()
	}))
	defer srv.Close()
	good := func() http.Header {
		return http.Header{
			"Connection":            {"keep-alive, Upgrade"},
			"Upgrade":               {"WebSocket"},
			"Sec-Websocket-Key":     {"dGhlIHNhbXBsZSBub25jZQ=="},
			"Sec-Websocket-Version": {"13"},
		}
	}
	cases := []struct {
		name   string
		method string
		edit   func(h http.Header)
		status int
	}{
		{"good", "GET", func(h http.Header) {}, 101},
		{"version 8", "GET", func(h http.Header) { h.Set("Sec-Websocket-Version", "8") }, 101},
		{"POST", "POST", func(h http.Header) {}, 405},
		{"no upgrade", "GET", func(h http.Header) { h.Del("Upgrade") }, 426},
		{"no connection", "GET", func(h http.Header) { h.Set("Connection", "keep-alive") }, 426},
		{"version 12", "GET", func(h http.Header) { h.Set("Sec-Websocket-Version", "12") }, 426},
		{"no version", "GET", func(h http.Header) { h.Del("Sec-Websocket-Version") }, 426},
		{"short key", "GET", func(h http.Header) { h.Set("Sec-Websocket-Key", "c2hvcnQ=") }, 400},
		{"bad key", "GET", func(h http.Header) { h.Set("Sec-Websocket-Key", "!!!!!!!!!!!!!!!!!!!!!!==") }, 400},
		{"two keys", "GET", func(h http.Header) { h.Add("Sec-Websocket-Key", "dGhlIHNhbXBsZSBub25jZQ==") }, 400},
		{"same origin", "GET", func(h http.Header) { h.Set("Origin", srv.URL) }, 101},
		{"foreign origin", "GET", func(h http.Header) { h.Set("Origin", "https://evil.example") }, 403},
		{"allowed origin", "GET", func(h http.Header) { h.Set("Origin", "https://app.allowed.example") }, 101},
		{"bad origin", "GET", func(h http.Header) { h.Set("Origin", "::") }, 403},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, srv.URL, nil)
			req.Header = good()
			c.edit(req.Header)
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.status)
			}
			if c.status == 426 && c.name == "version 12" && resp.Header.Get("Sec-WebSocket-Version") == "" {
				t.Fatal("426 without Sec-WebSocket-Version")
			}
			if c.status >= 400 {
				body, _ := io.ReadAll(resp.Body)
				if len(body) == 0 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
					t.Fatalf("no plain-text reason: %q", body)
				}
			}
		})
	}
}

func TestSubprotocols(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name    string
		server  *ws.AcceptOptions
		offered []string
		want    string
	}{
		{"server preference wins", &ws.AcceptOptions{Subprotocols: []string{"v2", "v1"}}, []string{"v1", "v2"}, "v2"},
		{"none in common", &ws.AcceptOptions{Subprotocols: []string{"v3"}}, []string{"v1", "v2"}, ""},
		{"none offered", &ws.AcceptOptions{Subprotocols: []string{"v3"}}, nil, ""},
		{"callback", &ws.AcceptOptions{SelectSubprotocol: func(r *http.Request, offered []string) string { return offered[len(offered)-1] }}, []string{"a", "b"}, "b"},
		{"callback picks unoffered", &ws.AcceptOptions{SelectSubprotocol: func(*http.Request, []string) string { return "zzz" }}, []string{"a"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				sc, err := ws.Accept(w, r, c.server)
				if err != nil {
					return
				}
				sc.Write(ctx, ws.MessageText, []byte(sc.Subprotocol()))
				sc.Close(ws.StatusNormalClosure, "")
			}))
			defer srv.Close()
			cc, _, err := ws.Dial(ctx, srv.URL, &ws.DialOptions{Subprotocols: c.offered})
			if err != nil {
				t.Fatal(err)
			}
			_, msg, err := cc.Read(ctx)
			if err != nil || string(msg) != c.want || cc.Subprotocol() != c.want {
				t.Fatalf("server chose %q, client sees %q (%v); want %q", msg, cc.Subprotocol(), err, c.want)
			}
			cc.Read(ctx)
		})
	}
}

// TestRefuse checks that AcceptOptions.Refuse writes the response to a
// refused handshake, with the headers the refusal needs already set, and
// that Accept still returns the HandshakeError.
func TestRefuse(t *testing.T) {
	errs := make(chan error, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := ws.Accept(w, r, &ws.AcceptOptions{Refuse: func(w http.ResponseWriter, r *http.Request, err *ws.HandshakeError) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(err.Status)
			fmt.Fprintf(w, "<p>%d: %s</p>", err.Status, err.Reason)
		}})
		errs <- err
	}))
	defer srv.Close()
	for _, c := range []struct {
		name, request string
		status        int
		header        string
	}{
		{"not websocket", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", http.StatusUpgradeRequired, "Upgrade"},
		{"version", "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 7\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", http.StatusUpgradeRequired, "Sec-WebSocket-Version"},
		{"method", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", http.StatusMethodNotAllowed, "Allow"},
		{"origin", "GET / HTTP/1.1\r\nHost: x\r\nOrigin: http://evil.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", http.StatusForbidden, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			nc, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			io.WriteString(nc, c.request)
			resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
			if resp.StatusCode != c.status || resp.Header.Get("Content-Type") != "text/html" || !strings.HasPrefix(string(body), fmt.Sprintf("<p>%d: ", c.status)) {
				t.Fatalf("%d %q %q, want %d from Refuse", resp.StatusCode, resp.Header.Get("Content-Type"), body, c.status)
			}
			if c.header != "" && resp.Header.Get(c.header) == "" {
				t.Fatalf("no %s header in the refusal", c.header)
			}
			var he *ws.HandshakeError
			if err := <-errs; !errors.As(err, &he) || he.Status != c.status {
				t.Fatalf("Accept returned %v", err)
			}
		})
	}
}

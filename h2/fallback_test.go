package h2_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/h2"
)

// plainServerEnv makes the test binary serve HTTP/2 without extended
// CONNECT (servePlain) instead of running the tests.
const plainServerEnv = "WS_H2_TEST_PLAIN_SERVER"

// servePlain serves WebSockets on HTTP/1.1 and HTTP/2 over TLS, in a
// process without GODEBUG=http2xconnect=1, so its HTTP/2 does not take
// extended CONNECT. It prints its URL and certificate, and serves until
// its standard input ends.
func servePlain() {
	srv := httptest.NewUnstartedServer(accepting(nil, nil, func(c *ws.Conn, _ *http.Request) { echo(c) }))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	fmt.Println(srv.URL, base64.StdEncoding.EncodeToString(srv.Certificate().Raw))
	bufio.NewReader(os.Stdin).ReadString('\n')
	srv.Close()
}

// startPlainServer starts servePlain in a process of its own and
// returns its wss URL and a pool that trusts its certificate.
func startPlainServer(t *testing.T) (string, *x509.CertPool) {
	cmd := exec.Command(os.Args[0])
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GODEBUG=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, plainServerEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the server's address: %v", err)
	}
	u, cert, _ := strings.Cut(strings.TrimSpace(line), " ")
	der, err := base64.StdEncoding.DecodeString(cert)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return "wss" + strings.TrimPrefix(u, "https"), pool
}

// TestFallback dials, through a Transport, a server whose HTTP/2 does not
// take extended CONNECT, and one that speaks only HTTP/1.1: Dial fails
// with an error matching errors.ErrUnsupported, or, with HTTP2Fallback,
// opens the WebSocket over HTTP/1.1.
func TestFallback(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	plainURL, plainPool := startPlainServer(t)
	h1 := httptest.NewUnstartedServer(accepting(nil, nil, func(c *ws.Conn, _ *http.Request) { echo(c) }))
	h1.StartTLS() // without EnableHTTP2: ALPN offers http/1.1 only
	defer h1.Close()
	h1Pool := x509.NewCertPool()
	h1Pool.AddCert(h1.Certificate())

	for _, server := range []struct {
		name string
		url  string
		pool *x509.CertPool
	}{
		{"no extended CONNECT", plainURL, plainPool},
		{"HTTP/1.1 only", "wss" + strings.TrimPrefix(h1.URL, "https"), h1Pool},
	} {
		t.Run(server.name, func(t *testing.T) {
			tr := h2.NewTransport(&tls.Config{RootCAs: server.pool})
			defer tr.CloseIdleConnections()
			_, _, err := ws.Dial(ctx, server.url, &ws.DialOptions{HTTP2: tr})
			if !errors.Is(err, errors.ErrUnsupported) {
				t.Errorf("Dial: %v, want an error matching errors.ErrUnsupported", err)
			}
			c, resp, err := ws.Dial(ctx, server.url, &ws.DialOptions{
				HTTP2:         tr,
				HTTP2Fallback: true,
				TLSConfig:     &tls.Config{RootCAs: server.pool},
			})
			if err != nil {
				t.Fatalf("Dial with HTTP2Fallback: %v", err)
			}
			defer c.CloseNow()
			if resp.StatusCode != http.StatusSwitchingProtocols {
				t.Errorf("status %d, want 101 over HTTP/1.1", resp.StatusCode)
			}
			echoOnce(ctx, t, c, ws.MessageText, []byte("over HTTP/1.1"))
			if err := c.Close(ws.StatusNormalClosure, ""); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestRefusals sends HTTP/2 requests that are not valid WebSocket
// openings, and checks the status of each refusal.
func TestRefusals(t *testing.T) {
	s := newH2Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Accept(w, r, nil)
		if err == nil {
			t.Errorf("Accept took %s %s with :protocol %q", r.Method, r.URL, r.Header.Get(":protocol"))
			c.CloseNow()
		}
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, tc := range []struct {
		name   string
		method string
		header map[string]string
		status int
		check  func(http.Header) error
	}{
		{"GET", http.MethodGet, nil, http.StatusMethodNotAllowed, func(h http.Header) error {
			if h.Get("Allow") != http.MethodConnect {
				return fmt.Errorf("Allow: %q, want CONNECT", h.Get("Allow"))
			}
			return nil
		}},
		{"other protocol", http.MethodConnect, map[string]string{":protocol": "webtransport", "Sec-WebSocket-Version": "13"}, http.StatusNotImplemented, nil},
		{"version 12", http.MethodConnect, map[string]string{":protocol": "websocket", "Sec-WebSocket-Version": "12"}, http.StatusUpgradeRequired, func(h http.Header) error {
			if h.Get("Sec-WebSocket-Version") == "" {
				return errors.New("no Sec-WebSocket-Version in the refusal")
			}
			return nil
		}},
		{"cross origin", http.MethodConnect, map[string]string{":protocol": "websocket", "Sec-WebSocket-Version": "13", "Origin": "https://elsewhere.example"}, http.StatusForbidden, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(ctx, tc.method, strings.Replace(s.url, "wss", "https", 1), nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := s.tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.check != nil {
				if err := tc.check(resp.Header); err != nil {
					t.Error(err)
				}
			}
		})
	}
	// Dial reports a refusal as over HTTP/1.1: a HandshakeError with the
	// status, and the response.
	_, resp, err := ws.Dial(ctx, s.url, &ws.DialOptions{HTTP2: s.tr, Origin: "https://elsewhere.example"})
	var he *ws.HandshakeError
	if !errors.As(err, &he) || he.Status != http.StatusForbidden || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("Dial from another origin: %v, want a HandshakeError with status 403 and the response", err)
	}
}

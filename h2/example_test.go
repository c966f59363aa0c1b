package h2_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/h2"
)

// Two WebSockets over HTTP/2 to one server share one TCP connection. The
// server is a ws.Server in an HTTP/2 server over TLS, in a program that
// runs with GODEBUG=http2xconnect=1 (the tests of this package do).
func ExampleNewTransport() {
	s := &ws.Server{Handler: func(c *ws.Conn, r *http.Request) {
		for msg := range c.Messages() {
			c.Write(r.Context(), msg.Type, msg.Data)
		}
	}}
	srv := httptest.NewUnstartedServer(s)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	certs := x509.NewCertPool()
	certs.AddCert(srv.Certificate())
	url := "wss" + strings.TrimPrefix(srv.URL, "https")

	t := h2.NewTransport(&tls.Config{RootCAs: certs})
	defer t.CloseIdleConnections()
	opts := &ws.DialOptions{HTTP2: t, HTTP2Fallback: true}
	ctx := context.Background()
	for _, name := range []string{"alice", "bob"} {
		c, resp, err := ws.Dial(ctx, url, opts)
		if err != nil {
			log.Fatal(err)
		}
		c.Write(ctx, ws.MessageText, []byte("hi from "+name))
		_, msg, _ := c.Read(ctx)
		fmt.Println(resp.Proto, resp.StatusCode, string(msg))
		c.Close(ws.StatusNormalClosure, "")
	}
	// Output:
	// HTTP/2.0 200 hi from alice
	// HTTP/2.0 200 hi from bob
}

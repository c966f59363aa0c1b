//go:build !js

// Command clientip shows how a server learns the IP address of a client,
// "How to get the IP address of the client?" from Node's ws README: from
// the connection itself (http.Request.RemoteAddr), or, behind a reverse
// proxy, from the X-Forwarded-For header the proxy adds.
//
// Trust X-Forwarded-For only when your own proxy is in front of the server
// and sets it: a client can send any X-Forwarded-For it likes, as the
// second client here does, and without a proxy nothing removes it.
//
//	go run ./examples/clientip
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run starts the server on 127.0.0.1, connects to it as a plain client and
// then as a proxy would, and prints what the server tells each.
func run(ctx context.Context, out io.Writer) error {
	srv := httptest.NewServer(http.HandlerFunc(whoAmI))
	defer srv.Close()

	for _, header := range []http.Header{
		nil,                                  // a client connecting directly
		{"X-Forwarded-For": {"203.0.113.7"}}, // what a proxy sends, or anyone
	} {
		c, _, err := ws.Dial(ctx, srv.URL, &ws.DialOptions{Header: header})
		if err != nil {
			return err
		}
		_, msg, err := c.Read(ctx)
		if err != nil {
			c.CloseNow()
			return err
		}
		fmt.Fprintf(out, "%s\n", msg)
		c.Close(ws.StatusNormalClosure, "")
	}
	return nil
}

// whoAmI tells each client the addresses the server sees, then closes.
func whoAmI(w http.ResponseWriter, r *http.Request) {
	// The headers are in the request: read them before or after Accept.
	ip := remoteIP(r)
	forwarded := forwardedFor(r)

	c, err := ws.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	msg := "RemoteAddr says " + ip
	if forwarded != "" {
		msg += ", X-Forwarded-For says " + forwarded
	}
	if err := c.Write(r.Context(), ws.MessageText, []byte(msg)); err != nil {
		return
	}
	c.Close(ws.StatusNormalClosure, "")
}

// remoteIP is the address at the other end of the TCP connection: the
// client, or the proxy when there is one. RemoteAddr is "ip:port".
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// forwardedFor is the client's address as the proxy in front of the server
// reports it, or "". X-Forwarded-For is a list: each proxy on the way
// appends the address it got the request from, so the last entry is the
// one your own proxy added. Entries before it came from the client, or
// from proxies you do not know, and may be made up.
func forwardedFor(r *http.Request) string {
	list := strings.Join(r.Header.Values("X-Forwarded-For"), ",")
	if list == "" {
		return ""
	}
	entries := strings.Split(list, ",")
	return strings.TrimSpace(entries[len(entries)-1])
}

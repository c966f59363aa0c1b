//go:build !js

// Command rtt measures the round-trip time to a WebSocket server with
// pings: Conn.Ping sends a ping and returns when the pong comes back. It
// is "Round-trip time" from Node's ws README, which times an echoed
// message instead; any server answers pings, without code of its own.
//
// With no flag it starts a server of its own on 127.0.0.1; -url measures
// another one, such as examples/server:
//
//	go run ./examples/rtt
//	go run ./examples/rtt -url ws://localhost:8080 -n 10
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

func main() {
	url := flag.String("url", "", "server to measure (default: start one on 127.0.0.1)")
	n := flag.Int("n", 5, "how many pings")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx, *url, *n, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run pings the server at url, or one of its own when url is empty, n
// times, and prints each round-trip time.
func run(ctx context.Context, url string, n int, out io.Writer) error {
	if url == "" {
		srv := httptest.NewServer(http.HandlerFunc(serve))
		defer srv.Close()
		url = srv.URL
	}
	c, _, err := ws.Dial(ctx, url, nil)
	if err != nil {
		return err
	}
	defer c.CloseNow()

	for i := range n {
		if i > 0 {
			time.Sleep(100 * time.Millisecond)
		}
		start := time.Now()
		// Nothing reads the connection here, so Ping reads the pong
		// itself. Give each ping a deadline: a server that has gone away
		// never answers.
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := c.Ping(pctx, nil)
		cancel()
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "round-trip time: %v\n", time.Since(start).Round(time.Microsecond))
	}
	return c.Close(ws.StatusNormalClosure, "")
}

// serve accepts a connection and reads it until it ends. Reading is what
// answers pings: the pong goes out from inside Read.
func serve(w http.ResponseWriter, r *http.Request) {
	c, err := ws.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	for {
		if _, _, err := c.Read(context.Background()); err != nil {
			return
		}
	}
}

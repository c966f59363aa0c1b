//go:build !js

// Command text sends text messages to a WebSocket echo server and prints
// the replies: "Sending and receiving text data" from Node's ws README.
//
// With no flag it starts an echo server of its own on 127.0.0.1, so it
// runs anywhere; -url points it at another one, such as examples/server:
//
//	go run ./examples/text
//	go run ./examples/text -url ws://localhost:8080
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
	url := flag.String("url", "", "echo server to talk to (default: start one on 127.0.0.1)")
	flag.Parse()

	// A deadline for the whole exchange, so the program always ends.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := run(ctx, *url, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run sends a few text messages to the echo server at url, or to one of
// its own when url is empty, and writes each reply to out.
func run(ctx context.Context, url string, out io.Writer) error {
	if url == "" {
		// httptest.NewServer runs a real HTTP server on 127.0.0.1, on a
		// free port: a handy way to have a server and its client in one
		// program.
		srv := httptest.NewServer(http.HandlerFunc(echo))
		defer srv.Close()
		url = srv.URL // http:// URLs work as ws:// ones
	}

	c, _, err := ws.Dial(ctx, url, nil)
	if err != nil {
		return err
	}
	// CloseNow is the safety net for early returns; the normal way out is
	// the Close below, which says goodbye with a close frame.
	defer c.CloseNow()

	for _, text := range []string{"hello", "something"} {
		if err := c.Write(ctx, ws.MessageText, []byte(text)); err != nil {
			return err
		}
		_, reply, err := c.Read(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "received: %s\n", reply)
	}
	return c.Close(ws.StatusNormalClosure, "bye")
}

// echo is an http.Handler that upgrades the request to a WebSocket and
// sends every message back as it came.
func echo(w http.ResponseWriter, r *http.Request) {
	c, err := ws.Accept(w, r, nil)
	if err != nil {
		return // Accept has already answered with an error status
	}
	defer c.CloseNow()
	ctx := context.Background()
	for {
		typ, msg, err := c.Read(ctx)
		if err != nil {
			return // the client closed, or the connection broke
		}
		if err := c.Write(ctx, typ, msg); err != nil {
			return
		}
	}
}

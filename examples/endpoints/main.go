//go:build !js

// Command endpoints serves two WebSocket endpoints that behave differently
// from one HTTP server: /echo sends each message back, /shout sends it
// back in capitals. It is "Multiple servers sharing a single HTTP/S
// server" from Node's ws README; net/http's ServeMux does the routing that
// Node does by hand in the "upgrade" event. It runs until Ctrl-C.
//
//	go run ./examples/endpoints [-addr localhost:8080]
//
// Then, from another terminal:
//
//	go run ./examples/text -url ws://localhost:8080/echo
//	go run ./examples/text -url ws://localhost:8080/shout
package main

import (
	"bytes"
	"context"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

func main() {
	addr := flag.String("addr", "localhost:8080", "address to listen on")
	flag.Parse()

	handler, wsServers := newHandler()
	srv := &http.Server{Addr: *addr, Handler: handler, ReadHeaderTimeout: 10 * time.Second}

	// ctx is cancelled by Ctrl-C (SIGINT) or SIGTERM.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	go func() {
		log.Printf("listening on ws://%s/echo and ws://%s/shout (Ctrl-C to stop)", *addr, *addr)
		if err := srv.ListenAndServe(); err != http.ErrServerClosed {
			log.Fatal(err)
		}
	}()

	<-ctx.Done()
	stop() // a second Ctrl-C ends the program at once

	// The HTTP server first: it stops taking new connections at once, and
	// then waits for idle ones, but not for the WebSocket ones, which left
	// net/http when they were upgraded. Meanwhile the ws.Servers close
	// those with 1001 Going Away and wait for their close handshakes.
	log.Print("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	closed := make(chan struct{})
	srv.RegisterOnShutdown(func() { close(closed) })
	httpDone := make(chan struct{})
	go func() {
		srv.Shutdown(sctx) // closes the listener at once, then waits for idle connections
		close(httpDone)
	}()
	<-closed
	for _, s := range wsServers {
		s.Shutdown(sctx)
	}
	<-httpDone
}

// newHandler returns the routes, and the WebSocket servers behind them
// for a graceful shutdown. Each ws.Server keeps its own set of
// connections, as each WebSocketServer does in Node.
func newHandler() (http.Handler, []*ws.Server) {
	echo := &ws.Server{Handler: func(c *ws.Conn, r *http.Request) {
		reply(c, r, func(msg []byte) []byte { return msg })
	}}
	shout := &ws.Server{Handler: func(c *ws.Conn, r *http.Request) {
		reply(c, r, bytes.ToUpper)
	}}

	mux := http.NewServeMux()
	mux.Handle("GET /echo", echo)
	mux.Handle("GET /shout", shout)
	// Any other path gets the mux's 404 Not Found, and the client's Dial
	// fails with that status.
	return mux, []*ws.Server{echo, shout}
}

// reply answers every message of c with change(message), until the
// connection ends.
func reply(c *ws.Conn, r *http.Request, change func([]byte) []byte) {
	for {
		typ, msg, err := c.Read(r.Context())
		if err != nil {
			return
		}
		if err := c.Write(r.Context(), typ, change(msg)); err != nil {
			return
		}
	}
}

//go:build !js

// Command server is a simple WebSocket server, "Simple server" from Node's
// ws README: it logs every message it receives and sends it back (an echo
// server). It runs until Ctrl-C.
//
//	go run ./examples/server [-addr localhost:8080]
//
// Then talk to it from another terminal:
//
//	go run ./examples/text -url ws://localhost:8080
package main

import (
	"context"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/seed-d6ba7b20/ws"
)

func main() {
	addr := flag.String("addr", "localhost:8080", "address to listen on")
	flag.Parse()

	// ctx is cancelled by Ctrl-C (SIGINT) or SIGTERM.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// ws.Server accepts WebSocket connections and runs Handler for each,
	// on a goroutine of its own. ListenAndServe serves it until ctx is
	// cancelled, then shuts down gracefully: every client gets a close
	// frame with 1001 Going Away.
	//
	// ws.Server is an http.Handler too: to serve it next to other pages,
	// mount it on a mux in your own http.Server (see examples/endpoints).
	s := &ws.Server{Handler: echo}
	log.Printf("listening on ws://%s (Ctrl-C to stop)", *addr)
	if err := s.ListenAndServe(ctx, *addr); err != nil {
		log.Fatal(err)
	}
	log.Print("stopped")
}

// echo serves one connection: each message comes back to its sender.
// The connection is closed when echo returns.
func echo(c *ws.Conn, r *http.Request) {
	log.Printf("%s connected", r.RemoteAddr)
	ctx := r.Context() // for a ws.Server, it lasts as long as the connection
	for {
		typ, msg, err := c.Read(ctx)
		if err != nil {
			log.Printf("%s left: %v", r.RemoteAddr, err)
			return
		}
		log.Printf("received %v: %q", typ, msg)
		if err := c.Write(ctx, typ, msg); err != nil {
			return
		}
	}
}

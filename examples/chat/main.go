//go:build !js

// Command chat is a chat server: open http://localhost:8080 in several
// browser tabs and type. Every message goes to everyone. The page
// http://localhost:8080/wasm.html joins the same chat with a client in Go
// compiled to WebAssembly (see examples/chat/wasm), which the chat builds
// with the go command the first time the page asks for it.
//
//	go run ./examples/chat [-addr :8080]
package main

import (
	"context"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/internal/chatpage"
)

// newServer returns the chat: a page at / and a WebSocket endpoint at /ws
// whose every text message goes to every connected client, and the page
// of the client in Go at /wasm.html.
func newServer() (*ws.Server, http.Handler) {
	s := &ws.Server{
		Options: ws.AcceptOptions{Options: ws.Options{
			ReadLimit:    64 << 10,
			PingInterval: 30 * time.Second,
			Compression: &ws.CompressionOptions{
				ServerNoContextTakeover: true,
				ClientNoContextTakeover: true,
			},
		}},
		// A client too slow to keep up is closed with 1013 and may
		// reconnect; the others are never held up.
		Overflow: ws.OverflowClose,
	}
	s.Handler = func(c *ws.Conn, r *http.Request) {
		for msg := range c.Messages() {
			if msg.Type == ws.MessageText {
				s.Broadcast(ws.MessageText, msg.Data, nil)
			}
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(chatpage.HTML)
	})
	mux.Handle("GET /ws", s)
	new(wasmClient).register(mux)
	return s, mux
}

func main() {
	addr := flag.String("addr", "localhost:8080", "address to listen on")
	flag.Parse()
	s, h := newServer()
	srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-ctx.Done()
		stop() // a second Ctrl-C ends the program at once
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shutdown(sctx, srv, s)
	}()
	log.Printf("chat: open http://%s in your browser, or http://%[1]s/wasm.html for the client in Go", *addr)
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		log.Fatal(err)
	}
	<-stopped
}

// shutdown stops the chat gracefully, the HTTP server first: its
// Shutdown closes the listener at once, so no one joins any more, and then
// waits for idle connections, which a browser may hold for seconds, but
// not for the WebSocket ones, which net/http no longer sees. Meanwhile
// every chat client gets 1001 Going Away, and shutdown waits for their
// close handshakes until ctx ends.
func shutdown(ctx context.Context, srv *http.Server, s *ws.Server) {
	closed := make(chan struct{})
	srv.RegisterOnShutdown(func() { close(closed) })
	httpDone := make(chan error, 1)
	go func() { httpDone <- srv.Shutdown(ctx) }()
	<-closed
	if err := s.Shutdown(ctx); err != nil {
		log.Printf("chat shutdown: %v (closed the rest at once)", err)
	}
	if err := <-httpDone; err != nil {
		log.Printf("http shutdown: %v", err)
	}
}

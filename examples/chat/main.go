// Command chat is a chat server: open http://localhost:8080 in several
// browser tabs and type. Every message goes to everyone.
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
// whose every text message goes to every connected client.
func newServer() (*ws.Server, http.Handler) {
	s := &ws.Server{
		Options: ws.AcceptOptions{Options: ws.Options{
			ReadLimit:    64 << 10,
			PingInterval: 30 * time.Second,
			Compression:  ws.CompressionNoContextTakeover,
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
		// First 1001 Going Away to every chat client, waiting for their
		// close handshakes; then the listener and plain HTTP connections,
		// which http.Server.Shutdown handles (it does not see WebSockets).
		wctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s.Shutdown(wctx)
		cancel()
		hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		srv.Shutdown(hctx)
		cancel()
	}()
	log.Printf("chat: open http://%s in your browser", *addr)
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		log.Fatal(err)
	}
	<-stopped
}

// Command chat is a chat server: open http://localhost:8080 in several
// browser tabs and type. Every message goes to everyone.
//
//	go run ./examples/chat [-addr :8080]
package main

import (
	"context"
	_ "embed"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

//go:embed index.html
var page []byte

// room is the set of connected clients.
type room struct {
	mu      sync.Mutex
	members map[*ws.Conn]struct{}
}

func (rm *room) add(c *ws.Conn) {
	rm.mu.Lock()
	rm.members[c] = struct{}{}
	rm.mu.Unlock()
}

func (rm *room) remove(c *ws.Conn) {
	rm.mu.Lock()
	delete(rm.members, c)
	rm.mu.Unlock()
}

// broadcast queues msg to every member. A member whose queue is full is
// too slow to keep up and is dropped.
func (rm *room) broadcast(msg []byte) {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	for c := range rm.members {
		if err := c.TrySend(ws.MessageText, msg, nil); err != nil {
			go c.Close(ws.StatusTryAgainLater, "too slow")
		}
	}
}

// handler serves the page and the WebSocket endpoint.
func handler(rm *room) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Accept(w, r, &ws.AcceptOptions{Options: ws.Options{ReadLimit: 64 << 10, PingInterval: 30 * time.Second}})
		if err != nil {
			return
		}
		defer c.CloseNow()
		rm.add(c)
		defer rm.remove(c)
		for msg := range c.Messages() {
			if msg.Type == ws.MessageText {
				rm.broadcast(msg.Data)
			}
		}
	})
	return mux
}

func main() {
	addr := flag.String("addr", "localhost:8080", "address to listen on")
	flag.Parse()
	rm := &room{members: map[*ws.Conn]struct{}{}}
	srv := &http.Server{Addr: *addr, Handler: handler(rm), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		rm.mu.Lock()
		for c := range rm.members {
			go c.Close(ws.StatusGoingAway, "server shutting down")
		}
		rm.mu.Unlock()
	}()
	log.Printf("chat: open http://%s in your browser", *addr)
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		log.Fatal(err)
	}
}

//go:build !js

// Command broadcast shows "Server broadcast" from Node's ws README, both
// ways: to every client, and to every client but the sender. The server
// announces each newcomer to everyone, the newcomer included, and passes
// each message on to everyone else. Three clients in the same program
// join and talk.
//
//	go run ./examples/broadcast
package main

import (
	"context"
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
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// newServer returns the broadcasting server. A ws.Server keeps track of
// its open connections, which is what Broadcast sends to.
func newServer() *ws.Server {
	s := &ws.Server{}
	s.Handler = func(c *ws.Conn, r *http.Request) {
		name := r.URL.Query().Get("name")

		// To all: a nil filter keeps every connection, this one too.
		s.Broadcast(ws.MessageText, []byte(name+" joined"), nil)

		// To all but the sender: the filter leaves c out.
		notSender := func(other *ws.Conn) bool { return other != c }
		for msg := range c.Messages() {
			text := append([]byte(name+": "), msg.Data...)
			s.Broadcast(msg.Type, text, notSender)
		}
	}
	return s
}

// run starts the server on 127.0.0.1 and connects alice, bob and carol.
func run(ctx context.Context, out io.Writer) error {
	s := newServer()
	srv := httptest.NewServer(s)
	// At the end, the HTTP server first, so no one joins any more, then
	// the ws.Server, which says 1001 Going Away to the clients still
	// connected and waits for their handlers (none is left by then).
	defer func() {
		srv.Close()
		s.Shutdown(ctx)
	}()

	// Each client prints the next message it receives.
	clients := map[string]*ws.Conn{}
	receive := func(names ...string) error {
		for _, name := range names {
			_, msg, err := clients[name].Read(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "%-5s got %q\n", name, msg)
		}
		return nil
	}

	// They join one by one; every client hears of every newcomer.
	var joined []string
	for _, name := range []string{"alice", "bob", "carol"} {
		c, _, err := ws.Dial(ctx, srv.URL+"/?name="+name, nil)
		if err != nil {
			return err
		}
		defer c.CloseNow()
		clients[name] = c
		joined = append(joined, name)
		if err := receive(joined...); err != nil {
			return err
		}
	}

	// alice talks: bob and carol hear her; she does not hear herself...
	if err := clients["alice"].Write(ctx, ws.MessageText, []byte("hi all")); err != nil {
		return err
	}
	if err := receive("bob", "carol"); err != nil {
		return err
	}
	// ...so the next message she receives is bob's answer.
	if err := clients["bob"].Write(ctx, ws.MessageText, []byte("hi alice")); err != nil {
		return err
	}
	if err := receive("alice", "carol"); err != nil {
		return err
	}

	for _, c := range clients {
		if err := c.Close(ws.StatusNormalClosure, "bye"); err != nil {
			return err
		}
	}
	return nil
}

//go:build !js

// Command heartbeat shows how a server finds and closes broken
// connections: "How to detect and close broken connections?" from Node's
// ws README. A peer can vanish without closing (its machine loses power,
// a NAT forgets the connection), and the server would hold the dead
// connection forever. With Options.PingInterval the server pings each
// client regularly and ends the connection, with ws.ErrKeepaliveTimeout,
// when the pong is later than Options.PingTimeout.
//
// Two clients connect: a healthy one, and a silent one that stops
// answering pings (DisableAutoPong), as a vanished peer would. The server
// drops the silent one and keeps the other.
//
//	go run ./examples/heartbeat
package main

import (
	"context"
	"errors"
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
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Real servers ping every 30 seconds or so; 1 second keeps the demo
	// short.
	if err := run(ctx, time.Second, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// ended is a connection the server has ended, and why.
type ended struct {
	name string
	err  error
}

// newServer returns a server that pings every interval, and reports each
// connection that ends on the channel it returns.
func newServer(interval time.Duration) (*ws.Server, <-chan ended) {
	gone := make(chan ended, 10)
	s := &ws.Server{
		Options: ws.AcceptOptions{Options: ws.Options{
			PingInterval: interval, // ping every interval
			PingTimeout:  interval, // and end the connection if the pong is later
		}},
		Handler: func(c *ws.Conn, r *http.Request) {
			for {
				// The server's work with the client goes here. The pongs
				// are read by this Read, or by keepalive while no one reads.
				if _, _, err := c.Read(r.Context()); err != nil {
					break
				}
			}
			// Err says why the connection ended: ErrKeepaliveTimeout for
			// a client that stopped answering.
			gone <- ended{r.URL.Query().Get("name"), c.Err()}
		},
	}
	return s, gone
}

// run starts the server on 127.0.0.1, connects the two clients, and waits
// until the server has dropped the silent one.
func run(ctx context.Context, interval time.Duration, out io.Writer) error {
	s, gone := newServer(interval)
	srv := httptest.NewServer(s)
	// At the end, the HTTP server first, then the ws.Server.
	defer func() {
		srv.Close()
		s.Shutdown(ctx)
	}()
	fmt.Fprintf(out, "the server pings every %v and waits %v for the pong\n", interval, interval)

	// The healthy client answers pings. A Conn answers them while someone
	// reads it, so a client that has nothing to read must still keep a
	// read going (here, ranging over Messages until the connection ends).
	healthy, _, err := ws.Dial(ctx, srv.URL+"/?name=healthy", nil)
	if err != nil {
		return err
	}
	defer healthy.CloseNow()
	go func() {
		for range healthy.Messages() {
		}
	}()

	// The silent client reads too, but does not answer pings.
	silent, _, err := ws.Dial(ctx, srv.URL+"/?name=silent", &ws.DialOptions{
		Options: ws.Options{DisableAutoPong: true},
	})
	if err != nil {
		return err
	}
	defer silent.CloseNow()
	go func() {
		for range silent.Messages() {
		}
	}()

	start := time.Now()
	select {
	case e := <-gone:
		if !errors.Is(e.err, ws.ErrKeepaliveTimeout) {
			return fmt.Errorf("%s ended: %v", e.name, e.err)
		}
		fmt.Fprintf(out, "the server dropped the %s client after %v: %v\n",
			e.name, time.Since(start).Round(interval/10), e.err)
	case <-ctx.Done():
		return ctx.Err()
	}

	// The server did not send a close frame, which a vanished peer would
	// never read: it closed the TCP connection.
	<-silent.Done()
	fmt.Fprintf(out, "the silent client saw: %v\n", silent.Err())

	// The healthy client is still connected: Ping works. (Its own pings
	// are answered by the server's Read.)
	if err := healthy.Ping(ctx, nil); err != nil {
		return err
	}
	fmt.Fprintln(out, "the healthy client is still connected")
	return healthy.Close(ws.StatusNormalClosure, "")
}

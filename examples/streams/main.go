//go:build !js

// Command streams copies standard input to a WebSocket connection and the
// connection to standard output: "Use the Node.js streams API" from
// Node's ws README. ws.NetConn turns the connection into a net.Conn, a
// byte stream, so io.Copy works both ways; an errgroup runs the two
// copies and waits for both.
//
// With no -url it starts an echo server of its own on 127.0.0.1, so what
// you type comes back. It ends at the end of the input (Ctrl-D in a
// terminal), or, when the server closes first, at the next line:
//
//	echo hello | go run ./examples/streams
//	go run ./examples/streams -url ws://localhost:8080
package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/seed-d6ba7b20/ws"
	"golang.org/x/sync/errgroup"
)

func main() {
	url := flag.String("url", "", "server to talk to (default: start an echo server on 127.0.0.1)")
	flag.Parse()
	if err := run(context.Background(), *url, os.Stdin, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run connects to url, or to an echo server of its own when url is empty,
// and copies in to the connection and the connection to out, until in
// ends and the server has sent everything back, or the server closes.
func run(ctx context.Context, url string, in io.Reader, out io.Writer) error {
	if url == "" {
		srv := httptest.NewServer(http.HandlerFunc(echo))
		defer srv.Close()
		url = srv.URL
	}
	dialCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, _, err := ws.Dial(dialCtx, url, nil)
	if err != nil {
		return err
	}

	// From here on, conn owns c: each Write sends a binary message, and
	// Read returns the bytes of the messages that arrive, then io.EOF
	// when the server closes normally.
	conn := ws.NetConn(ctx, c, ws.MessageBinary)
	defer conn.Close()

	var g errgroup.Group
	g.Go(func() error {
		// Input → connection. At the end of the input, close: the close
		// handshake lets the server's last replies arrive first, and then
		// ends the other copy with io.EOF.
		_, err := io.Copy(conn, in)
		if cerr := conn.Close(); err == nil {
			err = cerr
		}
		if errors.Is(err, net.ErrClosed) {
			return nil // the server closed first: the other copy saw why
		}
		return err
	})
	g.Go(func() error {
		// Connection → output, until io.EOF (io.Copy then returns nil).
		_, err := io.Copy(out, conn)
		return err
	})
	return g.Wait()
}

// echo upgrades the request to a WebSocket and sends every message back.
func echo(w http.ResponseWriter, r *http.Request) {
	c, err := ws.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	ctx := context.Background()
	for {
		typ, msg, err := c.Read(ctx)
		if err != nil {
			return
		}
		if err := c.Write(ctx, typ, msg); err != nil {
			return
		}
	}
}

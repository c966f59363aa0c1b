//go:build !js

// Command compression tries compression settings, "WebSocket compression"
// from Node's ws README: for each, it prints the extension the two sides
// agreed on (Conn.Extensions) and how many bytes 100 small JSON messages
// took on the wire.
//
// permessage-deflate is used only when both sides turn it on, with
// Options.Compression. Messages shorter than CompressionOptions.Threshold
// (1 KiB by default) go out as they are. With no context takeover each
// message is compressed on its own, which costs no memory between
// messages; with context takeover a message can refer to the ones before
// it, which shrinks streams of similar small messages far more.
//
//	go run ./examples/compression
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

// setting is one way to configure the two sides.
type setting struct {
	name           string
	server, client ws.Options
}

// The client sends the messages, so its threshold is the one that counts.
var settings = []setting{
	{
		name:   "the client asks, the server has compression off",
		server: ws.Options{},
		client: ws.Options{Compression: &ws.CompressionOptions{}},
	},
	{
		name:   "no context takeover, default threshold (1 KiB)",
		server: ws.Options{Compression: noTakeover(0)},
		client: ws.Options{Compression: noTakeover(0)},
	},
	{
		// Small messages compressed on their own grow: this is why the
		// threshold exists.
		name:   "no context takeover, every message compressed (threshold -1)",
		server: ws.Options{Compression: noTakeover(0)},
		client: ws.Options{Compression: noTakeover(-1)},
	},
	{
		name:   "context takeover, every message compressed",
		server: ws.Options{Compression: &ws.CompressionOptions{}},
		client: ws.Options{Compression: &ws.CompressionOptions{Threshold: -1}},
	},
	{
		// A smaller window means less inflate history for the server to
		// keep per connection.
		name:   "context takeover, the server asks for a 1 KiB client window",
		server: ws.Options{Compression: &ws.CompressionOptions{ClientMaxWindowBits: 10}},
		client: ws.Options{Compression: &ws.CompressionOptions{Threshold: -1}},
	},
}

// noTakeover returns options without context takeover in either direction,
// with the given threshold.
func noTakeover(threshold int) *ws.CompressionOptions {
	return &ws.CompressionOptions{
		Threshold:               threshold,
		ServerNoContextTakeover: true,
		ClientNoContextTakeover: true,
	}
}

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run tries each setting and prints what it gave.
func run(ctx context.Context, out io.Writer) error {
	for _, s := range settings {
		ext, wire, payload, err := try(ctx, s)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		fmt.Fprintf(out, "%s\n  extensions: %q\n  100 messages, %d bytes in all: %d bytes on the wire\n",
			s.name, ext, payload, wire)
	}
	return nil
}

// try connects a client to a server configured as s says, sends the
// messages, and returns the agreed extensions, the bytes the client wrote
// to the network and the bytes of the messages themselves.
func try(ctx context.Context, s setting) (ext string, wire, payload int64, err error) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Accept(w, r, &ws.AcceptOptions{Options: s.server})
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			if _, _, err := c.Read(r.Context()); err != nil {
				return // inflated and dropped; here only the wire counts
			}
		}
	}))
	defer srv.Close()

	// NetDial opens the TCP connection; this one counts what goes out.
	var written atomic.Int64
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		conn, err := d.DialContext(ctx, network, addr)
		return countingConn{conn, &written}, err
	}
	c, _, err := ws.Dial(ctx, srv.URL, &ws.DialOptions{Options: s.client, NetDial: dial})
	if err != nil {
		return "", 0, 0, err
	}
	defer c.CloseNow()
	written.Store(0) // leave out the handshake

	for i := range 100 {
		msg := fmt.Sprintf(`{"id":%d,"user":"alice","text":"message number %d","time":"2025-01-01T12:00:%02dZ"}`, i, i, i%60)
		if err := c.Write(ctx, ws.MessageText, []byte(msg)); err != nil {
			return "", 0, 0, err
		}
		payload += int64(len(msg))
	}
	wire = written.Load()
	return c.Extensions(), wire, payload, c.Close(ws.StatusNormalClosure, "")
}

// countingConn is a net.Conn that adds the bytes written to n.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.n.Add(int64(n))
	return n, err
}

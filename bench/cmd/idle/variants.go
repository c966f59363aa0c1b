package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"sync/atomic"

	ws "github.com/seed-d6ba7b20/ws"
)

// The variants of the ws server below are diagnostics: each removes one
// cost of the plain "ws" server, to show what that cost is.

// wsBackgroundHandler is wsHandler reading with context.Background(), so
// that Read registers nothing with the request's context.
func wsBackgroundHandler(accepted *atomic.Int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		wsAcceptRead(context.Background(), accepted, w, r)
	}
}

// wsGoroutineHandler reads in a goroutine of its own, with
// context.Background(), and returns from the handler, so that net/http
// drops its state of the connection (its bufio.Reader and Writer, the
// request, the handler goroutine's stack).
func wsGoroutineHandler(accepted *atomic.Int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Accept(w, r, nil)
		if err != nil {
			return
		}
		accepted.Add(1)
		go func() {
			defer c.CloseNow()
			wsRead(context.Background(), c)
		}()
	}
}

// wsDropHandler is wsHandler with a ResponseWriter whose Hijack lets go
// of net/http's 4 KiB bufio.Reader and 4 KiB bufio.Writer, which the
// handler goroutine keeps alive otherwise. It shows what ws.Accept would
// save by doing the same after its hijack.
func wsDropHandler(accepted *atomic.Int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		wsAcceptRead(r.Context(), accepted, dropBufs{w}, r)
	}
}

// dropBufs is a ResponseWriter whose Hijack clears net/http's bufio
// buffers of the connection, which net/http no longer uses once it is
// hijacked, and returns small ones in their place.
type dropBufs struct{ http.ResponseWriter }

// Hijack hijacks the connection and drops net/http's buffers, unless
// bytes wait in the reader.
func (d dropBufs) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(d.ResponseWriter).Hijack()
	if err != nil || brw.Reader.Buffered() > 0 {
		return c, brw, err
	}
	*brw.Reader = bufio.Reader{}
	*brw.Writer = bufio.Writer{}
	return c, bufio.NewReadWriter(bufio.NewReaderSize(c, 16), bufio.NewWriterSize(c, 16)), nil
}

// hijackHandler is the floor of a net/http server that keeps each
// connection in its handler goroutine: no WebSocket library, just a
// hijack (bufio buffers kept, as net/http leaves them) and a Read into a
// small buffer.
func hijackHandler(accepted *atomic.Int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		if _, err := c.Write([]byte("HTTP/1.1 101 Switching Protocols\r\n\r\n")); err != nil {
			return
		}
		accepted.Add(1)
		var buf [16]byte
		for {
			if _, err := c.Read(buf[:]); err != nil {
				return
			}
		}
	}
}

// wsServer serves with ws.Server's Serve, which reads each handshake in
// an accept loop of its own and starts the handler on a goroutine of its
// own; the handler reads with loop.
func wsServer(loop func(*ws.Conn)) server {
	return func(ln net.Listener, accepted *atomic.Int64) error {
		s := &ws.Server{Handler: func(c *ws.Conn, r *http.Request) {
			accepted.Add(1)
			loop(c)
		}}
		return s.Serve(context.Background(), ln)
	}
}

// The handler shapes of ws.Server: each reads every message until the
// connection fails, with context.Background().

// wsServerRead reads with Read ("ws-server").
func wsServerRead(c *ws.Conn) { wsRead(context.Background(), c) }

// wsServerReader reads with Reader, copying each message to io.Discard
// ("ws-server-reader").
func wsServerReader(c *ws.Conn) {
	for {
		_, r, err := c.Reader(context.Background())
		if err != nil {
			return
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			return
		}
	}
}

// wsServerMessages ranges over Messages ("ws-server-messages"), whose
// goroutine reads.
func wsServerMessages(c *ws.Conn) {
	for range c.Messages() {
	}
}

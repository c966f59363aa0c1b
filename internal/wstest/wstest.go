// Package wstest provides what the tests of the module share: in-memory
// transports (a net.Listener whose connections are net.Pipe pairs, so a
// test can run an http.Server and dial it without a socket), the encoding
// of frames and JSON-like test data.
//
// It does not import package ws, so that the package's internal tests can
// use it as well as its external ones; helpers that need a *ws.Conn are in
// the root's helpers_test.go.
package wstest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"

	"github.com/seed-d6ba7b20/ws/internal/frame"
	"github.com/seed-d6ba7b20/ws/internal/mask"
)

// Listener is an in-memory net.Listener. Dial and DialContext connect to it.
type Listener struct {
	conns     chan net.Conn
	closeOnce sync.Once
	done      chan struct{}
}

// NewListener returns a new, open Listener.
func NewListener() *Listener {
	return &Listener{conns: make(chan net.Conn), done: make(chan struct{})}
}

// Accept waits for the next connection.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops the listener.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return nil
}

// Addr returns a placeholder address.
func (l *Listener) Addr() net.Addr { return pipeAddr{} }

// DialContext returns the client end of a new pipe whose server end the
// listener accepts. network and addr are ignored.
func (l *Listener) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, s := net.Pipe()
	select {
	case l.conns <- s:
		return c, nil
	case <-l.done:
		return nil, errors.New("wstest: listener closed")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// Server is an http.Server on an in-memory Listener.
type Server struct {
	*Listener
	srv  *http.Server
	done chan struct{}
}

// NewServer starts serving h on a new in-memory listener.
func NewServer(h http.Handler) *Server {
	s := &Server{Listener: NewListener(), srv: &http.Server{Handler: h}, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		s.srv.Serve(s.Listener)
	}()
	return s
}

// Close stops the server and waits for its serving goroutine. Connections
// taken over by a handler are the handler's to close.
func (s *Server) Close() {
	s.srv.Close()
	<-s.done
}

// JSON returns n bytes of JSON-like text: records that repeat their keys,
// as a stream of messages does, so that it compresses.
func JSON(n int) []byte {
	var b []byte
	for i := 0; len(b) < n; i++ {
		b = fmt.Appendf(b, `{"id":%d,"name":"user%d","active":true,"tags":["a","b"]},`, i, i%7)
	}
	return b[:n]
}

// ClientKey is the masking key of AppendClientFrame.
const ClientKey = 0x01020304

// AppendFrame appends to b the frame of h with payload p: h.Length is
// set to len(p), and p is masked with h.Key when h.Masked.
func AppendFrame(b []byte, h frame.Header, p []byte) []byte {
	h.Length = int64(len(p))
	b = frame.Append(b, h)
	start := len(b)
	b = append(b, p...)
	if h.Masked {
		mask.Apply(h.Key, 0, b[start:])
	}
	return b
}

// AppendClientFrame appends the frame of h with payload p as a client
// sends it: masked with ClientKey.
func AppendClientFrame(b []byte, h frame.Header, p []byte) []byte {
	h.Masked, h.Key = true, ClientKey
	return AppendFrame(b, h, p)
}

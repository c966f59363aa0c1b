//go:build !js

package ws

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server is an http.Handler that accepts WebSocket connections, hands each
// to Handler, and keeps track of the open ones, for Broadcast and a
// graceful Shutdown. Mount it on any
// ServeMux or router, or run it with ListenAndServe.
//
// A Server must not be copied after first use. Accept inside a handler of
// your own stays the plainest way to serve WebSocket; Server adds tracking.
type Server struct {
	// Handler is called with each new connection, on a goroutine of its
	// own; the connection is closed when it returns. r is the handshake
	// request, whose context is not cancelled when the HTTP exchange ends.
	// Unlike net/http, which recovers a panicking handler, a panic in
	// Handler ends the program. Handler must be set.
	Handler func(c *Conn, r *http.Request)
	// Options are the settings of Accept for every connection.
	Options AcceptOptions
	// ResponseHeader, if set, gives headers to add to the 101 response of
	// a request, beside Options.ResponseHeader: a cookie for the session,
	// say.
	ResponseHeader func(r *http.Request) http.Header
	// Overflow says what Broadcast does with a receiver whose send queue
	// is full; the default is OverflowClose.
	Overflow OverflowPolicy
	// HandshakeTimeout bounds the opening handshake when the server runs
	// with ListenAndServe: it is the http.Server's ReadHeaderTimeout, so a
	// client that opens a TCP connection and never completes its request is
	// dropped. 0 means 10 seconds. When you run your own http.Server, set
	// its ReadHeaderTimeout to the same effect.
	HandshakeTimeout time.Duration

	mu       sync.Mutex
	conns    map[*Conn]struct{}
	stopping bool
	active   sync.WaitGroup // handlers and closers
	stats    serverCounters
}

// OverflowPolicy is what Broadcast does when a receiver's send queue is
// full, so that one slow receiver never holds up the others.
type OverflowPolicy int

const (
	// OverflowClose closes the slow receiver with StatusTryAgainLater
	// (1013): it can reconnect and catch up.
	OverflowClose OverflowPolicy = iota
	// OverflowDrop skips the message for that receiver only.
	OverflowDrop
)

// ServeHTTP accepts the connection, tracks it and starts Handler on a
// goroutine of its own, then returns, so net/http can free what it held
// for the request: an idle connection then costs a fraction of what it
// costs in a handler that blocks. Over HTTP/2, where the WebSocket is a
// stream of the request and ends with it, ServeHTTP runs Handler itself
// and returns when the connection has closed. While the server shuts down
// it answers 503 Service Unavailable.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		s.stats.countRefusal(refuse(w, r, &s.Options, refusedShuttingDown, http.StatusServiceUnavailable, "the server is shutting down"))
		return
	}
	s.active.Add(1)
	s.mu.Unlock()

	opts := &s.Options
	if s.ResponseHeader != nil {
		if h := s.ResponseHeader(r); len(h) > 0 {
			o := *opts
			o.ResponseHeader = o.ResponseHeader.Clone()
			if o.ResponseHeader == nil {
				o.ResponseHeader = http.Header{}
			}
			for k, vs := range h {
				o.ResponseHeader[k] = append(o.ResponseHeader[k], vs...)
			}
			opts = &o
		}
	}
	c, err := Accept(w, r, opts)
	if err != nil {
		s.stats.countRefusal(err)
		s.active.Done()
		return
	}
	s.mu.Lock()
	s.stats.gone.Accepted++
	if s.stopping {
		s.mu.Unlock()
		c.Close(StatusGoingAway, "server shutting down")
		s.forget(c)
		s.active.Done()
		return
	}
	if s.conns == nil {
		s.conns = make(map[*Conn]struct{})
	}
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	// The request's context ends when ServeHTTP returns; the handler's
	// keeps its values but not its end.
	r = r.WithContext(context.WithoutCancel(r.Context()))
	if r.ProtoMajor == 2 {
		// Over HTTP/2 the connection is a stream of the request, which
		// ends when ServeHTTP returns.
		s.serve(c, r)
		return
	}
	go s.serve(c, r)
}

// serve runs Handler and closes the connection after it. It has no defer
// on purpose: its frame stays small, so an idle handler goroutine fits the
// smallest stack (2 KiB rather than 4). A panic in Handler ends the
// program, as in any goroutine; there is nothing to clean up then. The
// connection leaves the open ones only once it is closed, when its
// figures are final, so that Stats counts them all the while.
func (s *Server) serve(c *Conn, r *http.Request) {
	s.Handler(c, r)
	c.CloseNow()
	s.forget(c)
	s.active.Done()
}

// Conns returns the open connections, as they stand when it is called. It
// is safe to use while connections come and go.
func (s *Server) Conns() iter.Seq[*Conn] {
	s.mu.Lock()
	snap := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		snap = append(snap, c)
	}
	s.mu.Unlock()
	return func(yield func(*Conn) bool) {
		for _, c := range snap {
			if !yield(c) {
				return
			}
		}
	}
}

// Len returns how many connections are open.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Broadcast queues one message to every open connection for which keep
// returns true (keep nil means all), and returns how many it was queued
// for. The message is framed once for all receivers, and each receiver's
// own send queue (see Conn.Send) writes it, so a slow receiver never blocks
// the others; a receiver whose queue is full is handled as Overflow says.
// Broadcast keeps p until every receiver has written it.
func (s *Server) Broadcast(typ MessageType, p []byte, keep func(*Conn) bool) (int, error) {
	pm, err := newPreparedMessage(typ, p)
	if err != nil {
		return 0, err
	}
	s.stats.broadcasts.Add(1)
	n := 0
	for c := range s.Conns() {
		if keep != nil && !keep(c) {
			continue
		}
		err := c.trySendPrepared(pm, nil)
		switch {
		case err == nil:
			n++
		case errors.Is(err, ErrSendQueueFull) && s.Overflow == OverflowClose:
			s.mu.Lock()
			// Shutdown closes it, or so does a close under way already,
			// which a full queue can keep waiting through more Broadcasts.
			if !s.stopping && c.stopGoroutines() {
				s.stats.overflowClosed.Add(1)
				s.closeAsync(c, StatusTryAgainLater, "too slow to keep up")
			}
			s.mu.Unlock()
		case errors.Is(err, ErrSendQueueFull):
			c.out.dropped.Add(1)
		}
	}
	return n, nil
}

// closeAsync runs Close on its own goroutine, which Shutdown waits for.
// Call it with s.mu held, before Shutdown's wait begins.
func (s *Server) closeAsync(c *Conn, code StatusCode, reason string) {
	s.active.Add(1)
	go func() {
		defer s.active.Done()
		c.Close(code, reason)
	}()
}

// Shutdown closes the server gracefully: it stops accepting connections
// (new handshakes get 503), sends 1001 Going Away to every open
// connection, and waits until their handlers have returned. When ctx is
// done first, it closes what remains at once and returns ctx.Err().
// Shutdown does not stop the http.Server the Server runs in; with
// ListenAndServe, cancelling its context does both. Start
// http.Server.Shutdown first, which closes the listener at once, so that
// clients that reconnect on 1001 find no server rather than a 503; and
// run this while it waits, since it waits for idle connections, which a
// browser may hold for seconds, and for the streams of WebSockets over
// HTTP/2, which this closes, though not for the hijacked connections of
// HTTP/1.1 (ExampleServer_Shutdown).
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.stopping = true
	for c := range s.conns {
		s.closeAsync(c, StatusGoingAway, "server shutting down")
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.active.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		cause := fmt.Errorf("ws: server shut down before the close handshake ended: %w", context.Cause(ctx))
		for c := range s.Conns() {
			c.abort(cause)
		}
		<-done
		return ctxError(ctx)
	}
}

// ListenAndServe serves the Server alone at addr (":8080", say) until ctx
// is done, then shuts it down, giving connections up to
// Options.CloseTimeout (or DefaultCloseTimeout) to close. It returns nil
// after a shutdown caused by ctx, and otherwise the error that stopped it.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

// Serve is ListenAndServe on a listener of the caller's.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hto := s.HandshakeTimeout
	if hto <= 0 {
		hto = 10 * time.Second
	}
	hs := &http.Server{Handler: s, ReadHeaderTimeout: hto}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	grace := s.Options.CloseTimeout
	if grace <= 0 {
		grace = DefaultCloseTimeout
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	// The listener closes at once; the WebSockets do not wait behind
	// net/http's wait for idle connections.
	closed := make(chan struct{})
	hs.RegisterOnShutdown(func() { close(closed) })
	httpDone := make(chan struct{})
	go func() {
		hs.Shutdown(sctx)
		close(httpDone)
	}()
	<-closed
	s.Shutdown(sctx)
	<-httpDone
	<-errc
	return nil
}

//go:build !js

package ws

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
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
	// with ListenAndServe or Serve: a client that opens a connection and
	// does not complete its TLS handshake and its request in this time is
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
	s.serveHTTP(w, r, true)
}

// serveHTTP is ServeHTTP; detach says whether r's context must be
// detached from the end of the exchange, which a request that Serve read
// itself does not need.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request, detach bool) {
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
	if detach {
		r = r.WithContext(context.WithoutCancel(r.Context()))
	}
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
//
// Serve reads each handshake request itself, with net/http's parser
// (http.ReadRequest) on a pooled buffer, instead of running an
// http.Server: a WebSocket server has no use for the rest of an HTTP
// server's machinery, and skipping it makes a handshake cheaper. Every
// request on a connection gets the Server's answer: the 101 of a
// WebSocket, or a refusal after which the connection closes. A request
// must arrive within HandshakeTimeout. The handshake request's context
// is context.Background, and its RemoteAddr and, over TLS, its TLS field
// are set as net/http sets them. On a listener of TLS connections (from
// tls.NewListener) whose configuration offers "h2" in NextProtos, the
// connections that choose HTTP/2 are served by an http.Server, as
// WebSockets over HTTP/2 must be.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hto := s.HandshakeTimeout
	if hto <= 0 {
		hto = 10 * time.Second
	}
	l := &serveLoop{s: s, ln: ln, timeout: hto, pending: make(map[net.Conn]struct{})}
	errc := make(chan error, 1)
	go func() { errc <- l.accept() }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	grace := s.Options.CloseTimeout
	if grace <= 0 {
		grace = DefaultCloseTimeout
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	// The listener closes at once, and so do the connections whose
	// handshake has not ended; then the WebSockets close.
	l.stop()
	if err == nil {
		<-errc // the listener's error, which stop caused
	}
	l.handshakes.Wait()
	var h2done chan struct{}
	if l.h2 != nil {
		h2done = make(chan struct{})
		go func() {
			if l.h2.srv.Shutdown(sctx) != nil {
				l.h2.srv.Close() // the grace is over
			}
			close(h2done)
		}()
		<-l.h2.closed
	}
	s.Shutdown(sctx)
	if h2done != nil {
		<-h2done
		<-l.h2.served
	}
	return err
}

// maxHandshakeBytes bounds what Serve reads of a handshake request, as
// net/http's http.DefaultMaxHeaderBytes and the slack of its buffer do.
const maxHandshakeBytes = http.DefaultMaxHeaderBytes + 4096

// serveLoop is Serve's accept loop and what it shares with the
// goroutines that read handshakes.
type serveLoop struct {
	s       *Server
	ln      net.Listener
	timeout time.Duration

	handshakes sync.WaitGroup // the goroutines of handshakes under way
	mu         sync.Mutex
	stopping   bool
	pending    map[net.Conn]struct{} // connections whose handshake is under way
	h2         *h2Server             // set under mu, on the first connection that chose HTTP/2
}

// accept accepts connections until the listener fails or closes, and
// reads the handshake of each on a goroutine of its own. A temporary
// failure (too many open files, say) is retried after a pause that grows
// to a second, as net/http does.
func (l *serveLoop) accept() error {
	var pause time.Duration
	for {
		nc, err := l.ln.Accept()
		if err != nil {
			if te, ok := err.(interface{ Temporary() bool }); ok && te.Temporary() && !l.isStopping() {
				pause = min(max(2*pause, 5*time.Millisecond), time.Second)
				time.Sleep(pause)
				continue
			}
			return err
		}
		pause = 0
		l.mu.Lock()
		if l.stopping {
			l.mu.Unlock()
			nc.Close()
			continue
		}
		l.pending[nc] = struct{}{}
		l.handshakes.Add(1)
		l.mu.Unlock()
		go l.handshake(nc)
	}
}

func (l *serveLoop) isStopping() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stopping
}

// stop closes the listener and the connections whose handshake is under
// way.
func (l *serveLoop) stop() {
	l.mu.Lock()
	l.stopping = true
	for nc := range l.pending {
		nc.Close()
	}
	l.mu.Unlock()
	l.ln.Close()
}

// done takes nc off the handshakes under way.
func (l *serveLoop) done(nc net.Conn) {
	l.mu.Lock()
	delete(l.pending, nc)
	l.mu.Unlock()
	l.handshakes.Done()
}

// handshakeReader is the pooled buffer that a handshake request is read
// with, through a limit of maxHandshakeBytes.
type handshakeReader struct {
	lr io.LimitedReader
	br *bufio.Reader
}

var readers = sync.Pool{New: func() any {
	h := new(handshakeReader)
	h.br = bufio.NewReaderSize(&h.lr, 4096)
	return h
}}

// handshake reads one request from nc and answers it with the Server's
// ServeHTTP. A connection that ServeHTTP did not take over closes after
// the answer. A request that cannot be parsed gets 400, one whose head is
// longer than maxHandshakeBytes 431, and one that does not arrive in time
// nothing.
func (l *serveLoop) handshake(nc net.Conn) {
	defer l.done(nc)
	nc.SetDeadline(time.Now().Add(l.timeout))
	var state *tls.ConnectionState
	if tc, ok := nc.(*tls.Conn); ok {
		if err := tc.Handshake(); err != nil {
			nc.Close()
			return
		}
		cs := tc.ConnectionState()
		if cs.NegotiatedProtocol == "h2" {
			nc.SetDeadline(time.Time{})
			l.serveHTTP2(nc)
			return
		}
		state = &cs
	}
	h := readers.Get().(*handshakeReader)
	h.lr = io.LimitedReader{R: nc, N: maxHandshakeBytes}
	h.br.Reset(&h.lr)
	r, err := http.ReadRequest(h.br)
	if err != nil {
		var ne net.Error
		switch {
		case h.lr.N <= 0:
			refuseConn(nc, "431 Request Header Fields Too Large", "the request's head is too long")
		case err != io.EOF && !(errors.As(err, &ne) && ne.Timeout()):
			refuseConn(nc, "400 Bad Request", "bad request")
		default:
			nc.Close()
		}
		h.release()
		return
	}
	// What net/http's server refuses before any handler sees it.
	var refusal string
	switch {
	case r.ProtoMajor != 1:
		refusal = "505 HTTP Version Not Supported"
	case r.ProtoMinor >= 1 && len(r.Header["Host"]) == 0 && r.Host == "":
		refusal = "400 Bad Request"
	}
	if refusal != "" {
		refuseConn(nc, refusal, refusal)
		h.release()
		return
	}
	// A body would be read from the pooled buffer after it went back to
	// the pool; a handshake has none.
	r.Body = http.NoBody
	r.RemoteAddr = nc.RemoteAddr().String()
	r.TLS = state
	w := &connWriter{loop: l, nc: nc, h: h, head: r.Method == http.MethodHead}
	l.s.serveHTTP(w, r, false)
	if !w.hijacked {
		w.finish()
		lingerClose(nc)
	}
	if !w.brGone {
		h.release()
	}
}

// release returns h to its pool.
func (h *handshakeReader) release() {
	h.br.Reset(nil)
	h.lr = io.LimitedReader{}
	readers.Put(h)
}

// refuseConn answers nc with status ("400 Bad Request") and a plain-text
// reason, where the request never reaches the Server, and closes it.
func refuseConn(nc net.Conn, status, reason string) {
	io.WriteString(nc, "HTTP/1.1 "+status+"\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"+reason+"\n")
	lingerClose(nc)
}

// lingerClose closes nc after an answer that refused it: it ends the
// sending side first and reads what the client still sends for a moment,
// so that unread bytes of the client's do not make the kernel reset the
// connection and drop the answer.
func lingerClose(nc net.Conn) {
	if cw, ok := nc.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		nc.SetReadDeadline(time.Now().Add(250 * time.Millisecond))
		io.CopyN(io.Discard, nc, 256<<10)
	}
	nc.Close()
}

// untrack takes nc off the handshakes that stop closes: Accept has taken
// it over, and it closes as a WebSocket from now on.
func (l *serveLoop) untrack(nc net.Conn) {
	l.mu.Lock()
	delete(l.pending, nc)
	l.mu.Unlock()
}

// serveHTTP2 hands nc, a TLS connection that chose HTTP/2, to an
// http.Server of the loop's, which it starts on the first.
func (l *serveLoop) serveHTTP2(nc net.Conn) {
	l.mu.Lock()
	if l.stopping {
		l.mu.Unlock()
		nc.Close()
		return
	}
	if l.h2 == nil {
		l.h2 = newH2Server(l.s, l.ln.Addr())
	}
	h := l.h2
	l.mu.Unlock()
	h.conns.put(nc)
}

// h2Server serves the loop's HTTP/2 connections with net/http.
type h2Server struct {
	srv    *http.Server
	conns  *connQueue
	closed chan struct{} // closed when srv's Shutdown begins
	served chan struct{} // closed when srv's Serve has returned
}

func newH2Server(s *Server, addr net.Addr) *h2Server {
	h := &h2Server{
		srv:    &http.Server{Handler: s},
		conns:  &connQueue{addr: addr, ch: make(chan net.Conn), done: make(chan struct{})},
		closed: make(chan struct{}),
		served: make(chan struct{}),
	}
	h.srv.RegisterOnShutdown(func() { close(h.closed) })
	go func() {
		h.srv.Serve(h.conns)
		close(h.served)
	}()
	return h
}

// connQueue is a net.Listener whose connections are handed to it.
type connQueue struct {
	addr net.Addr
	ch   chan net.Conn
	once sync.Once
	done chan struct{}
}

func (q *connQueue) put(nc net.Conn) {
	select {
	case q.ch <- nc:
	case <-q.done:
		nc.Close()
	}
}

func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case nc := <-q.ch:
		return nc, nil
	case <-q.done:
		return nil, net.ErrClosed
	}
}

func (q *connQueue) Close() error {
	q.once.Do(func() { close(q.done) })
	return nil
}

func (q *connQueue) Addr() net.Addr { return q.addr }

// connWriter is the http.ResponseWriter of a request that Serve read
// itself. Accept takes the connection over from it; any other answer (a
// refusal) goes out on the connection, which closes after it.
type connWriter struct {
	loop     *serveLoop
	nc       net.Conn
	h        *handshakeReader
	header   http.Header
	bw       *bufio.Writer
	status   int
	head     bool // the request was HEAD: no body
	noBody   bool // the answer has no body: HEAD, 204 or 304
	hijacked bool
	brGone   bool // Hijack gave the reader away
}

// ownHeaders are the headers connWriter writes itself.
var ownHeaders = map[string]bool{"Connection": true, "Transfer-Encoding": true}

func (w *connWriter) Header() http.Header {
	if w.header == nil {
		w.header = make(http.Header)
	}
	return w.header
}

func (w *connWriter) WriteHeader(status int) {
	if w.hijacked || w.status != 0 {
		return
	}
	if status < 100 || status > 999 {
		panic(fmt.Sprintf("ws: invalid WriteHeader code %v", status))
	}
	if w.bw == nil {
		w.bw = bufio.NewWriterSize(w.nc, 1024)
	}
	fmt.Fprintf(w.bw, "HTTP/1.1 %03d %s\r\n", status, http.StatusText(status))
	if status < 200 && status != http.StatusSwitchingProtocols {
		// An informational answer: the final one follows.
		w.header.WriteSubset(w.bw, ownHeaders)
		w.bw.WriteString("\r\n")
		w.bw.Flush()
		return
	}
	if _, ok := w.header["Date"]; !ok {
		w.bw.WriteString("Date: " + time.Now().UTC().Format(http.TimeFormat) + "\r\n")
	}
	w.header.WriteSubset(w.bw, ownHeaders)
	// The connection closes after the answer; a Connection header of the
	// handler's (Upgrade, for a 426) keeps its tokens.
	w.bw.WriteString("Connection: ")
	for _, v := range w.header["Connection"] {
		w.bw.WriteString(v + ", ")
	}
	w.bw.WriteString("close\r\n\r\n")
	w.status = status
	w.noBody = w.head || status == http.StatusNoContent || status == http.StatusNotModified
}

func (w *connWriter) Write(p []byte) (int, error) {
	if w.hijacked {
		return 0, http.ErrHijacked
	}
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.noBody {
		return len(p), nil
	}
	return w.bw.Write(p)
}

// Flush sends what has been written.
func (w *connWriter) Flush() {
	if w.bw != nil && !w.hijacked {
		w.bw.Flush()
	}
}

// Hijack gives the connection away, as net/http's does.
func (w *connWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.hijacked {
		return nil, nil, http.ErrHijacked
	}
	w.Flush()
	w.hijacked, w.brGone = true, true
	w.loop.untrack(w.nc)
	// The connection is the caller's now: no handshake deadline, and no
	// limit on what it reads.
	w.nc.SetDeadline(time.Time{})
	w.h.lr.N = math.MaxInt64
	return w.nc, bufio.NewReadWriter(w.h.br, bufio.NewWriter(w.nc)), nil
}

// takeOver is Accept's hijack of a connection that Serve read itself: the
// connection, and the bytes that arrived behind the request, which are
// the client's first frames. br stays Serve's, for the next handshake.
func (w *connWriter) takeOver() (net.Conn, []byte) {
	w.hijacked = true
	w.loop.untrack(w.nc)
	var early []byte
	if n := w.h.br.Buffered(); n > 0 {
		early, _ = w.h.br.Peek(n)
	}
	return w.nc, early
}

// finish ends an answer that is not a WebSocket's.
func (w *connWriter) finish() {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	w.bw.Flush()
}

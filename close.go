package ws

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/seed-d6ba7b20/ws/internal/frame"
)

// Every rule of closing lives in this file: the close handshake of RFC 6455
// section 7 started by either side, failing the connection on a protocol
// error, and closing the transport.

// errCloseSent is the cause of writes refused after a close frame went out.
var errCloseSent = errors.New("ws: close frame sent")

// lingerTime bounds how long a connection failed for a protocol error keeps
// reading, after its close frame, so that the peer receives that frame
// rather than a reset.
const lingerTime = time.Second

// Close starts the close handshake of RFC 6455 section 7: it sends a close
// frame with code and reason, waits for the peer's close frame, then
// closes the transport. Each of the two steps may take up to the
// connection's close timeout (DefaultCloseTimeout unless Options say
// otherwise); after that the transport is closed anyway and Close returns
// an error.
//
// code must be one a close frame may carry (1000-1003, 1007-1014 or
// 3000-4999), or StatusNoStatusReceived to send a close frame with no code
// at all; reason must be valid UTF-8 of at most 123 bytes and empty
// without a code. Otherwise Close returns ErrInvalidCloseCode or
// ErrInvalidCloseReason and does nothing.
//
// While another goroutine reads, that read receives the peer's close frame
// and returns its CloseError; otherwise Close reads until the peer's close
// frame arrives. A message that arrives meanwhile waits a moment for a read
// (so a read loop between two reads loses nothing) and is then dropped.
// Messages queued by Send go out before the close frame. Close returns
// once the goroutines the connection started (Messages, Send, keepalive)
// have ended. On a connection that is closed already, Close returns an
// error that wraps net.ErrClosed.
func (c *Conn) Close(code StatusCode, reason string) error {
	if code != StatusNoStatusReceived && !code.validOnWire() {
		return fmt.Errorf("%w: %d", ErrInvalidCloseCode, int(code))
	}
	if !validCloseReason(reason) || (code == StatusNoStatusReceived && reason != "") {
		return ErrInvalidCloseReason
	}
	if h := c.host(); h != nil && !h.hostCloseCode(code) {
		return fmt.Errorf("%w: %d: %w", ErrInvalidCloseCode, int(code), errHost("this close code"))
	}
	c.stopGoroutines()
	defer c.waitGoroutines()
	if c.isClosed() {
		return c.closedErr()
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.closeTimeout)
	err := c.waitSent(ctx)
	if err == nil {
		err = c.writeClose(ctx, code, reason)
	}
	cancel()
	switch {
	case err == nil:
	case c.isClosed():
		return c.closedErr()
	case c.closeSent():
		// Another Close, or the answer to the peer's close frame, sent
		// one first: wait for the handshake to end as that one does.
	default:
		err = fmt.Errorf("ws: close: %w", err)
		c.closeTransport(err)
		return err
	}
	err = c.waitPeerClose(c.closeTimeout)
	c.closeTransport(err) // a no-op after the peer's close frame
	if err == nil {
		var ce CloseError
		if cause := c.causeErr(); !errors.As(cause, &ce) {
			// The transport ended without the peer's close frame.
			return &ClosedError{Cause: cause}
		}
	}
	return err
}

// CloseNow closes the transport at once, without a close handshake. Reads
// and writes in progress fail, and so do messages still in the Send queue.
// It returns once the goroutines the connection started have ended. On a
// connection that is closed already it returns an error that wraps
// net.ErrClosed.
func (c *Conn) CloseNow() error {
	return c.abort(ErrLocalClose)
}

// abort is CloseNow with the given cause.
func (c *Conn) abort(cause error) error {
	c.stopGoroutines()
	defer c.waitGoroutines()
	if c.isClosed() {
		return c.closedErr()
	}
	c.closeTransport(cause)
	return nil
}

// writeClose sends a close frame. StatusNoStatusReceived sends one
// without a code.
func (c *Conn) writeClose(ctx context.Context, code StatusCode, reason string) error {
	var p [125]byte
	return c.writeFrame(ctx, frame.OpClose, closePayload(p[:], code, reason))
}

// closePayload puts code and as much of reason as fits into p and
// returns the close frame's payload: none for StatusNoStatusReceived.
func closePayload(p []byte, code StatusCode, reason string) []byte {
	if code == StatusNoStatusReceived {
		return p[:0]
	}
	binary.BigEndian.PutUint16(p, uint16(code))
	return p[:2+copy(p[2:], reason)]
}

// answerClose sends the close frame that answers the peer's, within
// closeTimeout. When no other write is under way it holds the frame lock
// and bounds the write with the transport's write deadline, which only a
// holder of that lock moves: no timer, context or watcher of its own for
// each connection that the peer closes. Otherwise it waits for the lock
// and writes under a context with the timeout, which bounds the wait too.
func (c *Conn) answerClose(code StatusCode) {
	if !c.tryLock(frameLock) {
		ctx, cancel := context.WithTimeout(context.Background(), c.closeTimeout)
		c.writeClose(ctx, code, "")
		cancel()
		return
	}
	c.transport.SetWriteDeadline(time.Now().Add(c.closeTimeout))
	var p [2]byte
	c.writeFrameLocked(context.Background(), true, frame.OpClose, 0, closePayload(p[:], code, ""), 0)
	c.transport.SetWriteDeadline(time.Time{})
	c.unlock(frameLock)
}

// closeCodeOf is the code of a close frame with payload p, as closeCode
// keeps it.
func closeCodeOf(p []byte) uint32 {
	if len(p) < 2 {
		return uint32(StatusNoStatusReceived)
	}
	return uint32(binary.BigEndian.Uint16(p))
}

// closeSent reports whether a close frame went out.
func (c *Conn) closeSent() bool { return c.closeCode.Load() != 0 }

// waitPeerClose waits up to d for the peer's close frame. With no read in
// progress it reads and drops messages itself.
func (c *Conn) waitPeerClose(d time.Duration) error {
	// The peer's close frame closes the transport (handlePeerClose), so
	// the end of the transport is what to wait for.
	if c.isClosed() {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var t *time.Timer
	defer func() {
		if t != nil {
			t.Stop()
		}
	}()
	for {
		read, gen, grace := c.drainUntilClose(ctx, c.closeGrace())
		if c.isClosed() {
			return nil
		}
		var released <-chan struct{} = closedChan
		var graceOver <-chan time.Time
		if !read {
			// A read of the user's holds the reader and will see the close
			// frame, or a message waits for one: wait until the reader is
			// let go, in case no read follows, or the grace ends.
			released = c.readReleased(gen)
			if grace > 0 {
				if t == nil {
					t = time.NewTimer(grace)
				} else {
					t.Reset(grace)
				}
				graceOver = t.C
			}
		}
		select {
		case <-c.done():
			return nil
		case <-ctx.Done():
			return fmt.Errorf("ws: close handshake: no close frame from the peer within %v: %w", d, context.DeadlineExceeded)
		case <-released:
		case <-graceOver:
		}
	}
}

// graceLooks is how many times Close must find a pending message still
// unread, the last of them at least closeGrace after it arrived, before it
// drops it: so a process that was not scheduled for a while, which stalls
// the reading goroutine and Close alike, does not lose a message that a
// read would have taken, since Close looks again after a wait of its own.
const graceLooks = 3

// closeGrace is how long a message that arrives during the close
// handshake waits for a read before Close drops it.
func (c *Conn) closeGrace() time.Duration {
	return min(c.closeTimeout/10, 500*time.Millisecond)
}

// handlePeerClose acts on the peer's close frame: it checks the frame,
// answers it if this side had not sent one, and closes the transport. It
// returns the peer's CloseError, or the protocol error the frame makes.
func (c *Conn) handlePeerClose(p []byte) error {
	ce := CloseError{Code: StatusNoStatusReceived}
	switch {
	case len(p) == 1:
		return c.fail(ErrBadClosePayload)
	case len(p) >= 2:
		ce.Code = StatusCode(binary.BigEndian.Uint16(p))
		if !ce.Code.validOnWire() {
			return c.fail(fmt.Errorf("%w %d", ErrBadCloseCode, int(ce.Code)))
		}
		if !c.skipUTF8 && !utf8.Valid(p[2:]) {
			return c.fail(fmt.Errorf("%w in close reason", ErrInvalidUTF8))
		}
		ce.Reason = string(p[2:])
	}
	// The error is boxed once, not once for each use.
	var err error = ce
	c.setCause(err)
	if !c.closeSent() {
		c.answerClose(ce.Code)
	}
	c.closeTransport(err)
	return err
}

// fail ends the connection for a protocol error of the peer's (RFC 6455
// section 7.1.7): it sends a close frame with the error's code, keeps
// reading for a moment so the peer can take that frame, and closes the
// transport. It returns err.
func (c *Conn) fail(err error) error {
	var pe *ProtocolError
	if !errors.As(err, &pe) {
		pe = &ProtocolError{Code: StatusInternalError, Reason: "internal error"}
	}
	c.rd.err = err
	c.setCause(err)
	linger := min(lingerTime, c.closeTimeout)
	if !c.closeSent() && !c.isClosed() {
		ctx, cancel := context.WithTimeout(context.Background(), linger)
		c.writeClose(ctx, pe.Code, pe.Reason)
		cancel()
	}
	if cw, ok := c.transport.(interface{ CloseWrite() error }); ok && !c.isClosed() {
		cw.CloseWrite()
		c.transport.SetReadDeadline(time.Now().Add(linger))
		var scratch [512]byte
		for {
			if _, rerr := c.transport.Read(scratch[:]); rerr != nil {
				break
			}
		}
	}
	c.closeTransport(err)
	return err
}

// validCloseReason reports whether reason may be sent in a close frame.
func validCloseReason(reason string) bool {
	return len(reason) <= 123 && utf8.ValidString(reason)
}

// CloseRead is for a connection that only writes. It starts a goroutine
// that reads the connection in its place, so that the peer's pings are
// answered, Ping and keepalive get their pongs, and the peer's close frame
// is taken: Done, Err and the next write then learn that the connection
// ended. Without a reader none of that happens, and writes go on
// succeeding after the peer has closed, until the transport fails.
//
// A data message from the peer breaks the agreement: the connection is
// closed with StatusPolicyViolation and Err returns
// ErrUnexpectedMessage; once this side has sent its close frame, data
// messages are dropped instead, since the peer may send them until it
// sees that frame. Call CloseRead once, and do not call Read, ReadAppend,
// Reader or Messages after it.
//
// The returned context, which has ctx's values, is done once the
// goroutine has stopped: when the connection ends, or when ctx is done,
// which leaves the connection open and readable again. Close and
// CloseNow wait for the goroutine.
func (c *Conn) CloseRead(ctx context.Context) context.Context {
	done, stopped := context.WithCancel(context.WithoutCancel(ctx))
	ok := c.goroutine(func(context.Context) error {
		defer stopped()
		// readCall waits for a data message, taking control frames on the
		// way; the peer's close frame, or the transport's end, ends it.
		// The errgroup's context ends only with the transport, which
		// ends the read anyway.
		for {
			err := c.readCall(ctx, func() error {
				if c.closeSent() {
					return nil // dropped by the next readCall
				}
				return c.fail(ErrUnexpectedMessage)
			})
			if err != nil {
				return nil // the reason, if the connection ended, is its Err
			}
		}
	})
	if !ok {
		stopped()
	}
	return done
}

// closeErrOrSent is the cause given for writes after a close frame went out.
func (c *Conn) closeErrOrSent() error {
	if err := c.causeErr(); err != nil {
		return err
	}
	return errCloseSent
}

// Done returns a channel that is closed when the connection's transport
// has closed, for whatever reason.
func (c *Conn) Done() <-chan struct{} { return c.done() }

// closedChan is the closed channel that marks a closed connection.
var closedChan = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

// done returns a channel closed when the transport has closed. It is
// made on first use, so that an idle connection nobody waits on holds
// none: once closed, the connection points at closedChan.
func (c *Conn) done() <-chan struct{} {
	if p := c.closed.Load(); p != nil {
		return *p
	}
	ch := make(chan struct{})
	if c.closed.CompareAndSwap(nil, &ch) {
		return ch
	}
	return *c.closed.Load()
}

// markClosed marks the connection closed and wakes whoever waits on done.
// Set the cause before.
func (c *Conn) markClosed() {
	if p := c.closed.Swap(&closedChan); p != nil && p != &closedChan {
		close(*p)
	}
}

// Err returns why the connection ended, or nil while it is open. It is
// set as the connection begins to end, before Done is closed. Every
// ending has a cause, and a call that the ending interrupted returns an
// error that matches the same targets with errors.Is and errors.As:
//
//   - a close frame came from the peer, whichever side began the close
//     handshake: the peer's CloseError;
//   - CloseNow, or Close after the peer's close frame: see above; CloseNow
//     alone: ErrLocalClose;
//   - Close whose peer sent no close frame within the close timeout, or
//     Server.Shutdown whose context ended first: an error wrapping
//     context.DeadlineExceeded (or the context's error);
//   - keepalive's ping got no pong: ErrKeepaliveTimeout;
//   - the peer broke the protocol: a *ProtocolError such as
//     ErrMessageTooBig;
//   - the transport broke without a close frame: an error wrapping
//     io.ErrUnexpectedEOF, or the transport's error.
//
// IsNormalClosure tells an ending that went as it should from the others:
//
//	if err := c.Err(); !ws.IsNormalClosure(err) {
//		log.Printf("connection ended badly: %v", err)
//	}
func (c *Conn) Err() error {
	return c.causeErr()
}

// closedErr returns the error for a call on a connection that is closed,
// or closing for a cause already known.
func (c *Conn) closedErr() error {
	return &ClosedError{Cause: c.causeErr()}
}

// setCause records why the connection ends, unless a cause is recorded
// already: the first one stands. The side that is ending the connection
// sets it before it sends its close frame, so that calls failing meanwhile
// report it.
func (c *Conn) setCause(err error) {
	if c.cause.Load() != nil {
		return
	}
	p := new(error)
	*p = err
	c.cause.CompareAndSwap(nil, p)
}

// causeErr returns the recorded cause, or nil.
func (c *Conn) causeErr() error {
	if p := c.cause.Load(); p != nil {
		return *p
	}
	return nil
}

// isClosed reports whether the transport is closed.
func (c *Conn) isClosed() bool { return c.closed.Load() == &closedChan }

// isEnding reports whether the connection is ending for a recorded
// cause, so an I/O error may be the transport's closing under a read or
// write: closedErr then gives the cause.
func (c *Conn) isEnding() bool { return c.cause.Load() != nil }

// closeTransport closes the transport once, recording why.
func (c *Conn) closeTransport(cause error) {
	c.closeOnce.Do(func() {
		c.setCause(cause)
		c.transport.Close()
		c.markClosed()
		c.goMu.Lock()
		if c.group != nil {
			c.group.cancel()
			if id := c.group.parked; id != 0 {
				// The Messages goroutine is parked: it ends here.
				poller.forget(id)
				c.endParked()
			}
		}
		c.goMu.Unlock()
	})
}

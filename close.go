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
	case c.closeSent.Load():
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
	n := 0
	if code != StatusNoStatusReceived {
		binary.BigEndian.PutUint16(p[:], uint16(code))
		n = 2 + copy(p[2:], reason)
	}
	return c.writeFrame(ctx, true, frame.OpClose, p[:n], 0)
}

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
	for {
		if c.drainUntilClose(ctx) && c.isClosed() {
			return nil
		}
		// A read of the user's holds the reader: it will see the close
		// frame. Look again now and then, in case it stops reading.
		t := time.NewTimer(20 * time.Millisecond)
		select {
		case <-c.done():
			t.Stop()
			return nil
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("ws: close handshake: no close frame from the peer within %v: %w", d, context.DeadlineExceeded)
		case <-t.C:
		}
	}
}

// drainUntilClose reads until the peer's close frame, when no read of the
// user's is in progress. It reports whether it read.
//
// It does not take messages from a user who is still reading: a message
// it comes upon is left for the next read, and dropped only when no read
// has taken it within closeGrace; after that, messages are dropped at once.
// So a read loop in another goroutine, which is out of Read for a moment
// between messages, loses nothing, while a connection no one reads still
// reaches the close frame soon.
func (c *Conn) drainUntilClose(ctx context.Context) bool {
	if !c.tryLock(readLock) {
		return false
	}
	defer c.unlock(readLock)
	if c.rd.err != nil {
		return true
	}
	if c.rd.inMsg && !c.rd.pending {
		// The user is in the middle of reading a message.
		return false
	}
	stop := interrupt(ctx, c.nc, readDeadline)
	defer stop()
	for {
		if c.rd.pending {
			if !c.rd.graceSpent && (monotonicNow()-c.rd.pendingAt < c.closeGrace() || c.rd.pendingLooks < graceLooks) {
				c.rd.pendingLooks++
				return false
			}
			// No one took it: drop it, and the ones after it at once, until
			// a read shows someone is reading after all.
			c.rd.pending = false
			c.rd.graceSpent = true
		}
		err := c.skipMessage()
		if err == nil {
			err = c.nextFrame()
			if err == nil {
				c.rd.pending = true
				c.rd.pendingAt, c.rd.pendingLooks = monotonicNow(), 0
				continue
			}
		}
		if !isTimeout(err) {
			// The peer is gone, or broke the protocol: the connection is
			// over either way.
			c.readFailed(ctx, err, false, false)
		}
		return true
	}
}

// graceLooks is how many times, 20 ms apart, Close must find a pending
// message still unread, besides closeGrace passing, before it drops it:
// so a process that was not scheduled for a while, which stalls the
// reading goroutine and Close alike, does not lose a message that a read
// would have taken.
const graceLooks = 10

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
	c.setCause(ce)
	if !c.closeSent.Load() {
		ctx, cancel := context.WithTimeout(context.Background(), c.closeTimeout)
		c.writeClose(ctx, ce.Code, "")
		cancel()
	}
	c.closeTransport(ce)
	return ce
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
	if !c.closeSent.Load() && !c.isClosed() {
		ctx, cancel := context.WithTimeout(context.Background(), linger)
		c.writeClose(ctx, pe.Code, pe.Reason)
		cancel()
	}
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok && !c.isClosed() {
		cw.CloseWrite()
		c.nc.SetReadDeadline(time.Now().Add(linger))
		var scratch [512]byte
		for {
			if _, rerr := c.nc.Read(scratch[:]); rerr != nil {
				break
			}
		}
	}
	c.closeTransport(err)
	return err
}

// Ping sends a ping and waits for its pong, so the time it takes is a
// round trip. The pong is read by whichever goroutine reads the
// connection (Read, ReadAppend, Reader, or the Messages pump); while none
// does, Ping reads the control frames itself, stopping at the next data
// message, which stays for the next read. If the user holds a message
// half read, the pong waits behind it.
func (c *Conn) Ping(ctx context.Context) error {
	ch := make(chan struct{}, 1)
	c.pingMu.Lock()
	id := c.pingNext
	c.pingNext++
	if c.pings == nil {
		c.pings = make(map[uint64]chan struct{})
	}
	c.pings[id] = ch
	c.pingMu.Unlock()
	defer func() {
		c.pingMu.Lock()
		delete(c.pings, id)
		c.pingMu.Unlock()
	}()
	var p [8]byte
	binary.BigEndian.PutUint64(p[:], id)
	if err := c.writeFrame(ctx, true, frame.OpPing, p[:], 0); err != nil {
		return err
	}
	for {
		select {
		case <-ch:
			return nil
		case <-ctx.Done():
			return ctxError(ctx)
		case <-c.done():
			return c.closedErr()
		default:
		}
		if c.backgroundRead(ctx) {
			continue
		}
		// Another goroutine reads and will see the pong, or a message
		// waits for the user; look again now and then.
		t := time.NewTimer(20 * time.Millisecond)
		select {
		case <-ch:
			t.Stop()
			return nil
		case <-ctx.Done():
			t.Stop()
			return ctxError(ctx)
		case <-c.done():
			t.Stop()
			return c.closedErr()
		case <-t.C:
		}
	}
}

// pongArrived completes the Ping call waiting for the pong with this id.
// A pong answers every ping sent before it with a lower id too, since the
// peer may answer only the latest of several pings (RFC 6455 section 5.5.3).
func (c *Conn) pongArrived(id uint64) {
	c.pingMu.Lock()
	for pid, ch := range c.pings {
		if pid <= id && id < c.pingNext {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
	c.pingMu.Unlock()
}

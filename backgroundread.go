package ws

import (
	"context"
	"errors"
	"time"
)

// errControlHandled ends a background read after a control frame.
var errControlHandled = errors.New("control frame handled")

// backgroundRead reads control frames while no read of the user's is in
// progress, so that pongs and close frames are seen on a connection whose
// user reads nothing. It stops after one control frame, at the header of
// the next data message, which it leaves for the user, when ctx is done,
// or when a user's read begins. It reports whether it could read at all;
// if not, because a read of the user's holds the reader or a message
// waits for one, readReleased(gen) says when to try again.
func (c *Conn) backgroundRead(ctx context.Context) (read bool, gen uint32) {
	ok, gen := c.tryLockRead()
	if !ok {
		return false, gen
	}
	defer c.unlock(readLock)
	if c.rd.err != nil || c.rd.inMsg || c.isClosed() {
		return false, gen + 1 // the release below is not the one to wait for
	}
	stop := interrupt(ctx, c.transport, interruptRead)
	err := c.frameAhead()
	cancelled := stop()
	switch {
	case err == nil, err == errControlHandled:
	case cancelled, isTimeout(err) && !c.isClosed():
		// Interrupted by ctx or by a user's read: nothing was consumed.
	default:
		c.readFailed(ctx, err, false, false)
	}
	return true, 0
}

// frameAhead reads frames until a control frame, which it handles and
// then returns errControlHandled, or the header of a data message, which
// it leaves pending for the next read of the user's.
func (c *Conn) frameAhead() error {
	c.rd.oneControl = true
	err := c.nextFrame()
	c.rd.oneControl = false
	if err == nil {
		c.rd.markPending()
	}
	return err
}

// markPending marks the message whose header was just read as pending:
// left for the next read of the user's (see startMessage).
func (rd *reader) markPending() {
	rd.pending = true
	rd.pendingAt, rd.pendingLooks = monotonicNow(), 0
}

// drainUntilClose reads until the peer's close frame, when no read of the
// user's is in progress, for Close. It reports whether it read; if not,
// Close waits for readReleased(gen), or for wait while a message waits out
// its grace.
//
// It does not take messages from a user who is still reading: a message
// it comes upon is left for the next read, and dropped only when no read
// has taken it within grace (see graceLooks); after that, messages are dropped at once.
// So a read loop in another goroutine, which is out of Read for a moment
// between messages, loses nothing, while a connection no one reads still
// reaches the close frame soon.
func (c *Conn) drainUntilClose(ctx context.Context, grace time.Duration) (read bool, gen uint32, wait time.Duration) {
	ok, gen := c.tryLockRead()
	if !ok {
		return false, gen, 0
	}
	defer c.unlock(readLock)
	gen++ // the release below is not the one to wait for
	if c.rd.err != nil || (c.rd.inMsg && !c.rd.pending) {
		// The reading has ended, and with it the connection; or the user
		// is in the middle of reading a message.
		return false, gen, 0
	}
	stop := interrupt(ctx, c.transport, interruptRead)
	defer stop()
	for {
		if c.rd.pending && !c.rd.graceSpent {
			left := grace - (monotonicNow() - c.rd.pendingAt)
			if left > 0 || c.rd.pendingLooks < graceLooks {
				c.rd.pendingLooks++
				return false, gen, max(left, grace/graceLooks)
			}
		}
		if c.rd.pending {
			// No one took it: drop it, and the ones after it at once, until
			// a read shows someone is reading after all.
			c.rd.pending = false
			c.rd.graceSpent = true
		}
		err := c.skipMessage()
		if err == nil {
			err = c.nextFrame()
			if err == nil {
				c.rd.markPending()
				continue
			}
		}
		if !isTimeout(err) {
			// The peer is gone, or broke the protocol: the connection is
			// over either way.
			c.readFailed(ctx, err, false, false)
		}
		return true, gen, 0
	}
}

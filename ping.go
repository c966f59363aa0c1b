package ws

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/seed-d6ba7b20/ws/internal/frame"
)

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

// keepalive pings at the interval and ends the connection when a pong is
// late.
func (c *Conn) keepalive(ctx context.Context) error {
	t := time.NewTicker(c.keepInt)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, c.keepTime)
		err := c.Ping(pctx)
		cancel()
		if err == nil {
			continue
		}
		if ctx.Err() != nil || c.isClosed() || c.closeSent.Load() {
			// The connection is closing: the close handshake has its own
			// time limit.
			return nil
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%w (%v)", ErrKeepaliveTimeout, c.keepTime)
		}
		return err
	}
}

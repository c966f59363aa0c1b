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
// round trip. payload, at most 125 bytes, is the ping's application data,
// which the peer sends back in its pong; with a nil payload Ping sends
// eight bytes of its own that tell its pong from others'. A pong answers
// the latest ping with the same payload and every ping sent before that
// one, since a peer may answer only the latest of several pings (RFC 6455
// section 5.5.3).
//
// The pong is read by whichever goroutine reads the connection (Read,
// ReadAppend, Reader, the Messages goroutine or CloseRead's); while none
// does, Ping reads the control frames itself, stopping at the next data
// message, which stays for the next read. If the user holds a message half
// read, the pong waits behind it.
func (c *Conn) Ping(ctx context.Context, payload []byte) error {
	if c.host() != nil {
		return errHost("Ping")
	}
	if len(payload) > 125 {
		return ErrPayloadTooLong
	}
	w := &pingWait{ch: make(chan struct{}, 1)}
	c.pingMu.Lock()
	id := c.pingNext
	c.pingNext++
	if payload == nil {
		var p [8]byte
		binary.BigEndian.PutUint64(p[:], id)
		payload = p[:]
	}
	w.payload = string(payload)
	if c.pings == nil {
		c.pings = make(map[uint64]*pingWait)
	}
	c.pings[id] = w
	c.pingMu.Unlock()
	defer func() {
		c.pingMu.Lock()
		delete(c.pings, id)
		c.pingMu.Unlock()
	}()
	if err := c.writeFrame(ctx, frame.OpPing, payload); err != nil {
		return err
	}
	c.out.pings.Add(1)
	for {
		// The pong, the context and the end of the connection come before
		// another read.
		if len(w.ch) > 0 {
			return nil
		}
		if ctx.Err() != nil {
			return ctxError(ctx)
		}
		if c.isClosed() {
			return c.closedErr()
		}
		if read, gen := c.backgroundRead(ctx); !read {
			// Another goroutine reads and will see the pong, or a message
			// waits for the user: wait for the reader to be let go.
			select {
			case <-w.ch:
				return nil
			case <-ctx.Done():
				return ctxError(ctx)
			case <-c.done():
				return c.closedErr()
			case <-c.readReleased(gen):
			}
		}
	}
}

// Pong sends a pong with payload, at most 125 bytes: the answer to a ping
// when Options.DisableAutoPong is set and Options.OnPing decides to
// answer, or an unsolicited pong, which the peer does not answer, to show
// that this side is alive.
func (c *Conn) Pong(ctx context.Context, payload []byte) error {
	if c.host() != nil {
		return errHost("Pong")
	}
	if len(payload) > 125 {
		return ErrPayloadTooLong
	}
	return c.writeFrame(ctx, frame.OpPong, payload)
}

// pingWait is a Ping waiting for its pong.
type pingWait struct {
	payload string
	ch      chan struct{}
}

// pongArrived completes the Ping calls that a pong with payload p
// answers: the latest with that payload, and every one before it.
func (c *Conn) pongArrived(p []byte) {
	c.pingMu.Lock()
	defer c.pingMu.Unlock()
	var latest uint64
	found := false
	for id, w := range c.pings {
		if w.payload == string(p) && (!found || id > latest) {
			latest, found = id, true
		}
	}
	if !found {
		return
	}
	for id, w := range c.pings {
		if id <= latest {
			select {
			case w.ch <- struct{}{}:
			default:
			}
		}
	}
}

// keepalive pings at the interval and ends the connection when a pong is
// late.
func (c *Conn) keepalive(ctx context.Context) error {
	t := time.NewTicker(c.pingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, c.pingTimeout)
		err := c.Ping(pctx, nil)
		cancel()
		if err == nil {
			continue
		}
		if ctx.Err() != nil || c.isClosed() || c.closeSent() {
			// The connection is closing: the close handshake has its own
			// time limit.
			return nil
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%w (%v)", ErrKeepaliveTimeout, c.pingTimeout)
		}
		return err
	}
}

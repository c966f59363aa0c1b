package ws

import (
	"context"
	"fmt"
	"io"

	"github.com/seed-d6ba7b20/ws/internal/frame"
	"github.com/seed-d6ba7b20/ws/internal/mask"
)

// headroom is the room kept in front of a write buffer's payload for the
// frame header, so header and payload go out in one write without a copy.
const headroom = frame.MaxHeaderSize

// writeFrame writes one frame. Every frame the connection sends, data or
// control, goes through it. The payload is b[off:]; when off is at least
// headroom, b is a buffer of the connection's whose first off bytes are
// free for the header, and the payload may be masked in place.
//
// Cancelling ctx interrupts a blocked write. If no byte of the frame went
// out the connection stays usable and writeFrame returns ctx.Err();
// otherwise the frame is cut short, so the connection is closed.
func (c *Conn) writeFrame(ctx context.Context, fin bool, op byte, p []byte, rsv byte) error {
	return c.writeFrameAt(ctx, fin, op, rsv, p, 0)
}

func (c *Conn) writeFrameAt(ctx context.Context, fin bool, op, rsv byte, b []byte, off int) error {
	if err := c.lock(ctx, c.frameMu); err != nil {
		return err
	}
	defer unlock(c.frameMu)
	if c.closeSent.Load() {
		return &ClosedError{Cause: c.closeErrOrSent()}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	h := frame.Header{Fin: fin, Rsv: rsv, Opcode: op, Length: int64(len(b) - off)}
	if c.client {
		h.Masked = true
		h.Key = uint32(c.rng.Uint64())
	}
	hn := frame.Put(c.whdr[:], h)
	stop := interrupt(ctx, c.nc, writeDeadline)
	n, err := c.writeRaw(c.whdr[:hn], b, off, h)
	cancelled := stop()
	if err != nil {
		if cancelled && n == 0 && !c.isClosed() {
			return ctx.Err()
		}
		if c.isClosed() {
			return c.closedErr()
		}
		if cancelled {
			err = fmt.Errorf("ws: write interrupted in the middle of a frame: %w", ctx.Err())
		} else {
			err = fmt.Errorf("ws: write: %w", err)
		}
		c.closeTransport(err)
		return err
	}
	if op == frame.OpClose {
		c.closeSent.Store(true)
	}
	return nil
}

// writeRaw puts a header and payload on the wire, masking the payload
// for a client, and returns how many bytes went out.
func (c *Conn) writeRaw(hdr, b []byte, off int, h frame.Header) (int, error) {
	p := b[off:]
	if off >= headroom {
		// The payload sits in a buffer of ours, with room for the header.
		if h.Masked {
			mask.Apply(h.Key, 0, p)
		}
		start := off - len(hdr)
		copy(b[start:], hdr)
		return c.nc.Write(b[start:])
	}
	if !h.Masked && len(p) > writeBufSize-headroom && c.raw != nil {
		c.bufsArr[0], c.bufsArr[1] = hdr, p
		c.bufs = c.bufsArr[:]
		n, err := c.bufs.WriteTo(c.nc)
		c.bufsArr[0], c.bufsArr[1] = nil, nil
		return int(n), err
	}
	// Copy through a pooled buffer: small frames in one write, masked
	// frames in pieces, since the caller's bytes must not change.
	bp := getWriteBuf()
	defer putWriteBuf(bp)
	buf := *bp
	total := 0
	m := copy(buf, hdr)
	pos := 0
	for first := true; first || len(p) > 0; first = false {
		k := copy(buf[m:], p)
		if h.Masked {
			pos = mask.Apply(h.Key, pos, buf[m:m+k])
		}
		n, err := c.nc.Write(buf[:m+k])
		total += n
		if err != nil {
			return total, err
		}
		p = p[k:]
		m = 0
	}
	return total, nil
}

// closeErrOrSent is the cause given for writes after a close frame went out.
func (c *Conn) closeErrOrSent() error {
	if c.isClosed() && c.closeErr != nil {
		return c.closeErr
	}
	return errCloseSent
}

// Write sends p as one message of type typ. It is safe to call from many
// goroutines at once; messages go out whole, one after another.
//
// Cancelling ctx interrupts a blocked write. If no byte of the message had
// gone out, the connection stays usable and Write returns ctx.Err();
// otherwise the message is cut short and the connection is closed.
func (c *Conn) Write(ctx context.Context, typ MessageType, p []byte) error {
	if typ != MessageText && typ != MessageBinary {
		return ErrInvalidMessageType
	}
	if err := c.lock(ctx, c.msgMu); err != nil {
		return err
	}
	defer unlock(c.msgMu)
	return c.writeFrame(ctx, true, byte(typ), p, 0)
}

// Writer starts a message of type typ and returns a writer of its bytes.
// The message goes out in frames as the writer's buffer fills, and ends
// when the writer is closed. Until then other messages wait, though
// control frames may go out between the frames; so close the writer
// promptly, and always.
//
// ctx applies to the whole message: cancelling it before the first frame
// went out leaves the connection usable, later it closes the connection.
func (c *Conn) Writer(ctx context.Context, typ MessageType) (io.WriteCloser, error) {
	if typ != MessageText && typ != MessageBinary {
		return nil, ErrInvalidMessageType
	}
	if err := c.lock(ctx, c.msgMu); err != nil {
		return nil, err
	}
	w := &c.msgW
	w.ctx = ctx
	w.op = byte(typ)
	w.started = false
	w.open = true
	w.err = nil
	return w, nil
}

// messageWriter is the io.WriteCloser that Writer returns.
type messageWriter struct {
	c       *Conn
	ctx     context.Context
	op      byte // opcode of the next frame
	started bool // a frame of the message went out
	open    bool
	bufp    *[]byte
	n       int // payload bytes in the buffer, after the headroom
	err     error
}

// Write adds p to the message.
func (w *messageWriter) Write(p []byte) (int, error) {
	if !w.open {
		return 0, ErrWriterClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	written := 0
	for len(p) > 0 {
		if w.n == 0 && len(p) >= writeBufSize-headroom {
			// A large write with nothing buffered goes out as its own
			// frame, without a copy.
			if err := w.flushFrame(false, p, 0); err != nil {
				return written, err
			}
			return written + len(p), nil
		}
		if w.bufp == nil {
			w.bufp = getWriteBuf()
		}
		k := copy((*w.bufp)[headroom+w.n:], p)
		w.n += k
		written += k
		p = p[k:]
		if headroom+w.n == len(*w.bufp) {
			if err := w.flushBuf(false); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

// flushBuf sends the buffered bytes as a frame.
func (w *messageWriter) flushBuf(fin bool) error {
	var err error
	if w.bufp != nil {
		err = w.flushFrame(fin, (*w.bufp)[:headroom+w.n], headroom)
	} else {
		err = w.flushFrame(fin, nil, 0)
	}
	w.n = 0
	return err
}

func (w *messageWriter) flushFrame(fin bool, b []byte, off int) error {
	err := w.c.writeFrameAt(w.ctx, fin, w.op, 0, b, off)
	if err != nil {
		if w.started && !w.c.isClosed() {
			// Half a message went out: the stream cannot recover.
			w.c.closeTransport(fmt.Errorf("ws: message cut short: %w", err))
		}
		w.err = err
		return err
	}
	w.started = true
	w.op = frame.OpContinuation
	return nil
}

// Close sends the rest of the message and ends it, letting the next
// message go out. It returns the first error of the message's writes.
func (w *messageWriter) Close() error {
	if !w.open {
		return ErrWriterClosed
	}
	w.open = false
	err := w.err
	if err == nil {
		err = w.flushBuf(true)
	}
	if w.bufp != nil {
		putWriteBuf(w.bufp)
		w.bufp = nil
	}
	w.n = 0
	unlock(w.c.msgMu)
	return err
}

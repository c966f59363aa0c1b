package ws

import (
	"context"
	"fmt"
	"net"
	"sync"

	"github.com/seed-d6ba7b20/ws/internal/frame"
	"github.com/seed-d6ba7b20/ws/internal/mask"
)

// headroom is the room kept in front of a write buffer's payload for the
// frame header, so header and payload go out in one write without a copy.
const headroom = frame.MaxHeaderSize

// writeFrame writes a frame that is whole in itself, an uncompressed
// message in one frame or a control frame, with payload p, which it
// leaves unchanged; see writeFrameAt.
func (c *Conn) writeFrame(ctx context.Context, op byte, p []byte) error {
	return c.writeFrameAt(ctx, true, op, 0, p, 0)
}

// wholeFrame is the off of writeFrameAt for b that is a whole frame already,
// header included, as a prepared message for Broadcast holds it.
const wholeFrame = -1

// writeFrameAt writes one frame. Every frame the connection sends, data or
// control, goes through it. The payload is b[off:]; when off is at least
// headroom, b is a buffer of the connection's whose first off bytes are
// free for the header, and the payload may be masked in place.
//
// Cancelling ctx interrupts a blocked write. If no byte of the frame went
// out the connection stays usable and writeFrameAt returns ctx.Err(). If
// the frame ends its message (or is a control frame), the rest of it is
// kept and goes out before the next frame, and writeFrameAt returns a
// *deferredError; a frame cut off in the middle of a message closes the
// connection, as the message can no longer be finished in order.
func (c *Conn) writeFrameAt(ctx context.Context, fin bool, op, rsv byte, b []byte, off int) error {
	if err := c.lock(ctx, frameLock); err != nil {
		return err
	}
	defer c.unlock(frameLock)
	return c.writeFrameLocked(ctx, fin, op, rsv, b, off)
}

// writeFrameLocked is writeFrameAt with frameLock held.
func (c *Conn) writeFrameLocked(ctx context.Context, fin bool, op, rsv byte, b []byte, off int) error {
	if c.closeSent() {
		return &ClosedError{Cause: c.closeErrOrSent()}
	}
	if ctx.Err() != nil {
		return ctxError(ctx)
	}
	stop := interrupt(ctx, c.transport, interruptWrite)
	if err := c.flushTail(); err != nil {
		return c.writeFailed(ctx, err, stop(), false, op == frame.OpClose)
	}
	var n int
	var err error
	var h frame.Header
	hn := 0
	if off == wholeFrame {
		n, err = c.transport.Write(b)
	} else {
		h = frame.Header{Fin: fin, Rsv: rsv, Opcode: op, Length: int64(len(b) - off)}
		if c.client {
			h.Masked = true
			h.Key = uint32(c.rng.Uint64())
		}
		hn = frame.Put(c.whdr[:], h)
		n, err = c.writeRaw(c.whdr[:hn], b, off, h)
	}
	cancelled := stop()
	if err != nil {
		if n > 0 && cancelled && !c.isClosed() && (fin || frame.IsControl(op) || off == wholeFrame) {
			// Cut off by the context in the middle of a frame that ends its
			// message: keep the rest, which goes out before any other frame,
			// so the stream stays whole and the message is delivered.
			c.wtail = c.frameRest(b, off, h, hn, n)
			return &deferredError{ctxError(ctx)}
		}
		return c.writeFailed(ctx, err, cancelled, n > 0, op == frame.OpClose)
	}
	if op == frame.OpClose {
		// Only writeClose sends a close frame, through writeFrame, which
		// leaves its payload as it was.
		c.closeCode.Store(closeCodeOf(b[off:]))
	}
	return nil
}

// flushTail writes the rest of a frame that an earlier write left cut off
// (see writeFrameAt), which must go out before any other frame. On an
// error it keeps what is still unwritten. Call it with frameLock held.
func (c *Conn) flushTail() error {
	if len(c.wtail) == 0 {
		return nil
	}
	n, err := c.transport.Write(c.wtail)
	c.wtail = c.wtail[n:]
	if err != nil {
		return err
	}
	c.wtail = nil
	return nil
}

// deferredError is the error of a write that its context cut off in the
// middle of a frame that ends a message: the rest of the frame goes out
// before any other, so the message is delivered whole. It wraps the
// context's error.
type deferredError struct{ err error }

func (e *deferredError) Error() string {
	return "ws: write interrupted; the rest of the message goes out before the next frame: " + e.err.Error()
}

func (e *deferredError) Unwrap() error { return e.err }

// writeFailed turns the error of a frame write into what the caller sees.
// A write its context interrupted before its first byte leaves the
// connection usable; any other failure ends it.
func (c *Conn) writeFailed(ctx context.Context, err error, cancelled, partial, closeFrame bool) error {
	if cancelled && !partial && !c.isClosed() {
		return ctxError(ctx)
	}
	if c.isClosed() || c.isEnding() {
		return c.closedErr()
	}
	if cancelled {
		err = fmt.Errorf("ws: write interrupted in the middle of a frame: %w", ctxError(ctx))
	} else {
		err = fmt.Errorf("ws: write: %w", err)
	}
	if !closeFrame {
		// A close frame's sender closes the transport itself, giving the
		// reason the connection ends rather than this failure.
		c.closeTransport(err)
	}
	return err
}

// frameRest returns a copy of the bytes of a frame after its first n, as
// writeFrameAt put them on the wire (masked, for a client).
func (c *Conn) frameRest(b []byte, off int, h frame.Header, hn, n int) []byte {
	switch {
	case off == wholeFrame:
		return append([]byte(nil), b[n:]...)
	case off >= headroom:
		// The frame stands whole, masked in place, at b[off-hn:].
		return append([]byte(nil), b[off-hn+n:]...)
	}
	var rest []byte
	p := b[off:]
	if n < hn {
		rest = append(rest, c.whdr[n:hn]...)
		n = hn
	}
	start := len(rest)
	rest = append(rest, p[n-hn:]...)
	if h.Masked {
		mask.Apply(h.Key, n-hn, rest[start:])
	}
	return rest
}

// writev is the state of a vectored write of header and payload. It
// comes from a pool: net.Buffers.WriteTo would move a local one to the
// heap, and an idle connection should not carry one.
type writev struct {
	arr  [2][]byte
	bufs net.Buffers
}

var writevPool = sync.Pool{New: func() any { return new(writev) }}

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
		return c.transport.Write(b[start:])
	}
	if !h.Masked && len(p) > writeBufSize-headroom && c.raw != nil {
		v := writevPool.Get().(*writev)
		v.arr = [2][]byte{hdr, p}
		v.bufs = v.arr[:]
		n, err := v.bufs.WriteTo(c.transport)
		v.arr = [2][]byte{}
		writevPool.Put(v)
		return int(n), err
	}
	// Copy through a pooled buffer: small frames in one write, masked
	// frames in pieces, since the caller's bytes must not change. A frame
	// that outgrows the write buffer takes the copy buffer instead, so
	// that one of up to 64 KiB goes out in one write, not five.
	var bp *[]byte
	if len(hdr)+len(p) > writeBufSize {
		bp = getCopyBuf()
	} else {
		bp = getWriteBuf()
	}
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
		n, err := c.transport.Write(buf[:m+k])
		total += n
		if err != nil {
			return total, err
		}
		p = p[k:]
		m = 0
	}
	return total, nil
}

package ws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// beginRead claims the read side for a read call of the user's. A
// background read in progress is interrupted; it consumes nothing of a
// message, so nothing is lost.
func (c *Conn) beginRead(ctx context.Context) error {
	if !c.userReading.CompareAndSwap(false, true) {
		return ErrConcurrentRead
	}
	if !c.tryLock(readLock) {
		c.transport.SetReadDeadline(aLongTimeAgo)
		if err := c.lock(ctx, readLock); err != nil {
			// Let the background read go on undisturbed after all.
			c.transport.SetReadDeadline(time.Time{})
			c.userReading.Store(false)
			c.readWaitEnded()
			return err
		}
		c.transport.SetReadDeadline(time.Time{})
	}
	if c.rd.err != nil {
		c.endRead()
		return &ClosedError{Cause: c.rd.err}
	}
	return nil
}

// endRead ends a read call of the user's. It clears userReading before
// it lets go of the reader, so that a background read woken by the
// release finds the reader free (see tryLockRead).
func (c *Conn) endRead() {
	c.userReading.Store(false)
	c.unlock(readLock)
}

// readFailed turns the error of a read into what the caller sees, and
// gives the read buffer back to its pool when reading has ended. A read
// interrupted by its context consumes nothing it cannot give back later:
// a frame header or control frame is taken whole or not at all, and payload
// bytes only once they are the caller's. So it leaves the connection open
// and returns ctx.Err(), unless fatal is set (a compressed message, whose
// inflater cannot resume).
func (c *Conn) readFailed(ctx context.Context, err error, cancelled, fatal bool) error {
	switch {
	case endsByPeer(err):
		// fail and handlePeerClose have closed the transport already; a
		// transport that reports a protocol error itself has not.
		c.rd.err = err
		c.rd.drop()
		c.closeTransport(err)
		return err
	case cancelled && !fatal && !c.isClosed():
		return ctxError(ctx)
	case cancelled:
		err = fmt.Errorf("ws: read interrupted in the middle of a compressed message: %w", ctxError(ctx))
	case c.isClosed(), c.isEnding():
		// The transport was closed under the read, for the cause.
		c.rd.err = c.causeErr()
		c.rd.drop()
		return c.closedErr()
	case errors.Is(err, io.EOF):
		err = fmt.Errorf("ws: connection lost without a close frame: %w", io.ErrUnexpectedEOF)
	default:
		err = fmt.Errorf("ws: read: %w", err)
	}
	c.rd.err = err
	c.rd.drop()
	c.closeTransport(err)
	return err
}

// endsByPeer reports whether err is, or wraps, a *ProtocolError or a
// CloseError: what errors.As would find, without the two allocations of
// its targets, for every connection that the peer closes.
func endsByPeer(err error) bool {
	switch e := err.(type) {
	case nil:
		return false
	case *ProtocolError, CloseError:
		return true
	case interface{ Unwrap() error }:
		return endsByPeer(e.Unwrap())
	case interface{ Unwrap() []error }:
		for _, w := range e.Unwrap() {
			if endsByPeer(w) {
				return true
			}
		}
	}
	return false
}

// Reader waits for the next message and returns its type and a reader of
// its bytes, which returns io.EOF at the message's end. If the previous
// message was not read to its end, the rest of it is dropped.
//
// Control frames that arrive on the way are handled: pings are answered,
// pongs complete Ping calls, and a close frame completes the close
// handshake and ends the read with the peer's CloseError.
//
// Cancelling ctx interrupts the wait: Reader returns ctx.Err() and the
// connection stays usable, having consumed nothing of the next message.
// The returned reader keeps ctx. Cancelling it in the middle of a message
// interrupts the reader's Read the same way and leaves the connection
// usable; the next Reader, Read or ReadAppend call drops the rest of that
// message.
// Only in a compressed message does cancelling end the connection, since
// the inflater cannot resume.
//
// The reader is valid until the next call of Reader, Read or ReadAppend.
func (c *Conn) Reader(ctx context.Context) (MessageType, io.Reader, error) {
	var typ MessageType
	err := c.readCall(ctx, func() error {
		c.msgR.ctx = ctx
		c.msgR.done = false
		typ = c.rd.typ
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return typ, &c.msgR, nil
}

// messageReader is the io.Reader that Reader returns.
type messageReader struct {
	c    *Conn
	ctx  context.Context
	done bool
}

// Read reads the message's bytes; see Conn.Reader.
func (r *messageReader) Read(p []byte) (int, error) {
	if r.done {
		return 0, io.EOF
	}
	c := r.c
	if r.ctx.Err() != nil {
		return 0, ctxError(r.ctx)
	}
	if err := c.beginRead(r.ctx); err != nil {
		return 0, err
	}
	defer c.endRead()
	stop := interrupt(r.ctx, c.transport, interruptRead)
	n, err := c.readData(p)
	err = c.midMessageEOF(err)
	cancelled := stop()
	if err == io.EOF {
		r.done = true
		return n, io.EOF
	}
	if err != nil {
		err = c.readFailed(r.ctx, err, cancelled, c.rd.comp)
	}
	return n, err
}

// Read waits for the next message and returns it whole. It allocates the
// message's bytes as they arrive, never more than the read limit. For an
// uncompressed message, whatever length its frame headers claim, the
// buffer it holds is never larger than 64 KiB, 16 times the bytes of the
// message the peer has sent up to 1 MiB, or twice those bytes, whichever
// is largest. A message in one uncompressed frame ends in a buffer of its
// exact size: up to 1 MiB that is one allocation and a copy of 64 KiB
// from a pooled buffer; a longer one takes one or two steps more, which
// allocate at most its size again. Use ReadAppend to read into a buffer of yours, or Reader to
// stream a message instead. Cancelling ctx interrupts the read.
// Before the message began the connection stays usable, as for Reader;
// in the middle of a message the bytes read so far are dropped with the
// rest of that message by the next read.
func (c *Conn) Read(ctx context.Context) (MessageType, []byte, error) {
	var typ MessageType
	var b []byte
	err := c.readCall(ctx, func() (err error) {
		typ = c.rd.typ
		b, err = c.readAll()
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	return typ, b, nil
}

// ReadAppend is Read that appends the message to dst and returns the
// extended slice, for a caller that reuses one buffer: once the buffer has
// grown to the size of the messages, reading them allocates nothing. On
// error it returns dst's bytes as they were, in a buffer that may have
// grown. The read limit applies to the message, not to what dst held.
func (c *Conn) ReadAppend(ctx context.Context, dst []byte) (MessageType, []byte, error) {
	var typ MessageType
	start := len(dst)
	err := c.readCall(ctx, func() (err error) {
		typ = c.rd.typ
		dst, err = c.readRest(dst, false)
		return err
	})
	if err != nil {
		return 0, dst[:start], err
	}
	return typ, dst, nil
}

// readCall is the frame of Reader, Read and ReadAppend: it takes the read
// side, waits for the next message and runs body on it, all interrupted
// by ctx. body runs while the read side is held, so it must take from the
// connection what the caller returns. Errors come back as the caller
// reports them.
func (c *Conn) readCall(ctx context.Context, body func() error) error {
	if ctx.Err() != nil {
		return ctxError(ctx)
	}
	if err := c.beginRead(ctx); err != nil {
		return err
	}
	defer c.endRead()
	stop := interrupt(ctx, c.transport, interruptRead)
	err := c.awaitBytes()
	if err == nil {
		err = c.startMessage()
	}
	if err == nil {
		err = body()
	}
	cancelled := stop()
	if err != nil {
		return c.readFailed(ctx, err, cancelled, c.rd.comp && c.rd.inMsg)
	}
	return nil
}

// awaitBytes waits for the peer's next bytes when nothing is buffered
// and no message is under way: the wait of an idle connection. It waits
// here, a few small frames below the user's call, rather than under
// nextFrame and fill, so that a goroutine parked in Read fits the
// smallest stack, 2 KiB (TestIdleStackAndHeap).
func (c *Conn) awaitBytes() error {
	rd := &c.rd
	if rd.pending || rd.inMsg || rd.buffered() > 0 {
		return nil
	}
	rd.release()
	return c.readIdle()
}

// Growth of the buffer of a whole message (see readRest).
const (
	// readFirst is the buffer a message of known length starts with
	// before the peer has sent more than that.
	readFirst = 64 << 10
	// readGrowth is how many times the bytes of a message that have
	// arrived its buffer may hold, up to readEager; past that, twice.
	readGrowth = 16
	readEager  = 1 << 20
)

// readBound is the most that the buffer of a message may hold when
// arrived of its bytes have arrived: 64 KiB, 16 times arrived up to
// 1 MiB, or twice arrived, whichever is largest.
func readBound(arrived int64) int64 {
	return max(readFirst, min(readGrowth*arrived, readEager), 2*arrived)
}

// errCutShort is the transport's io.EOF in the middle of a message.
var errCutShort = fmt.Errorf("message cut short: %w", io.EOF)

// midMessageEOF tells the end of the message that readData reports,
// io.EOF after endMessage, from the transport's io.EOF in the middle of
// it, which readData passes on as it is: that one becomes errCutShort,
// which readFailed reports as the connection lost, rather than a
// message that seems whole.
func (c *Conn) midMessageEOF(err error) error {
	if err == io.EOF && c.rd.inMsg {
		return errCutShort
	}
	return err
}

// readAll reads the rest of the message into a buffer that grows as the
// bytes arrive, or that fits it when its length is known.
func (c *Conn) readAll() ([]byte, error) {
	rd := &c.rd
	// A whole uncompressed message in one frame of known length gets an
	// exact buffer when the bytes already here justify it (readBound):
	// up to 64 KiB, or 16 times what is buffered. A longer one starts in a
	// pooled buffer of 64 KiB, from which readRest moves it to an exact
	// buffer as soon as the bytes that have arrived justify that: a
	// message of up to 1 MiB is one allocation and a copy of 64 KiB.
	// A compressed message in one frame that has arrived whole is
	// inflated into a pooled buffer first and copied out into one of its
	// size if it ends there, which is one allocation for most messages;
	// reading it never waits for the peer. Past that, and for messages in
	// several frames, readRest grows the buffer as bytes arrive.
	var b []byte
	switch {
	case rd.fin && !rd.comp && rd.remain <= readBound(int64(rd.buffered())):
		b = make([]byte, 0, rd.remain)
	case rd.fin && !rd.comp:
		sp := getCopyBuf()
		b, err := c.readRest((*sp)[:0:readFirst], true)
		if err == nil && len(b) > 0 && &b[0] == &(*sp)[0] {
			b = bytes.Clone(b) // cannot happen: the message is longer
		}
		putWriteBuf(sp)
		if err != nil {
			return nil, err
		}
		return b, nil
	case rd.comp && rd.fin && rd.remain <= int64(rd.buffered()):
		sp := getWriteBuf()
		b, err := c.readRest((*sp)[:0], true)
		if err == nil && cap(b) == cap(*sp) {
			b = bytes.Clone(b) // it fitted: copy it out of the pooled buffer
		}
		putWriteBuf(sp)
		if err != nil {
			return nil, err
		}
		return b, nil
	default:
		b = make([]byte, 0, 512)
	}
	return c.readRest(b, true)
}

// readRest reads the rest of the message into b's spare capacity. When
// b is full at the end of an uncompressed frame it first checks, without
// room, whether the message has ended, and otherwise grows b by its
// length, at least 512 bytes: the buffer doubles, so appending costs
// amortised constant time per byte.
//
// In a frame whose length is known the buffer may grow further, but
// only as far as the bytes of the message that have arrived (read into
// b or waiting in the read buffer) justify: its part for the message
// never holds more than readBound of those bytes: 64 KiB, 16 times them
// up to 1 MiB, or twice them. So a length that is only claimed makes a
// peer that stalls hold at most 1 MiB, or twice what it sent. In the
// last frame of a message an exact buffer (Read's, returned to the
// caller) grows straight to the message's end when that bound allows,
// which it does from the first 64 KiB for a message of up to 1 MiB, and
// otherwise to just what lets it get there once full: half the message.
// Any other buffer
// (ReadAppend's, kept by the caller) grows by at least its length, and
// to the end of the frame when the bound allows.
//
// The message's part of b never grows past the read limit: an
// uncompressed message is held to it by its frame headers, and a
// compressed message, whose inflated size is known only at its end,
// fills the buffer to the limit and then reads one byte more aside to
// learn whether it ends there. So collecting a compressed message costs
// at most the limit and the half of it that the last doubling copies
// from.
func (c *Conn) readRest(b []byte, exact bool) ([]byte, error) {
	rd := &c.rd
	base := len(b)
	for {
		if len(b) == cap(b) {
			if !rd.comp && rd.remain == 0 {
				// With no room, readData only moves to the next frame, or
				// reports the end of the message.
				if _, err := c.readData(b[len(b):]); err != nil {
					if err = c.midMessageEOF(err); err == io.EOF {
						return b, nil
					}
					return b, err
				}
			}
			grow := max(len(b), 512)
			if !rd.comp && rd.remain > 0 {
				got := int64(len(b) - base)
				end := got + rd.remain // the frame's end
				want := min(readBound(got+int64(rd.buffered())), end)
				if rd.fin && want < end {
					// Short of the message's end, which is past readEager:
					// go only as far as lets the next step reach it.
					want = min(want, (end+1)/2)
				}
				step := int(min(want-got, 1<<30))
				if exact && rd.fin {
					grow = step
				} else {
					grow = max(grow, step)
				}
			}
			if limit := c.readLimit.Load(); limit > 0 && rd.comp {
				// An uncompressed message was held to the limit by its
				// frame headers, under the limit then in force; a
				// compressed one is held here.
				room := int64(base) + limit - int64(len(b))
				if room <= 0 {
					// At the limit: one more byte either is not there, or
					// breaks the limit, which readInflated reports.
					var probe [1]byte
					n, err := c.readData(probe[:])
					if err == io.EOF && n == 0 {
						return b, nil
					}
					if err == nil || err == io.EOF {
						err = c.fail(fmt.Errorf("%w: inflates to over %d bytes", ErrMessageTooBig, limit))
					}
					return b, err
				}
				if room < 2*int64(grow) {
					// Go to the limit at once rather than copy the whole
					// buffer again for a short tail.
					grow = int(room)
				}
			}
			nb := make([]byte, len(b), len(b)+grow)
			copy(nb, b)
			b = nb
		}
		n, err := c.readData(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err = c.midMessageEOF(err); err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

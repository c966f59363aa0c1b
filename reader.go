package ws

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"time"
	"unicode/utf8"

	"github.com/seed-d6ba7b20/ws/internal/deflate"
	"github.com/seed-d6ba7b20/ws/internal/frame"
	"github.com/seed-d6ba7b20/ws/internal/mask"
)

// reader is the read side of a connection: a buffer that exists only while
// bytes are waiting in it, and the state of the frame and message being
// read.
type reader struct {
	bufp *[]byte // pooled buffer, nil while idle
	buf  []byte
	r, w int

	rawRead func(fd uintptr) bool // reads into buf from a socket; see rawRead
	rawN    int
	rawErr  error
	small   [16]byte // landing place of an idle read from a non-socket

	// The frame being read, and the message (its small fields packed).
	remain     int64
	pos        int
	key        uint32
	utf8       utf8Validator
	fin        bool
	masked     bool
	inMsg      bool // a data message has started and its last frame is not done
	pending    bool // a background read stopped at the header of this new message
	graceSpent bool // a pending message went unread during the close handshake
	comp       bool // the message is compressed (RSV1 on its first frame)
	checkUT    bool // validate the message as UTF-8
	oneControl bool // nextFrame returns errControlHandled after a control frame
	// pendingLooks counts how often Close found the pending message still
	// unread (see graceLooks).
	pendingLooks uint8

	pendingAt time.Duration // when a background read stopped (monotonicNow), during a close handshake
	wire      int64         // compressed bytes of the message so far
	src       compressedSource
	typ       MessageType
	size      int64
	frags     int   // frames of the message counted against the fragment limit
	err       error // the error that ended reading, if any
}

// buffered returns the bytes waiting in the buffer.
func (rd *reader) buffered() int { return rd.w - rd.r }

// release returns the buffer to its pool once nothing waits in it.
func (rd *reader) release() {
	if rd.bufp != nil && rd.r == rd.w {
		if cap(*rd.bufp) == readBufSize {
			putReadBuf(rd.bufp)
		}
		rd.bufp, rd.buf, rd.r, rd.w = nil, nil, 0, 0
	}
}

// fill reads from the transport until at least n bytes (n <= readBufSize)
// wait in the buffer.
func (c *Conn) fill(n int) error {
	rd := &c.rd
	for rd.buffered() < n {
		if rd.bufp == nil {
			if err := c.readIdle(); err != nil {
				return err
			}
			continue
		}
		if len(rd.buf)-rd.r < n {
			copy(rd.buf, rd.buf[rd.r:rd.w])
			rd.w -= rd.r
			rd.r = 0
		}
		m, err := c.nc.Read(rd.buf[rd.w:])
		rd.w += m
		if err != nil {
			if rd.buffered() >= n {
				return nil
			}
			return err
		}
	}
	return nil
}

// readIdle waits for bytes while the buffer is empty and released. On a
// socket it takes a pooled buffer only once the socket is readable, so an
// idle connection holds no buffer while it waits; elsewhere it lands the
// first bytes in a small array.
func (c *Conn) readIdle() error {
	rd := &c.rd
	if c.raw != nil {
		rd.rawN, rd.rawErr = 0, nil
		if err := c.raw.Read(rd.rawRead); err != nil {
			return err
		}
		if rd.rawErr != nil {
			return rd.rawErr
		}
		if rd.rawN == 0 {
			return io.EOF
		}
		return nil
	}
	m, err := c.nc.Read(rd.small[:])
	if m > 0 {
		rd.bufp = getReadBuf()
		rd.buf = *rd.bufp
		rd.r, rd.w = 0, copy(rd.buf, rd.small[:m])
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// nextFrame reads frame headers until one of a data frame, answering the
// control frames before it. A close frame ends the read with the peer's
// CloseError. It checks every rule of RFC 6455 sections 5.2 to 5.5 and
// the limits, and starts a new message when the frame begins one.
func (c *Conn) nextFrame() error {
	rd := &c.rd
	for {
		if rd.r == rd.w {
			rd.release()
		}
		if err := c.fill(2); err != nil {
			return err
		}
		size := frame.Size(rd.buf[rd.r:rd.w])
		if err := c.fill(size); err != nil {
			return err
		}
		h, n, ok := frame.Parse(rd.buf[rd.r:rd.w])
		if !ok {
			return c.fail(ErrBadLength)
		}
		switch {
		case h.Rsv&^frame.BitRsv1 != 0:
			return c.fail(ErrReservedBits)
		case h.Rsv != 0 && (c.cz == nil || frame.IsControl(h.Opcode) || h.Opcode == frame.OpContinuation):
			// RFC 7692 section 6: RSV1 marks the first frame of a
			// compressed message, and nothing else.
			return c.fail(ErrReservedBits)
		case h.Opcode > frame.OpBinary && h.Opcode < frame.OpClose, h.Opcode > frame.OpPong:
			return c.fail(fmt.Errorf("%w %#x", ErrUnknownOpcode, h.Opcode))
		case c.client && h.Masked:
			return c.fail(ErrMaskedFrame)
		case !c.client && !h.Masked:
			return c.fail(ErrUnmaskedFrame)
		}
		if frame.IsControl(h.Opcode) {
			if !h.Fin {
				return c.fail(ErrFragmentedControl)
			}
			if h.Length > 125 {
				return c.fail(ErrControlTooLong)
			}
			if err := c.fill(n + int(h.Length)); err != nil {
				return err
			}
			// The payload is used in place, before the buffer is read into
			// again.
			p := rd.buf[rd.r+n : rd.r+n+int(h.Length)]
			rd.r += n + int(h.Length)
			if h.Masked {
				mask.Apply(h.Key, 0, p)
			}
			if err := c.handleControl(h.Opcode, p); err != nil {
				return err
			}
			if rd.oneControl {
				return errControlHandled
			}
			continue
		}
		if rd.inMsg {
			if h.Opcode != frame.OpContinuation {
				return c.fail(ErrExpectedContinuation)
			}
		} else {
			if h.Opcode == frame.OpContinuation {
				return c.fail(ErrUnexpectedContinuation)
			}
			rd.inMsg = true
			rd.typ = MessageType(h.Opcode)
			rd.size = 0
			rd.frags = 0
			rd.checkUT = rd.typ == MessageText && !c.skipUTF8
			rd.utf8.Reset()
			rd.comp = h.Rsv != 0
			rd.wire = 0
			if rd.comp {
				rd.src.c = c
				c.cz.decomp.Reset(&rd.src)
			}
		}
		switch {
		case c.maxFragments > 0:
			rd.frags++
			if rd.frags > c.maxFragments {
				return c.fail(ErrTooManyFragments)
			}
		case c.maxFragments == 0 && h.Length == 0:
			rd.frags++
			if rd.frags > DefaultMaxEmptyFragments {
				return c.fail(fmt.Errorf("%w: over %d without payload", ErrTooManyFragments, DefaultMaxEmptyFragments))
			}
		}
		if limit := c.readLimit.Load(); limit > 0 {
			if !rd.comp {
				rd.size += h.Length
				if rd.size > limit {
					return c.fail(fmt.Errorf("%w: over %d bytes", ErrMessageTooBig, limit))
				}
			} else if rd.wire += h.Length; rd.wire > wireLimit(limit) {
				// The inflated size is checked as it is produced; this bounds
				// compressed input that inflates to next to nothing.
				return c.fail(fmt.Errorf("%w: compressed message over %d bytes", ErrMessageTooBig, limit))
			}
		}
		rd.r += n
		rd.remain, rd.fin, rd.masked, rd.key, rd.pos = h.Length, h.Fin, h.Masked, h.Key, 0
		return nil
	}
}

// wireLimit bounds the compressed bytes of a message whose inflated size
// the read limit bounds: compressed input can inflate to next to nothing,
// but a deflate stream exceeds its data by no more than a little.
func wireLimit(limit int64) int64 {
	if limit > math.MaxInt64/2 {
		return math.MaxInt64
	}
	return limit + limit/16 + 64<<10
}

// handleControl acts on a ping, pong or close frame from the peer.
func (c *Conn) handleControl(op byte, p []byte) error {
	switch op {
	case frame.OpPing:
		if c.onPing != nil {
			c.onPing(p)
		}
		if c.autoPong {
			// A failed pong shows up on the next read or write.
			c.writeFrame(context.Background(), true, frame.OpPong, p, 0)
		}
	case frame.OpPong:
		if c.onPong != nil {
			c.onPong(p)
		}
		if len(p) == 8 {
			c.pongArrived(binary.BigEndian.Uint64(p))
		}
	case frame.OpClose:
		return c.handlePeerClose(p)
	}
	return nil
}

// readPayload reads up to len(p) bytes of the current frame's payload,
// unmasked, into p. Large reads bypass the buffer.
func (c *Conn) readPayload(p []byte) (int, error) {
	rd := &c.rd
	if int64(len(p)) > rd.remain {
		p = p[:rd.remain]
	}
	var n int
	if b := rd.buffered(); b > 0 {
		n = copy(p, rd.buf[rd.r:rd.w])
		rd.r += n
	} else if len(p) >= readBufSize/2 {
		rd.release()
		m, err := c.nc.Read(p)
		if m == 0 {
			if err == nil {
				err = io.ErrNoProgress
			}
			return 0, err
		}
		n = m
	} else {
		if err := c.fill(1); err != nil {
			return 0, err
		}
		n = copy(p, rd.buf[rd.r:rd.w])
		rd.r += n
	}
	if rd.masked {
		rd.pos = mask.Apply(rd.key, rd.pos, p[:n])
	}
	rd.remain -= int64(n)
	return n, nil
}

// readData reads message bytes into p, crossing into the message's next
// frames as needed. It returns io.EOF, possibly with n > 0, when the
// message ends.
func (c *Conn) readData(p []byte) (int, error) {
	rd := &c.rd
	if rd.comp {
		return c.readInflated(p)
	}
	for rd.remain == 0 {
		if rd.fin {
			return 0, c.endMessage()
		}
		if err := c.nextFrame(); err != nil {
			return 0, err
		}
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, err := c.readPayload(p)
	if err != nil {
		return n, err
	}
	if rd.checkUT && !rd.utf8.Write(p[:n]) {
		return n, c.fail(ErrInvalidUTF8)
	}
	if rd.remain == 0 && rd.fin {
		return n, c.endMessage()
	}
	return n, nil
}

// readInflated reads bytes of a compressed message, inflating them, and
// applies the read limit to the inflated size.
func (c *Conn) readInflated(p []byte) (int, error) {
	rd := &c.rd
	n, err := c.cz.decomp.Read(p)
	if n > 0 {
		rd.size += int64(n)
		if limit := c.readLimit.Load(); limit > 0 && rd.size > limit {
			c.cz.decomp.Abort()
			return 0, c.fail(fmt.Errorf("%w: inflates to over %d bytes", ErrMessageTooBig, limit))
		}
		if rd.checkUT && !rd.utf8.Write(p[:n]) {
			c.cz.decomp.Abort()
			return n, c.fail(ErrInvalidUTF8)
		}
	}
	switch {
	case err == nil:
		return n, nil
	case err == io.EOF:
		return n, c.endMessage()
	case errors.Is(err, deflate.ErrCorrupt), errors.Is(err, deflate.ErrHistoryLost):
		return n, c.fail(fmt.Errorf("%w: %v", ErrCorruptDeflate, err))
	}
	return n, err
}

// compressedSource is the io.Reader of a compressed message's payload, in
// all its frames, that the inflater reads.
type compressedSource struct{ c *Conn }

func (s *compressedSource) Read(p []byte) (int, error) {
	c := s.c
	rd := &c.rd
	for rd.remain == 0 {
		if rd.fin {
			return 0, io.EOF
		}
		if err := c.nextFrame(); err != nil {
			return 0, err
		}
	}
	if len(p) == 0 {
		return 0, nil
	}
	return c.readPayload(p)
}

// endMessage closes the message whose last byte was read: io.EOF, or a
// failure if its text ended inside a code point.
func (c *Conn) endMessage() error {
	rd := &c.rd
	if rd.checkUT && !rd.utf8.Complete() {
		return c.fail(ErrInvalidUTF8)
	}
	rd.inMsg = false
	rd.fin = false
	rd.comp = false
	rd.release() // an idle connection holds no buffer
	return io.EOF
}

// startMessage moves to the next message: the one a background read
// found, or the next after dropping the rest of the current one.
func (c *Conn) startMessage() error {
	if c.rd.pending {
		c.rd.pending = false
		c.rd.graceSpent = false // someone reads after all
		return nil
	}
	if err := c.skipMessage(); err != nil {
		return err
	}
	return c.nextFrame()
}

// skipMessage reads and drops the rest of the message being read.
func (c *Conn) skipMessage() error {
	rd := &c.rd
	if rd.inMsg && rd.comp {
		// Inflate to the end, so the history stays in step with the peer's.
		var scratch [512]byte
		for {
			_, err := c.readInflated(scratch[:])
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
		}
	}
	for rd.inMsg {
		if rd.remain == 0 {
			if rd.fin {
				rd.inMsg, rd.fin = false, false
				return nil
			}
			if err := c.nextFrame(); err != nil {
				return err
			}
			continue
		}
		if rd.buffered() == 0 {
			if err := c.fill(1); err != nil {
				return err
			}
		}
		n := int64(rd.buffered())
		n = min(n, rd.remain)
		rd.r += int(n)
		rd.remain -= n
	}
	return nil
}

// beginRead claims the read side for a read call of the user's. A
// background read in progress is interrupted; it consumes nothing of a
// message, so nothing is lost.
func (c *Conn) beginRead(ctx context.Context) error {
	if !c.userReading.CompareAndSwap(false, true) {
		return ErrConcurrentRead
	}
	if !c.tryLock(readLock) {
		c.nc.SetReadDeadline(aLongTimeAgo)
		if err := c.lock(ctx, readLock); err != nil {
			// Let the background read go on undisturbed after all.
			c.nc.SetReadDeadline(time.Time{})
			c.userReading.Store(false)
			return err
		}
		c.nc.SetReadDeadline(time.Time{})
	}
	if c.rd.err != nil {
		c.endRead()
		return &ClosedError{Cause: c.rd.err}
	}
	return nil
}

func (c *Conn) endRead() {
	c.unlock(readLock)
	c.userReading.Store(false)
}

// errControlHandled ends a background read after a control frame.
var errControlHandled = errors.New("control frame handled")

// backgroundRead reads control frames while no read of the user's is in
// progress, so that pongs and close frames are seen on a connection whose
// user reads nothing. It stops after one control frame, at the header of
// the next data message, which it leaves for the user, when ctx is done,
// or when a user's read begins. It reports whether it could read at all.
func (c *Conn) backgroundRead(ctx context.Context) bool {
	if !c.tryLock(readLock) {
		return false
	}
	defer c.unlock(readLock)
	if c.rd.err != nil || c.rd.inMsg || c.isClosed() {
		return false
	}
	stop := interrupt(ctx, c.nc, readDeadline)
	c.rd.oneControl = true
	err := c.nextFrame()
	c.rd.oneControl = false
	cancelled := stop()
	switch {
	case err == nil:
		c.rd.pending = true
		c.rd.pendingAt, c.rd.pendingLooks = monotonicNow(), 0
	case err == errControlHandled:
	case cancelled, isTimeout(err) && !c.isClosed():
		// Interrupted by ctx or by a user's read: nothing was consumed.
	default:
		c.readFailed(ctx, err, false, false)
	}
	return true
}

// isTimeout reports whether err is a deadline's.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// readFailed turns the error of a read into what the caller sees. A read
// interrupted by its context consumes nothing it cannot give back later:
// a frame header or control frame is taken whole or not at all, and payload
// bytes only once they are the caller's. So it leaves the connection open
// and returns ctx.Err(), unless fatal is set (a compressed message, whose
// inflater cannot resume).
func (c *Conn) readFailed(ctx context.Context, err error, cancelled, fatal bool) error {
	var pe *ProtocolError
	var ce CloseError
	switch {
	case errors.As(err, &pe), errors.As(err, &ce):
		c.rd.err = err
		return err
	case cancelled && !fatal && !c.isClosed():
		return ctxError(ctx)
	case cancelled:
		err = fmt.Errorf("ws: read interrupted in the middle of a compressed message: %w", ctxError(ctx))
	case c.isClosed(), c.isEnding():
		// The transport was closed under the read, for the cause.
		c.rd.err = c.causeErr()
		return c.closedErr()
	case errors.Is(err, io.EOF):
		err = fmt.Errorf("ws: connection lost without a close frame: %w", io.ErrUnexpectedEOF)
	default:
		err = fmt.Errorf("ws: read: %w", err)
	}
	c.rd.err = err
	c.closeTransport(err)
	return err
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
	stop := interrupt(r.ctx, c.nc, readDeadline)
	n, err := c.readData(p)
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
// message's bytes as they arrive, never more than the read limit; use
// ReadAppend to read into a buffer of yours, or Reader to stream a message
// instead. Cancelling ctx interrupts the read.
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
	stop := interrupt(ctx, c.nc, readDeadline)
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
// smallest stack, 2 KiB (TestIdleStack).
func (c *Conn) awaitBytes() error {
	rd := &c.rd
	if rd.pending || rd.inMsg || rd.buffered() > 0 {
		return nil
	}
	rd.release()
	return c.readIdle()
}

// readAll reads the rest of the message into a buffer that grows as the
// bytes arrive, or that fits it when its length is known.
func (c *Conn) readAll() ([]byte, error) {
	rd := &c.rd
	// A whole uncompressed message in one frame of known length gets an
	// exact buffer, up to 64 KiB. A compressed message in one frame that
	// has arrived whole is inflated into a pooled buffer first and copied
	// out into one of its size if it ends there, which is one allocation
	// for most messages; reading it never waits for the peer, so no peer
	// can keep the pooled buffer by stalling. Past that, and for messages
	// in several frames, readRest grows the buffer as bytes arrive.
	var b []byte
	switch {
	case rd.fin && !rd.comp:
		b = make([]byte, 0, min(rd.remain, 64<<10))
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
// amortised constant time per byte. In the last frame of an uncompressed
// message, whose end is known, an exact buffer (Read's, returned to the
// caller) grows to no more than that end, and any other (ReadAppend's,
// kept by the caller) by at least what is left of it, up to 64 KiB. So a
// length that is only claimed never grows the buffer by more than 64 KiB
// beyond what doubling what it holds would.
//
// The message's part of b never grows past the read limit: a compressed
// message, whose inflated size is known only at its end, fills the
// buffer to the limit and then reads one byte more aside to learn
// whether it ends there. So collecting a message costs at most the limit
// and the half of it that the last doubling copies from.
func (c *Conn) readRest(b []byte, exact bool) ([]byte, error) {
	rd := &c.rd
	base := len(b)
	for {
		if len(b) == cap(b) {
			if !rd.comp && rd.remain == 0 {
				// With no room, readData only moves to the next frame, or
				// reports the end of the message.
				if _, err := c.readData(b[len(b):]); err != nil {
					if err == io.EOF {
						return b, nil
					}
					return b, err
				}
			}
			grow := max(len(b), 512)
			if rd.fin && !rd.comp && rd.remain > 0 {
				left := int(min(rd.remain, 1<<30))
				if exact {
					grow = min(max(grow, 64<<10), left)
				} else {
					grow = max(grow, min(left, 64<<10))
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
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
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
				if c.closeSent.Load() {
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

// Message is a whole message, as Messages delivers it.
type Message struct {
	Type MessageType
	Data []byte
}

// Messages returns a channel that delivers every message the peer sends,
// in order, and is closed when the connection ends; Err then says why.
// Range over it:
//
//	for msg := range conn.Messages() {
//		...
//	}
//	if err := conn.Err(); err != nil { ... }
//
// The first call starts one goroutine that reads with Read and hands each
// message over; later calls return the same channel. The channel has no
// buffer: while no one takes from it the goroutine holds one message and
// reads nothing more, so the peer's sending is slowed by TCP, and a slow
// consumer cannot make memory grow. Every message the peer sent before its
// close frame is delivered before the channel closes. Once Messages is in
// use, do not call Read, ReadAppend or Reader: they would compete with it
// for messages, or fail with ErrConcurrentRead while it reads. Close and
// CloseNow stop the goroutine and wait for it; a message it held then is
// dropped.
func (c *Conn) Messages() <-chan Message {
	c.goMu.Lock()
	if c.msgs != nil {
		c.goMu.Unlock()
		return c.msgs
	}
	ch := make(chan Message)
	c.msgs = ch
	c.goMu.Unlock()
	ok := c.goroutine(func(context.Context) error {
		defer close(ch)
		// The errgroup's context ends only when the transport closes, which
		// ends a read in progress anyway; reading without it costs nothing.
		ctx := context.Background()
		for {
			typ, data, err := c.Read(ctx)
			if err != nil {
				return nil // the reason is the connection's Err
			}
			select {
			case ch <- Message{Type: typ, Data: data}:
			case <-c.gs.shutdown:
				return nil
			}
		}
	})
	if !ok {
		close(ch)
	}
	return ch
}

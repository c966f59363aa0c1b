package ws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

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

	rawRead func(fd uintptr) bool // reads into buf from a socket; see setRawRead
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
	checkUTF8  bool // validate the message as UTF-8
	oneControl bool // nextFrame returns errControlHandled after a control frame
	// pendingLooks counts how often Close found the pending message still
	// unread (see graceLooks).
	pendingLooks uint8

	pendingAt time.Duration // when a background read stopped at the pending message (monotonicNow)
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

// drop gives the buffer back to its pool with whatever waits in it, once
// reading has ended for good: a connection that the peer closed does not
// leave its buffer to the garbage collector.
func (rd *reader) drop() {
	rd.r = rd.w
	rd.release()
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
		m, err := c.transport.Read(rd.buf[rd.w:])
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
	m, err := c.transport.Read(rd.small[:])
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
		case h.Rsv != 0 && (c.compression == nil || frame.IsControl(h.Opcode) || h.Opcode == frame.OpContinuation):
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
			rd.checkUTF8 = rd.typ == MessageText && !c.skipUTF8
			rd.utf8.Reset()
			rd.comp = h.Rsv != 0
			rd.wire = 0
			if rd.comp {
				rd.src.c = c
				c.compression.decomp.Reset(&rd.src)
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
		if !rd.comp {
			rd.size += h.Length
		} else {
			rd.wire += h.Length
		}
		if limit := c.readLimit.Load(); limit > 0 {
			if !rd.comp {
				if rd.size > limit {
					return c.fail(fmt.Errorf("%w: over %d bytes", ErrMessageTooBig, limit))
				}
			} else if rd.wire > wireLimit(limit) {
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
		c.in.pings.Add(1)
		if c.onPing != nil {
			c.onPing(p)
		}
		if c.autoPong {
			// A failed pong shows up on the next read or write.
			c.writeFrame(context.Background(), frame.OpPong, p)
		}
	case frame.OpPong:
		c.in.pongs.Add(1)
		if c.onPong != nil {
			c.onPong(p)
		}
		c.pongArrived(p)
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
		m, err := c.transport.Read(p)
		if m == 0 {
			if err == nil {
				err = io.ErrNoProgress
			}
			return 0, cutShort(err)
		}
		n = m
	} else {
		if err := c.fill(1); err != nil {
			return 0, cutShort(err)
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

// cutShort is the error of a read of a frame's payload: the transport's
// io.EOF there cuts the frame short, which no reader above, the inflater
// included, may take for the end of a message or of a stream.
func cutShort(err error) error {
	if err == io.EOF {
		return errCutShort
	}
	return err
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
	if rd.checkUTF8 && !rd.utf8.Write(p[:n]) {
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
	n, err := c.compression.decomp.Read(p)
	if n > 0 {
		rd.size += int64(n)
		if limit := c.readLimit.Load(); limit > 0 && rd.size > limit {
			c.compression.decomp.Abort()
			return 0, c.fail(fmt.Errorf("%w: inflates to over %d bytes", ErrMessageTooBig, limit))
		}
		if rd.checkUTF8 && !rd.utf8.Write(p[:n]) {
			c.compression.decomp.Abort()
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
			// The end of the transport between two frames of the
			// message is no end of its payload either.
			return 0, cutShort(err)
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
	if rd.checkUTF8 && !rd.utf8.Complete() {
		return c.fail(ErrInvalidUTF8)
	}
	c.messageRead()
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
				c.messageRead()
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

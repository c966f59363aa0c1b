package ws

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/seed-d6ba7b20/ws/internal/frame"
)

// Write sends p as one message of type typ. It is safe to call from many
// goroutines at once; messages go out whole, one after another.
//
// Cancelling ctx interrupts a blocked write, which returns an error that
// wraps ctx.Err(), and the connection stays usable. If part of the message
// had gone out, the rest of it goes out before any other frame (at the
// next write of any kind, Close included), so the peer still receives the
// message whole.
//
// Writes learn that the peer closed from the goroutine that reads: a
// connection that only writes should call CloseRead first.
func (c *Conn) Write(ctx context.Context, typ MessageType, p []byte) error {
	if !typ.valid() {
		return ErrInvalidMessageType
	}
	if err := c.waitSent(ctx); err != nil {
		return err
	}
	return c.writeMessage(ctx, typ, p)
}

// writeMessage writes one whole message, compressed when compression is
// on and typ and p's size say so.
func (c *Conn) writeMessage(ctx context.Context, typ MessageType, p []byte) error {
	if err := c.lock(ctx, msgLock); err != nil {
		return err
	}
	defer c.unlock(msgLock)
	if !c.compresses(typ, len(p)) {
		err := c.writeFrame(ctx, typ.opcode(), p)
		if err == nil {
			c.messagesWritten(1, len(p), len(p))
		}
		return err
	}
	sem, err := acquireCompress(ctx)
	if err != nil {
		return err
	}
	bp := getWriteBuf()
	b, err := c.compression.comp.Compress((*bp)[:headroom], p)
	sem.Release(1)
	if err == nil {
		err = c.writeFrameAt(ctx, true, typ.opcode(), frame.BitRsv1, b, headroom)
	}
	if err == nil {
		c.messagesWritten(1, len(p), len(b)-headroom)
	}
	putWriteBuf(bp) // if b outgrew it, b itself is left to the collector
	return err
}

// Writer starts a message of type typ and returns a writer of its bytes.
// The message goes out in frames as the writer's buffer fills, and ends
// when the writer is closed. Until then other messages wait, though
// control frames may go out between the frames; so close the writer
// promptly, and always. The writer is also an io.ReaderFrom, so io.Copy
// into it reads straight into the connection's buffer and a message of up
// to 64 KiB goes out as one frame.
//
// ctx applies to the whole message: cancelling it before the first frame
// went out leaves the connection usable, later it closes the connection.
func (c *Conn) Writer(ctx context.Context, typ MessageType) (io.WriteCloser, error) {
	if !typ.valid() {
		return nil, ErrInvalidMessageType
	}
	if err := c.waitSent(ctx); err != nil {
		return nil, err
	}
	if err := c.lock(ctx, msgLock); err != nil {
		return nil, err
	}
	if c.closeSent() || c.isClosed() {
		c.unlock(msgLock)
		return nil, &ClosedError{Cause: c.closeErrOrSent()}
	}
	if c.msgW == nil {
		c.msgW = &messageWriter{c: c} // under msgLock
	}
	w := c.msgW
	w.ctx = ctx
	w.op = typ.opcode()
	w.started = false
	w.open = true
	w.err = nil
	w.size, w.wire = 0, 0
	w.deflating = false
	w.mayDeflate = c.compresses(typ, -1)
	if w.mayDeflate {
		w.threshold = c.compression.thresholdOf(typ)
	}
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
	size    int // payload bytes the message was given
	wire    int // payload bytes of its frames that went out

	// Compression: the first threshold bytes are held uncompressed; a
	// message that grows past them is compressed from there on, its output
	// collected in the buffer as frame payload.
	mayDeflate bool
	deflating  bool
	threshold  int     // the size from which the message is compressed
	held       *[]byte // the uncompressed bytes held before deciding
	nheld      int
	sink       deflateSink
}

// deflateSink takes the compressor's output as message payload.
type deflateSink struct{ w *messageWriter }

func (s *deflateSink) Write(p []byte) (int, error) { return s.w.writeRaw(p) }

// usable returns the error that a Write or ReadFrom of the writer meets
// before it begins: a writer closed, an earlier failure, or a connection
// closed, which buffered bytes would not notice before the buffer fills.
func (w *messageWriter) usable() error {
	switch {
	case !w.open:
		return ErrWriterClosed
	case w.err == nil && w.c.isClosed():
		w.err = w.c.closedErr()
	}
	return w.err
}

// Write adds p to the message.
func (w *messageWriter) Write(p []byte) (n int, err error) {
	if err := w.usable(); err != nil {
		return 0, err
	}
	if w.mayDeflate {
		n, err = w.writeDeflate(p)
	} else {
		n, err = w.writeRaw(p)
	}
	w.size += n
	return n, err
}

// ReadFrom reads r to its end into the message; io.Copy and io.CopyBuffer
// use it in place of Write. It reads straight into the connection's own
// buffer of 65 KiB: full buffers go out as frames, and the last bytes wait
// for Close, which sends them in the message's final frame. So a message
// of up to 64 KiB goes out as one frame, in one write, with no copy
// between r and the socket but r's own.
func (w *messageWriter) ReadFrom(r io.Reader) (int64, error) {
	if err := w.usable(); err != nil {
		return 0, err
	}
	if w.mayDeflate {
		// The compressor copies anyway: feed it through Write.
		bp := getWriteBuf()
		defer putWriteBuf(bp)
		return io.CopyBuffer(writerOnly{w}, readerOnly{r}, *bp)
	}
	if w.bufp == nil || len(*w.bufp) != copyBufSize {
		nb := getCopyBuf()
		if w.bufp != nil {
			copy((*nb)[headroom:], (*w.bufp)[headroom:headroom+w.n])
			putWriteBuf(w.bufp)
		}
		w.bufp = nb
	}
	var total int64
	for {
		buf := *w.bufp
		if headroom+w.n == len(buf) {
			if err := w.flushBuf(false); err != nil {
				return total, err
			}
		}
		m, err := r.Read(buf[headroom+w.n:])
		if m < 0 || m > len(buf)-headroom-w.n {
			return total, errInvalidRead
		}
		w.n += m
		w.size += m
		total += int64(m)
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// errInvalidRead reports a reader that returned an impossible count.
var errInvalidRead = errors.New("ws: reader returned an invalid count")

// writerOnly and readerOnly hide every method but Write and Read, so that
// io.CopyBuffer uses its buffer.
type (
	writerOnly struct{ io.Writer }
	readerOnly struct{ io.Reader }
)

// writeDeflate adds p to a message that compression may apply to.
func (w *messageWriter) writeDeflate(p []byte) (int, error) {
	cz := w.c.compression
	if !w.deflating {
		if w.nheld+len(p) < w.threshold {
			if w.held == nil {
				w.held = getWriteBuf()
			}
			if w.nheld+len(p) <= len(*w.held) {
				w.nheld += copy((*w.held)[w.nheld:], p)
				return len(p), nil
			}
		}
		// Past the threshold: compress what was held, then the rest.
		w.deflating = true
		w.sink.w = w
		cz.comp.Reset(&w.sink)
		if w.nheld > 0 {
			if err := w.deflate((*w.held)[:w.nheld]); err != nil {
				return 0, err
			}
		}
		w.releaseHeld()
	}
	if err := w.deflate(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// deflate compresses p into the message, in a turn of the process-wide
// compression limit.
func (w *messageWriter) deflate(p []byte) error {
	sem, err := acquireCompress(w.ctx)
	if err != nil {
		w.err = err
		return err
	}
	_, err = w.c.compression.comp.Write(p)
	sem.Release(1)
	if err != nil && w.err == nil {
		w.err = err
	}
	return w.err
}

func (w *messageWriter) releaseHeld() {
	if w.held != nil {
		putWriteBuf(w.held)
		w.held, w.nheld = nil, 0
	}
}

// writeRaw adds uncompressed bytes to the message: p itself, or the
// compressor's output.
func (w *messageWriter) writeRaw(p []byte) (int, error) {
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
	var rsv byte
	if w.deflating && !w.started {
		rsv = frame.BitRsv1
	}
	err := w.c.writeFrameAt(w.ctx, fin, w.op, rsv, b, off)
	if err != nil {
		if _, ok := err.(*deferredError); ok {
			// The message's last frame will go out whole.
			w.err = err
			return err
		}
		if w.started && !w.c.isClosed() {
			// Half a message went out: the stream cannot recover.
			w.c.closeTransport(fmt.Errorf("ws: message cut short: %w", err))
		}
		w.err = err
		return err
	}
	w.started = true
	w.op = frame.OpContinuation
	w.wire += len(b) - off
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
	if err == nil && w.mayDeflate {
		if !w.deflating && w.nheld >= w.threshold {
			// A short message, but the threshold says compress it anyway
			// (a threshold of zero or less compresses every message).
			w.deflating = true
			w.sink.w = w
			w.c.compression.comp.Reset(&w.sink)
			if w.nheld > 0 {
				err = w.deflate((*w.held)[:w.nheld])
			}
		}
		switch {
		case err != nil:
			w.c.compression.comp.Abort()
		case w.deflating:
			sem, serr := acquireCompress(w.ctx)
			if serr != nil {
				err = serr
				w.c.compression.comp.Abort()
				break
			}
			err = w.c.compression.comp.Finish()
			sem.Release(1)
			if err == nil {
				err = w.err
			}
		case w.nheld > 0:
			// Under the threshold: send what was held as it is.
			_, err = w.writeRaw((*w.held)[:w.nheld])
		}
		w.releaseHeld()
	}
	if err == nil {
		err = w.flushBuf(true)
	}
	if err == nil {
		w.c.messagesWritten(1, w.size, w.wire)
	}
	if w.bufp != nil {
		putWriteBuf(w.bufp)
		w.bufp = nil
	}
	w.n = 0
	w.c.unlock(msgLock)
	return err
}

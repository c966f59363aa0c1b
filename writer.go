package ws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"

	"github.com/seed-d6ba7b20/ws/internal/frame"
	"github.com/seed-d6ba7b20/ws/internal/mask"
)

// headroom is the room kept in front of a write buffer's payload for the
// frame header, so header and payload go out in one write without a copy.
const headroom = frame.MaxHeaderSize

// writeFrame writes one frame with payload p, which it leaves unchanged;
// see writeFrameAt.
func (c *Conn) writeFrame(ctx context.Context, fin bool, op byte, p []byte, rsv byte) error {
	return c.writeFrameAt(ctx, fin, op, rsv, p, 0)
}

// preframed is the off of writeFrameAt for b that is a whole frame already,
// header included, as a PreparedMessage holds it.
const preframed = -1

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
	if c.closeSent.Load() {
		return &ClosedError{Cause: c.closeErrOrSent()}
	}
	if ctx.Err() != nil {
		return ctxError(ctx)
	}
	stop := interrupt(ctx, c.nc, writeDeadline)
	if err := c.flushTail(); err != nil {
		return c.writeFailed(ctx, err, stop(), false, op == frame.OpClose)
	}
	var n int
	var err error
	var h frame.Header
	hn := 0
	if off == preframed {
		n, err = c.nc.Write(b)
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
		if n > 0 && cancelled && !c.isClosed() && (fin || frame.IsControl(op) || off == preframed) {
			// Cut off by the context in the middle of a frame that ends its
			// message: keep the rest, which goes out before any other frame,
			// so the stream stays whole and the message is delivered.
			c.wtail = c.frameRest(b, off, h, hn, n)
			return &deferredError{ctxError(ctx)}
		}
		return c.writeFailed(ctx, err, cancelled, n > 0, op == frame.OpClose)
	}
	if op == frame.OpClose {
		c.closeSent.Store(true)
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
	n, err := c.nc.Write(c.wtail)
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
	case off == preframed:
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
		return c.nc.Write(b[start:])
	}
	if !h.Masked && len(p) > writeBufSize-headroom && c.raw != nil {
		v := writevPool.Get().(*writev)
		v.arr = [2][]byte{hdr, p}
		v.bufs = v.arr[:]
		n, err := v.bufs.WriteTo(c.nc)
		v.arr = [2][]byte{}
		writevPool.Put(v)
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
	if err := c.causeErr(); err != nil {
		return err
	}
	return errCloseSent
}

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
	if typ != MessageText && typ != MessageBinary {
		return ErrInvalidMessageType
	}
	if err := c.waitSent(ctx); err != nil {
		return err
	}
	return c.writeMessage(ctx, typ, p)
}

// writeMessage writes one whole message, compressed when compression is
// on and p is not too small.
func (c *Conn) writeMessage(ctx context.Context, typ MessageType, p []byte) error {
	if err := c.lock(ctx, msgLock); err != nil {
		return err
	}
	defer c.unlock(msgLock)
	if !c.compressing(len(p)) {
		return c.writeFrame(ctx, true, byte(typ), p, 0)
	}
	sem, err := acquireCompress(ctx)
	if err != nil {
		return err
	}
	bp := getWriteBuf()
	b, err := c.cz.comp.Compress((*bp)[:headroom], p)
	sem.Release(1)
	if err == nil {
		err = c.writeFrameAt(ctx, true, byte(typ), frame.BitRsv1, b, headroom)
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
	if typ != MessageText && typ != MessageBinary {
		return nil, ErrInvalidMessageType
	}
	if err := c.waitSent(ctx); err != nil {
		return nil, err
	}
	if err := c.lock(ctx, msgLock); err != nil {
		return nil, err
	}
	if c.closeSent.Load() || c.isClosed() {
		c.unlock(msgLock)
		return nil, &ClosedError{Cause: c.closeErrOrSent()}
	}
	if c.msgW == nil {
		c.msgW = &messageWriter{c: c} // under msgLock
	}
	w := c.msgW
	w.ctx = ctx
	w.op = byte(typ)
	w.started = false
	w.open = true
	w.err = nil
	w.deflating = false
	w.mayDeflate = c.compressing(-1)
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

	// Compression: the first threshold bytes are held uncompressed; a
	// message that grows past them is compressed from there on, its output
	// collected in the buffer as frame payload.
	mayDeflate bool
	deflating  bool
	held       *[]byte // the uncompressed bytes held before deciding
	nheld      int
	sink       deflateSink
}

// deflateSink takes the compressor's output as message payload.
type deflateSink struct{ w *messageWriter }

func (s *deflateSink) Write(p []byte) (int, error) { return s.w.writeRaw(p) }

// Write adds p to the message.
func (w *messageWriter) Write(p []byte) (int, error) {
	if !w.open {
		return 0, ErrWriterClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.c.isClosed() {
		// Buffered bytes would not fail before the buffer fills.
		w.err = w.c.closedErr()
		return 0, w.err
	}
	if w.mayDeflate {
		return w.writeDeflate(p)
	}
	return w.writeRaw(p)
}

// ReadFrom reads r to its end into the message; io.Copy and io.CopyBuffer
// use it in place of Write. It reads straight into the connection's own
// buffer of 65 KiB: full buffers go out as frames, and the last bytes wait
// for Close, which sends them in the message's final frame. So a message
// of up to 64 KiB goes out as one frame, in one write, with no copy
// between r and the socket but r's own.
func (w *messageWriter) ReadFrom(r io.Reader) (int64, error) {
	if !w.open {
		return 0, ErrWriterClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.c.isClosed() {
		// Buffered bytes would not fail before the buffer fills.
		w.err = w.c.closedErr()
		return 0, w.err
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
	cz := w.c.cz
	if !w.deflating {
		if w.nheld+len(p) < cz.threshold {
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
	_, err = w.c.cz.comp.Write(p)
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
		if !w.deflating && w.c.compressing(w.nheld) {
			// A short message, but the threshold says compress it anyway
			// (a threshold of zero or less compresses every message).
			w.deflating = true
			w.sink.w = w
			w.c.cz.comp.Reset(&w.sink)
			if w.nheld > 0 {
				err = w.deflate((*w.held)[:w.nheld])
			}
		}
		switch {
		case err != nil:
			w.c.cz.comp.Abort()
		case w.deflating:
			sem, serr := acquireCompress(w.ctx)
			if serr != nil {
				err = serr
				w.c.cz.comp.Abort()
				break
			}
			err = w.c.cz.comp.Finish()
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
	if w.bufp != nil {
		putWriteBuf(w.bufp)
		w.bufp = nil
	}
	w.n = 0
	w.c.unlock(msgLock)
	return err
}

// ErrSendQueueFull is returned by TrySend when the send queue is full.
var ErrSendQueueFull = errors.New("ws: send queue full")

// sendQueue is the bounded queue of Send, drained by one goroutine.
type sendQueue struct {
	mu      sync.Mutex
	q       chan sendItem
	started bool         // the goroutine was started
	closed  bool         // the goroutine has ended; nothing more is queued
	queued  atomic.Int64 // bytes waiting
	added   uint64       // messages ever queued
	written uint64       // messages ever written or failed
	waiters int
	moved   chan struct{} // closed and replaced when written moves, if waited on
}

type sendItem struct {
	typ  MessageType
	p    []byte
	pm   *PreparedMessage
	done chan<- error
}

// Send queues p as one message of type typ and returns; a goroutine of the
// connection writes the queue out in order. The queue keeps p until the
// message is written, so do not change p before done reports. If done is
// not nil it receives the message's result: nil once written, or the
// error that stopped it. Give done room (a buffered channel), since the
// writing goroutine waits until it can deliver.
//
// While the queue is full (Options.SendQueue messages), Send waits until
// there is room or ctx is done; TrySend fails at once instead. Messages
// from Send, Write and Writer called by one goroutine go out in the order
// of the calls. The first Send starts the writing goroutine; Close and
// CloseNow wait for it.
func (c *Conn) Send(ctx context.Context, typ MessageType, p []byte, done chan<- error) error {
	return c.enqueue(ctx, typ, p, done, true)
}

// TrySend is Send that never waits: when the queue is full it returns
// ErrSendQueueFull and queues nothing.
func (c *Conn) TrySend(typ MessageType, p []byte, done chan<- error) error {
	return c.enqueue(context.Background(), typ, p, done, false)
}

// Buffered returns how many bytes of message payload wait in the send
// queue, not yet written (Node's bufferedAmount).
func (c *Conn) Buffered() int64 {
	if sq := c.send.Load(); sq != nil {
		return sq.queued.Load()
	}
	return 0
}

func (c *Conn) enqueue(ctx context.Context, typ MessageType, p []byte, done chan<- error, wait bool) error {
	return c.enqueueItem(ctx, sendItem{typ: typ, p: p, done: done}, wait)
}

func (c *Conn) enqueueItem(ctx context.Context, it sendItem, wait bool) error {
	if it.typ != MessageText && it.typ != MessageBinary {
		return ErrInvalidMessageType
	}
	sq := c.send.Load()
	if sq == nil {
		var err error
		if sq, err = c.startSendQueue(); err != nil {
			return err
		}
	}
	for {
		queued, err := c.tryQueue(sq, it)
		if queued || err != nil {
			return err
		}
		if !wait {
			return ErrSendQueueFull
		}
		if err := c.waitMoved(ctx); err != nil {
			return err
		}
	}
}

// tryQueue queues it if the queue has room. It does so under the lock, so
// that the count of messages added follows the queue's order.
func (c *Conn) tryQueue(sq *sendQueue, it sendItem) (bool, error) {
	sq.mu.Lock()
	defer sq.mu.Unlock()
	if sq.closed || c.isClosed() {
		return false, c.closedErr()
	}
	select {
	case sq.q <- it:
		sq.added++
		sq.queued.Add(int64(len(it.p)))
		return true, nil
	default:
		return false, nil
	}
}

// startSendQueue makes the send queue and starts its goroutine, once.
func (c *Conn) startSendQueue() (*sendQueue, error) {
	c.goMu.Lock()
	sq := c.send.Load()
	if sq == nil {
		sq = &sendQueue{q: make(chan sendItem, c.sendSize), moved: make(chan struct{})}
		c.send.Store(sq)
	}
	c.goMu.Unlock()
	sq.mu.Lock()
	defer sq.mu.Unlock()
	if !sq.started {
		sq.started = true
		if !c.goroutine(func(ctx context.Context) error { return c.sendLoop(ctx, sq) }) {
			sq.closed = true
			return nil, c.closedErr()
		}
	}
	return sq, nil
}

// waitMoved waits until the queue's writer makes progress.
func (c *Conn) waitMoved(ctx context.Context) error {
	sq := c.send.Load()
	sq.mu.Lock()
	sq.waiters++
	ch := sq.moved
	sq.mu.Unlock()
	defer func() {
		sq.mu.Lock()
		sq.waiters--
		sq.mu.Unlock()
	}()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctxError(ctx)
	case <-c.done():
		return c.closedErr()
	}
}

// waitSent waits until every message queued so far has been written, so
// that what the caller writes next follows them.
func (c *Conn) waitSent(ctx context.Context) error {
	sq := c.send.Load()
	if sq == nil {
		return nil
	}
	sq.mu.Lock()
	target := sq.added
	for sq.written < target && !sq.closed {
		sq.mu.Unlock()
		if err := c.waitMoved(ctx); err != nil {
			return err
		}
		sq.mu.Lock()
	}
	sq.mu.Unlock()
	return nil
}

// sendLoop writes the send queue out until the connection closes, then
// fails what is left. Its writes need no context: ctx ends only when the
// transport closes, which ends a write in progress anyway.
func (c *Conn) sendLoop(ctx context.Context, sq *sendQueue) error {
	bg := context.Background()
	var batch []sendItem
	var frames [][]byte
	for {
		select {
		case it := <-sq.q:
			// Take what else waits, so that prepared frames (a broadcast)
			// go out together in one system call.
			batch = append(batch[:0], it)
		more:
			for len(batch) < maxBatch {
				select {
				case it := <-sq.q:
					batch = append(batch, it)
				default:
					break more
				}
			}
			for i := 0; i < len(batch); {
				// A run of items that are whole frames already.
				frames = frames[:0]
				j := i
				for ; j < len(batch); j++ {
					f := c.preframed(batch[j])
					if f == nil {
						break
					}
					frames = append(frames, f)
				}
				if len(frames) > 1 {
					err := c.writeFrames(bg, frames)
					for ; i < j; i++ {
						c.sent(batch[i], err)
					}
					continue
				}
				it := batch[i]
				var err error
				if it.pm != nil {
					err = c.writePrepared(bg, it.pm)
				} else {
					err = c.writeMessage(bg, it.typ, it.p)
				}
				if err != nil && c.isClosed() {
					err = c.closedErr()
				}
				c.sent(it, err)
				i++
			}
			clear(batch)
			clear(frames)
		case <-ctx.Done():
			sq.mu.Lock()
			sq.closed = true
			sq.mu.Unlock()
			for {
				select {
				case it := <-sq.q:
					c.sent(it, c.closedErr())
				default:
					return nil
				}
			}
		}
	}
}

// maxBatch bounds how many queued messages go out in one system call.
const maxBatch = 64

// preframed returns the frame a queued item can be written as, byte for
// byte, or nil: a prepared message sent by a server without compression.
func (c *Conn) preframed(it sendItem) []byte {
	if it.pm == nil || c.client || c.compressing(len(it.pm.payload)) {
		return nil
	}
	return it.pm.frame
}

// writeFrames writes whole frames, each a message, in one system call
// where the transport allows it.
func (c *Conn) writeFrames(ctx context.Context, frames [][]byte) error {
	if err := c.lock(ctx, msgLock); err != nil {
		return err
	}
	defer c.unlock(msgLock)
	if err := c.lock(ctx, frameLock); err != nil {
		return err
	}
	defer c.unlock(frameLock)
	if c.closeSent.Load() {
		return &ClosedError{Cause: c.closeErrOrSent()}
	}
	if err := c.flushTail(); err != nil {
		return c.writeFailed(ctx, err, false, false, false)
	}
	bufs := net.Buffers(frames)
	n, err := bufs.WriteTo(c.nc)
	if err != nil {
		return c.writeFailed(ctx, err, false, n > 0, false)
	}
	return nil
}

// sent records a queued message as done and reports its result.
func (c *Conn) sent(it sendItem, err error) {
	sq := c.send.Load()
	sq.queued.Add(-int64(len(it.p)))
	sq.mu.Lock()
	sq.written++
	if sq.waiters > 0 {
		close(sq.moved)
		sq.moved = make(chan struct{})
	}
	sq.mu.Unlock()
	if it.done == nil {
		return
	}
	// A channel with room takes the result even after Close; only a full
	// one is given up on then, so that Close does not wait forever.
	select {
	case it.done <- err:
		return
	default:
	}
	select {
	case it.done <- err:
	case <-c.gs.shutdown:
	}
}

// PreparedMessage is a message framed once, to be sent to many
// connections: Broadcast uses one, and WritePrepared and SendPrepared take
// one. A server connection writes its frame bytes as they are. With
// permessage-deflate and no context takeover, it is also compressed once,
// for all receivers with the same window and level; with context takeover
// each receiver must compress it with its own history. A client
// connection, which must mask each frame with a key of its own, frames the
// payload again. It is safe for concurrent use and must not be changed.
type PreparedMessage struct {
	typ     MessageType
	payload []byte
	frame   []byte // the unmasked frame a server sends
	cf      compressedFrames
}

// NewPreparedMessage frames p as one message of type typ. It keeps p.
func NewPreparedMessage(typ MessageType, p []byte) (*PreparedMessage, error) {
	if typ != MessageText && typ != MessageBinary {
		return nil, ErrInvalidMessageType
	}
	h := frame.Header{Fin: true, Opcode: byte(typ), Length: int64(len(p))}
	b := make([]byte, 0, frame.MaxHeaderSize+len(p))
	b = frame.Append(b, h)
	b = append(b, p...)
	return &PreparedMessage{typ: typ, payload: p, frame: b}, nil
}

// WritePrepared sends pm as Write would send its payload.
func (c *Conn) WritePrepared(ctx context.Context, pm *PreparedMessage) error {
	if err := c.waitSent(ctx); err != nil {
		return err
	}
	return c.writePrepared(ctx, pm)
}

// SendPrepared queues pm as Send would queue its payload.
func (c *Conn) SendPrepared(ctx context.Context, pm *PreparedMessage, done chan<- error) error {
	return c.enqueueItem(ctx, sendItem{typ: pm.typ, p: pm.payload, pm: pm, done: done}, true)
}

// TrySendPrepared queues pm as TrySend would queue its payload.
func (c *Conn) TrySendPrepared(pm *PreparedMessage, done chan<- error) error {
	return c.enqueueItem(context.Background(), sendItem{typ: pm.typ, p: pm.payload, pm: pm, done: done}, false)
}

func (c *Conn) writePrepared(ctx context.Context, pm *PreparedMessage) error {
	f := pm.frame
	switch {
	case c.client:
		return c.writeMessage(ctx, pm.typ, pm.payload)
	case c.compressing(len(pm.payload)):
		if !c.cz.send.NoContextTakeover {
			return c.writeMessage(ctx, pm.typ, pm.payload)
		}
		var err error
		if f, err = pm.compressedFrame(ctx, c.cz); err != nil {
			return err
		}
	}
	if err := c.lock(ctx, msgLock); err != nil {
		return err
	}
	defer c.unlock(msgLock)
	return c.writeFrameAt(ctx, true, 0, 0, f, preframed)
}

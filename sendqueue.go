package ws

import (
	"context"
	"net"
	"sync"
	"sync/atomic"

	"github.com/seed-d6ba7b20/ws/internal/frame"
	"github.com/seed-d6ba7b20/ws/internal/mask"
)

// sendQueue is the bounded queue of Send, drained by one goroutine.
type sendQueue struct {
	mu      sync.Mutex
	q       chan sendItem
	started bool         // the goroutine was started
	closed  bool         // the goroutine has ended; nothing more is queued
	queued  atomic.Int64 // bytes waiting
	added   uint64       // messages ever queued
	written uint64       // messages ever written or failed
	room    waitList     // senders waiting for room in q
	moved   waitList     // writers waiting for written to move (waitSent)
}

// waitList is the goroutines that wait for the send queue to move, each
// on a channel of its own with room for one wake-up; the channels are
// kept for the next waits, so that waiting allocates nothing once the
// queue has been used a while. Use it with the queue's mu held.
type waitList struct {
	waiting []chan struct{}
	free    []chan struct{}
}

// add registers a waiter and returns the channel it waits on.
func (w *waitList) add() chan struct{} {
	var ch chan struct{}
	if n := len(w.free); n > 0 {
		ch = w.free[n-1]
		w.free[n-1] = nil
		w.free = w.free[:n-1]
	} else {
		ch = make(chan struct{}, 1)
	}
	w.waiting = append(w.waiting, ch)
	return ch
}

// wake wakes every waiter registered so far. A waiter is woken once: it
// leaves the list as its channel takes the wake-up, so the send never
// blocks.
func (w *waitList) wake() {
	for i, ch := range w.waiting {
		ch <- struct{}{}
		w.waiting[i] = nil
	}
	w.waiting = w.waiting[:0]
}

// remove ends the wait on ch, woken or not, and keeps ch for another.
func (w *waitList) remove(ch chan struct{}) {
	for i, x := range w.waiting {
		if x == ch {
			last := len(w.waiting) - 1
			w.waiting[i] = w.waiting[last]
			w.waiting[last] = nil
			w.waiting = w.waiting[:last]
			break
		}
	}
	select {
	case <-ch: // a wake-up that came as the wait ended otherwise
	default:
	}
	w.free = append(w.free, ch)
}

type sendItem struct {
	typ  MessageType
	p    []byte
	pm   *preparedMessage
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
// CloseNow wait for it. When several messages wait in the queue, the
// goroutine writes them out together, in one system call where it can.
// Sending allocates nothing once the queue has been used a while.
func (c *Conn) Send(ctx context.Context, typ MessageType, p []byte, done chan<- error) error {
	return c.enqueue(ctx, typ, p, done, true)
}

// TrySend is Send that never waits: when the queue is full it returns
// ErrSendQueueFull and queues nothing.
func (c *Conn) TrySend(typ MessageType, p []byte, done chan<- error) error {
	return c.enqueue(context.Background(), typ, p, done, false)
}

// Buffered returns how many bytes of message payload wait in the send
// queue, not yet written: a sender that wants to slow down before the
// queue fills can watch it. Under js/wasm it adds what the host's
// WebSocket holds unsent (its bufferedAmount).
func (c *Conn) Buffered() int64 {
	var n int64
	if sq := c.send.Load(); sq != nil {
		n = sq.queued.Load()
	}
	if h := c.host(); h != nil {
		n += h.hostBuffered()
	}
	return n
}

func (c *Conn) enqueue(ctx context.Context, typ MessageType, p []byte, done chan<- error, wait bool) error {
	return c.enqueueItem(ctx, sendItem{typ: typ, p: p, done: done}, wait)
}

func (c *Conn) enqueueItem(ctx context.Context, it sendItem, wait bool) error {
	if !it.typ.valid() {
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
		ch, err := c.tryQueue(sq, it, wait)
		if ch == nil || err != nil {
			return err
		}
		if err := c.waitMoved(ctx, sq, &sq.room, ch); err != nil {
			return err
		}
	}
}

// tryQueue queues it if the queue has room. It does so under the lock, so
// that the count of messages added follows the queue's order. If the
// queue is full it returns a channel to wait on for room, registered
// under the same lock so that no wake-up is missed, if wait is set, and
// ErrSendQueueFull otherwise; it returns neither once it queued it.
func (c *Conn) tryQueue(sq *sendQueue, it sendItem, wait bool) (chan struct{}, error) {
	sq.mu.Lock()
	defer sq.mu.Unlock()
	if sq.closed || c.isClosed() {
		return nil, c.closedErr()
	}
	select {
	case sq.q <- it:
		sq.added++
		sq.queued.Add(int64(len(it.p)))
		return nil, nil
	default:
	}
	if !wait {
		return nil, ErrSendQueueFull
	}
	return sq.room.add(), nil
}

// startSendQueue makes the send queue and starts its goroutine, once.
func (c *Conn) startSendQueue() (*sendQueue, error) {
	c.goMu.Lock()
	sq := c.send.Load()
	if sq == nil {
		sq = &sendQueue{q: make(chan sendItem, c.sendSize)}
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

// waitMoved waits on ch, registered in list, until the queue's writer
// makes progress.
func (c *Conn) waitMoved(ctx context.Context, sq *sendQueue, list *waitList, ch chan struct{}) error {
	var err error
	select {
	case <-ch:
	case <-ctx.Done():
		err = ctxError(ctx)
	case <-c.done():
		err = c.closedErr()
	}
	sq.mu.Lock()
	list.remove(ch)
	sq.mu.Unlock()
	return err
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
		ch := sq.moved.add()
		sq.mu.Unlock()
		if err := c.waitMoved(ctx, sq, &sq.moved, ch); err != nil {
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
	var batch []sendItem
	w := new(batchWriter)
	for {
		select {
		case it := <-sq.q:
			// Take what else waits, so that the messages go out together.
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
			sq.mu.Lock()
			sq.room.wake()
			sq.mu.Unlock()
			for i := 0; i < len(batch); {
				n, err := c.writeQueued(w, batch[i:])
				if err != nil && c.isClosed() {
					err = c.closedErr()
				}
				c.sent(sq, batch[i:i+n], err)
				i += n
			}
			clear(batch)
		case <-ctx.Done():
			sq.mu.Lock()
			sq.closed = true
			sq.mu.Unlock()
			for {
				select {
				case it := <-sq.q:
					batch = append(batch[:0], it)
					c.sent(sq, batch, c.closedErr())
				default:
					return nil
				}
			}
		}
	}
}

// maxBatch bounds how many queued messages go out in one system call.
const maxBatch = 64

// batchWriter is the state of the send queue's writes of several
// messages at once, kept by its goroutine from one to the next.
type batchWriter struct {
	frames [][]byte
	bufs   net.Buffers // on the heap already, for net.Buffers.WriteTo
}

// joins returns the number of bytes of a write buffer that it would take
// to write it together with other messages, 0 for a prepared frame written
// as it is, or -1 if it must go out on its own: a compressed message, or
// one that does not fit in a write buffer, which costs a system call less
// on its own than the copy would.
func (c *Conn) joins(it sendItem) int {
	if c.queuedFrame(it) != nil {
		return 0
	}
	if it.pm != nil && !c.client {
		return -1
	}
	if len(it.p) > writeBufSize-frame.MaxHeaderSize || c.compresses(it.typ, len(it.p)) {
		return -1
	}
	return frame.MaxHeaderSize + len(it.p)
}

// writeQueued writes the first of items, and as many of those after it
// as can join it, in one system call, and returns how many it wrote.
func (c *Conn) writeQueued(w *batchWriter, items []sendItem) (int, error) {
	n, staged := 0, 0
	for _, it := range items {
		k := c.joins(it)
		if k < 0 || staged+k > writeBufSize {
			break
		}
		staged += k
		n++
	}
	if n >= 2 {
		return n, c.writeJoined(w, items[:n], staged > 0)
	}
	it := items[0]
	bg := context.Background()
	if it.pm != nil {
		return 1, c.writePrepared(bg, it.pm)
	}
	return 1, c.writeMessage(bg, it.typ, it.p)
}

// writeJoined writes whole messages, each in one frame, in one system
// call where the transport allows it: the frames of prepared messages as
// they are, the others framed (and masked, for a client) into a pooled
// write buffer, if stage is set. A write that a slow peer blocks so holds
// no more memory than the write of one message does.
func (c *Conn) writeJoined(w *batchWriter, items []sendItem, stage bool) error {
	bg := context.Background()
	if err := c.lock(bg, msgLock); err != nil {
		return err
	}
	defer c.unlock(msgLock)
	if err := c.lock(bg, frameLock); err != nil {
		return err
	}
	defer c.unlock(frameLock)
	if c.closeSent() {
		return &ClosedError{Cause: c.closeErrOrSent()}
	}
	if err := c.flushTail(); err != nil {
		return c.writeFailed(bg, err, false, false, false)
	}
	var bp *[]byte
	var buf []byte
	if stage {
		bp = getWriteBuf()
		buf = *bp
		defer putWriteBuf(bp)
	}
	frames := w.frames[:0]
	joined := false // the last frame is in buf, and the next can join it
	staged, payload := 0, 0
	for _, it := range items {
		if f := c.queuedFrame(it); f != nil {
			frames = append(frames, f)
			joined = false
			payload += len(it.pm.payload)
			continue
		}
		start := staged
		h := frame.Header{Fin: true, Opcode: it.typ.opcode(), Length: int64(len(it.p))}
		if c.client {
			h.Masked = true
			h.Key = uint32(c.rng.Uint64())
		}
		staged += frame.Put(buf[staged:], h)
		m := copy(buf[staged:], it.p)
		if h.Masked {
			mask.Apply(h.Key, 0, buf[staged:staged+m])
		}
		staged += m
		payload += m
		if joined {
			last := len(frames) - 1
			frames[last] = frames[last][:len(frames[last])+staged-start]
		} else {
			frames = append(frames, buf[start:staged])
		}
		joined = true
	}
	var n int64
	var err error
	if len(frames) == 1 {
		var m int
		m, err = c.transport.Write(frames[0])
		n = int64(m)
	} else {
		w.bufs = frames
		n, err = w.bufs.WriteTo(c.transport)
		w.bufs = nil
	}
	clear(frames)
	w.frames = frames[:0]
	if err != nil {
		return c.writeFailed(bg, err, false, n > 0, false)
	}
	c.messagesWritten(len(items), payload, payload)
	return nil
}

// sent records queued messages as done and reports their result.
func (c *Conn) sent(sq *sendQueue, items []sendItem, err error) {
	var bytes int64
	for _, it := range items {
		bytes += int64(len(it.p))
	}
	sq.queued.Add(-bytes)
	sq.mu.Lock()
	sq.written += uint64(len(items))
	sq.moved.wake()
	sq.mu.Unlock()
	for _, it := range items {
		if err == nil && it.pm != nil {
			c.out.broadcasts.Add(1)
		}
		if it.done == nil {
			continue
		}
		// A channel with room takes the result even after Close; only a
		// full one is given up on then, so that Close does not wait
		// forever.
		select {
		case it.done <- err:
			continue
		default:
		}
		select {
		case it.done <- err:
		case <-c.group.shutdown:
		}
	}
}

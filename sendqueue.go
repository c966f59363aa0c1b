package ws

import (
	"context"
	"sync"
	"sync/atomic"
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
	waiters int
	moved   chan struct{} // closed and replaced when written moves, if waited on
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
					f := c.queuedFrame(batch[j])
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
	if err == nil && it.pm != nil {
		c.out.broadcasts.Add(1)
	}
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
	case <-c.group.shutdown:
	}
}

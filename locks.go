package ws

import (
	"context"
	"slices"
	"sync"
)

// lockID names one of a connection's three mutexes.
type lockID uint8

const (
	readLock  lockID = iota // the reader state: a user's read or a background read
	msgLock                 // a whole data message being written
	frameLock               // one frame of any kind being written
)

// connLocks are a connection's three mutexes, whose waits give up when a
// context ends or the connection closes. Uncontended, a lock costs a
// sync.Mutex round and a bit; waiters queue in order, each on a channel of
// its own made only then, and an unlock hands the mutex to the first. An
// idle connection so holds no channel for them: three channels would cost
// it 336 bytes.
type connLocks struct {
	mu    sync.Mutex
	held  uint8               // bit 1<<id is set while id is held
	waits *[3][]chan struct{} // waiters of each lock, first made on contention
}

// tryLock takes lock id if it is free.
func (c *Conn) tryLock(id lockID) bool {
	l := &c.locks
	l.mu.Lock()
	ok := l.held&(1<<id) == 0
	if ok {
		l.held |= 1 << id
	}
	l.mu.Unlock()
	return ok
}

// lock takes lock id, giving up when ctx is done or the connection closes.
// A free lock is taken even then.
func (c *Conn) lock(ctx context.Context, id lockID) error {
	l := &c.locks
	l.mu.Lock()
	if l.held&(1<<id) == 0 {
		l.held |= 1 << id
		l.mu.Unlock()
		return nil
	}
	if l.waits == nil {
		l.waits = new([3][]chan struct{})
	}
	ch := make(chan struct{})
	l.waits[id] = append(l.waits[id], ch)
	l.mu.Unlock()
	var err error
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		err = ctxError(ctx)
	case <-c.done():
		err = c.closedErr()
	}
	l.mu.Lock()
	select {
	case <-ch:
		// Handed the lock as we gave up: pass it on.
		l.mu.Unlock()
		c.unlock(id)
		return err
	default:
	}
	if i := slices.Index(l.waits[id], ch); i >= 0 {
		l.waits[id] = slices.Delete(l.waits[id], i, i+1)
	}
	l.mu.Unlock()
	return err
}

// unlock releases lock id, handing it to its first waiter if there is one.
func (c *Conn) unlock(id lockID) {
	l := &c.locks
	l.mu.Lock()
	if l.held&(1<<id) == 0 {
		l.mu.Unlock()
		panic("ws: unlock of a lock that is not held")
	}
	if l.waits != nil {
		if q := l.waits[id]; len(q) > 0 {
			ch := q[0]
			l.waits[id] = slices.Delete(q, 0, 1)
			// Closed under mu, so a waiter giving up sees either its
			// channel in the queue or the lock handed to it.
			close(ch)
			l.mu.Unlock()
			return
		}
	}
	l.held &^= 1 << id
	l.mu.Unlock()
}

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
	held  uint8        // bit 1<<id is set while id is held
	gen   uint32       // how many times the read lock has been released
	waits *lockWaiters // made on the first wait
}

// lockWaiters are the goroutines waiting on a connection's locks.
type lockWaiters struct {
	q        [3][]chan struct{} // waiters of each lock, in order
	released chan struct{}      // closed when the read lock is next released, if waited on
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
		l.waits = new(lockWaiters)
	}
	ch := make(chan struct{})
	l.waits.q[id] = append(l.waits.q[id], ch)
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
	if i := slices.Index(l.waits.q[id], ch); i >= 0 {
		l.waits.q[id] = slices.Delete(l.waits.q[id], i, i+1)
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
	if id == readLock {
		l.readReleased()
	}
	if l.waits != nil {
		if q := l.waits.q[id]; len(q) > 0 {
			ch := q[0]
			l.waits.q[id] = slices.Delete(q, 0, 1)
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

// tryLockRead takes the read lock for a background read if it is free
// and no read of the user's is on its way to take it. Either way it
// returns the count of its releases so far, for readReleased.
func (c *Conn) tryLockRead() (bool, uint32) {
	l := &c.locks
	l.mu.Lock()
	ok := l.held&(1<<readLock) == 0 && !c.userReading.Load()
	if ok {
		l.held |= 1 << readLock
	}
	gen := l.gen
	l.mu.Unlock()
	return ok, gen
}

// readReleased returns a channel that is closed once the read lock has
// been released more than gen times: at once if it has been already.
// It is how a goroutine that needs the reader waits for its turn, with no
// polling.
func (c *Conn) readReleased(gen uint32) <-chan struct{} {
	l := &c.locks
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.gen != gen {
		return closedChan
	}
	if l.waits == nil {
		l.waits = new(lockWaiters)
	}
	if l.waits.released == nil {
		// One channel for every waiter of this release, so a waiter that
		// gives up leaves nothing behind but it.
		l.waits.released = make(chan struct{})
	}
	return l.waits.released
}

// readWaitEnded counts a release of the read lock that did not happen: a
// user's read that gave up waiting for the lock, for which background
// reads stood aside (see tryLockRead), wakes whoever waits for the next
// release, so they look again.
func (c *Conn) readWaitEnded() {
	l := &c.locks
	l.mu.Lock()
	l.readReleased()
	l.mu.Unlock()
}

// readReleased counts a release of the read lock and wakes whoever waits
// for it. Call it with mu held.
func (l *connLocks) readReleased() {
	l.gen++
	if l.waits != nil && l.waits.released != nil {
		close(l.waits.released)
		l.waits.released = nil
	}
}

//go:build !js

package ws

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestLocksExclusive runs goroutines that take and release each lock many
// times, some with contexts that give up, and checks that no two ever
// hold the same lock and that every lock ends free.
func TestLocksExclusive(t *testing.T) {
	c := &Conn{} // the locks need nothing else of a connection
	var holders [3]int32
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := lockID(g % 3)
			for i := range 300 {
				ctx := context.Background()
				var cancel context.CancelFunc = func() {}
				if i%3 == 0 {
					ctx, cancel = context.WithTimeout(ctx, time.Duration(i%7)*time.Microsecond)
				}
				err := c.lock(ctx, id)
				cancel()
				if err != nil {
					if !errors.Is(err, context.DeadlineExceeded) {
						t.Errorf("lock: %v", err)
					}
					continue
				}
				mu.Lock()
				holders[id]++
				if holders[id] != 1 {
					t.Errorf("lock %d held by %d at once", id, holders[id])
				}
				mu.Unlock()
				time.Sleep(time.Duration(i%3) * time.Microsecond)
				mu.Lock()
				holders[id]--
				mu.Unlock()
				c.unlock(id)
			}
		}()
	}
	wg.Wait()
	for id := range lockID(3) {
		if !c.tryLock(id) {
			t.Errorf("lock %d is still held after every goroutine released it", id)
		}
	}
	if c.locks.waits != nil {
		for id, q := range c.locks.waits.q {
			if len(q) != 0 {
				t.Errorf("lock %d has %d waiters left", id, len(q))
			}
		}
	}
}

// TestLocksOrderAndGiveUp checks that waiters get a lock in the order
// they came, that a waiter gives up when its context ends or the
// connection closes, and that a free lock is taken even with a context
// already done.
func TestLocksOrderAndGiveUp(t *testing.T) {
	c := &Conn{} // the locks need nothing else of a connection
	if err := c.lock(context.Background(), msgLock); err != nil {
		t.Fatal(err)
	}
	got := make(chan int, 3)
	for i := range 3 {
		go func() {
			if err := c.lock(context.Background(), msgLock); err != nil {
				t.Errorf("waiter %d: %v", i, err)
				return
			}
			got <- i
			c.unlock(msgLock)
		}()
		// Let waiter i queue before the next.
		for {
			c.locks.mu.Lock()
			n := 0
			if c.locks.waits != nil {
				n = len(c.locks.waits.q[msgLock])
			}
			c.locks.mu.Unlock()
			if n == i+1 {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	// The other locks are independent.
	if !c.tryLock(frameLock) || !c.tryLock(readLock) {
		t.Fatal("frame or read lock not free while the message lock is held")
	}
	c.unlock(msgLock)
	for want := range 3 {
		if i := <-got; i != want {
			t.Fatalf("waiter %d got the lock in turn %d", i, want)
		}
	}

	// frameLock is held (tryLock above): a context ends the wait.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := c.lock(ctx, frameLock); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("lock with an ending context: %v", err)
	}
	// A done context still takes a free lock.
	c.unlock(frameLock)
	if err := c.lock(ctx, frameLock); err != nil {
		t.Fatalf("free lock with a done context: %v", err)
	}
	// Closing the connection ends the wait.
	errc := make(chan error, 1)
	go func() { errc <- c.lock(context.Background(), frameLock) }()
	time.Sleep(5 * time.Millisecond)
	c.setCause(errors.New("gone"))
	c.markClosed()
	if err := <-errc; err == nil {
		t.Fatal("lock returned nil on a closed connection while the lock was held")
	}
}

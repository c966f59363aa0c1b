package ws

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// isTimeout reports whether err is a deadline's.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// epoch is the origin of monotonicNow.
var epoch = time.Now()

// monotonicNow is the time on the monotonic clock, in less room than a
// time.Time.
func monotonicNow() time.Duration { return time.Since(epoch) }

// aLongTimeAgo is a deadline in the past, which interrupts blocked I/O.
var aLongTimeAgo = time.Unix(1, 0)

// Which deadlines interrupt sets.
const (
	interruptRead = iota
	interruptWrite
	interruptBoth
)

// interrupt arranges for a deadline of nc (which) to break off a blocked
// call when ctx is done, without a goroutine of its own. The returned
// stop reports whether ctx fired; it restores the deadline when it did. A
// context that can never be done costs nothing.
func interrupt(ctx context.Context, nc net.Conn, which int) (stop func() bool) {
	if i, ok := ctx.(interrupter); ok {
		return i.interrupt(nc, which)
	}
	if ctx.Done() == nil {
		return never
	}
	set := nc.SetReadDeadline
	switch which {
	case interruptWrite:
		set = nc.SetWriteDeadline
	case interruptBoth:
		set = nc.SetDeadline
	}
	fired := make(chan struct{})
	s := context.AfterFunc(ctx, func() {
		set(aLongTimeAgo)
		close(fired)
	})
	return func() bool {
		if s() {
			return false
		}
		<-fired
		set(time.Time{})
		return true
	}
}

func never() bool { return false }

// An interrupter is a context that breaks off calls itself, as NetConn's
// deadlines do, without allocating per call.
type interrupter interface {
	interrupt(nc net.Conn, which int) (stop func() bool)
}

// ctxError returns ctx's error, wrapping its cause when it has one of
// its own, or nil while ctx is not done. Once ctx's deadline has passed
// it waits a moment for ctx to say so, with its cause: the transport's
// deadline, set from it, can fire an instant earlier.
func ctxError(ctx context.Context) error {
	cerr := ctx.Err()
	if d, ok := ctx.Deadline(); ok && cerr == nil && !time.Now().Before(d) {
		t := time.NewTimer(10 * time.Millisecond)
		select {
		case <-ctx.Done():
			cerr = ctx.Err()
		case <-t.C:
			cerr = context.DeadlineExceeded
		}
		t.Stop()
	}
	if cerr == nil {
		return nil
	}
	if cause := context.Cause(ctx); cause != nil && cause != cerr {
		return fmt.Errorf("%w: %w", cerr, cause)
	}
	return cerr
}

package ws

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// NetConn wraps c as a net.Conn, for protocols that run over a byte
// stream. It behaves as follows:
//
//   - Read returns the bytes of the peer's messages as one stream, across
//     message boundaries; messages of either type are accepted.
//   - Each Write sends its bytes as one message of type typ.
//   - Read returns io.EOF after the peer closed with StatusNormalClosure or
//     StatusGoingAway; other closes and failures come back as errors.
//   - Close runs the close handshake with StatusNormalClosure.
//   - SetDeadline, SetReadDeadline and SetWriteDeadline interrupt calls in
//     progress, and can be moved or cleared at any time. A timeout is an
//     error that wraps os.ErrDeadlineExceeded, with Timeout() true. The
//     stream goes on after a timeout: a read that times out loses nothing,
//     and a write that times out in the middle of its message reports all
//     its bytes written, the rest going out before the next write.
//   - LocalAddr and RemoteAddr are the transport's.
//   - ctx bounds the adapter: when it is done, calls fail as after a
//     timeout and the connection is closed.
//
// Read and Write may be called at the same time, from two goroutines. The
// adapter owns c: do not read or write c directly while using it.
func NetConn(ctx context.Context, c *Conn, typ MessageType) net.Conn {
	a := &netConn{c: c, typ: typ}
	a.readDeadline.init(ctx)
	a.writeDeadline.init(ctx)
	if ctx.Done() != nil {
		a.stop = context.AfterFunc(ctx, func() {
			// Calls under way end as at their deadline.
			a.readDeadline.expireNow()
			a.writeDeadline.expireNow()
			c.CloseNow()
		})
	}
	return a
}

type netConn struct {
	c    *Conn
	typ  MessageType
	stop func() bool

	readMu sync.Mutex
	mr     *messageReader // the message being read, or nil
	eof    bool

	writeMu                     sync.Mutex
	readDeadline, writeDeadline deadline
}

// deadline is a context that a timer cancels, reset when the deadline
// moves. It breaks off the connection's calls itself (see interrupt): a
// call registers with it, and only when the deadline passes during a
// call does the timer set the transport's deadline in the past. So a
// call costs two rounds of its mutex and no allocation, and moving the
// deadline resets one timer; only a deadline that passed makes a new
// context.
type deadline struct {
	mu     sync.Mutex
	parent context.Context
	ctx    *deadlineCtx // the current context, renewed after it was cancelled
	cancel context.CancelFunc
	t      time.Time   // the deadline, zero for none
	timer  *time.Timer // fires at t, made on the first deadline

	// Calls under way: how many, on which transport, and whether the
	// deadline passed during them, setting the transport's in the past.
	calls  int
	nc     net.Conn
	which  int
	fired  bool
	stopFn func() bool // stop, as the func that interrupt returns
}

// deadlineCtx is the context of a deadline, which interrupt recognises.
type deadlineCtx struct {
	context.Context
	d *deadline
}

func (d *deadline) init(parent context.Context) {
	d.parent = parent
	d.renew()
	d.stopFn = d.stop
}

// renew starts a new context. Call it with mu held, or before d is shared.
func (d *deadline) renew() {
	ctx, cancel := context.WithCancel(d.parent)
	d.ctx, d.cancel = &deadlineCtx{ctx, d}, cancel
}

// set moves the deadline; the zero time clears it.
func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ctx.Err() != nil {
		// The old deadline passed: start afresh.
		d.renew()
	}
	d.t = t
	if t.IsZero() {
		if d.timer != nil {
			d.timer.Stop()
		}
		return
	}
	dur := time.Until(t)
	if dur <= 0 {
		if d.timer != nil {
			d.timer.Stop()
		}
		d.expire()
		return
	}
	if d.timer == nil {
		d.timer = time.AfterFunc(dur, d.fire)
	} else {
		d.timer.Reset(dur)
	}
}

// fire is the timer's: the deadline passed, unless it moved since the
// timer went off (or the clock did), which then waits on for it.
func (d *deadline) fire() {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch dur := time.Until(d.t); {
	case d.t.IsZero():
	case dur > 0:
		d.timer.Reset(dur)
	default:
		d.expire()
	}
}

// expireNow cancels the context, as its parent's end does, and breaks
// off the calls under way.
func (d *deadline) expireNow() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expire()
}

// expire cancels the context and breaks off the calls under way. Call it
// with mu held.
func (d *deadline) expire() {
	d.cancel()
	if d.calls > 0 && !d.fired {
		d.fired = true
		d.setTransport(aLongTimeAgo)
	}
}

// setTransport sets the deadline of the transport that the calls under
// way use.
func (d *deadline) setTransport(t time.Time) {
	switch d.which {
	case interruptRead:
		d.nc.SetReadDeadline(t)
	case interruptWrite:
		d.nc.SetWriteDeadline(t)
	default:
		d.nc.SetDeadline(t)
	}
}

// interrupt registers a call of the connection on nc with ctx: a call
// that starts after its context was cancelled is broken off at once.
func (ctx *deadlineCtx) interrupt(nc net.Conn, which int) (stop func() bool) {
	d := ctx.d
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls++
	d.nc, d.which = nc, which
	if ctx.Err() != nil && !d.fired {
		d.fired = true
		d.setTransport(aLongTimeAgo)
	}
	return d.stopFn
}

// stop ends a call's registration, reporting whether the deadline broke
// it off; the last call restores the transport's deadline.
func (d *deadline) stop() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls--
	fired := d.fired
	if fired && d.calls == 0 {
		d.fired = false
		d.setTransport(time.Time{})
	}
	return fired
}

func (d *deadline) context() context.Context {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ctx
}

// timeoutErr is the error of a call that ran into its deadline.
func (a *netConn) timeoutErr(op string) error {
	return &net.OpError{Op: op, Net: "websocket", Source: a.LocalAddr(), Addr: a.RemoteAddr(), Err: os.ErrDeadlineExceeded}
}

func (a *netConn) Read(p []byte) (int, error) {
	a.readMu.Lock()
	defer a.readMu.Unlock()
	if a.eof {
		return 0, io.EOF
	}
	ctx := a.readDeadline.context()
	for {
		if ctx.Err() != nil {
			return 0, a.timeoutErr("read")
		}
		if a.mr == nil {
			_, r, err := a.c.Reader(ctx)
			if err != nil {
				return 0, a.readErr(ctx, err)
			}
			a.mr = r.(*messageReader)
		}
		a.mr.ctx = ctx
		n, err := a.mr.Read(p)
		if err == io.EOF {
			a.mr = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		if err != nil {
			return n, a.readErr(ctx, err)
		}
		return n, nil
	}
}

// readErr maps a read error to the adapter's: io.EOF for a normal close, a
// timeout for a deadline.
func (a *netConn) readErr(ctx context.Context, err error) error {
	switch CloseStatus(err) {
	case StatusNormalClosure, StatusGoingAway:
		a.eof = true
		return io.EOF
	}
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return a.timeoutErr("read")
	}
	return err
}

func (a *netConn) Write(p []byte) (int, error) {
	a.writeMu.Lock()
	defer a.writeMu.Unlock()
	ctx := a.writeDeadline.context()
	if ctx.Err() != nil {
		return 0, a.timeoutErr("write")
	}
	if err := a.c.Write(ctx, a.typ, p); err != nil {
		if ctx.Err() != nil {
			var de *deferredError
			if errors.As(err, &de) {
				// Cut off mid-message: the rest goes out with the next
				// write, so all of p counts as written.
				return len(p), a.timeoutErr("write")
			}
			return 0, a.timeoutErr("write")
		}
		return 0, err
	}
	return len(p), nil
}

func (a *netConn) Close() error {
	if a.stop != nil {
		a.stop()
	}
	a.readDeadline.set(time.Time{})
	a.writeDeadline.set(time.Time{})
	err := a.c.Close(StatusNormalClosure, "")
	if errors.Is(err, net.ErrClosed) {
		// The peer closed first, or the connection failed: nothing to do.
		return nil
	}
	return err
}

func (a *netConn) LocalAddr() net.Addr { return a.c.LocalAddr() }

func (a *netConn) RemoteAddr() net.Addr { return a.c.RemoteAddr() }

func (a *netConn) SetDeadline(t time.Time) error {
	a.readDeadline.set(t)
	a.writeDeadline.set(t)
	return nil
}

func (a *netConn) SetReadDeadline(t time.Time) error {
	a.readDeadline.set(t)
	return nil
}

func (a *netConn) SetWriteDeadline(t time.Time) error {
	a.writeDeadline.set(t)
	return nil
}

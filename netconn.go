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
		a.stop = context.AfterFunc(ctx, func() { c.CloseNow() })
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

// deadline is a context that a timer cancels, reset when the deadline moves.
type deadline struct {
	mu     sync.Mutex
	parent context.Context
	ctx    context.Context
	cancel context.CancelFunc
	timer  *time.Timer
}

func (d *deadline) init(parent context.Context) {
	d.parent = parent
	d.ctx, d.cancel = context.WithCancel(parent)
}

// set moves the deadline; the zero time clears it.
func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	if d.ctx.Err() != nil {
		// The old deadline fired: start afresh.
		d.ctx, d.cancel = context.WithCancel(d.parent)
	}
	if t.IsZero() {
		return
	}
	dur := time.Until(t)
	if dur <= 0 {
		d.cancel()
		return
	}
	d.timer = time.AfterFunc(dur, d.cancel)
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

package ws

import (
	"context"
	"time"
)

// Message is a whole message, as Messages delivers it.
type Message struct {
	Type MessageType
	Data []byte
}

// Messages returns a channel that delivers every message the peer sends,
// in order, and is closed when the connection ends; Err then says why.
// Range over it:
//
//	for msg := range conn.Messages() {
//		...
//	}
//	if err := conn.Err(); err != nil { ... }
//
// The first call starts one goroutine that reads with Read and hands each
// message over; later calls return the same channel. On Linux, over a
// socket, that goroutine ends once the connection has been idle for 10 ms,
// and a poller shared by the process starts another when the peer sends:
// an idle connection holds no goroutine for Messages. The channel has no
// buffer: while no one takes from it the goroutine holds one message and
// reads nothing more, so the peer's sending is slowed by TCP, and a slow
// consumer cannot make memory grow. Every message the peer sent before its
// close frame is delivered before the channel closes. Once Messages is in
// use, do not call Read, ReadAppend or Reader: they would compete with it
// for messages, or fail with ErrConcurrentRead while it reads. Close and
// CloseNow stop the goroutine and wait for it; a message it held then is
// dropped.
func (c *Conn) Messages() <-chan Message {
	c.goMu.Lock()
	if c.msgs != nil {
		c.goMu.Unlock()
		return c.msgs
	}
	ch := make(chan Message)
	c.msgs = ch
	c.goMu.Unlock()
	ok := c.goroutine(func(context.Context) error {
		c.pumpMessages(ch, false)
		return nil
	})
	if !ok {
		close(ch)
	}
	return ch
}

// pumpMessages is the loop of the Messages goroutine: it reads each
// message and hands it over on ch, which it closes once the connection
// ends or Close is called. Between messages it parks where the socket
// allows (see awaitMessage): the goroutine ends while the connection is
// idle, and resumeMessages starts another, with resumed set, once the
// peer sends.
func (c *Conn) pumpMessages(ch chan Message, resumed bool) {
	if resumed {
		c.endRead() // the read side that awaitMessage kept while parked
	}
	// The errgroup's context ends only when the transport closes, which
	// ends a read in progress anyway; reading without it costs nothing.
	ctx := context.Background()
	for {
		if c.raw != nil && idlePolling && c.awaitMessage() {
			return // parked
		}
		typ, data, err := c.Read(ctx)
		if err != nil {
			break // the reason is the connection's Err
		}
		select {
		case ch <- Message{Type: typ, Data: data}:
			continue
		case <-c.group.shutdown:
		}
		break
	}
	close(ch)
}

// awaitMessage waits, for the Messages goroutine, until the peer's next
// data message has begun, answering the control frames that come alone
// meanwhile. While the socket has nothing to read it parks: it has the
// idle poller watch the socket and returns true, keeping the read side
// as a read of the user's in progress keeps it, and the goroutine ends;
// an idle connection so holds no goroutine for Messages, only the user's
// own, which waits on the channel. Otherwise it returns false, and Read
// takes the message, or says why there is none.
func (c *Conn) awaitMessage() bool {
	ctx := context.Background()
	if c.beginRead(ctx) != nil {
		return false
	}
	rd := &c.rd
	// A failed read sets rd.err, which ends the loop.
	for !rd.pending && !rd.inMsg && rd.err == nil {
		if rd.buffered() == 0 {
			rd.release()
			ready, err := c.readAwhile()
			if err != nil {
				c.readFailed(ctx, err, false, false)
				continue
			}
			if !ready {
				if c.park() {
					return true
				}
				break // Read waits on the goroutine
			}
		}
		if err := c.frameAhead(); err != nil && err != errControlHandled {
			c.readFailed(ctx, err, false, false)
		}
	}
	c.endRead()
	return false
}

// parkAfter is how long the Messages goroutine waits for the peer's next
// bytes before it parks. Parking and resuming cost some microseconds of
// processor time more than a wait on the goroutine, which a connection
// that is sent a message every few milliseconds would pay for each; one
// that stays idle longer pays it once for the whole silence.
const parkAfter = 10 * time.Millisecond

// readAwhile waits up to parkAfter for bytes on the idle socket, with
// the read side held: while no other read can begin, the read deadline
// is the Messages goroutine's. It reports whether bytes, or the end of
// the stream or an error, which it returns, came in time.
func (c *Conn) readAwhile() (bool, error) {
	c.transport.SetReadDeadline(time.Now().Add(parkAfter))
	err := c.readIdle()
	c.transport.SetReadDeadline(time.Time{})
	if isTimeout(err) && !c.isClosed() {
		return false, nil
	}
	return true, err
}

// park has the idle poller watch the socket of the Messages goroutine,
// which holds the read side with nothing buffered, and resume it once the
// socket is readable. It reports whether it did.
func (c *Conn) park() bool {
	c.goMu.Lock()
	defer c.goMu.Unlock()
	if c.isClosed() {
		return false
	}
	id := poller.watch(c)
	c.group.parked = id
	return id != 0
}

// resumeMessages starts the Messages goroutine again, for the poller, once
// the socket that park registered as id is readable, unless closing the
// connection ended the park first.
func (c *Conn) resumeMessages(id uint64) {
	c.goMu.Lock()
	defer c.goMu.Unlock()
	if c.group.parked != id {
		return
	}
	c.group.parked = 0
	ch := c.msgs
	if !c.goLocked(func(context.Context) error {
		c.pumpMessages(ch, true)
		return nil
	}) {
		c.endParked()
	}
}

// endParked ends the Messages goroutine while it is parked, when the
// connection ends: it lets the read side go and closes the channel. Call
// it with goMu held.
func (c *Conn) endParked() {
	c.group.parked = 0
	c.endRead()
	close(c.msgs)
}

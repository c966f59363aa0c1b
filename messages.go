package ws

import "context"

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
// message over; later calls return the same channel. The channel has no
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
		defer close(ch)
		// The errgroup's context ends only when the transport closes, which
		// ends a read in progress anyway; reading without it costs nothing.
		ctx := context.Background()
		for {
			typ, data, err := c.Read(ctx)
			if err != nil {
				return nil // the reason is the connection's Err
			}
			select {
			case ch <- Message{Type: typ, Data: data}:
			case <-c.group.shutdown:
				return nil
			}
		}
	})
	if !ok {
		close(ch)
	}
	return ch
}

package ws

import (
	"errors"
	"sync/atomic"
)

// Counters are the running totals of a connection's traffic: what
// ConnStats reports of one connection and ServerStats sums over the
// connections of a Server. They are always on; counting costs a few
// atomic additions per message and allocates nothing.
//
// Messages are data messages (text and binary), counted once their last
// frame has gone through; a message cut short by an error or by the end of
// the connection is not counted. Bytes are payload bytes: frame headers,
// masking keys and control frames are never counted.
type Counters struct {
	// MessagesIn counts the peer's messages read to their end: by Read,
	// ReadAppend, a Reader or the Messages goroutine, or dropped unread
	// (the rest of a message that a Reader left, or a message that
	// arrived during the close handshake and that no read took).
	MessagesIn uint64
	// BytesIn counts the payload bytes of those messages as the
	// application reads them: inflated, for a compressed message.
	BytesIn uint64
	// WireBytesIn counts the same payload bytes as they crossed the wire:
	// a compressed message counts its compressed size, any other message
	// the same as in BytesIn. Without permessage-deflate it equals
	// BytesIn; with it, BytesIn - WireBytesIn is what compression saved.
	WireBytesIn uint64

	// MessagesOut counts the messages this side wrote whole: by Write, by
	// a Writer when its Close succeeded, and by the send queue (Send,
	// TrySend, Server.Broadcast) once written. A message whose write
	// failed, or that a context cut off in the middle of its last frame,
	// is not counted.
	MessagesOut uint64
	// BytesOut counts the payload bytes of those messages as the
	// application gave them, before compression.
	BytesOut uint64
	// WireBytesOut counts the same payload bytes as they went on the
	// wire: a compressed message counts its compressed size, any other
	// message the same as in BytesOut.
	WireBytesOut uint64

	// BroadcastsOut counts the messages of Server.Broadcast written to the
	// connection; they count in MessagesOut too.
	BroadcastsOut uint64
	// BroadcastsDropped counts the messages of Server.Broadcast that the
	// connection missed because its send queue was full, under
	// OverflowDrop.
	BroadcastsDropped uint64

	// PingsIn and PongsIn count the pings and pongs the peer sent.
	PingsIn uint64
	PongsIn uint64
	// PingsOut counts the pings this side sent, by Ping and by keepalive.
	PingsOut uint64
	// KeepaliveTimeouts counts the connections that keepalive ended
	// because a pong came late (Err is ErrKeepaliveTimeout): 0 or 1 for
	// one connection.
	KeepaliveTimeouts uint64
}

// ConnStats are the figures of one connection, as Conn.Stats reports
// them: its Counters, and gauges of the moment.
type ConnStats struct {
	Counters
	// Queued is how many messages wait in the send queue (Send, TrySend,
	// Server.Broadcast), the one being written included.
	Queued int64
	// Buffered is the payload bytes of those messages, as Buffered
	// returns it (which under js/wasm adds what the host's WebSocket
	// holds unsent).
	Buffered int64
	// CloseSent is the code of the close frame this side sent,
	// StatusNoStatusReceived for a close frame without a code, and 0
	// while it has sent none.
	CloseSent StatusCode
	// CloseReceived is the code of the peer's close frame, as the
	// connection's Err gives it, StatusNoStatusReceived for a close frame
	// without a code, and 0 while none came (or if the connection ended
	// for another cause first).
	CloseReceived StatusCode
}

// Stats returns the connection's figures. It is safe to call at any time,
// from any goroutine, during the connection's life and after it: each
// figure is read atomically, though not all of them at one instant.
func (c *Conn) Stats() ConnStats {
	var s ConnStats
	s.Counters = c.counters()
	if sq := c.send.Load(); sq != nil {
		sq.mu.Lock()
		s.Queued = int64(sq.added - sq.written)
		sq.mu.Unlock()
	}
	s.Buffered = c.Buffered()
	s.CloseSent = StatusCode(c.closeCode.Load())
	// The cause is the peer's CloseError, possibly wrapped (by a host's
	// transport); errors.As would allocate its target.
	for err := c.causeErr(); err != nil; err = errors.Unwrap(err) {
		if ce, ok := err.(CloseError); ok {
			s.CloseReceived = ce.Code
			break
		}
	}
	return s
}

// counters reads the connection's counters.
func (c *Conn) counters() Counters {
	// A compressed message adds its bytes before what compression saved
	// of them, so reading the saving first keeps it within the bytes.
	savedIn := c.in.saved.Load()
	savedOut := c.out.saved.Load()
	n := Counters{
		MessagesIn:        c.in.messages.Load(),
		BytesIn:           c.in.bytes.Load(),
		MessagesOut:       c.out.messages.Load(),
		BytesOut:          c.out.bytes.Load(),
		BroadcastsOut:     c.out.broadcasts.Load(),
		BroadcastsDropped: c.out.dropped.Load(),
		PingsIn:           c.in.pings.Load(),
		PongsIn:           c.in.pongs.Load(),
		PingsOut:          c.out.pings.Load(),
	}
	n.WireBytesIn = n.BytesIn - uint64(savedIn)
	n.WireBytesOut = n.BytesOut - uint64(savedOut)
	if errors.Is(c.causeErr(), ErrKeepaliveTimeout) {
		n.KeepaliveTimeouts = 1
	}
	return n
}

// inCounters are the counters of reading, moved by whoever holds the read
// lock. Atomic, so that Stats may read them at any time; each is one
// uncontended atomic addition per message.
type inCounters struct {
	messages atomic.Uint64
	bytes    atomic.Uint64
	saved    atomic.Int64 // inflated minus compressed bytes of compressed messages
	pings    atomic.Uint64
	pongs    atomic.Uint64
}

// outCounters are the counters of writing: of the message writer under
// the message lock, of Broadcast, and of Ping.
type outCounters struct {
	messages   atomic.Uint64
	bytes      atomic.Uint64
	saved      atomic.Int64 // uncompressed minus compressed bytes of compressed messages
	broadcasts atomic.Uint64
	dropped    atomic.Uint64
	pings      atomic.Uint64
}

// messageRead counts the message being read, which has ended.
func (c *Conn) messageRead() {
	rd := &c.rd
	c.in.messages.Add(1)
	c.in.bytes.Add(uint64(rd.size))
	if rd.comp {
		c.in.saved.Add(rd.size - rd.wire)
	}
}

// messagesWritten counts messages written whole: n payload bytes in all,
// wire of them on the wire (see Counters).
func (c *Conn) messagesWritten(messages, n, wire int) {
	c.out.messages.Add(uint64(messages))
	c.out.bytes.Add(uint64(n))
	if wire != n {
		c.out.saved.Add(int64(n - wire))
	}
}

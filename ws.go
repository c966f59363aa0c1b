package ws

import (
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/seed-d6ba7b20/ws/internal/utf8stream"
	"golang.org/x/sync/errgroup"
)

// MessageType is the type of a data message: text or binary. A message
// to send may carry a flag besides, Compressed or Uncompressed.
type MessageType int

// Message types of RFC 6455 section 5.6. Their values are the opcodes.
const (
	MessageText   MessageType = 1
	MessageBinary MessageType = 2
)

// Flags of one message to send, added to its type, as in
// MessageBinary|Uncompressed, for Write, Writer, Send, TrySend and
// Server.Broadcast. Without a flag, a message is compressed when the
// handshake agreed on permessage-deflate and it is not shorter than
// CompressionOptions.Threshold. Without permessage-deflate the flags do
// nothing. Messages that are read never carry them.
const (
	// Compressed compresses the message whatever its size.
	Compressed MessageType = 1 << 8
	// Uncompressed sends the message as it is, for data that does not
	// compress (images, say) or that must not share a compression context
	// with secrets sent on the same connection.
	Uncompressed MessageType = 1 << 9
)

// valid reports whether t is text or binary, with at most one flag.
func (t MessageType) valid() bool {
	k := t &^ (Compressed | Uncompressed)
	return (k == MessageText || k == MessageBinary) && t&(Compressed|Uncompressed) != Compressed|Uncompressed
}

// opcode is the opcode of a message of type t.
func (t MessageType) opcode() byte { return byte(t & 0xff) }

// String returns "text" or "binary", with "|compressed" or
// "|uncompressed" for a flag.
func (t MessageType) String() string {
	var s string
	switch t &^ (Compressed | Uncompressed) {
	case MessageText:
		s = "text"
	case MessageBinary:
		s = "binary"
	default:
		return fmt.Sprintf("MessageType(%d)", int(t))
	}
	switch {
	case t&Compressed != 0 && t&Uncompressed != 0:
		return fmt.Sprintf("MessageType(%d)", int(t))
	case t&Compressed != 0:
		s += "|compressed"
	case t&Uncompressed != 0:
		s += "|uncompressed"
	}
	return s
}

// Conn is a WebSocket connection, from Accept or Dial.
//
// Write, Writer, Send, TrySend, Ping, Pong and Close may be called from
// many goroutines at once;
// messages never interleave on the wire. Reads (Read, ReadAppend, Reader
// and the readers it returns) must come from one goroutine at a time; a
// read that overlaps another returns ErrConcurrentRead. Every method that
// blocks takes a context, and its cancellation interrupts the call (see
// Read).
type Conn struct {
	// The fields are ordered to pack small ones together: an idle
	// connection's Conn is one of its largest costs.
	transport net.Conn
	// raw reads the transport without a buffer while idle; see readIdle.
	raw         syscall.RawConn // nil unless the transport is a socket
	subprotocol string
	extensions  string
	compression *compression // nil without permessage-deflate

	readLimit    atomic.Int64
	maxFragments int
	onPing       func([]byte)
	onPong       func([]byte)
	closeTimeout time.Duration

	// Reading. userReading marks a read call of the user's, so that two
	// at once can be refused; the read lock gives the reader state to one
	// goroutine at a time: a user's read, or the connection's own
	// background read of control frames (for Ping, keepalive and Close),
	// which a user's read interrupts.
	locks connLocks // the read lock, and the message and frame locks of writing
	rd    reader
	in    inCounters // moved by whoever holds the read lock
	msgR  messageReader

	// Writing: msgLock is held for a whole data message, frameLock for
	// one frame of any kind, so control frames can go out between
	// fragments.
	msgW     *messageWriter // made by the first Writer
	whdr     [14]byte
	client   bool
	skipUTF8 bool
	wtail    []byte         // the rest of a frame cut off by a context (under frameLock)
	rng      *mrand.ChaCha8 // masking keys of a client
	// The writers' counters, a cache line away from the reader's, so
	// that a reading and a writing goroutine do not contend for one line.
	out outCounters

	// Goroutines the connection starts (the Messages pump, the Send
	// queue's writer, keepalive) belong to one errgroup, whose context ends
	// with the transport. Close and CloseNow wait for them.
	goMu         sync.Mutex
	group        *goState // made with the first goroutine (under goMu)
	msgs         chan Message
	userReading  atomic.Bool
	shut         bool                      // Close or CloseNow was called (under goMu)
	autoPong     bool                      // answer pings; set by newConn
	send         atomic.Pointer[sendQueue] // made by the first Send
	sendSize     int
	pingInterval time.Duration
	pingTimeout  time.Duration

	// Pings awaiting their pong.
	pingMu   sync.Mutex
	pings    map[uint64]*pingWait
	pingNext uint64

	// Closing.
	closeOnce sync.Once
	// closeCode is the code of the close frame that went out,
	// StatusNoStatusReceived for one without a code, and 0 until one did
	// (under frameLock); see closeSent.
	closeCode atomic.Uint32
	closed    atomic.Pointer[chan struct{}] // see done and markClosed
	cause     atomic.Pointer[error]         // why the connection ends, set once, before the transport closes
}

func newConn(nc net.Conn, client bool, opts *Options, buffered []byte) *Conn {
	c := &Conn{
		transport: nc,
		client:    client,
		autoPong:  true,
	}
	c.sendSize = DefaultSendQueue
	c.readLimit.Store(DefaultReadLimit)
	c.maxFragments = 0
	c.closeTimeout = DefaultCloseTimeout
	if opts != nil {
		switch {
		case opts.ReadLimit > 0:
			c.readLimit.Store(opts.ReadLimit)
		case opts.ReadLimit < 0:
			c.readLimit.Store(-1)
		}
		switch {
		case opts.MaxFragments > 0:
			c.maxFragments = opts.MaxFragments
		case opts.MaxFragments < 0:
			c.maxFragments = -1
		}
		if opts.CloseTimeout > 0 {
			c.closeTimeout = opts.CloseTimeout
		}
		c.skipUTF8 = opts.SkipUTF8Validation
		c.autoPong = !opts.DisableAutoPong
		c.onPing = opts.OnPing
		c.onPong = opts.OnPong
		if opts.SendQueue > 0 {
			c.sendSize = opts.SendQueue
		}
		c.pingInterval = opts.PingInterval
		c.pingTimeout = opts.PingTimeout
		if c.pingTimeout <= 0 {
			c.pingTimeout = c.pingInterval
		}
	}
	c.setRawRead(nc)
	if client {
		var seed [32]byte
		rand.Read(seed[:])
		c.rng = mrand.NewChaCha8(seed)
	}
	c.msgR.c = c
	if c.pingInterval > 0 {
		c.goroutine(c.keepalive)
	}
	if len(buffered) > 0 {
		if len(buffered) <= readBufSize {
			c.rd.bufp = getReadBuf()
		} else {
			b := make([]byte, len(buffered))
			c.rd.bufp = &b
		}
		c.rd.buf = *c.rd.bufp
		c.rd.w = copy(c.rd.buf, buffered)
	}
	return c
}

// Subprotocol returns the subprotocol chosen in the handshake, or "".
func (c *Conn) Subprotocol() string { return c.subprotocol }

// Extensions returns the Sec-WebSocket-Extensions value agreed in the
// handshake, or "".
func (c *Conn) Extensions() string { return c.extensions }

// LocalAddr returns the local address of the transport.
func (c *Conn) LocalAddr() net.Addr { return c.transport.LocalAddr() }

// RemoteAddr returns the peer's address as the transport sees it. Behind a
// proxy this is the proxy; see the request's X-Forwarded-For header.
func (c *Conn) RemoteAddr() net.Addr { return c.transport.RemoteAddr() }

// SetReadLimit sets the longest message the connection accepts, in bytes;
// n <= 0 removes the limit. A message over the limit is refused as soon as
// a frame header shows it, before any of it is buffered, and the
// connection is closed with StatusMessageTooBig. The default is
// DefaultReadLimit.
func (c *Conn) SetReadLimit(n int64) {
	if n <= 0 {
		n = -1
	}
	c.readLimit.Store(n)
}

// goroutine starts f in the connection's errgroup. An error from f closes
// the connection, which stops the others. It starts nothing, and returns
// false, once the connection is closed.
func (c *Conn) goroutine(f func(ctx context.Context) error) bool {
	c.goMu.Lock()
	defer c.goMu.Unlock()
	return c.goLocked(f)
}

// goLocked is goroutine with goMu held.
func (c *Conn) goLocked(f func(ctx context.Context) error) bool {
	if c.isClosed() {
		return false
	}
	gs := c.group
	if gs == nil {
		// An error of f closes the transport, which cancels ctx: the
		// group needs no context of its own.
		gs = &goState{shutdown: make(chan struct{})}
		gs.ctx, gs.cancel = context.WithCancel(context.Background())
		if c.shut {
			close(gs.shutdown)
		}
		c.group = gs
	}
	ctx := gs.ctx
	gs.group.Go(func() error {
		err := f(ctx)
		if err != nil {
			c.closeTransport(err)
		}
		return err
	})
	return true
}

// goState is the errgroup of a connection's goroutines, whose context
// ends with the transport, and the signal that Close or CloseNow was
// called. A connection that starts no goroutine never makes it.
type goState struct {
	group    errgroup.Group
	ctx      context.Context
	cancel   context.CancelFunc
	shutdown chan struct{} // closed by Close or CloseNow
	parked   uint64        // the idle poller's registration of the parked Messages goroutine, or 0
}

// stopGoroutines tells the connection's goroutines that Close or CloseNow
// was called. It reports whether it did, rather than an earlier call.
func (c *Conn) stopGoroutines() bool {
	c.goMu.Lock()
	defer c.goMu.Unlock()
	if c.shut {
		return false
	}
	c.shut = true
	if c.group != nil {
		close(c.group.shutdown)
	}
	return true
}

// waitGoroutines waits for the connection's goroutines, once the
// transport is closed.
func (c *Conn) waitGoroutines() {
	c.goMu.Lock()
	gs := c.group
	c.goMu.Unlock()
	if gs != nil {
		gs.group.Wait()
	}
}

// utf8Validator is the streaming checker of text messages.
type utf8Validator = utf8stream.Validator

// State is a stage of a connection's life. Its values are those of the
// readyState of a browser's WebSocket; there is no connecting stage, since
// Dial and Accept return a connection only once the handshake is done.
type State int

const (
	// StateOpen: messages go both ways.
	StateOpen State = 1
	// StateClosing: a close frame was sent or received, or the connection
	// is failing; the transport is still open.
	StateClosing State = 2
	// StateClosed: the transport is closed, and Err says why.
	StateClosed State = 3
)

// String returns "open", "closing" or "closed".
func (s State) String() string {
	switch s {
	case StateOpen:
		return "open"
	case StateClosing:
		return "closing"
	case StateClosed:
		return "closed"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// State returns the stage the connection is in.
func (c *Conn) State() State {
	switch {
	case c.isClosed():
		return StateClosed
	case c.closeSent() || c.isEnding():
		return StateClosing
	}
	return StateOpen
}

// ReadPaused reports whether no read is taking the peer's messages now:
// between two reads, or while the Messages goroutine waits for someone to
// receive the message it holds. Meanwhile the peer's messages wait in the
// transport's buffers, and once those are full the peer is slowed down:
// not reading is how a connection applies backpressure.
func (c *Conn) ReadPaused() bool { return !c.userReading.Load() }

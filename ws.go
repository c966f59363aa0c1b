package ws

import (
	"context"
	"crypto/rand"
	"errors"
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

// MessageType is the type of a data message: text or binary.
type MessageType int

// Message types of RFC 6455 section 5.6. Their values are the opcodes.
const (
	MessageText   MessageType = 1
	MessageBinary MessageType = 2
)

// String returns "text" or "binary".
func (t MessageType) String() string {
	switch t {
	case MessageText:
		return "text"
	case MessageBinary:
		return "binary"
	}
	return fmt.Sprintf("MessageType(%d)", int(t))
}

// Defaults of the connection's limits and timeouts.
const (
	// DefaultReadLimit is the longest message a connection accepts unless
	// SetReadLimit says otherwise: 32 MiB. It is large enough for any
	// message a browser or an API sends in practice, so users rarely meet
	// it (a 32 KiB default is a common complaint), and small enough that
	// 1,000 connections each in the middle of a Read of the largest
	// message hold 32 GiB at the very worst, not Node ws's 100 GiB. Read
	// grows its buffer only as bytes arrive, so a header that merely claims
	// a large length allocates no more than 64 KiB.
	DefaultReadLimit = 32 << 20
	// DefaultMaxEmptyFragments is how many frames without payload one
	// message may span unless Options.MaxFragments says otherwise: 1,024.
	// Frames that carry bytes are not counted, since the read limit bounds
	// them (for a compressed message, by its compressed bytes), so a
	// message of any size in frames of any size passes; a stream of empty
	// continuation frames, which costs its sender nothing and never reaches
	// the limit, is cut off with StatusMessageTooBig.
	DefaultMaxEmptyFragments = 1 << 10
	// DefaultCloseTimeout bounds the close handshake: how long Close waits
	// to send its close frame and then for the peer's, before it closes
	// the transport anyway.
	DefaultCloseTimeout = 5 * time.Second
)

// Options are the settings of a connection that Accept and Dial share.
// The zero value gives the defaults.
type Options struct {
	// ReadLimit is the longest message the connection accepts, in bytes;
	// 0 means DefaultReadLimit and a negative value means no limit.
	// SetReadLimit changes it later.
	ReadLimit int64
	// MaxFragments, if positive, is how many frames one message may span.
	// 0 counts only frames without payload, at most
	// DefaultMaxEmptyFragments of them; a negative value sets no limit.
	MaxFragments int
	// SkipUTF8Validation turns off the check that text messages and close
	// reasons are UTF-8. Use it only where the peer is trusted.
	SkipUTF8Validation bool
	// DisableAutoPong stops the connection from answering pings. The
	// OnPing hook then decides what to do.
	DisableAutoPong bool
	// OnPing, if set, is called with the payload of each ping the peer
	// sends, from the goroutine that is reading, before the pong goes out.
	// The payload is only valid during the call. That goroutine may be one
	// of the connection's own (Messages, CloseRead, keepalive), which Close
	// and CloseNow wait for: so OnPing must not call them, but may start a
	// goroutine that does.
	OnPing func(payload []byte)
	// OnPong, if set, is called with the payload of each pong, from the
	// goroutine that is reading, as OnPing is, with the same rule. The
	// payload is only valid during the call.
	OnPong func(payload []byte)
	// CloseTimeout bounds each half of the close handshake; 0 means
	// DefaultCloseTimeout.
	CloseTimeout time.Duration

	// PingInterval, if positive, turns on keepalive: a goroutine sends a
	// ping whenever the interval passes, and closes the connection with
	// ErrKeepaliveTimeout when the pong does not arrive within
	// PingTimeout. So a peer that vanished without a word (a half-open
	// connection) is found within PingInterval + PingTimeout. The pong is
	// read as Ping describes: by the goroutine that reads, or by keepalive
	// itself while no one reads.
	PingInterval time.Duration
	// PingTimeout is how long keepalive waits for a pong; 0 means
	// PingInterval.
	PingTimeout time.Duration

	// SendQueue is how many messages Send may hold before it blocks (and
	// TrySend fails); 0 means DefaultSendQueue.
	SendQueue int

	// Compression turns on permessage-deflate (RFC 7692); see
	// CompressionMode. The fields below tune it.
	Compression CompressionMode
	// CompressionLevel is the compression level, 1 (fastest, the default
	// for 0) to 9 (smallest).
	//
	// With context takeover and no CompressionDictSize, levels 2 to 9 use
	// ws's window compressor: hash chains and lazy matching over the
	// window, searching about as hard as zlib at the same level (levels 2
	// and 3 search as zlib's 1 and 2 do, but lazily), with 144 KiB of
	// state per connection at 15 bits (9 KiB at 10). At level 6,
	// zlib's default and so Node's ws's, it sends no more bytes than Node's
	// ws for streams of similar messages, for more CPU than level 1 (see
	// the README). Otherwise the level is klauspost/compress/flate's.
	CompressionLevel int
	// CompressionThreshold is the size below which messages go out
	// uncompressed; 0 means DefaultCompressionThreshold and a negative
	// value compresses every message.
	CompressionThreshold int
	// CompressionDictSize is how context takeover compresses. By default
	// (0) the connection keeps only the last DefaultCompressionDictSize
	// (4 KiB) bytes it sent, and primes a pooled compressor with them for
	// each message, which costs about as much CPU as compressing them (at
	// levels 2 to 9 the default is the window compressor instead; see
	// CompressionLevel); a positive value keeps that many bytes instead (up
	// to the window). A
	// negative value keeps a whole compressor per connection between
	// messages: no priming per message, so often less CPU, but about 0.8 MB
	// per connection at level 1 (1.4 MB at level 9). Either setting, at any
	// level, selects klauspost/compress/flate's compressor.
	CompressionDictSize int
	// CompressionWindowBits, 8 to 15, bounds the LZ77 window this side
	// compresses with (server_max_window_bits for a server,
	// client_max_window_bits for a client); 0 means 15, 32 KiB.
	CompressionWindowBits int
	// CompressionPeerWindowBits, 8 to 15, asks the peer to compress with a
	// window no larger, which shrinks the inflate history this side keeps;
	// 0 leaves the peer its 32 KiB.
	CompressionPeerWindowBits int
}

// DefaultSendQueue is how many messages the send queue holds by default.
const DefaultSendQueue = 64

// Conn is a WebSocket connection, from Accept or Dial.
//
// Write, Writer, Ping and Close may be called from many goroutines at once;
// messages never interleave on the wire. Reads (Read, ReadAppend, Reader
// and the readers it returns) must come from one goroutine at a time; a
// read that overlaps another returns ErrConcurrentRead. Every method that
// blocks takes a context, and its cancellation interrupts the call (see
// Read).
type Conn struct {
	// The fields are ordered to pack small ones together: an idle
	// connection's Conn is one of its largest costs.
	nc          net.Conn
	raw         syscall.RawConn // nil unless nc is a socket
	subprotocol string
	extensions  string
	cz          *compression // nil without permessage-deflate

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

	// Goroutines the connection starts (the Messages pump, the Send
	// queue's writer, keepalive) belong to one errgroup, whose context ends
	// with the transport. Close and CloseNow wait for them.
	goMu        sync.Mutex
	gs          *goState // made with the first goroutine (under goMu)
	msgs        chan Message
	userReading atomic.Bool
	send        atomic.Pointer[sendQueue] // made by the first Send
	sendSize    int
	keepInt     time.Duration
	keepTime    time.Duration

	// Pings awaiting their pong.
	pingMu   sync.Mutex
	autoPong bool
	shut     bool // Close or CloseNow was called (under goMu)
	pings    map[uint64]chan struct{}
	pingNext uint64

	// Closing.
	closeOnce sync.Once
	closeSent atomic.Bool                   // a close frame went out (under frameLock)
	closed    atomic.Pointer[chan struct{}] // see done and markClosed
	cause     atomic.Pointer[error]         // why the connection ends, set once, before the transport closes
}

func newConn(nc net.Conn, client bool, opts *Options, buffered []byte) *Conn {
	c := &Conn{
		nc:       nc,
		client:   client,
		autoPong: true,
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
		c.keepInt = opts.PingInterval
		c.keepTime = opts.PingTimeout
		if c.keepTime <= 0 {
			c.keepTime = c.keepInt
		}
	}
	c.setRawRead(nc)
	if client {
		var seed [32]byte
		rand.Read(seed[:])
		c.rng = mrand.NewChaCha8(seed)
	}
	c.msgR.c = c
	if c.keepInt > 0 {
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
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// RemoteAddr returns the peer's address as the transport sees it. Behind a
// proxy this is the proxy; see the request's X-Forwarded-For header.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

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

// Done returns a channel that is closed when the connection's transport
// has closed, for whatever reason.
func (c *Conn) Done() <-chan struct{} { return c.done() }

// closedChan is the closed channel that marks a closed connection.
var closedChan = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

// done returns a channel closed when the transport has closed. It is
// made on first use, so that an idle connection nobody waits on holds
// none: once closed, the connection points at closedChan.
func (c *Conn) done() <-chan struct{} {
	if p := c.closed.Load(); p != nil {
		return *p
	}
	ch := make(chan struct{})
	if c.closed.CompareAndSwap(nil, &ch) {
		return ch
	}
	return *c.closed.Load()
}

// markClosed marks the connection closed and wakes whoever waits on done.
// Set the cause before.
func (c *Conn) markClosed() {
	if p := c.closed.Swap(&closedChan); p != nil && p != &closedChan {
		close(*p)
	}
}

// Err returns why the connection ended, or nil while it is open. It is
// set as the connection begins to end, before Done is closed. Every
// ending has a cause, and a call that the ending interrupted returns an
// error that matches the same targets with errors.Is and errors.As:
//
//   - a close frame came from the peer, whichever side began the close
//     handshake: the peer's CloseError;
//   - CloseNow, or Close after the peer's close frame: see above; CloseNow
//     alone: ErrLocalClose;
//   - Close whose peer sent no close frame within the close timeout, or
//     Server.Shutdown whose context ended first: an error wrapping
//     context.DeadlineExceeded (or the context's error);
//   - keepalive's ping got no pong: ErrKeepaliveTimeout;
//   - the peer broke the protocol: a *ProtocolError such as
//     ErrMessageTooBig;
//   - the transport broke without a close frame: an error wrapping
//     io.ErrUnexpectedEOF, or the transport's error.
//
// IsNormalClosure tells an ending that went as it should from the others:
//
//	if err := c.Err(); !ws.IsNormalClosure(err) {
//		log.Printf("connection ended badly: %v", err)
//	}
func (c *Conn) Err() error {
	return c.causeErr()
}

// IsNormalClosure reports whether err, from Err or from a call that the
// end of the connection interrupted, says that the connection ended as it
// should: with a close frame of code 1000 (normal closure), 1001 (going
// away) or none (1005), or by this side's CloseNow. It is false for nil,
// and for every other ending: another close code, a protocol error, a
// keepalive timeout, a close handshake that timed out, or a transport that
// broke.
func IsNormalClosure(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrLocalClose) {
		return true
	}
	switch CloseStatus(err) {
	case StatusNormalClosure, StatusGoingAway, StatusNoStatusReceived:
		return true
	}
	return false
}

// ErrKeepaliveTimeout is why a connection ends when keepalive's ping got
// no pong in time.
var ErrKeepaliveTimeout = errors.New("ws: keepalive: no pong in time")

// goroutine starts f in the connection's errgroup. An error from f closes
// the connection, which stops the others. It starts nothing, and returns
// false, once the connection is closed.
func (c *Conn) goroutine(f func(ctx context.Context) error) bool {
	c.goMu.Lock()
	defer c.goMu.Unlock()
	if c.isClosed() {
		return false
	}
	gs := c.gs
	if gs == nil {
		gs = &goState{shutdown: make(chan struct{})}
		gs.ctx, gs.cancel = context.WithCancel(context.Background())
		gs.group, gs.ctx = errgroup.WithContext(gs.ctx)
		if c.shut {
			close(gs.shutdown)
		}
		c.gs = gs
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
	group    *errgroup.Group
	ctx      context.Context
	cancel   context.CancelFunc
	shutdown chan struct{} // closed by Close or CloseNow
}

// stopGoroutines tells the connection's goroutines that Close or CloseNow
// was called.
func (c *Conn) stopGoroutines() {
	c.goMu.Lock()
	if !c.shut {
		c.shut = true
		if c.gs != nil {
			close(c.gs.shutdown)
		}
	}
	c.goMu.Unlock()
}

// waitGoroutines waits for the connection's goroutines, once the
// transport is closed.
func (c *Conn) waitGoroutines() {
	c.goMu.Lock()
	gs := c.gs
	c.goMu.Unlock()
	if gs != nil {
		gs.group.Wait()
	}
}

// keepalive pings at the interval and ends the connection when a pong is
// late.
func (c *Conn) keepalive(ctx context.Context) error {
	t := time.NewTicker(c.keepInt)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, c.keepTime)
		err := c.Ping(pctx)
		cancel()
		if err == nil {
			continue
		}
		if ctx.Err() != nil || c.isClosed() || c.closeSent.Load() {
			// The connection is closing: the close handshake has its own
			// time limit.
			return nil
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%w (%v)", ErrKeepaliveTimeout, c.keepTime)
		}
		return err
	}
}

// ErrLocalClose is why a connection ended when this side closed it with
// CloseNow, without a close handshake. Err returns it, and calls that the
// close interrupted return a *ClosedError that wraps it.
var ErrLocalClose = errors.New("ws: connection closed locally")

// ClosedError is what calls on a closed connection return. It wraps
// net.ErrClosed and the error that ended the connection, so errors.Is(err,
// net.ErrClosed) holds, and so does errors.As(err, &CloseError{}) after the
// peer closed.
type ClosedError struct {
	Cause error
}

// Error returns "ws: use of closed connection" with the cause.
func (e *ClosedError) Error() string {
	if e.Cause == nil || e.Cause == ErrLocalClose {
		return "ws: use of closed connection"
	}
	return "ws: use of closed connection (" + e.Cause.Error() + ")"
}

// Unwrap returns net.ErrClosed and the cause.
func (e *ClosedError) Unwrap() []error { return []error{net.ErrClosed, e.Cause} }

// closedErr returns the error for a call on a connection that is closed,
// or closing for a cause already known.
func (c *Conn) closedErr() error {
	return &ClosedError{Cause: c.causeErr()}
}

// setCause records why the connection ends, unless a cause is recorded
// already: the first one stands. The side that is ending the connection
// sets it before it sends its close frame, so that calls failing meanwhile
// report it.
func (c *Conn) setCause(err error) {
	c.cause.CompareAndSwap(nil, &err)
}

// causeErr returns the recorded cause, or nil.
func (c *Conn) causeErr() error {
	if p := c.cause.Load(); p != nil {
		return *p
	}
	return nil
}

// isClosed reports whether the transport is closed.
func (c *Conn) isClosed() bool { return c.closed.Load() == &closedChan }

// isEnding reports whether the connection is ending for a recorded
// cause, so an I/O error may be the transport's closing under a read or
// write: closedErr then gives the cause.
func (c *Conn) isEnding() bool { return c.cause.Load() != nil }

// closeTransport closes the transport once, recording why.
func (c *Conn) closeTransport(cause error) {
	c.closeOnce.Do(func() {
		c.setCause(cause)
		c.nc.Close()
		c.markClosed()
		c.goMu.Lock()
		if c.gs != nil {
			c.gs.cancel()
		}
		c.goMu.Unlock()
	})
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
	readDeadline = iota
	writeDeadline
	bothDeadlines
)

// interrupt arranges for a deadline of nc (which) to break off a blocked
// call when ctx is done, without a goroutine of its own. The returned
// stop reports whether ctx fired; it restores the deadline when it did. A
// context that can never be done costs nothing.
func interrupt(ctx context.Context, nc net.Conn, which int) (stop func() bool) {
	if ctx.Done() == nil {
		return never
	}
	set := nc.SetReadDeadline
	switch which {
	case writeDeadline:
		set = nc.SetWriteDeadline
	case bothDeadlines:
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

// Buffer pools. A connection takes buffers only while a message is in
// flight, so an idle connection holds none.
const (
	readBufSize  = 8 << 10
	writeBufSize = 16 << 10
	// copyBufSize is the buffer of a message Writer's ReadFrom, which
	// io.Copy uses: a message of up to 64 KiB goes out in one frame, and
	// the slack past 64 KiB lets ReadFrom see the end of such a message
	// before the buffer is full.
	copyBufSize = 65 << 10
)

var (
	readBufPool  sync.Pool
	writeBufPool sync.Pool
	copyBufPool  sync.Pool
)

func getReadBuf() *[]byte {
	if p, ok := readBufPool.Get().(*[]byte); ok {
		return p
	}
	b := make([]byte, readBufSize)
	return &b
}

func putReadBuf(p *[]byte) { readBufPool.Put(p) }

func getWriteBuf() *[]byte {
	if p, ok := writeBufPool.Get().(*[]byte); ok {
		return p
	}
	b := make([]byte, writeBufSize)
	return &b
}

// putWriteBuf returns a buffer of getWriteBuf or getCopyBuf to its pool.
func putWriteBuf(p *[]byte) {
	if len(*p) == copyBufSize {
		copyBufPool.Put(p)
		return
	}
	writeBufPool.Put(p)
}

func getCopyBuf() *[]byte {
	if p, ok := copyBufPool.Get().(*[]byte); ok {
		return p
	}
	b := make([]byte, copyBufSize)
	return &b
}

// utf8Validator is the streaming checker of text messages.
type utf8Validator = utf8stream.Validator

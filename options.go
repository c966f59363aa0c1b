package ws

import "time"

// Defaults of the connection's limits and timeouts.
const (
	// DefaultReadLimit is the longest message a connection accepts unless
	// SetReadLimit says otherwise: 32 MiB. It is large enough for any
	// message a browser or an API sends in practice, so users rarely meet
	// it, and small enough that 1,000 connections each in the middle of
	// a Read of the largest message hold 32 GiB at the very worst. Read
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

	// Compression, if not nil, negotiates permessage-deflate (RFC 7692)
	// with these settings; nil, the default, negotiates none. Compression
	// costs CPU, and memory with context takeover: turn it on where
	// bandwidth is dearer than both.
	Compression *CompressionOptions
}

// DefaultSendQueue is how many messages the send queue holds by default.
const DefaultSendQueue = 64

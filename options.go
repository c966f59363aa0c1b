package ws

import "time"

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

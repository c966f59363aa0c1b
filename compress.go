package ws

import (
	"context"
	"fmt"
	"runtime"

	"github.com/seed-d6ba7b20/ws/internal/deflate"
	"github.com/seed-d6ba7b20/ws/internal/handshake"
	"golang.org/x/sync/semaphore"
)

// CompressionOptions turn on permessage-deflate (RFC 7692) and tune it;
// set them in Options.Compression. The zero value compresses at level 1,
// messages of DefaultCompressionThreshold bytes and more, with context
// takeover in both directions and the full 32 KiB windows, keeping the
// last DefaultCompressionDictSize bytes sent between messages.
//
// The parameters of the handshake are named as in RFC 7692, for the
// server and for the client, whichever side sets them: a server insists
// on what it sets, and a client asks for it. Either side may ask for less
// context or a smaller window than the other set, and then both keep to it.
type CompressionOptions struct {
	// Level is the compression level, 1 (fastest, the default for 0) to 9
	// (smallest); Accept and Dial refuse others.
	Level int
	// Threshold is the size below which messages go out uncompressed; 0
	// means DefaultCompressionThreshold and a negative value compresses
	// every message. A message sent with the Compressed or Uncompressed
	// flag ignores it.
	Threshold int

	// Engine is how this side keeps the context of its compression
	// between messages, with context takeover: see CompressionEngine.
	// Without context takeover every engine takes a compressor from a
	// pool for each message and keeps nothing.
	Engine CompressionEngine
	// DictSize is how many of the last bytes sent EngineDictionary keeps,
	// up to the window; 0 or less means DefaultCompressionDictSize.
	DictSize int

	// ServerNoContextTakeover makes the server compress each message on
	// its own (server_no_context_takeover), so it keeps no compression
	// state, and the client no inflate history, between messages.
	ServerNoContextTakeover bool
	// ClientNoContextTakeover does the same for the client's messages
	// (client_no_context_takeover).
	ClientNoContextTakeover bool
	// ServerMaxWindowBits, 8 to 15, bounds the LZ77 window the server
	// compresses with (server_max_window_bits), and so the inflate history
	// the client keeps; 0 means 15, 32 KiB.
	ServerMaxWindowBits int
	// ClientMaxWindowBits does the same for the client's messages
	// (client_max_window_bits). A server can ask it only of a client that
	// offered the parameter; browsers do.
	ClientMaxWindowBits int
}

// CompressionEngine is how a connection with context takeover keeps the
// context of its compression between messages, which decides its memory
// and CPU. Each engine produces standard DEFLATE that any peer inflates.
type CompressionEngine int

const (
	// EngineDictionary, the default, keeps the last DictSize bytes sent
	// (4 KiB by default) and primes a pooled compressor with them for each
	// message: the least memory that context takeover allows. At level 1
	// the compressor is klauspost/compress/flate's, and priming costs about
	// as much CPU as compressing the dictionary. At levels 2 to 9 it is
	// the window compressor of EngineWindow, primed by hashing the
	// dictionary: at level 6, for 1 KiB JSON messages, it sends 20% fewer
	// bytes than level 1 (about 1.06 times what zlib's level 6 sends with
	// a whole 32 KiB window, Node.js ws's default, against 1.32 times),
	// for about 1.5 times level 1's CPU.
	EngineDictionary CompressionEngine = iota
	// EngineWriter keeps a klauspost/compress/flate compressor of its own
	// between messages: no priming, so the least CPU per message, but
	// about 0.8 MB per connection at level 1 and 1.4 MB at level 9.
	EngineWriter
	// EngineWindow keeps this package's window compressor: hash chains and
	// lazy matching over the whole window, searching about as hard as
	// zlib at the same level, in 144 KiB at 15 window bits (9 KiB at 10).
	// At level 6, zlib's default, it compresses streams of similar
	// messages as well as zlib does, for more CPU than level 1. Level 1
	// searches as level 2 does.
	EngineWindow
)

// DefaultCompressionThreshold is the size below which a message goes out
// uncompressed when compression is on: compressing a few bytes costs more
// than it saves.
const DefaultCompressionThreshold = 1024

// DefaultCompressionDictSize is how many of the last bytes sent
// EngineDictionary keeps, unless CompressionOptions.DictSize says
// otherwise.
const DefaultCompressionDictSize = 4096

// compressSem bounds the messages the process compresses at once to the
// CPUs it may use: compression is CPU-bound, and more compressions at once
// than CPUs would only hold more pooled compressors. Other writers wait
// their turn.
var compressSem = semaphore.NewWeighted(int64(max(runtime.GOMAXPROCS(0), 1)))

// compression is the permessage-deflate state of a connection.
type compression struct {
	comp      *deflate.Compressor
	decomp    *deflate.Decompressor
	threshold int
	send      deflate.Side // how this side compresses
	level     int          // comp.Level(): CompressionOptions.Level, 0 taken as 1
}

// check reports settings that no handshake could use, so that Accept and
// Dial refuse them before the handshake rather than fail after it.
func (o *CompressionOptions) check() error {
	if o == nil {
		return nil
	}
	switch {
	case o.Level < 0 || o.Level > 9:
		return fmt.Errorf("ws: CompressionOptions.Level %d, not 1 to 9 (or 0)", o.Level)
	case o.Engine < EngineDictionary || o.Engine > EngineWindow:
		return fmt.Errorf("ws: unknown CompressionOptions.Engine %d", int(o.Engine))
	}
	for _, bits := range [2]int{o.ServerMaxWindowBits, o.ClientMaxWindowBits} {
		if bits != 0 && (bits < 8 || bits > 15) {
			return fmt.Errorf("ws: CompressionOptions window bits %d, not 8 to 15 (or 0)", bits)
		}
	}
	return nil
}

// compressorOptions are the deflate settings of o.
func (o *CompressionOptions) compressorOptions() deflate.CompressorOptions {
	engine := deflate.EngineDict
	switch o.Engine {
	case EngineWriter:
		engine = deflate.EngineWriter
	case EngineWindow:
		engine = deflate.EngineWindow
	}
	return deflate.CompressorOptions{Level: o.Level, Engine: engine, DictSize: max(o.DictSize, 0)}
}

// serverConfig is what a server asks of permessage-deflate.
func (o *CompressionOptions) serverConfig() deflate.ServerConfig {
	return deflate.ServerConfig{
		ServerNoContextTakeover: o.ServerNoContextTakeover,
		ClientNoContextTakeover: o.ClientNoContextTakeover,
		ServerMaxWindowBits:     o.ServerMaxWindowBits,
		ClientMaxWindowBits:     o.ClientMaxWindowBits,
	}
}

// clientConfig is what a client offers: the same parameters.
func (o *CompressionOptions) clientConfig() deflate.ClientConfig {
	sc := o.serverConfig()
	return deflate.ClientConfig{
		ServerNoContextTakeover: sc.ServerNoContextTakeover,
		ClientNoContextTakeover: sc.ClientNoContextTakeover,
		ServerMaxWindowBits:     sc.ServerMaxWindowBits,
		ClientMaxWindowBits:     sc.ClientMaxWindowBits,
	}
}

// negotiateServer picks the compression for a handshake request, and
// returns the agreed parameters and the response header element.
func negotiateServer(h map[string][]string, o *Options) (deflate.Params, string, bool) {
	if o.Compression == nil {
		return deflate.Params{}, "", false
	}
	exts, ok := handshake.ParseExtensions(h)
	if !ok {
		return deflate.Params{}, "", false
	}
	return deflate.Negotiate(exts, o.Compression.serverConfig())
}

// setCompression equips c for the agreed parameters.
func (c *Conn) setCompression(p deflate.Params, o *CompressionOptions) error {
	send, recv := p.Server(), p.Client()
	if c.client {
		send, recv = recv, send
	}
	comp, err := deflate.NewCompressor(send, o.compressorOptions())
	if err != nil {
		return err
	}
	decomp, err := deflate.NewDecompressor(recv)
	if err != nil {
		return err
	}
	cz := &compression{comp: comp, decomp: decomp, threshold: o.Threshold, send: send, level: comp.Level()}
	if cz.threshold == 0 {
		cz.threshold = DefaultCompressionThreshold
	}
	c.compression = cz
	c.extensions = p.String()
	return nil
}

// compresses reports whether a message of type typ and n bytes (n < 0:
// not known yet) goes out compressed.
func (c *Conn) compresses(typ MessageType, n int) bool {
	return c.compression != nil && typ&Uncompressed == 0 && (n < 0 || n >= c.compression.thresholdOf(typ))
}

// thresholdOf is the size from which a message of type typ is compressed:
// none for a message flagged Compressed.
func (cz *compression) thresholdOf(typ MessageType) int {
	if typ&Compressed != 0 {
		return 0
	}
	return cz.threshold
}

// acquireCompress waits for a turn to compress.
func acquireCompress(ctx context.Context) (*semaphore.Weighted, error) {
	s := compressSem
	if s.TryAcquire(1) {
		return s, nil
	}
	if s.Acquire(ctx, 1) != nil {
		return nil, ctxError(ctx)
	}
	return s, nil
}

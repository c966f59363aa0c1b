package ws

import (
	"context"
	"runtime"
	"sync/atomic"

	"github.com/seed-d6ba7b20/ws/internal/deflate"
	"github.com/seed-d6ba7b20/ws/internal/handshake"
	"golang.org/x/sync/semaphore"
)

// CompressionMode says whether a connection negotiates permessage-deflate
// (RFC 7692), and how.
type CompressionMode int

const (
	// CompressionDisabled, the default on both sides, negotiates no
	// compression. Compression costs CPU, and memory with context
	// takeover; turn it on where bandwidth is dearer than both.
	CompressionDisabled CompressionMode = iota
	// CompressionNoContextTakeover compresses each message on its own
	// (server_no_context_takeover and client_no_context_takeover), so a
	// connection holds no compression state between messages: compressors
	// and inflaters come from pools. It compresses small messages less well.
	CompressionNoContextTakeover
	// CompressionContextTakeover lets each message refer back to earlier
	// ones, which compresses streams of similar messages (JSON, say) far
	// better. A connection then holds what it needs to stay in step with
	// its peer between messages: at the default level the last 4 KiB it
	// sent (see Options.CompressionDictSize), at levels 2 to 9 with the
	// default CompressionDictSize a window compressor (144 KiB; see
	// Options.CompressionLevel), and up to 40 KiB of inflate history (less
	// with Options.CompressionPeerWindowBits). A peer may still ask for no
	// context takeover.
	CompressionContextTakeover
)

// DefaultCompressionThreshold is the size below which a message goes out
// uncompressed when compression is on, as in Node's ws: compressing a few
// bytes costs more than it saves.
const DefaultCompressionThreshold = 1024

// compressSem bounds the compressions running at once in the process.
var compressSem atomic.Pointer[semaphore.Weighted]

func init() { SetCompressionConcurrency(runtime.GOMAXPROCS(0)) }

// SetCompressionConcurrency sets how many messages the whole process may
// compress at once (at least 1); other writers wait their turn. It bounds
// the CPU and the pooled compressor memory that compression takes, as
// Node's concurrencyLimit does. The default is GOMAXPROCS at start-up:
// compression is CPU-bound, and more at once than CPUs only costs memory.
func SetCompressionConcurrency(n int) {
	compressSem.Store(semaphore.NewWeighted(int64(max(n, 1))))
}

// compression is the permessage-deflate state of a connection.
type compression struct {
	comp      *deflate.Compressor
	decomp    *deflate.Decompressor
	threshold int
	on        atomic.Bool  // EnableWriteCompression
	send      deflate.Side // how this side compresses
	level     int          // comp.Level(): Options.CompressionLevel, 0 taken as 1
}

// DefaultCompressionDictSize is how much of its recent output a
// connection with context takeover keeps to compress the next message
// against at level 1, unless Options.CompressionDictSize says otherwise.
const DefaultCompressionDictSize = 4096

// compressorOptions are the deflate settings of o.
func (o *Options) compressorOptions() deflate.CompressorOptions {
	dict := o.CompressionDictSize
	switch {
	case dict == 0 && o.CompressionLevel >= 2:
		// The window compressor, with context takeover.
		return deflate.CompressorOptions{Level: o.CompressionLevel, Window: true}
	case dict == 0:
		dict = DefaultCompressionDictSize
	case dict < 0:
		dict = 0 // keep the whole compressor
	}
	return deflate.CompressorOptions{Level: o.CompressionLevel, DictSize: dict}
}

// serverConfig is what a server asks of permessage-deflate.
func (o *Options) serverConfig() deflate.ServerConfig {
	nc := o.Compression == CompressionNoContextTakeover
	return deflate.ServerConfig{
		ServerNoContextTakeover: nc,
		ClientNoContextTakeover: nc,
		ServerMaxWindowBits:     o.CompressionWindowBits,
		ClientMaxWindowBits:     o.CompressionPeerWindowBits,
	}
}

// clientConfig is what a client offers.
func (o *Options) clientConfig() deflate.ClientConfig {
	nc := o.Compression == CompressionNoContextTakeover
	return deflate.ClientConfig{
		ServerNoContextTakeover: nc,
		ClientNoContextTakeover: nc,
		ServerMaxWindowBits:     o.CompressionPeerWindowBits,
		ClientMaxWindowBits:     o.CompressionWindowBits,
	}
}

// negotiateServer picks the compression for a handshake request, and
// returns the agreed parameters and the response header element.
func negotiateServer(h map[string][]string, o *Options) (deflate.Params, string, bool) {
	if o.Compression == CompressionDisabled {
		return deflate.Params{}, "", false
	}
	exts, ok := handshake.ParseExtensions(h)
	if !ok {
		return deflate.Params{}, "", false
	}
	return deflate.Negotiate(exts, o.serverConfig())
}

// setCompression equips c for the agreed parameters.
func (c *Conn) setCompression(p deflate.Params, o *Options) error {
	send, recv := p.Server(), p.Client()
	if c.client {
		send, recv = recv, send
	}
	opts := o.compressorOptions()
	comp, err := deflate.NewCompressor(send, opts)
	if err != nil {
		return err
	}
	decomp, err := deflate.NewDecompressor(recv)
	if err != nil {
		return err
	}
	cz := &compression{comp: comp, decomp: decomp, threshold: o.CompressionThreshold, send: send, level: comp.Level()}
	if cz.threshold == 0 {
		cz.threshold = DefaultCompressionThreshold
	}
	cz.on.Store(true)
	c.cz = cz
	c.extensions = p.String()
	return nil
}

// EnableWriteCompression turns compression of the messages this side
// sends on or off, from the next message on, when the handshake agreed on
// permessage-deflate; it is on by default then. Messages under the
// compression threshold go out uncompressed either way.
func (c *Conn) EnableWriteCompression(on bool) {
	if c.cz != nil {
		c.cz.on.Store(on)
	}
}

// compressing reports whether a message of n bytes (n < 0: not known yet)
// goes out compressed.
func (c *Conn) compressing(n int) bool {
	return c.cz != nil && c.cz.on.Load() && (n < 0 || n >= c.cz.threshold)
}

// acquireCompress waits for a turn to compress.
func acquireCompress(ctx context.Context) (*semaphore.Weighted, error) {
	s := compressSem.Load()
	if s.TryAcquire(1) {
		return s, nil
	}
	if s.Acquire(ctx, 1) != nil {
		return nil, ctxError(ctx)
	}
	return s, nil
}

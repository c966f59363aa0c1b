package deflate

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/flate"
	"github.com/seed-d6ba7b20/ws/internal/window"
)

// Compression levels, those of klauspost/compress/flate.
const (
	HuffmanOnly        = flate.HuffmanOnly        // -2: no LZ77 matches, Huffman coding only
	DefaultCompression = flate.DefaultCompression // -1: flate's level 5
	NoCompression      = flate.NoCompression      // 0: stored blocks
	BestSpeed          = flate.BestSpeed          // 1: the default of this package
	BestCompression    = flate.BestCompression    // 9
)

// syncTail is what a sync flush ends with and RFC 7692 section 7.2.1
// removes from every message: the LEN and NLEN of an empty stored block.
var syncTail = [4]byte{0x00, 0x00, 0xff, 0xff}

// errTail reports that the flate writer's output did not end as a sync
// flush does; it would mean a bug here or in flate.
var errTail = errors.New("deflate: compressed message does not end with a sync flush")

// errNoMessage reports Write or Finish without Reset.
var errNoMessage = errors.New("deflate: no message started")

// Engine is how a Compressor with context takeover keeps its context between messages.
type Engine uint8

const (
	// EngineDict keeps only the last DictSize bytes sent, and primes a
	// pooled compressor with them for every message: instead of a
	// compressor (0.8 to 1.4 MB) it holds the dictionary. At BestSpeed
	// the compressor is a flate writer (flate.Writer.ResetDict), and
	// priming costs about as much CPU as compressing DictSize bytes; at
	// the other levels that find matches (2 to 9, and DefaultCompression
	// as 5) it is the encoder of package internal/window
	// (window.Encoder.ResetDict), which searches as EngineWindow does at
	// the same level and primes by hashing the dictionary, at about 1.5
	// ns a byte. At level 6 with 4 KiB that sends 20% fewer bytes than
	// BestSpeed for a stream of 1 KiB JSON messages, 7% more than zlib's
	// level 6 with its whole window, for 1.4 to 1.75 times the CPU of
	// BestSpeed.
	EngineDict Engine = iota
	// EngineWriter keeps a flate writer of its own between messages: 0.8
	// MB at level 1, 1.1 MB at levels 5 and 6 or below 15 window bits,
	// 1.4 MB at level 9 (see TestMemoryPerConnection).
	EngineWriter
	// EngineWindow keeps the encoder of package internal/window: hash
	// chains and lazy matching over the window (less 262 bytes from 12
	// bits up, as in zlib), searching about as hard as zlib at the same
	// level from 4 up, with 144 KiB of state at 15 bits. It compresses a
	// stream of similar messages as well as zlib does, where flate's
	// writers either find fewer matches (levels 1 to 6) or hold 1.4 MB
	// (levels 7 to 9). It has no level 1: levels 0 and 1 (BestSpeed) take
	// its fastest, window.MinLevel (2), and DefaultCompression takes
	// level 5, as flate does.
	EngineWindow
)

// DefaultDictSize is EngineDict's DictSize when it is 0.
const DefaultDictSize = 4096

// CompressorOptions tune a Compressor.
type CompressorOptions struct {
	// Level is a flate level from 1 (BestSpeed) to 9 (BestCompression),
	// -1 for flate's default (5) or -2 for Huffman coding only. 0 means
	// BestSpeed, the fastest and, with context takeover, the smallest
	// writer that finds matches; StoredOnly selects flate's level 0.
	//
	// Below 15 window bits every level from 1 to 9, and -1, gives the same
	// flate compressor, klauspost's custom window one
	// (flate.NewWriterWindow), which is its level 5 algorithm with a
	// distance limit; EngineWindow keeps its levels.
	Level int
	// StoredOnly sends stored (uncompressed) DEFLATE blocks, flate level 0.
	// It is for tests and peers that insist on the extension.
	StoredOnly bool
	// Engine is how the Compressor keeps context between messages with
	// context takeover. Without context takeover, and at levels
	// NoCompression and HuffmanOnly, which find no matches, it is ignored:
	// the Compressor then takes a pooled writer for each message.
	Engine Engine
	// DictSize is, for EngineDict only, how many bytes of history are
	// kept: 0 means DefaultDictSize, and it is capped at the window.
	// NewCompressor refuses a negative one.
	DictSize int
}

// engine is how a Compressor compresses a message and keeps (or not) its
// context between messages. Compressor calls reset, then write and finish,
// or abort at any time; it aborts after an error from write or finish.
type engine interface {
	// reset starts a message whose payload, tail cut, goes to dst.
	reset(dst io.Writer)
	// write compresses p as the next bytes of the message.
	write(p []byte) (int, error)
	// finish sync-flushes the message and writes the rest of it to dst.
	finish() error
	// abort abandons the message, if any, and forgets the history.
	abort()
	// close releases what the engine keeps between messages; it follows
	// abort.
	close()
}

// Compressor compresses the messages of one direction of a connection per
// RFC 7692 section 7.2.1: raw DEFLATE, ended by a sync flush whose four
// byte tail 00 00 ff ff is cut off. A message is Reset, Written and
// Finished; the compressed payload goes to the io.Writer given to Reset.
//
// With context takeover (Side.NoContextTakeover false) later messages may
// refer back to earlier ones, up to the window. The Compressor then keeps
// its context as CompressorOptions.Engine says: a dictionary of the last
// bytes sent (EngineDict), a flate writer (EngineWriter, about 0.8 to 1.4
// MB) or the window compressor (EngineWindow, 144 KiB). Without context
// takeover the Compressor takes a writer from a pool for each message and
// returns it in Finish, so between messages it holds nothing but itself
// (about 150 bytes).
//
// Once a message has been compressed with context takeover, the
// compressor's history includes it: the message must then be sent
// compressed, or the peer's history falls out of step. Decide whether to
// compress (RSV1) before Reset. Abort makes the compressor forget its
// history, which is always safe: it only loses references the peer could
// have resolved.
//
// A Compressor is not safe for concurrent use.
type Compressor struct {
	level  int
	eng    engine
	aw     appendWriter
	active bool // between Reset and Finish
}

// NewCompressor returns a Compressor for the side: the window the peer
// allows this end (8..15; 0 means 15) and whether it has context takeover.
// It allocates no compressor state until the first message.
func NewCompressor(side Side, opts CompressorOptions) (*Compressor, error) {
	bits, err := side.bits()
	if err != nil {
		return nil, err
	}
	level := opts.Level
	switch {
	case opts.StoredOnly:
		level = NoCompression
	case level == 0:
		level = BestSpeed
	case level < HuffmanOnly || level > BestCompression:
		return nil, fmt.Errorf("deflate: compression level %d out of range -2 to 9", opts.Level)
	}
	switch {
	case opts.Engine > EngineWindow:
		return nil, fmt.Errorf("deflate: unknown engine %d", opts.Engine)
	case opts.DictSize < 0:
		return nil, fmt.Errorf("deflate: negative DictSize %d", opts.DictSize)
	}
	var c *Compressor
	fe := flateEngine{level: level, bits: bits, pool: writerPool(level, bits)}
	switch {
	case side.NoContextTakeover || level == NoCompression || level == HuffmanOnly:
		// Without matches there is no context to keep: pool the writer.
		c = withEngine(pooledEngine{fe})
	case opts.Engine == EngineDict:
		size := opts.DictSize
		if size == 0 {
			size = DefaultDictSize
		}
		if level != BestSpeed {
			// Levels 2 to 9: the window compressor, primed.
			wl := windowLevel(level)
			c = withEngine(primedEngine{level: wl, bits: bits, pool: &encoderPools[wl][bits-MinWindowBits], hist: newHistory(min(size, 1<<bits))})
			break
		}
		c = withEngine(dictEngine{pooledEngine: pooledEngine{fe}, hist: newHistory(min(size, 1<<bits))})
	case opts.Engine == EngineWriter:
		c = withEngine(writerEngine{fe})
	default: // EngineWindow
		c = &Compressor{eng: windowEngine{window.NewEncoder(windowLevel(level), bits)}}
	}
	c.level = level
	return c, nil
}

// withEngine allocates a Compressor and its engine e together, in one
// allocation.
func withEngine[E any, P interface {
	*E
	engine
}](e E) *Compressor {
	x := &struct {
		Compressor
		e E
	}{e: e}
	x.eng = P(&x.e)
	return &x.Compressor
}

// Held is the memory c keeps between messages for its context: the
// dictionary of EngineDict, or the state of EngineWindow's encoder. The
// flate writer EngineWriter keeps is not counted, nor the Compressor
// itself (about 150 bytes).
func (c *Compressor) Held() int {
	switch e := c.eng.(type) {
	case *dictEngine:
		return e.hist.held()
	case *primedEngine:
		return e.hist.held()
	case windowEngine:
		return e.enc.Held()
	}
	return 0
}

// windowLevel is the window compressor's level for a flate level from -1
// to 9: flate's default (5) for -1, its fastest for 1.
func windowLevel(level int) int {
	if level == DefaultCompression {
		level = 5
	}
	return max(level, window.MinLevel)
}

// Level is the level c compresses at: CompressorOptions.Level with 0
// taken as BestSpeed, or NoCompression for StoredOnly. (EngineWindow runs
// levels below 2, and DefaultCompression, as EngineWindow says.)
func (c *Compressor) Level() int { return c.level }

// windowed reports whether a level and window need flate.NewWriterWindow:
// a window under 32 KiB with a level that finds matches.
func windowed(level, bits int) bool {
	return bits < MaxWindowBits && level != NoCompression && level != HuffmanOnly
}

// writerPools holds idle flate writers by level (index level+2) and window
// bits (index bits-8). Writers that need flate.NewWriterWindow are all
// alike, whatever the level, and share the pools of DefaultCompression.
var writerPools [BestCompression + 3][MaxWindowBits - MinWindowBits + 1]sync.Pool

// encoderPools holds idle window encoders for EngineDict by window level
// and window bits (index bits-8).
var encoderPools [window.MaxLevel + 1][MaxWindowBits - MinWindowBits + 1]sync.Pool

func writerPool(level, bits int) *sync.Pool {
	if windowed(level, bits) {
		level = DefaultCompression
	}
	return &writerPools[level+2][bits-MinWindowBits]
}

// newWriter makes a flate writer for the level and window, writing to w.
func newWriter(w io.Writer, level, bits int) *flate.Writer {
	var fw *flate.Writer
	var err error
	if windowed(level, bits) {
		// RFC 7692 sections 7.1.2.1 and 7.1.2.2: the sender must not use a
		// larger window than agreed. klauspost takes any window from 32
		// bytes (flate.MinCustomWindowSize) to 32 KiB, so all of 8..15 bits
		// are honoured exactly, 8 included: no match reaches further back
		// than 1<<bits bytes, across messages too.
		fw, err = flate.NewWriterWindow(w, 1<<bits)
	} else {
		fw, err = flate.NewWriter(w, level)
	}
	if err != nil {
		// Levels and windows are checked in NewCompressor.
		panic(err)
	}
	return fw
}

// Reset starts a message whose compressed payload goes to dst. A message
// still open is aborted first (see Abort).
func (c *Compressor) Reset(dst io.Writer) {
	if c.active {
		c.Abort()
	}
	c.eng.reset(dst)
	c.active = true
}

// Write compresses p as the next bytes of the message. The output reaches
// dst in pieces as it is produced: with flate, all but its last four
// bytes, which wait for Finish; with EngineWindow, each block as it is
// completed (at most every 32 KiB of input), the last at Finish.
func (c *Compressor) Write(p []byte) (int, error) {
	if !c.active {
		return 0, errNoMessage
	}
	n, err := c.eng.write(p)
	if err != nil {
		c.Abort()
	}
	return n, err
}

// Finish ends the message: it sync-flushes the writer and writes the rest
// of the payload to dst, without the 00 00 ff ff tail. Without context
// takeover, and with EngineDict, the writer goes back to its pool. After
// an error the compressor has forgotten its history (see Abort) and the
// message must not be sent.
func (c *Compressor) Finish() error {
	if !c.active {
		return errNoMessage
	}
	if err := c.eng.finish(); err != nil {
		c.Abort()
		return err
	}
	c.active = false
	return nil
}

// Abort abandons the message being compressed, if any, and makes the
// compressor forget its history: the next message refers to nothing
// before it. That is always valid, since the peer's history can only be
// longer than what this end refers to.
func (c *Compressor) Abort() {
	c.active = false
	c.eng.abort()
}

// Close releases the compressor's state, returning its writer to the pool
// for other connections. The Compressor may be used again afterwards and
// then starts with no history.
func (c *Compressor) Close() {
	c.Abort()
	c.eng.close()
}

// Compress appends the compressed payload of the message msg to dst and
// returns the extended slice: Reset, Write, Finish in one. It allocates
// nothing when dst has room.
func (c *Compressor) Compress(dst, msg []byte) ([]byte, error) {
	c.aw.b = dst
	c.Reset(&c.aw)
	_, err := c.Write(msg)
	if err == nil {
		err = c.Finish()
	}
	out := c.aw.b
	c.aw.b = nil
	if err != nil {
		return dst, err
	}
	return out, nil
}

// tailWriter passes a stream on to dst except for its last four bytes,
// which it holds until more arrive. At the end of a message they are the
// sync flush tail that RFC 7692 section 7.2.1 removes. It can only hold
// back, not take back, so the tail never reaches dst.
type tailWriter struct {
	dst  io.Writer
	hold [4]byte
	n    int
}

func (t *tailWriter) reset(dst io.Writer) {
	t.dst = dst
	t.n = 0
}

func (t *tailWriter) Write(p []byte) (int, error) {
	total := len(p)
	if t.n+len(p) <= len(t.hold) {
		t.n += copy(t.hold[t.n:], p)
		return total, nil
	}
	// Pass on all of hold+p but the last four bytes.
	emit := t.n + len(p) - len(t.hold)
	if emit < t.n {
		// p is shorter than four bytes: part of hold goes out.
		if _, err := t.dst.Write(t.hold[:emit]); err != nil {
			return 0, err
		}
		copy(t.hold[:], t.hold[emit:t.n])
		copy(t.hold[t.n-emit:], p)
		t.n = len(t.hold)
		return total, nil
	}
	if t.n > 0 {
		if _, err := t.dst.Write(t.hold[:t.n]); err != nil {
			return 0, err
		}
	}
	if k := len(p) - len(t.hold); k > 0 {
		if _, err := t.dst.Write(p[:k]); err != nil {
			return 0, err
		}
	}
	t.n = copy(t.hold[:], p[len(p)-len(t.hold):])
	return total, nil
}

// appendWriter appends to a slice.
type appendWriter struct{ b []byte }

func (a *appendWriter) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

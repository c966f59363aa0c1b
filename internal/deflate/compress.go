package deflate

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/flate"
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
	// distance limit; the window compressor (see Window) keeps its levels.
	Level int
	// StoredOnly sends stored (uncompressed) DEFLATE blocks, flate level 0.
	// It is for tests and peers that insist on the extension.
	StoredOnly bool
	// DictSize, when positive and the side has context takeover, chooses
	// the low-memory form of context takeover: instead of keeping a flate
	// writer (0.8 to 1.4 MB) between messages, the Compressor keeps only
	// the last DictSize bytes it sent, and primes a pooled writer with
	// them for every message (flate.Writer.ResetDict). Priming costs about
	// as much CPU as compressing DictSize bytes, once per message. DictSize
	// is capped at the window; 0 keeps the writer (or see Window).
	DictSize int
	// Window, at levels 2 to 9 with context takeover and no DictSize,
	// selects this package's window compressor instead of flate's: hash
	// chains and lazy matching over the window (less 262 bytes from 12
	// bits up, as in zlib), searching about as hard as zlib at the same
	// level from 4 up, with 144 KiB of state at 15 bits. It
	// compresses a stream of similar messages as well as zlib does, where
	// flate's writers either find fewer matches (levels 1 to 6) or hold
	// 1.4 MB (levels 7 to 9). Elsewhere it is ignored.
	Window bool
}

// mode is how a Compressor keeps context between messages.
type mode uint8

const (
	modeNoContext mode = iota // pooled writer, reset for every message
	modeStateful              // own writer, kept between messages
	modeDict                  // pooled writer, primed with a kept dictionary
	modeWindow                // own window compressor, kept between messages
)

// Compressor compresses the messages of one direction of a connection per
// RFC 7692 section 7.2.1: raw DEFLATE, ended by a sync flush whose four
// byte tail 00 00 ff ff is cut off. A message is Reset, Written and
// Finished; the compressed payload goes to the io.Writer given to Reset.
//
// With context takeover (Side.NoContextTakeover false) later messages may
// refer back to earlier ones, up to the window. The Compressor then holds
// its flate writer between messages: about 0.8 MB at level 1, 1.1 MB at
// levels 5 and 6 or below 15 window bits, 1.4 MB at level 9 (see
// TestMemoryPerConnection). CompressorOptions.DictSize trades that memory
// for CPU; CompressorOptions.Window keeps the whole window in 144 KiB
// with this package's own compressor. Without context takeover the
// Compressor takes a writer from a pool for each message and returns it
// in Finish, so between messages it holds nothing but itself (about 150
// bytes).
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
	level int
	bits  int
	mode  mode
	pool  *sync.Pool

	fw     *flate.Writer  // the writer; kept between messages only in modeStateful
	hist   history        // modeDict: the last bytes sent
	we     *windowEncoder // modeWindow
	dst    io.Writer      // modeWindow: where the message goes
	tw     tailWriter
	aw     appendWriter
	active bool // between Reset and Finish
}

// NewCompressor returns a Compressor for the side: the window the peer
// allows this end (8..15; 0 means 15) and whether it has context takeover.
// It allocates no flate state until the first message.
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
	c := &Compressor{level: level, bits: bits, pool: writerPool(level, bits)}
	switch {
	case side.NoContextTakeover || level == NoCompression || level == HuffmanOnly:
		// Without matches there is no context to keep: pool the writer.
		c.mode = modeNoContext
	case opts.DictSize > 0:
		c.mode = modeDict
		c.hist = newHistory(min(opts.DictSize, 1<<bits))
	case opts.Window && level >= 2:
		c.mode = modeWindow
		c.we = newWindowEncoder(level, bits)
	default:
		c.mode = modeStateful
	}
	return c, nil
}

// Level is the level c compresses at: CompressorOptions.Level with 0
// taken as BestSpeed, or NoCompression for StoredOnly.
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

// getWriter takes an idle writer from the pool, or makes one, set to write
// to c.tw and primed with dict, if any.
func (c *Compressor) getWriter(dict []byte) *flate.Writer {
	fw, _ := c.pool.Get().(*flate.Writer)
	if fw == nil {
		fw = newWriter(&c.tw, c.level, c.bits)
	} else if len(dict) == 0 {
		fw.Reset(&c.tw)
	}
	if len(dict) > 0 {
		fw.ResetDict(&c.tw, dict)
	}
	return fw
}

// putWriter returns c.fw to the pool, holding no reference to c.
func (c *Compressor) putWriter() {
	if c.fw == nil {
		return
	}
	if c.mode == modeDict {
		// ResetDict kept the dictionary slice; drop it with the writer's
		// state, or a later Reset would prime from it.
		c.fw.ResetDict(nil, nil)
	} else {
		c.fw.Reset(nil)
	}
	c.pool.Put(c.fw)
	c.fw = nil
}

// Reset starts a message whose compressed payload goes to dst. A message
// still open is aborted first (see Abort).
func (c *Compressor) Reset(dst io.Writer) {
	if c.active {
		c.Abort()
	}
	if c.mode == modeWindow {
		c.dst = dst
		c.we.start()
		c.active = true
		return
	}
	c.tw.reset(dst)
	switch c.mode {
	case modeNoContext:
		c.fw = c.getWriter(nil)
	case modeStateful:
		if c.fw == nil {
			c.fw = c.getWriter(nil)
		}
	case modeDict:
		c.fw = c.getWriter(c.hist.window())
	}
	c.active = true
}

// Write compresses p as the next bytes of the message. The output reaches
// dst in pieces as it is produced: with flate, all but its last four
// bytes, which wait for Finish; with the window compressor, each block as
// it is completed (at most every 32 KiB of input), the last at Finish.
func (c *Compressor) Write(p []byte) (int, error) {
	if !c.active {
		return 0, errNoMessage
	}
	if c.mode == modeWindow {
		// In pieces, so that the output held before it reaches dst stays
		// bounded, whatever the size of p.
		for done := 0; done < len(p); {
			n := min(len(p)-done, 32<<10)
			c.we.write(p[done : done+n])
			done += n
			if out := c.we.takeOutput(); len(out) > 0 {
				if _, err := c.dst.Write(out); err != nil {
					c.Abort()
					return 0, err
				}
			}
		}
		return len(p), nil
	}
	n, err := c.fw.Write(p)
	if c.mode == modeDict {
		c.hist.write(p[:n])
	}
	if err != nil {
		c.Abort()
		return n, err
	}
	return n, nil
}

// Finish ends the message: it sync-flushes the writer and writes the rest
// of the payload to dst, without the 00 00 ff ff tail. Without context
// takeover, and in the DictSize form, the writer goes back to its pool.
// After an error the compressor has forgotten its history (see Abort) and
// the message must not be sent.
func (c *Compressor) Finish() error {
	if !c.active {
		return errNoMessage
	}
	if c.mode == modeWindow {
		_, err := c.dst.Write(c.we.finish())
		c.we.release()
		c.dst = nil
		c.active = false
		if err != nil {
			c.Abort()
		}
		return err
	}
	if err := c.fw.Flush(); err != nil {
		c.Abort()
		return err
	}
	if c.tw.n != len(syncTail) || c.tw.hold != syncTail {
		c.Abort()
		return errTail
	}
	c.tw.reset(nil)
	c.active = false
	if c.mode != modeStateful {
		c.putWriter()
	}
	return nil
}

// Abort abandons the message being compressed, if any, and makes the
// compressor forget its history: the next message refers to nothing
// before it. That is always valid, since the peer's history can only be
// longer than what this end refers to.
func (c *Compressor) Abort() {
	c.tw.reset(nil)
	c.active = false
	switch c.mode {
	case modeWindow:
		c.dst = nil
		c.we.forget()
	case modeStateful:
		if c.fw != nil {
			c.fw.Reset(&c.tw)
		}
	case modeDict:
		c.hist.reset()
		c.putWriter()
	default:
		c.putWriter()
	}
}

// Close releases the compressor's state, returning its writer to the pool
// for other connections. The Compressor may be used again afterwards and
// then starts with no history.
func (c *Compressor) Close() {
	c.Abort() // forgets the dictionary; pooled writers are back already
	c.putWriter()
	if c.we != nil {
		c.we.free()
	}
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

package deflate

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/flate"
)

// Errors of a Decompressor. Connection code maps ErrCorrupt to close code
// 1007 (invalid payload data) and ErrTooLarge to 1009 (message too big).
var (
	// ErrCorrupt is wrapped by every error about the compressed data
	// itself: invalid DEFLATE, a message that ends inside a block, or data
	// after a final block.
	ErrCorrupt = errors.New("deflate: corrupt compressed message")
	// ErrTooLarge is returned by Decompress when the message inflates to
	// more than its limit.
	ErrTooLarge = errors.New("deflate: inflated message over the limit")
	// ErrHistoryLost is returned for every message after one that was not
	// read to its end (or failed) under context takeover: the LZ77 history
	// no longer matches the peer's, so nothing after it can be inflated.
	ErrHistoryLost = errors.New("deflate: LZ77 history lost after an unfinished message")

	errAborted = errors.New("deflate: message abandoned")
	errClosed  = errors.New("deflate: decompressor closed")
)

// suffix is fed to the inflater after a message's payload: the sync flush
// tail that RFC 7692 section 7.2.2 appends, then an empty stored block
// with BFINAL set. The final block makes the inflater report io.EOF at
// the end of a well-formed message; a message cut off inside a block runs
// into it instead and fails.
var suffix = [...]byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// inflateBufSize is the size of the read buffer between a message's
// payload and the inflater.
const inflateBufSize = 4 << 10

// Decompressor inflates the messages of one direction of a connection per
// RFC 7692 section 7.2.2. Reset starts a message, given an io.Reader of its
// compressed payload across all its frames (io.EOF at the message's end);
// Read then returns inflated bytes and io.EOF at the end of the message.
//
// Read produces output as it inflates, at most 32 KiB per call, so a caller
// enforcing a size limit stops a decompression bomb after the limit, having
// read only the compressed bytes that made it: DEFLATE expands at most
// about 1032 times, so the input read is about limit/1000 bytes.
//
// The inflater (about 40 KB with its buffers) comes from a pool for each
// message and goes back at its end. With context takeover the Decompressor
// also keeps the last 1<<WindowBits bytes inflated, the peer's window, as
// the dictionary of the next message: up to 40 KiB at 15 bits (the window
// plus a quarter), growing with the traffic. Without context takeover it
// holds nothing between messages.
//
// A corrupt message yields an error wrapping ErrCorrupt. Errors of the
// payload reader are passed on as they are. A Decompressor is not safe
// for concurrent use.
type Decompressor struct {
	noContext bool
	hist      history
	inf       *inflater // while a message is being read
	err       error     // sticky result once the message has ended
	lost      bool      // history out of step with the peer
	br        bytes.Reader
}

// NewDecompressor returns a Decompressor for the side: the window the
// peer compresses with (8..15; 0 means 15) and whether it uses context
// takeover.
func NewDecompressor(side Side) (*Decompressor, error) {
	bits, err := side.bits()
	if err != nil {
		return nil, err
	}
	return &Decompressor{noContext: side.NoContextTakeover, hist: newHistory(1 << bits)}, nil
}

// inflater is the pooled part: a flate reader, its input buffer and the
// source that feeds the buffer.
type inflater struct {
	src     source
	br      *bufio.Reader
	fr      flateReader
	scratch [64]byte
}

// flateReader is what flate.NewReader returns.
type flateReader interface {
	io.Reader
	flate.Resetter
}

var inflaterPool sync.Pool

func getInflater() *inflater {
	if v := inflaterPool.Get(); v != nil {
		return v.(*inflater)
	}
	inf := new(inflater)
	// A *bufio.Reader is a flate.Reader, so flate reads from it directly,
	// without a bufio of its own, and has a fast path for it.
	inf.br = bufio.NewReaderSize(&inf.src, inflateBufSize)
	inf.fr = flate.NewReader(inf.br).(flateReader)
	return inf
}

func putInflater(inf *inflater) {
	inf.src = source{}
	inf.br.Reset(&inf.src)
	inflaterPool.Put(inf)
}

// Reset starts a message whose compressed payload r yields, ending in
// io.EOF. A message still open is abandoned first (see Abort).
func (d *Decompressor) Reset(r io.Reader) {
	if d.inf != nil {
		d.Abort()
	}
	if d.lost {
		if d.err != errClosed {
			d.err = ErrHistoryLost
		}
		return
	}
	d.err = nil
	inf := getInflater()
	inf.src = source{r: r}
	inf.br.Reset(&inf.src)
	var dict []byte
	if !d.noContext {
		dict = d.hist.window()
	}
	// Reset copies the dictionary into the inflater's window.
	inf.fr.Reset(inf.br, dict)
	d.inf = inf
}

// Read reads inflated bytes of the message. It returns io.EOF once the
// message has been inflated to its end and checked.
func (d *Decompressor) Read(p []byte) (int, error) {
	inf := d.inf
	if inf == nil {
		if d.err == nil {
			return 0, io.EOF
		}
		return 0, d.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, err := inf.fr.Read(p)
	if n > 0 && !d.noContext {
		d.hist.write(p[:n])
	}
	if err == nil {
		return n, nil
	}
	if err == io.EOF {
		if err = inf.end(); err == nil {
			d.inf = nil
			d.err = io.EOF
			putInflater(inf)
			return n, io.EOF
		}
	}
	d.fail(inf.wrap(err))
	return n, d.err
}

// fail ends the message with err.
func (d *Decompressor) fail(err error) {
	if d.inf != nil {
		putInflater(d.inf)
		d.inf = nil
	}
	d.err = err
	if !d.noContext {
		d.lost = true
		d.hist.reset()
	}
}

// Abort abandons the message being read, if any, returning the inflater to
// its pool; a caller stops this way once a message passes its size limit.
// Under context takeover the history then no longer matches the peer's,
// and every later message fails with ErrHistoryLost, so the connection
// must be closed (1009 for a message too big). To skip the rest of a
// message and go on, read it to io.EOF instead.
func (d *Decompressor) Abort() {
	if d.inf != nil {
		d.fail(errAborted)
	}
}

// Close releases the Decompressor's state at the end of the connection.
// It must not be used afterwards.
func (d *Decompressor) Close() {
	d.Abort()
	d.hist.reset()
	d.lost = true
	d.err = errClosed
}

// Decompress inflates a whole message from its compressed payload and
// appends it to dst. When the message would inflate to more than limit
// bytes (limit < 0: no limit) it stops there and returns ErrTooLarge, and
// under context takeover the Decompressor is then unusable (see Abort).
// It allocates nothing when dst has room for the message.
func (d *Decompressor) Decompress(dst, payload []byte, limit int) ([]byte, error) {
	d.br.Reset(payload)
	defer d.br.Reset(nil) // keep no reference to payload
	d.Reset(&d.br)
	start := len(dst)
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		room := cap(dst) - len(dst)
		if limit >= 0 {
			// Read one byte past the limit, to tell a message of exactly
			// limit bytes from a longer one.
			room = min(room, limit-(len(dst)-start)+1)
		}
		n, err := d.Read(dst[len(dst) : len(dst)+room])
		dst = dst[:len(dst)+n]
		if limit >= 0 && len(dst)-start > limit {
			d.Abort()
			return dst[:start+limit], ErrTooLarge
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

// source yields a message's payload and then the suffix.
type source struct {
	r    io.Reader
	msgN int64 // payload bytes passed on
	tail int   // suffix bytes passed on
	eof  bool  // r is at its end
	err  error // r failed with err
}

func (s *source) Read(p []byte) (int, error) {
	if !s.eof {
		if s.err != nil {
			return 0, s.err
		}
		n, err := s.r.Read(p)
		s.msgN += int64(n)
		switch {
		case err == io.EOF:
			s.eof = true
			if s.msgN == 0 {
				// An empty payload is an empty message. RFC 7692 never
				// produces one (an empty message compresses to 0x00), but
				// a 00 00 ff ff tail alone is not valid DEFLATE, so only
				// the final block is fed.
				s.tail = len(syncTail)
			}
			if n > 0 {
				return n, nil
			}
		case err != nil:
			s.err = err
			return n, err
		default:
			return n, nil
		}
	}
	if s.tail == len(suffix) {
		return 0, io.EOF
	}
	n := copy(p, suffix[s.tail:])
	s.tail += n
	return n, nil
}

// end checks what follows the final block the inflater stopped at. Usually
// it is the block of the suffix and nothing is left. A peer may instead end
// a message with a block of its own that has BFINAL set (RFC 7692 section
// 7.2.3.4); then at most one zero byte of the payload may follow it, the
// 0x00 of the RFC's example that keeps the payload decodable by the usual
// rule. Anything more is an error. Unread payload is drained, so the
// payload reader reaches its end.
func (inf *inflater) end() error {
	s := &inf.src
	buffered := inf.br.Buffered()
	if buffered == 0 && s.eof && s.tail == len(suffix) {
		return nil
	}
	// The buffer holds the last bytes passed on: payload, then suffix.
	payload := buffered - min(buffered, s.tail)
	extra := 0
	if payload > 0 {
		b, _ := inf.br.Peek(payload)
		for _, c := range b {
			if c != 0 {
				return fmt.Errorf("%w: data after the final block", ErrCorrupt)
			}
		}
		extra = payload
	}
	for !s.eof && extra <= 1 {
		n, err := s.r.Read(inf.scratch[:])
		for _, c := range inf.scratch[:n] {
			if c != 0 {
				return fmt.Errorf("%w: data after the final block", ErrCorrupt)
			}
		}
		extra += n
		if err == io.EOF {
			s.eof = true
		} else if err != nil {
			s.err = err
			return err
		}
	}
	if extra > 1 {
		return fmt.Errorf("%w: data after the final block", ErrCorrupt)
	}
	return nil
}

// wrap classifies an inflater error: the payload reader's own error passes
// through, flate's complaints become ErrCorrupt.
func (inf *inflater) wrap(err error) error {
	if inf.src.err != nil && err == inf.src.err {
		return err
	}
	switch err.(type) {
	case flate.CorruptInputError, flate.InternalError:
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: the message ends inside a DEFLATE block", ErrCorrupt)
	}
	return err
}

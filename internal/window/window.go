// Package window is a raw DEFLATE compressor (RFC 1951) for the messages
// of a WebSocket connection with context takeover (RFC 7692): LZ77 with
// hash chains and lazy matching over the negotiated window (less 262
// bytes from 12 bits up, as in zlib), searching as zlib's deflate_slow
// does, with state small enough to keep per connection. Package
// internal/deflate uses it for its Compressor with EngineWindow.
//
// Matching what zlib's level 6 sends for a stream of small similar
// messages takes the whole 32 KiB window and a lazy search of it, which
// klauspost's flate writers offer only at levels 7 to 9 and 1.4 MB. This
// package's Encoder does it with zlib's search parameters per level (see
// windowParams for levels 2, 3 and 6), 4-byte minimum matches (and none
// of 4 bytes further than 4 KiB, which cost more than their literals),
// and for each block the smallest of dynamic codes, fixed codes and
// stored bytes (huffman.go). It never refers further back than the
// window, 8 bits included.
//
// An Encoder keeps, between messages, the window buffer (the window plus
// room for new input: twice the window, or the window plus 4 KiB below 12
// bits), the hash heads (a uint16 each, as many as window positions from
// 1,024 to 8,192) and the chain links (a uint16 distance per window
// position): 144 KiB at 15 bits, 9 KiB at 10. Tokens and code tables are
// scratch, taken from a pool for each message.
package window

import (
	"encoding/binary"
	"errors"
	"io"
	"math/bits"
	"sync"
	"sync/atomic"
)

// Positions are indexes into the buffer. A hash head holds the index of
// the newest position with that hash, 0 meaning none (so position 0 is
// never matched); prev[i&wmask] holds the distance from i back to the
// previous position with the same hash, 0 meaning none. When the buffer
// fills, it slides by a multiple of the window, so that prev's indexes
// stay valid, and the heads are rebased.

// Levels an Encoder takes. There is no level 1: MinLevel, the fastest,
// already searches as little as zlib's level 1.
const (
	MinLevel = 2 // the fastest level: zlib's level 1 search, lazy
	MaxLevel = 9 // the smallest output: zlib's level 9 search
)

// windowParams are the search parameters of a level. Levels 4 to 9 take
// zlib's, except that level 6 looks one position on for a better match
// after matches of up to 24 bytes rather than 16, which sends 1% fewer
// bytes for streams of JSON messages for about the same CPU. Levels 2 and
// 3 take the chain and nice lengths of zlib's levels 1 and 2, which zlib
// runs without lazy matching; here they search lazily like the others.
type windowParams struct {
	good  int // a match this long quarters the search for a better one
	lazy  int // a match this long is taken without looking one byte on
	nice  int // a match this long ends the search
	chain int // how many earlier positions to try
}

var windowLevels = [10]windowParams{
	2: {4, 4, 8, 4},
	3: {4, 4, 16, 8},
	4: {4, 4, 16, 16},
	5: {8, 16, 32, 32},
	6: {8, 24, 128, 128},
	7: {8, 32, 128, 256},
	8: {32, 128, 258, 1024},
	9: {32, 258, 258, 4096},
}

const (
	wMinMatch = 4 // shortest match sought
	// wHashLen is how many bytes a position's hash covers, so the chains
	// hold only positions that share that many bytes, most of the time.
	// Five rather than four leaves fewer candidates to try and finds
	// longer matches within the chain limit: 0.1-0.7% fewer bytes for
	// text and JSON, and shorter searches. Matches of four bytes are
	// still taken where a chain leads to one.
	wHashLen  = 5
	wMaxMatch = 258 // longest DEFLATE match
	// wLookahead is how many bytes past a position must be there before
	// it is searched in the middle of a message, so that a match may
	// reach its full length.
	wLookahead = wMaxMatch + wMinMatch
	// wTooFar is the farthest a match of wMinMatch bytes may reach.
	wTooFar = 4096
	// wMaxHashBits bounds the hash heads to 8,192: more hold more memory
	// and save almost nothing (0.2% of the bytes of JSON messages).
	wMaxHashBits = 13
	// wMaxTokens ends a block; zlib's default is the same.
	wMaxTokens = 1 << 14
)

// An Encoder compresses the messages of one direction of a connection
// into one raw DEFLATE stream, each message ended by a sync flush without
// its 00 00 ff ff tail (RFC 7692 section 7.2.1), later messages referring
// back to earlier ones within the window. A message is Reset, Written and
// Finished. The state kept between messages is in the package
// documentation; Held reports it.
//
// An Encoder is not safe for concurrent use.
type Encoder struct {
	params  windowParams
	wmask   int // window - 1
	maxDist int // farthest match distance
	hshift  uint

	win  []byte   // the buffer: window history, then input
	head []uint16 // newest position per hash
	prev []uint16 // distance to the previous position with the same hash

	end    int // bytes in win
	pos    int // next position to decide on
	hashed int // positions below this are in the chains
	block  int // start of the bytes the pending tokens encode
	// Lazy matching: the match found at pos-1, if avail.
	avail             bool
	prevLen, prevDist int

	bc *blockCoder // scratch, held between start and release
	// warmSum keeps what warm read, so that the reads are not dropped.
	warmSum uint16
	// started is windowStarts when this encoder last started a message.
	started uint64
	dst     io.Writer // where the message being compressed goes
}

// windowStarts counts the messages window encoders have started, process
// wide: an encoder that sees it moved on by more than warmAfter since
// its own last message reads its state in (warm) before compressing.
var windowStarts atomic.Uint64

// warmAfter is how many other messages may have been compressed since an
// encoder's last one before its state is taken to have left the caches.
// Three states of 144 KiB fit in the 512 KiB to 1 MiB second-level cache
// of a current x86 core; with one busy connection warm would only add its
// reads. The count is process wide, not per core, so with several cores
// each busy with one connection the encoders warm as if cold, which costs
// a read of their state and no more.
const warmAfter = 2

var blockCoders = sync.Pool{New: func() any {
	return &blockCoder{toks: make([]token, 0, wMaxTokens)}
}}

// NewEncoder returns an Encoder for a window of 1<<bits bytes, bits from 8
// to 15, at a level from MinLevel to MaxLevel; it panics on others. Its
// buffers are made with the first message.
func NewEncoder(level, bits int) *Encoder {
	if level < MinLevel || level > MaxLevel || bits < 8 || bits > 15 {
		panic("window: level or window bits out of range")
	}
	w := 1 << bits
	e := &Encoder{
		params:  windowLevels[level],
		wmask:   w - 1,
		maxDist: min(w-1, windowBufSize(w)-w-wLookahead),
		hshift:  uint(32 - min(max(bits, 10), wMaxHashBits)),
	}
	return e
}

// windowBufSize is the size of the buffer for a window of w bytes.
func windowBufSize(w int) int {
	return w + max(w, 4096)
}

// Held is the memory the Encoder keeps between messages, in bytes: none
// before the first message and after Free.
func (e *Encoder) Held() int {
	return cap(e.win) + 2*cap(e.head) + 2*cap(e.prev)
}

// Reset starts a message whose compressed payload goes to dst. A message
// still open is abandoned first, and the history with it (see Forget).
func (e *Encoder) Reset(dst io.Writer) {
	if e.bc != nil {
		e.Forget()
	}
	e.dst = dst
	e.start()
}

// ResetDict starts a message, as Reset does, whose matches may refer
// back into dict, the stream as it stood before the message (its last
// bytes, up to the window), in place of the Encoder's own history, which
// it forgets. It makes an Encoder taken from a pool compress the next
// message of a connection that keeps only its last bytes sent: priming
// hashes the positions of dict into the chains, about a tenth of the cost
// of compressing dict. Only the last window less 262 bytes of dict can be
// referred to (the whole dict below 12 bits).
func (e *Encoder) ResetDict(dst io.Writer, dict []byte) {
	e.Forget()
	e.dst = dst
	e.start()
	if len(dict) > e.maxDist {
		dict = dict[len(dict)-e.maxDist:]
	}
	// Position 0 means none in the chains: the dictionary starts at 1.
	n := copy(e.win[1:], dict)
	e.end = 1 + n
	e.prime()
	e.pos, e.block = e.end, e.end
}

// prime puts the positions of the dictionary that ResetDict copied to
// win[1:end] into the chains: insertTo without its checks, which cannot
// fail here. The heads were cleared and every position is after the one
// its head held and within maxDist of it, so the distance to store is
// always i-old, and one that reaches position 0 ends the chain.
func (e *Encoder) prime() {
	to := e.end - wHashLen + 1
	if to <= 1 {
		e.hashed = 1
		return
	}
	win, head, prev := e.win[:to+7], e.head, e.prev
	wmask, shift := e.wmask, e.hshift
	for i := 1; i < to; i++ {
		h := wHash(binary.LittleEndian.Uint64(win[i:]), shift)
		prev[i&wmask] = uint16(i - int(head[h]))
		head[h] = uint16(i)
	}
	e.hashed = to
}

// Write compresses p as the next bytes of the message. The output reaches
// dst in pieces as it is produced, each block as it is completed (at most
// every 32 KiB of input), the last at Finish. After an error from dst the
// Encoder has forgotten its history (see Forget) and the message must not
// be sent.
func (e *Encoder) Write(p []byte) (int, error) {
	if e.bc == nil {
		return 0, errNoMessage
	}
	// In pieces, so that the output held before it reaches dst stays
	// bounded, whatever the size of p.
	for done := 0; done < len(p); {
		n := min(len(p)-done, 32<<10)
		e.write(p[done : done+n])
		done += n
		if out := e.takeOutput(); len(out) > 0 {
			if _, err := e.dst.Write(out); err != nil {
				e.Forget()
				return 0, err
			}
		}
	}
	return len(p), nil
}

// Finish ends the message with a sync flush and writes the rest of its
// payload to dst, without the 00 00 ff ff tail. After an error the Encoder
// has forgotten its history and the message must not be sent.
func (e *Encoder) Finish() error {
	if e.bc == nil {
		return errNoMessage
	}
	_, err := e.dst.Write(e.finish())
	e.release()
	e.dst = nil
	if err != nil {
		e.Forget()
	}
	return err
}

// errNoMessage reports Write or Finish without Reset.
var errNoMessage = errors.New("window: no message started")

// start begins a message. Its output goes to a buffer of the pooled
// scratch, which takeOutput and finish hand out until release.
func (e *Encoder) start() {
	if e.win == nil {
		e.win = make([]byte, windowBufSize(e.wmask+1))
		e.head = make([]uint16, 1<<(32-e.hshift))
		e.prev = make([]uint16, e.wmask+1)
	}
	n := windowStarts.Add(1)
	if n-e.started > warmAfter+1 && e.end > 0 {
		e.warm()
	}
	e.started = n
	e.bc = blockCoders.Get().(*blockCoder)
}

// warm reads a byte of every cache line of the state; start calls it
// before a message when more than warmAfter others have been compressed
// since this encoder's last. With many busy connections a connection's
// state has left the CPU caches by its next message, and the chain walk
// is a series of dependent loads: cold, each waits for memory, and a 1
// KiB message took about 110 µs instead of 21. Read in order, the lines
// stream in at memory bandwidth and the walk then hits the cache: about
// 30 µs cold (BenchmarkWindowJSON/cold).
func (e *Encoder) warm() {
	var x uint16
	win := e.win[max(e.end-e.wmask-1, 0):e.end]
	for i := 0; i < len(win); i += 64 {
		x += uint16(win[i])
	}
	for i := 0; i < len(e.prev); i += 32 {
		x += e.prev[i]
	}
	for i := 0; i < len(e.head); i += 32 {
		x += e.head[i]
	}
	e.warmSum = x
}

// takeOutput returns the whole bytes written so far and empties the
// output buffer; the slice is valid until the next write.
func (e *Encoder) takeOutput() []byte {
	out := e.bc.bw.out
	e.bc.bw.out = out[:0]
	return out
}

// write compresses p, appending whole blocks to the output as they fill.
func (e *Encoder) write(p []byte) {
	for len(p) > 0 {
		if e.end == len(e.win) {
			e.slide()
		}
		n := copy(e.win[e.end:], p)
		e.end += n
		p = p[n:]
		e.compress(false)
	}
}

// finish compresses what is left, ends the block with a sync flush (RFC
// 7692 section 7.2.1, without the 00 00 ff ff tail) and returns the
// output, which is valid until release.
func (e *Encoder) finish() []byte {
	e.compress(true)
	bc := e.bc
	bc.writeBlock(e.win[e.block:e.pos])
	e.block = e.pos
	// The empty stored block of a sync flush: 3 header bits, padding, and
	// the tail that RFC 7692 removes.
	bc.bw.writeBits(0, 3)
	bc.bw.align()
	return bc.bw.out
}

// release returns the scratch to its pool.
func (e *Encoder) release() {
	if bc := e.bc; bc != nil {
		if len(bc.toks) > 0 {
			// Abandoned in the middle of a block; writeBlock leaves the
			// coder empty otherwise.
			bc.toks = bc.toks[:0]
			bc.litFreq = [numLitCodes]uint32{}
			bc.distFreq = [numDistCodes]uint32{}
		}
		out := bc.bw.out[:0] // keep the output buffer as it grew
		if cap(out) > 1<<17 {
			out = nil
		}
		bc.bw = bitBuf{out: out}
		blockCoders.Put(bc)
		e.bc = nil
	}
}

// Forget drops the history, and the message being compressed, if any:
// later matches refer to nothing before it. That is always valid for the
// peer, whose history can only be longer than what this end refers to.
func (e *Encoder) Forget() {
	e.release()
	e.dst = nil
	e.end, e.pos, e.hashed, e.block = 0, 0, 0, 0
	e.avail = false
	clear(e.head)
}

// Free forgets the history (see Forget) and lets the buffers go; the next
// message makes them again.
func (e *Encoder) Free() {
	e.Forget()
	e.win, e.head, e.prev = nil, nil, nil
}

// slide makes room at the end of the buffer, keeping at least maxDist
// bytes before pos, by a multiple of the window. The pending tokens are
// written out first, as a block, since their bytes may slide out.
func (e *Encoder) slide() {
	e.bc.writeBlock(e.win[e.block:e.tokEnd()])
	e.block = e.tokEnd()
	w := e.wmask + 1
	s := (e.pos - e.maxDist) / w * w
	if s <= 0 {
		// Cannot happen: a full buffer has been compressed to within
		// wLookahead of its end, and maxDist leaves a window more than
		// that. Returning would make write loop for ever.
		panic("window: buffer cannot slide")
	}
	copy(e.win, e.win[s:e.end])
	e.end -= s
	e.pos -= s
	e.hashed -= s
	e.block -= s
	// Rebase the heads, those that slid out (and one at s) to none;
	// branch-free, since this is every head.
	s32 := int32(s)
	for i, h := range e.head {
		v := int32(h) - s32
		e.head[i] = uint16(v &^ (v >> 31))
	}
}

// tokEnd is where the bytes the tokens so far encode end: pos, less the
// byte held back for lazy matching.
func (e *Encoder) tokEnd() int {
	if e.avail {
		return e.pos - 1
	}
	return e.pos
}

// insertTo adds the positions from e.hashed up to to (not included) to
// their hash chains, those at least wHashLen bytes before end.
func (e *Encoder) insertTo(to, end int) {
	to = min(to, end-wHashLen+1)
	win, head, prev := e.win, e.head, e.prev
	wmask, maxDist, shift := e.wmask, e.maxDist, e.hshift
	for i := e.hashed; i < to; i++ {
		// The low wHashLen bytes of the word at i, multiplied; bytes
		// past end are shifted out. The last few positions of the
		// buffer are read a byte at a time.
		var x uint64
		if i+8 <= len(win) {
			x = binary.LittleEndian.Uint64(win[i:])
		} else {
			for k := wHashLen - 1; k >= 0; k-- {
				x = x<<8 | uint64(win[i+k])
			}
		}
		link(head, prev, wHash(x, shift), i, wmask, maxDist)
	}
	e.hashed = max(e.hashed, to)
}

// link puts position i, whose hash is h, at the head of its chain.
func link(head, prev []uint16, h uint32, i, wmask, maxDist int) {
	old := int(head[h])
	head[h] = uint16(i)
	d := i - old
	if old == 0 || d <= 0 || d > maxDist {
		d = 0
	}
	prev[i&wmask] = uint16(d)
}

// wHash is the hash of the low wHashLen bytes of x, little-endian, in
// 32-shift bits.
func wHash(x uint64, shift uint) uint32 {
	return uint32(x<<(64-8*wHashLen)*0xcf1bbcdcb7a56463>>32) >> shift
}

// compress decides on positions, leaving wLookahead bytes unless final.
func (e *Encoder) compress(final bool) {
	end := e.end
	limit := end - wLookahead
	if final {
		limit = end
	}
	bc := e.bc
	win := e.win[:end]
	lazy := e.params.lazy
	pos := e.pos
	avail, prevLen, prevDist := e.avail, e.prevLen, e.prevDist
	buf, head, prev := e.win, e.head, e.prev
	wmask, maxDist, shift := e.wmask, e.maxDist, e.hshift
	for pos < limit {
		if e.hashed == pos && pos+8 <= len(buf) && pos+wHashLen <= end {
			// insertTo(pos+1, end), inlined for the usual single position.
			link(head, prev, wHash(binary.LittleEndian.Uint64(buf[pos:]), shift), pos, wmask, maxDist)
			e.hashed = pos + 1
		} else {
			e.insertTo(pos+1, end)
		}
		length, dist := 0, 0
		if !avail || prevLen < lazy {
			if pos+wHashLen <= end {
				held := 0
				if avail {
					held = prevLen
				}
				length, dist = e.findMatch(pos, end, held)
			}
		}
		if avail && prevLen >= wMinMatch && length <= prevLen {
			// The match at pos-1 is as good: take it.
			bc.match(prevLen, prevDist)
			pos += prevLen - 1
			avail = false
			e.insertTo(pos, end)
		} else {
			if avail {
				bc.literal(win[pos-1])
			}
			avail, prevLen, prevDist = true, length, dist
			pos++
		}
		if len(bc.toks) >= wMaxTokens {
			e.pos, e.avail, e.prevLen, e.prevDist = pos, avail, prevLen, prevDist
			bc.writeBlock(win[e.block:e.tokEnd()])
			e.block = e.tokEnd()
		}
	}
	if final && avail {
		bc.literal(win[pos-1])
		avail = false
	}
	e.pos, e.avail, e.prevLen, e.prevDist = pos, avail, prevLen, prevDist
}

// findMatch returns the longest match for pos longer than held (the
// length of the match held back at pos-1, or 0), or length 0. pos is in
// the chains.
func (e *Encoder) findMatch(pos, end, held int) (length, dist int) {
	win := e.win[:end]
	maxLen := min(wMaxMatch, end-pos)
	nice := min(e.params.nice, maxLen)
	chain := e.params.chain
	best := max(wMinMatch-1, held)
	if held >= e.params.good {
		chain >>= 2
	}
	if best >= maxLen {
		return 0, 0
	}
	prev, wmask := e.prev, e.wmask
	minCand := max(pos-e.maxDist, 1)
	cur := win[pos : pos+maxLen]
	first := binary.LittleEndian.Uint32(cur)
	// want is the 4 bytes that end a match one longer than best: a
	// candidate without them cannot be better. best < maxLen here, and
	// whenever best grows past nice's reach the search ends.
	want := binary.LittleEndian.Uint32(cur[best-3:])
	cand := pos
	for {
		d := int(prev[cand&wmask])
		cand -= d
		if d == 0 || cand < minCand {
			break
		}
		if binary.LittleEndian.Uint32(win[cand+best-3:]) == want && binary.LittleEndian.Uint32(win[cand:]) == first {
			l := matchLen(win[cand:], cur)
			// A shortest match from far back costs more bits than its
			// literals (zlib's TOO_FAR).
			if l > best && (l > wMinMatch || pos-cand <= wTooFar) {
				best, dist = l, pos-cand
				if l >= nice {
					break
				}
				want = binary.LittleEndian.Uint32(cur[best-3:])
			}
		}
		chain--
		if chain == 0 {
			break
		}
	}
	if dist == 0 {
		return 0, 0
	}
	return best, dist
}

// matchLen is how many bytes a and b share at the start, up to len(b).
func matchLen(a, b []byte) int {
	n := 0
	for len(b)-n >= 8 {
		x := binary.LittleEndian.Uint64(a[n:]) ^ binary.LittleEndian.Uint64(b[n:])
		if x != 0 {
			return n + bits.TrailingZeros64(x)>>3
		}
		n += 8
	}
	for n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

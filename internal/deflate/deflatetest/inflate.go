// Package deflatetest holds a slow, plain DEFLATE decoder (RFC 1951, after
// zlib's puff.c) for tests only. It shares no code with the library, so
// tests can check the library's streams against it. It also makes the
// test data of the compression packages (TextData, RandomData,
// JSONMessage) and writes DEFLATE bits by hand (BitWriter).
package deflatetest

import (
	"errors"
	"io"
)

// Inflate decodes in, a DEFLATE stream, after the history dict (nil for
// none), which back-references may reach into. It stops after a block
// with BFINAL set or at the end of in, which lets it read the stream of a
// connection's messages with their tails put back. It returns the bytes
// decoded, without dict, and maxDist, the longest distance any match used,
// counting one that reaches beyond the history (which is an error).
func Inflate(dict, in []byte) (out []byte, maxDist int, err error) {
	r := &bitReader{b: in}
	hist := append([]byte(nil), dict...)
	for r.pos < 8*len(in) && err == nil {
		final, typ := r.bits(1), r.bits(2)
		switch {
		case r.err != nil:
			err = r.err
		case typ == 0:
			r.pos = (r.pos + 7) &^ 7
			n, nn := r.bits(16), r.bits(16)
			switch {
			case r.err != nil:
				err = r.err
			case n != ^nn&0xffff:
				err = errors.New("deflatetest: stored length mismatch")
			case r.pos/8+n > len(in):
				err = io.ErrUnexpectedEOF
			default:
				hist = append(hist, in[r.pos/8:r.pos/8+n]...)
				r.pos += 8 * n
			}
		case typ == 1:
			hist, err = r.codes(hist, &fixedLit, &fixedDist, &maxDist)
		case typ == 2:
			var lit, dist huffman
			if err = r.dynamic(&lit, &dist); err == nil {
				hist, err = r.codes(hist, &lit, &dist, &maxDist)
			}
		default:
			err = errors.New("deflatetest: block type 3")
		}
		if final == 1 {
			break
		}
	}
	return hist[len(dict):], maxDist, err
}

// bitReader reads a stream bit by bit; after the input runs out, bits
// returns 0 and err is io.ErrUnexpectedEOF.
type bitReader struct {
	b   []byte
	pos int // in bits
	err error
}

func (r *bitReader) bits(n int) int {
	v := 0
	for i := range n {
		if r.pos >= 8*len(r.b) {
			r.err = io.ErrUnexpectedEOF
			return 0
		}
		v |= int(r.b[r.pos>>3]>>(r.pos&7)&1) << i
		r.pos++
	}
	return v
}

// huffman is a canonical Huffman code: the number of codes of each length
// and the symbols in code order.
type huffman struct {
	count [16]int
	sym   []int
}

// newHuffman builds h from the code lengths of its symbols (0 for a
// symbol with no code). It returns what puff.c's construct returns: 0 for
// a complete code or for no code at all, more than 0 for an incomplete one
// (codes left unused), less than 0 for an over-subscribed one, which no
// decoder may accept.
func newHuffman(h *huffman, lengths []int) (left int) {
	*h = huffman{}
	for _, l := range lengths {
		h.count[l]++
	}
	if h.count[0] == len(lengths) {
		h.count[0] = 0
		return 0
	}
	h.count[0] = 0
	left = 1
	for l := 1; l < 16; l++ {
		left = left<<1 - h.count[l]
		if left < 0 {
			return left
		}
	}
	var offs [16]int
	for l := 1; l < 16; l++ {
		offs[l] = offs[l-1] + h.count[l-1]
	}
	h.sym = make([]int, len(lengths))
	for s, l := range lengths {
		if l != 0 {
			h.sym[offs[l]] = s
			offs[l]++
		}
	}
	return left
}

func (r *bitReader) decode(h *huffman) (int, error) {
	code, first, index := 0, 0, 0
	for l := 1; l < 16; l++ {
		code |= r.bits(1)
		if r.err != nil {
			return 0, r.err
		}
		if n := h.count[l]; code-n < first {
			return h.sym[index+code-first], nil
		}
		index += h.count[l]
		first = (first + h.count[l]) << 1
		code <<= 1
	}
	return 0, errors.New("deflatetest: bad code")
}

var (
	lenBase   = [29]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lenExtra  = [29]int{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase  = [30]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra = [30]int{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}

	fixedLit, fixedDist huffman
)

func init() {
	var l [288]int
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	newHuffman(&fixedLit, l[:])
	var d [30]int
	for i := range d {
		d[i] = 5
	}
	newHuffman(&fixedDist, d[:])
}

// codes decodes the symbols of a block up to its end, appending to hist.
func (r *bitReader) codes(hist []byte, lit, dist *huffman, maxDist *int) ([]byte, error) {
	for {
		s, err := r.decode(lit)
		if err != nil {
			return hist, err
		}
		switch {
		case s < 256:
			hist = append(hist, byte(s))
		case s == 256:
			return hist, nil
		case s-257 < len(lenBase):
			s -= 257
			n := lenBase[s] + r.bits(lenExtra[s])
			ds, err := r.decode(dist)
			if err != nil {
				return hist, err
			}
			if ds >= len(distBase) {
				return hist, errors.New("deflatetest: bad distance code")
			}
			d := distBase[ds] + r.bits(distExtra[ds])
			if r.err != nil {
				return hist, r.err
			}
			*maxDist = max(*maxDist, d)
			if d > len(hist) {
				return hist, errors.New("deflatetest: distance too far back")
			}
			for range n {
				hist = append(hist, hist[len(hist)-d])
			}
		default:
			return hist, errors.New("deflatetest: bad literal/length code")
		}
	}
}

// dynamic reads the code lengths of a dynamic block and builds its codes.
func (r *bitReader) dynamic(lit, dist *huffman) error {
	hlit, hdist, hclen := r.bits(5)+257, r.bits(5)+1, r.bits(4)+4
	if hlit > 286 || hdist > 30 {
		return errors.New("deflatetest: too many literal/length or distance codes")
	}
	order := [19]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
	var cl [19]int
	for i := range hclen {
		cl[order[i]] = r.bits(3)
	}
	if r.err != nil {
		return r.err
	}
	var clh huffman
	if newHuffman(&clh, cl[:]) != 0 {
		return errors.New("deflatetest: incomplete or over-subscribed code length code")
	}
	lengths := make([]int, 0, hlit+hdist)
	for len(lengths) < hlit+hdist {
		s, err := r.decode(&clh)
		if err != nil {
			return err
		}
		rep, val := 1, s
		switch s {
		case 16:
			if len(lengths) == 0 {
				return errors.New("deflatetest: repeat with no length")
			}
			rep, val = 3+r.bits(2), lengths[len(lengths)-1]
		case 17:
			rep, val = 3+r.bits(3), 0
		case 18:
			rep, val = 11+r.bits(7), 0
		}
		if r.err != nil {
			return r.err
		}
		for range rep {
			lengths = append(lengths, val)
		}
	}
	if len(lengths) > hlit+hdist {
		return errors.New("deflatetest: too many lengths")
	}
	if lengths[256] == 0 {
		return errors.New("deflatetest: no end-of-block code")
	}
	// As puff.c: an incomplete code is allowed only when it is a single
	// code of one bit; an over-subscribed one never.
	if left := newHuffman(lit, lengths[:hlit]); left < 0 || left > 0 && !lit.single() {
		return errors.New("deflatetest: incomplete or over-subscribed literal/length code")
	}
	if left := newHuffman(dist, lengths[hlit:]); left < 0 || left > 0 && !dist.single() {
		return errors.New("deflatetest: incomplete or over-subscribed distance code")
	}
	return nil
}

// single reports whether h is one code of one bit.
func (h *huffman) single() bool {
	n := 0
	for _, c := range h.count[2:] {
		n += c
	}
	return h.count[1] == 1 && n == 0
}

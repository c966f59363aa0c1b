package deflate

import (
	"io"
	"testing"

	"github.com/seed-d6ba7b20/ws/internal/deflate/deflatetest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The test data of package deflatetest.
var (
	textData    = deflatetest.TextData
	randomData  = deflatetest.RandomData
	jsonMessage = deflatetest.JSONMessage
)

// chunkReader yields data in pieces of at most the given sizes, in turn,
// as the frames of a message would.
type chunkReader struct {
	data  []byte
	sizes []int
	i     int
	n     int64 // bytes read so far
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	k := len(c.data)
	if len(c.sizes) > 0 {
		k = min(k, c.sizes[c.i%len(c.sizes)])
		c.i++
	}
	n := copy(p[:min(len(p), k)], c.data)
	c.data = c.data[n:]
	c.n += int64(n)
	return n, nil
}

// errReader yields data and then fails with err.
type errReader struct {
	data []byte
	err  error
}

func (e *errReader) Read(p []byte) (int, error) {
	if len(e.data) == 0 {
		return 0, e.err
	}
	n := copy(p, e.data)
	e.data = e.data[n:]
	return n, nil
}

// bomb returns a reader of a message payload made of one dynamic block
// that inflates to 1+258*pairs bytes of zeros: one literal, then pairs
// matches of length 258 at distance 1, each coded in two zero bits, so the
// payload is a short header and then pairs/4 zero bytes. That is DEFLATE's
// best ratio, about 1032:1. The reader makes the zeros as it goes, so a
// bomb of a gigabyte costs nothing until read.
func bomb(pairs int64) io.Reader {
	var w deflatetest.BitWriter
	w.Bits(0, 1)  // BFINAL
	w.Bits(2, 2)  // dynamic
	w.Bits(29, 5) // HLIT: 286 codes
	w.Bits(0, 5)  // HDIST: 1 code
	w.Bits(14, 4) // HCLEN: 18 code length codes
	// Code length code lengths in RFC 1951 order 16 17 18 0 8 7 9 6 10 5
	// 11 4 12 3 13 2 14 1: 18 gets 1 bit, 1 and 2 get 2 bits.
	for _, l := range []int{0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2} {
		w.Bits(l, 3)
	}
	// Canonical code length codes: 18 -> 0, 1 -> 10, 2 -> 11.
	cl1 := func() { w.Code(2, 2) }
	cl2 := func() { w.Code(3, 2) }
	zeros := func(n int) { w.Code(0, 1); w.Bits(n-11, 7) }
	cl2()        // literal 0: 2 bits
	zeros(138)   // 1..138
	zeros(117)   // 139..255
	cl2()        // 256 (end of block): 2 bits
	zeros(28)    // 257..284
	cl1()        // 285 (length 258): 1 bit
	cl1()        // distance code 0 (distance 1): 1 bit
	w.Code(2, 2) // literal 0; canonical codes: 285 -> 0, 0 -> 10, 256 -> 11
	head := append([]byte(nil), w.B...)
	headBits := 8*len(w.B) - (8-w.NB)&7
	return &bombReader{head: head, headBits: headBits, zeroBits: 2 * pairs}
}

// bombReader yields headBits bits of head, zeroBits zero bits, then the
// end of block (11), the header of the sync flush block (000) and padding.
// The regions share no bits, so a byte is the OR of what each puts in it.
type bombReader struct {
	head     []byte
	headBits int
	zeroBits int64
	tail     []byte // the end, laid out from byte endAt on
	endAt    int64
	pos      int64 // bytes read
}

func (b *bombReader) Read(p []byte) (int, error) {
	if b.tail == nil {
		end := int64(b.headBits) + b.zeroBits
		var w deflatetest.BitWriter
		if w.NB = int(end % 8); w.NB != 0 {
			w.B = []byte{0}
		}
		w.Code(3, 2) // end of block
		w.Bits(0, 3) // BFINAL 0, stored: the sync flush, whose LEN and NLEN are cut
		b.tail, b.endAt = w.B, end/8
	}
	total := b.endAt + int64(len(b.tail))
	n := 0
	for ; n < len(p) && b.pos < total; n++ {
		var c byte
		if b.pos < int64(len(b.head)) {
			c = b.head[b.pos]
		}
		if b.pos >= b.endAt {
			c |= b.tail[b.pos-b.endAt]
		}
		p[n] = c
		b.pos++
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

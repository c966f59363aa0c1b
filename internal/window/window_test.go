package window

import (
	"bytes"
	stdflate "compress/flate"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/seed-d6ba7b20/ws/internal/deflate/deflatetest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// syncTail is what Finish leaves off each message, as RFC 7692 section
// 7.2.1 does; finalBlock is an empty final stored block, which ends a
// stream for the standard library's decoder.
var (
	syncTail   = []byte{0x00, 0x00, 0xff, 0xff}
	finalBlock = []byte{0x01, 0x00, 0x00, 0xff, 0xff}
)

// compress compresses msg as the next message of e and returns its
// payload, tail cut, written to dst in pieces of at most piece bytes (0:
// all at once).
func compress(t testing.TB, e *Encoder, msg []byte, piece int) []byte {
	t.Helper()
	var b bytes.Buffer
	e.Reset(&b)
	if piece <= 0 {
		piece = max(len(msg), 1)
	}
	for p := msg; len(p) > 0; p = p[min(piece, len(p)):] {
		if _, err := e.Write(p[:min(piece, len(p))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Finish(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// checkStream decodes stream, payloads each followed by syncTail, with
// both reference decoders, deflatetest's and the standard library's, and
// checks that it is plain and that no match reaches further back than
// window bytes.
func checkStream(t *testing.T, stream, plain []byte, window int) {
	t.Helper()
	got, dist, err := deflatetest.Inflate(nil, stream)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("deflatetest.Inflate: %v (%d bytes of %d)", err, len(got), len(plain))
	}
	if dist > window {
		t.Fatalf("a match reaches back %d bytes; window is %d", dist, window)
	}
	r := stdflate.NewReader(io.MultiReader(bytes.NewReader(stream), bytes.NewReader(finalBlock)))
	got, err = io.ReadAll(r)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("compress/flate: %v (%d bytes of %d)", err, len(got), len(plain))
	}
}

// kraftComplete reports whether code lengths form a complete prefix code
// no longer than maxBits, or a lone one-bit code.
func kraftComplete(lens []uint8, maxBits int) error {
	sum, n := 0, 0
	for s, l := range lens {
		if int(l) > maxBits {
			return fmt.Errorf("symbol %d has %d bits, over %d", s, l, maxBits)
		}
		if l > 0 {
			sum += 1 << (maxBits - int(l))
			n++
		}
	}
	if n == 1 {
		if sum != 1<<(maxBits-1) {
			return fmt.Errorf("a lone symbol's code is not 1 bit long (Kraft sum %d/%d)", sum, 1<<maxBits)
		}
		return nil
	}
	if n > 1 && sum != 1<<maxBits {
		return fmt.Errorf("Kraft sum %d/%d over %d symbols", sum, 1<<maxBits, n)
	}
	return nil
}

// TestHuffmanLengths builds codes for frequencies that force the length
// limit (Fibonacci weights make a tree 30 deep) and for random ones, and
// checks each code is complete, limited, and no worse than it should be:
// a more frequent symbol never gets a longer code.
func TestHuffmanLengths(t *testing.T) {
	var hb huffBuilder
	check := func(name string, freq []uint32, maxBits int) {
		t.Helper()
		lens := make([]uint8, len(freq))
		lc := hb.buildLengths(freq, maxBits, lens)
		if err := kraftComplete(lens, maxBits); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var want lenCounts
		for _, l := range lens {
			if l > 0 {
				want[l]++
			}
		}
		if lc != want {
			t.Fatalf("%s: length counts %v, want %v", name, lc, want)
		}
		// Of two symbols of one frequency the later never has the
		// longer code: leaves are taken in order of frequency and then
		// symbol, longest codes first.
		for a := range freq {
			for b := a + 1; b < len(freq); b++ {
				if freq[a] == freq[b] && freq[a] > 0 && lens[b] > lens[a] {
					t.Fatalf("%s: symbols %d and %d of frequency %d have %d and %d bits", name, a, b, freq[a], lens[a], lens[b])
				}
			}
		}
		for a := range freq {
			if (freq[a] == 0) != (lens[a] == 0) {
				t.Fatalf("%s: symbol %d, frequency %d, has %d bits", name, a, freq[a], lens[a])
			}
			for b := range freq {
				if freq[a] > freq[b] && freq[b] > 0 && lens[a] > lens[b] {
					t.Fatalf("%s: symbol %d (freq %d) has %d bits, symbol %d (freq %d) %d", name, a, freq[a], lens[a], b, freq[b], lens[b])
				}
			}
		}
	}
	fib := make([]uint32, numLitCodes)
	x, y := uint32(1), uint32(1)
	for i := range 30 {
		fib[i*7] = x
		x, y = y, x+y
	}
	check("fibonacci/15", fib, maxCodeBits)
	check("fibonacci/7", fib[:numCLCodes], maxCLBits)
	check("one", []uint32{0, 0, 5, 0}, maxCodeBits)
	check("two", []uint32{0, 1, 0, 1 << 20}, maxCodeBits)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		n := 2 + r.IntN(numLitCodes-1)
		freq := make([]uint32, n)
		for s := range freq {
			if r.IntN(3) > 0 {
				freq[s] = uint32(r.ExpFloat64() * float64(1+r.IntN(1<<uint(r.IntN(16)))))
			}
		}
		check(fmt.Sprintf("random %d", i), freq, maxCodeBits)
		check(fmt.Sprintf("random %d/7", i), freq[:min(n, numCLCodes)], maxCLBits)
	}
}

// TestWindowBlockKinds checks that each block kind is chosen where it is
// smallest and decodes: fixed codes for a few bytes, stored blocks for
// random bytes (no more than their size plus 5 bytes a block of up to
// wMaxTokens bytes), and
// dynamic codes for text.
func TestWindowBlockKinds(t *testing.T) {
	for _, tc := range []struct {
		name  string
		msg   []byte
		btype int // of the first block
	}{
		{"fixed", []byte("Hello"), 1},
		{"stored", deflatetest.RandomData(200_000, 1), 0},
		{"dynamic", deflatetest.TextData(5000, 1), 2},
	} {
		e := NewEncoder(6, 15)
		p := compress(t, e, tc.msg, 0)
		if got := int(p[0]>>1) & 3; got != tc.btype {
			t.Errorf("%s: first block has type %d, want %d", tc.name, got, tc.btype)
		}
		if tc.btype == 0 && len(p) > len(tc.msg)+5*(len(tc.msg)/wMaxTokens+2) {
			t.Errorf("stored: %d bytes for %d", len(p), len(tc.msg))
		}
		checkStream(t, append(p, syncTail...), tc.msg, 1<<15)
		e.Free()
	}
}

// TestEncoderWindowBits compresses a stream of messages at every level
// and every window of 8..15 bits, whole and streamed in odd pieces,
// through texts long enough to slide the buffer many times, and checks
// with both reference decoders that the stream decodes and that no match
// reaches further back than the window, also across messages.
func TestEncoderWindowBits(t *testing.T) {
	msgs := [][]byte{
		deflatetest.TextData(3000, 1), deflatetest.JSONMessage(1), deflatetest.JSONMessage(2), deflatetest.TextData(70_000, 2),
		deflatetest.RandomData(500, 3), deflatetest.JSONMessage(3), deflatetest.TextData(10, 4), nil, deflatetest.JSONMessage(1), deflatetest.TextData(3000, 1),
		deflatetest.RandomData(20_000, 6), deflatetest.JSONMessage(2), deflatetest.TextData(40_000, 5), deflatetest.JSONMessage(3),
	}
	for bits := 8; bits <= 15; bits++ {
		for level := MinLevel; level <= MaxLevel; level++ {
			t.Run(fmt.Sprintf("%d/level%d", bits, level), func(t *testing.T) {
				e := NewEncoder(level, bits)
				defer e.Free()
				var stream, plain []byte
				for i, m := range msgs {
					p := compress(t, e, m, (1+i*337%4096)*(i%2))
					stream = append(append(stream, p...), syncTail...)
					plain = append(plain, m...)
				}
				checkStream(t, stream, plain, 1<<bits)
			})
		}
	}
}

// TestEncoderResetDict compresses messages each with ResetDict, primed
// with the last bytes of the stream before it (of several sizes, none,
// shorter than the window and longer), reusing one encoder as a pool
// would, and checks that the stream inflates within the window. A match
// into what the encoder held before ResetDict would inflate wrongly: its
// buffer then holds other bytes at those positions.
func TestEncoderResetDict(t *testing.T) {
	msgs := [][]byte{
		deflatetest.JSONMessage(1), deflatetest.TextData(3000, 1), deflatetest.JSONMessage(2), nil,
		deflatetest.TextData(40_000, 2), deflatetest.JSONMessage(3), deflatetest.RandomData(500, 3),
		deflatetest.JSONMessage(1), deflatetest.TextData(10, 4), deflatetest.JSONMessage(2),
	}
	for bits := 8; bits <= 15; bits++ {
		for _, level := range []int{MinLevel, 6, MaxLevel} {
			for _, dsize := range []int{0, 100, 4096, 40_000} {
				t.Run(fmt.Sprintf("%d/level%d/dict%d", bits, level, dsize), func(t *testing.T) {
					e := NewEncoder(level, bits)
					defer e.Free()
					var stream, plain []byte
					for i, m := range msgs {
						var b bytes.Buffer
						e.ResetDict(&b, plain[max(len(plain)-dsize, 0):])
						for p := m; len(p) > 0; p = p[min(len(p), 1+i*997):] {
							if _, err := e.Write(p[:min(len(p), 1+i*997)]); err != nil {
								t.Fatal(err)
							}
						}
						if err := e.Finish(); err != nil {
							t.Fatal(err)
						}
						stream = append(append(stream, b.Bytes()...), syncTail...)
						plain = append(plain, m...)
					}
					checkStream(t, stream, plain, 1<<bits)
				})
			}
		}
	}
}

// TestEncoderForget checks that after Forget, and after a Reset that
// abandons a message, the next message refers to nothing before it.
func TestEncoderForget(t *testing.T) {
	e := NewEncoder(6, 15)
	defer e.Free()
	compress(t, e, deflatetest.JSONMessage(1), 0)
	e.Forget()
	p := compress(t, e, deflatetest.JSONMessage(1), 0)
	checkStream(t, append(p, syncTail...), deflatetest.JSONMessage(1), 1<<15)
	e.Reset(io.Discard)
	if _, err := e.Write(deflatetest.JSONMessage(2)); err != nil {
		t.Fatal(err)
	}
	p = compress(t, e, deflatetest.JSONMessage(2), 0) // abandons the message above
	checkStream(t, append(p, syncTail...), deflatetest.JSONMessage(2), 1<<15)
	if _, err := e.Write([]byte("x")); err == nil {
		t.Error("Write after Finish succeeds")
	}
	if err := e.Finish(); err == nil {
		t.Error("Finish after Finish succeeds")
	}
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

// TestEncoderWriteError checks that an error from dst reaches the caller
// and leaves the Encoder with no history, able to go on.
func TestEncoderWriteError(t *testing.T) {
	e := NewEncoder(6, 15)
	defer e.Free()
	compress(t, e, deflatetest.JSONMessage(1), 0)
	e.Reset(failWriter{})
	_, err := e.Write(deflatetest.RandomData(100_000, 1)) // fills a block
	if err != io.ErrClosedPipe {
		t.Fatalf("Write: %v", err)
	}
	e.Reset(failWriter{})
	if err := e.Finish(); err != io.ErrClosedPipe {
		t.Fatalf("Finish: %v", err)
	}
	p := compress(t, e, deflatetest.JSONMessage(1), 0)
	checkStream(t, append(p, syncTail...), deflatetest.JSONMessage(1), 1<<15)
}

// maxWriter records the largest write it is given.
type maxWriter struct {
	bytes.Buffer
	max, n int
}

func (w *maxWriter) Write(p []byte) (int, error) {
	w.max = max(w.max, len(p))
	w.n++
	return w.Buffer.Write(p)
}

// TestWindowWriteInPieces checks that one large Write reaches dst in
// pieces of a block or so, not as one output held whole.
func TestWindowWriteInPieces(t *testing.T) {
	e := NewEncoder(6, 15)
	defer e.Free()
	msg := deflatetest.RandomData(8<<20, 9)
	var w maxWriter
	e.Reset(&w)
	if _, err := e.Write(msg); err != nil {
		t.Fatal(err)
	}
	if err := e.Finish(); err != nil {
		t.Fatal(err)
	}
	if w.max > 128<<10 || w.n < 64 {
		t.Errorf("%d writes, the largest %d bytes", w.n, w.max)
	}
	r := stdflate.NewReader(io.MultiReader(&w.Buffer, bytes.NewReader(syncTail), bytes.NewReader(finalBlock)))
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("round trip: %v", err)
	}
}

// TestWindowHeld checks what the window compressor keeps between
// messages, as its documentation says.
func TestWindowHeld(t *testing.T) {
	for _, tc := range []struct{ bits, want int }{{15, 144 << 10}, {10, 9 << 10}} {
		e := NewEncoder(6, tc.bits)
		if e.Held() != 0 {
			t.Errorf("bits %d: %d bytes held before the first message", tc.bits, e.Held())
		}
		compress(t, e, deflatetest.JSONMessage(1), 0)
		if got := e.Held(); got != tc.want {
			t.Errorf("bits %d: %d bytes held, want %d", tc.bits, got, tc.want)
		}
		e.Free()
		if e.Held() != 0 {
			t.Errorf("bits %d: %d bytes held after Free", tc.bits, e.Held())
		}
	}
}

// TestNewEncoderPanics checks that NewEncoder refuses levels and windows
// it has no parameters for.
func TestNewEncoderPanics(t *testing.T) {
	for _, tc := range []struct{ level, bits int }{{1, 15}, {10, 15}, {6, 7}, {6, 16}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewEncoder(%d, %d) does not panic", tc.level, tc.bits)
				}
			}()
			NewEncoder(tc.level, tc.bits)
		}()
	}
}

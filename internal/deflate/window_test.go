package deflate

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/seed-d6ba7b20/ws/internal/deflate/deflatetest"
)

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
		{"stored", randomData(200_000, 1), 0},
		{"dynamic", textData(5000, 1), 2},
	} {
		c := mustCompressor(t, Side{}, CompressorOptions{Level: 6, Window: true})
		d := mustDecompressor(t, Side{})
		p, err := c.Compress(nil, tc.msg)
		if err != nil {
			t.Fatal(err)
		}
		if got := int(p[0]>>1) & 3; got != tc.btype {
			t.Errorf("%s: first block has type %d, want %d", tc.name, got, tc.btype)
		}
		if tc.btype == 0 && len(p) > len(tc.msg)+5*(len(tc.msg)/wMaxTokens+2) {
			t.Errorf("stored: %d bytes for %d", len(p), len(tc.msg))
		}
		got, err := d.Decompress(nil, p, -1)
		if err != nil || !bytes.Equal(got, tc.msg) {
			t.Fatalf("%s: %v", tc.name, err)
		}
		ref, _, err := deflatetest.Inflate(nil, append(p, syncTail[:]...))
		if err != nil || !bytes.Equal(ref, tc.msg) {
			t.Fatalf("%s: reference inflater: %v", tc.name, err)
		}
		c.Close()
		d.Close()
	}
}

// TestWindowSmaller compresses a stream of different JSON messages with
// context takeover and checks the window compressor at level 6 sends no
// more than flate's level 8 with its whole writer kept, and less than the
// level 1 default: it is what the window compressor is for.
func TestWindowSmaller(t *testing.T) {
	total := func(opts CompressorOptions) int {
		c := mustCompressor(t, Side{}, opts)
		defer c.Close()
		n := 0
		var buf []byte
		for i := range 400 {
			var err error
			buf, err = c.Compress(buf[:0], jsonMessage(1000+i))
			if err != nil {
				t.Fatal(err)
			}
			n += len(buf)
		}
		return n
	}
	w6 := total(CompressorOptions{Level: 6, Window: true})
	f8 := total(CompressorOptions{Level: 8})
	d1 := total(CompressorOptions{Level: 1, DictSize: 4096})
	t.Logf("bytes for 400 messages: window level 6 %d, flate level 8 kept %d, level 1 with a 4 KiB dictionary %d", w6, f8, d1)
	if w6 > f8*101/100 || w6 >= d1 {
		t.Errorf("window level 6 sends %d bytes; flate level 8 %d, level 1 dictionary %d", w6, f8, d1)
	}
}

// TestWindowCompressNil checks that payloads Compress returns for a nil
// dst are the caller's: a later message must not overwrite them.
func TestWindowCompressNil(t *testing.T) {
	c := mustCompressor(t, Side{}, CompressorOptions{Level: 6, Window: true})
	defer c.Close()
	d := mustDecompressor(t, Side{})
	defer d.Close()
	var ps [][]byte
	for i := range 5 {
		p, err := c.Compress(nil, jsonMessage(i))
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	for i, p := range ps {
		got, err := d.Decompress(nil, p, -1)
		if err != nil || !bytes.Equal(got, jsonMessage(i)) {
			t.Fatalf("message %d: %v", i, err)
		}
	}
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
	c := mustCompressor(t, Side{}, CompressorOptions{Level: 6, Window: true})
	defer c.Close()
	msg := randomData(8<<20, 9)
	var w maxWriter
	c.Reset(&w)
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	if err := c.Finish(); err != nil {
		t.Fatal(err)
	}
	if w.max > 128<<10 || w.n < 64 {
		t.Errorf("%d writes, the largest %d bytes", w.n, w.max)
	}
	d := mustDecompressor(t, Side{})
	defer d.Close()
	got, err := d.Decompress(nil, w.Bytes(), -1)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("round trip: %v", err)
	}
}

// TestWindowHeld checks what the window compressor keeps between
// messages, as its documentation says.
func TestWindowHeld(t *testing.T) {
	for _, tc := range []struct{ bits, want int }{{15, 144 << 10}, {10, 9 << 10}} {
		c := mustCompressor(t, Side{WindowBits: tc.bits}, CompressorOptions{Level: 6, Window: true})
		if c.we.held() != 0 {
			t.Errorf("bits %d: %d bytes held before the first message", tc.bits, c.we.held())
		}
		if _, err := c.Compress(nil, jsonMessage(1)); err != nil {
			t.Fatal(err)
		}
		if got := c.we.held(); got != tc.want {
			t.Errorf("bits %d: %d bytes held, want %d", tc.bits, got, tc.want)
		}
		c.Close()
		if c.we.held() != 0 {
			t.Errorf("bits %d: %d bytes held after Close", tc.bits, c.we.held())
		}
	}
}

// BenchmarkWindowJSON compresses 1 KiB JSON-like messages, a different one
// each time, with context takeover: the window compressor at levels 5 to
// 7 beside flate's level 1 with a 4 KiB dictionary (ws's default) and
// flate's level 8 with its writer kept. It reports the bytes sent. The
// cold cases use 256 compressors in turn, as a server with 256 busy
// connections does, so that each one's state has left the caches by its
// next message.
func BenchmarkWindowJSON(b *testing.B) {
	// Enough messages that a cold compressor, seeing every 256th, never
	// sees one again within its window.
	msgs := make([][]byte, 1<<14)
	for i := range msgs {
		msgs[i] = jsonMessage(i)
	}
	for _, tc := range []struct {
		name string
		opts CompressorOptions
		cold bool
	}{
		{"flate1-dict4k", CompressorOptions{Level: 1, DictSize: 4096}, false},
		{"flate8-kept", CompressorOptions{Level: 8}, false},
		{"window5", CompressorOptions{Level: 5, Window: true}, false},
		{"window6", CompressorOptions{Level: 6, Window: true}, false},
		{"window7", CompressorOptions{Level: 7, Window: true}, false},
		{"cold/flate1-dict4k", CompressorOptions{Level: 1, DictSize: 4096}, true},
		{"cold/window6", CompressorOptions{Level: 6, Window: true}, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			n := 1
			if tc.cold {
				n = 256
			}
			cs := make([]*Compressor, n)
			buf := make([]byte, 0, 4096)
			for i := range cs {
				cs[i] = mustCompressor(b, Side{}, tc.opts)
				defer cs[i].Close()
				for k := range 40 { // fill the window with other messages
					buf, _ = cs[i].Compress(buf[:0], jsonMessage(-1-i*40-k))
				}
			}
			var in, out int
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				m := msgs[i%len(msgs)]
				buf, _ = cs[i%n].Compress(buf[:0], m)
				in += len(m)
				out += len(buf)
			}
			b.SetBytes(int64(in / max(b.N, 1)))
			b.ReportMetric(float64(out)/float64(b.N), "B/msg")
		})
	}
}

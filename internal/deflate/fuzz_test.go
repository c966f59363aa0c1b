package deflate

import (
	"bytes"
	stdflate "compress/flate"
	"errors"
	"io"
	"testing"

	"github.com/seed-d6ba7b20/ws/internal/deflate/deflatetest"
)

// fuzzLimit bounds the output of a fuzzed message.
const fuzzLimit = 1 << 20

// stdInflate inflates a payload the RFC 7692 way with the standard
// library, as the reference.
func stdInflate(payload, dict []byte) ([]byte, error) {
	if len(payload) == 0 {
		return nil, nil
	}
	in := io.MultiReader(bytes.NewReader(payload), bytes.NewReader(suffix[:]))
	return io.ReadAll(io.LimitReader(stdflate.NewReaderDict(in, dict), 2*fuzzLimit))
}

// FuzzInflate inflates arbitrary payloads, split into two messages and
// delivered in odd frames, with and without context takeover. It must
// never panic or hang; whatever it accepts, compress/flate must read the
// same; a failure under takeover must fail the next message too.
func FuzzInflate(f *testing.F) {
	for _, s := range []string{
		"f2 48 cd c9 c9 07 00 f2 00 11 00 00",
		"00 05 00 fa ff 48 65 6c 6c 6f 00",
		"f3 48 cd c9 c9 07 00 00",
		"f2 48 05 00 00 00 ff ff ca c9 c9 07 00",
		"00",
		"",
	} {
		b := hexBytes(s)
		f.Add(b, uint16(len(b)/2))
	}
	var bb bytes.Buffer
	io.Copy(&bb, bomb(300))
	f.Add(bb.Bytes(), uint16(7))
	c, _ := NewCompressor(Side{}, CompressorOptions{Engine: EngineWriter})
	p1, _ := c.Compress(nil, jsonMessage(1))
	p2, _ := c.Compress(nil, jsonMessage(1))
	f.Add(append(p1, p2...), uint16(len(p1)))

	f.Fuzz(runInflateFuzz)
}

// runInflateFuzz is the body of FuzzInflate.
func runInflateFuzz(t *testing.T, data []byte, split uint16) {
	cut := int(split) % (len(data) + 1)
	msgs := [][]byte{data[:cut], data[cut:]}
	frames := []int{1 + int(split)%7, 1 + int(split>>3)%2000}
	for _, noCtx := range []bool{false, true} {
		d, _ := NewDecompressor(Side{NoContextTakeover: noCtx})
		var prev []byte
		failed := false
		for i, m := range msgs {
			d.Reset(&chunkReader{data: m, sizes: frames})
			out, err := io.ReadAll(io.LimitReader(d, fuzzLimit+1))
			if len(out) > fuzzLimit {
				d.Abort()
				failed = true
				continue
			}
			if failed && !noCtx {
				if !errors.Is(err, ErrHistoryLost) {
					t.Fatalf("message %d after a failure under takeover: %v", i, err)
				}
				continue
			}
			if err != nil {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("message %d: error %v does not wrap ErrCorrupt", i, err)
				}
				failed = true
				continue
			}
			var dict []byte
			if !noCtx {
				dict = prev
			}
			want, werr := stdInflate(m, dict)
			if werr != nil || !bytes.Equal(out, want) {
				t.Fatalf("message %d (nocontext=%v): inflated %d bytes, compress/flate %d bytes, %v",
					i, noCtx, len(out), len(want), werr)
			}
			prev = append(prev, out...)
		}
		d.Close()
	}
}

// Bounds of FuzzRoundTrip's data. When an input finds new code, the
// fuzzing engine minimises it: it runs it again with bytes taken out, a
// run a byte while the new code survives that, and up to n*n/2 runs for n
// bytes when it does not. It gives up after a minute by restarting the
// worker, which fuzzes nothing meanwhile. Under coverage instrumentation a
// run takes about 0.4 ms of CPU on average for 256 bytes and 2 ms for a
// message stretched to 20 KB, so data is capped at fuzzMaxData bytes
// (33,000 runs at most), and only data of up to fuzzMaxStretch bytes is
// stretched (2,000 runs).
const (
	fuzzMaxData    = 256
	fuzzMaxStretch = 64
)

// stretch returns data repeated up to n bytes, or data itself when it is
// empty or as long. Copy i is XORed with byte(151*(i%cycle)), so that each
// copy comes back only cycle copies later (cycle at most 256): long
// messages with repeats cycle*len(data) bytes apart and none nearer, which
// a window may or may not reach.
func stretch(data []byte, n, cycle int) []byte {
	if len(data) == 0 || len(data) >= n {
		return data
	}
	m := make([]byte, n)
	first := min(n, cycle*len(data))
	for i, off := 0, 0; off < first; i, off = i+1, off+len(data) {
		c := m[off:min(off+len(data), first)]
		copy(c, data)
		if x := byte(151 * i); x != 0 {
			for j := range c {
				c[j] ^= x
			}
		}
	}
	// The rest repeats the first cycle, copied in doubling runs.
	for off := first; off < n; off *= 2 {
		copy(m[off:], m[:off])
	}
	return m
}

// FuzzRoundTrip compresses arbitrary messages with an arbitrary level,
// window and mode (flate's writers or the window compressor, whole or
// streamed in pieces), and checks they come back, within the window. The
// message is data, or, for data of up to fuzzMaxStretch bytes, data
// stretched to 80*grow bytes with copies that repeat every
// 1<<(bits>>3%9) copies: messages long enough to slide the window buffers and
// fill several blocks, with repeats at chosen distances, from short
// inputs.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("Hello, Hello, Hello"), int8(1), uint8(15), uint8(0), uint16(5), uint8(0))
	f.Add(jsonMessage(1)[:fuzzMaxData], int8(-2), uint8(12), uint8(2), uint16(0), uint8(0))
	// Dictionary mode, 8 bits, repeats 480 bytes apart.
	f.Add(textData(60, 1), int8(9), uint8(3<<3), uint8(1), uint16(1000), uint8(64))
	// No context takeover, 8 bits, repeats 64 bytes apart.
	f.Add(textData(64, 2), int8(8), uint8(0), uint8(8), uint16(3000), uint8(115))
	// The window compressor, 8 bits: repeats 320 bytes apart; the buffer
	// slides.
	f.Add(randomData(40, 2), int8(8), uint8(3<<3), uint8(72), uint16(3000), uint8(65))
	// Streamed to the window compressor, 11 bits: repeats 3072 bytes
	// apart.
	f.Add(textData(48, 5), int8(6), uint8(6<<3|3), uint8(24), uint16(100), uint8(115))
	// Streamed to the window compressor, 15 bits, a first message of
	// 17,000 bytes: 16 KiB of literals fill a block, then matches.
	f.Add(randomData(64, 3), int8(8), uint8(8<<3|7), uint8(24), uint16(17000), uint8(225))
	f.Fuzz(func(t *testing.T, data []byte, level int8, bits uint8, mode uint8, split uint16, grow uint8) {
		if len(data) > fuzzMaxData {
			return
		}
		msg := data
		if len(data) <= fuzzMaxStretch {
			msg = stretch(data, 80*int(grow), 1<<(bits>>3%9))
		}
		side := Side{WindowBits: MinWindowBits + int(bits)%8, NoContextTakeover: mode%3 == 2}
		opts := CompressorOptions{Level: int(uint8(level))%12 - 2}
		if opts.Level == -1 && mode&4 != 0 {
			opts.StoredOnly = true
		}
		switch {
		case mode%3 == 1:
			opts.Engine = EngineDict
			opts.DictSize = 1 + int(split)
		case mode&8 != 0:
			opts.Engine = EngineWindow // levels below 2 take its fastest
		default:
			opts.Engine = EngineWriter
		}
		c, err := NewCompressor(side, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		d, _ := NewDecompressor(side)
		defer d.Close()
		cut := int(split) % (len(msg) + 1)
		var stream []byte
		for i, m := range [][]byte{msg[:cut], msg[cut:], msg} {
			var p []byte
			if mode&16 != 0 {
				// Stream the message in pieces.
				var b bytes.Buffer
				c.Reset(&b)
				for q, k := m, 1+int(split)%3000; len(q) > 0; q = q[min(k, len(q)):] {
					if _, err := c.Write(q[:min(k, len(q))]); err != nil {
						t.Fatal(err)
					}
				}
				if err := c.Finish(); err != nil {
					t.Fatal(err)
				}
				p = b.Bytes()
			} else if p, err = c.Compress(nil, m); err != nil {
				t.Fatal(err)
			}
			got, err := inflate(d, p, []int{1 + i + int(split)%100}, 1+int(split)%5000)
			if err != nil || !bytes.Equal(got, m) {
				t.Fatalf("message %d: %v", i, err)
			}
			stream = append(append(stream, p...), syncTail[:]...)
			if side.NoContextTakeover {
				stream = stream[:0]
			}
		}
		if !side.NoContextTakeover {
			_, dist, err := deflatetest.Inflate(nil, stream)
			if err != nil || dist > 1<<side.WindowBits {
				t.Fatalf("distance %d over window %d, %v", dist, 1<<side.WindowBits, err)
			}
		}
	})
}

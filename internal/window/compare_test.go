package window_test

import (
	"bytes"
	"testing"

	"github.com/seed-d6ba7b20/ws/internal/deflate"
	"github.com/seed-d6ba7b20/ws/internal/deflate/deflatetest"
)

// These tests and benchmarks measure the window compressor as
// internal/deflate's Compressor runs it (EngineWindow), beside the
// Compressor's other engines.

var jsonMessage = deflatetest.JSONMessage

// newCompressor returns a Compressor that the end of the test closes.
func newCompressor(tb testing.TB, side deflate.Side, opts deflate.CompressorOptions) *deflate.Compressor {
	c, err := deflate.NewCompressor(side, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.Close)
	return c
}

// TestWindowSmaller compresses a stream of different JSON messages with
// context takeover and checks the window compressor at level 6 sends no
// more than flate's level 8 with its whole writer kept, and less than the
// level 1 default: it is what the window compressor is for.
func TestWindowSmaller(t *testing.T) {
	total := func(opts deflate.CompressorOptions) int {
		c := newCompressor(t, deflate.Side{}, opts)
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
	w6 := total(deflate.CompressorOptions{Level: 6, Engine: deflate.EngineWindow})
	f8 := total(deflate.CompressorOptions{Level: 8, Engine: deflate.EngineWriter})
	d1 := total(deflate.CompressorOptions{Level: 1, Engine: deflate.EngineDict, DictSize: 4096})
	t.Logf("bytes for 400 messages: window level 6 %d, flate level 8 kept %d, level 1 with a 4 KiB dictionary %d", w6, f8, d1)
	if w6 > f8*101/100 || w6 >= d1 {
		t.Errorf("window level 6 sends %d bytes; flate level 8 %d, level 1 dictionary %d", w6, f8, d1)
	}
}

// TestWindowCompressNil checks that payloads Compress returns for a nil
// dst are the caller's: a later message must not overwrite them.
func TestWindowCompressNil(t *testing.T) {
	c := newCompressor(t, deflate.Side{}, deflate.CompressorOptions{Level: 6, Engine: deflate.EngineWindow})
	d, err := deflate.NewDecompressor(deflate.Side{})
	if err != nil {
		t.Fatal(err)
	}
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
	dict4k := deflate.CompressorOptions{Level: 1, Engine: deflate.EngineDict, DictSize: 4096}
	window6 := deflate.CompressorOptions{Level: 6, Engine: deflate.EngineWindow}
	for _, tc := range []struct {
		name string
		opts deflate.CompressorOptions
		cold bool
	}{
		{"flate1-dict4k", dict4k, false},
		{"flate8-kept", deflate.CompressorOptions{Level: 8, Engine: deflate.EngineWriter}, false},
		{"window5", deflate.CompressorOptions{Level: 5, Engine: deflate.EngineWindow}, false},
		{"window6", window6, false},
		{"window7", deflate.CompressorOptions{Level: 7, Engine: deflate.EngineWindow}, false},
		{"cold/flate1-dict4k", dict4k, true},
		{"cold/window6", window6, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			n := 1
			if tc.cold {
				n = 256
			}
			cs := make([]*deflate.Compressor, n)
			buf := make([]byte, 0, 4096)
			for i := range cs {
				cs[i] = newCompressor(b, deflate.Side{}, tc.opts)
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

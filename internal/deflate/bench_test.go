package deflate

import (
	"bytes"
	"io"
	"testing"

	"github.com/klauspost/compress/flate"
)

// benchSet is a sequence of distinct messages of one kind. Under context
// takeover a message never repeats within the window: 64 JSON messages of
// 1 KiB, or 4 texts of 64 KiB, are further apart than 32 KiB.
type benchSet struct {
	name string
	msgs [][]byte
	size int // mean message size
}

func benchSets() []benchSet {
	json := benchSet{name: "json1k"}
	for i := range 64 {
		json.msgs = append(json.msgs, jsonMessage(i))
	}
	text := benchSet{name: "text64k"}
	for i := range 4 {
		text.msgs = append(text.msgs, textData(64<<10, uint64(i)))
	}
	for _, s := range []*benchSet{&json, &text} {
		n := 0
		for _, m := range s.msgs {
			n += len(m)
		}
		s.size = n / len(s.msgs)
	}
	return []benchSet{json, text}
}

type benchMode struct {
	name string
	side Side
	opts CompressorOptions
}

var benchModes = []benchMode{
	{"takeover", Side{}, CompressorOptions{Engine: EngineWriter}},
	{"takeover-dict4k", Side{}, CompressorOptions{Engine: EngineDict, DictSize: 4 << 10}},
	{"nocontext", Side{NoContextTakeover: true}, CompressorOptions{}},
}

// BenchmarkCompress measures Compressor.Compress and, as the ceiling,
// klauspost's flate writer used directly at the same level 1, kept
// (takeover) or Reset per message (no context), and its stateless mode.
// wire-B/msg is the payload per message, tail stripped.
func BenchmarkCompress(b *testing.B) {
	for _, set := range benchSets() {
		for _, mode := range benchModes {
			b.Run(set.name+"/"+mode.name, func(b *testing.B) {
				c := mustCompressor(b, mode.side, mode.opts)
				defer c.Close()
				buf := make([]byte, 0, 2*set.size+1024)
				var wire int64
				b.SetBytes(int64(set.size))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					var err error
					buf, err = c.Compress(buf[:0], set.msgs[i%len(set.msgs)])
					if err != nil {
						b.Fatal(err)
					}
					wire += int64(len(buf))
				}
				b.ReportMetric(float64(wire)/float64(b.N), "wire-B/msg")
			})
		}
		for _, direct := range []string{"flate-takeover", "flate-nocontext", "flate-stateless"} {
			b.Run(set.name+"/"+direct, func(b *testing.B) {
				var buf bytes.Buffer
				buf.Grow(2*set.size + 1024)
				fw, _ := flate.NewWriter(&buf, BestSpeed)
				var wire int64
				b.SetBytes(int64(set.size))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					buf.Reset()
					m := set.msgs[i%len(set.msgs)]
					switch direct {
					case "flate-nocontext":
						fw.Reset(&buf)
						fallthrough
					case "flate-takeover":
						fw.Write(m)
						fw.Flush()
					case "flate-stateless":
						flate.StatelessDeflate(&buf, m, false, nil)
					}
					wire += int64(buf.Len() - 4)
				}
				b.ReportMetric(float64(wire)/float64(b.N), "wire-B/msg")
			})
		}
	}
}

// BenchmarkInflate measures Decompressor.Decompress on payloads made by
// the matching Compressor and, as the ceiling, klauspost's flate reader
// used directly on a payload with its tail, Reset per message with no
// dictionary.
func BenchmarkInflate(b *testing.B) {
	for _, set := range benchSets() {
		for _, mode := range benchModes {
			if !mode.side.NoContextTakeover && mode.opts.Engine == EngineDict {
				continue // inflates like takeover
			}
			b.Run(set.name+"/"+mode.name, func(b *testing.B) {
				c := mustCompressor(b, mode.side, mode.opts)
				defer c.Close()
				var payloads [][]byte
				wire := 0
				for _, m := range set.msgs {
					p, err := c.Compress(nil, m)
					if err != nil {
						b.Fatal(err)
					}
					payloads = append(payloads, p)
					wire += len(p)
				}
				d := mustDecompressor(b, mode.side)
				defer d.Close()
				out := make([]byte, 0, 2*set.size)
				b.SetBytes(int64(set.size))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					var err error
					out, err = d.Decompress(out[:0], payloads[i%len(payloads)], -1)
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(wire)/float64(len(payloads)), "wire-B/msg")
			})
		}
		b.Run(set.name+"/flate-direct", func(b *testing.B) {
			var payloads [][]byte
			for _, m := range set.msgs {
				var buf bytes.Buffer
				fw, _ := flate.NewWriter(&buf, BestSpeed)
				fw.Write(m)
				fw.Close() // ends in a final block, so the reader reports io.EOF
				payloads = append(payloads, buf.Bytes())
			}
			var br bytes.Reader
			fr := flate.NewReader(&br)
			out := make([]byte, 2*set.size)
			b.SetBytes(int64(set.size))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				br.Reset(payloads[i%len(payloads)])
				fr.(flate.Resetter).Reset(&br, nil)
				if _, err := io.ReadFull(fr, out[:len(set.msgs[i%len(set.msgs)])]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStreaming measures the streaming API as a message writer and
// reader would drive it: 64 KiB text written in 4 KiB pieces, and read in
// 4 KiB pieces from payload split into 4 KiB frames.
func BenchmarkStreaming(b *testing.B) {
	set := benchSets()[1]
	b.Run("compress", func(b *testing.B) {
		c := mustCompressor(b, Side{}, CompressorOptions{Engine: EngineWriter})
		defer c.Close()
		var aw appendWriter
		aw.b = make([]byte, 0, 2*set.size)
		b.SetBytes(int64(set.size))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			aw.b = aw.b[:0]
			c.Reset(&aw)
			m := set.msgs[i%len(set.msgs)]
			for len(m) > 0 {
				k := min(len(m), 4096)
				c.Write(m[:k])
				m = m[k:]
			}
			if err := c.Finish(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("inflate", func(b *testing.B) {
		c := mustCompressor(b, Side{}, CompressorOptions{Engine: EngineWriter})
		defer c.Close()
		var payloads [][]byte
		for _, m := range set.msgs {
			p, _ := c.Compress(nil, m)
			payloads = append(payloads, p)
		}
		d := mustDecompressor(b, Side{})
		defer d.Close()
		var src chunkReader
		sizes := []int{4096}
		buf := make([]byte, 4096)
		b.SetBytes(int64(set.size))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			src = chunkReader{data: payloads[i%len(payloads)], sizes: sizes}
			d.Reset(&src)
			for {
				_, err := d.Read(buf)
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

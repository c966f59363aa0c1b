package deflate

import (
	"bytes"
	stdflate "compress/flate"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws/internal/deflate/deflatetest"
)

func mustCompressor(t testing.TB, side Side, opts CompressorOptions) *Compressor {
	t.Helper()
	c, err := NewCompressor(side, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustDecompressor(t testing.TB, side Side) *Decompressor {
	t.Helper()
	d, err := NewDecompressor(side)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// inflate reads one message through d, in reads of at most step bytes
// (0: one big buffer), from payload delivered in frames of the given sizes.
func inflate(d *Decompressor, payload []byte, frames []int, step int) ([]byte, error) {
	d.Reset(&chunkReader{data: payload, sizes: frames})
	if step == 0 {
		return io.ReadAll(d)
	}
	var out []byte
	buf := make([]byte, step)
	for {
		n, err := d.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

func hexBytes(s string) []byte {
	var b []byte
	for _, f := range bytes.Fields([]byte(s)) {
		var v byte
		fmt.Sscanf(string(f), "%x", &v)
		b = append(b, v)
	}
	return b
}

// TestRFC7692Examples decodes the payloads of RFC 7692 section 7.2.3.
func TestRFC7692Examples(t *testing.T) {
	tests := []struct {
		name     string
		side     Side
		payloads []string // one per message; "|" splits a message into frames
		want     []string
	}{
		{"7.2.3.1 one block", Side{}, []string{"f2 48 cd c9 c9 07 00"}, []string{"Hello"}},
		{"7.2.3.1 fragmented", Side{}, []string{"f2 48 | cd c9 c9 | 07 00"}, []string{"Hello"}},
		{"7.2.3.2 shared window", Side{}, []string{"f2 48 cd c9 c9 07 00", "f2 00 11 00 00"}, []string{"Hello", "Hello"}},
		{"7.2.3.2 no context takeover", Side{NoContextTakeover: true},
			[]string{"f2 48 cd c9 c9 07 00", "f2 48 cd c9 c9 07 00"}, []string{"Hello", "Hello"}},
		{"7.2.3.3 no compression", Side{}, []string{"00 05 00 fa ff 48 65 6c 6c 6f 00"}, []string{"Hello"}},
		{"7.2.3.4 BFINAL set", Side{}, []string{"f3 48 cd c9 c9 07 00 00"}, []string{"Hello"}},
		{"7.2.3.4 BFINAL then more messages", Side{},
			[]string{"f3 48 cd c9 c9 07 00 00", "f2 00 11 00 00"}, []string{"Hello", "Hello"}},
		{"BFINAL without the padding byte", Side{}, []string{"f3 48 cd c9 c9 07 00"}, []string{"Hello"}},
		{"7.2.3.5 two blocks", Side{}, []string{"f2 48 05 00 00 00 ff ff ca c9 c9 07 00"}, []string{"Hello"}},
		{"7.2.3.6 empty message", Side{}, []string{"00"}, []string{""}},
		{"empty payload", Side{}, []string{""}, []string{""}},
		{"8 bit window", Side{WindowBits: 8}, []string{"f2 48 cd c9 c9 07 00", "f2 00 11 00 00"}, []string{"Hello", "Hello"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustDecompressor(t, tt.side)
			defer d.Close()
			for i, p := range tt.payloads {
				var payload []byte
				var frames []int
				for _, part := range bytes.Split([]byte(p), []byte("|")) {
					b := hexBytes(string(part))
					payload = append(payload, b...)
					frames = append(frames, len(b))
				}
				got, err := inflate(d, payload, frames, 0)
				if err != nil || string(got) != tt.want[i] {
					t.Fatalf("message %d: got %q, %v; want %q", i, got, err, tt.want[i])
				}
			}
		})
	}
}

// TestCompressHello checks the compressor's output for "Hello" against
// the forms RFC 7692 section 7.2.3 shows. klauspost stores a block this
// small, which is exactly the example of section 7.2.3.3.
func TestCompressHello(t *testing.T) {
	c := mustCompressor(t, Side{}, CompressorOptions{Engine: EngineWriter})
	defer c.Close()
	got, err := c.Compress(nil, []byte("Hello"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, hexBytes("00 05 00 fa ff 48 65 6c 6c 6f 00")) &&
		!bytes.Equal(got, hexBytes("f2 48 cd c9 c9 07 00")) {
		t.Errorf("Hello compressed to % x", got)
	}
	empty, err := c.Compress(nil, nil)
	if err != nil || !bytes.Equal(empty, []byte{0}) {
		t.Errorf("empty message compressed to % x, %v; want 00", empty, err)
	}
}

// sizes of the round trip tests.
var sizes = []int{0, 1, 2, 3, 4, 5, 12, 13, 100, 1000, 4095, 4096, 32767, 32768, 32769, 65535, 65536, 65537, 100_000, 1 << 20}

func TestRoundTripSizes(t *testing.T) {
	type cfg struct {
		name string
		opts CompressorOptions
	}
	cfgs := []cfg{
		{"stored", CompressorOptions{StoredOnly: true}},
		{"huffman", CompressorOptions{Level: HuffmanOnly}},
		{"level1", CompressorOptions{Level: 1, Engine: EngineWriter}},
		{"level5", CompressorOptions{Level: 5, Engine: EngineWriter}},
		{"level9", CompressorOptions{Level: 9, Engine: EngineWriter}},
		{"dict8k", CompressorOptions{Level: 1, Engine: EngineDict, DictSize: 8 << 10}},
		{"window2", CompressorOptions{Level: 2, Engine: EngineWindow}},
		{"window6", CompressorOptions{Level: 6, Engine: EngineWindow}},
		{"window9", CompressorOptions{Level: 9, Engine: EngineWindow}},
	}
	for _, cf := range cfgs {
		for _, noCtx := range []bool{false, true} {
			side := Side{NoContextTakeover: noCtx}
			t.Run(fmt.Sprintf("%s/nocontext=%v", cf.name, noCtx), func(t *testing.T) {
				c := mustCompressor(t, side, cf.opts)
				defer c.Close()
				d := mustDecompressor(t, side)
				defer d.Close()
				var stream []byte // every payload with its tail, for deflatetest.Inflate
				var plain []byte
				for i, n := range sizes {
					for kind, msg := range [][]byte{textData(n, uint64(i)), randomData(n, uint64(i))} {
						if n == 1<<20 && (cf.name == "level9" || cf.name == "window9") && testing.Short() {
							continue
						}
						payload, err := c.Compress(nil, msg)
						if err != nil {
							t.Fatal(err)
						}
						got, err := d.Decompress(nil, payload, -1)
						if err != nil || !bytes.Equal(got, msg) {
							t.Fatalf("size %d kind %d: round trip failed: %v (got %d bytes)", n, kind, err, len(got))
						}
						stream = append(append(stream, payload...), syncTail[:]...)
						plain = append(plain, msg...)
					}
				}
				ref, _, err := deflatetest.Inflate(nil, stream)
				if err != nil || !bytes.Equal(ref, plain) {
					t.Fatalf("reference inflater disagrees: %v", err)
				}
			})
		}
	}
}

// TestWindowBits compresses with every window of 8..15 bits, in every mode
// (the window compressor at three levels), through texts long enough to
// slide its buffer many times, and checks that no match reaches further back than the window, also
// across messages, and that a decompressor with that window inflates it.
func TestWindowBits(t *testing.T) {
	msgs := [][]byte{
		textData(3000, 1), jsonMessage(1), jsonMessage(2), textData(70_000, 2),
		randomData(500, 3), jsonMessage(3), textData(10, 4), nil, jsonMessage(1), textData(3000, 1),
		textData(150_000, 5), jsonMessage(2), randomData(70_000, 6), jsonMessage(3),
	}
	for bits := MinWindowBits; bits <= MaxWindowBits; bits++ {
		for _, mode := range []string{"stateful", "dict", "nocontext", "window2", "window6", "window9"} {
			t.Run(fmt.Sprintf("%d/%s", bits, mode), func(t *testing.T) {
				side := Side{WindowBits: bits, NoContextTakeover: mode == "nocontext"}
				opts := CompressorOptions{Level: 1, Engine: EngineWriter}
				switch mode {
				case "dict":
					opts.Engine = EngineDict
					opts.DictSize = 1 << 15 // capped at the window
				case "window2", "window6", "window9":
					opts = CompressorOptions{Level: int(mode[6] - '0'), Engine: EngineWindow}
				}
				c := mustCompressor(t, side, opts)
				defer c.Close()
				d := mustDecompressor(t, side)
				defer d.Close()
				var stream, plain []byte
				for i, m := range msgs {
					// Stream the message in odd pieces.
					var payload bytes.Buffer
					c.Reset(&payload)
					for p := m; len(p) > 0; {
						k := min(len(p), 1+i*337%4096)
						if _, err := c.Write(p[:k]); err != nil {
							t.Fatal(err)
						}
						p = p[k:]
					}
					if err := c.Finish(); err != nil {
						t.Fatal(err)
					}
					got, err := inflate(d, payload.Bytes(), []int{1, 7, 125, 4096}, 1000)
					if err != nil || !bytes.Equal(got, m) {
						t.Fatalf("message %d: %v", i, err)
					}
					if mode == "nocontext" {
						// Every message must stand alone.
						_, dist, err := deflatetest.Inflate(nil, append(payload.Bytes(), syncTail[:]...))
						if err != nil || dist > 1<<bits {
							t.Fatalf("message %d alone: distance %d, %v", i, dist, err)
						}
					}
					stream = append(append(stream, payload.Bytes()...), syncTail[:]...)
					plain = append(plain, m...)
				}
				ref, dist, err := deflatetest.Inflate(nil, stream)
				if err != nil || !bytes.Equal(ref, plain) {
					t.Fatalf("reference inflater: %v", err)
				}
				if dist > 1<<bits {
					t.Fatalf("a match reaches back %d bytes; window is %d", dist, 1<<bits)
				}
				t.Logf("longest distance %d of %d", dist, 1<<bits)
			})
		}
	}
}

// TestContextTakeover sends repeating messages: with takeover the repeats
// shrink to a few bytes; without, each stands alone. A takeover stream read
// without takeover fails, since its matches point into the history.
func TestContextTakeover(t *testing.T) {
	msgs := [][]byte{jsonMessage(7), jsonMessage(7), jsonMessage(8), jsonMessage(7)}
	sizes := map[bool][]int{}
	var takeoverPayloads [][]byte
	for _, noCtx := range []bool{false, true} {
		side := Side{NoContextTakeover: noCtx}
		c := mustCompressor(t, side, CompressorOptions{Engine: EngineWriter})
		d := mustDecompressor(t, side)
		for i, m := range msgs {
			p, err := c.Compress(nil, m)
			if err != nil {
				t.Fatal(err)
			}
			if !noCtx {
				takeoverPayloads = append(takeoverPayloads, p)
			}
			sizes[noCtx] = append(sizes[noCtx], len(p))
			got, err := inflate(d, p, []int{100}, 333)
			if err != nil || !bytes.Equal(got, m) {
				t.Fatalf("nocontext=%v message %d: %v", noCtx, i, err)
			}
		}
		c.Close()
		d.Close()
	}
	t.Logf("payload sizes with takeover %v, without %v", sizes[false], sizes[true])
	if sizes[false][1] > 20 || sizes[false][3] > 20 {
		t.Errorf("repeated messages with takeover take %v bytes", sizes[false])
	}
	if sizes[true][1] != sizes[true][0] {
		t.Errorf("without takeover a repeat should compress alike: %v", sizes[true])
	}

	d := mustDecompressor(t, Side{NoContextTakeover: true})
	defer d.Close()
	if _, err := d.Decompress(nil, takeoverPayloads[0], -1); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Decompress(nil, takeoverPayloads[1], -1); !errors.Is(err, ErrCorrupt) {
		t.Errorf("takeover message without history: %v, want ErrCorrupt", err)
	}
}

// TestDictMode checks the low-memory form of takeover: it keeps only the
// dictionary and still shrinks repeats.
func TestDictMode(t *testing.T) {
	c := mustCompressor(t, Side{}, CompressorOptions{Engine: EngineDict, DictSize: 4096})
	defer c.Close()
	d := mustDecompressor(t, Side{})
	defer d.Close()
	for i := range 50 {
		m := jsonMessage(i % 3)
		p, err := c.Compress(nil, m)
		if err != nil {
			t.Fatal(err)
		}
		if i >= 3 && len(p) > 30 {
			t.Errorf("message %d: repeat took %d bytes", i, len(p))
		}
		got, err := d.Decompress(nil, p, -1)
		if err != nil || !bytes.Equal(got, m) {
			t.Fatalf("message %d: %v", i, err)
		}
		e := c.eng.(*dictEngine)
		if e.fw != nil {
			t.Fatal("dict mode keeps a writer between messages")
		}
		if cap(e.hist.buf) > e.hist.limit() {
			t.Fatalf("dictionary grew to %d", cap(e.hist.buf))
		}
	}
}

// TestPoolIsolation interleaves a dictionary compressor with a no-context
// one of the same level and window, which share a writer pool: a writer
// must never carry one compressor's dictionary into the other's message.
func TestPoolIsolation(t *testing.T) {
	dc := mustCompressor(t, Side{}, CompressorOptions{Engine: EngineDict, DictSize: 1 << 15})
	defer dc.Close()
	nc := mustCompressor(t, Side{NoContextTakeover: true}, CompressorOptions{})
	defer nc.Close()
	for i := range 20 {
		m := jsonMessage(i % 2)
		if _, err := dc.Compress(nil, m); err != nil {
			t.Fatal(err)
		}
		p, err := nc.Compress(nil, m)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := deflatetest.Inflate(nil, append(p, syncTail[:]...))
		if err != nil || !bytes.Equal(got, m) {
			t.Fatalf("message %d does not stand alone: %v", i, err)
		}
	}
}

// TestAbortForgets checks that an aborted message leaves the compressor
// able to go on, with no references to what the peer never saw.
func TestAbortForgets(t *testing.T) {
	for _, opts := range []CompressorOptions{{Engine: EngineWriter}, {Engine: EngineDict, DictSize: 1 << 15}, {Level: 6, Engine: EngineWindow}} {
		c := mustCompressor(t, Side{}, opts)
		d := mustDecompressor(t, Side{})
		m := jsonMessage(1)
		p, _ := c.Compress(nil, m)
		if _, err := d.Decompress(nil, p, -1); err != nil {
			t.Fatal(err)
		}
		c.Reset(io.Discard)
		c.Write(jsonMessage(2))
		c.Abort() // never sent
		p, err := c.Compress(nil, jsonMessage(2))
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.Decompress(nil, p, -1)
		if err != nil || !bytes.Equal(got, jsonMessage(2)) {
			t.Fatalf("after Abort: %v", err)
		}
		c.Close()
		d.Close()
	}
}

// TestTailWriter feeds the tail writer every way of splitting a stream.
func TestTailWriter(t *testing.T) {
	src := []byte("0123456789abcdef")
	for a := 0; a <= len(src); a++ {
		for b := a; b <= len(src); b++ {
			var out bytes.Buffer
			var tw tailWriter
			tw.reset(&out)
			for _, p := range [][]byte{src[:a], src[a:b], src[b:]} {
				if n, err := tw.Write(p); n != len(p) || err != nil {
					t.Fatal(n, err)
				}
			}
			if out.String() != string(src[:len(src)-4]) || string(tw.hold[:tw.n]) != string(src[len(src)-4:]) {
				t.Fatalf("split %d,%d: passed %q, held %q", a, b, out.String(), tw.hold[:tw.n])
			}
		}
	}
}

func TestHistory(t *testing.T) {
	for _, size := range []int{256, 1000, 1 << 15} {
		h := newHistory(size)
		var all []byte
		for i := range 300 {
			p := textData(i*i%(2*size+7), uint64(i))
			h.write(p)
			all = append(all, p...)
			want := all[max(0, len(all)-size):]
			if !bytes.Equal(h.window(), want) {
				t.Fatalf("size %d step %d: window differs", size, i)
			}
			if cap(h.buf) > h.limit() {
				t.Fatalf("size %d: buffer grew to %d", size, cap(h.buf))
			}
		}
	}
}

// TestCorrupt feeds broken payloads: each must fail with ErrCorrupt, and
// under takeover every later message must fail with ErrHistoryLost.
func TestCorrupt(t *testing.T) {
	good, _ := mustCompressor(t, Side{}, CompressorOptions{Engine: EngineWriter}).Compress(nil, textData(50_000, 9))
	tests := []struct{ name, hex string }{
		{"reserved block type", "07"},
		{"reserved block type not final", "06"},
		{"stored length mismatch", "00 05 00 00 00 48 65 6c 6c 6f 00"},
		{"stored block cut short", "00 05 00 fa ff 48 65"},
		{"distance before the start", "f2 00 11 00 00"},
		{"data after final block", "f3 48 cd c9 c9 07 00 00 00"},
		{"nonzero byte after final block", "f3 48 cd c9 c9 07 00 01"},
		{"second block after final block", "f3 48 cd c9 c9 07 00 f2 48 cd c9 c9 07 00"},
		{"bad code lengths", "ec ff ff ff ff ff ff ff ff ff"},
		{"only ones", "ff ff ff ff ff ff ff ff ff ff ff ff"},
		{"truncated", fmt.Sprintf("% x", good[:len(good)/2])},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, noCtx := range []bool{false, true} {
				d := mustDecompressor(t, Side{NoContextTakeover: noCtx})
				_, err := inflate(d, hexBytes(tt.hex), []int{3}, 100)
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("nocontext=%v: got %v, want ErrCorrupt", noCtx, err)
				}
				_, err = d.Decompress(nil, hexBytes("f2 48 cd c9 c9 07 00"), -1)
				if noCtx && err != nil {
					t.Fatalf("after a corrupt message, without takeover: %v", err)
				}
				if !noCtx && !errors.Is(err, ErrHistoryLost) {
					t.Fatalf("after a corrupt message, with takeover: %v, want ErrHistoryLost", err)
				}
				d.Close()
			}
		})
	}
}

// TestRandomGarbage inflates random payloads: errors are fine, panics and
// hangs are not.
func TestRandomGarbage(t *testing.T) {
	d := mustDecompressor(t, Side{NoContextTakeover: true})
	defer d.Close()
	deadline := time.Now().Add(2 * time.Second)
	for i := 0; i < 20000 && time.Now().Before(deadline); i++ {
		p := randomData(1+i%300, uint64(i))
		d.Decompress(nil, p, 1<<20)
	}
}

// TestSourceError passes the payload reader's own error through.
func TestSourceError(t *testing.T) {
	payload, _ := mustCompressor(t, Side{}, CompressorOptions{Engine: EngineWriter}).Compress(nil, textData(100_000, 1))
	boom := errors.New("connection reset")
	for _, cut := range []int{0, 1, 10, len(payload) / 2, len(payload)} {
		d := mustDecompressor(t, Side{})
		d.Reset(&errReader{data: payload[:cut], err: boom})
		_, err := io.Copy(io.Discard, d)
		if err != boom {
			t.Errorf("cut at %d: got %v, want the reader's error", cut, err)
		}
		d.Close()
	}
	// An error while draining the bytes after a final block, too.
	d := mustDecompressor(t, Side{})
	defer d.Close()
	d.Reset(io.MultiReader(bytes.NewReader(hexBytes("f3 48 cd c9 c9 07 00")), &errReader{err: boom}))
	if _, err := io.Copy(io.Discard, d); err != boom {
		t.Errorf("after a final block: got %v, want the reader's error", err)
	}
}

// TestBomb: a payload of DEFLATE's best ratio. 1 KiB inflates to about
// 1 MiB; 1 GiB needs about 1 MiB of payload, which no payload of 1 KiB can
// carry (see bomb). Both stop at the caller's limit having read only the
// payload that made the output.
func TestBomb(t *testing.T) {
	// The generator is right: a small bomb inflates in full, as the
	// standard library reads it too.
	var small bytes.Buffer
	io.Copy(&small, bomb(4000))
	if small.Len() > 1100 {
		t.Fatalf("1 MiB bomb is %d bytes", small.Len())
	}
	want := 1 + 258*4000
	std, err := io.ReadAll(stdflate.NewReader(io.MultiReader(bytes.NewReader(small.Bytes()), bytes.NewReader(suffix[:]))))
	if err != nil || len(std) != want || bytes.Count(std, []byte{0}) != want {
		t.Fatalf("compress/flate reads the bomb as %d bytes, %v", len(std), err)
	}
	d := mustDecompressor(t, Side{})
	defer d.Close()
	got, err := d.Decompress(nil, small.Bytes(), -1)
	if err != nil || len(got) != want {
		t.Fatalf("bomb of %d bytes inflates to %d, %v; want %d", small.Len(), len(got), err, want)
	}
	t.Logf("%d payload bytes inflate to %d (ratio %.0f)", small.Len(), want, float64(want)/float64(small.Len()))

	const limit = 1 << 20
	for _, pairs := range []int64{4000, (1 << 30) / 258} {
		for _, noCtx := range []bool{false, true} {
			d := mustDecompressor(t, Side{NoContextTakeover: noCtx})
			src := &chunkReader{}
			var buf bytes.Buffer
			io.Copy(&buf, io.LimitReader(bomb(pairs), 2<<20))
			src.data = buf.Bytes()
			start := time.Now()
			d.Reset(src)
			n, err := io.Copy(io.Discard, io.LimitReader(d, limit+1))
			if pairs*258 < limit {
				if err != nil || n != int64(want) {
					t.Fatalf("small bomb: %d, %v", n, err)
				}
			} else {
				if err != nil || n != limit+1 {
					t.Fatalf("big bomb: %d bytes, %v", n, err)
				}
				d.Abort()
				if src.n > 64<<10 {
					t.Errorf("read %d payload bytes for %d output bytes", src.n, n)
				}
				if el := time.Since(start); el > time.Second {
					t.Errorf("stopping the bomb took %v", el)
				}
				t.Logf("1 GiB bomb (nocontext=%v): stopped after %d output bytes, %d payload bytes read, %v",
					noCtx, n, src.n, time.Since(start))
				if _, err := d.Decompress(nil, []byte{0}, -1); noCtx == errors.Is(err, ErrHistoryLost) {
					t.Errorf("after Abort: %v", err)
				}
			}
			d.Close()
		}
	}
	// Decompress enforces its limit the same way.
	d2 := mustDecompressor(t, Side{})
	defer d2.Close()
	out, err := d2.Decompress(make([]byte, 0, 100), small.Bytes(), 64<<10)
	if !errors.Is(err, ErrTooLarge) || len(out) != 64<<10 {
		t.Errorf("Decompress over the limit: %d bytes, %v", len(out), err)
	}
	out, err = d2.Decompress(nil, hexBytes("f2 48 cd c9 c9 07 00"), 5)
	if errors.Is(err, ErrTooLarge) || string(out) != "Hello" {
		// d2 lost its history above; that is the expected error here.
		if !errors.Is(err, ErrHistoryLost) {
			t.Errorf("exactly at the limit: %q, %v", out, err)
		}
	}
	d3 := mustDecompressor(t, Side{NoContextTakeover: true})
	defer d3.Close()
	if out, err := d3.Decompress(nil, hexBytes("f2 48 cd c9 c9 07 00"), 5); err != nil || string(out) != "Hello" {
		t.Errorf("exactly at the limit: %q, %v", out, err)
	}
	if _, err := d3.Decompress(nil, hexBytes("f2 48 cd c9 c9 07 00"), 4); !errors.Is(err, ErrTooLarge) {
		t.Errorf("one over the limit: %v", err)
	}
}

// TestEmptyAndTiny covers messages of a few bytes in both directions and
// interleaves them with large ones.
func TestEmptyAndTiny(t *testing.T) {
	c := mustCompressor(t, Side{WindowBits: 9}, CompressorOptions{Engine: EngineWriter})
	defer c.Close()
	d := mustDecompressor(t, Side{WindowBits: 9})
	defer d.Close()
	for i := range 200 {
		m := textData(i%7, uint64(i))
		if i%50 == 0 {
			m = textData(40_000, uint64(i))
		}
		p, err := c.Compress(nil, m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.Decompress(nil, p, -1)
		if err != nil || !bytes.Equal(got, m) {
			t.Fatalf("message %d (%d bytes): %v", i, len(m), err)
		}
	}
}

// TestAllocs checks the steady path allocates nothing per message.
func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	msg := jsonMessage(1)
	for _, tc := range []struct {
		name string
		side Side
		opts CompressorOptions
	}{
		{"takeover", Side{}, CompressorOptions{Engine: EngineWriter}},
		{"takeover-window10", Side{WindowBits: 10}, CompressorOptions{Engine: EngineWriter}},
		{"dict", Side{}, CompressorOptions{Engine: EngineDict, DictSize: 4096}},
		{"nocontext", Side{NoContextTakeover: true}, CompressorOptions{}},
		{"window", Side{}, CompressorOptions{Level: 6, Engine: EngineWindow}},
		{"window-bits9", Side{WindowBits: 9}, CompressorOptions{Level: 9, Engine: EngineWindow}},
	} {
		c := mustCompressor(t, tc.side, tc.opts)
		d := mustDecompressor(t, tc.side)
		buf := make([]byte, 0, 4096)
		out := make([]byte, 0, 4096)
		var err error
		run := func() {
			buf, err = c.Compress(buf[:0], msg)
			if err != nil {
				t.Fatal(err)
			}
			out, err = d.Decompress(out[:0], buf, -1)
			if err != nil || !bytes.Equal(out, msg) {
				t.Fatal(err)
			}
		}
		for range 50 {
			run()
		}
		if a := testing.AllocsPerRun(200, run); a > 0.1 {
			t.Errorf("%s: %.2f allocations per message", tc.name, a)
		}
		c.Close()
		d.Close()
	}
}

// TestNewErrors checks argument validation.
func TestNewErrors(t *testing.T) {
	for _, bits := range []int{-1, 7, 16} {
		if _, err := NewCompressor(Side{WindowBits: bits}, CompressorOptions{Engine: EngineWriter}); err == nil {
			t.Errorf("NewCompressor accepts %d bits", bits)
		}
		if _, err := NewDecompressor(Side{WindowBits: bits}); err == nil {
			t.Errorf("NewDecompressor accepts %d bits", bits)
		}
	}
	for _, level := range []int{-3, 10} {
		if _, err := NewCompressor(Side{}, CompressorOptions{Level: level, Engine: EngineWriter}); err == nil {
			t.Errorf("NewCompressor accepts level %d", level)
		}
	}
	for _, opts := range []CompressorOptions{{Engine: EngineDict, DictSize: -1}, {Engine: EngineWindow + 1}} {
		if _, err := NewCompressor(Side{}, opts); err == nil {
			t.Errorf("NewCompressor accepts %+v", opts)
		}
	}
	c := mustCompressor(t, Side{}, CompressorOptions{Engine: EngineWriter})
	if _, err := c.Write([]byte("x")); err == nil {
		t.Error("Write without Reset succeeds")
	}
	if err := c.Finish(); err == nil {
		t.Error("Finish without Reset succeeds")
	}
}

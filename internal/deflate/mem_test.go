package deflate

import (
	"runtime"
	"testing"
)

// heapAfterGC returns the live heap. Two collections empty the sync.Pools
// (the second clears the victim cache), so pooled writers and inflaters
// are not counted: only what connections hold.
func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestMemoryPerConnection creates 1000 compressor+decompressor pairs, as
// 1000 connections would hold for one direction each, sends one message
// through each pair, and reports the heap per pair.
func TestMemoryPerConnection(t *testing.T) {
	n := 1000
	if raceEnabled || testing.Short() {
		n = 50
	}
	type pair struct {
		c *Compressor
		d *Decompressor
	}
	cases := []struct {
		name  string
		side  Side
		opts  CompressorOptions
		limit int // bytes per pair
	}{
		{"takeover/level1", Side{}, CompressorOptions{Level: 1, Engine: EngineWriter}, 1 << 20},
		{"takeover/level5", Side{}, CompressorOptions{Level: 5, Engine: EngineWriter}, 1200 << 10},
		{"takeover/level9", Side{}, CompressorOptions{Level: 9, Engine: EngineWriter}, 1500 << 10},
		{"takeover/window10", Side{WindowBits: 10}, CompressorOptions{Level: 1, Engine: EngineWriter}, 1200 << 10},
		{"takeover/dict4k", Side{}, CompressorOptions{Engine: EngineDict, DictSize: 4 << 10}, 48 << 10},
		{"takeover/dict32k", Side{}, CompressorOptions{Engine: EngineDict, DictSize: 32 << 10}, 96 << 10},
		{"takeover/dict1k/window10", Side{WindowBits: 10}, CompressorOptions{Engine: EngineDict, DictSize: 1 << 10}, 8 << 10},
		{"nocontext", Side{NoContextTakeover: true}, CompressorOptions{}, 1 << 10},
		{"takeover/window-level6", Side{}, CompressorOptions{Level: 6, Engine: EngineWindow}, 190 << 10},
		{"takeover/window-level6/window10", Side{WindowBits: 10}, CompressorOptions{Level: 6, Engine: EngineWindow}, 16 << 10},
	}
	msgs := []struct {
		name string
		data []byte
	}{
		{"json1k", jsonMessage(1)},
		{"text64k", textData(64<<10, 1)},
	}
	payload := make([]byte, 0, 128<<10)
	out := make([]byte, 0, 128<<10)
	for _, m := range msgs {
		for _, tc := range cases {
			pairs := make([]pair, n)
			before := heapAfterGC()
			for i := range pairs {
				c := mustCompressor(t, tc.side, tc.opts)
				d := mustDecompressor(t, tc.side)
				var err error
				payload, err = c.Compress(payload[:0], m.data)
				if err != nil {
					t.Fatal(err)
				}
				if out, err = d.Decompress(out[:0], payload, -1); err != nil {
					t.Fatal(err)
				}
				pairs[i] = pair{c, d}
			}
			after := heapAfterGC()
			per := int(after-before) / n
			var cHeld, dHeld int
			for _, p := range pairs {
				cHeld += dictHeld(p.c)
				dHeld += p.d.hist.held()
			}
			t.Logf("%-8s %-26s %8d bytes/pair (compressor dictionary %d, decompressor history %d)",
				m.name, tc.name, per, cHeld/n, dHeld/n)
			if per > tc.limit {
				t.Errorf("%s %s: %d bytes per pair, want at most %d", m.name, tc.name, per, tc.limit)
			}
			runtime.KeepAlive(pairs)
		}
	}
}

// dictHeld is the memory of c's dictionary, if it keeps one.
func dictHeld(c *Compressor) int {
	if e, ok := c.eng.(*dictEngine); ok {
		return e.hist.held()
	}
	return 0
}

// TestIdleStateSmall guards what EngineDict keeps per connection between
// messages, with ws's defaults and at level 6: at most 8 KiB (the 4 KiB
// dictionary and its slack, 5 KiB).
func TestIdleStateSmall(t *testing.T) {
	for _, level := range []int{0, 6} {
		c := mustCompressor(t, Side{}, CompressorOptions{Level: level})
		for i := range 100 {
			if _, err := c.Compress(nil, jsonMessage(i)); err != nil {
				t.Fatal(err)
			}
		}
		if held := c.Held(); held > 8<<10 || held == 0 {
			t.Errorf("level %d: %d bytes held between messages, want 1 to 8 KiB", level, held)
		}
	}
}

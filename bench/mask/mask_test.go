// Package mask compares the XOR masking of ws (internal/mask) with
// gobwas/ws's Cipher and with copy(), side by side in one run:
//
//	cd bench && go test -run X -bench . -count 5 ./mask
package mask

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	gobwas "github.com/gobwas/ws"
	"github.com/seed-d6ba7b20/ws/internal/mask"
)

var sizes = []int{16, 1 << 10, 64 << 10, 1 << 20}

var key = [4]byte{0x12, 0x34, 0x56, 0x78}

// TestSame checks that both maskers give the same bytes, at every offset
// into the key, so the benchmark compares like with like.
func TestSame(t *testing.T) {
	k := binary.LittleEndian.Uint32(key[:])
	for _, n := range []int{0, 1, 7, 8, 9, 63, 64, 65, 1000, 4097} {
		for off := range 4 {
			a := make([]byte, n)
			for i := range a {
				a[i] = byte(i*31 + 7)
			}
			b := bytes.Clone(a)
			mask.Apply(k, off, a)
			gobwas.Cipher(b, key, off)
			if !bytes.Equal(a, b) {
				t.Fatalf("n=%d off=%d: ws and gobwas mask differently", n, off)
			}
		}
	}
}

func BenchmarkMask(b *testing.B) {
	k := binary.LittleEndian.Uint32(key[:])
	for _, n := range sizes {
		buf := make([]byte, n)
		src := make([]byte, n)
		name := fmt.Sprintf("%dB", n)
		b.Run("ws/"+name, func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				mask.Apply(k, 0, buf)
			}
		})
		b.Run("gobwas/"+name, func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				gobwas.Cipher(buf, key, 0)
			}
		})
		b.Run("copy/"+name, func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				copy(buf, src)
			}
		})
	}
}

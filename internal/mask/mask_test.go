package mask

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestApplyMatchesBytewise(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 300; n++ {
		for pos := 0; pos < 4; pos++ {
			var kb [4]byte
			binary.LittleEndian.PutUint32(kb[:], r.Uint32())
			key := binary.LittleEndian.Uint32(kb[:])
			src := make([]byte, n)
			for i := range src {
				src[i] = byte(r.Uint32())
			}
			want := append([]byte(nil), src...)
			wantNext := Bytewise(kb, pos, want)
			got := append([]byte(nil), src...)
			gotNext := Apply(key, pos, got)
			if !bytes.Equal(got, want) || gotNext != wantNext {
				t.Fatalf("n=%d pos=%d: mismatch (next %d, want %d)", n, pos, gotNext, wantNext)
			}
		}
	}
}

func TestApplyInPieces(t *testing.T) {
	kb := [4]byte{0x11, 0x22, 0x33, 0x44}
	key := binary.LittleEndian.Uint32(kb[:])
	src := bytes.Repeat([]byte("The quick brown fox jumps over the lazy dog."), 30)
	want := append([]byte(nil), src...)
	Bytewise(kb, 0, want)
	for _, cut := range []int{1, 3, 5, 7, 9, 63, 65, 100} {
		got := append([]byte(nil), src...)
		pos := 0
		for i := 0; i < len(got); i += cut {
			end := min(i+cut, len(got))
			pos = Apply(key, pos, got[i:end])
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("cut %d: mismatch", cut)
		}
	}
}

func BenchmarkMask(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10, 1 << 20} {
		buf := make([]byte, size)
		src := make([]byte, size)
		b.Run(fmt.Sprintf("apply/%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				Apply(0x12345678, 0, buf)
			}
		})
		b.Run(fmt.Sprintf("bytewise/%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				Bytewise([4]byte{1, 2, 3, 4}, 0, buf)
			}
		})
		b.Run(fmt.Sprintf("copy/%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				copy(buf, src)
			}
		})
	}
}

package mask

import (
	"bytes"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"
)

// TestSIMDMatchesGo checks the assembly against the Go code it stands in
// for, at every length to 1,100 bytes, every key offset, and starts that
// are not aligned in memory.
func TestSIMDMatchesGo(t *testing.T) {
	if !useSIMD {
		t.Logf("no SIMD path on %s here: Apply is the Go code alone", runtime.GOARCH)
		return
	}
	r := rand.New(rand.NewPCG(3, 4))
	base := make([]byte, 1200)
	for n := 0; n <= 1100; n++ {
		for _, align := range []int{0, 1, 3, 8, 31} {
			pos := n & 3
			key := r.Uint32()
			src := base[align : align+n]
			for i := range src {
				src[i] = byte(r.Uint32())
			}
			orig := bytes.Clone(src)
			gotNext := Apply(key, pos, src)
			got := bytes.Clone(src)

			copy(src, orig)
			useSIMD = false
			wantNext := Apply(key, pos, src)
			useSIMD = true
			if !bytes.Equal(got, src) || gotNext != wantNext {
				t.Fatalf("n=%d align=%d pos=%d: the assembly and the Go code differ", n, align, pos)
			}
		}
	}
}

// TestSIMDUsed checks that the assembly is in use wherever the CPU has
// AVX2, as /proc/cpuinfo tells on Linux.
func TestSIMDUsed(t *testing.T) {
	if runtime.GOARCH != "amd64" || runtime.GOOS != "linux" {
		t.Logf("useSIMD=%v on %s/%s", useSIMD, runtime.GOOS, runtime.GOARCH)
		return
	}
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Fatal(err)
	}
	avx2 := strings.Contains(string(info), " avx2")
	if avx2 != useSIMD {
		t.Fatalf("/proc/cpuinfo says avx2=%v, but useSIMD=%v", avx2, useSIMD)
	}
}

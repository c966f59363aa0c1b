package mask

// simdMin is the shortest payload the assembly takes: below it the call
// and the vector setup cost more than they save.
const simdMin = 64

// useSIMD is set when the CPU and the OS support AVX2.
var useSIMD = hasAVX2()

// xorSIMD XORs the n bytes at b, n a multiple of 32, with k repeated.
//
//go:noescape
func xorSIMD(b *byte, n int, k uint32)

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

func xgetbv() (eax, edx uint32)

// hasAVX2 reports whether AVX2 instructions may run: the CPU has them and
// the OS saves the YMM registers (OSXSAVE, and XCR0 bits 1 and 2).
func hasAVX2() bool {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const osxsave, avx = 1 << 27, 1 << 28
	if ecx1&osxsave == 0 || ecx1&avx == 0 {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&6 != 6 {
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<5) != 0
}

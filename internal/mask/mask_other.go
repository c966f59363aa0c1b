//go:build !amd64

package mask

const simdMin = 0

// useSIMD is false: there is no assembly for this architecture.
var useSIMD = false

func xorSIMD(b *byte, n int, k uint32) { panic("mask: no assembly on this architecture") }

// Package mask applies the RFC 6455 section 5.3 masking transform.
//
// Masking XORs each payload byte with one byte of a 4-byte key, cycling
// through the key. The transform is its own inverse, so the same function
// masks and unmasks. On amd64 with AVX2 it works 128 bytes at a time in
// assembly; elsewhere, and for what the assembly leaves, eight bytes at a
// time in Go.
package mask

import (
	"encoding/binary"
	"math/bits"
)

// Apply XORs b in place with the masking key, starting at key byte
// offset pos&3, and returns the offset to pass for the bytes that follow b
// in the same frame payload.
//
// key holds the four key bytes in wire order, read as a little-endian
// uint32 (key byte 0 in the low eight bits).
func Apply(key uint32, pos int, b []byte) int {
	if len(b) == 0 {
		return pos & 3
	}
	pos &= 3
	// Rotate so that the low byte of k is the key byte for b[0].
	k := bits.RotateLeft32(key, -8*pos)
	next := (pos + len(b)) & 3

	// Short payloads: bytewise.
	if len(b) < 8 {
		for i := range b {
			b[i] ^= byte(k)
			k = bits.RotateLeft32(k, -8)
		}
		return next
	}
	if useSIMD && len(b) >= simdMin {
		// Whole 32-byte blocks in assembly; the key stays in phase, since
		// they are a multiple of four bytes.
		n := len(b) &^ 31
		xorSIMD(&b[0], n, k)
		b = b[n:]
	}
	return applyGo(k, b, next)
}

// applyGo masks b with k, whose low byte is the key byte for b[0], eight
// bytes at a time, and returns next.
func applyGo(k uint32, b []byte, next int) int {
	k64 := uint64(k) | uint64(k)<<32
	for len(b) >= 64 {
		v := b[:64]
		binary.LittleEndian.PutUint64(v[0:], binary.LittleEndian.Uint64(v[0:])^k64)
		binary.LittleEndian.PutUint64(v[8:], binary.LittleEndian.Uint64(v[8:])^k64)
		binary.LittleEndian.PutUint64(v[16:], binary.LittleEndian.Uint64(v[16:])^k64)
		binary.LittleEndian.PutUint64(v[24:], binary.LittleEndian.Uint64(v[24:])^k64)
		binary.LittleEndian.PutUint64(v[32:], binary.LittleEndian.Uint64(v[32:])^k64)
		binary.LittleEndian.PutUint64(v[40:], binary.LittleEndian.Uint64(v[40:])^k64)
		binary.LittleEndian.PutUint64(v[48:], binary.LittleEndian.Uint64(v[48:])^k64)
		binary.LittleEndian.PutUint64(v[56:], binary.LittleEndian.Uint64(v[56:])^k64)
		b = b[64:]
	}
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k64)
		b = b[8:]
	}
	if len(b) >= 4 {
		binary.LittleEndian.PutUint32(b, binary.LittleEndian.Uint32(b)^k)
		b = b[4:]
	}
	for i := range b {
		b[i] ^= byte(k)
		k = bits.RotateLeft32(k, -8)
	}
	return next
}

// Bytewise is the byte-at-a-time reference transform. It exists to test
// and benchmark Apply against.
func Bytewise(key [4]byte, pos int, b []byte) int {
	for i := range b {
		b[i] ^= key[(pos+i)&3]
	}
	return (pos + len(b)) & 3
}

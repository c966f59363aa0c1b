// Package frame encodes and decodes RFC 6455 section 5.2 frame headers.
//
// It knows the layout of a header and nothing of the rules that depend on
// a connection's state (which opcodes may follow which, whether an
// extension allows a reserved bit); the connection checks those.
package frame

import (
	"encoding/binary"
	"math"
)

// Opcodes of RFC 6455 section 5.2.
const (
	OpContinuation = 0x0
	OpText         = 0x1
	OpBinary       = 0x2
	OpClose        = 0x8
	OpPing         = 0x9
	OpPong         = 0xA
)

// Bits of the first header byte.
const (
	BitFin  = 0x80
	BitRsv1 = 0x40
	BitRsv2 = 0x20
	BitRsv3 = 0x10
)

// MaxHeaderSize is the longest header: 2 bytes, an 8-byte length and a
// 4-byte masking key.
const MaxHeaderSize = 14

// Header is a decoded frame header.
type Header struct {
	Fin    bool
	Rsv    byte // the reserved bits, as they stand in the first byte (0x70 mask)
	Opcode byte
	Masked bool
	Key    uint32 // masking key, little-endian as on the wire
	Length int64  // payload length
}

// IsControl reports whether op is a control opcode (close, ping, pong, or
// one of the reserved control opcodes 0xB-0xF).
func IsControl(op byte) bool { return op&0x8 != 0 }

// Size returns how many header bytes b needs in all, judging by the bytes
// b already has. It needs at least 2 bytes; with fewer it returns 2.
func Size(b []byte) int {
	if len(b) < 2 {
		return 2
	}
	n := 2
	switch b[1] & 0x7F {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b[1]&0x80 != 0 {
		n += 4
	}
	return n
}

// Parse decodes a whole header from b, which must hold at least Size(b)
// bytes. ok is false when the header is malformed in a way no state can
// excuse: a 64-bit length with its most significant bit set (section
// 5.2), or a length in a longer form than it needs (which RFC 6455 calls
// "the minimal number of bytes").
func Parse(b []byte) (h Header, n int, ok bool) {
	b0, b1 := b[0], b[1]
	h.Fin = b0&BitFin != 0
	h.Rsv = b0 & (BitRsv1 | BitRsv2 | BitRsv3)
	h.Opcode = b0 & 0x0F
	h.Masked = b1&0x80 != 0
	n = 2
	switch l := b1 & 0x7F; l {
	case 126:
		h.Length = int64(binary.BigEndian.Uint16(b[2:4]))
		n = 4
		if h.Length < 126 {
			return h, n, false
		}
	case 127:
		u := binary.BigEndian.Uint64(b[2:10])
		n = 10
		if u > math.MaxInt64 || u <= math.MaxUint16 {
			return h, n, false
		}
		h.Length = int64(u)
	default:
		h.Length = int64(l)
	}
	if h.Masked {
		h.Key = binary.LittleEndian.Uint32(b[n : n+4])
		n += 4
	}
	return h, n, true
}

// Put writes h into b and returns the number of bytes written. b must
// have room for MaxHeaderSize bytes.
func Put(b []byte, h Header) int {
	b0 := h.Opcode | h.Rsv
	if h.Fin {
		b0 |= BitFin
	}
	b[0] = b0
	var m byte
	if h.Masked {
		m = 0x80
	}
	n := 2
	switch {
	case h.Length <= 125:
		b[1] = m | byte(h.Length)
	case h.Length <= math.MaxUint16:
		b[1] = m | 126
		binary.BigEndian.PutUint16(b[2:4], uint16(h.Length))
		n = 4
	default:
		b[1] = m | 127
		binary.BigEndian.PutUint64(b[2:10], uint64(h.Length))
		n = 10
	}
	if h.Masked {
		binary.LittleEndian.PutUint32(b[n:n+4], h.Key)
		n += 4
	}
	return n
}

// Append appends the encoding of h to dst.
func Append(dst []byte, h Header) []byte {
	var b [MaxHeaderSize]byte
	n := Put(b[:], h)
	return append(dst, b[:n]...)
}

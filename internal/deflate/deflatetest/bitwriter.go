package deflatetest

// BitWriter writes a DEFLATE bit stream, for hand-made test streams.
type BitWriter struct {
	B  []byte // the stream
	NB int    // bits used in the last byte of B; 0 means it is full or absent
}

// Bits writes the n low bits of v, least significant first, as DEFLATE
// writes header fields and extra bits.
func (w *BitWriter) Bits(v, n int) {
	for i := range n {
		if w.NB == 0 {
			w.B = append(w.B, 0)
		}
		w.B[len(w.B)-1] |= byte(v>>i&1) << w.NB
		w.NB = (w.NB + 1) & 7
	}
}

// Code writes a Huffman code of n bits, most significant first.
func (w *BitWriter) Code(c, n int) {
	for i := n - 1; i >= 0; i-- {
		w.Bits(c>>i&1, 1)
	}
}

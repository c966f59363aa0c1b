package deflate

// history keeps the last size bytes of a stream, oldest first, in one
// contiguous slice, which is the form flate takes a dictionary in. It is
// linear rather than a ring: the buffer has a quarter of size as slack at
// the end, and only when that fills are the last bytes moved to the front,
// so each byte written is moved at most four more times on average and
// window never has to rotate anything. The buffer grows with what is
// written, so a connection that has exchanged 100 bytes holds about 100.
type history struct {
	buf  []byte
	size int
}

func newHistory(size int) history {
	return history{size: size}
}

// limit is the largest the buffer grows.
func (h *history) limit() int {
	return h.size + max(h.size/4, 256)
}

// write appends p to the stream.
func (h *history) write(p []byte) {
	if len(p) >= h.size {
		p = p[len(p)-h.size:]
		if cap(h.buf) < h.size {
			h.buf = make([]byte, 0, h.limit())
		}
		h.buf = append(h.buf[:0], p...)
		return
	}
	need := len(h.buf) + len(p)
	if need <= cap(h.buf) {
		h.buf = append(h.buf, p...)
		return
	}
	if lim := h.limit(); cap(h.buf) < lim {
		// Grow, at least doubling, up to the limit.
		nb := make([]byte, len(h.buf), min(lim, max(2*cap(h.buf), need, 512)))
		copy(nb, h.buf)
		h.buf = nb
		if need <= cap(h.buf) {
			h.buf = append(h.buf, p...)
			return
		}
	}
	// Full: keep the newest size-len(p) bytes, then append.
	keep := min(h.size-len(p), len(h.buf))
	n := copy(h.buf, h.buf[len(h.buf)-keep:])
	h.buf = append(h.buf[:n], p...)
}

// window returns the last size bytes written, or all of them if fewer.
// The slice is valid until the next write.
func (h *history) window() []byte {
	if len(h.buf) > h.size {
		return h.buf[len(h.buf)-h.size:]
	}
	return h.buf
}

// reset forgets the stream and drops the buffer.
func (h *history) reset() {
	h.buf = nil
}

// held is the memory the history holds.
func (h *history) held() int { return cap(h.buf) }

package ws

import "sync"

// Buffer pools. A connection takes buffers only while a message is in
// flight, so an idle connection holds none.
const (
	readBufSize  = 8 << 10
	writeBufSize = 16 << 10
	// copyBufSize is the buffer of a message Writer's ReadFrom, which
	// io.Copy uses: a message of up to 64 KiB goes out in one frame, and
	// the slack past 64 KiB lets ReadFrom see the end of such a message
	// before the buffer is full.
	copyBufSize = 65 << 10
)

var (
	readBufPool = sync.Pool{New: func() any {
		b := make([]byte, readBufSize)
		return &b
	}}
	writeBufPool sync.Pool
	copyBufPool  sync.Pool
)

// getReadBuf is small enough to be inlined, so that the wait of an idle
// connection, which takes a buffer in its read callback (setRawRead), is
// a frame shallower; the pool makes a buffer when it has none.
func getReadBuf() *[]byte { return readBufPool.Get().(*[]byte) }

func putReadBuf(p *[]byte) { readBufPool.Put(p) }

func getWriteBuf() *[]byte {
	if p, ok := writeBufPool.Get().(*[]byte); ok {
		return p
	}
	b := make([]byte, writeBufSize)
	return &b
}

// putWriteBuf returns a buffer of getWriteBuf or getCopyBuf to its pool.
func putWriteBuf(p *[]byte) {
	if len(*p) == copyBufSize {
		copyBufPool.Put(p)
		return
	}
	writeBufPool.Put(p)
}

func getCopyBuf() *[]byte {
	if p, ok := copyBufPool.Get().(*[]byte); ok {
		return p
	}
	b := make([]byte, copyBufSize)
	return &b
}

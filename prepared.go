package ws

import (
	"context"
	"sync"

	"github.com/seed-d6ba7b20/ws/internal/deflate"
	"github.com/seed-d6ba7b20/ws/internal/frame"
)

// compressedFrames caches the compressed frames of a preparedMessage for
// receivers without context takeover, one per window size and level.
type compressedFrames struct {
	mu     sync.Mutex
	frames map[[2]int][]byte
}

// compressedFrame returns pm's message compressed as cz compresses
// without context takeover, framed for a server to send; it compresses
// once per window size and level, whatever the number of receivers.
func (pm *preparedMessage) compressedFrame(ctx context.Context, cz *compression) ([]byte, error) {
	key := [2]int{cz.send.WindowBits, cz.level}
	pm.cf.mu.Lock()
	defer pm.cf.mu.Unlock()
	if f, ok := pm.cf.frames[key]; ok {
		return f, nil
	}
	comp, err := deflate.NewCompressor(deflate.Side{WindowBits: cz.send.WindowBits, NoContextTakeover: true}, deflate.CompressorOptions{Level: cz.level})
	if err != nil {
		return nil, err
	}
	sem, err := acquireCompress(ctx)
	if err != nil {
		return nil, err
	}
	bp := getWriteBuf() // scratch: the frame below is allocated to fit
	payload, err := comp.Compress((*bp)[:0], pm.payload)
	sem.Release(1)
	if err != nil {
		putWriteBuf(bp)
		return nil, err
	}
	f := frame.Append(make([]byte, 0, frame.MaxHeaderSize+len(payload)), frame.Header{Fin: true, Rsv: frame.BitRsv1, Opcode: pm.typ.opcode(), Length: int64(len(payload))})
	f = append(f, payload...)
	putWriteBuf(bp)
	if pm.cf.frames == nil {
		pm.cf.frames = make(map[[2]int][]byte)
	}
	pm.cf.frames[key] = f
	return f, nil
}

// queuedFrame returns the frame a queued item can be written as, byte for
// byte, or nil: a prepared message sent by a server without compression.
func (c *Conn) queuedFrame(it sendItem) []byte {
	if it.pm == nil || c.client || c.compresses(it.pm.typ, len(it.pm.payload)) {
		return nil
	}
	return it.pm.frame
}

// preparedMessage is a message framed once, to be sent to many
// connections, as Server.Broadcast does. A server connection writes its
// frame bytes as they are. With permessage-deflate and no context
// takeover, it is also compressed once, for all receivers with the same
// window and level; with context takeover each receiver must compress it
// with its own history. A client connection, which must mask each frame
// with a key of its own, frames the payload again. It is safe for
// concurrent use and must not be changed.
type preparedMessage struct {
	typ     MessageType
	payload []byte
	frame   []byte // the unmasked frame a server sends
	cf      compressedFrames
}

// newPreparedMessage frames p as one message of type typ. It keeps p.
func newPreparedMessage(typ MessageType, p []byte) (*preparedMessage, error) {
	if !typ.valid() {
		return nil, ErrInvalidMessageType
	}
	h := frame.Header{Fin: true, Opcode: typ.opcode(), Length: int64(len(p))}
	b := make([]byte, 0, frame.MaxHeaderSize+len(p))
	b = frame.Append(b, h)
	b = append(b, p...)
	return &preparedMessage{typ: typ, payload: p, frame: b}, nil
}

// trySendPrepared queues pm as TrySend would queue its payload.
func (c *Conn) trySendPrepared(pm *preparedMessage, done chan<- error) error {
	return c.enqueueItem(context.Background(), sendItem{typ: pm.typ, p: pm.payload, pm: pm, done: done}, false)
}

// writePrepared writes pm as Write would write its payload.
func (c *Conn) writePrepared(ctx context.Context, pm *preparedMessage) error {
	f := pm.frame
	switch {
	case c.client:
		return c.writeMessage(ctx, pm.typ, pm.payload)
	case c.compresses(pm.typ, len(pm.payload)):
		if !c.compression.send.NoContextTakeover {
			return c.writeMessage(ctx, pm.typ, pm.payload)
		}
		var err error
		if f, err = pm.compressedFrame(ctx, c.compression); err != nil {
			return err
		}
	}
	if err := c.lock(ctx, msgLock); err != nil {
		return err
	}
	defer c.unlock(msgLock)
	if err := c.writeFrameAt(ctx, true, 0, 0, f, wholeFrame); err != nil {
		return err
	}
	c.messagesWritten(1, len(pm.payload), len(f)-frame.Size(f))
	return nil
}

//go:build js

package ws

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall/js"
	"time"
	"unicode/utf8"

	"github.com/seed-d6ba7b20/ws/internal/frame"
	"github.com/seed-d6ba7b20/ws/internal/mask"
)

// hostConn is the transport of a Conn under js/wasm: the host's WebSocket
// object (a browser's, or Node's), seen as the stream of frames that the
// rest of the package reads and writes. Each message the host delivers
// becomes a frame to read, as a server would have sent it; the frames the
// connection writes are parsed back into messages, the fragments of one
// joined, and handed to the host's send, and a close frame to its close.
// The host answers pings itself and sends none, so there are none.
//
// The host has no backpressure: it delivers messages as they arrive,
// whether or not Go reads them. They wait in a queue of at most limit
// bytes (the read limit, or DefaultReadLimit without one); a message over
// the limit, or one that would take a queue that holds messages past it,
// ends the connection with an error wrapping ErrMessageTooBig, after the
// messages queued before it have been read.
type hostConn struct {
	ws    js.Value
	url   string
	limit int

	mu       sync.Mutex
	in       [][]byte      // frames waiting to be read
	inBytes  int           // their payload bytes
	cur      []byte        // the rest of the frame being read
	readErr  error         // what Read returns once in is empty: the end
	wake     chan struct{} // closed when in grows or readErr is set, if waited on
	opened   chan struct{} // closed by the open event
	closed   bool          // Close was called
	peerCode int           // the close event's code, once it came

	readDeadline deadline

	// Writing, by one goroutine at a time (the connection's frame lock).
	wbuf  []byte // bytes of a frame not yet whole
	msg   []byte // the fragments so far of a message in several frames
	msgOp byte   // its opcode

	funcs []hostListener
}

// hostListener is an event listener added to the host's socket.
type hostListener struct {
	event string
	fn    js.Func
}

// errQueueFull ends a connection whose queue of unread messages is full.
var errQueueFull = fmt.Errorf("%w: messages arrived faster than they were read", ErrMessageTooBig)

// newHostConn opens the host's WebSocket to url with the subprotocols.
func newHostConn(url string, subprotocols []string, limit int) (h *hostConn, err error) {
	ctor := js.Global().Get("WebSocket")
	if ctor.Type() != js.TypeFunction {
		return nil, fmt.Errorf("ws: dial: this host has no WebSocket (Node 20 needs --experimental-websocket): %w", errors.ErrUnsupported)
	}
	protos := make([]any, len(subprotocols))
	for i, p := range subprotocols {
		protos[i] = p
	}
	defer func() {
		// The constructor throws a SyntaxError for a bad URL or subprotocol.
		if r := recover(); r != nil {
			err = fmt.Errorf("ws: dial: %v", r)
		}
	}()
	ws := ctor.New(url, protos)
	ws.Set("binaryType", "arraybuffer")
	h = &hostConn{ws: ws, url: url, limit: limit, opened: make(chan struct{})}
	h.readDeadline.init(context.Background())
	h.on("open", func(js.Value) { close(h.opened) })
	h.on("message", h.message)
	h.on("close", h.closeEvent)
	h.on("error", h.errorEvent)
	return h, nil
}

// on adds a listener for the host's event.
func (h *hostConn) on(event string, f func(js.Value)) {
	fn := js.FuncOf(func(this js.Value, args []js.Value) any {
		f(args[0])
		return nil
	})
	h.funcs = append(h.funcs, hostListener{event, fn})
	h.ws.Call("addEventListener", event, fn)
}

// release removes the listeners and frees them, once the host's socket is
// closed or given up: an event dispatched to a freed function would throw.
func (h *hostConn) release() {
	for _, l := range h.funcs {
		h.ws.Call("removeEventListener", l.event, l.fn)
		l.fn.Release()
	}
	h.funcs = nil
}

// message queues a message from the host as a frame. It weighs the
// message before it copies it into Go's memory, which never shrinks: a
// message over the limit, or one that would take a queue that holds
// messages past it, is not copied but ends the connection.
func (h *hostConn) message(ev js.Value) {
	data := ev.Get("data")
	text := data.Type() == js.TypeString
	var n int
	if text {
		// UTF-16 units, no more than its UTF-8 bytes; Object() boxes the
		// primitive string, whose properties syscall/js cannot read.
		n = js.Global().Call("Object", data).Get("length").Int()
	} else {
		n = data.Get("byteLength").Int()
	}
	h.mu.Lock()
	if h.readErr == nil && !h.fits(n) {
		h.overflow(n)
	}
	stop := h.readErr != nil
	h.mu.Unlock()
	if stop {
		return
	}
	var f []byte
	if text {
		s := data.String()
		f = frame.Append(make([]byte, 0, frame.MaxHeaderSize+len(s)), frame.Header{Fin: true, Opcode: frame.OpText, Length: int64(len(s))})
		f = append(f, s...)
	} else {
		b := js.Global().Get("Uint8Array").New(data)
		f = frame.Append(make([]byte, 0, frame.MaxHeaderSize+n), frame.Header{Fin: true, Opcode: frame.OpBinary, Length: int64(n)})
		f = f[:len(f)+n]
		js.CopyBytesToGo(f[len(f)-n:], b)
	}
	size := len(f) - frame.Size(f)
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.readErr != nil:
	case !h.fits(size):
		// A text message whose UTF-8 outweighs its UTF-16.
		h.overflow(size)
	default:
		h.in = append(h.in, f)
		h.inBytes += size
		h.signal()
	}
}

// fits reports whether the queue takes a message of n bytes: one no
// larger than the limit, and, unless the queue is empty, one that keeps it
// within the limit. Call it with mu held.
func (h *hostConn) fits(n int) bool {
	return n <= h.limit && (len(h.in) == 0 || h.inBytes+n <= h.limit)
}

// overflow ends the connection for a message of n bytes that the queue
// cannot take: the messages before it are still read, then the error.
// Call it with mu held.
func (h *hostConn) overflow(n int) {
	h.readErr = fmt.Errorf("%w: a message of %d bytes, with %d bytes unread before it, over the bound of %d", errQueueFull, n, h.inBytes, h.limit)
	h.in = append(h.in, nil) // ends the queue: see Read
	h.call("close")
	h.signal()
}

// closeEvent turns the host's close event into the peer's close frame,
// or the end of the stream when the connection ended without one.
func (h *hostConn) closeEvent(ev js.Value) {
	code, reason := ev.Get("code").Int(), ev.Get("reason").String()
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-h.opened:
		if h.peerCode == 0 {
			h.peerCode = code
		}
	default:
		h.peerCode = code
		close(h.opened) // a dial waiting for the open event learns of the end
	}
	if h.readErr == nil {
		switch code {
		case int(StatusAbnormalClosure):
			// No close frame: the stream just ends.
		case int(StatusNoStatusReceived):
			h.in = append(h.in, []byte{0x80 | frame.OpClose, 0})
		default:
			p := binary.BigEndian.AppendUint16(nil, uint16(code))
			p = append(p, reason...)
			f := frame.Append(nil, frame.Header{Fin: true, Opcode: frame.OpClose, Length: int64(len(p))})
			h.in = append(h.in, append(f, p...))
		}
		h.readErr = io.EOF
	}
	h.signal()
	h.release()
}

// errorEvent ends a dial that is waiting for the open event: some hosts
// report a failed handshake with an error event and no close event. After
// the open event the close event that follows an error says the rest.
func (h *hostConn) errorEvent(js.Value) {
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-h.opened:
	default:
		h.peerCode = int(StatusAbnormalClosure)
		close(h.opened)
	}
}

// signal wakes a Read waiting for frames. Call it with mu held.
func (h *hostConn) signal() {
	if h.wake != nil {
		close(h.wake)
		h.wake = nil
	}
}

// Read reads the frames of the messages the host delivered.
func (h *hostConn) Read(p []byte) (int, error) {
	for {
		h.mu.Lock()
		if len(h.cur) == 0 && len(h.in) > 0 && h.in[0] != nil {
			h.cur, h.in = h.in[0], h.in[1:]
			if h.cur[0]&0x0f != frame.OpClose {
				h.inBytes -= len(h.cur) - frame.Size(h.cur)
			}
		}
		if len(h.cur) > 0 {
			n := copy(p, h.cur)
			h.cur = h.cur[n:]
			h.mu.Unlock()
			return n, nil
		}
		if h.closed {
			h.mu.Unlock()
			return 0, net.ErrClosed
		}
		if err := h.readErr; err != nil && (len(h.in) == 0 || h.in[0] == nil) {
			h.mu.Unlock()
			return 0, err
		}
		if h.wake == nil {
			h.wake = make(chan struct{})
		}
		wake := h.wake
		h.mu.Unlock()
		select {
		case <-wake:
		case <-h.readDeadline.context().Done():
			return 0, os.ErrDeadlineExceeded
		}
	}
}

// Write parses the frames the connection writes and hands each message
// to the host.
func (h *hostConn) Write(p []byte) (int, error) {
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if closed {
		return 0, net.ErrClosed
	}
	h.wbuf = append(h.wbuf, p...)
	for {
		if len(h.wbuf) < 2 || len(h.wbuf) < frame.Size(h.wbuf) {
			break
		}
		fh, n, ok := frame.Parse(h.wbuf)
		if !ok {
			h.wbuf = nil
			return len(p), errors.New("ws: write: a frame the host cannot parse")
		}
		if int64(len(h.wbuf)-n) < fh.Length {
			break
		}
		payload := h.wbuf[n : n+int(fh.Length)]
		if fh.Masked {
			mask.Apply(fh.Key, 0, payload)
		}
		err := h.frame(fh, payload)
		h.wbuf = h.wbuf[n+int(fh.Length):]
		if err != nil {
			h.wbuf = nil
			return len(p), err
		}
	}
	if len(h.wbuf) == 0 {
		h.wbuf = nil
	}
	return len(p), nil
}

// frame acts on one frame the connection wrote.
func (h *hostConn) frame(fh frame.Header, payload []byte) error {
	switch {
	case fh.Opcode == frame.OpClose:
		if h.ws.Get("readyState").Int() >= 2 {
			// CLOSING or CLOSED: the host has sent its close frame, or
			// answered the peer's, already.
			return nil
		}
		if len(payload) < 2 {
			return h.call("close")
		}
		return h.call("close", int(binary.BigEndian.Uint16(payload)), string(payload[2:]))
	case frame.IsControl(fh.Opcode):
		return nil // the host sends its own pongs, and no one else's
	case fh.Opcode != frame.OpContinuation:
		h.msg, h.msgOp = h.msg[:0], fh.Opcode
	}
	if !fh.Fin {
		h.msg = append(h.msg, payload...)
		return nil
	}
	data := payload
	if len(h.msg) > 0 {
		data = append(h.msg, payload...)
		h.msg = h.msg[:0]
	}
	if h.msgOp == frame.OpText {
		if !utf8.Valid(data) {
			// The host would send U+FFFD for what is not UTF-8.
			return fmt.Errorf("ws: write: a text message that is not UTF-8: %w", errHost("sending it"))
		}
		return h.call("send", string(data))
	}
	b := js.Global().Get("Uint8Array").New(len(data))
	js.CopyBytesToJS(b, data)
	return h.call("send", b)
}

// call calls a method of the host's socket, turning what it throws into
// an error.
func (h *hostConn) call(method string, args ...any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("ws: %s: %v", method, r)
		}
	}()
	h.ws.Call(method, args...)
	return nil
}

// Close closes the host's socket, without a close frame of its own if
// none went out (the host then sends 1005, no code).
func (h *hostConn) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return net.ErrClosed
	}
	h.closed = true
	h.signal()
	h.mu.Unlock()
	if state := h.ws.Get("readyState").Int(); state < 2 { // CONNECTING or OPEN
		h.call("close")
	}
	return nil
}

// hostBuffered is the host's bufferedAmount.
func (h *hostConn) hostBuffered() int64 { return int64(h.ws.Get("bufferedAmount").Int()) }

// hostCloseCode reports whether a browser may send code: 1000, 3000 to
// 4999, or no code at all.
func (h *hostConn) hostCloseCode(code StatusCode) bool {
	return code == StatusNormalClosure || code == StatusNoStatusReceived || (code >= 3000 && code <= 4999)
}

// hostAddr is the address of either end of a host's WebSocket: its URL.
type hostAddr string

func (a hostAddr) Network() string { return "websocket" }
func (a hostAddr) String() string  { return string(a) }

func (h *hostConn) LocalAddr() net.Addr  { return hostAddr("") }
func (h *hostConn) RemoteAddr() net.Addr { return hostAddr(h.url) }

func (h *hostConn) SetDeadline(t time.Time) error { return h.SetReadDeadline(t) }

func (h *hostConn) SetReadDeadline(t time.Time) error {
	h.readDeadline.set(t)
	return nil
}

// SetWriteDeadline does nothing: writes hand messages to the host, which
// takes them at once.
func (h *hostConn) SetWriteDeadline(time.Time) error { return nil }

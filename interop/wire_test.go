package interop

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
)

// frameHeader is the header of a frame seen on the wire.
type frameHeader struct {
	fin    bool
	rsv1   bool // set on the first frame of a compressed message
	opcode byte
	length int64
}

// String returns the header as, say, "binary(16370)", "text(812,z,fin)"
// (z: RSV1, compressed) or "cont(20480,fin)".
func (h frameHeader) String() string {
	name := map[byte]string{0: "cont", 1: "text", 2: "binary", 8: "close", 9: "ping", 10: "pong"}[h.opcode]
	s := fmt.Sprintf("%s(%d", name, h.length)
	if h.rsv1 {
		s += ",z"
	}
	if h.fin {
		s += ",fin"
	}
	return s + ")"
}

// wireParser follows one direction of a WebSocket connection: the HTTP
// head of the opening handshake, then frames. It records the frame headers
// and counts the bytes, without keeping payloads.
type wireParser struct {
	headDone   bool
	last4      uint32 // the last four bytes of the head, to find CRLF CRLF
	hdr        []byte // the frame header being read
	skip       int64  // payload bytes left of the current frame
	frames     []frameHeader
	frameBytes int64 // bytes of frames, headers and payloads, after the head
}

// feed parses the next bytes of the stream.
func (p *wireParser) feed(b []byte) {
	for !p.headDone && len(b) > 0 {
		p.last4 = p.last4<<8 | uint32(b[0])
		b = b[1:]
		p.headDone = p.last4 == 0x0d0a0d0a
	}
	p.frameBytes += int64(len(b))
	for len(b) > 0 {
		if p.skip > 0 {
			n := min(int64(len(b)), p.skip)
			b = b[n:]
			p.skip -= n
			continue
		}
		p.hdr = append(p.hdr, b[0])
		b = b[1:]
		if len(p.hdr) < 2 || len(p.hdr) < headerSize(p.hdr) {
			continue
		}
		h := frameHeader{
			fin:    p.hdr[0]&0x80 != 0,
			rsv1:   p.hdr[0]&0x40 != 0,
			opcode: p.hdr[0] & 0x0f,
			length: int64(p.hdr[1] & 0x7f),
		}
		switch h.length {
		case 126:
			h.length = int64(binary.BigEndian.Uint16(p.hdr[2:]))
		case 127:
			h.length = int64(binary.BigEndian.Uint64(p.hdr[2:]))
		}
		p.frames = append(p.frames, h)
		p.skip = h.length
		p.hdr = p.hdr[:0]
	}
}

// headerSize returns the size of the frame header that starts with h,
// which holds at least two bytes.
func headerSize(h []byte) int {
	n := 2
	switch h[1] & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if h[1]&0x80 != 0 {
		n += 4 // masking key
	}
	return n
}

// wireTap sees both directions of a TCP connection of the side under
// test, a client through DialOptions.NetDial or a server through its
// listener, and parses them: "sent" is what this side wrote, "received"
// what it read.
type wireTap struct {
	mu             sync.Mutex
	sent, received wireParser
}

// dial is a DialOptions.NetDial that taps the connection it opens.
func (w *wireTap) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &tapConn{Conn: nc, tap: w}, nil
}

// take returns the frames sent and received since the last take.
func (w *wireTap) take() (sent, received []frameHeader) {
	w.mu.Lock()
	defer w.mu.Unlock()
	sent, received = w.sent.frames, w.received.frames
	w.sent.frames, w.received.frames = nil, nil
	return sent, received
}

// receivedBytes returns the bytes of frames received so far, the
// handshake left out.
func (w *wireTap) receivedBytes() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.received.frameBytes
}

// tapConn is a net.Conn whose traffic a wireTap sees.
type tapConn struct {
	net.Conn
	tap *wireTap
}

func (c *tapConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.tap.mu.Lock()
	c.tap.received.feed(p[:n])
	c.tap.mu.Unlock()
	return n, err
}

func (c *tapConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.tap.mu.Lock()
	c.tap.sent.feed(p[:n])
	c.tap.mu.Unlock()
	return n, err
}

// tapListener taps every connection it accepts.
type tapListener struct{ net.Listener }

func (l tapListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &tapConn{Conn: nc, tap: new(wireTap)}, nil
}

// dataMessages groups the data frames among frames into messages, leaving
// control frames out: each message is its frames in order.
func dataMessages(frames []frameHeader) [][]frameHeader {
	var msgs [][]frameHeader
	open := false
	for _, f := range frames {
		if f.opcode >= 8 {
			continue
		}
		if f.opcode != 0 || !open {
			msgs = append(msgs, nil)
		}
		msgs[len(msgs)-1] = append(msgs[len(msgs)-1], f)
		open = !f.fin
	}
	return msgs
}

// checkCompression checks that msg, the frames of one message, is
// compressed (RSV1 on its first frame) if and only if want says so, and
// that no continuation frame has RSV1 (RFC 7692 section 6).
func checkCompression(msg []frameHeader, want bool) error {
	if len(msg) == 0 {
		return fmt.Errorf("no frames")
	}
	if msg[0].rsv1 != want {
		return fmt.Errorf("compressed=%v, want %v: frames %v", msg[0].rsv1, want, msg)
	}
	for _, f := range msg[1:] {
		if f.rsv1 {
			return fmt.Errorf("a continuation frame has RSV1: frames %v", msg)
		}
	}
	return nil
}

// canonExtension returns a Sec-WebSocket-Extensions element with its
// parameters sorted and its spaces normalised, so that two peers' ways of
// writing the same agreement compare equal: " permessage-deflate;
// server_max_window_bits=10;client_no_context_takeover" gives
// "permessage-deflate; client_no_context_takeover; server_max_window_bits=10".
// "" stays "".
func canonExtension(s string) string {
	parts := strings.Split(s, ";")
	name := strings.ToLower(strings.TrimSpace(parts[0]))
	if name == "" {
		return ""
	}
	var params []string
	for _, p := range parts[1:] {
		k, v, hasValue := strings.Cut(strings.TrimSpace(p), "=")
		k = strings.ToLower(strings.TrimSpace(k))
		if hasValue {
			k += "=" + strings.Trim(strings.TrimSpace(v), `"`)
		}
		params = append(params, k)
	}
	slices.Sort(params)
	return strings.Join(append([]string{name}, params...), "; ")
}

// paramsExtension formats the parameters ws of Node.js agreed on, as its
// PerMessageDeflate.params object gives them ({"server_max_window_bits":
// 10, "client_no_context_takeover": true}), as a canonExtension element.
// nil means no extension.
func paramsExtension(params map[string]any) string {
	if params == nil {
		return ""
	}
	s := "permessage-deflate"
	for k, v := range params {
		switch v := v.(type) {
		case bool:
			if v {
				s += "; " + k
			}
		case float64:
			s += fmt.Sprintf("; %s=%d", k, int(v))
		default:
			s += fmt.Sprintf("; %s=%v", k, v)
		}
	}
	return canonExtension(s)
}

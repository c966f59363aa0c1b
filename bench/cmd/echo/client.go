package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/seed-d6ba7b20/ws/bench/internal/harness"
)

// client is one load-generator connection: raw TCP, with WebSocket
// framing made by hand when ws is set.
type client struct {
	c  net.Conn
	br *bufio.Reader
	ws bool
}

// dial connects to addr and, for a WebSocket server, does the handshake.
// For the TCP floor it sends the same request and reads it back.
func dial(addr string, ws bool, bufSize int) (*client, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	cl := &client{c: c, br: bufio.NewReaderSize(c, bufSize), ws: ws}
	if err := cl.handshake(addr); err != nil {
		cl.close()
		return nil, err
	}
	return cl, nil
}

func (cl *client) handshake(addr string) error {
	cl.c.SetDeadline(time.Now().Add(10 * time.Second))
	defer cl.c.SetDeadline(time.Time{})
	req := harness.Handshake(addr)
	if _, err := io.WriteString(cl.c, req); err != nil {
		return err
	}
	if !cl.ws {
		_, err := cl.br.Discard(len(req))
		return err
	}
	status, err := cl.br.ReadString('\n')
	if err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	if !strings.HasPrefix(status, "HTTP/1.1 101 ") {
		return fmt.Errorf("handshake refused: %q", strings.TrimSpace(status))
	}
	for {
		line, err := cl.br.ReadString('\n')
		if err != nil {
			return fmt.Errorf("handshake: %w", err)
		}
		if line == "\r\n" {
			return nil
		}
	}
}

// close closes with a reset, so that no port is left in TIME_WAIT.
func (cl *client) close() {
	if tc, ok := cl.c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	cl.c.Close()
}

// closeFrame is the client's close frame: status 1000, masked.
var closeFrame = func() []byte {
	f := []byte{0x88, 0x82, maskKey[0], maskKey[1], maskKey[2], maskKey[3], 0x03, 0xe8}
	f[6] ^= maskKey[0]
	f[7] ^= maskKey[1]
	return f
}()

// closeHandshake ends the connection as a client should: it sends a
// close frame, reads frames until the server's close frame, then waits
// for the server to close the TCP connection (RFC 6455 section 7.1.1:
// the server closes first), and closes its end with a reset so that no
// port is left in TIME_WAIT. For the TCP floor it shuts down its side
// and waits for the server's end of stream.
func (cl *client) closeHandshake() error {
	defer cl.close()
	cl.c.SetDeadline(time.Now().Add(10 * time.Second))
	if !cl.ws {
		if err := cl.c.(*net.TCPConn).CloseWrite(); err != nil {
			return err
		}
	} else {
		if _, err := cl.c.Write(closeFrame); err != nil {
			return err
		}
		for {
			var h [2]byte
			if _, err := io.ReadFull(cl.br, h[:]); err != nil {
				return fmt.Errorf("close handshake: %w", err)
			}
			n := int(h[1] & 0x7f)
			if n >= 126 {
				return errors.New("close handshake: long frame")
			}
			if _, err := cl.br.Discard(n); err != nil {
				return err
			}
			if h[0]&0x0f == 8 {
				break
			}
		}
	}
	if _, err := cl.br.ReadByte(); err != io.EOF {
		return fmt.Errorf("close handshake: the server did not close the connection: %v", err)
	}
	return nil
}

// maskKey is the client's masking key, the same for every frame, so that
// a message's frame is built once; servers unmask it all the same.
var maskKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// message returns what the client sends for one message of size bytes:
// a masked binary frame, or for the TCP floor the bare payload.
func message(size int, ws bool) []byte {
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte(i)
	}
	if !ws {
		return payload
	}
	var hdr []byte
	switch {
	case size < 126:
		hdr = []byte{0x82, 0x80 | byte(size)}
	case size <= 0xffff:
		hdr = []byte{0x82, 0x80 | 126, byte(size >> 8), byte(size)}
	default:
		hdr = make([]byte, 10)
		hdr[0], hdr[1] = 0x82, 0x80|127
		binary.BigEndian.PutUint64(hdr[2:], uint64(size))
	}
	hdr = append(hdr, maskKey[:]...)
	for i := range payload {
		payload[i] ^= maskKey[i&3]
	}
	return append(hdr, payload...)
}

// readMessage reads one echoed message of size bytes and discards it. A
// WebSocket message may come in any number of frames.
func (cl *client) readMessage(size int) error {
	if !cl.ws {
		_, err := cl.br.Discard(size)
		return err
	}
	got := 0
	for {
		var h [2]byte
		if _, err := io.ReadFull(cl.br, h[:]); err != nil {
			return err
		}
		op, fin := h[0]&0x0f, h[0]&0x80 != 0
		if h[1]&0x80 != 0 {
			return errors.New("masked frame from server")
		}
		n := int64(h[1] & 0x7f)
		switch n {
		case 126:
			var b [2]byte
			if _, err := io.ReadFull(cl.br, b[:]); err != nil {
				return err
			}
			n = int64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			if _, err := io.ReadFull(cl.br, b[:]); err != nil {
				return err
			}
			n = int64(binary.BigEndian.Uint64(b[:]))
		}
		if op >= 8 {
			if op == 8 {
				return errors.New("server sent a close frame")
			}
			if _, err := cl.br.Discard(int(n)); err != nil {
				return err
			}
			continue // ping or pong: skip
		}
		if _, err := cl.br.Discard(int(n)); err != nil {
			return err
		}
		got += int(n)
		if fin {
			break
		}
	}
	if got != size {
		return fmt.Errorf("echoed message of %d bytes, want %d", got, size)
	}
	return nil
}

// roundTrip sends msg and reads the echo of size bytes. A message larger
// than 64 KiB is written from another goroutine, so that a server that
// streams the echo back before the whole message is in cannot deadlock
// with the client.
func (cl *client) roundTrip(msg []byte, size int) error {
	if len(msg) <= 64<<10+14 {
		if _, err := cl.c.Write(msg); err != nil {
			return err
		}
		return cl.readMessage(size)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := cl.c.Write(msg)
		errc <- err
	}()
	rerr := cl.readMessage(size)
	if werr := <-errc; werr != nil {
		return werr
	}
	return rerr
}

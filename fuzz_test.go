//go:build !js

package ws

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws/internal/deflate"
	"github.com/seed-d6ba7b20/ws/internal/frame"
)

func frameSeed(client bool, frames ...[]byte) []byte {
	var b []byte
	if client {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	for _, f := range frames {
		b = append(b, f...)
	}
	return b
}

func seedFrame(fin bool, op byte, masked bool, payload string) []byte {
	return append(frame.Append(nil, frame.Header{Fin: fin, Opcode: op, Masked: masked, Length: int64(len(payload))}), payload...)
}

// FuzzFrameReader feeds arbitrary bytes to a connection's reader, as a
// server (first byte even) or a client (odd), reading with Read, Reader
// (first byte & 2) or ReadAppend (& 32), with permessage-deflate when the
// first byte & 4 is set. It must never panic or hang, and must end every
// input with an error; ReadAppend must keep the buffer's prefix, and on
// error return it alone.
func FuzzFrameReader(f *testing.F) {
	f.Add(frameSeed(false, seedFrame(true, 1, true, "hello")))
	f.Add(frameSeed(true, seedFrame(true, 2, false, "bin"), seedFrame(true, 8, false, "\x03\xe8bye")))
	f.Add(frameSeed(false, seedFrame(false, 1, true, "frag"), seedFrame(true, 9, true, "ping"), seedFrame(true, 0, true, "ment")))
	f.Add(frameSeed(false, []byte{0x82, 0xFF, 0x40, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}))
	f.Add(frameSeed(true, []byte{0x81, 0x7E, 0x00, 0x80}, bytes.Repeat([]byte("a"), 128)))
	f.Add(frameSeed(false, seedFrame(true, 1, true, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5")))
	// Compressed (first byte 4: deflate negotiated), the RFC 7692 example.
	f.Add(append([]byte{4}, append(frame.Append(nil, frame.Header{Fin: true, Rsv: frame.BitRsv1, Opcode: 1, Masked: true, Length: 7}), 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00)...))
	f.Add(append([]byte{5 | 8 | 16}, append(frame.Append(nil, frame.Header{Fin: false, Rsv: frame.BitRsv1, Opcode: 2, Length: 3}), 0xf2, 0x48, 0xcd, 0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00)...))
	// ReadAppend (32) of fragmented and compressed messages.
	f.Add(append([]byte{32}, frameSeed(false, seedFrame(false, 1, true, "frag"), seedFrame(true, 9, true, "ping"), seedFrame(true, 0, true, "ment"))[1:]...))
	f.Add(append([]byte{4 | 32}, append(frame.Append(nil, frame.Header{Fin: true, Rsv: frame.BitRsv1, Opcode: 1, Masked: true, Length: 7}), 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		nc := &scriptConn{r: bytes.NewReader(data[1:])}
		opts := &Options{ReadLimit: 1 << 20, MaxFragments: 64, CloseTimeout: time.Millisecond, Compression: &CompressionOptions{}}
		c := newConn(nc, data[0]&1 == 1, opts, nil)
		if data[0]&4 != 0 {
			// permessage-deflate, with or without context takeover and
			// with a small window.
			p := deflate.Params{ServerNoContextTakeover: data[0]&8 != 0, ClientNoContextTakeover: data[0]&8 != 0}
			if data[0]&16 != 0 {
				p.ServerMaxWindowBits, p.ClientMaxWindowBits = 9, 9
			}
			if err := c.setCompression(p, opts.Compression); err != nil {
				t.Fatal(err)
			}
		}
		ctx := context.Background()
		buf := []byte("pre")
		for i := 0; ; i++ {
			if i > len(data) {
				t.Fatal("reader made no progress")
			}
			var err error
			switch {
			case data[0]&32 != 0:
				// ReadAppend into one reused buffer: the prefix stays.
				var got []byte
				_, got, err = c.ReadAppend(ctx, buf)
				if len(got) < 3 || string(got[:3]) != "pre" || err != nil && len(got) != 3 {
					t.Fatalf("ReadAppend returned %d bytes %.8q, error %v", len(got), got, err)
				}
				buf = got[:3]
			case data[0]&2 == 0:
				_, _, err = c.Read(ctx)
			default:
				var r io.Reader
				_, r, err = c.Reader(ctx)
				if err == nil {
					_, err = io.Copy(io.Discard, r)
				}
			}
			if err != nil {
				return
			}
		}
	})
}

// FuzzAcceptRequest runs Accept's checks on arbitrary requests.
func FuzzAcceptRequest(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: a, b\r\nOrigin: http://x\r\n\r\n"))
	f.Add([]byte("GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: WebSocket\r\nConnection: keep-alive, upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Origin: http://y\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x-foo\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(data)))
		if err != nil {
			return
		}
		rec := httptest.NewRecorder()
		c, err := Accept(rec, req, &AcceptOptions{Subprotocols: []string{"b"}, OriginPatterns: []string{"*.y"}})
		if c != nil || err == nil {
			t.Fatal("a recorder cannot be hijacked, so Accept must fail")
		}
		if rec.Code < 400 {
			t.Fatalf("status %d", rec.Code)
		}
	})
}

// FuzzDialResponse runs Dial, over a transport that replays the input, on
// arbitrary responses.
func FuzzDialResponse(f *testing.F) {
	f.Add([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 401 Unauthorized\r\nContent-Length: 5\r\n\r\nnope!"))
	f.Add([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: chat\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n\x81\x02hi"))
	f.Fuzz(func(t *testing.T, data []byte) {
		nc := &scriptConn{r: bytes.NewReader(data)}
		c, resp, err := Dial(context.Background(), "ws://example.com/path", &DialOptions{
			Subprotocols: []string{"chat"},
			NetDial:      func(context.Context, string, string) (net.Conn, error) { return nc, nil },
		})
		if err == nil {
			t.Fatal("a random key cannot match a fixed accept value")
		}
		if c != nil {
			t.Fatal("conn with error")
		}
		if resp != nil {
			if _, err := io.Copy(io.Discard, resp.Body); err != nil {
				t.Fatal(err)
			}
		}
	})
}

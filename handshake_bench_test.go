package ws

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/seed-d6ba7b20/ws/internal/handshake"
)

// hijackWriter is an http.ResponseWriter whose connection Accept can take
// over: nc, with the bufio.ReadWriter brw.
type hijackWriter struct {
	h   http.Header
	nc  net.Conn
	brw *bufio.ReadWriter
}

func (w *hijackWriter) Header() http.Header         { return w.h }
func (w *hijackWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *hijackWriter) WriteHeader(int)             {}
func (w *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return w.nc, w.brw, nil
}

// benchRequest is a browser's handshake request, as net/http parses it.
func benchRequest(b *testing.B, extra string) *http.Request {
	raw := "GET /chat HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
		"Origin: http://example.test\r\nUser-Agent: bench\r\n" + extra + "\r\n"
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		b.Fatal(err)
	}
	return r
}

// BenchmarkAccept measures the server's side of the opening handshake
// once net/http has parsed the request: the checks, the negotiation, the
// 101 response and the new connection, closed again at once.
func BenchmarkAccept(b *testing.B) {
	cases := []struct {
		name  string
		extra string
		opts  *AcceptOptions
	}{
		{"plain", "", nil},
		{"subprotocol+deflate", "Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n",
			&AcceptOptions{Subprotocols: []string{"chat"}, Options: Options{Compression: CompressionContextTakeover}}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			r := benchRequest(b, tc.extra)
			nc := &loopConn{data: []byte{0}}
			brw := bufio.NewReadWriter(bufio.NewReader(nil), bufio.NewWriter(nil))
			w := &hijackWriter{h: http.Header{}, nc: nc, brw: brw}
			b.ReportAllocs()
			for b.Loop() {
				// Accept replaces brw's reader and writer, which it
				// only asks how much is buffered.
				c, err := Accept(w, r, tc.opts)
				if err != nil {
					b.Fatal(err)
				}
				c.CloseNow()
			}
			if nc.writes == 0 {
				b.Fatal("no response was written")
			}
		})
	}
}

// answerConn is a server that answers any handshake request written to
// it with a 101 response, and reads nothing after it.
type answerConn struct {
	loopConn
	req, resp []byte
	off       int
	after     []byte // sent right behind the response
}

const answerHead = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "

func (c *answerConn) Write(p []byte) (int, error) {
	c.req = append(c.req, p...)
	if bytes.HasSuffix(c.req, []byte("\r\n\r\n")) {
		_, key, ok := bytes.Cut(c.req, []byte("\r\nSec-WebSocket-Key: "))
		if !ok || len(key) < 24 {
			return 0, errors.New("no Sec-WebSocket-Key in the request")
		}
		c.resp = append(append(c.resp[:0], answerHead...), handshake.AcceptKey(string(key[:24]))...)
		c.resp = append(append(c.resp, "\r\n\r\n"...), c.after...)
		c.req, c.off = c.req[:0], 0
	}
	return len(p), nil
}

func (c *answerConn) Read(p []byte) (int, error) {
	if c.off == len(c.resp) {
		return 0, io.EOF
	}
	n := copy(p, c.resp[c.off:])
	c.off += n
	return n, nil
}

// BenchmarkDial measures the client's side of the opening handshake over
// a transport that answers at once: the request, the key, the checks of
// the response and the new connection, closed again at once. The
// answering side's own parsing is part of the figure.
func BenchmarkDial(b *testing.B) {
	ac := &answerConn{}
	opts := &DialOptions{NetDial: func(context.Context, string, string) (net.Conn, error) { return ac, nil }}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		c, _, err := Dial(ctx, "ws://example.test/chat", opts)
		if err != nil {
			b.Fatal(err)
		}
		c.CloseNow()
	}
}

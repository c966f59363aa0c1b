//go:build !js

package ws

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
)

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
			&AcceptOptions{Subprotocols: []string{"chat"}, Options: Options{Compression: &CompressionOptions{}}}},
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

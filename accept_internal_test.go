package ws

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/http"
	"testing"

	"github.com/seed-d6ba7b20/ws/internal/frame"
	"github.com/seed-d6ba7b20/ws/internal/wstest"
)

// TestSwitchingProtocolsBytes pins the 101 response byte for byte, with
// the key of RFC 6455 section 1.3.
func TestSwitchingProtocolsBytes(t *testing.T) {
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader([]byte(
		"GET / HTTP/1.1\r\nHost: x\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"))))
	if err != nil {
		t.Fatal(err)
	}
	const head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
	if got := string(switchingProtocols(r, &AcceptOptions{}, "", "")); got != head+"\r\n" {
		t.Errorf("plain response:\n%q\nwant\n%q", got, head+"\r\n")
	}
	opts := &AcceptOptions{ResponseHeader: http.Header{
		"Set-Cookie":             {"a=b"},
		"Upgrade":                {"h2c"},       // the handshake's own
		"sec-websocket-protocol": {"other"},     // the handshake's own, in any case
		"X-Bad":                  {"1\r\nX: 2"}, // a line break must not split it
	}}
	got := string(switchingProtocols(r, opts, "chat", "permessage-deflate"))
	want := head + "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Extensions: permessage-deflate\r\n"
	// Map order decides the order of the extra lines.
	extra1, extra2 := "Set-Cookie: a=b\r\n", "X-Bad: 1  X: 2\r\n"
	if got != want+extra1+extra2+"\r\n" && got != want+extra2+extra1+"\r\n" {
		t.Errorf("response:\n%q\nwant\n%q (extra lines in either order)", got, want+extra1+extra2+"\r\n")
	}
}

// TestAcceptReleasesBuffers checks that Accept keeps the bytes the client
// sent behind its request, and drops net/http's buffers.
func TestAcceptReleasesBuffers(t *testing.T) {
	msg := wstest.AppendClientFrame(nil, frame.Header{Fin: true, Opcode: frame.OpBinary}, []byte("early"))
	br := bufio.NewReader(bytes.NewReader(msg))
	if _, err := br.Peek(len(msg)); err != nil {
		t.Fatal(err)
	}
	brw := bufio.NewReadWriter(br, bufio.NewWriter(nil))
	nc := &scriptConn{r: bytes.NewReader(nil)}
	w := &hijackWriter{h: http.Header{}, nc: nc, brw: brw}
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader([]byte(
		"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"))))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Accept(w, r, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if brw.Reader.Size() != 0 || brw.Writer.Size() != 0 {
		t.Errorf("net/http's buffers are kept: reader %d B, writer %d B", brw.Reader.Size(), brw.Writer.Size())
	}
	_, p, err := c.Read(context.Background())
	if err != nil || string(p) != "early" {
		t.Fatalf("Read = %q, %v; want the early frame", p, err)
	}
}

// TestDialEarlyFramesPooledReader dials three times, so that the later
// Dials are likely to read their responses through an earlier one's pooled
// reader, and only then reads the frames each server sent right behind its
// response: each connection must have kept its own copy.
func TestDialEarlyFramesPooledReader(t *testing.T) {
	var conns []*Conn
	for _, text := range []string{"first", "second", "third"} {
		ac := &answerConn{after: append([]byte{0x81, byte(len(text))}, text...)}
		c, _, err := Dial(context.Background(), "ws://example.test/", &DialOptions{
			NetDial: func(context.Context, string, string) (net.Conn, error) { return ac, nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		conns = append(conns, c)
	}
	for i, want := range []string{"first", "second", "third"} {
		_, p, err := conns[i].Read(context.Background())
		if err != nil || string(p) != want {
			t.Fatalf("connection %d: Read = %q, %v; want %q", i, p, err, want)
		}
	}
}

//go:build !js

package ws

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
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

// slowSameOrigin is checkOrigin's same-origin rule by url.Parse, which
// sameOrigin must agree with whenever it says yes.
func slowSameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, host)
}

func TestSameOrigin(t *testing.T) {
	cases := []struct {
		origin, host string
		want         bool
	}{
		{"http://example.com", "example.com", true},
		{"https://Example.COM:8443", "example.com:8443", true},
		{"http://127.0.0.1:80", "127.0.0.1:80", true},
		{"http://example.com", "example.com:80", false},
		{"http://example.com/", "example.com", false},          // url.Parse decides
		{"http://user@example.com", "user@example.com", false}, // userinfo
		{"http://[::1]:80", "[::1]:80", false},                 // url.Parse decides
		{"http://a b", "a b", false},
		{"http://a:b", "a:b", false},
		{"http://a:", "a:", false},
		{"http://:80", ":80", false},
		{"ftp://example.com", "example.com", false},
		{"example.com", "example.com", false},
		{"", "", false},
	}
	for _, tc := range cases {
		if got := sameOrigin(tc.origin, tc.host); got != tc.want {
			t.Errorf("sameOrigin(%q, %q) = %v, want %v", tc.origin, tc.host, got, tc.want)
		}
		if sameOrigin(tc.origin, tc.host) && !slowSameOrigin(tc.origin, tc.host) {
			t.Errorf("sameOrigin(%q, %q) accepts what url.Parse does not", tc.origin, tc.host)
		}
	}
}

// FuzzSameOrigin checks that the fast path accepts nothing the parsed
// rule rejects.
func FuzzSameOrigin(f *testing.F) {
	f.Add("http://example.com:80", "example.com:80")
	f.Add("https://a.b", "A.B")
	f.Add("http://[::1]", "[::1]")
	f.Fuzz(func(t *testing.T, origin, host string) {
		if sameOrigin(origin, host) && !slowSameOrigin(origin, host) {
			t.Fatalf("sameOrigin(%q, %q) accepts what url.Parse does not", origin, host)
		}
		// The same host behind either scheme.
		for _, o := range []string{"http://" + host, "https://" + host} {
			if sameOrigin(o, host) && !slowSameOrigin(o, host) {
				t.Fatalf("sameOrigin(%q, %q) accepts what url.Parse does not", o, host)
			}
		}
	})
}

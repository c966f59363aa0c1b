//go:build !js

package ws

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
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

// BenchmarkServe measures whole connections over loopback TCP, as a
// client makes them: connect, the opening handshake, then the close
// handshake (the client sends a close frame, reads the server's, and
// waits for the server to close the TCP connection). The server is a
// Server, run by Serve's own accept loop or mounted on an http.Server.
// Both sides run in the process, so the figures include the client's
// small share.
func BenchmarkServe(b *testing.B) {
	for _, via := range []string{"Serve", "http.Server"} {
		b.Run("via="+via, func(b *testing.B) {
			addr, stop := startServe(b, via)
			defer stop()
			req, closeFrame := serveRequest(addr)
			buf := make([]byte, 512)
			b.ReportAllocs()
			for b.Loop() {
				if err := benchConnection(addr, req, closeFrame, buf); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
		})
	}
}

// startServe starts a Server whose handler reads until the connection
// ends, served by Serve or by an http.Server (via), and returns its
// address and the function that stops it.
func startServe(tb testing.TB, via string) (addr string, stop func()) {
	s := &Server{Handler: func(c *Conn, r *http.Request) {
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				return
			}
		}
	}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var hs *http.Server
	if via == "Serve" {
		go func() { done <- s.Serve(ctx, ln) }()
	} else {
		hs = &http.Server{Handler: s}
		go func() { done <- hs.Serve(ln) }()
	}
	return ln.Addr().String(), func() {
		cancel()
		if hs != nil {
			hs.Close()
			s.Shutdown(context.Background())
		}
		<-done
	}
}

// serveRequest returns a client's handshake request to addr and its
// masked close frame with status 1000.
func serveRequest(addr string) (req, closeFrame []byte) {
	req = []byte("GET /chat HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	return req, []byte{0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xe8 ^ 2}
}

// benchConnection is one connection of BenchmarkServe.
func benchConnection(addr string, req, closeFrame, buf []byte) error {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer nc.Close()
	if _, err := nc.Write(req); err != nil {
		return err
	}
	// The 101 response, then the close frame: read until the end of the
	// headers, send the close frame, and read to the end of the stream.
	n := 0
	for !bytes.Contains(buf[:n], []byte("\r\n\r\n")) {
		m, err := nc.Read(buf[n:])
		if err != nil {
			return err
		}
		n += m
	}
	if !bytes.HasPrefix(buf, []byte("HTTP/1.1 101 ")) {
		return errors.New("refused: " + string(buf[:n]))
	}
	if _, err := nc.Write(closeFrame); err != nil {
		return err
	}
	for {
		if _, err := nc.Read(buf); err != nil {
			if err == io.EOF {
				nc.(*net.TCPConn).SetLinger(0)
				return nil
			}
			return err
		}
	}
}

// TestServeAllocs guards what Serve's own accept loop saves: a whole
// connection (BenchmarkServe's, client included) costs at least 15
// allocations fewer than with the same Server mounted on an http.Server,
// and no more than 52 allocations and 4,608 bytes in all (49 and about
// 3,300 when this was written, against 70 and 13,200; before the read
// buffer went back to its pool when the peer closed, 11,500 bytes).
func TestServeAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates; .ci/test runs this without it")
	}
	type cost struct{ allocs, bytes float64 }
	per := map[string]cost{}
	for _, via := range []string{"Serve", "http.Server"} {
		addr, stop := startServe(t, via)
		req, closeFrame := serveRequest(addr)
		buf := make([]byte, 512)
		connect := func() {
			if err := benchConnection(addr, req, closeFrame, buf); err != nil {
				t.Fatal(err)
			}
		}
		const n = 300
		allocs := testing.AllocsPerRun(n, connect)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range n {
			connect()
		}
		runtime.ReadMemStats(&after)
		per[via] = cost{allocs, float64(after.TotalAlloc-before.TotalAlloc) / n}
		stop()
	}
	t.Logf("per connection: %+v", per)
	if s, h := per["Serve"], per["http.Server"]; s.allocs > 52 || h.allocs-s.allocs < 15 || s.bytes > 4608 {
		t.Errorf("per connection: %+v; want at most 52 allocations and 4,608 bytes with Serve, and 15 allocations fewer than with http.Server", per)
	}
}

//go:build !js

package ws

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws/internal/deflate"
	"github.com/seed-d6ba7b20/ws/internal/frame"
	"github.com/seed-d6ba7b20/ws/internal/handshake"
	"github.com/seed-d6ba7b20/ws/internal/wstest"
)

// Transports, frames and flags shared by the package's internal tests and
// benchmarks.

// loopConn replays a stream of frames forever and discards writes, so
// benchmarks measure the connection's own cost per message.
type loopConn struct {
	data   []byte
	off    int
	writes int // Write calls, each a syscall on a socket
}

func (c *loopConn) Read(p []byte) (int, error) {
	n := copy(p, c.data[c.off:])
	c.off += n
	if c.off == len(c.data) {
		c.off = 0
	}
	return n, nil
}
func (c *loopConn) Write(p []byte) (int, error)      { c.writes++; return len(p), nil }
func (c *loopConn) Close() error                     { return nil }
func (c *loopConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *loopConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *loopConn) SetDeadline(time.Time) error      { return nil }
func (c *loopConn) SetReadDeadline(time.Time) error  { return nil }
func (c *loopConn) SetWriteDeadline(time.Time) error { return nil }

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

// HostileRace tells the hostile-input suite (hostile_test.go, in package
// ws_test) whether the race detector is on: raceEnabled is set by the
// build tags of race_test.go and norace_test.go, which only this package
// sees. Under the race detector the suite checks codes, goroutines and
// times but not heap bounds, which the detector's shadow memory distorts.
const HostileRace = raceEnabled

// scriptConn is a net.Conn that reads a fixed script and swallows writes.
type scriptConn struct {
	r   *bytes.Reader
	out bytes.Buffer
}

func (c *scriptConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *scriptConn) Write(p []byte) (int, error)      { c.out.Write(p); return len(p), nil }
func (c *scriptConn) Close() error                     { return nil }
func (c *scriptConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *scriptConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *scriptConn) SetDeadline(time.Time) error      { return nil }
func (c *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptConn) SetWriteDeadline(time.Time) error { return nil }

var benchSizes = []int{16, 1 << 10, 64 << 10, 1 << 20}

// clientFrames encodes count masked binary messages of size bytes, as a
// server reads them.
func clientFrames(size, count int) []byte {
	var b []byte
	payload := make([]byte, size)
	for i := 0; i < count; i++ {
		b = wstest.AppendClientFrame(b, frame.Header{Fin: true, Opcode: frame.OpBinary}, payload)
	}
	return b
}

// deflated compresses msg as permessage-deflate sends a message without
// context takeover, at level 1.
func deflated(t testing.TB, msg []byte) []byte {
	t.Helper()
	comp, err := deflate.NewCompressor(deflate.Side{NoContextTakeover: true}, deflate.CompressorOptions{Level: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer comp.Close()
	p, err := comp.Compress(nil, msg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// replayConn returns a server's connection that reads data over and over
// and discards what it writes, with permessage-deflate without context
// takeover in both directions when compressed is set.
func replayConn(t testing.TB, data []byte, compressed bool) *Conn {
	t.Helper()
	opts := &Options{Compression: &CompressionOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true}}
	c := newConn(&loopConn{data: data}, false, opts, nil)
	if compressed {
		nct := deflate.Params{ServerNoContextTakeover: true, ClientNoContextTakeover: true}
		if err := c.setCompression(nct, opts.Compression); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

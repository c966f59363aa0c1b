//go:build !js

package ws_test

// The hostile-input suite: peers that break the rules on purpose, to
// exhaust memory, hold goroutines, or hang the other side. It is apart
// from the conformance suite, which checks that the library follows
// RFC 6455 and RFC 7692; this one checks what the library costs while a
// peer does not.
//
// Every attack is raw bytes over TCP, built here by hand (hostileHeader
// and hf), never by the library. Each case of the two tables states what
// it expects (the server's close code, the HTTP status of a handshake, or
// the error Dial or Read returns), a bound on the peak heap during the
// case and a bound on its time. The cases run one after another, so that
// each heap figure is the case's own: the heap is sampled every
// millisecond from runtime/metrics, and the figure is the peak of
// /memory/classes/heap/objects:bytes, which counts garbage not yet
// collected, over its value after a GC at the start. After each case the
// goroutines must return to their number before it.
//
// Under the race detector every case runs and every check holds but the
// heap bounds, which its shadow memory distorts (the figures are logged),
// time bounds are five times longer, and some cases run smaller (see
// hostileScale and hostileLimit).

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/seed-d6ba7b20/ws"
)

// Opcodes and reserved bits as the suite writes them.
const (
	hCont  = 0x0
	hText  = 0x1
	hBin   = 0x2
	hClose = 0x8
	hPing  = 0x9
	hPong  = 0xA

	hRSV1 = 0x4
	hRSV2 = 0x2
	hRSV3 = 0x1
)

var (
	// hostileLimit is the read limit of the connections under attack:
	// the default, DefaultReadLimit (32 MiB). Under the race detector it
	// is 4 MiB, set with Options.ReadLimit, the one setting that differs
	// there: the cases at the limit then move an eighth of the bytes
	// through instrumented code, which at 32 MiB takes seconds a case and
	// the package past its timeout.
	hostileLimit = int64(hostileScale(ws.DefaultReadLimit, 4<<20))
	// hostileLimitHeap bounds the peak heap of a case that makes one
	// connection hold a message at the read limit: messageHeap(32 MiB),
	// 72 MiB (unchecked under the race detector).
	hostileLimitHeap = messageHeap(hostileLimit)
)

// hostileReadLimitOption is the Options.ReadLimit that gives
// hostileLimit: 0 for the default, but under the race detector.
func hostileReadLimitOption() int64 {
	if ws.HostileRace {
		return hostileLimit
	}
	return 0
}

const (
	// hostileSmallHeap bounds cases that should cost next to nothing: a
	// handshake, some frames, the close.
	hostileSmallHeap = 4 << 20
	// hostileQuick is the time bound of cases that only need a few round
	// trips on loopback.
	hostileQuick = time.Second
)

// messageHeap is the bound on the peak heap of a case whose server holds
// a message of n bytes: 2n plus 8 MiB. A buffer that grows by doubling
// holds 1.5n while its last copy runs; the heap figure also counts the
// garbage of its earlier sizes (n/2 more at most) until a GC cycle frees
// it, and measured peaks sit between the two (56 to 60 MiB for 32 MiB).
// The 8 MiB are for the rest: the connection's pooled buffers, the
// inflater and compressor, and the test's own reading of the echo.
func messageHeap(n int64) int64 { return 2*n + 8<<20 }

// hostileTime is a case's time bound as the build runs it: five times
// longer under the race detector, which slows the code it instruments.
func hostileTime(d time.Duration) time.Duration {
	if ws.HostileRace {
		return 5 * d
	}
	return d
}

// hostileScale picks the size of a case that is too slow under the race
// detector at full size: n normally, small under the detector.
func hostileScale(n, small int) int {
	if ws.HostileRace {
		return small
	}
	return n
}

// ---------------------------------------------------------------------------
// Frames, built by hand.

// hostileKey is the masking key of every masked frame the suite sends.
var hostileKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// hostileHeader encodes a frame header claiming n payload bytes. size is
// the length's form: 0 for the shortest, or 1, 2 or 8 to force the 7-bit,
// 16-bit or 64-bit form whatever n is (which makes a header invalid for
// some n). rsv is the three reserved bits, RSV1 highest; masked adds
// hostileKey.
func hostileHeader(fin bool, rsv, op byte, n uint64, size int, masked bool) []byte {
	return hostileAppendHeader(make([]byte, 0, 14), fin, rsv, op, n, size, masked)
}

// hostileAppendHeader appends the header of hostileHeader to b.
func hostileAppendHeader(b []byte, fin bool, rsv, op byte, n uint64, size int, masked bool) []byte {
	b0 := rsv<<4 | op&0x0f
	if fin {
		b0 |= 0x80
	}
	var m byte
	if masked {
		m = 0x80
	}
	if size == 0 {
		switch {
		case n < 126:
			size = 1
		case n <= 0xffff:
			size = 2
		default:
			size = 8
		}
	}
	b = append(b, b0)
	switch size {
	case 1:
		b = append(b, m|byte(n))
	case 2:
		b = append(b, m|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, m|127)
		b = binary.BigEndian.AppendUint64(b, n)
	}
	if masked {
		b = append(b, hostileKey[:]...)
	}
	return b
}

// hostileMask masks p with hostileKey, or unmasks it; pos is the offset of
// p's first byte in the payload.
func hostileMask(p []byte, pos int64) {
	for i := range p {
		p[i] ^= hostileKey[(pos+int64(i))&3]
	}
}

// hf is a client's frame: masked, its length in the shortest form.
func hf(fin bool, rsv, op byte, p []byte) []byte {
	b := hostileHeader(fin, rsv, op, uint64(len(p)), 0, true)
	start := len(b)
	b = append(b, p...)
	hostileMask(b[start:], 0)
	return b
}

// hfUnmasked is a frame without a mask: a server's, or a client's that
// breaks the rules.
func hfUnmasked(fin bool, rsv, op byte, p []byte) []byte {
	return append(hostileHeader(fin, rsv, op, uint64(len(p)), 0, false), p...)
}

// hostileFragments cuts p into client frames of size bytes: the first of
// opcode op, with RSV1 when compressed, the rest continuations.
func hostileFragments(op byte, compressed bool, p []byte, size int) []byte {
	var b []byte
	for first := true; first || len(p) > 0; first = false {
		k := min(size, len(p))
		o, rsv := byte(hCont), byte(0)
		if first {
			o = op
			if compressed {
				rsv = hRSV1
			}
		}
		b = append(b, hf(k == len(p), rsv, o, p[:k])...)
		p = p[k:]
	}
	return b
}

// hostileClosePayload is a close frame's payload.
func hostileClosePayload(code int, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(code)), reason...)
}

// hostilePattern is the byte at offset off of the suite's large messages.
func hostilePattern(off int64) byte { return byte(off % 251) }

func hostilePatternBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = hostilePattern(int64(i))
	}
	return b
}

// hostileWritePattern writes count binary messages of n pattern bytes,
// each as masked frames of at most frag bytes (one frame if frag is 0),
// through one 64 KiB buffer, so that no message is ever held whole and
// the writing makes next to no garbage, which the heap figures would
// count.
func hostileWritePattern(w io.Writer, n, frag int64, count int) error {
	if frag <= 0 {
		frag = max(n, 1)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	buf := make([]byte, 32<<10+14)
	for range count {
		if err := hostileWriteMessage(bw, buf, n, frag); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func hostileWriteMessage(bw *bufio.Writer, buf []byte, n, frag int64) error {
	var off int64
	for first := true; first || off < n; first = false {
		fl := min(frag, n-off)
		op := byte(hCont)
		if first {
			op = hBin
		}
		if _, err := bw.Write(hostileAppendHeader(buf[:0], off+fl == n, 0, op, uint64(fl), 0, true)); err != nil {
			return err
		}
		for pos := int64(0); pos < fl; {
			k := min(int64(len(buf)), fl-pos)
			for i := range k {
				buf[i] = hostilePattern(off + pos + i)
			}
			hostileMask(buf[:k], pos)
			if _, err := bw.Write(buf[:k]); err != nil {
				return err
			}
			pos += k
		}
		off += fl
	}
	return nil
}

// ---------------------------------------------------------------------------
// Compressed payloads (RFC 7692), made with compress/flate.

// hostileTail is what a flush ends with, and what RFC 7692 section 7.2.1
// strips from the end of a message.
var hostileTail = []byte{0, 0, 0xff, 0xff}

// hostileDeflate compresses p as one permessage-deflate message: raw
// deflate, flushed, less the tail.
func hostileDeflate(p []byte) []byte {
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestCompression)
	fw.Write(p)
	fw.Flush()
	b, ok := bytes.CutSuffix(buf.Bytes(), hostileTail)
	if !ok {
		panic("hostileDeflate: a flush without its tail")
	}
	return b
}

// hostileZeroSegment is 1 MiB of zeros that compress/flate compressed and
// flushed (1,037 bytes). A flush ends at a byte boundary and the segment
// refers to nothing before it, so segments one after another are a valid
// deflate stream: that is how the bombs reach 1 GiB without compressing
// a gigabyte.
var hostileZeroSegment = sync.OnceValue(func() []byte {
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestCompression)
	fw.Write(make([]byte, 1<<20))
	fw.Flush()
	return buf.Bytes()
})

// hostileZeros is a compressed message that inflates to mib MiB of zeros.
func hostileZeros(mib int) []byte {
	seg := hostileZeroSegment()
	b := make([]byte, 0, mib*len(seg))
	for range mib {
		b = append(b, seg...)
	}
	return b[:len(b)-len(hostileTail)]
}

var (
	// hostileBombLimit is one frame that inflates to exactly the read
	// limit: 33,180 bytes for 32 MiB.
	hostileBombLimit = sync.OnceValue(func() []byte { return hf(true, hRSV1, hBin, hostileZeros(int(hostileLimit>>20))) })
	// hostileBomb1G is one frame of 1 MiB that inflates to 1 GiB.
	hostileBomb1G = sync.OnceValue(func() []byte { return hf(true, hRSV1, hBin, hostileZeros(1024)) })
	// hostileBomb1GFrag is the same message in 1 KiB fragments.
	hostileBomb1GFrag = sync.OnceValue(func() []byte { return hostileFragments(hBin, true, hostileZeros(1024), 1<<10) })
)

// ---------------------------------------------------------------------------
// The raw client.

// hostileConn is a raw client connection after its handshake.
type hostileConn struct {
	nc        *net.TCPConn
	br        *bufio.Reader
	closeSent bool
}

// hostileKeyHeader is the Sec-WebSocket-Key of the suite's requests.
const hostileKeyHeader = "dGhlIHNhbXBsZSBub25jZQ=="

// hostileAcceptKey computes Sec-WebSocket-Accept (RFC 6455 section 4.2.2).
func hostileAcceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// hostileRequest is a handshake request for host, offering
// permessage-deflate when compress is set.
func hostileRequest(host string, compress bool) string {
	s := "GET / HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + hostileKeyHeader + "\r\nSec-WebSocket-Version: 13\r\n"
	if compress {
		s += "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
	}
	return s + "\r\n"
}

// hostileHdr is a decoded frame header.
type hostileHdr struct {
	fin    bool
	rsv    byte
	op     byte
	masked bool
	key    [4]byte
	n      uint64
}

func hostileReadHdr(br *bufio.Reader) (hostileHdr, error) {
	var b [8]byte
	if _, err := io.ReadFull(br, b[:2]); err != nil {
		return hostileHdr{}, err
	}
	h := hostileHdr{fin: b[0]&0x80 != 0, rsv: b[0] >> 4 & 7, op: b[0] & 0x0f, masked: b[1]&0x80 != 0, n: uint64(b[1] & 0x7f)}
	switch h.n {
	case 126:
		if _, err := io.ReadFull(br, b[:2]); err != nil {
			return h, err
		}
		h.n = uint64(binary.BigEndian.Uint16(b[:2]))
	case 127:
		if _, err := io.ReadFull(br, b[:8]); err != nil {
			return h, err
		}
		h.n = binary.BigEndian.Uint64(b[:8])
	}
	if h.masked {
		if _, err := io.ReadFull(br, h.key[:]); err != nil {
			return h, err
		}
	}
	return h, nil
}

// hostileReadClose reads frames from br until a close frame and returns
// its code (0 for a close frame without one) and reason; -1 when the
// stream ends first. Other frames are dropped; masked ones are unmasked.
func hostileReadClose(br *bufio.Reader) (int, string, error) {
	for {
		h, err := hostileReadHdr(br)
		if err != nil {
			return -1, "", err
		}
		if h.op != hClose {
			if h.n > 1<<40 {
				return -1, "", fmt.Errorf("a frame claiming %d bytes", h.n)
			}
			if _, err := io.CopyN(io.Discard, br, int64(h.n)); err != nil {
				return -1, "", err
			}
			continue
		}
		if h.n > 125 {
			return -1, "", fmt.Errorf("a close frame of %d bytes", h.n)
		}
		p := make([]byte, h.n)
		if _, err := io.ReadFull(br, p); err != nil {
			return -1, "", err
		}
		if h.masked {
			for i := range p {
				p[i] ^= h.key[i&3]
			}
		}
		if len(p) < 2 {
			return 0, "", nil
		}
		return int(binary.BigEndian.Uint16(p)), string(p[2:]), nil
	}
}

// awaitClose waits until deadline for the server's close frame, answers
// it with the same code, and returns its code, or -1.
func (c *hostileConn) awaitClose(t *testing.T, deadline time.Time) int {
	t.Helper()
	c.nc.SetReadDeadline(deadline)
	code, reason, err := hostileReadClose(c.br)
	if err != nil {
		t.Logf("no close frame: %v", err)
		return -1
	}
	t.Logf("close frame %d %q", code, reason)
	if !c.closeSent {
		c.closeSent = true
		c.nc.SetWriteDeadline(deadline)
		var p []byte
		if code > 0 {
			p = hostileClosePayload(code, "")
		}
		c.nc.Write(hf(true, 0, hClose, p))
	}
	return code
}

// closeNormally starts the close handshake with 1000 and returns the code
// of the server's answer, or -1.
func (c *hostileConn) closeNormally(t *testing.T, deadline time.Time) int {
	t.Helper()
	c.closeSent = true
	c.nc.SetWriteDeadline(deadline)
	if _, err := c.nc.Write(hf(true, 0, hClose, hostileClosePayload(1000, ""))); err != nil {
		t.Logf("sending close: %v", err)
	}
	return c.awaitClose(t, deadline)
}

// readMessage reads the server's next data message into sink, inflating
// it if it is compressed (up to 8 MiB of compressed bytes), and returns
// its opcode and length, and how many pongs came before its end. A close
// frame on the way is an error.
func (c *hostileConn) readMessage(deadline time.Time, sink func([]byte) error) (op byte, n int64, pongs int, err error) {
	c.nc.SetReadDeadline(deadline)
	var comp []byte
	compressed := false
	first := true
	buf := make([]byte, 32<<10)
	for {
		h, err := hostileReadHdr(c.br)
		if err != nil {
			return 0, n, pongs, err
		}
		switch {
		case h.op == hClose:
			p := make([]byte, min(h.n, 125))
			io.ReadFull(c.br, p)
			code := -1
			if len(p) >= 2 {
				code = int(binary.BigEndian.Uint16(p))
			}
			return 0, n, pongs, fmt.Errorf("close frame %d %q instead of a message", code, p[min(2, len(p)):])
		case h.op >= hClose:
			if h.op == hPong {
				pongs++
			}
			if _, err := io.CopyN(io.Discard, c.br, int64(min(h.n, 125))); err != nil {
				return 0, n, pongs, err
			}
			continue
		case h.masked:
			return 0, n, pongs, errors.New("a masked frame from the server")
		}
		if first {
			op, compressed, first = h.op, h.rsv&hRSV1 != 0, false
		}
		if compressed {
			if uint64(len(comp))+h.n > 8<<20 {
				return op, n, pongs, fmt.Errorf("compressed echo over 8 MiB")
			}
			start := len(comp)
			comp = append(comp, make([]byte, h.n)...)
			if _, err := io.ReadFull(c.br, comp[start:]); err != nil {
				return op, n, pongs, err
			}
		} else {
			for left := int64(h.n); left > 0; {
				k, err := io.ReadFull(c.br, buf[:min(int64(len(buf)), left)])
				n += int64(k)
				left -= int64(k)
				if err != nil {
					return op, n, pongs, err
				}
				if err := sink(buf[:k]); err != nil {
					return op, n, pongs, err
				}
			}
		}
		if !h.fin {
			continue
		}
		if !compressed {
			return op, n, pongs, nil
		}
		fr := flate.NewReader(io.MultiReader(bytes.NewReader(comp), bytes.NewReader(hostileTail)))
		for {
			k, err := fr.Read(buf)
			n += int64(k)
			if k > 0 {
				if err := sink(buf[:k]); err != nil {
					return op, n, pongs, err
				}
			}
			if err == io.ErrUnexpectedEOF || err == io.EOF {
				// The stream stops at the flush, with no final block.
				return op, n, pongs, nil
			}
			if err != nil {
				return op, n, pongs, err
			}
		}
	}
}

// hostileCollect is a sink that keeps the message.
func hostileCollect(b *[]byte) func([]byte) error {
	return func(p []byte) error {
		if len(*b)+len(p) > 1<<20 {
			return errors.New("message over 1 MiB")
		}
		*b = append(*b, p...)
		return nil
	}
}

// hostilePatternSink checks that the message is hostilePattern's bytes.
func hostilePatternSink() func([]byte) error {
	var off int64
	return func(p []byte) error {
		for i, c := range p {
			if c != hostilePattern(off+int64(i)) {
				return fmt.Errorf("byte %d of the echo is %#x, want %#x", off+int64(i), c, hostilePattern(off+int64(i)))
			}
		}
		off += int64(len(p))
		return nil
	}
}

// hostileZeroSink checks that the message is zeros.
func hostileZeroSink() func([]byte) error {
	var off int64
	return func(p []byte) error {
		for i, c := range p {
			if c != 0 {
				return fmt.Errorf("byte %d of the echo is %#x, want 0", off+int64(i), c)
			}
		}
		off += int64(len(p))
		return nil
	}
}

// hostileRST closes nc with a TCP RST rather than a FIN.
func hostileRST(nc net.Conn) {
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	nc.Close()
}

// ---------------------------------------------------------------------------
// Measurement.

// hostileMeter samples the heap every millisecond and keeps the peak.
type hostileMeter struct {
	base, peak uint64
	stopc      chan struct{}
	done       chan struct{}
}

const hostileHeapMetric = "/memory/classes/heap/objects:bytes"

func startHostileMeter() *hostileMeter {
	runtime.GC()
	s := []metrics.Sample{{Name: hostileHeapMetric}}
	metrics.Read(s)
	m := &hostileMeter{base: s[0].Value.Uint64(), stopc: make(chan struct{}), done: make(chan struct{})}
	m.peak = m.base
	go func() {
		defer close(m.done)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			m.peak = max(m.peak, s[0].Value.Uint64())
			select {
			case <-m.stopc:
				return
			case <-t.C:
			}
		}
	}()
	return m
}

// stop ends the sampling and returns the peak over the base, in bytes.
// The base is the heap after the GC, before the case.
func (m *hostileMeter) stop() int64 {
	select {
	case <-m.stopc:
	default:
		close(m.stopc)
	}
	<-m.done
	return int64(m.peak - m.base)
}

// hostileWaitGoroutines waits up to five seconds for the goroutines to
// come back to base.
func hostileWaitGoroutines(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(hostileTime(5 * time.Second))
	for {
		n := runtime.NumGoroutine()
		if n <= base {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 64<<10)
			buf = buf[:runtime.Stack(buf, true)]
			t.Errorf("%d goroutines 5 s after the case, %d before it; the first of them:\n%s", n, base, buf)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func hostileMiB(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// hostileSummary collects one line per case, logged at the end of its
// test as a table.
type hostileSummary struct {
	mu    sync.Mutex
	lines []string
}

func (s *hostileSummary) add(format string, args ...any) {
	s.mu.Lock()
	s.lines = append(s.lines, fmt.Sprintf(format, args...))
	s.mu.Unlock()
}

func (s *hostileSummary) log(t *testing.T) {
	t.Logf("%-42s %-6s %10s %10s %9s %9s %s", "case", "result", "peak heap", "bound", "time", "bound", "got")
	for _, l := range s.lines {
		t.Log(l)
	}
}

// ---------------------------------------------------------------------------
// The server under attack.

// hostileResult is how one connection of the server ended.
type hostileResult struct {
	err     error // the error of Accept, or of the read or write that ended the echo
	connErr error // the connection's Err afterwards
	at      time.Time
}

// hostileServer accepts with the options of the case and echoes every
// message through one of the read paths.
type hostileServer struct {
	path   string // "read", "readappend", "reader" or "messages"
	opts   *ws.AcceptOptions
	mu     sync.Mutex
	res    []hostileResult
	notify chan struct{}
}

func (s *hostileServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, err := ws.Accept(w, r, s.opts)
	if err != nil {
		s.report(hostileResult{err: err, at: time.Now()})
		return
	}
	err = hostileEcho(c, s.path)
	res := hostileResult{err: err, connErr: c.Err(), at: time.Now()}
	c.CloseNow()
	s.report(res)
}

func (s *hostileServer) report(r hostileResult) {
	s.mu.Lock()
	s.res = append(s.res, r)
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// wait waits until deadline for n connections to end, and returns how
// all that ended did.
func (s *hostileServer) wait(n int, deadline time.Time) []hostileResult {
	for {
		s.mu.Lock()
		res := s.res
		s.mu.Unlock()
		if len(res) >= n {
			return res
		}
		select {
		case <-s.notify:
		case <-time.After(time.Until(deadline)):
			return res
		}
	}
}

// hostileEcho echoes messages until the connection ends, reading them
// with path's API, and returns the error that ended it.
func hostileEcho(c *ws.Conn, path string) error {
	ctx := context.Background()
	switch path {
	case "readappend":
		var buf []byte
		for {
			typ, b, err := c.ReadAppend(ctx, buf[:0])
			if err != nil {
				return err
			}
			buf = b
			if err := c.Write(ctx, typ, b); err != nil {
				return err
			}
		}
	case "reader":
		for {
			typ, r, err := c.Reader(ctx)
			if err != nil {
				return err
			}
			w, err := c.Writer(ctx, typ)
			if err != nil {
				return err
			}
			if _, err := io.Copy(w, r); err != nil {
				w.Close()
				return err
			}
			if err := w.Close(); err != nil {
				return err
			}
		}
	case "messages":
		for m := range c.Messages() {
			if err := c.Write(ctx, m.Type, m.Data); err != nil {
				return err
			}
		}
		return c.Err()
	default:
		for {
			typ, b, err := c.Read(ctx)
			if err != nil {
				return err
			}
			if err := c.Write(ctx, typ, b); err != nil {
				return err
			}
		}
	}
}

// hostilePaths are the read paths the cases about large messages run
// through, since a defect may lie in one of them only.
var hostilePaths = []string{"read", "readappend", "reader", "messages"}

// hostileAttack is what an attack works with.
type hostileAttack struct {
	t        *testing.T
	addr     string
	srv      *hostileServer
	g0       int       // goroutines before the case
	deadline time.Time // when waiting for the server gives up
	mu       sync.Mutex
	conns    []net.Conn
	wg       sync.WaitGroup
}

// hostileOutcome is what an attack saw.
type hostileOutcome struct {
	code   int // the close code of the server's close frame, -1 for none
	status int // the HTTP status of the handshake
	conns  int // connections the case opened, for the heap per connection
}

func (a *hostileAttack) track(nc net.Conn) {
	a.mu.Lock()
	a.conns = append(a.conns, nc)
	a.mu.Unlock()
}

// closeAll resets every connection the attack opened.
func (a *hostileAttack) closeAll() {
	a.mu.Lock()
	conns := a.conns
	a.conns = nil
	a.mu.Unlock()
	for _, nc := range conns {
		hostileRST(nc)
	}
}

func (a *hostileAttack) dial() *net.TCPConn {
	a.t.Helper()
	nc, err := net.DialTimeout("tcp", a.addr, 5*time.Second)
	if err != nil {
		a.t.Fatal(err)
	}
	a.track(nc)
	return nc.(*net.TCPConn)
}

// handshake opens a connection and upgrades it, offering compression when
// compress is set (which the server then always accepts).
func (a *hostileAttack) handshake(compress bool) *hostileConn {
	a.t.Helper()
	nc := a.dial()
	nc.SetDeadline(a.deadline)
	if _, err := io.WriteString(nc, hostileRequest(a.addr, compress)); err != nil {
		a.t.Fatal(err)
	}
	br := bufio.NewReaderSize(nc, 16<<10)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		a.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != hostileAcceptKey(hostileKeyHeader) {
		a.t.Fatalf("handshake: %s %v", resp.Status, resp.Header)
	}
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); compress != strings.HasPrefix(ext, "permessage-deflate") {
		a.t.Fatalf("offered compression %v, agreed on %q", compress, ext)
	}
	nc.SetDeadline(time.Time{})
	return &hostileConn{nc: nc, br: br}
}

// send writes b on another goroutine, so the attack can read while it
// writes; a write the server cuts short by closing is no failure.
func (a *hostileAttack) send(c *hostileConn, b ...[]byte) {
	a.goWrite(func() {
		for _, p := range b {
			if _, err := c.nc.Write(p); err != nil {
				return
			}
		}
	})
}

// goWrite runs f on a goroutine the case waits for.
func (a *hostileAttack) goWrite(f func()) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		f()
	}()
}

// frames sends frames after a handshake and returns the close code the
// server answers with.
func frames(compress bool, fs ...[]byte) func(a *hostileAttack) hostileOutcome {
	return func(a *hostileAttack) hostileOutcome {
		c := a.handshake(compress)
		a.send(c, fs...)
		return hostileOutcome{code: c.awaitClose(a.t, a.deadline)}
	}
}

// echoed sends frames, checks that the server echoes want, and closes
// normally: the outcome is the code of the server's answer, 1000.
func echoed(compress bool, want []byte, fs ...[]byte) func(a *hostileAttack) hostileOutcome {
	return func(a *hostileAttack) hostileOutcome {
		c := a.handshake(compress)
		a.send(c, fs...)
		var got []byte
		if _, _, _, err := c.readMessage(a.deadline, hostileCollect(&got)); err != nil || !bytes.Equal(got, want) {
			a.t.Errorf("echo %q, %v; want %q", got, err, want)
		}
		return hostileOutcome{code: c.closeNormally(a.t, a.deadline)}
	}
}

// claim sends a header claiming n bytes in form size, and 16 bytes of
// payload.
func claim(n uint64, size int) func(a *hostileAttack) hostileOutcome {
	return frames(false, hostileHeader(true, 0, hBin, n, size, true), make([]byte, 16))
}

// slowClaim sends a header claiming n bytes and 10 of them, pauses, then
// sends the rest: the server must wait holding no more than it has, and
// then echo the message.
func slowClaim(n int) func(a *hostileAttack) hostileOutcome {
	return func(a *hostileAttack) hostileOutcome {
		c := a.handshake(false)
		msg := hostilePatternBytes(n)
		f := hf(true, 0, hBin, msg)
		cut := len(f) - n + 10
		c.nc.Write(f[:cut])
		time.Sleep(100 * time.Millisecond)
		a.send(c, f[cut:])
		var got []byte
		if _, _, _, err := c.readMessage(a.deadline, hostileCollect(&got)); err != nil || !bytes.Equal(got, msg) {
			a.t.Errorf("echo of %d bytes: %d bytes, %v", n, len(got), err)
		}
		return hostileOutcome{code: c.closeNormally(a.t, a.deadline)}
	}
}

// status sends a raw handshake request and returns the response's status.
// The request is made before the case, so that its bytes do not count in
// the heap figure.
func status(req string) func(a *hostileAttack) hostileOutcome {
	return func(a *hostileAttack) hostileOutcome {
		nc := a.dial()
		nc.SetDeadline(a.deadline)
		a.goWrite(func() { io.WriteString(nc, req) })
		resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
		if err != nil {
			a.t.Logf("no response: %v", err)
			return hostileOutcome{code: -1}
		}
		resp.Body.Close()
		return hostileOutcome{status: resp.StatusCode, code: -1}
	}
}

// bigHeader is a handshake request with a header line of n bytes.
func bigHeader(n int) string {
	return strings.Replace(hostileRequest("localhost", false), "\r\n\r\n", "\r\nX-Big: "+strings.Repeat("a", n)+"\r\n\r\n", 1)
}

// bigEcho sends a message of n pattern bytes in frames of frag bytes (one
// frame if 0) and checks its echo.
func bigEcho(n, frag int64) func(a *hostileAttack) hostileOutcome {
	return func(a *hostileAttack) hostileOutcome {
		c := a.handshake(false)
		a.goWrite(func() { hostileWritePattern(c.nc, n, frag, 1) })
		_, got, _, err := c.readMessage(a.deadline, hostilePatternSink())
		if err != nil || got != n {
			a.t.Errorf("echo: %d bytes, %v; want %d", got, err, n)
		}
		return hostileOutcome{code: c.closeNormally(a.t, a.deadline)}
	}
}

// overLimit sends a message of n pattern bytes in frames of frag bytes
// and returns the close code the server answers with.
func overLimit(n, frag int64) func(a *hostileAttack) hostileOutcome {
	return func(a *hostileAttack) hostileOutcome {
		c := a.handshake(false)
		a.goWrite(func() { hostileWritePattern(c.nc, n, frag, 1) })
		return hostileOutcome{code: c.awaitClose(a.t, a.deadline)}
	}
}

// bombs sends the message of frame on conns connections at once and
// returns the close code every one of them got (the first that differs).
func bombs(conns int, frame func() []byte) func(a *hostileAttack) hostileOutcome {
	return func(a *hostileAttack) hostileOutcome {
		cs := make([]*hostileConn, conns)
		for i := range cs {
			cs[i] = a.handshake(true)
		}
		for _, c := range cs {
			a.send(c, frame())
		}
		codes := make([]int, conns)
		var wg sync.WaitGroup
		for i, c := range cs {
			wg.Go(func() {
				c.nc.SetReadDeadline(a.deadline)
				code, _, err := hostileReadClose(c.br)
				if err != nil {
					a.t.Logf("connection %d: %v", i, err)
				}
				codes[i] = code
			})
		}
		wg.Wait()
		for _, code := range codes[1:] {
			if code != codes[0] {
				return hostileOutcome{code: code, conns: conns}
			}
		}
		a.t.Logf("close codes %v", codes)
		return hostileOutcome{code: codes[0], conns: conns}
	}
}

// controlFlood sends n control frames of opcode op with 125-byte payloads
// as fast as it can, not reading while it writes; then a text message,
// whose echo it reads, counting the pongs before it; then it closes.
func controlFlood(op byte, n int) func(a *hostileAttack) hostileOutcome {
	return func(a *hostileAttack) hostileOutcome {
		c := a.handshake(false)
		f := hf(true, 0, op, bytes.Repeat([]byte{'p'}, 125))
		batch := bytes.Repeat(f, 1000)
		written := make(chan struct{})
		a.goWrite(func() {
			defer close(written)
			for range n / 1000 {
				if _, err := c.nc.Write(batch); err != nil {
					return
				}
			}
			c.nc.Write(hf(true, 0, hText, []byte("end")))
		})
		// Not reading for the first second: the server's pongs pile up
		// in its socket, and it must stop reading pings rather than
		// buffer pongs.
		select {
		case <-written:
		case <-time.After(time.Second):
		}
		var got []byte
		_, _, pongs, err := c.readMessage(a.deadline, hostileCollect(&got))
		if err != nil || string(got) != "end" {
			a.t.Errorf("echo after the flood: %q, %v", got, err)
		}
		a.t.Logf("%d pongs for %d frames of opcode %d", pongs, n, op)
		if op == hPong && pongs != 0 || op == hPing && pongs == 0 {
			a.t.Errorf("%d pongs for %d frames of opcode %d", pongs, n, op)
		}
		return hostileOutcome{code: c.closeNormally(a.t, a.deadline)}
	}
}

// halfOpen opens n connections that each send part of a handshake request
// and stall, waits for the server to have taken all of them, and holds
// them a moment; the case's heap bound is per connection.
func halfOpen(n int) func(a *hostileAttack) hostileOutcome {
	return func(a *hostileAttack) hostileOutcome {
		part := "GET / HTTP/1.1\r\nHost: " + a.addr + "\r\nUpgrade: websocket\r\nConnection: Up"
		for i := range n {
			nc, err := net.DialTimeout("tcp", a.addr, 5*time.Second)
			if err != nil {
				a.t.Fatalf("connection %d: %v", i, err)
			}
			a.track(nc)
			if _, err := io.WriteString(nc, part); err != nil {
				a.t.Fatalf("connection %d: %v", i, err)
			}
		}
		// Every connection has a goroutine of net/http once it is
		// accepted.
		for runtime.NumGoroutine() < a.g0+n {
			if time.Now().After(a.deadline) {
				a.t.Fatalf("%d goroutines, want at least %d", runtime.NumGoroutine(), a.g0+n)
			}
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond)
		return hostileOutcome{code: -1, conns: n}
	}
}

// neverReads sends count messages of size bytes and never reads the
// echoes; once the server is stuck writing, it resets the connection,
// which must end the server's write.
func neverReads(size int64, count int) func(a *hostileAttack) hostileOutcome {
	return func(a *hostileAttack) hostileOutcome {
		c := a.handshake(false)
		sent := make(chan struct{})
		a.goWrite(func() {
			defer close(sent)
			hostileWritePattern(c.nc, size, 0, count)
		})
		select {
		case <-sent:
		case <-time.After(2 * time.Second):
			// The server stopped reading: it is stuck in a write.
		}
		time.Sleep(300 * time.Millisecond)
		hostileRST(c.nc)
		if len(a.srv.wait(1, a.deadline)) == 0 {
			a.t.Error("the server's handler did not return after the reset")
		}
		return hostileOutcome{code: -1}
	}
}

// rst plays phase of a connection and then resets it; the server's
// handler must return. Unless the reset comes after the close handshake,
// the server sends no close frame.
func rst(phase string) func(a *hostileAttack) hostileOutcome {
	return func(a *hostileAttack) hostileOutcome {
		out := hostileOutcome{code: -1}
		if phase == "handshake" {
			nc := a.dial()
			io.WriteString(nc, "GET / HTTP/1.1\r\nHost: "+a.addr+"\r\nUpgrade: webs")
			time.Sleep(50 * time.Millisecond)
			hostileRST(nc)
			// The server serves the next client as if nothing happened.
			c := a.handshake(false)
			c.nc.Write(hf(true, 0, hText, []byte("after")))
			var got []byte
			if _, _, _, err := c.readMessage(a.deadline, hostileCollect(&got)); err != nil || string(got) != "after" {
				a.t.Errorf("echo after a reset handshake: %q, %v", got, err)
			}
			out.code = c.closeNormally(a.t, a.deadline)
			a.srv.wait(1, a.deadline)
			return out
		}
		c := a.handshake(phase == "compressed")
		switch phase {
		case "after-101":
		case "header":
			c.nc.Write(hostileHeader(true, 0, hBin, 1000, 2, true)[:3])
		case "payload":
			c.nc.Write(hf(true, 0, hBin, make([]byte, 1000))[:8+100])
		case "compressed":
			comp := hostileDeflate(bytes.Repeat([]byte("compressed text, "), 100))
			c.nc.Write(hf(false, hRSV1, hText, comp[:len(comp)/2]))
		case "after-close":
			out.code = c.closeNormally(a.t, a.deadline)
		}
		time.Sleep(50 * time.Millisecond)
		hostileRST(c.nc)
		if len(a.srv.wait(1, a.deadline)) == 0 {
			a.t.Error("the server's handler did not return after the reset")
		}
		return out
	}
}

// keepalive shakes hands with a server that pings every interval and
// waits timeout for the pong, then answers nothing: the server must end
// the connection with ErrKeepaliveTimeout within interval + timeout and
// some slack, both the pending Read and Err saying so.
func keepalive(interval, timeout time.Duration) func(a *hostileAttack) hostileOutcome {
	return func(a *hostileAttack) hostileOutcome {
		start := time.Now()
		a.handshake(false)
		res := a.srv.wait(1, a.deadline)
		if len(res) == 0 {
			a.t.Fatal("the connection did not end")
		}
		took := res[0].at.Sub(start)
		slack := hostileTime(300 * time.Millisecond)
		a.t.Logf("ended after %v: %v; Err: %v", took, res[0].err, res[0].connErr)
		if took > interval+timeout+slack {
			a.t.Errorf("ended after %v, want at most %v + %v + %v", took, interval, timeout, slack)
		}
		if !errors.Is(res[0].connErr, ws.ErrKeepaliveTimeout) {
			a.t.Errorf("Err() = %v, want ErrKeepaliveTimeout", res[0].connErr)
		}
		return hostileOutcome{code: -1}
	}
}

// hostileServerCase is an attack on a server.
type hostileServerCase struct {
	name   string
	path   string // the server's read path: "read" (the default), "readappend", "reader", "messages"
	opts   ws.Options
	attack func(a *hostileAttack) hostileOutcome
	prep   func() // builds payloads before the measurement

	// Expected: the server's close code, or the HTTP status; and, if set,
	// an error that the handler's error matches (errors.Is, any of them).
	code      int
	status    int
	serverErr []error
	conns     int // connections whose handler must end (serverErr), 1 if 0

	heap int64         // bound on the peak heap, bytes
	time time.Duration // bound on the attack's time, before hostileTime
}

func hostileServerCases() []hostileServerCase {
	one := func(e error) []error { return []error{e} }
	q, small := hostileQuick, int64(hostileSmallHeap)
	hello := []byte("hello")

	cs := []hostileServerCase{
		// Length claims with little data sent.
		{name: "claim-126-slow", code: 1000, heap: small, time: q, attack: slowClaim(126)},
		{name: "claim-65536-slow", code: 1000, heap: small, time: q, attack: slowClaim(65536)},
		{name: "claim-2^32", code: 1009, serverErr: one(ws.ErrMessageTooBig), heap: small, time: q, attack: claim(1<<32, 0)},
		{name: "claim-2^62", code: 1009, serverErr: one(ws.ErrMessageTooBig), heap: small, time: q, attack: claim(1<<62, 0)},
		{name: "claim-2^63-1", code: 1009, serverErr: one(ws.ErrMessageTooBig), heap: small, time: q, attack: claim(1<<63-1, 0)},
		{name: "claim-2^64-1-top-bit", code: 1002, serverErr: one(ws.ErrBadLength), heap: small, time: q, attack: claim(1<<64-1, 8)},
		{name: "claim-2^63-top-bit", code: 1002, serverErr: one(ws.ErrBadLength), heap: small, time: q, attack: claim(1<<63, 8)},
		{name: "claim-5-in-16-bits", code: 1002, serverErr: one(ws.ErrBadLength), heap: small, time: q, attack: claim(5, 2)},
		{name: "claim-200-in-64-bits", code: 1002, serverErr: one(ws.ErrBadLength), heap: small, time: q, attack: claim(200, 8)},

		// Reserved bits, masking.
		{name: "rsv1-uncompressed", code: 1002, serverErr: one(ws.ErrReservedBits), heap: small, time: q, attack: frames(false, hf(true, hRSV1, hText, hello))},
		{name: "rsv2", code: 1002, serverErr: one(ws.ErrReservedBits), heap: small, time: q, attack: frames(false, hf(true, hRSV2, hText, hello))},
		{name: "rsv3", code: 1002, serverErr: one(ws.ErrReservedBits), heap: small, time: q, attack: frames(false, hf(true, hRSV3, hText, hello))},
		{name: "unmasked", code: 1002, serverErr: one(ws.ErrUnmaskedFrame), heap: small, time: q, attack: frames(false, hfUnmasked(true, 0, hText, hello))},

		// Control frames.
		{name: "ping-fragmented", code: 1002, serverErr: one(ws.ErrFragmentedControl), heap: small, time: q, attack: frames(false, hf(false, 0, hPing, hello))},
		{name: "close-fragmented", code: 1002, serverErr: one(ws.ErrFragmentedControl), heap: small, time: q, attack: frames(false, hf(false, 0, hClose, hostileClosePayload(1000, "")))},
		{name: "ping-126-bytes", code: 1002, serverErr: one(ws.ErrControlTooLong), heap: small, time: q, attack: frames(false, hf(true, 0, hPing, make([]byte, 126)))},
		{name: "pong-65535-bytes", code: 1002, serverErr: one(ws.ErrControlTooLong), heap: small, time: q, attack: frames(false, hf(true, 0, hPong, make([]byte, 65535)))},
		{name: "close-1-byte", code: 1002, serverErr: one(ws.ErrBadClosePayload), heap: small, time: q, attack: frames(false, hf(true, 0, hClose, []byte{3}))},
		{name: "close-reason-bad-utf8", code: 1007, serverErr: one(ws.ErrInvalidUTF8), heap: small, time: q, attack: frames(false, hf(true, 0, hClose, hostileClosePayload(1000, "bad \xff")))},

		// Messages.
		{name: "text-bad-utf8", code: 1007, serverErr: one(ws.ErrInvalidUTF8), heap: small, time: q, attack: frames(false, hf(true, 0, hText, []byte("hello \xc0\xaf world")))},
		// The second fragment breaks the code point the first began; no
		// last fragment follows, so the server must fail on the bad byte.
		{name: "text-bad-utf8-split", code: 1007, serverErr: one(ws.ErrInvalidUTF8), heap: small, time: q, attack: frames(false, hf(false, 0, hText, []byte("price \xe2\x82")), hf(false, 0, hCont, []byte("\x28 and more")))},
		{name: "text-utf8-truncated", code: 1007, serverErr: one(ws.ErrInvalidUTF8), heap: small, time: q, attack: frames(false, hf(false, 0, hText, []byte("price ")), hf(true, 0, hCont, []byte("12 \xe2\x82")))},
		{name: "continuation-without-start", code: 1002, serverErr: one(ws.ErrUnexpectedContinuation), heap: small, time: q, attack: frames(false, hf(true, 0, hCont, hello))},
		{name: "data-inside-fragmented", code: 1002, serverErr: one(ws.ErrExpectedContinuation), heap: small, time: q, attack: frames(false, hf(false, 0, hText, hello), hf(true, 0, hBin, hello))},

		// Floods.
		// The bound allows for the test's own garbage: its reader takes
		// each of the 100,000 pongs apart in this process, which with a
		// large heap left by earlier tests no collection clears in time.
		{name: "ping-flood", code: 1000, heap: 2 * small, time: 5 * time.Second, attack: controlFlood(hPing, hostileScale(100_000, 20_000))},
		{name: "pong-flood", code: 1000, heap: small, time: 5 * time.Second, attack: controlFlood(hPong, hostileScale(100_000, 20_000))},
		{name: "empty-fragments-2000", code: 1009, serverErr: one(ws.ErrTooManyFragments), heap: small, time: q,
			attack: frames(false, hf(false, 0, hText, nil), bytes.Repeat(hf(false, 0, hCont, nil), 2000))},
		{name: "empty-fragments-100000", code: 1009, serverErr: one(ws.ErrTooManyFragments), heap: small, time: q,
			attack: frames(false, hf(false, 0, hText, nil), bytes.Repeat(hf(false, 0, hCont, nil), 100_000))},
		// 65,536 frames of 64 bytes, as many as DefaultMaxFragments allows.
		{name: "4MiB-in-64-byte-frames", code: 1000, heap: messageHeap(4 << 20), time: 3 * time.Second, attack: bigEcho(4<<20, 64)},

		// Compression.
		{name: "deflate-corrupt", code: 1007, serverErr: one(ws.ErrCorruptDeflate), heap: small, time: q, attack: frames(true, hf(true, hRSV1, hBin, []byte{0xff, 0xff, 0xff, 0xff}))},
		{name: "deflate-rsv1-continuation", code: 1002, serverErr: one(ws.ErrReservedBits), heap: small, time: q, attack: func(a *hostileAttack) hostileOutcome {
			comp := hostileDeflate([]byte("hello, hello, hello, hello"))
			return frames(true, hf(false, hRSV1, hText, comp[:4]), hf(true, hRSV1, hCont, comp[4:]))(a)
		}},
		{name: "deflate-rsv1-ping", code: 1002, serverErr: one(ws.ErrReservedBits), heap: small, time: q, attack: frames(true, hf(true, hRSV1, hPing, hello))},
		{name: "deflate-small-echo", code: 1000, heap: small, time: q, attack: func(a *hostileAttack) hostileOutcome {
			msg := bytes.Repeat([]byte("compressed text, "), 100)
			return echoed(true, msg, hf(true, hRSV1, hText, hostileDeflate(msg)))(a)
		}},

		// Handshakes. net/http reads up to 1 MiB of request head
		// (http.DefaultMaxHeaderBytes) plus 4 KiB of slack: a header of
		// 1 MiB fits, and the handshake succeeds; one of 1 MiB and 8 KiB
		// gets 431 Request Header Fields Too Large, after which net/http
		// closes the connection.
		{name: "handshake-1MiB-header", status: 101, heap: 8 << 20, time: q, attack: status(bigHeader(1 << 20))},
		{name: "handshake-1MiB+8KiB-header", status: 431, heap: 8 << 20, time: q, attack: status(bigHeader(1<<20 + 8<<10))},
		{name: "handshake-bad-key", status: 400, heap: small, time: q, attack: status(strings.Replace(hostileRequest("localhost", false), hostileKeyHeader, "c2hvcnQ=", 1))},
		{name: "handshake-version-7", status: 426, heap: small, time: q, attack: status(strings.Replace(hostileRequest("localhost", false), "Version: 13", "Version: 7", 1))},
		{name: "handshake-post", status: 405, heap: small, time: q, attack: status(strings.Replace(hostileRequest("localhost", false), "GET", "POST", 1))},
		{name: "half-open-handshakes", code: -1, heap: int64(hostileHalfOpenN()) * 20 << 10, time: 20 * time.Second, attack: halfOpen(hostileHalfOpenN())},

		// Peers that stop taking part.
		{name: "never-reads-half-limit", code: -1, serverErr: []error{syscall.ECONNRESET, syscall.EPIPE}, heap: messageHeap(hostileLimit / 2), time: 5 * time.Second, attack: neverReads(hostileLimit/2, 1)},
		// The server holds one message at a time; the heap figure also
		// counts the garbage of the messages before it until GC frees it,
		// which the 8 MiB beyond messageHeap allow for: far less than the
		// 64 MiB sent.
		{name: "never-reads-64x1MiB", code: -1, serverErr: []error{syscall.ECONNRESET, syscall.EPIPE}, heap: messageHeap(1<<20) + 8<<20, time: 5 * time.Second, attack: neverReads(1<<20, 64)},
		{name: "keepalive-silent-peer", code: -1, serverErr: one(ws.ErrKeepaliveTimeout), heap: small, time: 2 * time.Second,
			opts: ws.Options{PingInterval: 200 * time.Millisecond, PingTimeout: 200 * time.Millisecond}, attack: keepalive(200*time.Millisecond, 200*time.Millisecond)},
		{name: "rst-in-handshake", code: 1000, heap: small, time: q, attack: rst("handshake")},
		{name: "rst-after-101", code: -1, serverErr: one(syscall.ECONNRESET), heap: small, time: q, attack: rst("after-101")},
		{name: "rst-in-frame-header", code: -1, serverErr: one(syscall.ECONNRESET), heap: small, time: q, attack: rst("header")},
		{name: "rst-in-payload", code: -1, serverErr: one(syscall.ECONNRESET), heap: small, time: q, attack: rst("payload")},
		{name: "rst-in-compressed-message", code: -1, serverErr: one(syscall.ECONNRESET), heap: small, time: q, attack: rst("compressed")},
		{name: "rst-after-close", code: 1000, serverErr: one(ws.CloseError{Code: ws.StatusNormalClosure}), heap: small, time: q, attack: rst("after-close")},
	}

	// Every opcode RFC 6455 reserves.
	for _, op := range []byte{3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf} {
		cs = append(cs, hostileServerCase{name: fmt.Sprintf("opcode-%#x", op), code: 1002, serverErr: one(ws.ErrUnknownOpcode),
			heap: small, time: q, attack: frames(false, hf(true, 0, op, hello))})
	}
	// Close codes that may not be sent.
	for _, code := range []int{0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535} {
		cs = append(cs, hostileServerCase{name: fmt.Sprintf("close-code-%d", code), code: 1002, serverErr: one(ws.ErrBadCloseCode),
			heap: small, time: q, attack: frames(false, hf(true, 0, hClose, hostileClosePayload(code, "")))})
	}

	// Large messages and compression bombs, through every read path.
	for _, p := range hostilePaths {
		cs = append(cs,
			hostileServerCase{name: "limit-exact-" + p, path: p, code: 1000, heap: hostileLimitHeap, time: 5 * time.Second, attack: bigEcho(hostileLimit, 0)},
			hostileServerCase{name: "limit-over-by-1-" + p, path: p, code: 1009, serverErr: one(ws.ErrMessageTooBig), heap: small, time: q, attack: overLimit(hostileLimit+1, 0)},
			hostileServerCase{name: "limit-over-by-1-in-1MiB-frames-" + p, path: p, code: 1009, serverErr: one(ws.ErrMessageTooBig), heap: hostileLimitHeap, time: 5 * time.Second, attack: overLimit(hostileLimit+1, 1<<20)},
			hostileServerCase{name: "bomb-at-limit-" + p, path: p, code: 1000, heap: hostileLimitHeap, time: 5 * time.Second, prep: func() { hostileBombLimit() },
				attack: func(a *hostileAttack) hostileOutcome {
					c := a.handshake(true)
					a.send(c, hostileBombLimit())
					_, n, _, err := c.readMessage(a.deadline, hostileZeroSink())
					if err != nil || n != hostileLimit {
						a.t.Errorf("echo: %d bytes, %v; want %d", n, err, hostileLimit)
					}
					return hostileOutcome{code: c.closeNormally(a.t, a.deadline)}
				}},
			hostileServerCase{name: "bomb-1GiB-" + p, path: p, code: 1009, serverErr: one(ws.ErrMessageTooBig), heap: hostileLimitHeap, time: 3 * time.Second,
				prep: func() { hostileBomb1G() }, attack: bombs(1, hostileBomb1G)},
			hostileServerCase{name: "bomb-1GiB-in-1KiB-frames-" + p, path: p, code: 1009, serverErr: one(ws.ErrMessageTooBig), heap: hostileLimitHeap, time: 3 * time.Second,
				prep: func() { hostileBomb1GFrag() }, attack: bombs(1, hostileBomb1GFrag)},
			hostileServerCase{name: "bomb-1GiB-x10-" + p, path: p, code: 1009, conns: 10, serverErr: one(ws.ErrMessageTooBig),
				heap: 10 * hostileLimitHeap, time: 20 * time.Second, prep: func() { hostileBomb1G() }, attack: bombs(10, hostileBomb1G)},
		)
	}
	return cs
}

// hostileHalfOpenN is how many half-open handshakes the case opens:
// 9,000 rather than 10,000, since each is two descriptors in this process
// (the client's and the server's) and the hard limit here is 20,000; and
// 2,000 under the race detector, whose goroutines cost more.
func hostileHalfOpenN() int { return hostileScale(9000, 2000) }

func TestHostileServer(t *testing.T) {
	var sum hostileSummary
	for _, tc := range hostileServerCases() {
		t.Run(tc.name, func(t *testing.T) { runHostileServer(t, tc, &sum) })
	}
	sum.log(t)
}

func runHostileServer(t *testing.T, tc hostileServerCase, sum *hostileSummary) {
	if tc.prep != nil {
		tc.prep()
	}
	if tc.path == "" {
		tc.path = "read"
	}
	bound := hostileTime(tc.time)
	g0 := runtime.NumGoroutine()
	opts := &ws.AcceptOptions{Options: tc.opts}
	// Besides a case's own options (keepalive's only), the suite
	// changes one setting: Accept agrees to permessage-deflate only when
	// told to, and the cases that need it offer it. And the read limit
	// under the race detector: see hostileLimit.
	opts.Compression = &ws.CompressionOptions{}
	opts.ReadLimit = hostileReadLimitOption()
	hs := &hostileServer{path: tc.path, opts: opts, notify: make(chan struct{}, 1)}
	srv := httptest.NewUnstartedServer(hs)
	srv.Config.ErrorLog = log.New(hostileLogWriter{t}, "net/http: ", 0)
	srv.Start()
	a := &hostileAttack{t: t, addr: srv.Listener.Addr().String(), srv: hs, g0: g0}

	var (
		out     hostileOutcome
		elapsed time.Duration
		peak    int64
		base    int64
		results []hostileResult
		got     = "the attack failed"
	)
	defer func() {
		result := "ok"
		if t.Failed() {
			result = "FAIL"
		}
		sum.add("%-42s %-6s %10s %10s %9v %9v %s", tc.name, result, hostileMiB(peak), hostileMiB(tc.heap), elapsed.Round(time.Millisecond), bound, got)
	}()
	func() {
		defer func() {
			srv.Close()
			hostileWaitGoroutines(t, g0)
		}()
		meter := startHostileMeter()
		base = int64(meter.base)
		func() {
			defer func() {
				peak = meter.stop()
				a.closeAll()
				a.wg.Wait()
			}()
			start := time.Now()
			a.deadline = start.Add(bound + time.Second)
			out = tc.attack(a)
			elapsed = time.Since(start)
		}()
		if tc.serverErr != nil {
			results = hs.wait(max(tc.conns, 1), time.Now().Add(hostileTime(5*time.Second)))
		}
	}()

	got = fmt.Sprintf("close %d", out.code)
	if tc.status != 0 {
		got = fmt.Sprintf("status %d", out.status)
		if out.status != tc.status {
			t.Errorf("status %d, want %d", out.status, tc.status)
		}
	} else if out.code != tc.code {
		t.Errorf("close code %d, want %d", out.code, tc.code)
	}
	if tc.serverErr != nil {
		if len(results) < max(tc.conns, 1) {
			t.Errorf("%d of %d connections ended", len(results), max(tc.conns, 1))
		}
		for _, r := range results {
			if !hostileIsAny(r.err, tc.serverErr) {
				t.Errorf("the server's handler ended with %v, want %v", r.err, tc.serverErr)
			}
		}
		if len(results) > 0 {
			got += fmt.Sprintf(", %v", results[0].err)
		}
	}
	if elapsed > bound {
		t.Errorf("took %v, bound %v", elapsed, bound)
	}
	heapNote := ""
	if out.conns > 1 {
		heapNote = fmt.Sprintf(" (%.1f KiB per connection)", float64(peak)/float64(out.conns)/1024)
	}
	t.Logf("peak heap %s%s over %s, bound %s; %v, bound %v; %s", hostileMiB(peak), heapNote, hostileMiB(base), hostileMiB(tc.heap), elapsed.Round(time.Millisecond), bound, got)
	if ws.HostileRace {
		t.Logf("race detector: heap bound not checked")
	} else if peak > tc.heap {
		t.Errorf("peak heap %s%s, bound %s", hostileMiB(peak), heapNote, hostileMiB(tc.heap))
	}
}

// hostileLogWriter passes what net/http logs to the case's log.
type hostileLogWriter struct{ t *testing.T }

func (w hostileLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// hostileIsAny reports whether err matches one of targets.
func hostileIsAny(err error, targets []error) bool {
	for _, target := range targets {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// The hostile server, against Dial.

// hostilePeer is a raw TCP server that answers Dial with what a case
// says.
type hostilePeer struct {
	t        *testing.T
	ln       net.Listener
	addr     string
	serve    func(p *hostilePeer, nc net.Conn, br *bufio.Reader, req *http.Request)
	accepted atomic.Int32
	code     chan int // the close code the client sent
	unix     string   // a Unix socket the case listens on, if any
	unixHits atomic.Int32
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    []net.Conn
	closers  []func()
}

func newHostilePeer(t *testing.T, serve func(p *hostilePeer, nc net.Conn, br *bufio.Reader, req *http.Request)) *hostilePeer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &hostilePeer{t: t, ln: ln, addr: ln.Addr().String(), serve: serve, code: make(chan int, 16)}
	p.wg.Go(func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			p.accepted.Add(1)
			p.mu.Lock()
			p.conns = append(p.conns, nc)
			p.mu.Unlock()
			p.wg.Go(func() {
				defer nc.Close()
				br := bufio.NewReader(nc)
				nc.SetReadDeadline(time.Now().Add(5 * time.Second))
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				nc.SetReadDeadline(time.Time{})
				p.serve(p, nc, br, req)
			})
		}
	})
	return p
}

// listenUnix listens on a Unix socket, counting the connections to it.
func (p *hostilePeer) listenUnix() {
	dir, err := os.MkdirTemp("", "hws")
	if err != nil {
		p.t.Fatal(err)
	}
	p.unix = filepath.Join(dir, "s.sock")
	ln, err := net.Listen("unix", p.unix)
	if err != nil {
		os.RemoveAll(dir)
		p.t.Fatal(err)
	}
	p.wg.Go(func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			p.unixHits.Add(1)
			nc.Close()
		}
	})
	p.closers = append(p.closers, func() { ln.Close(); os.RemoveAll(dir) })
}

// shutdown closes the listeners and connections and waits for the
// goroutines.
func (p *hostilePeer) shutdown() {
	p.ln.Close()
	for _, f := range p.closers {
		f()
	}
	p.closers = nil
	p.mu.Lock()
	for _, nc := range p.conns {
		hostileRST(nc)
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// stall waits until the client goes away.
func stall(nc net.Conn, br *bufio.Reader) { io.Copy(io.Discard, br) }

// writeUpTo writes chunk again and again, up to limit bytes in all or
// until the client goes away.
func writeUpTo(nc net.Conn, chunk []byte, limit int) {
	for sent := 0; sent < limit; sent += len(chunk) {
		if _, err := nc.Write(chunk); err != nil {
			return
		}
	}
}

// hostile101 is a valid 101 response to req, with extra header lines.
func hostile101(req *http.Request, extra string) string {
	return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		hostileAcceptKey(req.Header.Get("Sec-WebSocket-Key")) + "\r\n" + extra + "\r\n"
}

// respond writes s, then waits for the client to go away.
func respond(s string) func(p *hostilePeer, nc net.Conn, br *bufio.Reader, req *http.Request) {
	return func(p *hostilePeer, nc net.Conn, br *bufio.Reader, req *http.Request) {
		io.WriteString(nc, s)
		stall(nc, br)
	}
}

// accept101 answers with a valid 101 (and extra header lines), writes
// the frames from fs, and reports the close code the client sends back.
func accept101(extra string, fs func() []byte) func(p *hostilePeer, nc net.Conn, br *bufio.Reader, req *http.Request) {
	return func(p *hostilePeer, nc net.Conn, br *bufio.Reader, req *http.Request) {
		if _, err := io.WriteString(nc, hostile101(req, extra)); err != nil {
			return
		}
		var wg sync.WaitGroup
		defer wg.Wait()
		wg.Go(func() { nc.Write(fs()) })
		nc.SetReadDeadline(time.Now().Add(hostileTime(10 * time.Second)))
		code, _, err := hostileReadClose(br)
		if err != nil {
			p.t.Logf("no close frame from the client: %v", err)
		}
		p.code <- code
		nc.Close()
	}
}

// redirect answers every request with 302 to location.
func redirect(location func(p *hostilePeer) string) func(p *hostilePeer, nc net.Conn, br *bufio.Reader, req *http.Request) {
	return func(p *hostilePeer, nc net.Conn, br *bufio.Reader, req *http.Request) {
		io.WriteString(nc, "HTTP/1.1 302 Found\r\nLocation: "+location(p)+"\r\nContent-Length: 0\r\n\r\n")
		stall(nc, br)
	}
}

// hostileClientCase is an attack on Dial.
type hostileClientCase struct {
	name    string
	serve   func(p *hostilePeer, nc net.Conn, br *bufio.Reader, req *http.Request)
	opts    *ws.DialOptions
	unix    bool          // the peer listens on a Unix socket too
	timeout time.Duration // of the Dial's context; 5 s if 0
	prep    func()

	// Expected: Dial fails with an error matching wantErr (errors.Is) or a
	// *ws.HandshakeError with status; or, with read, Dial succeeds and the
	// first Read fails so, and the peer receives close code.
	read    bool
	wantErr error
	status  int
	code    int
	check   func(p *hostilePeer, resp *http.Response, err error) error

	heap int64
	time time.Duration
}

// compressOpts offers permessage-deflate.
var compressOpts = &ws.DialOptions{Options: ws.Options{Compression: &ws.CompressionOptions{}, ReadLimit: hostileReadLimitOption()}}

// refusalBody checks that the response of a refusal is there with 16 KiB
// of its body.
func refusalBody(p *hostilePeer, resp *http.Response, err error) error {
	if resp == nil {
		return errors.New("no response")
	}
	body, rerr := io.ReadAll(resp.Body)
	if rerr != nil || len(body) != 16<<10 || strings.Trim(string(body), "x") != "" {
		return fmt.Errorf("body of %d bytes, %v; want 16 KiB of x", len(body), rerr)
	}
	return nil
}

// connections checks how many connections the peer saw.
func connections(n int) func(p *hostilePeer, resp *http.Response, err error) error {
	return func(p *hostilePeer, resp *http.Response, err error) error {
		if got := p.accepted.Load(); got != int32(n) {
			return fmt.Errorf("%d connections, want %d", got, n)
		}
		return nil
	}
}

// refusedRedirect checks that Dial refused to follow a redirect: it
// returns the redirect, the peer saw one connection and its Unix socket
// none.
func refusedRedirect(p *hostilePeer, resp *http.Response, err error) error {
	if err == nil || !strings.Contains(err.Error(), "redirect") {
		return fmt.Errorf("error %v, want one about the redirect", err)
	}
	if resp == nil || resp.StatusCode != http.StatusFound {
		return fmt.Errorf("response %v, want the 302", resp)
	}
	if n, u := p.accepted.Load(), p.unixHits.Load(); n != 1 || u != 0 {
		return fmt.Errorf("%d connections and %d to the Unix socket, want 1 and 0", n, u)
	}
	return nil
}

func hostileClientCases() []hostileClientCase {
	q, small := hostileQuick, int64(2<<20)
	lines := []byte(strings.Repeat("X-Hostile: "+strings.Repeat("a", 100)+"\r\n", 145))
	xs := []byte(strings.Repeat("x", 16<<10))
	wrongAccept := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n"
	with := func(extra string) func(p *hostilePeer, nc net.Conn, br *bufio.Reader, req *http.Request) {
		return func(p *hostilePeer, nc net.Conn, br *bufio.Reader, req *http.Request) {
			io.WriteString(nc, hostile101(req, extra))
			stall(nc, br)
		}
	}
	frame := func(b []byte) func() []byte { return func() []byte { return b } }
	return []hostileClientCase{
		// Heads that do not end. The peer stops at 16 MiB, 256 times the
		// default bound on a response head, and then waits.
		{name: "endless-101-head", wantErr: ws.ErrHeaderTooLarge, heap: small, time: q, serve: func(p *hostilePeer, nc net.Conn, br *bufio.Reader, req *http.Request) {
			io.WriteString(nc, "HTTP/1.1 101 Switching Protocols\r\n")
			writeUpTo(nc, lines, 16<<20)
			stall(nc, br)
		}},
		{name: "endless-header-line", wantErr: ws.ErrHeaderTooLarge, heap: small, time: q, serve: func(p *hostilePeer, nc net.Conn, br *bufio.Reader, req *http.Request) {
			io.WriteString(nc, "HTTP/1.1 101 Switching Protocols\r\nX-Hostile: ")
			writeUpTo(nc, xs, 16<<20)
			stall(nc, br)
		}},
		// A byte every 10 ms: the context's deadline, 500 ms, must end
		// the dial within 100 ms of it.
		{name: "endless-header-line-slow", timeout: 500 * time.Millisecond, wantErr: context.DeadlineExceeded, heap: small, time: 600 * time.Millisecond,
			serve: func(p *hostilePeer, nc net.Conn, br *bufio.Reader, req *http.Request) {
				io.WriteString(nc, "HTTP/1.1 101 Switching Protocols\r\nX-Hostile: ")
				for range 1000 {
					if _, err := nc.Write([]byte{'a'}); err != nil {
						return
					}
					time.Sleep(10 * time.Millisecond)
				}
			}},
		// Refusals whose bodies do not end: Dial must return long before
		// its context's 5 s, with the status and 16 KiB of the body. The
		// peer stops at 64 MiB and then waits.
		{name: "refusal-401-endless-chunked", status: 401, check: refusalBody, heap: small, time: q, serve: func(p *hostilePeer, nc net.Conn, br *bufio.Reader, req *http.Request) {
			io.WriteString(nc, "HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
			writeUpTo(nc, []byte(fmt.Sprintf("%x\r\n%s\r\n", len(xs), xs)), 64<<20)
			stall(nc, br)
		}},
		{name: "refusal-403-length-1e12", status: 403, check: refusalBody, heap: small, time: q, serve: func(p *hostilePeer, nc net.Conn, br *bufio.Reader, req *http.Request) {
			io.WriteString(nc, "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 1000000000000\r\n\r\n")
			writeUpTo(nc, xs, 64<<20)
			stall(nc, br)
		}},
		{name: "silent-peer", timeout: 300 * time.Millisecond, wantErr: context.DeadlineExceeded, heap: small, time: 400 * time.Millisecond,
			serve: func(p *hostilePeer, nc net.Conn, br *bufio.Reader, req *http.Request) { stall(nc, br) }},
		{name: "hang-up-before-answer", wantErr: io.ErrUnexpectedEOF, heap: small, time: q,
			serve: func(p *hostilePeer, nc net.Conn, br *bufio.Reader, req *http.Request) {}},

		// Answers that break the handshake.
		{name: "bad-accept", status: 101, heap: small, time: q, serve: respond(wrongAccept)},
		{name: "extension-not-offered", status: 101, heap: small, time: q, serve: with("Sec-WebSocket-Extensions: permessage-deflate\r\n")},
		{name: "subprotocol-not-offered", status: 101, heap: small, time: q, serve: with("Sec-WebSocket-Protocol: chat\r\n")},
		{name: "server-window-bits-7", opts: compressOpts, status: 101, heap: small, time: q, serve: with("Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=7\r\n")},
		{name: "server-window-bits-16", opts: compressOpts, status: 101, heap: small, time: q, serve: with("Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=16\r\n")},
		{name: "client-window-bits-16", opts: compressOpts, status: 101, heap: small, time: q, serve: with("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=16\r\n")},

		// Redirects.
		{name: "redirect-loop-max-5", opts: &ws.DialOptions{MaxRedirects: 5}, wantErr: ws.ErrTooManyRedirects, check: connections(6), heap: small, time: q,
			serve: redirect(func(p *hostilePeer) string { return "ws://" + p.addr + "/again" })},
		{name: "redirect-loop-default", status: 302, check: connections(1), heap: small, time: q,
			serve: redirect(func(p *hostilePeer) string { return "ws://" + p.addr + "/again" })},
		{name: "redirect-to-ws+unix", unix: true, opts: &ws.DialOptions{MaxRedirects: 5}, check: refusedRedirect, heap: small, time: q,
			serve: redirect(func(p *hostilePeer) string { return "ws+unix:" + p.unix + ":/" })},
		{name: "redirect-to-file", opts: &ws.DialOptions{MaxRedirects: 5}, check: refusedRedirect, heap: small, time: q,
			serve: redirect(func(p *hostilePeer) string { return "file:///etc/passwd" })},

		// Frames that break the protocol after a valid 101.
		{name: "masked-server-frame", read: true, wantErr: ws.ErrMaskedFrame, code: 1002, heap: small, time: q,
			serve: accept101("", frame(hf(true, 0, hText, []byte("hello"))))},
		{name: "claim-2^63-1", read: true, wantErr: ws.ErrMessageTooBig, code: 1009, heap: small, time: q,
			serve: accept101("", frame(append(hostileHeader(true, 0, hBin, 1<<63-1, 8, false), make([]byte, 16)...)))},
		{name: "claim-2^64-1-top-bit", read: true, wantErr: ws.ErrBadLength, code: 1002, heap: small, time: q,
			serve: accept101("", frame(append(hostileHeader(true, 0, hBin, 1<<64-1, 8, false), make([]byte, 16)...)))},
		{name: "close-code-1005", read: true, wantErr: ws.ErrBadCloseCode, code: 1002, heap: small, time: q,
			serve: accept101("", frame(hfUnmasked(true, 0, hClose, hostileClosePayload(1005, ""))))},
		{name: "close-code-5000", read: true, wantErr: ws.ErrBadCloseCode, code: 1002, heap: small, time: q,
			serve: accept101("", frame(hfUnmasked(true, 0, hClose, hostileClosePayload(5000, ""))))},
		{name: "bomb-1GiB", opts: compressOpts, read: true, wantErr: ws.ErrMessageTooBig, code: 1009, heap: hostileLimitHeap, time: 3 * time.Second,
			prep: func() { hostileServerBomb() }, serve: accept101("Sec-WebSocket-Extensions: permessage-deflate\r\n", hostileServerBomb)},
	}
}

// hostileServerBomb is a server's frame of 1 MiB that inflates to 1 GiB.
var hostileServerBomb = sync.OnceValue(func() []byte { return hfUnmasked(true, hRSV1, hBin, hostileZeros(1024)) })

func TestHostileClient(t *testing.T) {
	var sum hostileSummary
	for _, tc := range hostileClientCases() {
		t.Run(tc.name, func(t *testing.T) { runHostileClient(t, tc, &sum) })
	}
	sum.log(t)
}

func runHostileClient(t *testing.T, tc hostileClientCase, sum *hostileSummary) {
	if tc.prep != nil {
		tc.prep()
	}
	bound := hostileTime(tc.time)
	timeout := tc.timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	g0 := runtime.NumGoroutine()
	p := newHostilePeer(t, tc.serve)
	defer p.shutdown()
	if tc.unix {
		p.listenUnix()
	}

	var (
		resp    *http.Response
		err     error
		code    = -1
		elapsed time.Duration
		peak    int64
	)
	meter := startHostileMeter()
	base := int64(meter.base)
	func() {
		defer func() { peak = meter.stop() }()
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		var c *ws.Conn
		c, resp, err = ws.Dial(ctx, "ws://"+p.addr+"/", tc.opts)
		if c != nil {
			if tc.read {
				_, _, err = c.Read(ctx)
				select {
				case code = <-p.code:
				case <-time.After(hostileTime(5 * time.Second)):
				}
			} else {
				t.Errorf("Dial succeeded")
			}
			c.CloseNow()
		} else if tc.read {
			t.Errorf("Dial: %v", err)
		}
		elapsed = time.Since(start)
	}()

	got := fmt.Sprintf("%v", err)
	if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
		t.Errorf("error %v, want %v", err, tc.wantErr)
	}
	if tc.status != 0 {
		var he *ws.HandshakeError
		if !errors.As(err, &he) || he.Status != tc.status {
			t.Errorf("error %v, want a *ws.HandshakeError with status %d", err, tc.status)
		}
	}
	if tc.read {
		got += fmt.Sprintf("; close %d", code)
		if code != tc.code {
			t.Errorf("the peer got close code %d, want %d", code, tc.code)
		}
	}
	if tc.check != nil {
		if cerr := tc.check(p, resp, err); cerr != nil {
			t.Error(cerr)
		}
	}
	if elapsed > bound {
		t.Errorf("took %v, bound %v", elapsed, bound)
	}
	p.shutdown()
	hostileWaitGoroutines(t, g0)

	t.Logf("peak heap %s over %s, bound %s; %v, bound %v; %s", hostileMiB(peak), hostileMiB(base), hostileMiB(tc.heap), elapsed.Round(time.Millisecond), bound, got)
	if ws.HostileRace {
		t.Logf("race detector: heap bound not checked")
	} else if peak > tc.heap {
		t.Errorf("peak heap %s, bound %s", hostileMiB(peak), hostileMiB(tc.heap))
	}
	result := "ok"
	if t.Failed() {
		result = "FAIL"
	}
	if len(got) > 120 {
		got = got[:120] + "..."
	}
	sum.add("%-42s %-6s %10s %10s %9v %9v %s", tc.name, result, hostileMiB(peak), hostileMiB(tc.heap), elapsed.Round(time.Millisecond), bound, got)
}

//go:build !js

package ws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/flate"
	"github.com/seed-d6ba7b20/ws/internal/deflate"
	"github.com/seed-d6ba7b20/ws/internal/frame"
	"github.com/seed-d6ba7b20/ws/internal/wstest"
)

// TestReadAppendAllocs reads messages into a buffer that has room for
// them: ReadAppend must not allocate.
func TestReadAppendAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates; .ci/test runs this without it")
	}
	ctx := context.Background()
	for _, size := range benchSizes {
		c := newConn(&loopConn{data: clientFrames(size, 4)}, false, nil, nil)
		buf := make([]byte, 0, size)
		allocs := testing.AllocsPerRun(20, func() {
			var err error
			if _, buf, err = c.ReadAppend(ctx, buf[:0]); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 || len(buf) != size {
			t.Errorf("%s: %v allocations per message, %d bytes read", sizeName(size), allocs, len(buf))
		}
	}
}

// TestReadAppendGrowth reads messages that end in an empty frame into a
// buffer with exactly their room, which must not allocate, and appends
// 2,000 small messages to one growing buffer, which must grow it by
// doubling, as append does, rather than once per message.
func TestReadAppendGrowth(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates; .ci/test runs this without it")
	}
	ctx := context.Background()
	var data []byte
	for range 4 {
		data = wstest.AppendClientFrame(data, frame.Header{Opcode: frame.OpBinary}, make([]byte, 1<<10))
		data = wstest.AppendClientFrame(data, frame.Header{Fin: true, Opcode: frame.OpContinuation}, nil)
	}
	c := newConn(&loopConn{data: data}, false, nil, nil)
	buf := make([]byte, 0, 1<<10)
	allocs := testing.AllocsPerRun(20, func() {
		var err error
		if _, buf, err = c.ReadAppend(ctx, buf[:0]); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 || len(buf) != 1<<10 || cap(buf) != 1<<10 {
		t.Errorf("exact room: %v allocations per message, %d bytes in a buffer of %d", allocs, len(buf), cap(buf))
	}

	const n = 2000
	c = newConn(&loopConn{data: clientFrames(16, 4)}, false, nil, nil)
	var acc []byte
	allocs = testing.AllocsPerRun(1, func() {
		acc = nil
		for range n {
			var err error
			if _, acc, err = c.ReadAppend(ctx, acc); err != nil {
				t.Fatal(err)
			}
		}
	})
	if len(acc) != n*16 || allocs > 20 {
		t.Errorf("appending %d messages of 16 bytes: %d bytes, %v allocations", n, len(acc), allocs)
	}
}

// deflateZeros returns n zero bytes compressed as one permessage-deflate
// payload (RFC 7692 section 7.2.1: the flush tail removed).
func deflateZeros(t testing.TB, n int) []byte {
	var b bytes.Buffer
	fw, _ := flate.NewWriter(&b, 9)
	zeros := make([]byte, 1<<20)
	for n > 0 {
		k := min(n, len(zeros))
		fw.Write(zeros[:k])
		n -= k
	}
	fw.Flush()
	return bytes.TrimSuffix(b.Bytes(), []byte{0, 0, 0xff, 0xff})
}

// compressedServer returns a server side Conn with permessage-deflate and
// the read limit limit, over a pipe whose other end writes frames.
func compressedServer(t testing.TB, limit int64, frames []byte) *Conn {
	a, b := net.Pipe()
	go io.Copy(io.Discard, b) // the close frame
	go func() {
		b.Write(frames)
		b.Close()
	}()
	opts := &Options{Compression: &CompressionOptions{}, ReadLimit: limit}
	c := newConn(a, false, opts, nil)
	if err := c.setCompression(deflate.Params{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}, opts.Compression); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestReadCompressedMemory checks that collecting a compressed message
// never costs much more than the read limit, whether the message fits,
// breaks the limit in one frame, or breaks it in many small frames. The
// buffer doubles up to the limit and no further, so the bytes allocated
// are under twice the limit (the doublings add up to the last one); a
// buffer that doubles past the limit allocates four times it.
func TestReadCompressedMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's allocations blur the figure; CI runs this without it")
	}
	const limit = 4 << 20
	oneFrame := func(n int) []byte {
		return wstest.AppendClientFrame(nil, frame.Header{Fin: true, Rsv: frame.BitRsv1, Opcode: frame.OpBinary}, deflateZeros(t, n))
	}
	manyFrames := func(n int) []byte {
		p := deflateZeros(t, n)
		var b []byte
		for i := 0; i < len(p); i += 1024 {
			h := frame.Header{Fin: i+1024 >= len(p), Opcode: frame.OpContinuation}
			if i == 0 {
				h.Opcode, h.Rsv = frame.OpBinary, frame.BitRsv1
			}
			b = wstest.AppendClientFrame(b, h, p[i:min(i+1024, len(p))])
		}
		return b
	}
	reads := map[string]func(c *Conn) (int, error){
		"Read": func(c *Conn) (int, error) {
			_, b, err := c.Read(context.Background())
			return len(b), err
		},
		"ReadAppend": func(c *Conn) (int, error) {
			_, b, err := c.ReadAppend(context.Background(), make([]byte, 100, 512))
			return len(b) - 100, err
		},
		"Messages": func(c *Conn) (int, error) {
			m, ok := <-c.Messages()
			if !ok {
				return 0, c.Err()
			}
			return len(m.Data), nil
		},
	}
	cases := []struct {
		name   string
		frames []byte
		fits   bool
	}{
		{"at the limit", oneFrame(limit), true},
		{"one byte over", oneFrame(limit + 1), false},
		{"bomb in one frame", oneFrame(64 << 20), false},
		{"bomb in 1 KiB frames", manyFrames(64 << 20), false},
	}
	for _, tc := range cases {
		for name, read := range reads {
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				var n int
				var err error
				got := allocated(func() {
					c := compressedServer(t, limit, tc.frames)
					n, err = read(c)
				})
				switch {
				case tc.fits && (err != nil || n != limit):
					t.Fatalf("read %d bytes, %v; want %d", n, err, limit)
				case !tc.fits && !errors.Is(err, ErrMessageTooBig):
					t.Fatalf("read %d bytes, %v; want ErrMessageTooBig", n, err)
				}
				if bound := uint64(2*limit + 512<<10); got > bound {
					t.Errorf("allocated %d MiB, over %d MiB", got>>20, bound>>20)
				}
				t.Logf("allocated %.1f MiB for a limit of %d MiB", float64(got)/(1<<20), limit>>20)
			})
		}
	}
}

// TestReadLimitLoweredMidMessage checks that a message accepted under the
// read limit in force when its header arrived is read whole after the
// limit is lowered, not cut short by a byte.
func TestReadLimitLoweredMidMessage(t *testing.T) {
	a, b := net.Pipe()
	frame := wstest.AppendClientFrame(nil, frame.Header{Fin: true, Opcode: frame.OpBinary}, make([]byte, 100_001))
	go io.Copy(io.Discard, b)
	go b.Write(frame)
	c := newConn(a, false, nil, nil)
	defer c.CloseNow()
	// A background read stops at the message's header.
	if read, _ := c.backgroundRead(context.Background()); !read || !c.rd.pending {
		t.Fatal("the background read did not stop at the message")
	}
	c.SetReadLimit(100_000)
	_, msg, err := c.Read(context.Background())
	if err != nil || len(msg) != 100_001 {
		t.Fatalf("read %d bytes, %v", len(msg), err)
	}
}

// TestReadLargeAllocs reads messages of 256 KiB to 4 MiB, each in one
// frame, with Read over loopback TCP, and checks the bytes allocated per
// message: up to 1 MiB, the message's exact buffer and at most an eighth
// more; past 1 MiB, where the buffer may hold only twice what has
// arrived, at most twice the message. A buffer that doubles from 64 KiB
// allocates about twice the message at every size.
func TestReadLargeAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates; .ci/test runs this without it")
	}
	for _, size := range []int{256 << 10, 1 << 20, 1<<20 + 1, 4 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			const warm, n = 2, 8
			cn, sn := tcpPair(t)
			defer cn.Close()
			c := newConn(sn, false, nil, nil)
			defer c.CloseNow()
			msg := clientFrames(size, 1)
			go func() {
				for range warm + n {
					if _, err := cn.Write(msg); err != nil {
						return
					}
				}
			}()
			ctx := context.Background()
			read := func() {
				_, p, err := c.Read(ctx)
				if err != nil || len(p) != size || cap(p) != size {
					t.Fatalf("read %d bytes in a buffer of %d, %v; want %d", len(p), cap(p), err, size)
				}
			}
			for range warm {
				read()
			}
			got := allocated(func() {
				for range n {
					read()
				}
			}) / n
			// Up to 1 MiB: one exact buffer. Past it, where a buffer may
			// hold only twice what has arrived: steps that at most double,
			// up to half the message, then the whole.
			bound := uint64(size + size/8 + 16<<10)
			if size > readEager {
				bound = uint64(2*size + 16<<10)
			}
			if got > bound {
				t.Errorf("%d bytes allocated per message of %d, over %d", got, size, bound)
			}
			t.Logf("%d bytes allocated per message of %d (%.3fx)", got, size, float64(got)/float64(size))
		})
	}
}

// stallConn is a net.Conn that records how many bytes it has returned
// when a Read call begins, so that a test can tell when its reader waits
// for bytes that will not come.
type stallConn struct {
	net.Conn
	n       int64
	waiting atomic.Int64 // n when the last Read began, -1 before any
}

func (s *stallConn) Read(p []byte) (int, error) {
	s.waiting.Store(s.n)
	m, err := s.Conn.Read(p)
	s.n += int64(m)
	return m, err
}

// TestReadClaimedLength sends the header of a frame that claims the read
// limit's 32 MiB, then only some of those bytes, and stalls: while Read
// waits for the rest it must have allocated no more than the bound its
// doc states (readBound): 64 KiB, 16 times the bytes sent up to 1 MiB,
// or twice the bytes sent, whichever is largest.
func TestReadClaimedLength(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates; .ci/test runs this without it")
	}
	for _, sent := range []int{0, 16, 8 << 10, 100 << 10, 1<<20 + 3, 3 << 20} {
		t.Run(fmt.Sprint(sent), func(t *testing.T) {
			a, b := net.Pipe()
			defer b.Close()
			sc := &stallConn{Conn: a}
			sc.waiting.Store(-1)
			c := newConn(sc, false, nil, nil)
			defer c.CloseNow()
			payload := make([]byte, DefaultReadLimit)
			data := wstest.AppendClientFrame(nil, frame.Header{Fin: true, Opcode: frame.OpBinary}, payload)
			head := len(data) - len(payload)
			data = data[:head+sent]
			go io.Copy(io.Discard, b) // the close frame
			done := make(chan error, 1)
			got := allocated(func() {
				go func() {
					_, p, err := c.Read(context.Background())
					if err == nil {
						err = fmt.Errorf("read %d bytes without an error", len(p))
					}
					done <- err
				}()
				if _, err := b.Write(data); err != nil {
					t.Error(err)
				}
				deadline := time.Now().Add(10 * time.Second)
				for sc.waiting.Load() != int64(len(data)) {
					if time.Now().After(deadline) {
						t.Fatalf("Read did not wait after %d bytes (%d)", len(data), sc.waiting.Load())
					}
					time.Sleep(time.Millisecond)
				}
			})
			// What Read holds is at most readBound(sent); the steps to it
			// at most double, so all of them together allocate at most
			// twice that, beside the pooled 64 KiB and the read buffer.
			bound := uint64(2*readBound(int64(sent)) + 128<<10)
			if got > bound {
				t.Errorf("%d bytes sent of a claimed %d: %d allocated, over %d", sent, len(payload), got, bound)
			}
			t.Logf("%d bytes sent of a claimed %d: %d allocated", sent, len(payload), got)
			b.Close()
			// The peer leaves without the rest: Read must not take what
			// it has for a whole message.
			if err := <-done; !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("Read of a message cut short: %v, want io.ErrUnexpectedEOF", err)
			}
		})
	}
}

// TestReadWholeSizes reads messages around the sizes where Read's buffer
// changes course, in one frame and in several, with Read and with
// ReadAppend after a prefix, over loopback TCP, and checks the bytes and
// that a message in one frame gets a buffer of its exact size.
func TestReadWholeSizes(t *testing.T) {
	sizes := []int{0, 1, 64<<10 - 1, 64 << 10, 64<<10 + 1, 128 << 10, 1<<20 - 1, 1 << 20, 1<<20 + 1, 2<<20 + 5, 17 << 20}
	cn, sn := tcpPair(t)
	defer cn.Close()
	c := newConn(sn, false, nil, nil)
	defer c.CloseNow()
	pattern := func(n int) []byte {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(i*7 + i>>11)
		}
		return p
	}
	type msg struct {
		size   int
		frames int
	}
	var msgs []msg
	for _, size := range sizes {
		for _, frames := range []int{1, 3} {
			msgs = append(msgs, msg{size, frames})
		}
	}
	go func() {
		for _, m := range msgs {
			for range 2 { // once for Read, once for ReadAppend
				p := pattern(m.size)
				var data []byte
				for i := range m.frames {
					h := frame.Header{Fin: i == m.frames-1, Opcode: frame.OpBinary}
					if i > 0 {
						h.Opcode = frame.OpContinuation
					}
					data = wstest.AppendClientFrame(data, h, p[i*len(p)/m.frames:(i+1)*len(p)/m.frames])
				}
				if _, err := cn.Write(data); err != nil {
					return
				}
			}
		}
	}()
	ctx := context.Background()
	for _, m := range msgs {
		want := pattern(m.size)
		_, p, err := c.Read(ctx)
		if err != nil || !bytes.Equal(p, want) {
			t.Fatalf("Read of %d bytes in %d frames: %d bytes, %v", m.size, m.frames, len(p), err)
		}
		if m.frames == 1 && cap(p) != m.size {
			t.Errorf("Read of %d bytes in one frame: a buffer of %d", m.size, cap(p))
		}
		_, p, err = c.ReadAppend(ctx, []byte("prefix"))
		if err != nil || string(p[:6]) != "prefix" || !bytes.Equal(p[6:], want) {
			t.Fatalf("ReadAppend of %d bytes in %d frames: %d bytes, %v", m.size, m.frames, len(p), err)
		}
	}
}

// TestReadCutShort ends the connection in the middle of a message, inside
// a frame and between two frames of it: Read, ReadAppend and Reader must
// report the connection lost, not return the bytes that came as a whole
// message.
func TestReadCutShort(t *testing.T) {
	first := frame.Header{Opcode: frame.OpBinary}
	data := map[string][]byte{
		"in a frame":     wstest.AppendClientFrame(nil, frame.Header{Fin: true, Opcode: frame.OpBinary}, make([]byte, 1000))[:500],
		"in a big frame": wstest.AppendClientFrame(nil, frame.Header{Fin: true, Opcode: frame.OpBinary}, make([]byte, 1<<20))[:300<<10],
		"between frames": wstest.AppendClientFrame(nil, first, make([]byte, 1000)),
	}
	reads := map[string]func(c *Conn) error{
		"Read": func(c *Conn) error {
			_, _, err := c.Read(context.Background())
			return err
		},
		"ReadAppend": func(c *Conn) error {
			_, _, err := c.ReadAppend(context.Background(), nil)
			return err
		},
		"Reader": func(c *Conn) error {
			_, r, err := c.Reader(context.Background())
			if err == nil {
				_, err = io.Copy(io.Discard, r)
			}
			return err
		},
	}
	for dname, d := range data {
		for rname, read := range reads {
			t.Run(dname+"/"+rname, func(t *testing.T) {
				a, b := net.Pipe()
				go func() {
					b.Write(d)
					b.Close()
				}()
				c := newConn(a, false, nil, nil)
				defer c.CloseNow()
				if err := read(c); !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Errorf("%v, want io.ErrUnexpectedEOF", err)
				}
			})
		}
	}
	// A compressed message whose frame is cut where a deflate block ends:
	// what arrived inflates cleanly, and must still not pass for the
	// whole message.
	var z bytes.Buffer
	fw, _ := flate.NewWriter(&z, 1)
	fw.Write(bytes.Repeat([]byte("first half "), 50))
	fw.Flush()
	cut := z.Len()
	fw.Write(bytes.Repeat([]byte("second half "), 50))
	fw.Flush()
	payload := bytes.TrimSuffix(z.Bytes(), []byte{0, 0, 0xff, 0xff})
	frames := wstest.AppendClientFrame(nil, frame.Header{Fin: true, Rsv: frame.BitRsv1, Opcode: frame.OpText}, payload)
	frames = frames[:len(frames)-len(payload)+cut]
	// The same message in two frames, the first of which ends where the
	// first block does: the connection ends between the frames.
	first2 := wstest.AppendClientFrame(nil, frame.Header{Rsv: frame.BitRsv1, Opcode: frame.OpText}, payload[:cut])
	for rname, read := range reads {
		t.Run("compressed at a block's end/"+rname, func(t *testing.T) {
			c := compressedServer(t, 0, frames)
			if err := read(c); !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("%v, want io.ErrUnexpectedEOF", err)
			}
		})
		t.Run("compressed between frames/"+rname, func(t *testing.T) {
			c := compressedServer(t, 0, first2)
			if err := read(c); !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("%v, want io.ErrUnexpectedEOF", err)
			}
		})
	}
}

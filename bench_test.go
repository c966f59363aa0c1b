//go:build !js

package ws

import (
	"context"
	"fmt"
	"io"
	"net"
	"runtime"
	"testing"

	"github.com/seed-d6ba7b20/ws/internal/deflate"
	"github.com/seed-d6ba7b20/ws/internal/frame"
	"github.com/seed-d6ba7b20/ws/internal/wstest"
)

// readMessage reads the next message with Reader, through buf, and drops
// it.
func readMessage(ctx context.Context, c *Conn, buf []byte) error {
	_, r, err := c.Reader(ctx)
	if err != nil {
		return err
	}
	for {
		if _, err := r.Read(buf); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

func BenchmarkRead(b *testing.B) {
	ctx := context.Background()
	for _, size := range benchSizes {
		data := clientFrames(size, max(1, (256<<10)/size))
		b.Run(fmt.Sprintf("Reader/%s", sizeName(size)), func(b *testing.B) {
			c := newConn(&loopConn{data: data}, false, nil, nil)
			buf := make([]byte, 32<<10)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if err := readMessage(ctx, c, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("ReadAppend/%s", sizeName(size)), func(b *testing.B) {
			c := newConn(&loopConn{data: data}, false, nil, nil)
			var buf []byte
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if _, buf, err = c.ReadAppend(ctx, buf[:0]); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("Read/%s", sizeName(size)), func(b *testing.B) {
			c := newConn(&loopConn{data: data}, false, nil, nil)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := c.Read(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReadLarge measures Read on large messages, each in one frame,
// from memory: the cost of collecting a message into a buffer of its own
// over that of reading it.
func BenchmarkReadLarge(b *testing.B) {
	ctx := context.Background()
	for _, size := range []int{64 << 10, 256 << 10, 1 << 20, 4 << 20} {
		data := clientFrames(size, 2)
		b.Run(sizeName(size), func(b *testing.B) {
			c := newConn(&loopConn{data: data}, false, nil, nil)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, p, err := c.Read(ctx); err != nil || len(p) != size {
					b.Fatal(len(p), err)
				}
			}
		})
	}
}

// BenchmarkReadLoopback reads messages of 64 KiB and 1 MiB, each in one
// frame, from a peer that writes them over loopback TCP as fast as it
// can, with Read, with ReadAppend into one buffer and with Reader and
// io.Copy to io.Discard, side by side: what a whole message costs over
// streaming it.
func BenchmarkReadLoopback(b *testing.B) {
	ctx := context.Background()
	for _, size := range []int{64 << 10, 1 << 20} {
		msg := clientFrames(size, 1)
		reads := []struct {
			name string
			read func(c *Conn) error
		}{
			{"Read", func(c *Conn) error {
				_, p, err := c.Read(ctx)
				if err == nil && len(p) != size {
					err = fmt.Errorf("read %d bytes", len(p))
				}
				return err
			}},
			{"ReadAppend", func() func(c *Conn) error {
				var buf []byte
				return func(c *Conn) error {
					var err error
					_, buf, err = c.ReadAppend(ctx, buf[:0])
					return err
				}
			}()},
			{"Reader", func(c *Conn) error {
				_, r, err := c.Reader(ctx)
				if err == nil {
					_, err = io.Copy(io.Discard, r)
				}
				return err
			}},
		}
		for _, rd := range reads {
			b.Run(rd.name+"/"+sizeName(size), func(b *testing.B) {
				cn, sn := tcpPair(b)
				c := newConn(sn, false, nil, nil)
				defer c.CloseNow()
				go func() {
					for {
						if _, err := cn.Write(msg); err != nil {
							return
						}
					}
				}()
				defer cn.Close()
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					if err := rd.read(c); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkReadWhole measures Read on the messages whose length the first
// frame does not give: compressed (without context takeover, so that the
// stream can repeat) and fragmented in two frames.
func BenchmarkReadWhole(b *testing.B) {
	ctx := context.Background()
	msg := wstest.JSON(1 << 10)
	payload := deflated(b, msg)
	var compressed, fragmented []byte
	for range 64 {
		compressed = wstest.AppendClientFrame(compressed, frame.Header{Fin: true, Opcode: frame.OpText, Rsv: frame.BitRsv1}, payload)
		half := len(msg) / 2
		fragmented = wstest.AppendClientFrame(fragmented, frame.Header{Opcode: frame.OpText}, msg[:half])
		fragmented = wstest.AppendClientFrame(fragmented, frame.Header{Fin: true, Opcode: frame.OpContinuation}, msg[half:])
	}
	for _, tc := range []struct {
		name string
		data []byte
		comp bool
	}{{"compressed/1KiB", compressed, true}, {"fragmented/1KiB", fragmented, false}} {
		b.Run(tc.name, func(b *testing.B) {
			c := replayConn(b, tc.data, tc.comp)
			defer c.CloseNow()
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				_, p, err := c.Read(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if len(p) != len(msg) {
					b.Fatalf("read %d bytes, want %d", len(p), len(msg))
				}
			}
		})
	}
}

func BenchmarkWrite(b *testing.B) {
	ctx := context.Background()
	for _, client := range []bool{false, true} {
		side := map[bool]string{false: "server", true: "client"}[client]
		for _, size := range benchSizes {
			msg := make([]byte, size)
			b.Run(fmt.Sprintf("Write/%s/%s", side, sizeName(size)), func(b *testing.B) {
				c := newConn(&loopConn{data: []byte{0}}, client, nil, nil)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					if err := c.Write(ctx, MessageBinary, msg); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(fmt.Sprintf("Writer/%s/%s", side, sizeName(size)), func(b *testing.B) {
				c := newConn(&loopConn{data: []byte{0}}, client, nil, nil)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					w, err := c.Writer(ctx, MessageBinary)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := w.Write(msg); err != nil {
						b.Fatal(err)
					}
					if err := w.Close(); err != nil {
						b.Fatal(err)
					}
				}
			})
			// io.Copy into a Writer from a reader that returns 32 KiB
			// at a time, as a streaming echo's io.CopyBuffer does.
			b.Run(fmt.Sprintf("Copy/%s/%s", side, sizeName(size)), func(b *testing.B) {
				lc := &loopConn{data: []byte{0}}
				c := newConn(lc, client, nil, nil)
				src := &chunkSource{msg: msg, chunk: 32 << 10}
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					w, err := c.Writer(ctx, MessageBinary)
					if err != nil {
						b.Fatal(err)
					}
					src.off = 0
					if _, err := io.Copy(w, src); err != nil {
						b.Fatal(err)
					}
					if err := w.Close(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(lc.writes)/float64(b.N), "writes/op")
			})
		}
	}
}

// chunkSource reads msg in chunks of at most chunk bytes, then io.EOF.
type chunkSource struct {
	msg   []byte
	off   int
	chunk int
}

func (s *chunkSource) Read(p []byte) (int, error) {
	if s.off == len(s.msg) {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), s.chunk)], s.msg[s.off:])
	s.off += n
	return n, nil
}

// BenchmarkPipe sends messages from a client to a server over net.Pipe,
// end to end: the client writes, the server reads.
func BenchmarkPipe(b *testing.B) {
	ctx := context.Background()
	for _, size := range benchSizes {
		b.Run(sizeName(size), func(b *testing.B) {
			cn, sn := net.Pipe()
			client := newConn(cn, true, nil, nil)
			server := newConn(sn, false, nil, nil)
			msg := make([]byte, size)
			buf := make([]byte, 32<<10)
			done := make(chan error, 1)
			n := b.N
			go func() {
				for i := 0; i < n; i++ {
					if err := client.Write(ctx, MessageBinary, msg); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < n; i++ {
				if err := readMessage(ctx, server, buf); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			client.CloseNow()
			server.CloseNow()
		})
	}
}

// BenchmarkCompressedConnMemory opens 1,000 connection pairs with
// permessage-deflate over in-memory pipes, sends one 1 KiB JSON-like
// message each way on each, and reports the heap they hold afterwards per
// connection (one end), after a GC.
func BenchmarkCompressedConnMemory(b *testing.B) {
	modes := []struct {
		name string
		opts Options
		p    deflate.Params
	}{
		{"uncompressed", Options{}, deflate.Params{}},
		{"no-context-takeover", Options{Compression: &CompressionOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true}}, deflate.Params{ServerNoContextTakeover: true, ClientNoContextTakeover: true}},
		{"takeover-dict4KiB", Options{Compression: &CompressionOptions{}}, deflate.Params{}},
		{"takeover-dict4KiB-peer10bits", Options{Compression: &CompressionOptions{}}, deflate.Params{ServerMaxWindowBits: 10, ClientMaxWindowBits: 10}},
		{"takeover-full-compressor", Options{Compression: &CompressionOptions{Engine: EngineWriter}}, deflate.Params{}},
		{"takeover-window-level6", Options{Compression: &CompressionOptions{Level: 6, Engine: EngineWindow}}, deflate.Params{}},
	}
	msg := []byte(`{"id":12345,"user":"someone","text":"hello there, how are you doing today?","tags":["a","b","c"],"ts":1700000000}`)
	for len(msg) < 1024 {
		msg = append(msg, msg[:min(len(msg), 1024-len(msg))]...)
	}
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			const n = 1000
			for b.Loop() {
				ctx := context.Background()
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				conns := make([]*Conn, 0, 2*n)
				for i := 0; i < n; i++ {
					cn, sn := net.Pipe()
					client := newConn(cn, true, &m.opts, nil)
					server := newConn(sn, false, &m.opts, nil)
					if m.opts.Compression != nil {
						client.setCompression(m.p, m.opts.Compression)
						server.setCompression(m.p, m.opts.Compression)
					}
					go client.Write(ctx, MessageText, msg)
					server.Read(ctx)
					go server.Write(ctx, MessageText, msg)
					client.Read(ctx)
					conns = append(conns, client, server)
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(2*n), "B/conn")
				for _, c := range conns {
					c.CloseNow()
				}
			}
		})
	}
}

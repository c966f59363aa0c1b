//go:build !js

package ws_test

import (
	"context"
	"testing"

	"github.com/seed-d6ba7b20/ws"
	"github.com/seed-d6ba7b20/ws/internal/wstest"
)

// BenchmarkEcho measures the echo path over loopback TCP: a server reads
// each 1 KiB message with ReadAppend and writes it back with Write, while
// the client writes on one goroutine and reads the echoes on another, so
// that the round trips overlap. With and without permessage-deflate.
func BenchmarkEcho(b *testing.B) {
	msg := wstest.JSON(1 << 10)
	for _, mode := range []string{"plain", "deflate"} {
		b.Run(mode, func(b *testing.B) {
			var opts ws.Options
			if mode == "deflate" {
				opts.Compression = &ws.CompressionOptions{}
			}
			c, s := pair(b, true, &ws.AcceptOptions{Options: opts}, &ws.DialOptions{Options: opts})
			ctx := context.Background()
			echoed := make(chan struct{})
			go func() {
				defer close(echoed)
				buf := make([]byte, 0, 4<<10)
				for {
					typ, p, err := s.ReadAppend(ctx, buf[:0])
					if err != nil || s.Write(ctx, typ, p) != nil {
						return
					}
					buf = p
				}
			}()
			n := b.N
			go func() {
				for range n {
					if c.Write(ctx, ws.MessageText, msg) != nil {
						return
					}
				}
			}()
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			b.ResetTimer()
			buf := make([]byte, 0, 4<<10)
			for range n {
				var err error
				if _, buf, err = c.ReadAppend(ctx, buf[:0]); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			c.CloseNow()
			s.CloseNow()
			<-echoed
		})
	}
}

//go:build !js

package ws_test

import (
	"context"
	"testing"

	"github.com/seed-d6ba7b20/ws"
)

// BenchmarkReceive compares receiving 1 KiB messages over loopback TCP with
// Read per message and with the Messages channel.
func BenchmarkReceive(b *testing.B) {
	msg := make([]byte, 1024)
	for _, mode := range []string{"Read", "Messages"} {
		b.Run(mode, func(b *testing.B) {
			c, s := pair(b, true, nil, nil)
			ctx := context.Background()
			n := b.N
			go func() {
				for i := 0; i < n; i++ {
					if c.Write(ctx, ws.MessageBinary, msg) != nil {
						return
					}
				}
			}()
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			b.ResetTimer()
			if mode == "Read" {
				for i := 0; i < n; i++ {
					if _, _, err := s.Read(ctx); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				msgs := s.Messages()
				for i := 0; i < n; i++ {
					<-msgs
				}
			}
		})
	}
}

// BenchmarkSend measures asynchronous sends of 1 KiB messages over loopback
// TCP beside synchronous Write.
func BenchmarkSend(b *testing.B) {
	msg := make([]byte, 1024)
	for _, mode := range []string{"Write", "Send"} {
		b.Run(mode, func(b *testing.B) {
			c, s := pair(b, true, nil, &ws.DialOptions{Options: ws.Options{SendQueue: 256}})
			ctx := context.Background()
			n := b.N
			done := make(chan struct{})
			go func() {
				defer close(done)
				readMessages(ctx, s, n, make([]byte, 4096))
			}()
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < n; i++ {
				var err error
				if mode == "Send" {
					err = c.Send(ctx, ws.MessageBinary, msg, nil)
				} else {
					err = c.Write(ctx, ws.MessageBinary, msg)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			<-done
		})
	}
}
